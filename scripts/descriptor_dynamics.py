"""Snakemake entry point: within-frame correlations of every structural indicator with the dynamics."""

from glasscam.stages.correlate import correlate_descriptors
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
correlate_descriptors(
    indicators_gsd=snakemake.input.indicators,
    mobility_gsd=snakemake.input.mobility,
    out_csv=snakemake.output[0],
    correlation_cfg=snakemake.params.correlations,
    seed=snakemake.params.seed,
)
