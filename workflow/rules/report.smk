"""Findings: the numbers the pipeline found, with intervals and one sentence each, gathered from
every system's result files into one machine-readable summary (findings.json) and the report's
first page (findings.rst, included by workflow/report/workflow.rst; findings.html, the first
report item)."""

from glasscam.report.findings import register_report_directives

# The landing page (workflow/report/workflow.rst) embeds every figure with its caption.
register_report_directives()


# Result files by kind (glasscam.report.findings.READERS); the findings read labels (system, variant)
# from each path, so new path levels need no change in the findings code.
FINDINGS_INPUTS = {
    "metrics": expand(
        f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/metrics.json",
        system=SYSTEMS,
        task=list(TASKS),
        inputs=INPUTS,
    ),
    "baselines": expand(
        f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/baselines.json",
        system=SYSTEMS,
        task=list(TASKS),
        inputs=INPUTS,
    ),
    "learning_curve": expand(
        f"{RESULTS}/{{system}}/model/{{task}}/{{inputs}}/learning_curve.json",
        system=SYSTEMS,
        task=list(TASKS),
        inputs=INPUTS,
    ),
    "correlations": expand(
        f"{RESULTS}/{{system}}/analysis/{{task}}/correlations.csv",
        system=SYSTEMS,
        task=list(TASKS),
    ),
    "sanity_nulls": expand(
        f"{RESULTS}/{{system}}/controls/{{task}}/thermal/sanity_nulls.csv",
        system=SYSTEMS,
        task=list(TASKS),
    ),
    "correlation_length": expand(
        f"{RESULTS}/{{system}}/analysis/{{task}}/gradcam_correlation_length.json",
        system=SYSTEMS,
        task=list(TASKS),
    ),
    "liquid_relaxation": expand(
        f"{RESULTS}/{{system}}/analysis/liquid_relaxation.json", system=SYSTEMS
    ),
    "aging_dynamics": expand(
        f"{RESULTS}/{{system}}/analysis/aging_dynamics.json", system=SYSTEMS
    ),
}


rule findings:
    input:
        **FINDINGS_INPUTS,
    output:
        json=f"{RESULTS}/findings/findings.json",
        rst=f"{RESULTS}/findings/findings.rst",
        html=report(
            f"{RESULTS}/findings/findings.html",
            caption="../report/findings.rst",
            category="0 Findings",
            labels={"page": "findings"},
        ),
    log:
        f"{RESULTS}/logs/findings.log",
    benchmark:
        f"{RESULTS}/benchmarks/findings.tsv"
    conda:
        "../../envs/analyse.yaml"
    threads: 1
    resources:
        runtime=10,
    params:
        # the results root: labels (system, variant) are read relative to it
        root=lambda wildcards, output: os.path.dirname(os.path.dirname(output.json)),
        # independent runs per system, stated in the verdict
        runs=config["protocol"]["runs"],
    script:
        "../../scripts/findings.py"
