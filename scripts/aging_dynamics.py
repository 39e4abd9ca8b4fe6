"""Snakemake entry point: MSD, Fs(q*, t), overlap and χ4 of the aging runs since the quench and
as two-time functions C(t_w + t, t_w) at the waiting times dataset.glass_ages."""

from glasscam.stages.dynamics import compute_aging_dynamics
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
compute_aging_dynamics(
    aging_paths=list(snakemake.input.aging),
    out_csv=snakemake.output.table,
    out_json=snakemake.output.summary,
    a=float(snakemake.params.dynamics.get("overlap_a", 0.3)),
    s4=snakemake.params.dynamics.get("s4", {}),
    ages=snakemake.params.glass_ages,
    out_two_time=snakemake.output.two_time,
    liquid_json=snakemake.input.liquid,
)
