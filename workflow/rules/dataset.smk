"""Voxelized liquid/glass dataset (HDF5) and the glass samples as particles (GSD)."""


rule build_dataset:
    input:
        liquid=liquid_trajectories,
        glass=main_aging_trajectories,
    output:
        dataset=f"{RESULTS}/{{system}}/dataset/{{inputs}}/dataset.h5",
        glass_samples=f"{RESULTS}/{{system}}/dataset/{{inputs}}/glass_samples.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/build_dataset/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/build_dataset/{{inputs}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 1
    resources:
        runtime=60,
    params:
        system=system_cfg,
        voxel=config["voxel"],
        dataset=config["dataset"],
        seed=config["seed"],
    script:
        "../../scripts/build_dataset.py"
