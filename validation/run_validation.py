#!/usr/bin/env python
"""Validation numbers for glasscam's MD engines (issue 3, item 5).

One command measures, for Kob–Andersen 3D (``config.yaml`` ``systems.ka3d`` shrunk to N = 1000,
800:200, ρ = 1.2, dt = 0.005), through the package's own code paths (``glasscam.md.engines``,
``glasscam.md.protocols``, ``glasscam.analysis.relaxation``):

1. NVE energy drift per particle per τ and the RMS fluctuation of E/N (T = 0.8), per engine;
2. the mean kinetic temperature of NVT runs against the target (Nosé–Hoover and Bussi, T = 1.0),
   with a block-averaging error, per engine;
3. the mean PE/N and pressure at T = 1.0 of the two engines, their difference in units of the
   combined σ (block averaging), and the values seen before (PE/N ≈ −6.00, P ≈ 10.0);
4. τα(T) from Fs(q*, t) = 1/e of the A particles at the liquid temperatures (0.8, 0.6, 0.5).

Usage::

    PYTHONPATH=/opt/hoomd-build python validation/run_validation.py [--quick] \
        [--engines lammps hoomd] [--tau-engines lammps] [--out validation/results.json]

Everything lands in one JSON file (machine, versions, parameters, per-check summaries and the
raw series they came from). Progress goes to stderr (tqdm).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import linregress

REPO = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------------------------
# Parameters (times in τ)
# ----------------------------------------------------------------------------------------------
COMPOSITION = {"A": 800, "B": 200}
LITERATURE = {
    "pe_per_particle": {"value": -6.00, "source": "seen here before (DESIGN.md §3.2: LAMMPS and HOOMD, N = 1000, T = 1.0)"},
    "pressure": {"value": 10.0, "source": "seen here before (DESIGN.md §3.2: LAMMPS and HOOMD, N = 1000, T = 1.0); "
                                          "Pedersen et al., PRL 120, 165501 (2018) put KA at ρ = 1.2, T = 1.028 "
                                          "at P = 10.19"},
    "q_star": {"value": [7.2, 7.3], "source": "first peak of S(q) of KA 3D (Kob & Andersen 1995 use q = 7.25 for A)"},
    "tau_alpha": {
        "values": {"0.8": [2.0, 3.0], "0.6": [20.0, 30.0], "0.5": [200.0, 400.0]},
        "source": "approximate ranges quoted in issue 3 for KA 3D at ρ = 1.2, Fs(q ≈ 7.25, t) = 1/e of the "
                  "A particles; not checked against a specific table; definition-, N- and "
                  "thermostat-dependent",
    },
}

FULL = {
    "melt_temperature": 2.0, "melt_time": 20.0, "thermostat_tau": 0.5,
    "nvt": {"temperature": 1.0, "equilibration_time": 20.0, "production_time": 200.0, "sample_interval": 0.5},
    "nve": {"temperature": 0.8, "equilibration_time": 20.0, "duration": 200.0, "sample_interval": 1.0},
    # per temperature: equilibration (≥ several τα), then n_blocks log-spaced blocks of block_time
    "tau_alpha": {
        "frames_per_decade": 10,
        "schedule": {0.8: {"equilibration_time": 50.0, "block_time": 25.0, "n_blocks": 8},
                     0.6: {"equilibration_time": 300.0, "block_time": 150.0, "n_blocks": 4},
                     0.5: {"equilibration_time": 1500.0, "block_time": 1000.0, "n_blocks": 2}},
    },
}
QUICK = {
    "melt_temperature": 2.0, "melt_time": 10.0, "thermostat_tau": 0.5,
    "nvt": {"temperature": 1.0, "equilibration_time": 20.0, "production_time": 60.0, "sample_interval": 0.5},
    "nve": {"temperature": 0.8, "equilibration_time": 10.0, "duration": 50.0, "sample_interval": 1.0},
    "tau_alpha": {
        "frames_per_decade": 8,
        "schedule": {0.8: {"equilibration_time": 30.0, "block_time": 20.0, "n_blocks": 4},
                     0.6: {"equilibration_time": 150.0, "block_time": 120.0, "n_blocks": 2}},
    },
}
CRITERIA = {
    "nve_drift_max": 1.0e-4,          # |dE/dt| per particle, ε/τ
    "temperature_tolerance": 0.01,    # |<T_kin> − T| / T
    "parity_sigmas": 3.0,             # |Δ| ≤ 3 σ_combined
}


# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------
def block_average(x, min_blocks: int = 16) -> dict:
    """Mean of a correlated series with its standard error from Flyvbjerg–Petersen blocking
    (pairwise block averages, halving the series at each level). The error is the largest
    estimate over the levels with ≥ ``min_blocks`` blocks (the plateau, conservatively);
    statistical inefficiency g = n σ_mean² / var(x) (samples per independent sample)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    mean, var = float(x.mean()), float(x.var(ddof=1)) if n > 1 else float("nan")
    levels, y = [], x.copy()
    while len(y) >= min_blocks:
        m = len(y)
        sem = math.sqrt(y.var(ddof=1) / m)
        levels.append({"block_size": n // m, "n_blocks": m, "sem": sem, "sem_error": sem / math.sqrt(2 * (m - 1))})
        y = 0.5 * (y[: m - m % 2][0::2] + y[: m - m % 2][1::2])
    sem = max((lv["sem"] for lv in levels), default=math.sqrt(var / n) if n > 1 else float("nan"))
    return {"mean": mean, "std": math.sqrt(var) if n > 1 else float("nan"), "sem": sem, "n": n,
            "statistical_inefficiency": n * sem**2 / var if var and var > 0 else float("nan"),
            "blocking": levels}


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"hostname": platform.node(), "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg())}


def clean(obj):
    """JSON-safe: NaN/inf → None, numpy → Python, tuple keys → strings."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# ----------------------------------------------------------------------------------------------
# Simulation helpers (package code paths only)
# ----------------------------------------------------------------------------------------------
def ka3d_system():
    from glasscam.config import load_yaml
    from glasscam.core.systems import system_from_config

    config = load_yaml(REPO / "config.yaml")
    spec = dict(config["systems"]["ka3d"])
    spec["composition"] = dict(COMPOSITION)
    spec["N"] = sum(COMPOSITION.values())
    return config, spec, system_from_config("ka3d", spec)


def melted(engine, root_seed: int, params: dict, label: str):
    from glasscam.core.seeds import derive_seed, rng
    from glasscam.md import protocols
    from glasscam.md.engines.base import Thermostat

    thermostat = Thermostat("nose_hoover", params["melt_temperature"], params["thermostat_tau"],
                            derive_seed(root_seed, "validation", label, "melt", "thermostat"))
    return protocols.melt(engine, rng(root_seed, "validation", label, "melt"), params["melt_temperature"],
                          params["melt_time"], thermostat)


def series(logs: list[dict], key: str) -> np.ndarray:
    return np.array([float(np.asarray(log[f"glasscam/{key}"]).ravel()[0]) for log in logs])


def engine_checks(engine_name: str, params: dict, root_seed: int, threads: int) -> dict:
    """Checks 1–3 for one engine: NVT at T = 1.0 with each thermostat (T_kin, PE/N, P), then NVE
    from an NVT-equilibrated state at T = 0.8 (energy drift)."""
    from glasscam.core.seeds import derive_seed
    from glasscam.md import protocols
    from glasscam.md.engines import create_engine
    from glasscam.md.engines.base import Thermostat

    _, _, system = ka3d_system()
    n = system.n_particles
    out = {"engine": engine_name, "nvt": {}, "nve": None}
    wall0 = time.perf_counter()
    with create_engine(engine_name, system, threads) as engine:
        out.update(engine.describe())
        nvt = params["nvt"]
        # instantaneous quench of the melt to the NVT temperature (velocities rescaled, as the
        # pipeline's ``protocols.quench``): a single Nosé–Hoover thermostat started 1 ε/particle
        # of kinetic energy away from its target rings for tens of τ
        start, _ = protocols.quench(engine, melted(engine, root_seed, params, engine_name),
                                    Thermostat("nose_hoover", nvt["temperature"], params["thermostat_tau"]), 0.0, False)
        last_nh = None
        for kind in ("nose_hoover", "bussi"):
            t0 = time.perf_counter()
            thermostat = Thermostat(kind, nvt["temperature"], params["thermostat_tau"],
                                    derive_seed(root_seed, "validation", engine_name, "nvt", kind))
            n_samples = int(round(nvt["production_time"] / nvt["sample_interval"])) + 1
            states, logs = protocols.equilibrate_and_sample(engine, start, thermostat, nvt["equilibration_time"],
                                                            n_samples, nvt["sample_interval"])
            wall = time.perf_counter() - t0
            steps = int(round((nvt["equilibration_time"] + nvt["production_time"]) / system.dt))
            t_kin = series(logs, "kinetic_temperature")
            pe = series(logs, "potential_energy") / n
            pressure = series(logs, "pressure")
            out["nvt"][kind] = {
                "temperature_target": nvt["temperature"], "tau": params["thermostat_tau"], "seed": thermostat.seed,
                "time": [s.time for s in states],
                "kinetic_temperature": block_average(t_kin),
                "pe_per_particle": block_average(pe),
                "pressure": block_average(pressure),
                "series": {"kinetic_temperature": t_kin, "pe_per_particle": pe, "pressure": pressure},
                "wall_seconds": wall, "steps_per_second": steps / wall,
            }
            if kind == "nose_hoover":
                last_nh = states[-1]
        # 1. NVE: NVT-equilibrate at T = 0.8 from the T = 1.0 liquid, then switch the thermostat off
        nve = params["nve"]
        t0 = time.perf_counter()
        thermostat = Thermostat("nose_hoover", nve["temperature"], params["thermostat_tau"],
                                derive_seed(root_seed, "validation", engine_name, "nve", "equilibrate"))
        cooled, _ = protocols.quench(engine, last_nh, thermostat, 0.0, False)
        protocols.equilibrate_and_sample(engine, cooled, thermostat, nve["equilibration_time"], 1, 1.0)
        engine.set_thermostat(None)
        interval = int(round(nve["sample_interval"] / system.dt))
        n_frames = int(round(nve["duration"] / nve["sample_interval"])) + 1
        recorder = protocols.Recorder(engine, nve["temperature"], f"{engine_name} NVE T={nve['temperature']:g}")
        states, logs = recorder.record(np.arange(n_frames) * interval)
        wall = time.perf_counter() - t0
        t = np.array([s.time for s in states])
        t = t - t[0]
        kinetic = np.array([0.5 * float((s.masses[:, None] * s.velocities**2).sum()) for s in states]) / n
        potential = series(logs, "potential_energy") / n
        total = kinetic + potential
        fit = linregress(t, total)
        residual = total - (fit.intercept + fit.slope * t)
        momentum = np.array([np.abs((s.masses[:, None] * s.velocities).sum(axis=0)).max() for s in states])
        out["nve"] = {
            "temperature_start": nve["temperature"], "duration": nve["duration"], "dt": system.dt,
            "equilibration_time_nvt": nve["equilibration_time"],
            "drift_per_particle_per_tau": fit.slope, "drift_stderr": fit.stderr,
            "total_energy_change_per_particle": float(total[-1] - total[0]),
            "rms_fluctuation_per_particle": float(total.std(ddof=1)),
            "rms_residual_about_fit_per_particle": float(residual.std(ddof=1)),
            "rms_kinetic_fluctuation_per_particle": float(kinetic.std(ddof=1)),
            "fluctuation_ratio_total_over_kinetic": float(total.std(ddof=1) / kinetic.std(ddof=1)),
            "mean_kinetic_temperature": float(np.mean(series(logs, "kinetic_temperature"))),
            "max_abs_total_momentum": float(momentum.max()),
            "pass": bool(abs(fit.slope) < CRITERIA["nve_drift_max"]),
            "criterion": f"|drift| < {CRITERIA['nve_drift_max']:g} ε per particle per τ",
            "series": {"time": t, "total_energy_per_particle": total, "potential_energy_per_particle": potential,
                       "kinetic_energy_per_particle": kinetic},
            "wall_seconds": wall,
        }
    out["wall_seconds"] = time.perf_counter() - wall0
    return out


def tau_alpha_run(engine_name: str, params: dict, root_seed: int, threads: int) -> dict:
    """4. τα(T): melt, then for T = 0.8 → 0.6 → 0.5 (each from the previous temperature's last
    state): NVT equilibration, then ``n_blocks`` back-to-back log-spaced blocks; Fs(q*, t) of the
    A particles averaged over the blocks (one time origin per block), τα from Fs = 1/e."""
    from glasscam.analysis import relaxation as dynamics
    from glasscam.core.seeds import derive_seed
    from glasscam.md import protocols
    from glasscam.md.engines import create_engine
    from glasscam.md.engines.base import Thermostat

    _, _, system = ka3d_system()
    cfg = params["tau_alpha"]
    out = {"engine": engine_name, "temperatures": []}
    wall0 = time.perf_counter()
    with create_engine(engine_name, system, threads) as engine:
        out.update(engine.describe())
        state = melted(engine, root_seed, params, f"{engine_name}-tau")
        for temperature, sched in sorted(cfg["schedule"].items(), reverse=True):
            t0 = time.perf_counter()
            thermostat = Thermostat("nose_hoover", temperature, params["thermostat_tau"],
                                    derive_seed(root_seed, "validation", engine_name, "tau_alpha", f"{temperature:g}"))
            # instantaneous quench from the previous T, equilibration (one frame at its end), then
            # the production blocks from there
            state, _ = protocols.quench(engine, state, thermostat, 0.0, False)
            (eq_state,), eq_logs = protocols.equilibrate_and_sample(engine, state, thermostat,
                                                                    sched["equilibration_time"], 1, 1.0)
            block_steps = int(round(sched["block_time"] / system.dt))
            block = protocols.log_spaced_steps(block_steps, cfg["frames_per_decade"])
            steps = np.unique(np.concatenate([b * block_steps + block for b in range(sched["n_blocks"])]))
            recorder = protocols.Recorder(engine, temperature, f"{engine_name} τα T={temperature:g}")
            states, logs = recorder.record(steps)
            state = states[-1]
            wall = time.perf_counter() - t0
            # S(q) and q* of all particles (as the pipeline), from frames spread over the run
            picks = sorted({int(i) for i in np.linspace(0, len(states) - 1, 8).round()})
            k, s_k = dynamics.structure_factor([states[i] for i in picks])
            q_star = dynamics.first_peak(k, s_k)
            masks = {"A": states[0].typeid == 0, "B": states[0].typeid == 1}
            per_block = {"fs": [], "fs_q7.25": [], "msd": []}
            block_taus = []
            for b in range(sched["n_blocks"]):
                index = [int(np.searchsorted(steps, b * block_steps + s)) for s in block]
                disp = dynamics.displacements([states[i] for i in index])
                disp_a = disp[:, masks["A"]]
                fs = dynamics.self_intermediate_scattering(disp_a, q_star)
                per_block["fs"].append(fs)
                per_block["fs_q7.25"].append(dynamics.self_intermediate_scattering(disp_a, 7.25))
                per_block["msd"].append(dynamics.mean_squared_displacement(disp_a))
                block_taus.append(dynamics.relaxation_time(block * system.dt, fs))
            times = block * system.dt
            fs = np.mean(per_block["fs"], axis=0)
            fs725 = np.mean(per_block["fs_q7.25"], axis=0)
            msd = np.mean(per_block["msd"], axis=0)
            tau = dynamics.relaxation_time(times, fs)
            taus = np.array(block_taus, dtype=float)
            finite = taus[np.isfinite(taus)]
            lit = LITERATURE["tau_alpha"]["values"].get(f"{temperature:g}")
            diffusion = dynamics.diffusion_coefficient(times, msd, 3)
            out["temperatures"].append({
                "temperature": temperature, **sched,
                "q_star": q_star, "k": k, "S_k": s_k,
                "tau_alpha": tau,
                "tau_alpha_q7.25": dynamics.relaxation_time(times, fs725),
                "tau_alpha_per_block": taus,
                "tau_alpha_sem_blocks": float(finite.std(ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else float("nan"),
                "equilibration_over_tau_alpha": sched["equilibration_time"] / tau if tau > 0 else float("nan"),
                "block_over_tau_alpha": sched["block_time"] / tau if tau > 0 else float("nan"),
                "literature_range": lit,
                "within_literature_range": None if lit is None or not math.isfinite(tau) else bool(lit[0] <= tau <= lit[1]),
                "D_A": diffusion["D"], "D_A_err": diffusion["D_err"],
                "mean_kinetic_temperature": block_average(series(logs, "kinetic_temperature")),
                "mean_pe_per_particle": block_average(series(logs, "potential_energy") / system.n_particles),
                "equilibration_end_pe_per_particle": float(series(eq_logs, "potential_energy")[0] / system.n_particles),
                "series": {"time": times, "fs_A": fs, "fs_A_q7.25": fs725, "msd_A": msd},
                "wall_seconds": wall,
                "steps_per_second": (int(round(sched["equilibration_time"] / system.dt)) + int(steps[-1])) / wall,
            })
            print(f"[{engine_name}] T={temperature:g}: q*={q_star:.3f} τα={tau:.4g} "
                  f"(blocks {np.array2string(taus, precision=3)}) wall {wall:.0f}s", file=sys.stderr, flush=True)
    out["wall_seconds"] = time.perf_counter() - wall0
    return out


def _task(kind: str, engine_name: str, params: dict, root_seed: int, threads: int, pythonpath: str | None) -> dict:
    if pythonpath:
        for p in reversed(pythonpath.split(os.pathsep)):
            if p and p not in sys.path:
                sys.path.insert(0, p)
    fn = engine_checks if kind == "checks" else tau_alpha_run
    return fn(engine_name, params, root_seed, threads)


# ----------------------------------------------------------------------------------------------
# Comparisons
# ----------------------------------------------------------------------------------------------
def summarize(checks: dict[str, dict], taus: dict[str, dict]) -> dict:
    summary = {"nve_energy_drift": {}, "nvt_temperature": {}, "parity": {}, "literature": {}, "tau_alpha": {}}
    for name, res in checks.items():
        nve = res["nve"]
        summary["nve_energy_drift"][name] = {k: nve[k] for k in (
            "drift_per_particle_per_tau", "drift_stderr", "rms_fluctuation_per_particle",
            "rms_residual_about_fit_per_particle", "fluctuation_ratio_total_over_kinetic", "pass")}
        for kind, run in res["nvt"].items():
            tk, target = run["kinetic_temperature"], run["temperature_target"]
            rel = (tk["mean"] - target) / target
            summary["nvt_temperature"][f"{name}/{kind}"] = {
                "target": target, "mean": tk["mean"], "sem": tk["sem"], "relative_deviation": rel,
                "deviation_in_sem": (tk["mean"] - target) / tk["sem"] if tk["sem"] else float("nan"),
                "pass": bool(abs(rel) < CRITERIA["temperature_tolerance"]),
            }
            for key in ("pe_per_particle", "pressure"):
                lit = LITERATURE[key]["value"]
                summary["literature"].setdefault(key, {"reference": lit, "source": LITERATURE[key]["source"]})
                summary["literature"][key][f"{name}/{kind}"] = {"mean": run[key]["mean"], "sem": run[key]["sem"],
                                                                "difference": run[key]["mean"] - lit}
    names = sorted(checks)
    if len(names) >= 2:
        a, b = names[:2]
        for kind in ("nose_hoover", "bussi", "pooled"):
            for key in ("pe_per_particle", "pressure"):
                if kind == "pooled":
                    # both thermostats sample the same ensemble: inverse-variance mean per engine
                    def pooled(res):
                        ms = [res["nvt"][k][key] for k in ("nose_hoover", "bussi")]
                        w = np.array([1 / m["sem"] ** 2 for m in ms])
                        return float(np.dot(w, [m["mean"] for m in ms]) / w.sum()), float(1 / math.sqrt(w.sum()))
                    (ma, sa), (mb, sb) = pooled(checks[a]), pooled(checks[b])
                else:
                    ma, sa = checks[a]["nvt"][kind][key]["mean"], checks[a]["nvt"][kind][key]["sem"]
                    mb, sb = checks[b]["nvt"][kind][key]["mean"], checks[b]["nvt"][kind][key]["sem"]
                sigma = math.sqrt(sa**2 + sb**2)
                diff = ma - mb
                summary["parity"][f"{kind}/{key}"] = {
                    a: {"mean": ma, "sem": sa}, b: {"mean": mb, "sem": sb},
                    "difference": diff, "combined_sigma": sigma, "difference_in_sigma": diff / sigma,
                    "pass": bool(abs(diff) <= CRITERIA["parity_sigmas"] * sigma),
                }
    for name, res in taus.items():
        summary["tau_alpha"][name] = [
            {k: t[k] for k in ("temperature", "q_star", "tau_alpha", "tau_alpha_q7.25", "tau_alpha_sem_blocks",
                               "equilibration_over_tau_alpha", "literature_range", "within_literature_range", "D_A")}
            for t in res["temperatures"]
        ]
    return summary


def main(argv=None) -> int:
    from glasscam.config import load_yaml
    from glasscam.io.provenance import package_versions
    from glasscam.md.engines import hoomd_available
    from glasscam.md.engines.lammps_engine import lammps_available

    available = [e for e, ok in (("lammps", lammps_available()), ("hoomd", hoomd_available())) if ok]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", choices=["lammps", "hoomd"], default=available,
                        help=f"engines for checks 1–3 (default: all importable = {available})")
    parser.add_argument("--tau-engines", nargs="*", choices=["lammps", "hoomd"], default=None,
                        help="engines for τα(T) (default: lammps if importable, else the first of --engines)")
    parser.add_argument("--quick", action="store_true", help="reduced run (shorter runs; τα at 0.8 and 0.6 only)")
    parser.add_argument("--out", default=str(REPO / "validation" / "results.json"))
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="concurrent engine runs (processes); default min(2, CPUs)")
    parser.add_argument("--threads", type=int, default=1, help="threads per engine (LAMMPS OpenMP)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (default: config.yaml seed)")
    args = parser.parse_args(argv)
    missing = sorted(set(args.engines) - set(available))
    if missing:
        parser.error(f"engines {missing} are not importable here (available: {available})")
    tau_engines = args.tau_engines
    if tau_engines is None:
        tau_engines = ["lammps"] if "lammps" in available else args.engines[:1]
    params = QUICK if args.quick else FULL
    config = load_yaml(REPO / "config.yaml")
    root_seed = int(args.seed if args.seed is not None else config["seed"])

    wall0 = time.perf_counter()
    machine_start = machine()
    tasks = [("tau", e) for e in tau_engines] + [("checks", e) for e in sorted(args.engines, key=lambda e: e != "hoomd")]
    ctx = mp.get_context("spawn")
    pythonpath = os.environ.get("PYTHONPATH")
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
        futures = {(k, e): pool.submit(_task, k, e, params, root_seed, args.threads, pythonpath) for k, e in tasks}
        results = {key: f.result() for key, f in futures.items()}
    checks = {e: r for (k, e), r in results.items() if k == "checks"}
    taus = {e: r for (k, e), r in results.items() if k == "tau"}
    _, spec, system = ka3d_system()
    record = {
        "command": " ".join([os.path.relpath(sys.argv[0], REPO) if argv is None else "run_validation.py", *(argv or sys.argv[1:])]),
        "mode": "quick" if args.quick else "full",
        "wall_seconds": time.perf_counter() - wall0,
        "machine": {"start": machine_start, "end_load_average": list(os.getloadavg()), "jobs": args.jobs,
                    "threads_per_engine": args.threads},
        "versions": {**package_versions(), **{f"engine:{r['engine']}": r["engine_version"] for r in results.values()}},
        "parameters": {"system": system.to_dict(), "source": spec["source"], "N": system.n_particles,
                       "box_length": system.box_length, "root_seed": root_seed, "protocol": params,
                       "criteria": CRITERIA, "literature": LITERATURE},
        "summary": summarize(checks, taus),
        "checks": checks,
        "tau_alpha": taus,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(clean(record), indent=1))
    print(json.dumps(clean(record["summary"]), indent=1), file=sys.stderr)
    print(f"wrote {out} in {record['wall_seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
