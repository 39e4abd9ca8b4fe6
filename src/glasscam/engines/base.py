"""The small interface every MD engine implements.

Engines only move particles: they load a :class:`~glasscam.trajectory.State`, integrate with a
thermostat, minimize, evaluate the pair Hamiltonian and hand the state back. Everything else
(initial placement, velocities, schedules, checks, file output) lives in
:mod:`glasscam.protocols`, shared by all engines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..hamiltonian import PairEvaluation
from ..systems import System
from ..trajectory import State, wrap

THERMOSTATS = ("nose_hoover", "bussi")


@dataclass(frozen=True)
class Thermostat:
    """NVT thermostat: Nosé–Hoover (MTTK chain) or Bussi stochastic velocity rescaling.

    ``temperature`` may be a pair (T_start, T_end) for a linear ramp over one :meth:`Engine.run`.
    ``tau`` is the coupling time in τ; ``seed`` drives the Bussi noise.
    """

    kind: str
    temperature: float | tuple[float, float]
    tau: float
    seed: int = 1

    def __post_init__(self):
        if self.kind not in THERMOSTATS:
            raise ValueError(f"thermostat kind {self.kind!r}; expected one of {THERMOSTATS}")

    @property
    def ramp(self) -> tuple[float, float]:
        t = self.temperature
        return (float(t[0]), float(t[1])) if isinstance(t, tuple) else (float(t), float(t))


class SimulationBlowUp(RuntimeError):
    """The integration produced NaN/inf, an energy explosion, or lost particles."""


class Engine(ABC):
    """One simulation of one :class:`~glasscam.systems.System` in one engine."""

    name: str = "abstract"

    def __init__(self, system: System, threads: int = 1):
        self.system = system
        self.threads = int(threads)
        self._step0 = 0  # step and time (τ) of the last loaded state: t = t0 + (step − step0) dt
        self._time0 = 0.0

    def _make_state(self, unwrapped: np.ndarray, velocities: np.ndarray, typeid: np.ndarray, masses: np.ndarray,
                    step: int) -> State:
        """A :class:`State` from unwrapped positions (wrapped here) at ``step``."""
        s = self.system
        positions, images = wrap(unwrapped, s.box_length, s.dimensions)
        return State(
            positions=positions,
            images=images,
            velocities=velocities,
            typeid=typeid,
            types=s.types,
            masses=masses,
            box_length=s.box_length,
            dimensions=s.dimensions,
            step=step,
            time=self._time0 + (step - self._step0) * s.dt,
        )

    @property
    @abstractmethod
    def version(self) -> str: ...

    @property
    @abstractmethod
    def device(self) -> str:
        """'CPU', 'GPU (name)' or 'CPU (N OpenMP threads)'."""

    @abstractmethod
    def load(self, state: State) -> None:
        """Replace positions, images, velocities and the step counter by ``state``'s."""

    @abstractmethod
    def state(self) -> State:
        """The current configuration, particles ordered as loaded."""

    @abstractmethod
    def set_thermostat(self, thermostat: Thermostat | None) -> None:
        """NVT with ``thermostat`` for the following runs; ``None`` = NVE."""

    @abstractmethod
    def run(self, steps: int) -> None:
        """Advance ``steps`` time steps of size ``system.dt``."""

    @abstractmethod
    def minimize(self, force_tolerance: float, max_steps: int) -> bool:
        """FIRE energy minimization; returns whether the force tolerance was reached."""

    @abstractmethod
    def checkpoint(self) -> dict:
        """Everything needed to continue exactly from here (positions and velocities in double
        precision, step, thermostat state and its random-number state), as a picklable dict."""

    @abstractmethod
    def restore(self, checkpoint: dict) -> None:
        """Continue from a :meth:`checkpoint` taken by an engine of the same kind and system."""

    @abstractmethod
    def evaluate(self) -> PairEvaluation:
        """Per-particle energies, forces and virial of the current configuration."""

    def describe(self) -> dict:
        """Engine record for trajectory provenance."""
        return {"engine": self.name, "engine_version": self.version, "device": self.device}

    def close(self) -> None:
        """Release engine resources."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
