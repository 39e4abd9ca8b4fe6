"""Snakemake entry point: test accuracy against the number of training trajectories."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
from glasscam.stages.train import learning_curve  # noqa: E402

learning_curve(
    dataset_h5=snakemake.input.dataset,
    out_json=snakemake.output[0],
    model_cfg=snakemake.params.model,
    train_cfg=snakemake.params.training,
    curve_cfg=snakemake.params.learning_curve,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    selected_json=snakemake.input.get("selected"),
)
