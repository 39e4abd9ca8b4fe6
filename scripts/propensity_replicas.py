"""Snakemake entry point: iso-configurational replicas launched at an aging time t_w."""

from glasscam.stages import simulate
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
simulate.propensity_replicas(
    system_name=snakemake.wildcards.system,
    system_cfg=snakemake.params.system,
    protocol_cfg=snakemake.params.protocol,
    root_seed=snakemake.params.seed,
    run=int(snakemake.wildcards.run),
    age=float(snakemake.wildcards.age),
    engine_name=snakemake.params.engine,
    threads=snakemake.threads,
    aging=snakemake.input[0],
    outputs=list(snakemake.output),
)
