"""Snakemake entry point: FIRE inherent structures of a liquid or aging trajectory's frames."""

from glasscam.stages import simulate
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
simulate.inherent_structures(
    system_name=snakemake.wildcards.system,
    system_cfg=snakemake.params.system,
    engine_name=snakemake.params.engine,
    threads=snakemake.threads,
    trajectory=snakemake.input[0],
    output=snakemake.output[0],
    glass_ages=snakemake.params.glass_ages,
    windows=snakemake.params.windows,
)
