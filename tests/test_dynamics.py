"""Dynamics against analytic results: diffusion, ballistic motion, independent particles."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from glasscam.analysis.displacement import (
    cage_relative_displacement,
    displacements,
    mean_squared_displacement,
    propensity,
)
from glasscam.analysis.heterogeneity import chi4, overlap
from glasscam.analysis.mobility import mobility_names
from glasscam.analysis.relaxation import relaxation_time, relaxation_time_record
from glasscam.analysis.scattering import (
    first_peak,
    self_intermediate_scattering,
    structure_factor,
)
from glasscam.core.keys import per_particle_key
from glasscam.core.schedule import window_end_frame
from glasscam.core.state import State
from glasscam.io.gsd import read_logs, read_provenance, read_states, write_states
from glasscam.stages.dynamics import compute_aging_dynamics, compute_mobility


def make_state(unwrapped, box_length, dimensions, time=0.0, typeid=None) -> State:
    return State.from_unwrapped(unwrapped, box_length, dimensions, typeid=typeid, time=time)


def random_walk(rng, n, d, times, diffusion, box_length=10.0, drift=None):
    """Brownian paths: independent Gaussian increments of variance 2 D δt per component."""
    start = rng.uniform(-box_length / 2, box_length / 2, (n, d))
    steps = np.diff(np.r_[0.0, times])
    increments = rng.normal(size=(len(times), n, d)) * np.sqrt(2 * diffusion * steps)[:, None, None]
    increments[0] = 0.0
    paths = start + np.cumsum(increments, axis=0)
    if drift is not None:
        paths += np.asarray(times)[:, None, None] * drift
    return [make_state(p, box_length, d, t) for p, t in zip(paths, times, strict=True)]


@pytest.mark.parametrize("d", [2, 3])
def test_diffusive_msd_and_fs(d):
    rng = np.random.default_rng(d)
    times = np.array([0.0, 0.25, 1.0, 2.0, 4.0])
    diffusion, q = 0.05, 3.0
    disp = displacements(random_walk(rng, 4000, d, times, diffusion))
    msd = mean_squared_displacement(disp)
    np.testing.assert_allclose(msd[1:], 2 * d * diffusion * times[1:], rtol=0.05)
    fs = self_intermediate_scattering(disp, q)
    np.testing.assert_allclose(fs, np.exp(-(q**2) * diffusion * times), atol=0.02)


def test_ballistic_msd_across_periodic_images():
    rng = np.random.default_rng(4)
    n, speed = 500, 1.7
    directions = rng.normal(size=(n // 2, 3))
    velocities = speed * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    velocities = np.concatenate([velocities, -velocities])  # zero total momentum
    start = rng.uniform(-3, 3, (n, 3))
    times = np.array([0.0, 0.5, 3.0, 11.0])  # particles cross the box (L = 6) several times
    states = [make_state(start + velocities * t, 6.0, 3, t) for t in times]
    assert np.abs(states[-1].images).max() >= 2
    msd = mean_squared_displacement(displacements(states))
    np.testing.assert_allclose(msd, speed**2 * times**2, rtol=1e-5)


def test_drift_removal_uniform_translation_gives_zero():
    rng = np.random.default_rng(5)
    start = rng.uniform(-4, 4, (200, 3))
    shifts = [np.zeros(3), np.array([0.3, -1.2, 5.0]), np.array([9.1, 2.0, -13.0])]
    states = [make_state(start + s, 8.0, 3, t) for t, s in enumerate(shifts)]
    np.testing.assert_allclose(displacements(states), 0.0, atol=1e-9)
    raw = displacements(states, drift_removed=False)
    np.testing.assert_allclose(raw[2], np.broadcast_to(shifts[2], (200, 3)), atol=1e-9)


def test_chi4_of_independent_particles_is_binomial():
    rng = np.random.default_rng(6)
    n_traj, n, a = 3000, 40, 0.3
    disp = rng.normal(scale=0.25, size=(n_traj, n, 3))
    q = overlap(disp, a)
    p = q.mean()
    assert 0.2 < p < 0.8
    assert chi4(q, n) == pytest.approx(p * (1 - p), rel=0.12)


def test_overlap_counts_particles_within_a():
    disp = np.zeros((4, 3))
    disp[:, 0] = [0.0, 0.29, 0.31, 2.0]
    assert overlap(disp, 0.3) == pytest.approx(0.5)


def test_propensity_is_mean_over_replicas():
    rng = np.random.default_rng(7)
    replicas = rng.normal(size=(5, 30, 3))
    np.testing.assert_allclose(propensity(replicas), np.linalg.norm(replicas, axis=2).mean(axis=0))


def test_cage_relative_subtracts_neighbour_mean():
    grid = np.array(np.meshgrid(*[np.arange(4)] * 3, indexing="ij")).reshape(3, -1).T.astype(float) - 2.0
    state = make_state(grid, 4.0, 3)
    disp = np.full((64, 3), 0.7)  # collective motion of a cage: no cage-relative displacement
    np.testing.assert_allclose(cage_relative_displacement(disp, state, 1.01), 0.0, atol=1e-12)
    disp = np.zeros((64, 3))
    disp[0] = [0.6, 0, 0]  # one particle leaves its cage
    relative = cage_relative_displacement(disp, state, 1.01)
    np.testing.assert_allclose(relative[0], [0.6, 0, 0])
    neighbours = np.isclose(np.linalg.norm(np.minimum(np.abs(grid - grid[0]), 4 - np.abs(grid - grid[0])), axis=1), 1)
    np.testing.assert_allclose(relative[neighbours], [[-0.1, 0, 0]] * 6)


@pytest.mark.parametrize("d", [2, 3])
def test_structure_factor_peak_of_simple_lattice(d):
    grid = np.array(np.meshgrid(*[np.arange(8)] * d, indexing="ij")).reshape(d, -1).T.astype(float) - 4.0
    rng = np.random.default_rng(8)
    state = make_state(grid + rng.normal(0, 0.03, grid.shape), 8.0, d)
    k, s = structure_factor([state], k_max=9.0, bins=180)
    assert first_peak(k, s) == pytest.approx(2 * np.pi, abs=0.1)


def test_relaxation_time_interpolates():
    times = np.geomspace(0.01, 100, 40)
    assert relaxation_time(times, np.exp(-times / 3.7)) == pytest.approx(3.7, rel=0.01)
    assert np.isnan(relaxation_time(times, np.full(40, 0.9)))
    record = relaxation_time_record(times, np.exp(-times / 3.7))
    assert record["reliable"] and record["fit_t_start"] < 3.7 < record["fit_t_end"]
    assert record["fs_start"] > 1 / np.e >= record["fs_end"]
    slow = relaxation_time_record(times, np.full(40, 0.9))
    assert not slow["reliable"] and "exceeds the run" in slow["flag"]
    sparse = relaxation_time_record(np.array([0.1, 1.0, 100.0]), np.array([1.0, 0.9, 0.1]))
    assert not sparse["reliable"] and "interpolated across" in sparse["flag"]


def test_compute_aging_dynamics_csv(tmp_path):
    rng = np.random.default_rng(9)
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    diffusion, q = 0.02, 4.0
    paths = []
    for k in range(8):
        states = random_walk(rng, 300, 3, times, diffusion)
        for s in states:
            s.typeid = (np.arange(300) >= 240).astype(int)
        paths.append(tmp_path / f"run{k}_rep0.gsd")
        write_states(paths[-1], states, {"run": k, "replica": 0})
    compute_aging_dynamics(aging_paths=paths, out_csv=tmp_path / "dyn.csv", q=q, a=0.3)
    with open(tmp_path / "dyn.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["species", "time", "msd", "fs", "overlap", "chi4", "n_trajectories"]
    assert {r["species"] for r in rows} == {"all", "A", "B"}
    full = [r for r in rows if r["species"] == "all"]
    assert [float(r["time"]) for r in full] == list(times)
    assert all(int(r["n_trajectories"]) == 8 for r in full)
    np.testing.assert_allclose([float(r["msd"]) for r in full][1:], 6 * diffusion * times[1:], rtol=0.08)
    np.testing.assert_allclose([float(r["fs"]) for r in full], np.exp(-(q**2) * diffusion * times), atol=0.03)
    assert float(full[0]["overlap"]) == 1.0 and float(full[0]["chi4"]) == 0.0
    record = json.loads((tmp_path / "dyn.json").read_text())
    assert record["q"] == q and record["q_source"] == "config"
    assert record["tau_fs_1e_from_quench"]["all"] == pytest.approx(1 / (q**2 * diffusion), rel=0.15)
    compute_aging_dynamics(aging_paths=paths[:2], out_csv=tmp_path / "dyn_q.csv")  # q* from S(k) of the t = 0 frames
    assert json.loads((tmp_path / "dyn_q.json").read_text())["q_source"].startswith("first peak")


def _iso_ensemble(tmp_path, rng, n=80, box_length=6.0, times=(0.0, 1.0, 2.0, 4.0, 8.0, 16.0)):
    """Run 0 with three replicas from identical positions: random displacements + a different
    uniform drift per replica. Returns paths and the drift-free displacement paths."""
    start = rng.uniform(-box_length / 2, box_length / 2, (n, 3))
    paths, motions = [], []
    for replica in range(3):
        motion = np.cumsum(rng.normal(scale=0.2, size=(len(times), n, 3)), axis=0)
        motion[0] = 0.0
        drift = rng.normal(size=3) * np.asarray(times)[:, None]
        states = [make_state(start + motion[k] + drift[k], box_length, 3, t) for k, t in enumerate(times)]
        paths.append(tmp_path / f"run0_rep{replica}.gsd")
        write_states(paths[-1], states, {"run": 0, "replica": replica, "temperature": 0.3})
        motions.append(motion - motion.mean(axis=1, keepdims=True))
    return paths, motions, states[0].box_length


def test_compute_mobility_windows_propensity_and_cage(tmp_path):
    rng = np.random.default_rng(10)
    paths, motions, box_length = _iso_ensemble(tmp_path, rng)
    samples = [(0, 0, 0), (0, 1, 0), (0, 2, 2)]  # (run, replica, source_frame)
    states, logs = [], []
    for k, (run, replica, frame) in enumerate(samples):
        states.append(read_states(paths[replica])[frame])
        logs.append(
            {
                "glasscam/sample": np.array([k]),
                "glasscam/run": np.array([run]),
                "glasscam/replica": np.array([replica]),
                "glasscam/source_frame": np.array([frame]),
            }
        )
    write_states(tmp_path / "glass.gsd", states, {}, logs)
    cfg = {"windows": [1, 2, 100], "cage_radius": 1.5}
    compute_mobility(glass_samples_gsd=tmp_path / "glass.gsd", aging_paths=paths, out_gsd=tmp_path / "mob.gsd", dynamics_cfg=cfg, provenance={"stage": "mobility"})
    out = read_logs(tmp_path / "mob.gsd")
    assert set(mobility_names(cfg)) <= {k.removeprefix("particles/glasscam/") for k in out[0]}
    # source frame → window → end frame (times 0,1,2,4,8,16); from t = 2 no frame realises Δt = 1
    # (the next is 2 τ later): NaN, not a 2 τ displacement labelled 1 τ
    ends = {0: {1: 1, 2: 2}, 2: {1: None, 2: 3}}
    for k, (_, replica, frame) in enumerate(samples):
        log = out[k]
        assert int(log["glasscam/sample"][0]) == k
        for dt in (1, 2):
            end = ends[frame][dt]
            if end is None:
                assert np.all(np.isnan(log[per_particle_key(f"mobility_dt{dt}")]))
                assert np.isnan(float(log[f"glasscam/window_dt{dt}"][0]))
                assert np.isnan(float(log[f"glasscam/rearranged_A_dt{dt}"][0]))  # not 0 % of NaN displacements
                continue
            expected = motions[replica][end] - motions[replica][frame]
            np.testing.assert_allclose(log[per_particle_key(f"mobility_dt{dt}")], np.linalg.norm(expected, axis=1), atol=2e-5)
            cage = cage_relative_displacement(expected, states[k], 1.5)
            np.testing.assert_allclose(log[per_particle_key(f"cage_relative_dt{dt}")], np.linalg.norm(cage, axis=1), atol=2e-5)
            assert float(log[f"glasscam/window_dt{dt}"][0]) == pytest.approx([1.0, 2.0, 4.0, 8.0, 16.0][end - 1] - [0, 1, 2][frame])
            prop = log[per_particle_key(f"propensity_dt{dt}")]
            if frame == 0:
                mean_over_replicas = np.mean([np.linalg.norm(m[dt] - m[0], axis=1) for m in motions], axis=0)
                np.testing.assert_allclose(prop, mean_over_replicas, atol=2e-5)
            else:
                assert np.all(np.isnan(prop))
        assert np.all(np.isnan(log[per_particle_key("mobility_dt100")]))
        assert np.all(np.isnan(log[per_particle_key("propensity_dt100")]))
    assert int(out[0]["glasscam/n_iso_replicas"][0]) == 3
    record = read_provenance(tmp_path / "mob.gsd")["mobility"]
    assert {"t_w": 2.0, "dt": 1.0} in record["unresolved_windows"] and record["window_tolerance"] == 0.25


def test_windows_are_realised_within_tolerance_on_log_spaced_frames():
    """10 frames per decade (the study's aging runs): at t_w = 63.8 τ the next frame is 15.6 τ
    later, so Δt = 1, 3 and 10 τ do not exist there; Δt = 30 τ is realised by 36.2 τ (+21 %)."""
    times = np.array([0.0, *np.round(10 ** (np.arange(0, 21) / 10), 3)])  # 0, 1 … 100 τ, 10 per decade
    t_w = int(np.argmin(np.abs(times - 63.8)))
    assert window_end_frame(times, t_w, 30.0) == len(times) - 1
    for dt in (1.0, 3.0, 10.0):
        assert window_end_frame(times, t_w, dt) is None
    assert window_end_frame(times, 0, 1.0) == 1 and window_end_frame(times, 0, 3.0) == 6  # 3.162 τ: +5 %
    assert window_end_frame(times, t_w, 30.0, tolerance=0.1) is None
    pairs = [(times[k], float(dt)) for k in (0, t_w) for dt in (1, 3, 10, 30) if window_end_frame(times, k, float(dt)) is None]
    assert pairs == [(times[t_w], 1.0), (times[t_w], 3.0), (times[t_w], 10.0)]


def test_compute_mobility_errors(tmp_path):
    rng = np.random.default_rng(11)
    paths, _, box_length = _iso_ensemble(tmp_path, rng)
    wrong = make_state(rng.uniform(-3, 3, (80, 3)), box_length, 3)
    log = {"glasscam/sample": np.array([0]), "glasscam/run": np.array([0]), "glasscam/replica": np.array([0]), "glasscam/source_frame": np.array([0])}
    write_states(tmp_path / "glass.gsd", [wrong], {}, [log])
    with pytest.raises(ValueError, match="does not match frame 0"):
        compute_mobility(glass_samples_gsd=tmp_path / "glass.gsd", aging_paths=paths, out_gsd=tmp_path / "mob.gsd", dynamics_cfg={"windows": [1], "cage_radius": 1.4}, provenance={})
    with pytest.raises(ValueError, match="windows"):
        compute_mobility(glass_samples_gsd=tmp_path / "glass.gsd", aging_paths=paths, out_gsd=tmp_path / "mob.gsd", dynamics_cfg={}, provenance={})
    write_states(tmp_path / "glass2.gsd", [wrong], {}, [{**log, "glasscam/run": np.array([5])}])
    with pytest.raises(ValueError, match="run 5 replica 0"):
        compute_mobility(glass_samples_gsd=tmp_path / "glass2.gsd", aging_paths=paths, out_gsd=tmp_path / "mob.gsd", dynamics_cfg={"windows": [1], "cage_radius": 1.4}, provenance={})
