"""Helpers shared by all stages: config validation, paths, wildcard values, resources."""

import os
import shutil
import subprocess

from glasscam.analysis.correlations import CorrelationOptions
from glasscam.support.cluster import cancel_slurm_run
from glasscam.config import physics_keys, protocol_for, validate_config
from glasscam.support.resources import gpu_units, md_gres
from glasscam.core.tasks import tasks_of


def _merged_configfiles():
    """Config files in Snakemake's merge order: the workflow's config.yaml (unless
    --replace-workflow-config), then each --configfile."""
    given = [str(f) for f in workflow.overwrite_configfiles]
    if getattr(workflow.config_settings, "replace_workflow_config", False):
        return given
    return [str(f) for f in workflow.configfiles if str(f) not in given] + given


validate_config(
    config,
    workflow.source_path("../schemas/config.schema.yaml"),
    configfiles=_merged_configfiles(),
)
# the correlations settings as their option object (defaults and units defined there): a value
# out of range or an unknown key is refused by name before any job; rules read it or pass the
# config section as given
CORRELATIONS = CorrelationOptions.from_config(config["correlations"])

RESULTS = config["results"]
SYSTEMS = config["run_systems"]
TASKS = {task["name"]: task for task in tasks_of(config["dataset"])}
INPUTS = list(config["dataset"]["inputs"])


def system_cfg(wildcards):
    """Params function: the system's physics keys (free text, ``description`` and every
    ``source``, left out so that editing it reruns nothing)."""
    return physics_keys(config["systems"][wildcards.system])


def system_keys(*state_points):
    """Params function: the system's physics keys without its ``protocol`` overrides (rules take
    those from :func:`protocol_keys`) and with only the ``state_points`` named here."""

    def system_subset(wildcards):
        spec = physics_keys(config["systems"][wildcards.system])
        spec.pop("protocol", None)
        points = spec.pop("state_points", {})
        if state_points:
            spec["state_points"] = {k: points[k] for k in state_points if k in points}
        return spec

    return system_subset


def aging_glass_ages(wildcards):
    """Params function: ``dataset.glass_ages`` for aging trajectories (the frames minimized),
    None for liquid ones (every frame)."""
    return config["dataset"]["glass_ages"] if wildcards.stage == "aging" else None


def aging_task_windows(wildcards):
    """Params function: the age tasks' windows for aging trajectories, None for liquid ones."""
    return age_task_windows() if wildcards.stage == "aging" else None


def config_keys(section, *keys):
    """Params value: ``config[section]`` restricted to ``keys`` (those present), so that a rule
    reruns only when a key it reads changes."""
    return {key: config[section][key] for key in keys if key in config[section]}


def protocol_keys(*keys):
    """Params function: the system's protocol restricted to ``keys``, so that a rule reruns only
    when a protocol setting it uses changes."""

    def protocol_subset(wildcards):
        protocol = protocol_for(config, wildcards.system)
        return {key: protocol[key] for key in keys if key in protocol}

    return protocol_subset


def temperature_label(value):
    return f"{float(value):g}"


def runs(system):
    return range(protocol_for(config, system)["runs"])


def replicas(system):
    return range(protocol_for(config, system)["aging"]["replicas"])


def liquid_temperatures(system):
    return [
        temperature_label(t)
        for t in config["systems"][system]["state_points"]["liquid_temperatures"]
    ]


def quench_source(wildcards):
    t = temperature_label(
        config["systems"][wildcards.system]["state_points"]["quench_from"]
    )
    return f"{RESULTS}/{wildcards.system}/liquid/run{wildcards.run}_T{t}.gsd"


def _inputs_prefix(wildcards):
    """Dataset inputs: thermal configurations, or their inherent structures (FIRE minima)."""
    return "inherent/" if wildcards.get("inputs") == "inherent" else ""


def task_cfg(wildcards):
    return TASKS[wildcards.task]


def glass_temperature(wildcards):
    return config["systems"][wildcards.system]["state_points"]["glass_temperature"]


def liquid_trajectories(wildcards):
    """Liquid trajectories of every run and liquid T (none for tasks without a liquid class)."""
    if wildcards.get("task") and TASKS[wildcards.task]["kind"] != "liquid_vs_glass":
        return []
    prefix = _inputs_prefix(wildcards)
    return [
        f"{RESULTS}/{wildcards.system}/{prefix}liquid/run{run}_T{t}.gsd"
        for run in runs(wildcards.system)
        for t in liquid_temperatures(wildcards.system)
    ]


def main_aging_trajectories(wildcards):
    """Replica 0 of every run: the aging trajectories whose frames become glass samples."""
    prefix = _inputs_prefix(wildcards)
    return [
        f"{RESULTS}/{wildcards.system}/{prefix}aging/run{run}_rep0.gsd"
        for run in runs(wildcards.system)
    ]


def dataset_aging_trajectories(wildcards):
    """The aging replicas whose frames become classifier samples: the first
    ``dataset.glass_replicas`` of every run."""
    prefix = _inputs_prefix(wildcards)
    n = int(config["dataset"].get("glass_replicas", 1))
    return [
        f"{RESULTS}/{wildcards.system}/{prefix}aging/run{run}_rep{rep}.gsd"
        for run in runs(wildcards.system)
        for rep in range(n)
    ]


def propensity_ages(system):
    return [
        f"{float(t):g}"
        for t in protocol_for(config, system).get("propensity", {}).get("ages", [])
    ]


def propensity_replica_paths(system, run, age):
    # one job writes every replica: the count is global (protocol.propensity.replicas)
    n = int(config["protocol"]["propensity"]["replicas"])
    return [
        f"{RESULTS}/{system}/propensity/run{run}_tw{age}_rep{rep}.gsd"
        for rep in range(n)
    ]


def all_propensity_trajectories(wildcards):
    return [
        path
        for run in runs(wildcards.system)
        for age in propensity_ages(wildcards.system)
        for path in propensity_replica_paths(wildcards.system, run, age)
    ]


def age_task_windows(wildcards=None):
    """[t_from, t_to] windows of every age task: their frames get inherent structures too."""
    return [
        window
        for task in TASKS.values()
        if task["kind"] == "age"
        for window in (task["young"], task["aged"])
    ]


def inherent_dataset_for_baselines(wildcards):
    """Thermal inputs with inherent structures configured: the inherent dataset of the same
    task gives each thermal sample its vibration amplitude."""
    if wildcards.inputs == "thermal" and "inherent" in INPUTS:
        return {
            "inherent": f"{RESULTS}/{wildcards.system}/dataset/{wildcards.task}/inherent/dataset.h5"
        }
    return {}


def liquid_dynamics_trajectories(wildcards):
    """Log-spaced equilibrium runs at every liquid temperature, for the first
    ``protocol.liquid_dynamics.runs`` runs."""
    protocol = protocol_for(config, wildcards.system)
    return [
        f"{RESULTS}/{wildcards.system}/liquid_dynamics/run{run}_T{t}.gsd"
        for run in range(min(protocol["liquid_dynamics"]["runs"], protocol["runs"]))
        for t in liquid_temperatures(wildcards.system)
    ]


def all_aging_trajectories(wildcards):
    return [
        f"{RESULTS}/{wildcards.system}/aging/run{run}_rep{rep}.gsd"
        for run in runs(wildcards.system)
        for rep in replicas(wildcards.system)
    ]


def _gpu_visible():
    if shutil.which("nvidia-smi") is None:
        return False
    probe = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return probe.returncode == 0 and "GPU" in probe.stdout


GPU_PER_JOB = int(
    {"auto": _gpu_visible(), True: True, False: False}[config.get("gpu", "auto")]
)
# MD jobs sharing one GPU (run CUDA MPS on the device so that their kernels overlap).
GPU_JOBS_PER_DEVICE = int(config.get("gpu_jobs_per_device", 1))
# On a cluster executor MD jobs sharing a device ask for a SLURM GPU shard: profiles/slurm sets
# the MD rules' `gres` to this variable ('' = no --gres; the local executor ignores `gres`).
# (Set here, not read: an update, so the linter's envvars check, meant for inputs, stays quiet.)
os.environ.update(GLASSCAM_MD_GRES=md_gres(bool(GPU_PER_JOB), GPU_JOBS_PER_DEVICE))


def gpu_request(wildcards, rulename):
    """`gpu` units of a GPU-capable job (MD, training, Grad-CAM); see glasscam.support.resources:
    locally slots (an MD job 1, a learning job gpu_jobs_per_device), on a cluster whole
    devices (--gpus; MD jobs 0 when they share a device through a shard)."""
    return gpu_units(
        rulename, bool(GPU_PER_JOB), GPU_JOBS_PER_DEVICE, local=workflow.local_exec
    )


THREADS = {"simulate": 1, "learn": 2, "analyse": 1, **config.get("threads", {})}


# External datasets (config `external.<name>`; rules in external.smk)
from glasscam.stages.external import check_entry, resolve_paths

EXTERNAL = {
    name: check_entry(name, entry, config["systems"])
    for name, entry in config.get("external", {}).items()
}


def external_files(wildcards):
    return [str(p) for p in resolve_paths(EXTERNAL[wildcards.external]["paths"])]


def external_model(wildcards):
    """The entry's checkpoint, else its system's classifier of `task` (default: the first
    task) trained on `model_inputs`."""
    entry = EXTERNAL[wildcards.external]
    if entry["model"]:
        return entry["model"]
    task = entry["task"] or next(iter(TASKS))
    if task not in TASKS:
        raise ValueError(
            f"external.{wildcards.external}.task = {task!r}; not among dataset.tasks {list(TASKS)}"
        )
    return f"{RESULTS}/{entry['system']}/model/{task}/{entry['model_inputs']}/model.pt"


def external_controls(wildcards):
    """The permuted-label control models of the external entry's classifier when it is one of the
    system's own (their training dataset is here); none for a checkpoint from elsewhere.
    """
    entry = EXTERNAL[wildcards.external]
    if entry["model"] or "shuffled_labels" not in CONTROL_KINDS:
        return {}
    task = entry["task"] or next(iter(TASKS))
    return {
        "shuffled_labels": [
            f"{RESULTS}/{entry['system']}/controls/{task}/{entry['model_inputs']}/shuffled_labels/seed{k}/model.pt"
            for k in CONTROL_SEEDS
        ]
    }


def external_system(wildcards):
    return config["systems"][EXTERNAL[wildcards.external]["system"]]


# Sanity nulls (controls.smk): control models of each task's classifier
CONTROLS = config.get("controls", {})
CONTROL_KINDS = list(CONTROLS.get("kinds", ["random_weights", "shuffled_labels"]))
CONTROL_SEEDS = list(range(int(CONTROLS.get("seeds", 3))))
# the config keys that make a model and its numbers: recorded with every result (settings hash),
# and checked by the study summary (glasscam.io.provenance.settings_record)
SETTINGS = {
    key: config[key] for key in ("seed", "voxel", "dataset", "model", "training")
}


def control_correlations(wildcards):
    """{control: [correlations.csv of every seed]} of one task's thermal classifier."""
    return {
        control: [
            f"{RESULTS}/{wildcards.system}/controls/{wildcards.task}/thermal/{control}/seed{k}/correlations.csv"
            for k in CONTROL_SEEDS
        ]
        for control in CONTROL_KINDS
    }


def search_selection(wildcards):
    """The search's selected settings, when the config runs a search (search.n_trials > 0)."""
    if int(config["search"].get("n_trials", 0)) > 0:
        return {
            "selected": f"{RESULTS}/{wildcards.system}/model/{wildcards.task}/{wildcards.inputs}/search/selected.json"
        }
    return {}
