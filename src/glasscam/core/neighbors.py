"""Neighbour queries through freud: a :class:`~glasscam.core.state.State` as a freud (box, points) system."""

import freud
import numpy as np

from glasscam.core.state import State


def freud_system(state: State) -> tuple[freud.box.Box, np.ndarray]:
    """The (box, wrapped points) pair freud expects; 2D boxes have Lz = 0 and z = 0."""
    L = state.box_length
    box = freud.box.Box.from_box([L, L, L if state.dimensions == 3 else 0.0, 0, 0, 0], dimensions=state.dimensions)
    points = np.array(state.positions, dtype=np.float64)
    if state.dimensions == 2:
        points[:, 2] = 0.0
    return box, box.wrap(points)
