"""S4(q, t) and ξ4 against planted answers; equilibrium liquid relaxation of random walks."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from test_dynamics import make_state, random_walk

from glasscam.analysis.heterogeneity import (
    fit_ornstein_zernike,
    four_point_structure_factor,
    s4_wavevectors,
)
from glasscam.analysis.relaxation import LIQUID_COLUMNS, time_origin_pairs
from glasscam.analysis.scattering import (
    first_peak,
    overlap_fourier_amplitudes,
    structure_factor,
)
from glasscam.io.gsd import write_states
from glasscam.plots.analysis import plot_liquid_relaxation
from glasscam.stages.dynamics import compute_aging_dynamics, compute_liquid_relaxation


def test_s4_wavevectors_are_bounded_shells_of_the_box():
    for box_length in (8.0, 40.0, 200.0):
        vectors, shell, q = s4_wavevectors(box_length, 3, q_max=2.0, max_shells=12, max_vectors_per_shell=20)
        assert len(vectors) <= 1 + 11 * 20  # independent of N: the cost per frame stays O(N)
        assert q[0] == 0 and np.all(vectors[0] == 0) and np.all(np.diff(q) > 0) and q[-1] <= 2.0
        assert q[1] == pytest.approx(2 * np.pi / box_length)  # the smallest |q| is always kept
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), q[shell])
        n = vectors * box_length / (2 * np.pi)
        np.testing.assert_allclose(n, np.round(n), atol=1e-9)  # reciprocal lattice of the box
        assert not np.any(np.all(np.isclose(vectors[1:, None, :], -vectors[None, 1:, :]), axis=-1))  # one of ±q


def test_overlap_fourier_amplitudes_match_direct_sum():
    rng = np.random.default_rng(11)
    box_length = 7.0
    positions = rng.uniform(-box_length / 2, box_length / 2, (50, 3))
    weights = rng.random(50)
    vectors, _, _ = s4_wavevectors(box_length, 3, q_max=5.0)
    w, rho = overlap_fourier_amplitudes(positions, weights, vectors, box_length, chunk=7, particle_chunk=16)
    phase = np.exp(1j * positions @ vectors.T)
    np.testing.assert_allclose(w, weights @ phase, atol=1e-10)
    np.testing.assert_allclose(rho, phase.sum(axis=0), atol=1e-10)
    with pytest.raises(ValueError, match="reciprocal lattice"):
        overlap_fourier_amplitudes(positions, weights, vectors * 1.01, box_length)


def amplitudes(positions, weights, vectors, box_length):
    w, rho = zip(*(overlap_fourier_amplitudes(p, w_, vectors, box_length) for p, w_ in zip(positions, weights, strict=True)), strict=True)
    return np.array(w), np.array(rho)


def test_s4_of_independent_particles_is_flat_chi4():
    """Bernoulli(p) weights of uniformly placed particles: S4(q) = p(1 − p)(1 − 1/M) at every q (the
    factor is that of a population variance over M trajectories), ξ4 ≈ 0. Raw weights would add
    p² S(q) = p² ≈ 0.16 at q > 0."""
    rng = np.random.default_rng(12)
    m, n, box_length, p = 160, 300, 8.0, 0.4
    vectors, shell, q = s4_wavevectors(box_length, 3, q_max=4.0, max_shells=10, max_vectors_per_shell=16)
    positions = rng.uniform(-box_length / 2, box_length / 2, (m, n, 3))
    weights = (rng.random((m, n)) < p).astype(float)
    w, rho = amplitudes(positions, weights, vectors, box_length)
    s4, err = four_point_structure_factor(w, rho, weights.mean(axis=1), n, shell)
    expected = p * (1 - p) * (1 - 1 / m)
    chi4 = n * weights.mean(axis=1).var()
    assert s4[0] == pytest.approx(chi4, rel=1e-9)  # S4(q = 0) is χ4
    assert np.all(np.abs(s4[1:] - expected) < 4 * err[1:])
    fit = fit_ornstein_zernike(q, s4, err)
    assert fit["reason"] is None and fit["n_fit_shells"] == len(q) - 1
    assert fit["chi4_inf"] == pytest.approx(expected, rel=0.05)
    assert fit["xi4"] < 0.15  # σ; no length (grid spacing 2π/L = 0.79)
    assert not fit["reliable"] and "below the particle size" in fit["flag"]  # never quoted as a length


def planted_field(n_grid, spacing, xi, rng):
    """2D Gaussian field on a periodic grid whose covariance has the Fourier transform
    Ĉ(k) = 1/(1 + k²ξ²) (Ornstein–Zernike, unit amplitude)."""
    k = 2 * np.pi * np.fft.fftfreq(n_grid, d=spacing)
    spectrum = 1 / (1 + (k[:, None] ** 2 + k[None, :] ** 2) * xi**2) / spacing**2
    return np.fft.ifft2(np.fft.fft2(rng.normal(size=(n_grid, n_grid))) * np.sqrt(spectrum)).real


def test_ornstein_zernike_fit_recovers_planted_length():
    """Weights w_j = φ(r_j), φ Gaussian with OZ spectrum of length ξ = 4, particles uniform at
    density ρ = 1, M = 48 trajectories: S4(q) = (1 − 1/M)[ρ/(1 + q²ξ²) + C(0)] with the self term
    C(0) = ⟨φ²⟩ ≈ 0.033. That flat 3 % background, which a pure OZ fit ignores, shifts ξ4 by
    −8 % (computed below from the exact expectation); the statistical error is ≈ 6 % (the fit's
    own error, which matches the scatter over seeds). Tolerance: ξ4 within 3 errors of the
    expectation's fit, and within 20 % of the planted ξ."""
    rng = np.random.default_rng(13)
    n_grid, spacing, xi, m = 128, 0.5, 4.0, 48
    box_length = n_grid * spacing
    n = int(box_length**2)
    vectors, shell, q = s4_wavevectors(box_length, 2, q_max=0.6, max_shells=16, max_vectors_per_shell=24)
    positions, weights, self_term = [], [], []
    for _ in range(m):
        field = planted_field(n_grid, spacing, xi, rng)
        cells = rng.integers(0, n_grid, (n, 2))
        positions.append((cells + rng.random((n, 2))) * spacing - box_length / 2)
        weights.append(field[cells[:, 0], cells[:, 1]])
        self_term.append(field.var())
    w, rho = amplitudes(positions, weights, vectors, box_length)
    s4, err = four_point_structure_factor(w, rho, np.mean(weights, axis=1), n, shell)
    fit = fit_ornstein_zernike(q, s4, err, fit_qxi_max=2.0, min_shells=3)
    expected = (1 - 1 / m) * (1 / (1 + q**2 * xi**2) + np.mean(self_term))
    biased = fit_ornstein_zernike(q, expected, expected / 10)["xi4"]
    assert 0.9 * xi < biased < xi
    assert fit["reason"] is None and fit["n_fit_shells"] >= 5
    assert abs(fit["xi4"] - biased) < 3 * fit["xi4_err"] and 0 < fit["xi4_err"] < 0.1 * xi
    assert fit["xi4"] == pytest.approx(xi, rel=0.2)
    assert fit["chi4_inf"] == pytest.approx(1.0, rel=0.2)
    assert fit["reliable"] and fit["flag"] is None and fit["r_squared"] > 0.9
    assert 0 < fit["fit_q_min"] < fit["fit_q_max"] <= 2.0 / fit["xi4"] + 1e-9
    small = fit_ornstein_zernike(q[:3], s4[:3], err[:3])  # q = 0 and two shells: box "too small"
    assert np.isnan(small["xi4"]) and "too small" in small["reason"] and not small["reliable"]
    # a planted S4 of another shape (a step, not a Lorentzian) is missed and flagged
    step = np.where(q < 0.3, 2.0, 0.2)
    missed = fit_ornstein_zernike(q, step, step / 50, fit_qxi_max=10.0)
    assert not missed["reliable"] and "misses" in missed["flag"]


def test_aging_dynamics_reports_s4_at_chi4_peak(tmp_path):
    rng = np.random.default_rng(14)
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    paths = []
    for k in range(12):
        paths.append(tmp_path / f"run{k}_rep0.gsd")
        write_states(paths[-1], random_walk(rng, 200, 3, times, 0.02, box_length=7.0), {"run": k, "replica": 0})
    cfg = {"q_max": 3.0, "max_shells": 8, "max_vectors_per_shell": 12}
    compute_aging_dynamics(aging_paths=paths, out_csv=tmp_path / "dyn.csv", q=4.0, a=0.3, s4=cfg)
    with open(tmp_path / "dyn.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["species"] == "all" and float(r["time"]) > 0]
    chi4 = np.array([float(r["chi4"]) for r in rows])
    s4 = json.loads((tmp_path / "dyn.json").read_text())["s4"]
    record = s4["species"]["all"]
    assert record["t_star"] == float(rows[int(np.argmax(chi4))]["time"])
    assert record["chi4_peak"] == pytest.approx(chi4.max())
    assert record["S4"][0] == pytest.approx(chi4.max(), rel=1e-9) and record["q"][0] == 0
    assert len(record["q"]) == len(record["S4"]) == len(record["S4_err"]) == len(record["n_vectors"]) <= 8
    assert s4["config"]["max_shells"] == 8 and {"xi4", "xi4_err", "chi4_inf", "reason"} <= set(record)
    compute_aging_dynamics(aging_paths=paths[:1], out_csv=tmp_path / "one.csv", q=4.0)
    assert "2 trajectories" in json.loads((tmp_path / "one.json").read_text())["s4"]["species"]["all"]["reason"]
    with pytest.raises(ValueError, match="unknown keys"):
        compute_aging_dynamics(aging_paths=paths[:2], out_csv=tmp_path / "bad.csv", q=4.0, s4={"qmax": 1})


def test_time_origin_pairs():
    assert time_origin_pairs([0.0, 1.0, 2.0, 3.0]) == {1.0: [(0, 1), (1, 2), (2, 3)], 2.0: [(0, 2), (1, 3)], 3.0: [(0, 3)]}
    assert time_origin_pairs([0.0, 1.0, 10.0, 100.0]) == {1.0: [(0, 1)], 10.0: [(0, 2)], 100.0: [(0, 3)]}
    blocks = time_origin_pairs([0.0, 1.0, 10.0, 100.0, 101.0, 110.0])  # two log-spaced blocks
    assert blocks[1.0] == [(0, 1), (3, 4)] and blocks[10.0] == [(0, 2), (3, 5)]
    assert len(time_origin_pairs(np.arange(100.0), max_origins=8)[1.0]) == 8


def test_liquid_relaxation_of_random_walks(tmp_path):
    """Brownian particles: MSD = 2dDt, Fs(q, t) = exp(−q²Dt), so τα = 1/(q²D) at each 'temperature'.
    Tolerance 10 %: near τα a single-origin Fs of 800 particles scatters by ≈ 0.013, i.e. ≈ 4 % in τα."""
    rng = np.random.default_rng(15)
    q, diffusion = 4.0, {0.5: 0.01, 1.0: 0.03, 2.0: 0.08}
    log_times = np.r_[0.0, np.geomspace(0.1, 60.0, 24)]
    paths = []
    for temperature, d in diffusion.items():
        for run, times in enumerate([log_times, np.arange(0.0, 61.0, 2.0)]):  # one origin / many origins
            paths.append(tmp_path / f"run{run}_T{temperature}.gsd")
            write_states(paths[-1], random_walk(rng, 800, 3, times, d), {"run": run, "temperature": temperature})
    compute_liquid_relaxation(trajectory_paths=paths, out_json=tmp_path / "liquid.json", q=q, a=0.3)
    record = json.loads((tmp_path / "liquid.json").read_text())
    assert [t["temperature"] for t in record["temperatures"]] == sorted(diffusion)
    for entry in record["temperatures"]:
        d = diffusion[entry["temperature"]]
        data = entry["species"]["all"]
        assert entry["n_trajectories"] == 2 and entry["q"] == q
        assert data["tau_alpha"] == pytest.approx(1 / (q**2 * d), rel=0.1)
        assert data["D"] == pytest.approx(d, rel=0.1) and data["msd_exponent"] == pytest.approx(1.0, abs=0.1)
        assert data["tau_diffusive"] == pytest.approx(data["tau_alpha"], rel=0.15)
        assert data["n_samples"][data["time"].index(2.0)] == 30  # origins of the equally spaced run (the log run has no t = 2)
    with open(tmp_path / "liquid.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == LIQUID_COLUMNS and {r["species"] for r in rows} == {"all", "A"}
    plot_liquid_relaxation(tmp_path / "liquid.json", tmp_path / "liquid.png")
    assert (tmp_path / "liquid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_liquid_relaxation_q_from_structure_and_short_runs(tmp_path):
    grid = np.array(np.meshgrid(*[np.arange(6)] * 3, indexing="ij")).reshape(3, -1).T - 3.0
    rng = np.random.default_rng(16)
    states = [make_state(grid + rng.normal(0, 0.02, grid.shape), 6.0, 3, t) for t in (0.0, 1.0, 2.0)]
    write_states(tmp_path / "cold.gsd", states, {"temperature": 0.1})
    compute_liquid_relaxation(trajectory_paths=[tmp_path / "cold.gsd"], out_json=tmp_path / "cold.json")
    entry = json.loads((tmp_path / "cold.json").read_text())["temperatures"][0]
    assert entry["q"] == first_peak(*structure_factor([states[0], states[-1]])) and entry["q_source"].startswith("first peak")
    assert entry["q"] in (pytest.approx(2 * np.pi, abs=0.05), pytest.approx(2 * np.pi * np.sqrt(2), abs=0.05))  # Bragg peaks
    data = entry["species"]["all"]
    assert np.isnan(data["D"]) and "diffusive regime not reached" in data["reason"] and np.isnan(data["tau_alpha"])
