"""Snakemake entry point: Fs(q*, t), τα(T) and D(T) of the liquid states."""

from glasscam.stages.dynamics import compute_liquid_relaxation
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
liquid = snakemake.params.dynamics.get("liquid", {})
compute_liquid_relaxation(
    trajectory_paths=list(snakemake.input),
    out_json=snakemake.output.json,
    out_csv=snakemake.output.table,
    a=snakemake.params.dynamics.get("overlap_a", 0.3),
    msd_min=liquid.get("msd_min", 1.0),
    max_origins=liquid.get("max_origins", 64),
)
