# glasscam: MD of binary glass formers → voxelized CNN liquid/glass classifier → Grad-CAM →
# structural indicators, aging dynamics and particle-level correlations → figures + report.
import os

from glasscam.config import load_yaml
from snakemake.utils import min_version

min_version("9.0")

# Snakemake's own parse error names neither file nor line: check the workflow's config.yaml
# first (a --configfile is parsed by Snakemake before this file runs; `python -m glasscam.config
# FILE` names the line of a syntax error there)
load_yaml(os.path.join(workflow.basedir, "config.yaml"))


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    system="|".join(SYSTEMS),
    run=r"\d+",
    replica=r"\d+",
    temperature=r"[0-9.]+",
    stage="liquid|aging",
    inputs="thermal|inherent",
    task="|".join(TASKS),
    age=r"[0-9.]+",
    control="random_weights|shuffled_labels",
    k=r"\d+",


include: "workflow/rules/simulate.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/indicators.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/correlate.smk"
include: "workflow/rules/controls.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/external.smk"


report: "workflow/report/workflow.rst"


onerror:
    cancel_slurm_run(log)


rule all:
    default_target: True
    input:
        [path for name in FIGURES for path in figure_files(name)],
        expand(f"{RESULTS}/{{system}}/summary/study.json", system=SYSTEMS),
        f"{RESULTS}/findings/findings.json",
        expand(f"{RESULTS}/external/{{external}}/summary.png", external=EXTERNAL),
