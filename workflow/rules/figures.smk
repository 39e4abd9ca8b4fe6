"""Figures: one rule per figure (figure_<name>, wildcard system) built from the table below, and
one named target per figure (fig_<name>) that builds it for every system of run_systems.

Each figure has its own script in scripts/plot_<name>.py, so editing one plotting script reruns
that figure only.
"""

FIGURE_INPUTS = {
    "thermodynamics": {
        "liquid": liquid_trajectories,
        "aging": main_aging_trajectories,
    },
    "training_curves": {"metrics": f"{RESULTS}/{{system}}/model/thermal/metrics.json"},
    "classifier_inputs": {
        inputs: f"{RESULTS}/{{system}}/model/{inputs}/metrics.json"
        for inputs in config["dataset"]["inputs"]
    },
    "learning_curve": {
        inputs: f"{RESULTS}/{{system}}/model/{inputs}/learning_curve.json"
        for inputs in config["dataset"]["inputs"]
    },
    "gradcam_maps": {
        "maps": f"{RESULTS}/{{system}}/gradcam/gradcam.h5",
        "glass_samples": f"{RESULTS}/{{system}}/dataset/thermal/glass_samples.gsd",
    },
    "gradcam_histogram": {"gradcam": f"{RESULTS}/{{system}}/gradcam/gradcam.gsd"},
    "correlation_matrix": {
        "correlations": f"{RESULTS}/{{system}}/analysis/correlations.csv"
    },
    "gradcam_vs_mobility": {
        "gradcam": f"{RESULTS}/{{system}}/gradcam/gradcam.gsd",
        "mobility": f"{RESULTS}/{{system}}/analysis/mobility.gsd",
        "correlations": f"{RESULTS}/{{system}}/analysis/correlations.csv",
    },
    "correlation_vs_coarse_graining": {
        "correlations": f"{RESULTS}/{{system}}/analysis/correlations.csv"
    },
    "liquid_relaxation": {
        "relaxation": f"{RESULTS}/{{system}}/analysis/liquid_relaxation.json"
    },
    "aging_dynamics": {"table": f"{RESULTS}/{{system}}/analysis/aging_dynamics.csv"},
    "correlation_length": {
        "length": f"{RESULTS}/{{system}}/analysis/gradcam_correlation_length.json"
    },
}
FIGURES = list(FIGURE_INPUTS)


for _name, _inputs in FIGURE_INPUTS.items():

    rule:
        name:
            f"figure_{_name}"
        input:
            **_inputs,
        output:
            report(
                f"{RESULTS}/figures/{{system}}/{_name}.png",
                caption=f"../report/{_name}.rst",
                category="{system}",
                labels={"system": "{system}", "figure": _name},
            ),
        log:
            f"{RESULTS}/{{system}}/logs/figures/{_name}.log",
        benchmark:
            f"{RESULTS}/{{system}}/benchmarks/figures/{_name}.tsv"
        conda:
            "../../envs/analyse.yaml"
        threads: 1
        resources:
            runtime=10,
        params:
            figure=_name,
        script:
            # Formatted per job: the loop variable is gone by the time the script runs.
            "../../scripts/plot_{params.figure}.py"

    rule:
        name:
            f"fig_{_name}"
        input:
            expand(f"{RESULTS}/figures/{{system}}/{_name}.png", system=SYSTEMS),
        localrule: True
