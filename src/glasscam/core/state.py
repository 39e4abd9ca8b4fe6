"""The engine-independent configuration :class:`State` (positions wrapped into the box, images, σ, τ units)."""

from dataclasses import dataclass

import numpy as np

from glasscam.core.periodic import wrap


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

    @property
    def box(self) -> tuple[float, float, float, float, float, float]:
        """[Lx, Ly, Lz, xy, xz, yz] (σ) as freud and GSD read it; Lz = 0 marks a 2D system. With
        :attr:`points`, any freud compute accepts a State as a system-like object."""
        L = float(self.box_length)
        return (L, L, L if self.dimensions == 3 else 0.0, 0.0, 0.0, 0.0)

    @property
    def points(self) -> np.ndarray:
        """Positions (N, 3) folded into [−L/2, L/2) (σ), z = 0 in 2D, as freud expects."""
        points = np.array(self.positions, dtype=np.float64)
        if self.dimensions == 2:
            points[:, 2] = 0.0
        L = float(self.box_length)
        points[:, : self.dimensions] -= L * np.floor(points[:, : self.dimensions] / L + 0.5)
        return points

    @classmethod
    def from_unwrapped(cls, unwrapped, box_length: float, dimensions: int, typeid=None,
                       types: tuple[str, ...] = ("A", "B"), time: float = 0.0, masses=None) -> "State":
        """A state from unwrapped positions (N, d) or (N, 3) (σ): wrapped into the box with their
        images; type ids default to 0, masses to 1, velocities to 0."""
        unwrapped = np.asarray(unwrapped, dtype=np.float64)
        if unwrapped.shape[1] == 2:
            unwrapped = np.column_stack([unwrapped, np.zeros(len(unwrapped))])
        n = len(unwrapped)
        positions, images = wrap(unwrapped, box_length, dimensions)
        typeid = np.zeros(n, dtype=int) if typeid is None else np.asarray(typeid)
        masses = np.ones(n) if masses is None else np.asarray(masses, dtype=np.float64)
        return cls(positions, images, np.zeros((n, 3)), typeid, list(types), masses, float(box_length), int(dimensions),
                   0, float(time))

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
