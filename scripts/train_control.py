"""Snakemake entry point: one control model (random weights or permuted labels) of a classifier."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
from glasscam.stages.train import train_control  # noqa: E402

train_control(
    dataset_h5=snakemake.input.dataset,
    model_out=snakemake.output.model,
    metrics_out=snakemake.output.metrics,
    model_cfg=snakemake.params.model,
    train_cfg=snakemake.params.training,
    control=snakemake.wildcards.control,
    seed=snakemake.params.seed,
    control_seed=int(snakemake.wildcards.k),
    threads=snakemake.threads,
    settings=snakemake.params.settings,
    selected_json=snakemake.input.get("selected"),
)
