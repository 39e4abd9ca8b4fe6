"""Snakemake entry point: the sanity-null table of one task (model vs control correlations)."""

from glasscam.stages.correlate import sanity_nulls
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
sanity_nulls(
    model_csv=snakemake.input.model,
    control_csvs={control: list(snakemake.input[control]) for control in snakemake.params.controls},
    out_csv=snakemake.output[0],
)
