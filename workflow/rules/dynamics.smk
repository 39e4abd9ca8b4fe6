"""Aging dynamics: per-particle mobility and propensity of the glass samples; MSD, Fs, Q, χ4."""


rule mobility:
    input:
        glass_samples=f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
        aging=all_aging_trajectories,
        propensity=all_propensity_trajectories,
    output:
        f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/mobility.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/mobility.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        dynamics=config_keys("dynamics", "windows", "window_tolerance", "cage_radius"),
    script:
        "../../scripts/mobility.py"


rule aging_dynamics:
    input:
        aging=all_aging_trajectories,
        liquid=f"{RESULTS}/{{system}}/analysis/liquid_relaxation.json",
    output:
        table=f"{RESULTS}/{{system}}/analysis/aging_dynamics.csv",
        two_time=f"{RESULTS}/{{system}}/analysis/aging_two_time.csv",
        summary=f"{RESULTS}/{{system}}/analysis/aging_dynamics.json",
    log:
        f"{RESULTS}/{{system}}/logs/aging_dynamics.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/aging_dynamics.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        dynamics=config_keys("dynamics", "overlap_a", "s4"),
        glass_ages=config["dataset"]["glass_ages"],
    script:
        "../../scripts/aging_dynamics.py"


rule liquid_relaxation:
    input:
        liquid_dynamics_trajectories,
    output:
        json=f"{RESULTS}/{{system}}/analysis/liquid_relaxation.json",
        table=f"{RESULTS}/{{system}}/analysis/liquid_relaxation.csv",
    log:
        f"{RESULTS}/{{system}}/logs/liquid_relaxation.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/liquid_relaxation.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: THREADS["analyse"]
    resources:
        runtime=60,
    params:
        dynamics=config_keys("dynamics", "overlap_a", "liquid"),
    script:
        "../../scripts/liquid_relaxation.py"
