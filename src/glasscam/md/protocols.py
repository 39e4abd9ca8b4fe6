"""Simulation protocols shared by every engine: placement, melting, liquid sampling, quench, aging.

Each protocol takes an :class:`~glasscam.md.engines.base.Engine`, drives it, checks it for blow-ups
after every segment, and returns :class:`~glasscam.core.state.State` frames with their logs. File
output is the caller's (``write_states`` is atomic).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from tqdm import tqdm

from glasscam.core.hamiltonian import pressure
from glasscam.core.keys import per_particle_key
from glasscam.core.periodic import wrap
from glasscam.core.schedule import log_spaced_steps
from glasscam.core.state import State
from glasscam.core.systems import System
from glasscam.errors import SimulationBlowUp  # noqa: F401 (re-exported)
from glasscam.md.engines.base import Engine, Thermostat  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

MAX_ENERGY_PER_PARTICLE = 1.0e3  # ε; beyond this a run has exploded


def lattice_state(system: System, rng: np.random.Generator, jitter: float = 0.1) -> State:
    """N of the m^d sites of a simple cubic/square lattice (m = ⌈N^{1/d}⌉, spacing a = L/m), chosen
    in random order (so species sit at random sites; particles stay ordered A first), each
    displaced uniformly by up to ``jitter`` a per axis; zero velocities. No two particles come closer than (1 − 2 jitter) a, so the first force
    evaluation is finite whatever the seed; melting erases the lattice."""
    n, d, L = system.n_particles, system.dimensions, system.box_length
    m = int(np.ceil(n ** (1.0 / d)))
    spacing = L / m
    sites = rng.choice(m**d, size=n, replace=False)
    grid = np.stack(np.unravel_index(sites, (m,) * d), axis=1)
    positions = np.zeros((n, 3))
    positions[:, :d] = (grid + 0.5 + rng.uniform(-jitter, jitter, size=(n, d))) * spacing - L / 2
    positions, images = wrap(positions, L, d)
    return State(positions, images, np.zeros((n, 3)), system.typeids(), system.types, system.mass_array(), L, d)


def maxwell_boltzmann(masses: np.ndarray, temperature: float, dimensions: int, rng: np.random.Generator) -> np.ndarray:
    """Velocities v ~ N(0, k_B T / m) with zero total momentum, rescaled so that
    Σ m v² / (d (N − 1)) = T exactly."""
    n = len(masses)
    v = np.zeros((n, 3))
    v[:, :dimensions] = rng.normal(size=(n, dimensions)) * np.sqrt(temperature / masses)[:, None]
    v -= (masses[:, None] * v).sum(axis=0) / masses.sum()
    current = kinetic_temperature(v, masses, dimensions)
    return v * np.sqrt(temperature / current)


def kinetic_temperature(velocities: np.ndarray, masses: np.ndarray, dimensions: int) -> float:
    """T = Σ m v² / (d (N − 1)) (centre-of-mass momentum removed)."""
    return float((masses[:, None] * velocities**2).sum() / (dimensions * (len(masses) - 1)))


def check_engine_state(engine: Engine, state: State, where: str) -> None:
    """Raise :class:`SimulationBlowUp` (stage, ``where``, step, time, dt, hint) on NaN/inf or
    lost particles."""
    n = engine.system.n_particles
    if len(state.positions) != n:
        raise engine.blow_up(f"{len(state.positions)} of {n} particles left", where, step=state.step)
    if not (np.isfinite(state.positions).all() and np.isfinite(state.velocities).all()):
        raise engine.blow_up("non-finite positions or velocities", where, step=state.step)


def thermo_log(engine: Engine, state: State, temperature_target: float) -> dict:
    """Per-frame observables: total PE, kinetic T, pressure, and per-particle PE."""
    system = engine.system
    evaluation = engine.evaluate()
    t_kin = kinetic_temperature(state.velocities, state.masses, system.dimensions)
    pe_per_particle = evaluation.potential_energy / system.n_particles
    if not np.isfinite(pe_per_particle) or pe_per_particle > MAX_ENERGY_PER_PARTICLE:
        raise engine.blow_up(f"potential energy per particle {pe_per_particle:.4g} ε (limit {MAX_ENERGY_PER_PARTICLE:g})",
                             step=state.step)
    return {
        "glasscam/temperature_target": np.array([temperature_target]),
        "glasscam/kinetic_temperature": np.array([t_kin]),
        "glasscam/potential_energy": np.array([evaluation.potential_energy]),
        "glasscam/pressure": np.array([pressure(system, evaluation.virial, t_kin)]),
        per_particle_key("potential_energy"): evaluation.energies.astype(np.float32),
    }


class CheckpointStore(Protocol):
    """Where a :class:`Recorder` keeps resumable progress (:class:`glasscam.io.checkpoints.Checkpoint`
    on disk): ``load()`` the saved payload or None; ``save(engine, states, logs, start, force)``
    at a boundary; boundaries fall on multiples of ``every_steps``."""

    every_steps: int

    def load(self) -> dict | None: ...

    def save(self, engine: Engine, states: list[State], logs: list[dict], start: int, force: bool = False) -> None: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Recorder:
    """Runs an engine to a list of target steps (relative to the start), recording a frame and its
    log at each; with a :class:`Checkpoint`, resumes a killed run where it stopped."""

    engine: Engine
    temperature_target: float
    label: str
    checkpoint: CheckpointStore | None = None

    def record(self, steps: np.ndarray) -> tuple[list[State], list[dict]]:
        engine, checkpoint = self.engine, self.checkpoint
        saved = checkpoint.load() if checkpoint is not None else None
        if saved is not None:
            engine.restore(saved["engine"])
            states, logs, start = saved["states"], saved["logs"], saved["start"]
        else:
            states, logs, start = [], [], engine.state().step
        current = engine.state().step
        for target in tqdm(steps[len(states):], desc=self.label, unit="frame", mininterval=5.0,
                           initial=len(states), total=len(steps)):
            goal = start + int(target)
            while current < goal:
                boundary = goal
                if checkpoint is not None:
                    boundary = min(goal, (current // checkpoint.every_steps + 1) * checkpoint.every_steps)
                engine.run(boundary - current)
                current = boundary
                if checkpoint is not None and current < goal:
                    checkpoint.save(engine, states, logs, start)
            state = engine.state()
            check_engine_state(engine, state, f"{self.label} step {current}")
            states.append(state)
            logs.append(thermo_log(engine, state, self.temperature_target))
            if checkpoint is not None:
                checkpoint.save(engine, states, logs, start)
        return states, logs


def remove_overlaps(engine: Engine, state: State, max_steps: int = 500, max_displacement: float = 0.05,
                    force_target: float = 50.0) -> State:
    """Capped steepest descent, the same in every engine: each particle moves along its force by
    min(max_displacement, γ|F_i|) with γ = max_displacement / force_target, until max_i |F_i| ≤
    force_target (ε/σ) or ``max_steps``. Leaves no overlaps for FIRE to explode on."""
    system = engine.system
    state = state.copy()
    gamma = max_displacement / force_target
    for _ in range(max_steps):
        engine.load(state)
        forces = engine.evaluate().forces
        magnitude = np.linalg.norm(forces, axis=1)
        if magnitude.max() <= force_target:
            break
        step = np.minimum(max_displacement, gamma * magnitude) / np.maximum(magnitude, 1e-300)
        state.positions, shift = wrap(state.positions + forces * step[:, None], system.box_length, system.dimensions)
        state.images = state.images + shift
    engine.load(state)
    return state


def melt(engine: Engine, rng: np.random.Generator, temperature: float, duration: float,
         thermostat: Thermostat) -> State:
    """Jittered-lattice placement → capped steepest descent → FIRE → NVT at the melt T."""
    system = engine.system
    remove_overlaps(engine, lattice_state(system, rng))
    engine.minimize(force_tolerance=1e-2, max_steps=5000)
    check_engine_state(engine, engine.state(), "melt: FIRE from the lattice")
    state = engine.state()
    state.velocities = maxwell_boltzmann(state.masses, temperature, system.dimensions, rng)
    state.step, state.time = 0, 0.0
    engine.load(state)
    engine.set_thermostat(thermostat)
    engine.run(int(round(duration / system.dt)))
    state = engine.state()
    check_engine_state(engine, state, "melt: NVT")
    thermo_log(engine, state, temperature)
    return state


def equilibrate_and_sample(engine: Engine, state: State, thermostat: Thermostat, equilibration_time: float,
                           n_samples: int, sample_interval: float,
                           checkpoint: CheckpointStore | None = None) -> tuple[list[State], list[dict]]:
    """NVT: discard ``equilibration_time``, then ``n_samples`` frames every ``sample_interval`` (τ)."""
    system = engine.system
    state = state.copy()
    state.step, state.time = 0, 0.0
    engine.set_thermostat(thermostat)
    engine.load(state)
    equilibration = int(round(equilibration_time / system.dt))
    interval = int(round(sample_interval / system.dt))
    recorder = Recorder(engine, thermostat.ramp[1], f"liquid T={thermostat.ramp[1]:g}", checkpoint)
    return recorder.record(equilibration + np.arange(n_samples) * interval)


def quench(engine: Engine, state: State, thermostat: Thermostat, duration: float, minimize: bool) -> tuple[State, dict]:
    """Quench to ``thermostat.ramp[1]``: instantaneous (duration 0: velocities rescaled to the new T)
    or a linear ramp of the thermostat target over ``duration`` τ; optionally FIRE to the
    inherent structure."""
    system = engine.system
    t_end = thermostat.ramp[1]
    state = state.copy()
    state.step, state.time = 0, 0.0
    if duration <= 0:
        state.velocities *= np.sqrt(t_end / kinetic_temperature(state.velocities, state.masses, system.dimensions))
        engine.load(state)
    else:
        engine.load(state)
        engine.set_thermostat(thermostat)
        engine.run(int(round(duration / system.dt)))
    if minimize:
        engine.minimize(force_tolerance=1e-6, max_steps=20000)
    state = engine.state()
    check_engine_state(engine, state, "quench")
    return state, thermo_log(engine, state, t_end)


def log_spaced_run(engine: Engine, state: State, thermostat: Thermostat, velocities: np.ndarray, duration: float,
                   frames_per_decade: int, checkpoint: CheckpointStore | None = None) -> tuple[list[State], list[dict]]:
    """NVT from ``state`` with ``velocities``, frames log-spaced in time (t = 0 included) up to
    ``duration`` τ: aging after a quench (fresh velocities), or equilibrium dynamics of a liquid
    (its own velocities)."""
    system = engine.system
    state = state.copy()
    state.velocities = velocities
    state.step, state.time = 0, 0.0
    engine.set_thermostat(thermostat)
    engine.load(state)
    steps = log_spaced_steps(int(round(duration / system.dt)), frames_per_decade)
    return Recorder(engine, thermostat.ramp[1], f"log-spaced run T={thermostat.ramp[1]:g}", checkpoint).record(steps)


def inherent_structure(engine: Engine, state: State, force_tolerance: float = 1e-4,
                       max_steps: int = 50000) -> tuple[State, dict]:
    """FIRE-minimize ``state`` to its inherent structure (the local potential-energy minimum).
    The frame keeps its step and time; velocities are zero; the log holds the inherent-structure
    energies. Raises :class:`SimulationBlowUp` if FIRE does not reach ``force_tolerance``."""
    start = state.copy()
    start.velocities = np.zeros_like(start.velocities)
    engine.set_thermostat(None)
    engine.load(start)
    if not engine.minimize(force_tolerance=force_tolerance, max_steps=max_steps):
        raise engine.blow_up(f"FIRE did not reach |F| ≤ {force_tolerance:g} in {max_steps} steps", "inherent structure",
                             step=state.step)
    minimized = engine.state()
    minimized.velocities = np.zeros_like(minimized.velocities)
    minimized.step, minimized.time = state.step, state.time
    return minimized, thermo_log(engine, minimized, 0.0)
