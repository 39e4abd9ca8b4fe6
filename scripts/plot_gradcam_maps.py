"""Snakemake entry point: figure 'gradcam maps'."""

from glasscam.plots.learning import plot_gradcam_maps
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_gradcam_maps(snakemake.input.maps, snakemake.input.glass_samples, snakemake.output[0], model_metrics=snakemake.input.model)
