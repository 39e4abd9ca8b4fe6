"""Snakemake entry point: figure 'gradcam histogram'."""

from glasscam.plots.learning import plot_gradcam_histogram
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_gradcam_histogram(snakemake.input.gradcam, snakemake.output[0], model_metrics=snakemake.input.model, system=snakemake.wildcards.system,
                       task=snakemake.wildcards.task, inputs=snakemake.params.inputs)
