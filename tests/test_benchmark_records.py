"""Benchmark records (benchmarks/records/): every committed record is complete, `compare` gives
new ÷ old per common figure with the right verdict, run.py results turn into records, and the
performance table (docs/performance.md) is the one the records generate."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import records  # noqa: E402


def test_committed_records_are_complete():
    recs = records.load_records()
    assert recs, "no record in benchmarks/records/"
    for path, rec in recs:
        assert path.name.startswith(rec["date"]), path
        for key in ("date", "host", "source", "machine", "versions", "metrics", "table"):
            assert key in rec, f"{path.name}: no {key!r}"
        for name, m in rec["metrics"].items():
            assert m["better"] in ("higher", "lower") and isinstance(m["value"], (int, float)), (path.name, name)


def _record(date, **values):
    return {"date": date, "metrics": {k: {"value": v, "unit": "s", "better": "lower", "label": k, "figure": "x"}
                                      for k, v in values.items()}, "table": []}


def test_compare_ratio_and_verdict():
    rows = {r["name"]: r for r in records.compare(_record("2026-02-01", a=2.0, b=1.0, c=5.0),
                                                   _record("2026-01-01", a=4.0, b=1.0, d=1.0))}
    assert set(rows) == {"a", "b"}  # only figures both records have
    assert rows["a"]["ratio"] == pytest.approx(0.5) and rows["a"]["verdict"] == "better"  # lower is better
    assert rows["b"]["verdict"] == "="


def test_record_from_results_roundtrip(tmp_path):
    results = {"started": "2026-11-29T20:00:00+0000", "mode": "full", "machine": {"hostname": "h", "loadavg_1_5_15": [1, 2, 3]},
               "versions": {}, "figures": {"engine": {
                   "rows": [{"engine": "hoomd", "system": "abm2d", "N": 512,
                             "same_step": {"median": 0.004}, "new_step": {"median": 0.02}}],
                   "initialization_abm2d_N4096": {"hoomd": {"remove_overlaps_s": {"median": 3.0}, "loads": 501}}}}}
    rec = records.record_from_results(results)
    assert rec["metrics"]["engine.load_evaluate.hoomd.abm2d.N512.same_step"]["value"] == 0.004
    assert rec["metrics"]["engine.init_abm2d_N4096.hoomd"]["value"] == 3.0
    path = records.write_record(rec, tmp_path)
    assert path.name == "2026-11-29-h.json" and records.write_record(rec, tmp_path).name == "2026-11-29-h-2.json"
    assert json.loads(path.read_text())["table"][0]["key"] == "engine"


def test_readme_table_is_generated_from_the_records():
    assert records.update_readme(check=True), "docs/performance.md table is stale: python benchmarks/records.py readme"


def test_dag_wall_time_sums_benchmark_files_per_rule(tmp_path):
    import bench_demo

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {"ka3d/benchmarks/age/run0_rep0.tsv": (60.0, 30.0), "ka3d/benchmarks/age/run1_rep0.tsv": (120.0, 90.0),
             "ka3d/benchmarks/mobility.tsv": (6.0, 3.0), "ka3d/benchmarks/figures/age/baselines.tsv": (2.0, 1.0),
             "benchmarks/findings.tsv": (1.5, 1.0)}
    for name, (wall, cpu) in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + f"{wall}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n")
    (tmp_path / "ka3d" / "benchmarks" / "never_ran.tsv").write_text(header)
    summary = bench_demo.read_results(tmp_path, cores=2)
    assert summary["n_jobs"] == 5
    assert summary["sum_of_job_times_s"] == pytest.approx(189.5) and summary["sum_of_cpu_times_s"] == pytest.approx(125.0)
    assert summary["per_rule_s"]["age"] == {"jobs": 2, "sum_s": 180.0, "max_s": 120.0, "cpu_s": 120.0}
    assert set(summary["per_rule_s"]) == {"age", "mobility", "figure_baselines", "findings"}
    text = records.wall_time_text(summary)
    assert text.startswith("5 jobs; summed job wall 3.2 min, summed job CPU 2.1 min (≈ 1.0 min on 2 idle cores)")
