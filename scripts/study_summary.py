"""Snakemake entry point: the study summary of one system (accuracies, baselines, correlations, ξ)."""

from glasscam.report.study import summarize_study
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
summarize_study(
    system=snakemake.wildcards.system,
    baselines={
        task: {inputs: snakemake.input[f"baselines_{task}_{inputs}"] for inputs in snakemake.params.inputs}
        for task in snakemake.params.tasks
    },
    correlations={task: snakemake.input[f"correlations_{task}"] for task in snakemake.params.tasks},
    lengths={task: snakemake.input[f"length_{task}"] for task in snakemake.params.tasks},
    descriptor_csv=snakemake.input.descriptors,
    mobility_gsd=snakemake.input.mobility,
    glass_samples_gsd=snakemake.input.glass_samples,
    out_json=snakemake.output[0],
    sanity={task: snakemake.input[f"sanity_{task}"] for task in snakemake.params.tasks},
    settings=snakemake.params.settings,
    ceiling=snakemake.input.ceiling,
)
