"""CNN classifier per task and input kind (PyTorch): hyperparameter search on the validation
split, training with early stopping, test metrics, the classical baselines on the same split, and
the learning curve."""


rule search_classifier:
    input:
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
    output:
        trials=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/search/trials.json",
        table=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/search/trials.csv",
        selected=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/search/selected.json",
    log:
        f"{RESULTS}/{{system}}/logs/search_classifier/{{task}}/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/search_classifier/{{task}}/{{inputs}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=720,
    params:
        model=config["model"],
        training=config["training"],
        search=config["search"],
        seed=config["seed"],
    script:
        "../../scripts/search_classifier.py"


rule train_classifier:
    input:
        unpack(search_selection),
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
    output:
        model=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/model.pt",
        metrics=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/metrics.json",
    log:
        f"{RESULTS}/{{system}}/logs/train_classifier/{{task}}/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/train_classifier/{{task}}/{{inputs}}.tsv"
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
        "../../scripts/train_classifier.py"


rule learning_curve:
    input:
        unpack(search_selection),
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
    output:
        f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/learning_curve.json",
    log:
        f"{RESULTS}/{{system}}/logs/learning_curve/{{task}}/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/learning_curve/{{task}}/{{inputs}}.tsv"
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


rule classifier_baselines:
    input:
        unpack(inherent_dataset_for_baselines),
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
        metrics=f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/metrics.json",
    output:
        f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/baselines.json",
    log:
        f"{RESULTS}/{{system}}/logs/classifier_baselines/{{task}}/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/classifier_baselines/{{task}}/{{inputs}}.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=60,
    params:
        indicators=config["indicators"],
        seed=config["seed"],
        settings=SETTINGS,
    script:
        "../../scripts/classifier_baselines.py"
