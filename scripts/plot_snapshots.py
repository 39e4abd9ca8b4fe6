"""Snakemake entry point: figure 'snapshots' (OVITO render where installed, else matplotlib)."""

from glasscam.plots.snapshots import plot_snapshots
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_snapshots(snakemake.input.gradcam, snakemake.input.indicators, snakemake.input.mobility, snakemake.output[0],
               radii=snakemake.params.radii, model_metrics=snakemake.input.model)
