"""Snakemake entry point: per-particle structural indicators of the glass samples."""

from glasscam.io.provenance import provenance
from glasscam.stages.indicators import compute_indicators
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
compute_indicators(
    glass_samples_gsd=snakemake.input[0],
    out_gsd=snakemake.output[0],
    indicator_cfg=snakemake.params.indicators,
    provenance=provenance(snakemake.params.indicators, system=snakemake.wildcards.system, input=snakemake.input[0]),
)
