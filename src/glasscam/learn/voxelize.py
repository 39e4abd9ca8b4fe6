"""Periodic Gaussian density images of particle configurations, and reading grid fields back at
particle positions.

Grid: a square/cubic box of side L (σ) centred on the origin, n cells per axis, spacing
h = L/n; cell i (per axis) has its centre at x_i = −L/2 + (i + ½) h. Arrays are indexed
[x, y] (2D) or [x, y, z] (3D).

Density of species c at grid point g (units σ^{−d}):

    ρ_c(g) = Σ_{j ∈ c} Σ_images G(x_g − r_j − L k),
    G(r) = exp(−|r|² / 2w²) / (2π w²)^{d/2},

truncated per axis at |Δx_a| ≤ r_c = ``truncation`` · w (a cube of half-side r_c) and evaluated as
a product of 1-D Gaussians on a local stencil, so Σ_g ρ_c(g) h^d = N_c up to the truncation
(a relative 6·10⁻⁵ per axis at r_c = 4w) and the grid sum of a Gaussian (exact to ~exp(−2π²w²/h²)).
Translating every particle by one cell rolls the image by one cell exactly.
"""

from __future__ import annotations

import numpy as np

from glasscam.core.grid import grid_points

DEFAULT_TRUNCATION = 4.0
_MAX_STENCIL_ENTRIES = 1 << 22  # scatter entries per chunk (bounds temporary memory to ~100 MB)


def voxelize_gaussian(
    positions: np.ndarray,
    typeid: np.ndarray,
    n_types: int,
    box_length: float,
    dimensions: int,
    spacing: float,
    width: float,
    truncation: float = DEFAULT_TRUNCATION,
    grid_multiple: int = 1,
) -> np.ndarray:
    """Periodic Gaussian density per species, shape (n_types, n, …, n) float32 (d grid axes).

    ``positions`` (N, ≥d) in σ, any periodic image; ``spacing`` h and ``width`` w in σ;
    n = :func:`grid_points` (L, h, grid_multiple).
    """
    if dimensions not in (2, 3):
        raise ValueError(f"dimensions must be 2 or 3, got {dimensions}")
    if not width > 0:
        raise ValueError(f"Gaussian width must be positive, got {width}")
    positions = np.asarray(positions, dtype=np.float64)[:, :dimensions]
    typeid = np.asarray(typeid, dtype=np.int64)
    if len(typeid) != len(positions):
        raise ValueError(f"{len(positions)} positions but {len(typeid)} type ids")
    if len(typeid) and (typeid.min() < 0 or typeid.max() >= n_types):
        raise ValueError(f"type ids must lie in [0, {n_types}), got range [{typeid.min()}, {typeid.max()}]")
    n = grid_points(box_length, spacing, grid_multiple)
    cells = n**dimensions
    density = np.zeros(n_types * cells, dtype=np.float64)
    for flat, w in _blob_chunks(positions, typeid, box_length, n, dimensions, width, truncation):
        density += np.bincount(flat.ravel(), weights=w.ravel(), minlength=n_types * cells)
    return density.reshape((n_types,) + (n,) * dimensions).astype(np.float32)


def _blob_chunks(positions, typeid, box_length: float, n: int, dimensions: int, width: float, truncation: float):
    """Per chunk of particles: flat indices into the (n_types, n, …) image (chunk, stencil^d) and
    each particle's Gaussian weights there (same shape, σ^{−d}), zero beyond the truncation."""
    h = box_length / n
    r_cut = truncation * width
    half = int(np.floor(r_cut / h + 0.5))  # cells home ± half hold every centre within r_c
    offsets = np.arange(-half, half + 1)
    stencil = len(offsets)
    cells = n**dimensions
    norm = 1.0 / np.sqrt(2.0 * np.pi * width**2)
    chunk = max(1, _MAX_STENCIL_ENTRIES // stencil**dimensions)
    for start in range(0, len(positions), chunk):
        r = positions[start : start + chunk]
        u = (r + 0.5 * box_length) / h  # position in cell units; cell i spans [i, i+1)
        home = np.floor(u).astype(np.int64)
        cell = home[:, :, None] + offsets  # (n, d, stencil), unwrapped cell index
        dx = (cell + 0.5) - u[:, :, None]  # cell centre − particle, in cells
        weight = norm * np.exp(-0.5 * (dx * (h / width)) ** 2)
        weight[np.abs(dx) * h > r_cut] = 0.0
        index = np.mod(cell, n)
        flat = (typeid[start : start + chunk] * cells)[:, None]
        w = np.ones((len(r), 1))
        for axis in range(dimensions):
            flat = (flat[:, :, None] + index[:, axis, None, :] * n ** (dimensions - 1 - axis)).reshape(len(r), -1)
            w = (w[:, :, None] * weight[:, axis, None, :]).reshape(len(r), -1)
        yield flat, w


def particle_blobs(positions: np.ndarray, typeid: np.ndarray, box_length: float, dimensions: int, n: int,
                   width: float, truncation: float = DEFAULT_TRUNCATION) -> tuple[np.ndarray, np.ndarray]:
    """Each particle's own Gaussian blob in the image of :func:`voxelize_gaussian` on an n-cell
    grid: flat indices into the (n_types, n, …, n) image, shape (N, S) int64, and the weights
    G(x_g − r_i) there (N, S) float64, S = stencil^d. The image is Σ_i (its blob), so the
    derivative of any function of the image with respect to particle i's amplitude is
    Σ_g ∂f/∂x_g · G(x_g − r_i) (the chain rule through the voxelization)."""
    positions = np.asarray(positions, dtype=np.float64)[:, :dimensions]
    typeid = np.asarray(typeid, dtype=np.int64)
    chunks = list(_blob_chunks(positions, typeid, box_length, n, dimensions, width, truncation))
    if not chunks:
        return np.zeros((0, 1), np.int64), np.zeros((0, 1))
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def interpolation_stencil(positions: np.ndarray, box_length: float, dimensions: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat grid indices (N, 2^d) and weights (N, 2^d) of periodic (bi/tri)linear interpolation
    on the cell-centred n-cell grid (:func:`read_at_particles` is Σ field[index] · weight)."""
    h = box_length / n
    u = (np.asarray(positions, dtype=np.float64)[:, :dimensions] + 0.5 * box_length) / h - 0.5
    lower = np.floor(u).astype(np.int64)
    frac = u - lower
    index = np.zeros((len(u), 2**dimensions), dtype=np.int64)
    weights = np.ones((len(u), 2**dimensions))
    for corner in range(2**dimensions):
        for axis in range(dimensions):
            bit = (corner >> axis) & 1
            weights[:, corner] *= frac[:, axis] if bit else 1.0 - frac[:, axis]
            index[:, corner] = index[:, corner] * n + np.mod(lower[:, axis] + bit, n)
    return index, weights


def read_at_particles(field: np.ndarray, positions: np.ndarray, box_length: float, dimensions: int) -> np.ndarray:
    """Periodic (bi/tri)linear interpolation of a grid field at particle positions.

    ``field`` has shape (…, n, …, n) with d trailing grid axes on the cell-centred grid above;
    returns shape (…, N). Exact at grid points and for fields linear between neighbouring cell
    centres; the last and first cells are neighbours across the boundary.
    """
    field = np.asarray(field)
    grid = field.shape[field.ndim - dimensions :]
    if len(grid) != dimensions or len(set(grid)) != 1:
        raise ValueError(f"field shape {field.shape} has no {dimensions}-d square grid in its last axes")
    index, weights = interpolation_stencil(positions, box_length, dimensions, grid[0])
    lead = field.shape[: field.ndim - dimensions]
    flat_field = field.reshape(lead + (-1,))
    return (flat_field[..., index] * weights).sum(axis=-1)
