"""Snakemake entry point: the supervised ceiling (CNN and descriptor ridge regressing propensity)."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
import torch  # noqa: E402

from glasscam.stages.ceiling import supervised_ceiling  # noqa: E402

torch.set_num_threads(snakemake.threads)
supervised_ceiling(
    indicators_gsd=snakemake.input.indicators,
    mobility_gsd=snakemake.input.mobility,
    out_json=snakemake.output.json,
    out_csv=snakemake.output.table,
    model_cfg=snakemake.params.model,
    voxel_cfg=snakemake.params.voxel,
    split=snakemake.params.split,
    ceiling_cfg=snakemake.params.ceiling,
    seed=snakemake.params.seed,
    n_bootstrap=snakemake.params.n_bootstrap,
)
