"""Snakemake entry point: spatial correlation C(r) and length ξ of the per-particle Grad-CAM field."""

from glasscam.stages.correlate import gradcam_correlation_length
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
gradcam_correlation_length(
    gradcam_gsd=snakemake.input[0],
    out_json=snakemake.output[0],
    cfg={**snakemake.params.length, "gradcam_key": snakemake.params.gradcam_key,
         "attributions": snakemake.params.attributions},
    seed=snakemake.params.seed,
)
