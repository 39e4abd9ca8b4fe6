"""The State as freud's system-like object and its construction from unwrapped positions."""

import freud
import numpy as np
import pytest

from glasscam.core.neighbors import freud_system
from glasscam.core.state import State


@pytest.mark.parametrize("dimensions", [2, 3])
def test_from_unwrapped_round_trips_and_wraps_into_the_box(dimensions):
    rng = np.random.default_rng(3)
    unwrapped = rng.uniform(-20, 20, (40, dimensions))
    state = State.from_unwrapped(unwrapped, 6.0, dimensions)
    np.testing.assert_allclose(state.unwrapped[:, :dimensions], unwrapped, atol=1e-12)
    assert np.all(state.positions[:, :dimensions] >= -3.0) and np.all(state.positions[:, :dimensions] < 3.0)
    assert np.all(state.images[:, dimensions:] == 0)


@pytest.mark.parametrize("dimensions", [2, 3])
def test_any_freud_compute_takes_a_state(dimensions):
    """freud.density.RDF on the State itself equals the RDF on the (box, points) pair."""
    rng = np.random.default_rng(4)
    state = State.from_unwrapped(rng.uniform(-10, 10, (200, dimensions)), 8.0, dimensions)
    direct = freud.density.RDF(bins=20, r_max=3.0).compute(state).rdf
    box, points = freud_system(state)
    reference = freud.density.RDF(bins=20, r_max=3.0).compute((box, points)).rdf
    np.testing.assert_allclose(direct, reference)
    assert state.box[2] == (8.0 if dimensions == 3 else 0.0)
