"""Snakemake entry point: figure 'training curves'."""

from glasscam.plots.learning import plot_training_curves
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_training_curves(snakemake.input.metrics, snakemake.output[0], system=snakemake.wildcards.system, task=snakemake.wildcards.task,
                     inputs=snakemake.params.inputs)
