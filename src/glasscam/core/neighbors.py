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


def ball_query(state: State, r_max: float, exclude_self: bool = True) -> freud.locality.NeighborList:
    """Every pair (i, j) with periodic minimum-image distance |r_j − r_i| < ``r_max`` (σ), as a
    freud ``NeighborList`` (``query_point_indices`` i, ``point_indices`` j, ``distances``);
    ``exclude_self`` leaves out i = j. Uses freud's ``AABBQuery`` (O(N) for fixed r_max and
    density). ``r_max`` must be below L/2 for the minimum image to be unique."""
    box, points = freud_system(state)
    return (
        freud.locality.AABBQuery(box, points)
        .query(points, {"r_max": float(r_max), "exclude_ii": bool(exclude_self)})
        .toNeighborList()
    )


def nearest_neighbor(state: State) -> freud.locality.NeighborList:
    """Every particle's nearest neighbour (periodic minimum image) as a freud ``NeighborList``
    (``query_point_indices`` i, ``point_indices`` j, ``distances``, ``vectors`` r_j − r_i)."""
    box, points = freud_system(state)
    return freud.locality.AABBQuery(box, points).query(points, {"num_neighbors": 1, "exclude_ii": True}).toNeighborList()
