"""Snakemake entry point: figure 'liquid relaxation' (Fs, MSD, τα(T), D(T))."""

from glasscam.plots.analysis import plot_liquid_relaxation
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_liquid_relaxation(snakemake.input.relaxation, snakemake.output[0])
