"""The engine-independent configuration :class:`State` (positions wrapped into the box, images, σ, τ units)."""

from dataclasses import dataclass

import numpy as np


@dataclass
class State:
    """An instantaneous configuration in engine-independent form (float64)."""

    positions: np.ndarray  # (N, 3), wrapped into [−L/2, L/2)
    images: np.ndarray  # (N, 3) int
    velocities: np.ndarray  # (N, 3)
    typeid: np.ndarray  # (N,) int
    types: list[str]
    masses: np.ndarray  # (N,)
    box_length: float
    dimensions: int
    step: int = 0
    time: float = 0.0

    @property
    def unwrapped(self) -> np.ndarray:
        return self.positions + self.images * self.box_length

    def copy(self) -> "State":
        return State(
            self.positions.copy(),
            self.images.copy(),
            self.velocities.copy(),
            self.typeid.copy(),
            list(self.types),
            self.masses.copy(),
            self.box_length,
            self.dimensions,
            self.step,
            self.time,
        )
