"""Snakemake entry point: findings (numbers, intervals, sentences) from every result file."""

from glasscam.report.findings import READERS, write_findings
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
write_findings(
    files={kind: list(snakemake.input[kind]) for kind in READERS if kind in snakemake.input.keys()},
    root=snakemake.params.root,
    out_json=snakemake.output.json,
    out_rst=snakemake.output.rst,
    out_html=snakemake.output.html,
    runs=snakemake.params.runs,
)
