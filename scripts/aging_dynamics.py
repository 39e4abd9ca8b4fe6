"""Snakemake entry point: MSD, Fs(q*, t), overlap and χ4 of the aging runs."""

from glasscam.stages.dynamics import compute_aging_dynamics
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
compute_aging_dynamics(
    aging_paths=list(snakemake.input),
    out_csv=snakemake.output.table,
    out_json=snakemake.output.summary,
    a=float(snakemake.params.dynamics.get("overlap_a", 0.3)),
    s4=snakemake.params.dynamics.get("s4", {}),
)
