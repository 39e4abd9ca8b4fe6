"""Per-particle structural indicators (freud) of the glass samples, raw and coarse-grained."""


rule structural_indicators:
    input:
        f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    output:
        f"{RESULTS}/{{system}}/analysis/indicators.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/structural_indicators.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/structural_indicators.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        indicators=config["indicators"],
    script:
        "../../scripts/structural_indicators.py"
