"""Snakemake entry point: figure 'search' (hyperparameter search of the CNN per input kind).

Inputs: the trials of each input kind under its name, the dataset it scored on as <name>_dataset."""

from glasscam.plots.learning import plot_search
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
plot_search({k: v for k, v in snakemake.input.items() if not k.endswith("_dataset")}, snakemake.output[0],
            datasets_by_inputs={k.removesuffix("_dataset"): v for k, v in snakemake.input.items() if k.endswith("_dataset")},
            system=snakemake.wildcards.system, task=snakemake.wildcards.task)
