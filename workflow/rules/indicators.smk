"""Per-particle structural indicators (freud) of the glass samples, raw and coarse-grained."""


rule structural_indicators:
    input:
        f"{RESULTS}/{{system}}/dataset/glass_samples.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/indicators.gsd",
    params:
        indicators=config["indicators"],
    log:
        f"{RESULTS}/{{system}}/logs/structural_indicators.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/structural_indicators.tsv"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    conda:
        "../../envs/analyse.yaml"
    script:
        "../../scripts/structural_indicators.py"
