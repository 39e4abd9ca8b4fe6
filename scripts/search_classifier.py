"""Snakemake entry point: hyperparameter search of the CNN classifier on the validation split."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
from glasscam.stages.train import search_classifier  # noqa: E402

search_classifier(
    dataset_h5=snakemake.input.dataset,
    trials_json=snakemake.output.trials,
    trials_csv=snakemake.output.table,
    selected_json=snakemake.output.selected,
    model_cfg=snakemake.params.model,
    train_cfg=snakemake.params.training,
    search_cfg=snakemake.params.search,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
)
