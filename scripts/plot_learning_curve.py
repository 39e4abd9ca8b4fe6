"""Snakemake entry point: figure 'learning curve' (test accuracy vs training data, per input kind)."""

from glasscam.plots.learning import plot_learning_curve
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_learning_curve(dict(snakemake.input.items()), snakemake.output[0], system=snakemake.wildcards.system, task=snakemake.wildcards.task)
