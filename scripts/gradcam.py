"""Snakemake entry point: Grad-CAM maps and per-particle Grad-CAM of the glass samples."""

from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
import torch  # noqa: E402

from glasscam.stages.explain import explain  # noqa: E402

torch.set_num_threads(snakemake.threads)
explain(
    model_path=snakemake.input.model,
    glass_gsd=snakemake.input.glass_samples,
    out_h5=snakemake.output.maps,
    out_gsd=snakemake.output.particles,
    gradcam_cfg=snakemake.params.gradcam,
    attribution_cfg=snakemake.params.attribution,
    seed=snakemake.params.seed,
)
