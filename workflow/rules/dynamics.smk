"""Aging dynamics: per-particle mobility and propensity of the glass samples; MSD, Fs, Q, χ4."""


rule mobility:
    input:
        glass_samples=f"{RESULTS}/{{system}}/dataset/glass_samples.gsd",
        aging=all_aging_trajectories,
    output:
        f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    params:
        dynamics=config["dynamics"],
    log:
        f"{RESULTS}/{{system}}/logs/mobility.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/mobility.tsv"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    conda:
        "../../envs/analyse.yaml"
    script:
        "../../scripts/mobility.py"


rule aging_dynamics:
    input:
        all_aging_trajectories,
    output:
        table=f"{RESULTS}/{{system}}/analysis/aging_dynamics.csv",
        summary=f"{RESULTS}/{{system}}/analysis/aging_dynamics.json",
    params:
        dynamics=config["dynamics"],
    log:
        f"{RESULTS}/{{system}}/logs/aging_dynamics.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/aging_dynamics.tsv"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    conda:
        "../../envs/analyse.yaml"
    script:
        "../../scripts/aging_dynamics.py"
