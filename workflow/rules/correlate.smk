"""Particle-level correlations of Grad-CAM with indicators and mobility; Grad-CAM correlation length."""


rule correlate:
    input:
        gradcam=f"{RESULTS}/{{system}}/gradcam/gradcam.gsd",
        indicators=f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        mobility=f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/correlations.csv",
    log:
        f"{RESULTS}/{{system}}/logs/correlate.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/correlate.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        correlations=config["correlations"],
        seed=config["seed"],
    script:
        "../../scripts/correlate.py"


rule gradcam_correlation_length:
    input:
        f"{RESULTS}/{{system}}/gradcam/gradcam.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/gradcam_correlation_length.json",
    log:
        f"{RESULTS}/{{system}}/logs/gradcam_correlation_length.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/gradcam_correlation_length.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=30,
    params:
        correlations=config["correlations"],
        seed=config["seed"],
    script:
        "../../scripts/gradcam_correlation_length.py"
