"""Simulation: melt → NVT liquid samples → quench → aging with iso-configurational replicas."""


rule initialize:
    output:
        f"{RESULTS}/{{system}}/init/run{{run}}.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/initialize/run{{run}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/initialize/run{{run}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=60,
    params:
        system=system_keys("melt_temperature"),
        protocol=protocol_keys("thermostat", "melt_time"),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/initialize.py"


rule equilibrate_liquid:
    input:
        f"{RESULTS}/{{system}}/init/run{{run}}.gsd",
    output:
        f"{RESULTS}/{{system}}/liquid/run{{run}}_T{{temperature}}.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/equilibrate_liquid/run{{run}}_T{{temperature}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/equilibrate_liquid/run{{run}}_T{{temperature}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=240,
    params:
        system=system_keys(),
        protocol=protocol_keys(
            "thermostat",
            "equilibration_time",
            "liquid_samples",
            "sample_interval",
            "checkpoint",
        ),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/equilibrate_liquid.py"


rule quench:
    input:
        quench_source,
    output:
        f"{RESULTS}/{{system}}/glass/run{{run}}_quench.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/quench/run{{run}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/quench/run{{run}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=60,
    params:
        system=system_keys("glass_temperature"),
        protocol=protocol_keys("thermostat", "quench"),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/quench.py"


rule age:
    input:
        f"{RESULTS}/{{system}}/glass/run{{run}}_quench.gsd",
    output:
        f"{RESULTS}/{{system}}/aging/run{{run}}_rep{{replica}}.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/age/run{{run}}_rep{{replica}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/age/run{{run}}_rep{{replica}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=240,
    params:
        system=system_keys("glass_temperature"),
        protocol=protocol_keys("thermostat", "aging", "checkpoint"),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/age.py"


rule propensity_replicas:
    input:
        f"{RESULTS}/{{system}}/aging/run{{run}}_rep0.gsd",
    output:
        [
            f"{RESULTS}/{{system}}/propensity/run{{run}}_tw{{age}}_rep{rep}.gsd"
            for rep in range(
                int(config["protocol"].get("propensity", {}).get("replicas", 0))
            )
        ],
    log:
        f"{RESULTS}/{{system}}/logs/propensity_replicas/run{{run}}_tw{{age}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/propensity_replicas/run{{run}}_tw{{age}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=240,
    params:
        system=system_cfg,
        protocol=protocol_keys("thermostat", "propensity", "checkpoint"),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/propensity_replicas.py"


rule inherent_structures:
    input:
        f"{RESULTS}/{{system}}/{{stage}}/{{name}}.gsd",
    output:
        f"{RESULTS}/{{system}}/inherent/{{stage}}/{{name}}.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/inherent_structures/{{stage}}/{{name}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/inherent_structures/{{stage}}/{{name}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=60,
    params:
        system=system_keys(),
        engine=config["engine"],
        glass_ages=aging_glass_ages,
        windows=aging_task_windows,
    script:
        "../../scripts/inherent_structures.py"


rule liquid_dynamics:
    input:
        f"{RESULTS}/{{system}}/liquid/run{{run}}_T{{temperature}}.gsd",
    output:
        f"{RESULTS}/{{system}}/liquid_dynamics/run{{run}}_T{{temperature}}.gsd",
    log:
        f"{RESULTS}/{{system}}/logs/liquid_dynamics/run{{run}}_T{{temperature}}.log",
    benchmark:
        f"{RESULTS}/{{system}}/benchmarks/liquid_dynamics/run{{run}}_T{{temperature}}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: THREADS["simulate"]
    resources:
        gpu=gpu_request,
        runtime=240,
    params:
        system=system_keys(),
        protocol=protocol_keys("thermostat", "liquid_dynamics", "checkpoint"),
        seed=config["seed"],
        engine=config["engine"],
    script:
        "../../scripts/liquid_dynamics.py"
