"""Snakemake entry point: the analysis glass samples (replica 0 of every run at dataset.glass_ages)."""

from glasscam.io.provenance import provenance
from glasscam.stages.dataset import write_glass_samples
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
write_glass_samples(
    aging_paths=list(snakemake.input),
    glass_ages=snakemake.params.glass_ages,
    out_gsd=snakemake.output[0],
    provenance=provenance({"glass_ages": snakemake.params.glass_ages}, system=snakemake.wildcards.system),
)
