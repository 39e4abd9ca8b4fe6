"""Snakemake entry point: figure 'baselines' (CNN vs classical baselines, thermal cues)."""

from glasscam.plots.learning import plot_baselines
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_baselines(dict(snakemake.input.items()), snakemake.output[0])
