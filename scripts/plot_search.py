"""Snakemake entry point: figure 'search' (hyperparameter search of the CNN per input kind)."""

from glasscam.plots.learning import plot_search
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_search(dict(snakemake.input.items()), snakemake.output[0])
