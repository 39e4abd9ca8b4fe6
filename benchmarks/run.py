#!/usr/bin/env python
"""glasscam benchmark suite — one command, one JSON (+ one PNG).

    python benchmarks/run.py --out benchmarks/out/results.json            # full set
    python benchmarks/run.py --quick --out benchmarks/out/quick.json      # reduced set (~5 min, 2 cores)

A full run (every figure, not --quick) also writes a dated record, benchmarks/records/<date>-<host>.json
(see records.py: compare with the previous record, regenerate the performance table of docs/performance.md).

Options: --repeats (default 3), --only md,engine,voxelization,training,analysis,demo, --record,
--demo-results DIR (default results_demo, if present), --run-demo (fresh demo DAG in a temporary
copy), --cores (for the demo; default 2), --torch-threads (default 2).

Every figure records its raw repeats and medians; the JSON holds the machine (CPU model, cores,
memory, load average before/after), package versions (glasscam.io.provenance.package_versions), the
targets and a pass/fail per figure, and a paper-scale cost estimate from the measured costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # protocol progress bars would flood the log
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common  # noqa: E402

FIGURES = ("md", "engine", "voxelization", "training", "analysis", "demo")
# Published HOOMD-blue GPU throughput (DESIGN.md §4): 64 000 LJ particles, A100
HOOMD_A100_STEPS_PER_S = 4.4e3
HOOMD_A100_N = 64000
# ... and for a small system (hoomd-benchmarks docs, REFERENCES.md): 2048 WCA particles, one A100.
# A small run is latency-bound, so an N = 4096 run is taken to reach at most this step rate.
HOOMD_A100_SMALL_STEPS_PER_S = 1.6e4
HOOMD_A100_SMALL_N = 2048
GPU_JOBS_PER_DEVICE = (1, 2, 4, 5, 8)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def paper_md_work(paper: dict) -> dict:
    """Particle-steps of the paper-scale protocol (config.yaml) for the run_systems."""
    from glasscam.config import protocol_for

    out = {}
    for name in paper["run_systems"]:
        spec = paper["systems"][name]
        p = protocol_for(paper, name)
        dt, n = float(spec["dt"]), int(spec["N"])
        n_t = len(spec["state_points"]["liquid_temperatures"])
        liquid = float(p["equilibration_time"]) + (int(p["liquid_samples"]) - 1) * float(p["sample_interval"])
        aging = float(p["aging"]["duration"]) * int(p["aging"]["replicas"])
        quench = float(p["quench"]["duration"])
        per_run_tau = float(p["melt_time"]) + n_t * liquid + quench + aging
        steps_per_run = per_run_tau / dt
        ld = p.get("liquid_dynamics")  # equilibrium runs for τα(T), D(T): runs × duration per liquid T
        extra_tau = float(ld["runs"]) * float(ld["duration"]) * n_t if ld else 0.0
        out[name] = {
            "N": n, "dt": dt, "runs": int(p["runs"]), "liquid_temperatures": n_t,
            "tau_per_run": {"melt": float(p["melt_time"]), "liquid_per_T": liquid, "quench": quench,
                            "aging_all_replicas": aging, "total": per_run_tau},
            "steps_per_run": steps_per_run,
            "liquid_dynamics_tau": extra_tau,
            "particle_steps": steps_per_run * n * int(p["runs"]) + extra_tau / dt * n,
            "longest_job_particle_steps": max(liquid, float(p["aging"]["duration"])) / dt * n,
            "critical_path_particle_steps": (float(p["melt_time"]) + liquid + quench + float(p["aging"]["duration"])) / dt * n,
            "jobs": int(p["runs"]) * (1 + n_t + 1 + int(p["aging"]["replicas"])),
        }
    return out


def estimate(paper: dict, results: dict) -> dict:
    """Paper-scale MD cost on one GPU workstation and on a CPU cluster, arithmetic spelled out."""
    work = paper_md_work(paper)
    total = sum(w["particle_steps"] for w in work.values())
    gpu_rate = HOOMD_A100_STEPS_PER_S * HOOMD_A100_N
    out = {"work": work, "total_particle_steps": total,
           "gpu": {"rate_particle_steps_per_s": gpu_rate,
                   "source": f"published HOOMD-blue: {HOOMD_A100_STEPS_PER_S:g} steps/s at N = {HOOMD_A100_N} on an A100",
                   "hours": total / gpu_rate / 3600,
                   "runs_side_by_side_to_fill": HOOMD_A100_N / max(w["N"] for w in work.values()),
                   "arithmetic": f"{total:.3g} particle-steps / {gpu_rate:.3g} particle-steps/s = {total / gpu_rate:.3g} s"
                                 f" = {total / gpu_rate / 3600:.3g} h (upper bound on speed: small runs fill the GPU only when"
                                 f" ≈{HOOMD_A100_N / 4096:.0f} run side by side)"}}
    n_job = max(w["N"] for w in work.values())
    single = HOOMD_A100_SMALL_STEPS_PER_S * n_job  # one job, at most the small system's step rate
    shared = {}
    for k in GPU_JOBS_PER_DEVICE:
        rate = min(k * single, gpu_rate)
        shared[k] = {"rate_particle_steps_per_s": rate, "hours": total / rate / 3600,
                     "arithmetic": f"min({k} × {HOOMD_A100_SMALL_STEPS_PER_S:g} steps/s × {n_job}, {gpu_rate:.3g}) = {rate:.3g} "
                                   f"particle-steps/s; {total:.3g} / {rate:.3g} = {total / rate:.3g} s = {total / rate / 3600:.3g} h"}
    out["gpu"]["gpu_jobs_per_device"] = {
        "assumption": f"one N = {n_job} job runs at most at the published {HOOMD_A100_SMALL_N}-particle rate "
                      f"({HOOMD_A100_SMALL_STEPS_PER_S:g} steps/s, latency-bound); k jobs under CUDA MPS add up to at most "
                      f"the large-system throughput {gpu_rate:.3g} particle-steps/s; hours are lower bounds",
        "by_k": shared,
    }
    md = results.get("figures", {}).get("md", {})
    rows = [r for r in md.get("rows", []) if r["engine"] == "lammps" and r["N"] == 4000]
    if rows:
        per = {r["threads"]: r["bare_seconds_per_particle_step"] for r in rows}
        ratio = min(r["ratio_pipeline_over_bare"]["median"] for r in rows)
        core_rate = max(1 / (per[t] * t) for t in per)  # particle-steps/s per core, best thread count
        core_hours = total / core_rate / 3600
        longest = max(w["longest_job_particle_steps"] for w in work.values())
        critical = max(w["critical_path_particle_steps"] for w in work.values())
        threads2 = min(per, key=per.get)  # the faster thread count on this machine
        t2 = per[threads2]
        out["cpu_measured"] = {
            "lammps_seconds_per_particle_step_at_N4000": per,
            "particle_steps_per_s_per_core": core_rate,
            "core_hours": core_hours,
            "one_2core_machine_days": total * t2 / 86400,
            "cluster_critical_path_hours": critical * t2 / 3600,
            "cluster_longest_job_hours": longest * t2 / 3600,
            "jobs": sum(w["jobs"] for w in work.values()),
            "pipeline_over_bare_ratio_used": None,
            "arithmetic": (
                f"{total:.3g} particle-steps × {t2:.3g} s/particle-step ({threads2} threads) = {total * t2 / 86400:.3g} days "
                f"on one {threads2}-core machine; {total:.3g} / {core_rate:.3g} per core-s = {core_hours:.3g} core-hours; "
                f"a cluster running every job at once ({threads2} cores each) is bound by the critical path "
                f"melt → one liquid T → aging = {critical:.3g} particle-steps × {t2:.3g} s = {critical * t2 / 3600:.3g} h"
            ),
            "measured_worst_pipeline_ratio_at_N4000": ratio,
        }
    return out


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str, allow_nan=True))
    tmp.replace(out)


def make_plot(out_json: Path, png: Path) -> str:
    try:
        import matplotlib  # noqa: F401
        import plot  # noqa: F401

        plot.plot(json.loads(out_json.read_text()), png)
        return str(png)
    except ImportError:
        pass
    # matplotlib is not in this interpreter: try another python3 on PATH
    for candidate in dict.fromkeys(filter(None, [shutil.which("python3", path=os.pathsep.join(
            p for p in os.environ.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))), "/usr/bin/python3"])):
        proc = subprocess.run([candidate, str(Path(__file__).with_name("plot.py")), str(out_json), str(png)],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return f"{png} (drawn by {candidate})"
    return f"skipped: matplotlib not importable here; run `python benchmarks/plot.py {out_json} {png}` where it is"


def run_figure(name: str, args) -> int:
    """One figure, in this process (the parent runs each figure as a child)."""
    paper, demo = bench_common.load_configs()
    try:
        if name == "md":
            import bench_md

            fig = bench_md.run(paper, args.quick, args.repeats, log)
        elif name == "engine":
            import bench_engine

            fig = bench_engine.run(paper, args.quick, args.repeats, log)
        elif name == "voxelization":
            import bench_voxel

            fig = bench_voxel.run(args.quick, args.repeats, log)
        elif name == "training":
            import bench_learn

            fig = bench_learn.run({"demo": demo, "paper": paper}, args.quick, args.repeats, args.torch_threads, log)
        elif name == "analysis":
            import bench_analysis

            fig = bench_analysis.run(paper, args.quick, args.repeats, log)
        else:
            import bench_demo

            results_dir = args.demo_results
            if results_dir is None and (bench_common.REPO / demo["results"]).is_dir():
                results_dir = bench_common.REPO / demo["results"]
            fig = bench_demo.run(results_dir, args.run_demo, args.cores, log)
    except Exception as err:
        fig = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc(), "pass": None,
               "target": "(figure failed)"}
        log(f"{name} FAILED: {err}")
    write(fig, args.child_out)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/results.json"))
    parser.add_argument("--quick", action="store_true", help="reduced set (~5 min on 2 cores)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {FIGURES}")
    parser.add_argument("--demo-results", type=Path, default=None,
                        help="existing demo results dir (default: results_demo in the repository, if present)")
    parser.add_argument("--run-demo", action="store_true", help="also time a fresh demo DAG in a temporary copy")
    parser.add_argument("--cores", type=int, default=2, help="cores of the demo run (and of its ideal wall time)")
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record to benchmarks/records/ (automatic after a full run)")
    parser.add_argument("--child", choices=FIGURES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_figure(args.child, args)
    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(only) - set(FIGURES)
    if unknown:
        parser.error(f"--only: unknown figures {sorted(unknown)}; choose from {FIGURES}")
    if args.repeats < 1:
        parser.error("--repeats must be ≥ 1")

    paper, demo = bench_common.load_configs()
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {
        "command": command,
        "mode": "quick" if args.quick else "full",
        "repeats": args.repeats,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": bench_common.machine(),
        "versions": bench_common.versions(),
        "figures": {},
        "targets": {},
        "all_figures": set(only) == set(FIGURES),
    }
    from glasscam.md.engines import hoomd_available

    results["hoomd_importable"] = hoomd_available()
    t_start = time.perf_counter()
    for name in FIGURES:
        if name not in only:
            continue
        log(f"--- {name}")
        t0 = time.perf_counter()
        # each figure in its own process: thread pools (OpenMP of LAMMPS and torch, TBB of freud)
        # do not meet, and a crash costs one figure, not the run
        child_out = args.out.with_name(f".{args.out.stem}.{name}.json")
        child_out.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--child-out", str(child_out),
               "--repeats", str(args.repeats), "--cores", str(args.cores), "--torch-threads", str(args.torch_threads)]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--run-demo"] if args.run_demo else []
        cmd += ["--demo-results", str(args.demo_results)] if args.demo_results else []
        proc = subprocess.run(cmd)
        if proc.returncode == 0 and child_out.exists():
            fig = json.loads(child_out.read_text())
            child_out.unlink()
        else:
            fig = {"error": f"figure process exited with code {proc.returncode}", "pass": None, "target": "(figure failed)"}
            log(f"{name} FAILED (exit code {proc.returncode})")
        fig["wall_s"] = time.perf_counter() - t0
        fig["machine_loadavg_after"] = list(os.getloadavg())
        results["figures"][name] = fig
        results["targets"][name] = {"target": fig.get("target"), "pass": fig.get("pass")}
        write(results, args.out)
    results["paper_scale_estimate"] = estimate(paper, results)
    results["total_wall_s"] = time.perf_counter() - t_start
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    write(results, args.out)
    results["plot"] = make_plot(args.out, args.out.with_suffix(".png"))
    write(results, args.out)
    log(f"wrote {args.out} ({results['total_wall_s']:.0f} s); plot: {results['plot']}")
    if args.record or (not args.quick and set(only) == set(FIGURES)):
        import records

        path = records.write_record(records.record_from_results(results))
        log(f"record {path}: compare with `python benchmarks/records.py compare`, performance table with "
            f"`python benchmarks/records.py readme`")
    for name, t in results["targets"].items():
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        log(f"  {name:13s} {verdict}  {t['target']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
