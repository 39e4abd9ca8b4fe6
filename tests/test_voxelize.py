import itertools

import freud
import numpy as np
import pytest

from glasscam.core.grid import cell_centres, grid_points
from glasscam.learn.voxelize import (
    read_at_particles,
    voxelize_gaussian,
)


def brute_force_density(positions, typeid, n_types, L, d, n, width, truncation):
    """Σ over particles and periodic images of the normalized Gaussian, per-axis cut at truncation·w."""
    centres = cell_centres(L, n)
    grid = np.stack(np.meshgrid(*[centres] * d, indexing="ij"), axis=-1)  # (n,…,n,d)
    out = np.zeros((n_types,) + (n,) * d)
    r_cut = truncation * width
    images = int(np.ceil(r_cut / L)) + 1
    for r, t in zip(positions, typeid):
        for k in itertools.product(range(-images, images + 1), repeat=d):
            delta = grid - (r[:d] + np.array(k) * L)
            inside = np.all(np.abs(delta) <= r_cut, axis=-1)
            g = np.exp(-0.5 * np.sum(delta**2, axis=-1) / width**2) / (2 * np.pi * width**2) ** (d / 2)
            out[t] += np.where(inside, g, 0.0)
    return out


@pytest.mark.parametrize("d", [2, 3])
def test_integral_per_channel_equals_particle_count(d):
    rng = np.random.default_rng(1)
    L, spacing, width = 6.0, 0.25, 0.3
    positions = rng.uniform(-L / 2, L / 2, (150, 3))
    typeid = (rng.random(150) < 0.3).astype(int)
    image = voxelize_gaussian(positions, typeid, 2, L, d, spacing, width)
    n = grid_points(L, spacing)
    assert image.shape == (2,) + (n,) * d and image.dtype == np.float32
    integral = image.reshape(2, -1).sum(axis=1, dtype=np.float64) * (L / n) ** d
    np.testing.assert_allclose(integral, np.bincount(typeid, minlength=2), rtol=3e-4)


@pytest.mark.parametrize("d", [2, 3])
def test_translation_by_one_cell_is_a_periodic_roll(d):
    rng = np.random.default_rng(2)
    L, spacing, width = 5.0, 0.25, 0.35
    n = grid_points(L, spacing)
    h = L / n
    positions = rng.uniform(-L / 2, L / 2, (80, 3))
    positions[0, :d] = L / 2 - 0.3 * h  # will cross the boundary
    typeid = rng.integers(0, 2, 80)
    base = voxelize_gaussian(positions, typeid, 2, L, d, spacing, width)
    for axis in range(d):
        shifted = positions.copy()
        shifted[:, axis] += h
        moved = voxelize_gaussian(shifted, typeid, 2, L, d, spacing, width)
        np.testing.assert_allclose(moved, np.roll(base, 1, axis=1 + axis), atol=2e-5)
        assert not np.allclose(moved, base, atol=1e-2)


@pytest.mark.parametrize(
    "d, L, width",
    [(2, 4.0, 0.3), (3, 3.0, 0.3), (2, 2.0, 0.45)],  # the last: r_c = 1.8 > L/2, several images overlap
)
def test_boundary_particles_match_explicit_image_sum(d, L, width):
    positions = np.array([[L / 2 - 0.05, -L / 2 + 0.02, L / 2 - 0.1], [0.113, 0.237, -0.311], [-L / 2, 0.013, 0.029]])
    typeid = np.array([1, 0, 1])
    spacing = 0.2
    image = voxelize_gaussian(positions, typeid, 2, L, d, spacing, width)
    expected = brute_force_density(positions, typeid, 2, L, d, grid_points(L, spacing), width, 4.0)
    np.testing.assert_allclose(image, expected, rtol=1e-5, atol=1e-6)


def test_agrees_with_freud_gaussian_density():
    rng = np.random.default_rng(3)
    L, n, width = 8.0, 32, 0.3
    positions = rng.uniform(-L / 2, L / 2, (300, 3))
    typeid = rng.integers(0, 2, 300)
    image = voxelize_gaussian(positions, typeid, 2, L, 3, L / n, width)
    gd = freud.density.GaussianDensity(n, 4 * width, width)
    for c in range(2):
        gd.compute((freud.box.Box.cube(L), positions[typeid == c].astype(np.float32)))
        np.testing.assert_allclose(image[c], gd.density, atol=2e-3 * image.max())


def test_grid_points_multiple():
    assert grid_points(15.05658, 0.25) == 60
    assert grid_points(15.05658, 0.25, grid_multiple=8) == 64
    with pytest.raises(ValueError, match="spacing"):
        grid_points(10.0, 0.0)


@pytest.mark.parametrize("d", [2, 3])
def test_read_at_particles_exact_at_grid_points(d):
    rng = np.random.default_rng(4)
    L, n = 3.0, 6
    field = rng.normal(size=(2,) + (n,) * d)
    centres = cell_centres(L, n)
    index = rng.integers(0, n, (20, d))
    positions = centres[index] + L * rng.integers(-1, 2, (20, d))  # any periodic image
    values = read_at_particles(field, positions, L, d)
    assert values.shape == (2, 20)
    np.testing.assert_allclose(values, field[(slice(None),) + tuple(index.T)], rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_read_at_particles_exact_for_multilinear_fields(d):
    rng = np.random.default_rng(5)
    L, n = 4.0, 8
    h = L / n
    coeff = rng.normal(size=d + 2)

    def f(x):  # affine + the product of all coordinates (multilinear)
        return coeff[0] + x @ coeff[1 : d + 1] + coeff[-1] * np.prod(x, axis=-1)

    centres = cell_centres(L, n)
    grid = np.stack(np.meshgrid(*[centres] * d, indexing="ij"), axis=-1)
    field = f(grid)
    positions = rng.uniform(centres[0], centres[-1], (50, d))  # between first and last centres
    np.testing.assert_allclose(read_at_particles(field, positions, L, d), f(positions), rtol=1e-10)
    # across the boundary the neighbours are the last and first cells
    edge = np.full((1, d), L / 2 - 0.25 * h)
    edge[0, 1:] = centres[2]
    last = field[(n - 1,) + (2,) * (d - 1)]
    first = field[(0,) + (2,) * (d - 1)]
    np.testing.assert_allclose(read_at_particles(field, edge, L, d), [0.75 * last + 0.25 * first])
