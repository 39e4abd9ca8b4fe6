"""The demo DAG: per-rule wall times from Snakemake's ``benchmark:`` files of an existing results
directory (``<results>/<system>/benchmarks/**.tsv``, first column ``s``), and optionally the wall
time of a fresh full demo run in a temporary copy of the repository."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench_common import REPO

TARGET_S = 600.0


def rule_of(relative: Path) -> str:
    """Rule name from the benchmark path under ``benchmarks/`` (see workflow/rules/*.smk):
    ``age/run0_rep1.tsv`` → age, ``figures/x.tsv`` → figure_x, ``mobility.tsv`` → mobility."""
    parts = relative.parts
    if len(parts) == 1:
        return relative.stem
    if parts[0] == "figures":
        return f"figure_{relative.stem}"
    return parts[0]


def read_results(results: Path, cores: int = 2) -> dict:
    """Per-rule and total job wall time (column ``s``) and CPU time (``cpu_time``) of every
    benchmark file of a results directory — per system (``<results>/<system>/benchmarks/``) and
    run-wide (``<results>/benchmarks/``, e.g. the findings) — and the span from the first job's
    start to the last job's end (file mtimes)."""
    results = Path(results)
    files = sorted(results.glob("*/benchmarks/**/*.tsv")) + sorted(results.glob("benchmarks/**/*.tsv"))
    files = [f for f in files if len(f.read_text().strip().splitlines()) > 1]  # a header only: job never ran
    if not files:
        return {"results_dir": str(results), "error": f"no benchmark files under {results}/*/benchmarks/"}
    per_rule: dict[str, list[float]] = defaultdict(list)
    cpu_rule: dict[str, float] = defaultdict(float)
    per_system: dict[str, float] = defaultdict(float)
    starts, ends = [], []
    for path in files:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh, delimiter="\t") if r]
        seconds = sum(float(r[0]) for r in rows[1:])  # repeated benchmarks: one row each
        cpu_column = rows[0].index("cpu_time") if "cpu_time" in rows[0] else None
        relative = path.relative_to(results)
        system = relative.parts[0] if relative.parts[0] != "benchmarks" else "(run-wide)"
        below = relative.parts[relative.parts.index("benchmarks") + 1:]
        rule = rule_of(Path(*below))
        per_rule[rule].append(seconds)
        if cpu_column is not None:
            cpu_rule[rule] += sum(float(r[cpu_column]) for r in rows[1:])
        per_system[system] += seconds
        end = path.stat().st_mtime  # written when the job ends
        starts.append(end - seconds)
        ends.append(end)
    total = sum(sum(v) for v in per_rule.values())
    span = max(ends) - min(starts)
    return {
        "results_dir": str(results),
        "n_jobs": len(files),
        "per_rule_s": {k: {"jobs": len(v), "sum_s": round(sum(v), 3), "max_s": round(max(v), 3),
                           "cpu_s": round(cpu_rule[k], 3)}
                       for k, v in sorted(per_rule.items(), key=lambda kv: -sum(kv[1]))},
        "per_system_s": dict(per_system),
        "sum_of_job_times_s": total,
        "sum_of_cpu_times_s": sum(cpu_rule.values()),
        "ideal_wall_on_cores_s": total / cores,
        "cores_assumed": cores,
        "wall_span_from_file_times_s": span,
        "wall_span_note": "first job start (file mtime − s) to last job end; valid when every job came from one "
                          "snakemake invocation (a partial rerun shortens or lengthens it)",
    }


def run_demo(cores: int, log) -> dict:
    """``snakemake --cores <cores> --configfile config/demo.yaml`` in a temporary copy of the
    repository (the package itself is whatever the interpreter imports)."""
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="glasscam-demo-") as tmp:
        work = Path(tmp) / "repo"
        ignore = shutil.ignore_patterns(".git", ".snakemake", "results*", "benchmarks", "__pycache__", "*.egg-info")
        shutil.copytree(REPO, work, ignore=ignore)
        cmd = [snakemake, "--cores", str(cores), "--configfile", "config/demo.yaml"]
        log(f"demo: {' '.join(cmd)} in {work}")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - t0
        out = {"command": " ".join(cmd), "cores": cores, "wall_s": wall, "returncode": proc.returncode}
        if proc.returncode != 0:
            out["stderr_tail"] = proc.stderr[-3000:]
        else:
            out["from_benchmark_files"] = read_results(work / "results_demo", cores)
        return out


def run(results: Path | None, run_fresh: bool, cores: int, log) -> dict:
    out = {"target": f"demo DAG <= {TARGET_S:.0f} s on 2 cores"}
    if results is not None:
        out["existing"] = read_results(results, cores)
    if run_fresh:
        out["fresh_run"] = run_demo(cores, log)
    wall = None
    if run_fresh and out["fresh_run"].get("returncode") == 0:
        wall, source = out["fresh_run"]["wall_s"], "fresh run wall time"
    elif results is not None and "wall_span_from_file_times_s" in out.get("existing", {}):
        wall, source = out["existing"]["wall_span_from_file_times_s"], "span of the existing benchmark files"
    out["wall_s_judged"] = wall
    out["wall_source"] = source if wall is not None else "no demo results and no --run-demo"
    out["pass"] = None if wall is None else bool(wall <= TARGET_S)
    return out
