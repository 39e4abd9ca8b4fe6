"""Snakemake entry point: NVT equilibration and decorrelated liquid samples at one temperature."""

from glasscam.stages import simulate
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
simulate.equilibrate_liquid(
    system_name=snakemake.wildcards.system,
    system_cfg=snakemake.params.system,
    protocol_cfg=snakemake.params.protocol,
    root_seed=snakemake.params.seed,
    run=int(snakemake.wildcards.run),
    temperature=float(snakemake.wildcards.temperature),
    engine_name=snakemake.params.engine,
    threads=snakemake.threads,
    initial=snakemake.input[0],
    output=snakemake.output[0],
)
