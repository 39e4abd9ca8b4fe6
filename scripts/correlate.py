"""Snakemake entry point: particle-level correlations of Grad-CAM with indicators and mobility."""

from glasscam.stages.correlate import correlate
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
correlate(
    gradcam_gsd=snakemake.input.gradcam,
    indicators_gsd=snakemake.input.indicators,
    mobility_gsd=snakemake.input.mobility,
    out_csv=snakemake.output[0],
    correlation_cfg=snakemake.params.correlations,
    seed=snakemake.params.seed,
    settings=snakemake.params.settings,
)
