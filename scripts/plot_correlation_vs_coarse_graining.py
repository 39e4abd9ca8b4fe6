"""Snakemake entry point: figure 'correlation vs coarse graining'."""

from glasscam.plots.analysis import plot_correlation_vs_coarse_graining
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_correlation_vs_coarse_graining(snakemake.input.correlations, snakemake.output[0], model_metrics=snakemake.input.model,
                                    system=snakemake.wildcards.system, task=snakemake.wildcards.task, inputs=snakemake.params.inputs)
