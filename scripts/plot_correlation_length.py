"""Snakemake entry point: figure 'correlation length'."""

from glasscam.plots.analysis import plot_correlation_length
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_correlation_length(snakemake.input.length, snakemake.output[0], requested_ages=snakemake.params.glass_ages, model_metrics=snakemake.input.model,
                        system=snakemake.wildcards.system, task=snakemake.wildcards.task, inputs=snakemake.params.inputs)
