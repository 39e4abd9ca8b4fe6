"""Snakemake entry point: thermodynamics of liquid samples and aging runs."""

from glasscam.plots.simulation import plot_thermodynamics
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_thermodynamics(list(snakemake.input.liquid), list(snakemake.input.aging), snakemake.output[0])
