"""Snakemake entry point: per-particle mobility, cage-relative displacement and propensity."""

from glasscam.io.provenance import provenance
from glasscam.stages.dynamics import compute_mobility
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
compute_mobility(
    glass_samples_gsd=snakemake.input.glass_samples,
    aging_paths=list(snakemake.input.aging),
    propensity_paths=list(snakemake.input.propensity),
    out_gsd=snakemake.output[0],
    dynamics_cfg=snakemake.params.dynamics,
    provenance=provenance(snakemake.params.dynamics, system=snakemake.wildcards.system),
)
