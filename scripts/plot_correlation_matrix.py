"""Snakemake entry point: figure 'correlation matrix'."""

from glasscam.plots.analysis import plot_correlation_matrix
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_correlation_matrix(snakemake.input.correlations, snakemake.output[0], model_metrics=snakemake.input.model)
