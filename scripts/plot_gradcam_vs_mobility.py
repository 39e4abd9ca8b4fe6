"""Snakemake entry point: figure 'gradcam vs mobility'."""

from glasscam.plots.analysis import plot_gradcam_vs_mobility
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_gradcam_vs_mobility(snakemake.input.gradcam, snakemake.input.mobility, snakemake.input.correlations, snakemake.output[0],
                         requested_ages=snakemake.params.glass_ages, model_metrics=snakemake.input.model)
