"""Snapshots figure: what it chooses to show (planted truth) and that both renderers draw it."""

import numpy as np
import pytest
from conftest import write_snapshot_inputs
from matplotlib.collections import EllipseCollection

from glasscam.config import physics_keys
from glasscam.core.keys import per_particle_key
from glasscam.core.state import State
from glasscam.plots.snapshots import (
    _radii,
    choose_snapshot,
    particle_radii,
    plot_snapshots,
)


def arrays(**fields):
    return {per_particle_key(k): np.asarray(v, float) for k, v in fields.items()}


def test_choice_follows_the_planted_fields():
    rng = np.random.default_rng(0)
    n = 200
    gradcam, indicators, mobility = [], [], []
    for frame in range(3):
        g = rng.normal(size=n) if frame else np.zeros(n)  # frame 0: constant map, shows nothing
        planted = rng.normal(size=n)
        gradcam.append(arrays(gradcam_glass=g * (1 + frame)))  # frame 2 varies most
        indicators.append(arrays(q6=planted + 0.1 * rng.normal(size=n), density=rng.normal(size=n)))
        mobility.append(arrays(propensity_dt1=planted + 0.5 * g, propensity_dt10=rng.normal(size=n), mobility_dt1=rng.normal(size=n)))
    choice = choose_snapshot(gradcam, indicators, mobility)
    assert choice["dynamics"] == "propensity_dt1"  # the window that follows Grad-CAM
    assert choice["frame"] == 2
    assert choice["descriptor"] == "q6"  # the indicator that predicts the propensity
    assert choice["rho_descriptor"] > 0.8


@pytest.mark.parametrize("dimensions", [2, 3])
def test_matplotlib_render_writes_a_figure(tmp_path, dimensions):
    paths = write_snapshot_inputs(tmp_path, dimensions, n=60, box_length=5.0, seed=1)
    out = tmp_path / "snap.png"
    assert plot_snapshots(paths["gradcam"], paths["indicators"], paths["mobility"], out, renderer="matplotlib") == "matplotlib"
    assert out.stat().st_size > 20000


def test_particles_are_drawn_with_half_their_own_pair_sigma(default_config):
    """Radii from each system's potential table, not one mixture's: Kob–Andersen B is the smaller
    species (σ_BB = 0.88), abm2d's B the larger (σ_B/σ_A = 1.4)."""
    ka = particle_radii(physics_keys(default_config["systems"]["ka3d"]))
    abm = particle_radii(physics_keys(default_config["systems"]["abm2d"]))
    assert ka == pytest.approx({"A": 0.5, "B": 0.44})
    assert abm == pytest.approx({"A": 5 / 12, "B": 7 / 12})
    state = State(np.zeros((3, 3)), np.zeros((3, 3), int), np.zeros((3, 3)), np.array([0, 1, 1]), ["A", "B"],
                  np.ones(3), 5.0, 2)
    np.testing.assert_allclose(_radii(state, abm), [5 / 12, 7 / 12, 7 / 12])


@pytest.mark.parametrize("dimensions", [2, 3])
def test_every_panel_has_x_and_y_axes_in_sigma(tmp_path, dimensions):
    """The abm2d (2D) snapshots had no axes, ticks or length scale, unlike the 3D slabs: every
    matplotlib panel, 2D or 3D, has x and y axes labelled in σ spanning the box."""
    L = 6.0
    paths = write_snapshot_inputs(tmp_path, dimensions, n=80, box_length=L, seed=2)
    captured = []
    plot_snapshots(paths["gradcam"], paths["indicators"], paths["mobility"], tmp_path / "snap.png", renderer="matplotlib",
                   figure_hook=captured.append)
    panels = [ax for ax in captured[0].axes if any(isinstance(c, EllipseCollection) for c in ax.collections)]
    assert len(panels) == 3
    for ax in panels:
        assert ax.axison and ax.get_xlabel() == "x (σ)" and ax.get_ylabel() == "y (σ)"
        assert ax.get_xlim() == pytest.approx((-L / 2, L / 2)) and ax.get_ylim() == pytest.approx((-L / 2, L / 2))
        for axis in (ax.xaxis, ax.yaxis):
            assert len([t for t in axis.get_ticklabels() if t.get_text()]) >= 3
