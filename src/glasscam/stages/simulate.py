"""Simulation stages of the DAG: one function per Snakemake rule, from config data to GSD files.

Every stage reads GSD, drives an engine through :mod:`glasscam.md.protocols`, and writes one GSD
trajectory atomically with a provenance record (config hash, seeds, engine, version, device).
Seeds derive from the root seed and (system, run, stage, replica) only, so any job rerun alone
reproduces its noise.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm import tqdm

from glasscam.core.schedule import frames_in_window, select_glass_frames
from glasscam.core.seeds import derive_seed, rng
from glasscam.core.systems import System, system_from_config
from glasscam.io.checkpoints import Checkpoint
from glasscam.io.gsd import read_provenance, read_state, read_states, write_states
from glasscam.io.provenance import config_hash, provenance
from glasscam.io.tables import file_sha256
from glasscam.md import protocols
from glasscam.md.engines import create_engine
from glasscam.md.engines.base import Thermostat

log = logging.getLogger(__name__)


def _thermostat(protocol_cfg: dict, temperature, seed: int) -> Thermostat:
    cfg = protocol_cfg["thermostat"]
    return Thermostat(kind=cfg["kind"], temperature=temperature, tau=float(cfg["tau"]), seed=seed)


def _record(config_section: dict, system: System, engine, **fields) -> dict:
    return provenance(config_section, system=system.name, **engine.describe(), **fields)


def _checkpoint(output: str, system: System, protocol_cfg: dict, initial: str, **fingerprint) -> Checkpoint:
    """Checkpoint beside ``output``; valid only for the same system, protocol, engine, seeds and
    initial configuration (by content)."""
    cfg = protocol_cfg.get("checkpoint", {})
    initial_digest = file_sha256(initial)
    return Checkpoint(
        output,
        fingerprint=config_hash(
            {"system": system.to_dict(), "protocol": protocol_cfg, "initial": initial_digest, **fingerprint}
        ),
        every_steps=int(round(float(cfg.get("interval", 10.0)) / system.dt)),
        min_wall_seconds=float(cfg.get("min_wall_seconds", 60.0)),
    )


def initialize(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int,
               engine_name: str, threads: int, output: str) -> None:
    """Jittered-lattice placement, overlap removal, FIRE and melting at ``state_points.melt_temperature``."""
    system = system_from_config(system_name, system_cfg)
    t_melt = float(system_cfg["state_points"]["melt_temperature"])
    seed = derive_seed(root_seed, system_name, "run", run, "initialize")
    with create_engine(engine_name, system, threads) as engine:
        engine.stage = f"initialize (run {run})"
        state = protocols.melt(
            engine,
            rng(seed),
            t_melt,
            float(protocol_cfg["melt_time"]),
            _thermostat(protocol_cfg, t_melt, derive_seed(seed, "thermostat")),
        )
        record = _record(
            {"system": system_cfg, "protocol": protocol_cfg}, system, engine,
            stage="initialize", run=run, replica=0, temperature=t_melt, seed=seed, root_seed=root_seed,
        )
    write_states(output, [state], record)
    log.info("melted %s run %d at T=%g → %s", system_name, run, t_melt, output)


def equilibrate_liquid(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int,
                       temperature: float, engine_name: str, threads: int, initial: str, output: str) -> None:
    """NVT at ``temperature`` from the melt, then decorrelated liquid samples (one per frame)."""
    system = system_from_config(system_name, system_cfg)
    seed = derive_seed(root_seed, system_name, "run", run, "liquid", f"{temperature:g}")
    state = read_state(initial, -1)
    state.velocities = protocols.maxwell_boltzmann(state.masses, temperature, system.dimensions, rng(seed))
    checkpoint = _checkpoint(output, system, protocol_cfg, initial, engine=engine_name, seed=seed)
    with create_engine(engine_name, system, threads) as engine:
        engine.stage = f"equilibrate_liquid (run {run}, T = {temperature:g})"
        states, logs = protocols.equilibrate_and_sample(
            engine,
            state,
            _thermostat(protocol_cfg, temperature, derive_seed(seed, "thermostat")),
            float(protocol_cfg["equilibration_time"]),
            int(protocol_cfg["liquid_samples"]),
            float(protocol_cfg["sample_interval"]),
            checkpoint,
        )
        record = _record(
            {"system": system_cfg, "protocol": protocol_cfg}, system, engine,
            stage="liquid", run=run, replica=0, temperature=temperature, seed=seed, root_seed=root_seed,
            input=str(initial),
        )
    write_states(output, states, record, logs)
    checkpoint.discard()


def quench(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int,
           engine_name: str, threads: int, liquid: str, output: str) -> None:
    """Quench the last liquid frame to ``state_points.glass_temperature``."""
    system = system_from_config(system_name, system_cfg)
    t_glass = float(system_cfg["state_points"]["glass_temperature"])
    t_liquid = float(read_provenance(liquid)["temperature"])
    seed = derive_seed(root_seed, system_name, "run", run, "quench")
    cfg = protocol_cfg["quench"]
    with create_engine(engine_name, system, threads) as engine:
        engine.stage = f"quench (run {run})"
        state, thermo = protocols.quench(
            engine,
            read_state(liquid, -1),
            _thermostat(protocol_cfg, (t_liquid, t_glass), derive_seed(seed, "thermostat")),
            float(cfg["duration"]),
            bool(cfg["minimize"]),
        )
        record = _record(
            {"system": system_cfg, "protocol": protocol_cfg}, system, engine,
            stage="quench", run=run, replica=0, temperature=t_glass, from_temperature=t_liquid,
            seed=seed, root_seed=root_seed, input=str(liquid),
        )
    write_states(output, [state], record, [thermo])


def _log_spaced_trajectory(system: System, system_cfg: dict, protocol_cfg: dict, schedule: str, stage: str,
                           temperature: float, seed: int, root_seed: int, run: int, replica: int, velocities,
                           engine_name: str, threads: int, initial: str, output: str, start_frame: int = -1,
                           **extra_record) -> None:
    """NVT at ``temperature`` from frame ``start_frame`` (default the last) of ``initial`` with
    ``velocities`` (None: its own), log-spaced frames per ``protocol_cfg[schedule]``,
    checkpointed, written with provenance (plus ``extra_record``)."""
    start = read_state(initial, start_frame)
    if velocities is not None:
        start.velocities = velocities(start)
    cfg = protocol_cfg[schedule]
    checkpoint = _checkpoint(output, system, protocol_cfg, initial, engine=engine_name, seed=seed,
                             **({"start_frame": int(start_frame)} if start_frame != -1 else {}))
    with create_engine(engine_name, system, threads) as engine:
        engine.stage = f"{'age' if schedule == 'aging' else schedule} (run {run}, replica {replica}, T = {temperature:g})"
        states, logs = protocols.log_spaced_run(
            engine,
            start,
            _thermostat(protocol_cfg, temperature, derive_seed(seed, "thermostat")),
            start.velocities,
            float(cfg["duration"]),
            int(cfg["frames_per_decade"]),
            checkpoint,
        )
        record = _record(
            {"system": system_cfg, "protocol": protocol_cfg}, system, engine,
            stage=stage, run=run, replica=replica, temperature=temperature, seed=seed, root_seed=root_seed,
            input=str(initial), **extra_record,
        )
    write_states(output, states, record, logs)
    checkpoint.discard()


def age(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int, replica: int,
        engine_name: str, threads: int, quenched: str, output: str) -> None:
    """Aging at T_G from the quenched configuration; replica r gets its own Maxwell–Boltzmann
    velocities (iso-configurational ensemble: same positions, different momenta)."""
    system = system_from_config(system_name, system_cfg)
    t_glass = float(system_cfg["state_points"]["glass_temperature"])
    seed = derive_seed(root_seed, system_name, "run", run, "aging", "replica", replica)

    def fresh_velocities(state):
        return protocols.maxwell_boltzmann(state.masses, t_glass, system.dimensions, rng(seed))

    _log_spaced_trajectory(system, system_cfg, protocol_cfg, "aging", "aging", t_glass, seed, root_seed, run, replica,
                           fresh_velocities, engine_name, threads, quenched, output)


def propensity_replicas(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int,
                        age: float, engine_name: str, threads: int, aging: str, outputs: list[str]) -> None:
    """Iso-configurational replicas launched at aging time t_w: from the frame of ``aging``
    (replica 0 of the run, whose frames are the analysis glass samples) nearest ``age``
    (:func:`glasscam.core.schedule.select_glass_frames`), each output replica r gets fresh
    Maxwell–Boltzmann velocities at T_G and runs ``protocol.propensity.duration`` τ at T_G with
    log-spaced frames (``frames_per_decade``). Their displacements give the propensity of the
    dynamics that follow t_w (Widmer-Cooper, Harrowell, Fynewever, PRL 93, 135701 (2004))."""
    system = system_from_config(system_name, system_cfg)
    t_glass = float(system_cfg["state_points"]["glass_temperature"])
    times = np.array([s.time for s in read_states(aging)])
    frame = select_glass_frames(times, [float(age)], aging)[0]
    for replica, output in enumerate(outputs):
        seed = derive_seed(root_seed, system_name, "run", run, "propensity", f"{float(age):g}", "replica", replica)

        def fresh_velocities(state, seed=seed):
            return protocols.maxwell_boltzmann(state.masses, t_glass, system.dimensions, rng(seed))

        log.info("run %d, t_w = %g τ (frame %d at t = %g τ): replica %d", run, age, frame, times[frame], replica)
        _log_spaced_trajectory(system, system_cfg, protocol_cfg, "propensity", "propensity", t_glass, seed, root_seed,
                               run, replica, fresh_velocities, engine_name, threads, aging, output, start_frame=frame,
                               requested_age=float(age), start_time=float(times[frame]), source_frame=int(frame))


def inherent_structures(*, system_name: str, system_cfg: dict, engine_name: str, threads: int, trajectory: str,
                        output: str, glass_ages: list[float] | None = None,
                        windows: list | None = None) -> None:
    """The inherent structure of every frame of ``trajectory`` (for aging runs: of the frames
    nearest ``glass_ages`` and of every frame in the age-task ``windows`` [t_from, t_to] (τ)),
    written with the source's provenance plus the minimizer's engine: the dataset's input for
    the null check against thermal-vibration cues."""
    system = system_from_config(system_name, system_cfg)
    source = read_provenance(trajectory)
    states = read_states(trajectory)
    frames = range(len(states))
    if glass_ages is not None and source["stage"] == "aging":
        times = np.array([s.time for s in states])
        chosen = set(select_glass_frames(times, glass_ages, trajectory))
        for window in windows or []:
            chosen.update(int(f) for f in frames_in_window(times, window))
        frames = sorted(chosen)
    minimized, logs = [], []
    with create_engine(engine_name, system, threads) as engine:
        engine.stage = f"inherent_structures ({trajectory})"
        for k in tqdm(frames, desc="inherent structures", unit="frame"):
            state, thermo = protocols.inherent_structure(engine, states[k])
            minimized.append(state)
            logs.append(thermo)
        record = {**source, **engine.describe(), "inherent_structure": True, "source_frames": list(map(int, frames)),
                  "input": str(trajectory)}
    write_states(output, minimized, record, logs)


def liquid_dynamics(*, system_name: str, system_cfg: dict, protocol_cfg: dict, root_seed: int, run: int,
                    temperature: float, engine_name: str, threads: int, liquid: str, output: str) -> None:
    """Equilibrium NVT dynamics at ``temperature`` from the last liquid sample (its own
    velocities), with log-spaced frames: the input of Fs(q*, t), τα(T) and D(T) of the liquids."""
    system = system_from_config(system_name, system_cfg)
    seed = derive_seed(root_seed, system_name, "run", run, "liquid_dynamics", f"{temperature:g}")
    _log_spaced_trajectory(system, system_cfg, protocol_cfg, "liquid_dynamics", "liquid_dynamics", temperature, seed,
                           root_seed, run, 0, None, engine_name, threads, liquid, output)
