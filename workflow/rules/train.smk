"""CNN liquid/glass classifier (PyTorch): training with early stopping, test metrics."""


rule train_classifier:
    input:
        f"{RESULTS}/{{system}}/dataset/{{inputs}}/dataset.h5",
    output:
        model=f"{RESULTS}/{{system}}/model/{{inputs}}/model.pt",
        metrics=f"{RESULTS}/{{system}}/model/{{inputs}}/metrics.json",
    log:
        f"{RESULTS}/{{system}}/logs/train_classifier/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/train_classifier/{{inputs}}.tsv"
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
    script:
        "../../scripts/train_classifier.py"


rule learning_curve:
    input:
        f"{RESULTS}/{{system}}/dataset/{{inputs}}/dataset.h5",
    output:
        f"{RESULTS}/{{system}}/model/{{inputs}}/learning_curve.json",
    log:
        f"{RESULTS}/{{system}}/logs/learning_curve/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/learning_curve/{{inputs}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=720,
    params:
        model=config["model"],
        training=config["training"],
        learning_curve=config["learning_curve"],
        seed=config["seed"],
    script:
        "../../scripts/learning_curve.py"
