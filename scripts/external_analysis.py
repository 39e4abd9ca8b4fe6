"""Snakemake entry point: the whole analysis of one external dataset."""

from glasscam.stages.external import analyse_external
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
analyse_external(
    name=snakemake.wildcards.external,
    entry=snakemake.params.entry,
    system_spec=snakemake.params.system,
    model_path=snakemake.input.model,
    out_gsd=snakemake.output.gsd,
    out_csv=snakemake.output.table,
    out_json=snakemake.output.summary,
    indicator_cfg=snakemake.params.indicators,
    correlation_cfg=snakemake.params.correlations,
    gradcam_cfg=snakemake.params.gradcam,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    paths=list(snakemake.input.files),
    out_sanity_csv=snakemake.output.sanity,
    control_seeds=snakemake.params.control_seeds,
    shuffled_label_models=list(snakemake.input.get("shuffled_labels", [])),
)
