"""Snakemake entry point: classical baselines of one task and input kind, and the CNN minus each."""

from glasscam.stages.baselines import classifier_baselines
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
classifier_baselines(
    dataset_h5=snakemake.input.dataset,
    metrics_json=snakemake.input.metrics,
    out_json=snakemake.output[0],
    indicator_cfg=snakemake.params.indicators,
    seed=snakemake.params.seed,
    inherent_dataset_h5=snakemake.input.get("inherent"),
    settings=snakemake.params.settings,
)
