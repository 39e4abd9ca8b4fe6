"""The small interface every MD engine implements.

Engines only move particles: they load a :class:`~glasscam.core.state.State`, integrate with a
thermostat, minimize, evaluate the pair Hamiltonian and hand the state back. Everything else
(initial placement, velocities, schedules, checks, file output) lives in
:mod:`glasscam.md.protocols`, shared by all engines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from glasscam.core.hamiltonian import PairEvaluation
from glasscam.core.periodic import wrap
from glasscam.core.state import State
from glasscam.core.systems import System
from glasscam.errors import SimulationBlowUp

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


class Engine(ABC):
    """One simulation of one :class:`~glasscam.core.systems.System` in one engine."""

    name: str = "abstract"

    def __init__(self, system: System, threads: int = 1):
        self.system = system
        self.threads = int(threads)
        self.stage = "simulation"  # the pipeline stage (rule) driving this engine, for error messages
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

    def current_step(self) -> int | None:
        """The engine's step counter now (also right after a failed run), or None."""
        return None

    def blow_up(self, reason: str, phase: str | None = None, engine_error: BaseException | None = None,
                step: int | None = None) -> SimulationBlowUp:
        """A :class:`SimulationBlowUp` naming this engine's stage, ``phase``, step, time and dt,
        with a hint; ``engine_error``'s text follows the pipeline's message."""
        if step is None:
            try:
                step = self.current_step()
            except Exception:  # the engine may be unusable after its own error
                step = None
        s = self.system
        time = None if step is None else self._time0 + (step - self._step0) * s.dt
        hint = (
            f"the usual cause is a time step too large for the pair potential (FIRE steps up to 10 dt): "
            f"lower systems.{s.name}.dt (the config check compares it with the stiffest pair's oscillation "
            f"period); else check the pair parameters and the temperatures"
        )
        text = f"{type(engine_error).__name__}: {engine_error}" if engine_error is not None else None
        return SimulationBlowUp(reason, system=s.name, stage=self.stage, phase=phase, step=step, time=time, dt=s.dt,
                                hint=hint, engine_text=text)

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
