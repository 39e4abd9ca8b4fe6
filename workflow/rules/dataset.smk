"""Analysis glass samples (GSD) and, per classification task and input kind, the voxelized
dataset (HDF5)."""


rule glass_samples:
    input:
        main_aging_trajectories,
    output:
        f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/glass_samples.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/glass_samples.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=30,
    params:
        glass_ages=config["dataset"]["glass_ages"],
    script:
        "../../scripts/glass_samples.py"


rule build_dataset:
    input:
        liquid=liquid_trajectories,
        glass=dataset_aging_trajectories,
    output:
        dataset=f"{RESULTS}/{{system}}/dataset/{{task}}/{{inputs}}/dataset.h5",
    log:
        f"{RESULTS}/{{system}}/logs/build_dataset/{{task}}/{{inputs}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/build_dataset/{{task}}/{{inputs}}.tsv"
    conda:
        "../../envs/learn.yaml"
    threads: 1
    resources:
        runtime=60,
    params:
        system=system_keys(),
        voxel=config["voxel"],
        dataset={
            key: value for key, value in config["dataset"].items() if key != "tasks"
        },
        task=task_cfg,
        glass_temperature=glass_temperature,
        seed=config["seed"],
    script:
        "../../scripts/build_dataset.py"
