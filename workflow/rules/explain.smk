"""Grad-CAM of each task's thermal-input classifier on the analysis glass samples, per particle."""


rule gradcam:
    input:
        model=f"{RESULTS}/{{system}}/model/{{task}}/thermal/model.pt",
        glass_samples=f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    output:
        maps=f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.h5",
        particles=f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/gradcam/{{task}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/gradcam/{{task}}.tsv"
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
