"""The documentation site (docs/): it builds with warnings as errors (docstring markup included),
its examples run, and the configuration reference generated from the schema documents every key
the shipped configurations use."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import glasscam_docstrings  # noqa: E402
import glasscam_schema  # noqa: E402


def _sphinx(builder: str, out: Path, doctrees: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder, "-d", str(doctrees), str(DOCS), str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )


@pytest.fixture(scope="module")
def doctrees(tmp_path_factory):
    return tmp_path_factory.mktemp("doctrees")


@pytest.mark.slow  # imports every module and renders the site: ≈ 1–2 min
def test_site_builds_with_warnings_as_errors(tmp_path, doctrees):
    result = _sphinx("html", tmp_path / "html", doctrees)
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stderr[-6000:]}"
    html = tmp_path / "html"
    # the API reference and the configuration reference are generated, not empty
    api = (html / "api" / "_generated" / "glasscam.analysis.heterogeneity.html").read_text()
    assert "χ4 = N [⟨Q²⟩ − ⟨Q⟩²]" in api
    config = (html / "configuration.html").read_text()
    assert "dynamics.window_tolerance" in config and "voxel.spacing" in config


@pytest.mark.slow
def test_examples_run(tmp_path, doctrees):
    result = _sphinx("doctest", tmp_path / "doctest", doctrees)
    report = (tmp_path / "doctest" / "output.txt").read_text() if (tmp_path / "doctest" / "output.txt").exists() else ""
    assert result.returncode == 0, f"docs examples failed:\n{report[-6000:]}\n{result.stderr[-3000:]}"
    tried = re.search(r"(\d+) tests?\n", report)
    assert tried and int(tried.group(1)) >= 20, report[-2000:]
    assert "0 failures in tests" in report


def _leaf_paths(value, prefix=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_paths(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for child in value:
            yield from _leaf_paths(child, f"{prefix}[]")
    else:
        yield prefix


@pytest.mark.parametrize("config_file", ["config.yaml", "config/demo.yaml", "config/study.yaml", "config/scale_study.yaml"])
def test_config_reference_documents_every_key_in_use(config_file):
    schema, config = glasscam_schema.load()
    patterns = [re.compile(re.escape(row.key).replace(re.escape("<name>"), r"[^.\[]+") + r"(\..*)?$")
                for row in glasscam_schema.rows(schema, config)]
    used = list(_leaf_paths(yaml.safe_load((ROOT / config_file).read_text())))
    assert used
    missing = [path for path in used if not any(p.match(path) for p in patterns)]
    assert not missing, f"{config_file}: keys without a row in the configuration reference: {missing}"


def test_config_reference_rows_carry_type_default_units():
    schema, config = glasscam_schema.load()
    rows = {row.key: row for row in glasscam_schema.rows(schema, config)}
    assert rows["voxel.spacing"].type == "number > 0" and rows["voxel.spacing"].units == "σ"
    assert rows["voxel.spacing"].default == str(config["voxel"]["spacing"])
    assert rows["protocol.runs"].type == "integer ≥ 3"  # allOf + $ref resolved
    assert rows["systems.<name>.state_points.glass_temperature"].units == "ε/k_B"
    assert rows["dataset.tasks[].young"].units == "τ"
    assert rows["engine"].type == "one of auto, hoomd, lammps"


def test_docstring_bars_escaped_in_prose_only():
    lines = ["MSD = (1/N) Σ_i |Δr_i|², ``|x|`` kept, :math:`|q|` kept::", "", "    |Δr| literal", "", "after |k| bins"]
    glasscam_docstrings.escape_bars(lines)
    assert lines == [r"MSD = (1/N) Σ_i \|Δr_i\|², ``|x|`` kept, :math:`|q|` kept::", "", "    |Δr| literal", "",
                     r"after \|k\| bins"]
