"""Grad-CAM maps of the trained classifier and their per-particle values."""


rule gradcam:
    input:
        dataset=f"{RESULTS}/{{system}}/dataset/thermal/dataset.h5",
        model=f"{RESULTS}/{{system}}/model/thermal/model.pt",
        glass_samples=f"{RESULTS}/{{system}}/dataset/thermal/glass_samples.gsd",
    output:
        maps=f"{RESULTS}/{{system}}/gradcam/gradcam.h5",
        particles=f"{RESULTS}/{{system}}/gradcam/gradcam.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/gradcam.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/gradcam.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: THREADS["learn"]
    resources:
        gpu=gpu_request,
        runtime=60,
    params:
        gradcam=config["gradcam"],
    script:
        "../../scripts/gradcam.py"
