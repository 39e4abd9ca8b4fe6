"""Snakemake entry point: figure 'classifier inputs' (thermal vs inherent-structure null check)."""

from glasscam.plots.learning import plot_classifier_inputs
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_classifier_inputs(dict(snakemake.input.items()), snakemake.output[0], system=snakemake.wildcards.system, task=snakemake.wildcards.task)
