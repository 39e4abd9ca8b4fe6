"""Snakemake entry point: per-particle structural indicators of the glass samples."""

from glasscam.indicators import compute_indicators
from glasscam.provenance import provenance
from glasscam.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
compute_indicators(
    glass_samples_gsd=snakemake.input[0],
    out_gsd=snakemake.output[0],
    indicator_cfg=snakemake.params.indicators,
    provenance=provenance(snakemake.params.indicators, system=snakemake.wildcards.system, input=snakemake.input[0]),
)
