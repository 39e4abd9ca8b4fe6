"""Snakemake entry point: train the liquid/glass CNN on one system's dataset."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
from glasscam.stages.train import train_classifier  # noqa: E402

train_classifier(
    dataset_h5=snakemake.input.dataset,
    model_out=snakemake.output.model,
    metrics_out=snakemake.output.metrics,
    model_cfg=snakemake.params.model,
    train_cfg=snakemake.params.training,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    settings=snakemake.params.settings,
    selected_json=snakemake.input.get("selected"),
)
