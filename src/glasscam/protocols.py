"""Simulation protocols shared by every engine: placement, melting, liquid sampling, quench, aging.

Each protocol takes an :class:`~glasscam.engines.base.Engine`, drives it, checks it for blow-ups
after every segment, and returns :class:`~glasscam.trajectory.State` frames with their logs. File
output is the caller's (``write_states`` is atomic).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from .engines.base import Engine, SimulationBlowUp, Thermostat
from .systems import System
from .trajectory import State, per_particle_key, wrap

log = logging.getLogger(__name__)

MAX_ENERGY_PER_PARTICLE = 1.0e3  # ε_AA; beyond this a run has exploded


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


def log_spaced_steps(total_steps: int, frames_per_decade: int) -> np.ndarray:
    """Distinct integer steps 0, 1, …, total_steps, log-spaced with ``frames_per_decade`` per decade."""
    if total_steps < 1:
        raise ValueError(f"total_steps = {total_steps} must be ≥ 1")
    decades = np.log10(total_steps)
    n = max(2, int(np.ceil(decades * frames_per_decade)) + 1)
    steps = np.unique(np.round(np.logspace(0, decades, n)).astype(np.int64))
    return np.concatenate([[0], steps])


def check_state(engine: Engine, state: State, where: str) -> None:
    """Raise :class:`SimulationBlowUp` on NaN/inf, exploded energy, or lost particles."""
    n = engine.system.n_particles
    if len(state.positions) != n:
        raise SimulationBlowUp(f"{where}: {len(state.positions)} of {n} particles left")
    if not (np.isfinite(state.positions).all() and np.isfinite(state.velocities).all()):
        raise SimulationBlowUp(f"{where}: non-finite positions or velocities at step {state.step}")


def thermo_log(engine: Engine, state: State, temperature_target: float) -> dict:
    """Per-frame observables: total PE, kinetic T, pressure, and per-particle PE."""
    system = engine.system
    evaluation = engine.evaluate()
    t_kin = kinetic_temperature(state.velocities, state.masses, system.dimensions)
    volume = system.box_length**system.dimensions
    pressure = (system.n_particles * t_kin + evaluation.virial / system.dimensions) / volume
    pe_per_particle = evaluation.potential_energy / system.n_particles
    if not np.isfinite(pe_per_particle) or pe_per_particle > MAX_ENERGY_PER_PARTICLE:
        raise SimulationBlowUp(f"potential energy per particle {pe_per_particle:.4g} at step {state.step}")
    return {
        "glasscam/temperature_target": np.array([temperature_target]),
        "glasscam/kinetic_temperature": np.array([t_kin]),
        "glasscam/potential_energy": np.array([evaluation.potential_energy]),
        "glasscam/pressure": np.array([pressure]),
        per_particle_key("potential_energy"): evaluation.energies.astype(np.float32),
    }


@dataclass(frozen=True)
class Recorder:
    """Runs an engine to a list of target steps, recording a frame and its log at each."""

    engine: Engine
    temperature_target: float
    label: str

    def record(self, steps: np.ndarray) -> tuple[list[State], list[dict]]:
        states, logs = [], []
        current = self.engine.state().step
        start = current
        for target in tqdm(steps, desc=self.label, unit="frame", mininterval=5.0):
            self.engine.run(int(start + target - current))
            current = start + int(target)
            state = self.engine.state()
            check_state(self.engine, state, f"{self.label} step {current}")
            states.append(state)
            logs.append(thermo_log(self.engine, state, self.temperature_target))
        return states, logs


def remove_overlaps(engine: Engine, state: State, max_steps: int = 500, max_displacement: float = 0.05,
                    force_target: float = 50.0) -> State:
    """Capped steepest descent, the same in every engine: each particle moves along its force by
    min(max_displacement, γ|F_i|) with γ = max_displacement / force_target, until max_i |F_i| ≤
    force_target (ε_AA/σ_AA) or ``max_steps``. Leaves no overlaps for FIRE to explode on."""
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
    state = engine.state()
    state.velocities = maxwell_boltzmann(state.masses, temperature, system.dimensions, rng)
    state.step, state.time = 0, 0.0
    engine.load(state)
    engine.set_thermostat(thermostat)
    engine.run(int(round(duration / system.dt)))
    state = engine.state()
    check_state(engine, state, "melt")
    thermo_log(engine, state, temperature)
    return state


def equilibrate_and_sample(engine: Engine, state: State, thermostat: Thermostat, equilibration_time: float,
                           n_samples: int, sample_interval: float) -> tuple[list[State], list[dict]]:
    """NVT: discard ``equilibration_time``, then ``n_samples`` frames every ``sample_interval`` (τ)."""
    system = engine.system
    state = state.copy()
    state.step, state.time = 0, 0.0
    engine.load(state)
    engine.set_thermostat(thermostat)
    engine.run(int(round(equilibration_time / system.dt)))
    interval = int(round(sample_interval / system.dt))
    recorder = Recorder(engine, thermostat.ramp[1], f"liquid T={thermostat.ramp[1]:g}")
    return recorder.record(np.arange(n_samples) * interval)


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
    check_state(engine, state, "quench")
    return state, thermo_log(engine, state, t_end)


def age(engine: Engine, state: State, thermostat: Thermostat, velocities: np.ndarray, duration: float,
        frames_per_decade: int) -> tuple[list[State], list[dict]]:
    """NVT aging from the quenched ``state`` with fresh ``velocities``, frames log-spaced in time
    (t_w = 0 included) up to ``duration`` τ."""
    system = engine.system
    state = state.copy()
    state.velocities = velocities
    state.step, state.time = 0, 0.0
    engine.load(state)
    engine.set_thermostat(thermostat)
    steps = log_spaced_steps(int(round(duration / system.dt)), frames_per_decade)
    return Recorder(engine, thermostat.ramp[1], f"aging T={thermostat.ramp[1]:g}").record(steps)
