"""The real Snakemake DAG, end to end at tiny size, run in a copy of the workflow.

Checks: every figure and per-particle output exists; the report renders every figure with its
caption on the landing page, without a docutils system message, after findings that state the
numbers of the result files; a second run from scratch gives every output file byte for byte; a
single-figure target plans only what that figure needs; editing a plotting script replans that
figure alone; a bad config stops before any job with the offending key named.
"""

import csv
import json
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import gsd.hoomd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ["config/demo.yaml", "tests/data/tiny.yaml"]
SYSTEMS = ["ka3d", "abm2d"]
TASKS = ["liquid_vs_glass", "age"]
SYSTEM_FIGURES, TASK_FIGURES = 3, 12

pytestmark = pytest.mark.slow


def copy_workflow(destination: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".snakemake", "results*", "__pycache__", "*.egg-info", ".pytest_cache", "benchmarks")
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def snakemake(workdir: Path, *args, check=True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", *CONFIGS, *args]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


def planned_jobs(workdir: Path, *targets, extra=()) -> dict[str, int]:
    """Rule → job count of a dry run (parsed from Snakemake's 'Job stats' table)."""
    out = snakemake(workdir, "--dry-run", *extra, *targets)
    return planned_jobs_from(out.stdout + out.stderr)


def planned_jobs_from(text: str) -> dict[str, int]:
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Two complete runs of the tiny DAG from scratch, in two fresh copies of the workflow."""
    runs = []
    for k in range(2):
        workdir = copy_workflow(tmp_path_factory.mktemp(f"run{k}") / "glasscam")
        snakemake(workdir)
        runs.append(workdir)
    return runs


def report_parts(html: str) -> tuple[str, dict]:
    """(landing-page HTML, results table) of a Snakemake HTML report."""
    desc = json.loads(re.search(r'var workflow_desc = (".*?");\s*$', html, re.M).group(1))
    results = json.loads(re.search(r"var results = (\{.*?\});\s*$", html, re.M).group(1))
    return desc, results


def test_every_figure_and_report(tiny_runs):
    """The report renders without any docutils system message; every figure has a caption and is
    on the landing page in pipeline order; the findings there state the numbers the results hold."""
    from glasscam.report.findings import fmt

    workdir = tiny_runs[0]
    figures = sorted((workdir / "results" / "figures").glob("*/*.png"))
    assert len(figures) == SYSTEM_FIGURES * len(SYSTEMS)
    figures += sorted((workdir / "results" / "figures").glob("*/*/*.png"))
    assert len(figures) == (SYSTEM_FIGURES + TASK_FIGURES * len(TASKS)) * len(SYSTEMS)
    assert all(f.stat().st_size > 5000 for f in figures)
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text(errors="replace")
    desc, results = report_parts(html)
    for text in [desc, *(r["caption"] for r in results.values())]:
        assert "System Message" not in text and 'class="system-message"' not in text, text[:2000]
    pngs = {path: r for path, r in results.items() if r["mime_type"] == "image/png"}
    assert len(pngs) == len(figures)
    for path, r in pngs.items():
        assert len(r["caption"]) > 100, f"{path}: no caption"
        assert r["caption"].split("<p>")[1][:60] in desc, f"{path}: caption not on the landing page"
    assert desc.index("thermodynamics") < desc.index("training curves") < desc.index("gradcam vs mobility")
    found = json.loads((workdir / "results" / "findings" / "findings.json").read_text())
    assert set(found["systems"]) == set(SYSTEMS)
    results_dir = workdir / "results"
    for system in SYSTEMS:
        relaxation = json.loads((results_dir / system / "analysis" / "liquid_relaxation.json").read_text())
        for entry in relaxation["temperatures"]:
            assert f"τα = {fmt(entry['species']['A']['tau_alpha'])} τ" in desc
        for task in TASKS:
            for inputs in ("thermal", "inherent"):
                metrics = json.loads((results_dir / system / "model" / task / inputs / "metrics.json").read_text())
                assert fmt(metrics["test_accuracy"]) in desc and fmt(metrics["energy_baseline"]["test_accuracy"]) in desc
                baselines = json.loads((results_dir / system / "model" / task / inputs / "baselines.json").read_text())
                for entry in baselines["baselines"].values():
                    assert fmt(entry["accuracy"]) in desc
            length = json.loads((results_dir / system / "analysis" / task / "gradcam_correlation_length.json").read_text())
            for group in length["groups"]:
                if group.get("reliable", True):
                    assert f"ξ = {fmt(group['xi'])} σ" in desc
                else:  # a flagged fit is named with its reason (the HTML escapes "<"), not quoted
                    assert group["flag"] in unescape(desc)
            with open(results_dir / system / "analysis" / task / "correlations.csv", newline="") as fh:
                pooled = [r for r in csv.DictReader(fh) if r["t_w"] == "all" and r["spearman"] not in ("", "nan")]
            for key in {(r.get("field"), r["quantity"]) for r in pooled}:
                best = max((r for r in pooled if (r.get("field"), r["quantity"]) == key), key=lambda r: abs(float(r["spearman"])))
                numbered = all(best[c] not in ("", "nan") for c in ("spearman_lo", "spearman_hi", "null_spearman_lo", "null_spearman_hi"))
                assert (f"ρ = {fmt(float(best['spearman']))}" in desc) == numbered, key  # no bullet without a number
    from test_report_browser import assert_opens_on_findings, chromium_binary

    if chromium_binary():  # the report opens on its findings in a real browser (tests/test_report_browser.py)
        assert_opens_on_findings(workdir / "report.html")


def test_per_particle_outputs_are_gsd_log_arrays(tiny_runs):
    results = tiny_runs[0] / "results"
    for system in SYSTEMS:
        for task, positive in (("liquid_vs_glass", "glass"), ("age", "aged")):
            with gsd.hoomd.open(results / system / "gradcam" / task / "gradcam.gsd") as traj:
                frame = traj[0]
                for key in (f"gradcam_{positive}", f"gradcam_signed_{positive}"):
                    assert frame.log[f"particles/glasscam/{key}"].shape == (frame.particles.N,)
        summary = json.loads((results / system / "summary" / "study.json").read_text())
        assert set(summary["tasks"]) == set(TASKS) and summary["rearrangements"]
        # what a second realisation is compared by (glasscam.report.study.compare_realisations)
        assert isinstance(summary["seed"], int) and summary["settings_hash_except_seed"] != summary["settings_hash"]
        with gsd.hoomd.open(results / system / "analysis" / "indicators.gsd") as traj:
            keys = [k for k in traj[0].log if k.startswith("particles/glasscam/")]
            assert len(keys) >= 3


def test_rerun_from_scratch_is_identical(tiny_runs):
    """Every output file — datasets, checkpoints, per-particle GSD, tables, figures, findings — has the
    same bytes in two runs from scratch; only the rules' logs and benchmark timings may differ."""
    first, second = (run / "results" for run in tiny_runs)

    def outputs(results: Path) -> set[Path]:
        return {p.relative_to(results) for p in results.rglob("*")
                if p.is_file() and not {"logs", "benchmarks"} & set(p.relative_to(results).parts)}

    files = outputs(first)
    assert files == outputs(second)
    suffixes = {p.suffix for p in files}
    assert {".gsd", ".h5", ".pt", ".json", ".csv", ".png"} <= suffixes, suffixes
    differ = sorted(str(p) for p in files if (first / p).read_bytes() != (second / p).read_bytes())
    assert not differ, f"{len(differ)} of {len(files)} outputs differ between two runs from scratch: {differ[:20]}"
    # and the per-particle results are there to compare (not two empty runs)
    for system in SYSTEMS:
        with gsd.hoomd.open(first / system / "analysis" / "indicators.gsd") as traj:
            assert any(k.startswith("particles/glasscam/") for k in traj[0].log)


def test_editing_a_plot_script_replans_that_figure_only(tiny_runs):
    workdir = tiny_runs[1]
    assert planned_jobs(workdir) == {}
    script = workdir / "scripts" / "plot_training_curves.py"
    script.write_text(script.read_text() + "\n# edited\n")
    assert planned_jobs(workdir) == {"figure_training_curves": len(SYSTEMS) * len(TASKS), "all": 1}


def test_one_figure_target_plans_only_its_dependencies(tmp_path):
    workdir = copy_workflow(tmp_path / "glasscam")
    jobs = planned_jobs(workdir, "results/figures/ka3d/liquid_vs_glass/training_curves.png")  # thermal inputs
    runs = 3
    assert jobs == {
        "initialize": runs,
        "equilibrate_liquid": 2 * runs,
        "quench": runs,
        "age": runs,  # replica 0 only: the other replicas feed dynamics, not training
        "build_dataset": 1,
        "search_classifier": 1,
        "train_classifier": 1,
        "figure_training_curves": 1,
    }
    # the age task needs no liquid samples: only the liquid each quench starts from
    jobs = planned_jobs(workdir, "results/figures/ka3d/age/training_curves.png")
    assert jobs == {"initialize": runs, "equilibrate_liquid": runs, "quench": runs, "age": runs, "build_dataset": 1,
                    "search_classifier": 1, "train_classifier": 1, "figure_training_curves": 1}
    named = planned_jobs(workdir, "fig_training_curves")
    assert named["figure_training_curves"] == len(SYSTEMS) * len(TASKS) and "gradcam" not in named


def test_bad_config_stops_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path / "glasscam")
    bad = workdir / "bad.yaml"
    bad.write_text("systems:\n  ka3d:\n    composition: {A: 200, B: -3}\n")
    result = snakemake(workdir, "--configfile", *CONFIGS, "bad.yaml", check=False)
    assert result.returncode != 0
    assert "systems.ka3d.composition.B" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_aging_settings_do_not_rerun_liquids(tiny_runs):
    """Rules see only the protocol keys they use: a longer aging run replans aging and what
    depends on it, never the melt, the liquid sampling or the quench."""
    workdir = tiny_runs[1]
    override = workdir / "longer_aging.yaml"
    override.write_text("protocol:\n  aging: {duration: 25, frames_per_decade: 4, replicas: 2}\n")
    out = snakemake(workdir, "--dry-run", "--configfile", *CONFIGS, "longer_aging.yaml")
    jobs = planned_jobs_from(out.stdout + out.stderr)
    assert jobs["age"] == 3 * 2 * len(SYSTEMS)
    assert not {"initialize", "equilibrate_liquid", "quench", "liquid_dynamics"} & set(jobs)
