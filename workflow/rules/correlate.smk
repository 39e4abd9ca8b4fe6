"""Particle-level correlations of Grad-CAM with indicators and mobility; Grad-CAM correlation length."""


rule correlate:
    input:
        gradcam=f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd",
        indicators=f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv",
    log:
        f"{RESULTS}/{{system}}/logs/correlate/{{task}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/correlate/{{task}}.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        correlations={k: v for k, v in config["correlations"].items() if k != "length"},
        seed=config["seed"],
        settings=SETTINGS,
    script:
        "../../scripts/correlate.py"


rule gradcam_correlation_length:
    input:
        f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/{{task}}/gradcam_correlation_length.json",
    log:
        f"{RESULTS}/{{system}}/logs/gradcam_correlation_length/{{task}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/gradcam_correlation_length/{{task}}.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=30,
    params:
        length=config["correlations"].get("length", {}),  # as given: recorded in the JSON
        gradcam_key=CORRELATIONS.gradcam_key,
        attributions=CORRELATIONS.attributions,
        seed=config["seed"],
    script:
        "../../scripts/gradcam_correlation_length.py"


rule descriptor_dynamics:
    input:
        indicators=f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/descriptor_dynamics.csv",
    log:
        f"{RESULTS}/{{system}}/logs/descriptor_dynamics.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/descriptor_dynamics.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        correlations=config_keys("correlations", "n_bootstrap", "n_null"),
        seed=config["seed"],
    script:
        "../../scripts/descriptor_dynamics.py"


rule study_summary:
    input:
        **{
            f"baselines_{task}_{inputs}": f"{RESULTS}/{{system}}/model/{task}/{inputs}/baselines.json"
            for task in TASKS
            for inputs in INPUTS
        },
        **{
            f"correlations_{task}": f"{RESULTS}/{{system}}/analysis/{task}/correlations.csv"
            for task in TASKS
        },
        **{
            f"length_{task}": f"{RESULTS}/{{system}}/analysis/{task}/gradcam_correlation_length.json"
            for task in TASKS
        },
        **{
            f"sanity_{task}": f"{RESULTS}/{{system}}/controls/{task}/thermal/sanity_nulls.csv"
            for task in TASKS
        },
        descriptors=f"{RESULTS}/{{system}}/analysis/descriptor_dynamics.csv",
        ceiling=f"{RESULTS}/{{system}}/analysis/supervised_ceiling.json",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
        glass_samples=f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    output:
        f"{RESULTS}/{{system}}/summary/study.json",
    log:
        f"{RESULTS}/{{system}}/logs/study_summary.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/study_summary.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=10,
    params:
        tasks=list(TASKS),
        inputs=INPUTS,
        settings=SETTINGS,
    script:
        "../../scripts/study_summary.py"


rule supervised_ceiling:
    input:
        indicators=f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    output:
        json=f"{RESULTS}/{{system}}/analysis/supervised_ceiling.json",
        table=f"{RESULTS}/{{system}}/analysis/supervised_ceiling.csv",
    log:
        f"{RESULTS}/{{system}}/logs/supervised_ceiling.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/supervised_ceiling.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        runtime=60,
    params:
        model=config["model"],
        voxel=config["voxel"],
        split=config["dataset"]["split"],
        ceiling=config["ceiling"],
        n_bootstrap=CORRELATIONS.n_bootstrap,
        seed=config["seed"],
    script:
        "../../scripts/supervised_ceiling.py"
