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
