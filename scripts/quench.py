"""Snakemake entry point: quench the last liquid frame of one run to the glass temperature."""

from glasscam.stages import simulate
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
simulate.quench(
    system_name=snakemake.wildcards.system,
    system_cfg=snakemake.params.system,
    protocol_cfg=snakemake.params.protocol,
    root_seed=snakemake.params.seed,
    run=int(snakemake.wildcards.run),
    engine_name=snakemake.params.engine,
    threads=snakemake.threads,
    liquid=snakemake.input[0],
    output=snakemake.output[0],
)
