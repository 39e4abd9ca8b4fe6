"""Snakemake entry point: figure 'aging dynamics'."""

from glasscam.plots.analysis import plot_aging_dynamics
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_aging_dynamics(snakemake.input.two_time, snakemake.input.summary, snakemake.output[0])
