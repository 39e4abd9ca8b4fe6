"""External datasets (config `external.<name>`): configurations from elsewhere through the
classifier, Grad-CAM, indicators, energies, propensity and correlations (glasscam.stages.external).
"""


rule external_analysis:
    input:
        unpack(external_controls),
        files=external_files,
        model=external_model,
    output:
        gsd=f"{RESULTS}/external/{{external}}/external.gsd",
        table=f"{RESULTS}/external/{{external}}/correlations.csv",
        sanity=f"{RESULTS}/external/{{external}}/sanity_nulls.csv",
        summary=f"{RESULTS}/external/{{external}}/summary.json",
    log:
        f"{RESULTS}/external/{{external}}/logs/external_analysis.log",
    benchmark:
        f"{RESULTS}/external/{{external}}/benchmarks/external_analysis.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=120,
    params:
        entry=lambda wildcards: EXTERNAL[wildcards.external],
        system=external_system,
        indicators=config["indicators"],
        correlations=config["correlations"],
        gradcam=config["gradcam"],
        seed=config["seed"],
        control_seeds=len(CONTROL_SEEDS) if "random_weights" in CONTROL_KINDS else 0,
    script:
        "../../scripts/external_analysis.py"


rule external_figure:
    input:
        table=f"{RESULTS}/external/{{external}}/correlations.csv",
        summary=f"{RESULTS}/external/{{external}}/summary.json",
    output:
        report(
            f"{RESULTS}/external/{{external}}/summary.png",
            caption="../report/external.rst",
            category="External datasets",
            subcategory="{external}",
        ),
    log:
        f"{RESULTS}/external/{{external}}/logs/external_figure.log",
    benchmark:
        f"{RESULTS}/external/{{external}}/benchmarks/external_figure.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=10,
    script:
        "../../scripts/plot_external.py"


rule external:
    input:
        expand(f"{RESULTS}/external/{{external}}/summary.png", external=EXTERNAL),
