"""Sanity nulls of the attribution correlations (Adebayo et al., NeurIPS 2018): control models of
each task's classifier — re-initialised weights, and trained on permuted labels — explained and
correlated by the same stages as the real model, and the table of what lies beyond them.
"""


rule train_control:
    input:
        unpack(search_selection),
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
    output:
        model=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/model.pt",
        metrics=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/metrics.json",
    log:
        f"{RESULTS}/{{system}}/logs/train_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/train_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=240,
    params:
        model=config["model"],
        training=config["training"],
        seed=config["seed"],
        settings=SETTINGS,
    script:
        "../../scripts/train_control.py"


rule gradcam_control:
    input:
        model=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/model.pt",
        glass_samples=f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    output:
        maps=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/gradcam.h5",
        particles=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/gradcam.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/gradcam_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/gradcam_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=60,
    params:
        gradcam=config["gradcam"],
        attribution=config["attribution"],
        seed=config["seed"],
    script:
        "../../scripts/gradcam.py"


rule correlate_control:
    input:
        gradcam=f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/gradcam.gsd",
        indicators=f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    output:
        f"{RESULTS}/{{system}}/controls/{{task}}/{{inputs}}/{{control}}/seed{{k}}/correlations.csv",
    log:
        f"{RESULTS}/{{system}}/logs/correlate_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/correlate_control/{{task}}/{{inputs}}/{{control}}/seed{{k}}.tsv"
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


rule sanity_nulls:
    input:
        unpack(control_correlations),
        model=f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv",
    output:
        f"{RESULTS}/{{system}}/controls/{{task}}/thermal/sanity_nulls.csv",
    log:
        f"{RESULTS}/{{system}}/logs/sanity_nulls/{{task}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/sanity_nulls/{{task}}.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=10,
    params:
        controls=CONTROL_KINDS,
    script:
        "../../scripts/sanity_nulls.py"
