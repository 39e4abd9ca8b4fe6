"""Voxel grids of a periodic box: points per side and cell centres (σ)."""

import numpy as np


def grid_points(box_length: float, spacing: float, grid_multiple: int = 1) -> int:
    """Cells per axis: n = m · max(1, round(L / (m h))) with m = ``grid_multiple``
    (m = 1 gives n = round(L/h); m = 2^k makes n divisible by a network's pooling stride)."""
    if not spacing > 0:
        raise ValueError(f"grid spacing must be positive, got {spacing}")
    if int(grid_multiple) < 1:
        raise ValueError(f"grid_multiple must be a positive integer, got {grid_multiple}")
    m = int(grid_multiple)
    return m * max(1, int(round(box_length / (spacing * m))))


def cell_centres(box_length: float, n: int) -> np.ndarray:
    """Cell centres x_i = −L/2 + (i + ½) L/n, i = 0 … n−1 (σ)."""
    return -0.5 * box_length + (np.arange(n) + 0.5) * (box_length / n)
