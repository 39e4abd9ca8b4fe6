"""Snakemake entry point: figure of one external dataset (p(class), correlations with propensity)."""

from glasscam.plots.external import plot_external
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_external(snakemake.input.table, snakemake.input.summary, snakemake.output[0])
