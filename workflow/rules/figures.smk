"""Figures: one rule per figure (figure_<name>, wildcard system) built from the table below, and
one named target per figure (fig_<name>) that builds it for every system of run_systems.

Each figure has its own script in scripts/plot_<name>.py, so editing one plotting script reruns
that figure only.
"""

from glasscam.plots.snapshots import particle_radii

SYSTEM_FIGURE_INPUTS = {
    "thermodynamics": {
        "liquid": liquid_trajectories,
        "aging": main_aging_trajectories,
    },
    "liquid_relaxation": {
        "relaxation": f"{RESULTS}/{{system}}/analysis/liquid_relaxation.json"
    },
    "aging_dynamics": {
        "two_time": f"{RESULTS}/{{system}}/analysis/aging_two_time.csv",
        "summary": f"{RESULTS}/{{system}}/analysis/aging_dynamics.json",
    },
}
# one figure per system and classification task
TASK_FIGURE_INPUTS = {
    "training_curves": {
        "metrics": f"{RESULTS}/{{system}}/model/{{task}}/thermal/metrics.json"
    },
    "classifier_inputs": {
        inputs: f"{RESULTS}/{{system}}/model/{{task}}/{inputs}/metrics.json"
        for inputs in INPUTS
    },
    "baselines": {
        inputs: f"{RESULTS}/{{system}}/model/{{task}}/{inputs}/baselines.json"
        for inputs in INPUTS
    },
    "learning_curve": {
        inputs: f"{RESULTS}/{{system}}/model/{{task}}/{inputs}/learning_curve.json"
        for inputs in INPUTS
    },
    # the hyperparameter search (only when the config runs one: search.n_trials > 0), with the
    # dataset it scored on as <inputs>_dataset (its validation split's majority rate is the
    # chance line)
    "search": {
        **{
            inputs: f"{RESULTS}/{{system}}/model/{{task}}/{inputs}/search/trials.json"
            for inputs in INPUTS
        },
        **{
            f"{inputs}_dataset": f"{RESULTS}/{{system}}/dataset/{{task}}/{inputs}/dataset.h5"
            for inputs in INPUTS
        },
    },
    "gradcam_maps": {
        "maps": f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.h5",
        "glass_samples": f"{RESULTS}/{{system}}/samples/glass_samples.gsd",
    },
    "gradcam_histogram": {
        "gradcam": f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd"
    },
    "correlation_length": {
        "length": f"{RESULTS}/{{system}}/analysis/{{task}}/gradcam_correlation_length.json"
    },
    "snapshots": {
        "gradcam": f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd",
        "indicators": f"{RESULTS}/{{system}}/analysis/indicators.gsd",
        "mobility": f"{RESULTS}/{{system}}/analysis/mobility.gsd",
    },
    "correlation_matrix": {
        "correlations": f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv"
    },
    "correlation_vs_coarse_graining": {
        "correlations": f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv"
    },
    "gradcam_vs_mobility": {
        "gradcam": f"{RESULTS}/{{system}}/gradcam/{{task}}/gradcam.gsd",
        "mobility": f"{RESULTS}/{{system}}/analysis/mobility.gsd",
        "correlations": f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv",
    },
}
# Figures drawn from the Grad-CAM maps also read the metrics of the model the maps come from
# (the thermal classifier): at chance, the figure and its caption say so (glasscam.plots.chance).
GRADCAM_FIGURES = [
    "gradcam_maps",
    "gradcam_histogram",
    "correlation_length",
    "snapshots",
    "correlation_matrix",
    "correlation_vs_coarse_graining",
    "gradcam_vs_mobility",
]
for _name in GRADCAM_FIGURES:
    TASK_FIGURE_INPUTS[_name][
        "model"
    ] = f"{RESULTS}/{{system}}/model/{{task}}/thermal/metrics.json"
if int(config["search"].get("n_trials", 0)) == 0:
    del TASK_FIGURE_INPUTS["search"]
FIGURE_INPUTS = {**SYSTEM_FIGURE_INPUTS, **TASK_FIGURE_INPUTS}
# Report grouping in pipeline order: the stage of each figure is its subcategory (with the task
# for task figures); the "figure" label numbers the figures so that the landing page and the
# result tables list them in this order.
FIGURE_STAGES = {
    "thermodynamics": "1 Simulation",
    "liquid_relaxation": "1 Simulation",
    "aging_dynamics": "1 Simulation",
    "training_curves": "2 Classifier",
    "classifier_inputs": "2 Classifier",
    "baselines": "2 Classifier",
    "learning_curve": "2 Classifier",
    "search": "2 Classifier",
    "gradcam_maps": "3 Grad-CAM",
    "gradcam_histogram": "3 Grad-CAM",
    "correlation_length": "3 Grad-CAM",
    "snapshots": "3 Grad-CAM",
    "correlation_matrix": "4 Correlations",
    "correlation_vs_coarse_graining": "4 Correlations",
    "gradcam_vs_mobility": "4 Correlations",
}
# Figures that print the requested aging times beside the realised ones (ages snap to frames).
FIGURE_PARAMS = {
    name: {"glass_ages": config["dataset"]["glass_ages"]}
    for name in ("gradcam_vs_mobility", "correlation_length")
}
# Figures of one model name its input kind in the title: the thermal classifier (training curves)
# and the figures of its Grad-CAM maps.
for _name in (
    "training_curves",
    "gradcam_histogram",
    "correlation_length",
    "correlation_vs_coarse_graining",
):
    FIGURE_PARAMS.setdefault(_name, {})["inputs"] = "thermal"
# particles drawn with half their own pair's σ (the system's potential table)
FIGURE_PARAMS["snapshots"] = {
    "radii": lambda wildcards: particle_radii(system_cfg(wildcards))
}


def figure_path(name):
    """Output pattern of a figure: per system, or per system and task."""
    if name in TASK_FIGURE_INPUTS:
        return f"{RESULTS}/figures/{{system}}/{{task}}/{name}.png"
    return f"{RESULTS}/figures/{{system}}/{name}.png"


def figure_files(name):
    return expand(figure_path(name), system=SYSTEMS, task=list(TASKS))


FIGURES = list(FIGURE_INPUTS)


for _order, (_name, _inputs) in enumerate(FIGURE_INPUTS.items(), start=1):

    rule:
        name:
            f"figure_{_name}"
        input:
            **_inputs,
        output:
            report(
                figure_path(_name),
                caption=f"../report/{_name}.rst",
                category="{system}",
                subcategory=(
                    f"{FIGURE_STAGES[_name]} ({{task}})"
                    if _name in TASK_FIGURE_INPUTS
                    else FIGURE_STAGES[_name]
                ),
                labels=(
                    {
                        "task": "{task}",
                        "figure": f"{_order:02d} {_name.replace('_', ' ')}",
                    }
                    if _name in TASK_FIGURE_INPUTS
                    else {"figure": f"{_order:02d} {_name.replace('_', ' ')}"}
                ),
            ),
        log:
            (
                f"{RESULTS}/{{system}}/logs/figures/{{task}}/{_name}.log"
                if _name in TASK_FIGURE_INPUTS
                else f"{RESULTS}/{{system}}/logs/figures/{_name}.log"
            ),
        benchmark:
            (
                f"{RESULTS}/{{system}}/benchmarks/figures/{{task}}/{_name}.tsv"
                if _name in TASK_FIGURE_INPUTS
                else f"{RESULTS}/{{system}}/benchmarks/figures/{_name}.tsv"
            )
        conda:
            "../../envs/analyse.yaml"
        threads: 1
        resources:
            runtime=10,
        params:
            **FIGURE_PARAMS.get(_name, {}),
            figure=_name,
        script:
            # Formatted per job: the loop variable is gone by the time the script runs.
            "../../scripts/plot_{params.figure}.py"

    rule:
        name:
            f"fig_{_name}"
        input:
            figure_files(_name),
        localrule: True
