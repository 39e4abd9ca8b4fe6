"""Which jobs a config edit reruns, pinned with Snakemake dry runs.

The demo DAG is "run" with ``--touch --forceall`` on empty placeholder outputs (the list from
``--summary``), which records every job's params in Snakemake's metadata as a real run does.
Each case then edits the config and dry-runs: the jobs planned are exactly those whose params
(the keys the rule reads) changed, and what depends on them. Free text reruns nothing.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "config" / "demo.yaml")
MD_RULES = {"initialize", "equilibrate_liquid", "quench", "age", "inherent_structures", "liquid_dynamics"}


def snakemake(workdir: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), *args],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def planned_rules(text: str) -> dict[str, int]:
    """Rule → job count from a dry run's 'Job stats' table ({} when nothing is to be done)."""
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match or match.group(1) == "total":
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A results tree whose every job is recorded as finished with the demo config."""
    workdir = tmp_path_factory.mktemp("rerun")
    summary = snakemake(workdir, "-n", "--summary", "--configfile", CONFIG)
    outputs = [line.split("\t")[0] for line in summary.splitlines() if "\tmissing\t" in line]
    assert len(outputs) > 50
    for output in outputs:
        path = workdir / output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    snakemake(workdir, "--touch", "--forceall", "--configfile", CONFIG)
    assert planned_rules(snakemake(workdir, "-n", "--configfile", CONFIG)) == {}
    return workdir


def dry_run(workdir: Path, tmp_path: Path, edit: str) -> dict[str, int]:
    (tmp_path / "edit.yaml").write_text(edit)
    return planned_rules(snakemake(workdir, "-n", "--configfile", CONFIG, str(tmp_path / "edit.yaml")))


def test_free_text_reruns_nothing(finished, tmp_path):
    edit = (
        "systems:\n"
        "  ka3d: {description: edited, source: another citation, state_points: {source: edited}}\n"
        "  abm2d: {description: edited, source: another citation}\n"
    )
    assert dry_run(finished, tmp_path, edit) == {}


def test_mobility_windows_rerun_mobility_only(finished, tmp_path):
    rules = dry_run(finished, tmp_path, "dynamics: {windows: [1, 10, 40]}\n")
    assert rules.get("mobility") == 2 and rules.get("correlate", 0) >= 2
    assert not {"aging_dynamics", "liquid_relaxation", "gradcam_correlation_length"} & set(rules)
    assert not MD_RULES & set(rules)


def test_correlation_bootstrap_reruns_correlate_not_the_length(finished, tmp_path):
    """(descriptor_dynamics reads n_bootstrap too, and reruns with it.)"""
    rules = dry_run(finished, tmp_path, "correlations: {n_bootstrap: 33}\n")
    assert rules.get("correlate", 0) >= 2 and "gradcam_correlation_length" not in rules
    rules = dry_run(finished, tmp_path, "correlations: {length: {n_bootstrap: 7}}\n")
    assert rules.get("gradcam_correlation_length", 0) >= 2 and "correlate" not in rules


def test_gradcam_key_reruns_the_correlation_length_too(finished, tmp_path):
    rules = dry_run(finished, tmp_path, "correlations: {gradcam_key: gradcam_liquid}\n")
    assert rules.get("gradcam_correlation_length", 0) >= 2 and rules.get("correlate", 0) >= 2
    assert "descriptor_dynamics" not in rules


def test_glass_temperature_reruns_quench_and_aging_not_the_liquids(finished, tmp_path):
    rules = dry_run(finished, tmp_path, "systems: {ka3d: {state_points: {glass_temperature: 0.35}}}\n")
    assert rules.get("quench") == 4 and rules.get("age", 0) >= 8
    assert not {"initialize", "equilibrate_liquid", "liquid_dynamics", "liquid_relaxation"} & set(rules)
