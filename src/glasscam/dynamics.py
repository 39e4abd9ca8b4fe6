"""Particle and collective dynamics of aging trajectories (time in τ, lengths in σ).

Displacement of particle i between frames 0 and k, centre-of-mass drift removed:

    Δr_i(t_k) = [r_i(t_k) − r_i(t_0)] − [R(t_k) − R(t_0)],   R = Σ_j m_j r_j / Σ_j m_j

(unwrapped coordinates r = position + image · L). From the displacements of N particles:

    MSD(t)  = (1/N) Σ_i |Δr_i(t)|²
    Fs(q,t) = (1/N) Σ_i ⟨exp(i q·Δr_i)⟩_q̂ = (1/N) Σ_i sin(q|Δr_i|)/(q|Δr_i|)   (3D)
                                         = (1/N) Σ_i J0(q|Δr_i|)              (2D)
    Q(t; a) = (1/N) Σ_i Θ(a − |Δr_i(t)|)
    χ4(t)   = N [⟨Q²⟩ − ⟨Q⟩²]        (⟨·⟩ over trajectories: runs and replicas)

Per particle, over the window [t_w, t_w + Δt]:

* mobility |Δr_i|;
* cage-relative displacement |Δr_i − (1/n_i) Σ_{j ∈ shell(i)} Δr_j|, shell(i) = particles within
  ``cage_radius`` of i at t_w (excluding i);
* propensity ⟨|Δr_i(Δt)|⟩_iso, the mean over the iso-configurational replicas of one run
  (t_w = 0, identical positions, independent Maxwell–Boltzmann velocities).

q* is the position of the main (first) peak of S(k) = (1/N) |Σ_j exp(ik·r_j)|², averaged over
the box's reciprocal-lattice vectors in |k| bins (a bounded subset per bin, so O(N) per frame);
τα solves Fs(q*, τα) = 1/e by linear interpolation in ln t.

Dynamic heterogeneity length: the four-point structure factor of the overlap weights
w_j = Θ(a − |Δr_j(t)|) at the time t* of the χ4 peak,

    S4(q, t) = (1/N) [⟨|W(q, t)|²⟩ − |⟨W(q, t)⟩|²],   W(q, t) = Σ_j [w_j(t) − ⟨Q(t)⟩] e^{iq·r_j(0)}

on shells of equal |q| of the reciprocal lattice (S4(0, t) = χ4(t)), fitted with the
Ornstein–Zernike form χ4^∞ / (1 + (q ξ4)²) at small q where the box allows.

Equilibrium liquids: the same Fs, MSD, Q and χ4 averaged over time origins, τα(T), and the
self-diffusion coefficient D from MSD = 2dDt in the diffusive regime.

Every per-frame operation is O(N) (O(N K) for K wave vectors, K bounded independently of N).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import freud
import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import linregress
from scipy.special import j0

from .indicators import freud_system, per_frame_scalars, rdf_first_minimum
from .outputs import write_table
from .trajectory import (
    State,
    TrajectoryError,
    atomic_output,
    per_particle_key,
    read_logs,
    read_provenance,
    read_states,
    write_states,
)

logger = logging.getLogger(__name__)

DYNAMICS_COLUMNS = ["species", "time", "msd", "fs", "overlap", "chi4", "n_trajectories"]
MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")
POSITION_MATCH_TOLERANCE = 1e-3  # σ; glass samples and aging frames are both float32 copies


def displacements(states: list[State], drift_removed: bool = True) -> np.ndarray:
    """Δr_i(t_k) relative to ``states[0]``, shape (T, N, d), σ; with ``drift_removed`` the
    mass-weighted centre-of-mass displacement R(t_k) − R(t_0) is subtracted."""
    if not states:
        raise ValueError("displacements: no states given")
    n, d = len(states[0].positions), states[0].dimensions
    if any(len(s.positions) != n for s in states):
        raise ValueError("displacements: states have different particle numbers")
    unwrapped = np.stack([s.unwrapped[:, :d] for s in states])
    delta = unwrapped - unwrapped[0]
    if drift_removed:
        m = states[0].masses / states[0].masses.sum()
        delta -= np.einsum("i,tid->td", m, delta)[:, None, :]
    return delta


def window_displacement(start: State, end: State, drift_removed: bool = True) -> np.ndarray:
    """Δr_i over [start.time, end.time], shape (N, d)."""
    return displacements([start, end], drift_removed)[-1]


def cage_relative_displacement(displacement: np.ndarray, reference: State, cage_radius: float) -> np.ndarray:
    """Δr_i − mean of Δr_j over the neighbours j of i within ``cage_radius`` at the window's
    start ``reference`` (self excluded), shape (N, d); NaN rows for particles without neighbours."""
    box, points = freud_system(reference)
    nlist = (
        freud.locality.AABBQuery(box, points)
        .query(points, {"r_max": float(cage_radius), "exclude_ii": True})
        .toNeighborList()
    )
    n, d = displacement.shape
    counts = np.bincount(nlist.query_point_indices, minlength=n).astype(np.float64)
    cage = np.stack(
        [np.bincount(nlist.query_point_indices, weights=displacement[nlist.point_indices, k], minlength=n) for k in range(d)],
        axis=1,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return displacement - cage / counts[:, None]


def propensity(replica_displacements) -> np.ndarray:
    """⟨|Δr_i|⟩ over iso-configurational replicas; input shape (R, N, d), output (N,)."""
    disp = np.asarray(replica_displacements, dtype=np.float64)
    if disp.ndim != 3:
        raise ValueError(f"propensity expects (replicas, N, d) displacements, got shape {disp.shape}")
    return np.linalg.norm(disp, axis=-1).mean(axis=0)


def mean_squared_displacement(disp: np.ndarray) -> np.ndarray:
    """MSD = (1/N) Σ_i |Δr_i|² over the particle axis (−2) of displacements (..., N, d), σ²."""
    return np.sum(disp**2, axis=-1).mean(axis=-1)


def self_intermediate_scattering(disp: np.ndarray, q: float) -> np.ndarray:
    """Fs(q) = (1/N) Σ_i sin(q|Δr_i|)/(q|Δr_i|) for d = 3, (1/N) Σ_i J0(q|Δr_i|) for d = 2
    (isotropic average of exp(iq·Δr)); d is the last axis of ``disp``."""
    r = np.linalg.norm(disp, axis=-1)
    d = disp.shape[-1]
    if d == 3:
        values = np.sinc(q * r / np.pi)  # np.sinc(x) = sin(πx)/(πx)
    elif d == 2:
        values = j0(q * r)
    else:
        raise ValueError(f"self_intermediate_scattering: dimension {d} not supported")
    return values.mean(axis=-1)


def overlap(disp: np.ndarray, a: float = 0.3) -> np.ndarray:
    """Q(a) = (1/N) Σ_i Θ(a − |Δr_i|), the fraction of particles that moved less than a."""
    return (np.linalg.norm(disp, axis=-1) < a).mean(axis=-1)


def chi4(overlaps, n_particles: int) -> np.ndarray:
    """χ4 = N [⟨Q²⟩ − ⟨Q⟩²] over trajectories (axis 0 of ``overlaps``)."""
    q = np.asarray(overlaps, dtype=np.float64)
    return n_particles * (np.mean(q**2, axis=0) - np.mean(q, axis=0) ** 2)


def reciprocal_lattice_vectors(box_length: float, dimensions: int, k_max: float) -> np.ndarray:
    """Reciprocal-lattice vectors k = 2πn/L (n ∈ ℤ^d) with 0 < |k| ≤ k_max, one of each ±k pair
    (first non-zero component of n positive; S(k) and |W(k)|² are even in k), shape (K, d), σ⁻¹."""
    n_max = int(k_max * box_length / (2 * np.pi))
    axis = np.arange(-n_max, n_max + 1)
    n = np.array(np.meshgrid(*[axis] * dimensions, indexing="ij")).reshape(dimensions, -1).T
    nonzero = n != 0
    first = n[np.arange(len(n)), np.argmax(nonzero, axis=1)]
    k = 2 * np.pi / box_length * n[first > 0]
    return k[np.linalg.norm(k, axis=1) <= k_max * (1 + 1e-12)]


def capped_selection(groups: np.ndarray, cap: int) -> np.ndarray:
    """Indices keeping at most ``cap`` members of every group label in ``groups``, chosen by a fixed
    pseudo-random permutation (deterministic, spread over directions); sorted."""
    order = np.random.default_rng(0).permutation(len(groups))
    order = order[np.argsort(groups[order], kind="stable")]
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return np.sort(order[np.arange(len(order)) - starts < cap])


def structure_factor(states: list[State], k_max: float = 12.0, bins: int = 240, max_vectors_per_bin: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """S(k) = |Σ_j exp(ik·r_j)|² / N averaged over ``states`` and over the reciprocal-lattice
    vectors k = 2πn/L in each of ``bins`` |k| bins on (0, k_max] (σ⁻¹), 2D and 3D alike.

    At most ``max_vectors_per_bin`` vectors per bin (a fixed pseudo-random subset) enter the sum,
    so the cost per frame is O(N · bins · max_vectors_per_bin), linear in N (all vectors would
    make it O(N²): their number grows as L^d). NaN in bins holding no reciprocal-lattice vector."""
    if not states:
        raise ValueError("structure_factor: no states given")
    d, L = states[0].dimensions, states[0].box_length
    if any(s.dimensions != d or s.box_length != L for s in states):
        raise ValueError("structure_factor: states have different boxes")
    k_vectors = reciprocal_lattice_vectors(L, d, k_max)
    edges = np.linspace(0.0, k_max, bins + 1)
    index = np.clip(np.digitize(np.linalg.norm(k_vectors, axis=1), edges) - 1, 0, bins - 1)
    keep = capped_selection(index, max_vectors_per_bin)
    k_vectors, index = k_vectors[keep], index[keep]
    s_k = np.zeros(len(k_vectors))
    for state in states:
        _, density = overlap_fourier_amplitudes(state.positions[:, :d], np.ones(len(state.positions)), k_vectors, L)
        s_k += np.abs(density) ** 2 / len(state.positions)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        return 0.5 * (edges[1:] + edges[:-1]), np.bincount(index, weights=s_k / len(states), minlength=bins) / counts


def overlap_fourier_amplitudes(positions: np.ndarray, weights: np.ndarray, q_vectors: np.ndarray, box_length: float, chunk: int = 64, particle_chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """W(q) = Σ_j w_j exp(iq·r_j) and ρ(q) = Σ_j exp(iq·r_j) for the reciprocal-lattice vectors
    q = 2πn/L, the rows of ``q_vectors`` (K, d); ``positions`` (N, d), σ.

    exp(iq·r_j) = Π_α exp(i n_α θ_jα), θ_jα = 2π r_jα/L: the powers exp(i m θ_jα), |m| ≤ max |n_α|,
    are tabulated by repeated multiplication, and each vector then costs d − 1 complex products
    per particle. Cost O(N K) — linear in N for a fixed set of wave vectors; memory bounded by
    the particle and vector chunks (the defaults keep each (vectors × particles) phase block at
    1 MiB, inside the cache: larger blocks made the time per particle grow with N)."""
    positions = np.asarray(positions, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n = q_vectors * box_length / (2 * np.pi)
    n_int = np.rint(n).astype(np.int64)
    if not np.allclose(n, n_int, atol=1e-6):
        raise ValueError("overlap_fourier_amplitudes: wave vectors must lie on the reciprocal lattice 2πn/L of the box")
    n_max = int(np.abs(n_int).max()) if len(n_int) else 0
    dimensions = positions.shape[1]
    w_q = np.zeros(len(q_vectors), dtype=np.complex128)
    rho_q = np.zeros(len(q_vectors), dtype=np.complex128)
    for first in range(0, len(positions), particle_chunk):
        base = np.exp(2j * np.pi / box_length * positions[first : first + particle_chunk].T)  # (d, n)
        positive = np.cumprod(np.broadcast_to(base, (n_max, *base.shape)), axis=0)  # base^1 … base^n_max
        powers = np.ascontiguousarray(np.concatenate([positive[::-1].conj(), np.ones((1, *base.shape)), positive]).transpose(1, 0, 2))
        w = weights[first : first + particle_chunk]
        for start in range(0, len(q_vectors), chunk):
            block = n_int[start : start + chunk] + n_max
            phase = powers[0][block[:, 0]]  # (vectors, particles)
            for axis in range(1, dimensions):
                phase = phase * powers[axis][block[:, axis]]
            sums = phase.view(np.float64).reshape(len(block), -1, 2).transpose(0, 2, 1) @ w  # (vectors, re/im)
            w_q[start : start + chunk] += sums[:, 0] + 1j * sums[:, 1]
            rho_q[start : start + chunk] += phase.sum(axis=1)
    return w_q, rho_q


def s4_wavevectors(box_length: float, dimensions: int, q_max: float, max_shells: int = 16, max_vectors_per_shell: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wave vectors for S4(q): q = 0, then shells of equal |q| = 2π|n|/L ≤ ``q_max`` on the
    reciprocal lattice of the box (one of each ±q pair).

    At most ``max_shells`` − 1 shells (the smallest |q| always, the rest nearest to an even grid
    in |q| up to q_max) and ``max_vectors_per_shell`` vectors per shell, so the set — and the cost
    O(N K) per frame — is bounded however large the box. Returns (vectors (K, d), shell index
    of each vector (K,), |q| of each shell (S,) with shell 0 the q = 0 vector)."""
    if max_shells < 2 or max_vectors_per_shell < 1:
        raise ValueError(f"max_shells = {max_shells}, max_vectors_per_shell = {max_vectors_per_shell}; expected ≥ 2 and ≥ 1")
    vectors = reciprocal_lattice_vectors(box_length, dimensions, q_max)
    if len(vectors) == 0:
        raise ValueError(f"q_max = {q_max} is below the smallest wave vector 2π/L = {2 * np.pi / box_length:.3f} of the box")
    n_squared = np.rint((vectors * box_length / (2 * np.pi)) ** 2).sum(axis=1).astype(np.int64)
    shell_n2, shell = np.unique(n_squared, return_inverse=True)
    chosen = np.arange(len(shell_n2))
    if len(shell_n2) > max_shells - 1:
        shell_q = 2 * np.pi / box_length * np.sqrt(shell_n2)
        targets = np.linspace(shell_q[0], shell_q[-1], max_shells - 1)
        chosen = np.unique(np.abs(shell_q[None, :] - targets[:, None]).argmin(axis=1))
    keep = np.isin(shell, chosen)
    vectors, shell = vectors[keep], np.searchsorted(chosen, shell[keep])
    keep = capped_selection(shell, max_vectors_per_shell)
    vectors = np.vstack([np.zeros((1, dimensions)), vectors[keep]])
    shell = np.r_[0, shell[keep] + 1]
    q_shell = np.r_[0.0, 2 * np.pi / box_length * np.sqrt(shell_n2[chosen])]
    return vectors, shell, q_shell


def four_point_structure_factor(w_amplitudes, rho_amplitudes, overlaps, n_particles: int, shell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S4 per shell of equal |q| from M trajectories (rows) and K wave vectors (columns).

    With δw_j = w_j − ⟨Q⟩ (⟨Q⟩ the mean overlap over trajectories) and
    W(q) = Σ_j δw_j e^{iq·r_j(0)} = W_w(q) − ⟨Q⟩ ρ(q)  (``w_amplitudes``, ``rho_amplitudes``
    from :func:`overlap_fourier_amplitudes`, ``overlaps`` the Q of each trajectory):

        S4(q) = (1/N) [⟨|W(q)|²⟩ − |⟨W(q)⟩|²]

    averaged over the vectors of each shell (``shell`` as from :func:`s4_wavevectors`, shell 0
    the q = 0 vector). Subtracting ⟨Q⟩ removes the static term
    ⟨Q⟩² N S(q) that raw weights leave when trajectories start from different configurations;
    at q = 0, S4 = N[⟨Q²⟩ − ⟨Q⟩²] = χ4 exactly. Independent particles give S4(q) = χ4 at every q.
    Returns (S4 (S,), standard error (S,)). The error assumes Gaussian amplitudes W (a sum over
    many particles, as long as the dynamic correlation volume is small against the box): then
    |W − ⟨W⟩|² is exponentially distributed at q ≠ 0, SE = S4/√n for the n = M × (vectors in the
    shell) values, and χ²-distributed with one degree of freedom at q = 0, SE = S4 √(2/M). (The
    shells' own scatter is no better an error estimate: with few values it correlates with S4,
    and a fit weighted by it is biased low.)"""
    mean_overlap = float(np.mean(overlaps))
    amplitude = np.asarray(w_amplitudes) - mean_overlap * np.asarray(rho_amplitudes)
    values = np.abs(amplitude - amplitude.mean(axis=0)) ** 2 / n_particles
    n_shells = int(shell.max()) + 1
    s4, s4_err = np.empty(n_shells), np.empty(n_shells)
    for s in range(n_shells):
        v = values[:, shell == s].ravel()
        s4[s] = v.mean()
        s4_err[s] = s4[s] * (np.sqrt(2 / len(v)) if s == 0 else 1 / np.sqrt(len(v)))
    return s4, s4_err


def _ornstein_zernike(q, chi4_inf, xi_squared):
    return chi4_inf / (1 + q**2 * xi_squared)


def _fit_ornstein_zernike_window(q, s4, relative_err, reweightings: int = 4):
    """(params, covariance) of the OZ fit on one window. With relative errors, the weights are
    σ_i = model(q_i) × relative_err_i, refined ``reweightings`` times: weighting by each shell's
    own scatter would favour shells that fluctuated low (the scatter of |W|² scales with its
    mean) and bias χ4^∞ and ξ4 downwards."""
    xi2_floor = -0.99 / q.max() ** 2
    params = np.array([max(s4.max(), 1e-12), 0.0])
    if np.all(s4 > 0):  # 1/S4 = (1 + q²ξ²)/χ4^∞ is linear in q²: starting values
        slope, intercept = np.polyfit(q**2, 1 / s4, 1)
        if intercept > 0:
            params = np.array([1 / intercept, max(slope / intercept, 0.5 * xi2_floor)])
    sigma = None if relative_err is None else s4 * relative_err
    for _ in range(1 + (0 if relative_err is None else reweightings)):
        params, cov = curve_fit(
            _ornstein_zernike, q, s4, p0=params, sigma=sigma, absolute_sigma=sigma is not None, bounds=([0.0, xi2_floor], [np.inf, np.inf])
        )
        if relative_err is not None:
            sigma = _ornstein_zernike(q, *params) * relative_err
    return params, cov, sigma


def fit_ornstein_zernike(q, s4, s4_err=None, fit_qxi_max: float = 2.0, min_shells: int = 3) -> dict:
    """Fit S4(q) = χ4^∞ / (1 + (q ξ4)²) on the shells 0 < q ≤ ``fit_qxi_max``/ξ4 (window found
    self-consistently; q = 0 is excluded, where a closed box suppresses χ4).

    Weighted least squares with (χ4^∞, ξ4²) as parameters, so that a flat S4 (ξ4 → 0) is an
    interior point; the weights are σ_i = model(q_i) · s4_err_i/S4_i (the relative errors of
    ``s4_err`` applied to the model, refined iteratively; unweighted without ``s4_err``).
    ξ4 = √max(ξ4², 0), its error σ(ξ4²)/(2ξ4) (√σ(ξ4²) at ξ4 = 0). ξ4 is NaN, with the reason,
    when fewer than ``min_shells`` shells lie in the window — the box is then too small to see
    the plateau of S4 below q ≈ 1/ξ4.
    Returns chi4_inf, chi4_inf_err, xi4, xi4_err, xi4_squared, xi4_squared_err, fit_q_max,
    n_fit_shells, reduced_chi2, reason (None on success)."""
    q, s4 = np.asarray(q, float), np.asarray(s4, float)
    usable = (q > 0) & np.isfinite(s4)
    relative = None
    if s4_err is not None:
        err = np.asarray(s4_err, float)
        if np.all(np.isfinite(err[usable]) & (err[usable] > 0) & (s4[usable] > 0)):
            relative = err / np.where(s4 > 0, s4, 1.0)
    out = dict.fromkeys(
        ["chi4_inf", "chi4_inf_err", "xi4", "xi4_err", "xi4_squared", "xi4_squared_err", "fit_q_max", "reduced_chi2"], float("nan")
    )
    out["n_fit_shells"], out["reason"] = 0, None
    window, fitted = usable, None
    params = cov = sigma = None
    for _ in range(20):
        if window.sum() < min_shells or (fitted is not None and np.array_equal(window, fitted)):
            break
        try:
            params, cov, sigma = _fit_ornstein_zernike_window(q[window], s4[window], None if relative is None else relative[window])
        except (RuntimeError, ValueError) as error:
            out["reason"] = f"fit failed: {error}"
            return out
        fitted = window
        xi = np.sqrt(max(params[1], 0.0))
        window = usable & (q * xi <= fit_qxi_max) if xi > 0 else usable
    if fitted is not None and not np.array_equal(window, fitted) and window.sum() >= min_shells:
        window = fitted  # the window oscillates between two sets: keep the last one fitted
    n_window = int(window.sum())
    if params is None or n_window < min_shells:
        q_positive = q[usable]
        smallest = f"{q_positive.min():.3g}" if len(q_positive) else "none"
        out["n_fit_shells"] = n_window
        out["reason"] = (
            f"only {n_window} q shells with q ξ4 ≤ {fit_qxi_max:g} (need {min_shells}; smallest q = {smallest} σ⁻¹"
            + (f", ξ4 ≈ {np.sqrt(max(params[1], 0)):.3g} σ" if params is not None else "")
            + "): the box is too small for the Ornstein–Zernike fit"
        )
        return out
    residual = (s4[window] - _ornstein_zernike(q[window], *params)) / (1.0 if sigma is None else sigma)
    xi2, xi2_err = float(params[1]), float(np.sqrt(cov[1, 1]))
    xi = np.sqrt(max(xi2, 0.0))
    out.update(
        chi4_inf=float(params[0]),
        chi4_inf_err=float(np.sqrt(cov[0, 0])),
        xi4=float(xi),
        xi4_err=float(xi2_err / (2 * xi)) if xi > 0 else float(np.sqrt(xi2_err)),
        xi4_squared=xi2,
        xi4_squared_err=xi2_err,
        fit_q_max=float(q[window].max()),
        n_fit_shells=n_window,
        reduced_chi2=float(np.sum(residual**2) / (n_window - 2)) if sigma is not None and n_window > 2 else float("nan"),
    )
    return out


def first_peak(k: np.ndarray, s: np.ndarray, k_min: float = 3.0) -> float:
    """k of the main peak of S(k) above ``k_min`` (the first peak dominates in liquids and glasses)."""
    ok = (k >= k_min) & np.isfinite(s)
    if not ok.any():
        raise ValueError(f"S(k) has no finite values above k_min = {k_min}")
    return float(k[ok][np.argmax(s[ok])])


def relaxation_time(times, fs, level: float = 1 / np.e) -> float:
    """τ with Fs(τ) = ``level`` (first downward crossing, linear interpolation in ln t); NaN if
    Fs never falls to ``level``."""
    times, fs = np.asarray(times, dtype=np.float64), np.asarray(fs, dtype=np.float64)
    below = np.nonzero(fs <= level)[0]
    if len(below) == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(times[0])
    t0, t1 = times[i - 1], times[i]
    f = (fs[i - 1] - level) / (fs[i - 1] - fs[i])
    if t0 > 0:
        return float(np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0))))
    return float(t0 + f * (t1 - t0))


def _species_masks(state: State) -> dict[str, np.ndarray]:
    masks = {"all": np.ones(len(state.typeid), dtype=bool)}
    for t, name in enumerate(state.types):
        if np.any(state.typeid == t):
            masks[name] = state.typeid == t
    return masks


S4_DEFAULTS = {"q_max": 3.0, "max_shells": 16, "max_vectors_per_shell": 24, "fit_qxi_max": 2.0, "min_shells": 3}


def _distinct_states(states: list[State]) -> list[State]:
    """``states`` without repeated configurations (iso-configurational replicas share frame 0)."""
    seen, out = set(), []
    for state in states:
        key = state.positions.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(state)
    return out


def _frame_at(times, t: float) -> int | None:
    matches = [i for i, ti in enumerate(times) if round(float(ti), 9) == t]
    return matches[0] if matches else None


def _check_s4_cfg(s4_cfg: dict | None) -> dict:
    cfg = {**S4_DEFAULTS, **(s4_cfg or {})}
    unknown = set(cfg) - set(S4_DEFAULTS)
    if unknown:
        raise ValueError(f"dynamics.s4: unknown keys {sorted(unknown)}; expected {sorted(S4_DEFAULTS)}")
    return cfg


@dataclass
class _OverlapRecord:
    """What S4 needs of one trajectory: frame times (T,), frame-0 positions (N, d) and the
    overlap weights Θ(a − |Δr_i(t_k)|) of every frame (T, N)."""

    label: str
    times: np.ndarray
    start: np.ndarray
    weights: np.ndarray


def _four_point(records: list[_OverlapRecord], box_length: float, dimensions: int, species_masks: dict, chi4_rows: dict, cfg: dict) -> dict:
    """S4(q, t*) and its Ornstein–Zernike fit per species at the time t* of the χ4 peak."""
    vectors, shell, q_shell = s4_wavevectors(box_length, dimensions, float(cfg["q_max"]), int(cfg["max_shells"]), int(cfg["max_vectors_per_shell"]))
    out = {}
    for species, mask in species_masks.items():
        times = np.array([t for t, _ in chi4_rows[species]])
        chi = np.array([c for _, c in chi4_rows[species]])
        ok = (times > 0) & np.isfinite(chi)
        record = {"t_star": float("nan"), "chi4_peak": float("nan"), "reason": None}
        if not ok.any():
            record["reason"] = "χ4 and S4 need ≥ 2 trajectories"
            out[species] = record
            continue
        t_star = float(times[ok][np.argmax(chi[ok])])
        w_amplitudes, rho_amplitudes, overlaps = [], [], []
        for rec in records:
            index = _frame_at(rec.times, t_star)
            if index is None:
                continue
            weights = rec.weights[index][mask]
            w_q, rho_q = overlap_fourier_amplitudes(rec.start[mask], weights, vectors, box_length)
            w_amplitudes.append(w_q)
            rho_amplitudes.append(rho_q)
            overlaps.append(weights.mean())
        s4, s4_err = four_point_structure_factor(w_amplitudes, rho_amplitudes, overlaps, int(mask.sum()), shell)
        record.update(
            t_star=t_star,
            chi4_peak=float(chi[ok].max()),
            n_trajectories=len(overlaps),
            q=q_shell.tolist(),
            S4=s4.tolist(),
            S4_err=s4_err.tolist(),
            n_vectors=np.bincount(shell).tolist(),
            **fit_ornstein_zernike(q_shell, s4, s4_err, float(cfg["fit_qxi_max"]), int(cfg["min_shells"])),
        )
        out[species] = record
    return {"config": cfg, "model": "S4(q) = chi4_inf / (1 + (q xi4)^2)", "species": out}


def first_peak_q(first_frames: list[State]) -> tuple[float, np.ndarray, np.ndarray]:
    """q* = the first peak of S(k) of the distinct configurations ``first_frames`` (σ⁻¹), with
    (k, S(k)) (:func:`structure_factor`, :func:`first_peak`)."""
    k, s = structure_factor(_distinct_states(first_frames))
    return first_peak(k, s), k, s


def aging_dynamics(trajectories: Iterable[list[State]], q: float, a: float = 0.3, s4: dict | None = None) -> tuple[list[dict], dict]:
    """MSD, Fs(q, t), Q(t; a) and χ4(t) from the first frame of every trajectory (a list of
    states with ``time`` set, τ), averaged over trajectories at equal times, per species
    (all / each type); S4(q, t*) and ξ4 at the time t* of the χ4 peak (:func:`_four_point`).

    Pure: states in, numbers out. ``trajectories`` is consumed once (a generator reading one
    file at a time keeps memory at one trajectory plus (frames × N) overlap flags each).
    Returns (rows with keys :data:`DYNAMICS_COLUMNS`, summary {q, a, tau_alpha, n_trajectories,
    s4}). Errors: no trajectories; trajectories with different boxes or particle numbers."""
    cfg = _check_s4_cfg(s4)
    samples: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = {}
    species_masks: dict[str, np.ndarray] = {}
    records: list[_OverlapRecord] = []
    box = None
    for index, states in enumerate(trajectories):
        if not states:
            raise ValueError(f"aging_dynamics: trajectory {index} has no frames")
        first = states[0]
        if box is None:
            box = (first.box_length, first.dimensions, len(first.positions))
        elif (first.box_length, first.dimensions, len(first.positions)) != box:
            raise ValueError(
                f"aging_dynamics: trajectory {index} has box L = {first.box_length:g}, d = {first.dimensions}, "
                f"N = {len(first.positions)}; trajectory 0 has L = {box[0]:g}, d = {box[1]}, N = {box[2]}"
            )
        times = np.array([st.time for st in states])
        disp = displacements(states)
        weights = np.linalg.norm(disp, axis=-1) < a
        records.append(_OverlapRecord(str(index), times, first.positions[:, : first.dimensions].copy(), weights))
        for species, mask in _species_masks(first).items():
            counts[species] = int(mask.sum())
            species_masks[species] = mask
            d = disp[:, mask]
            for t, m, f, o in zip(times, mean_squared_displacement(d), self_intermediate_scattering(d, q), weights[:, mask].mean(axis=-1), strict=True):
                entry = samples[(species, round(float(t), 9))]
                entry["msd"].append(m)
                entry["fs"].append(f)
                entry["overlap"].append(o)
    if box is None:
        raise ValueError("aging_dynamics: no trajectories given")
    rows = []
    for (species, t), entry in sorted(samples.items()):
        n_traj = len(entry["overlap"])
        rows.append(
            {
                "species": species,
                "time": t,
                "msd": float(np.mean(entry["msd"])),
                "fs": float(np.mean(entry["fs"])),
                "overlap": float(np.mean(entry["overlap"])),
                "chi4": float(chi4(entry["overlap"], counts[species])) if n_traj > 1 else float("nan"),
                "n_trajectories": n_traj,
            }
        )
    tau = {}
    for species in counts:
        sel = [r for r in rows if r["species"] == species]
        tau[species] = relaxation_time([r["time"] for r in sel], [r["fs"] for r in sel])
    summary = {
        "q": float(q),
        "a": float(a),
        "tau_alpha": tau,
        "n_trajectories": len(records),
        "s4": _four_point(
            records, box[0], box[1], species_masks, {sp: [(r["time"], r["chi4"]) for r in rows if r["species"] == sp] for sp in counts}, cfg
        ),
    }
    return rows, summary


def _read(path, reader: dict | None):
    from .readers import read_trajectory

    return read_trajectory(path, **(reader or {})).states


def _first_frame(path, reader: dict | None) -> State:
    from .readers import detect_format, read_gsd_frame

    reader = reader or {}
    if detect_format(path, reader.get("fmt", "auto")) == "gsd" and not reader.get("type_map") and not reader.get("species"):
        return read_gsd_frame(path, 0, require_time=False)
    return _read(path, {**reader, "require_time": False})[0]


def compute_aging_dynamics(aging_paths, out_csv, q: float | None = None, a: float = 0.3, out_json=None, s4: dict | None = None, reader: dict | None = None) -> None:
    """Stage: :func:`aging_dynamics` of the trajectory files ``aging_paths`` → tidy CSV (columns
    :data:`DYNAMICS_COLUMNS`) and a JSON (``out_json``, default the CSV path with suffix
    ``.json``) holding q (σ⁻¹; the first peak of S(k) of the distinct first frames when
    ``q`` is None), a, S(k), τα per species and ``s4``: per species t*, χ4(t*), S4 and its
    standard error on the shells q (q[0] = 0, S4[0] = χ4(t*)), the number of vectors per shell and
    the fit of :func:`fit_ornstein_zernike` (χ4^∞, ξ4 ± error, or NaN and a reason).
    ``s4`` options (:data:`S4_DEFAULTS`): ``q_max`` (σ⁻¹), ``max_shells``,
    ``max_vectors_per_shell`` (see :func:`s4_wavevectors`), ``fit_qxi_max``, ``min_shells``.
    Files are read by :func:`glasscam.readers.read_trajectory` with keyword arguments ``reader``
    (format, type_map, dt, …), so a file that cannot be analysed correctly is refused by name.
    Cost per frame O(N), with O(N · K) for the K ≤ max_shells · max_vectors_per_shell S4 vectors.
    """
    paths = [Path(p) for p in aging_paths]
    if not paths:
        raise ValueError("compute_aging_dynamics: no aging trajectories given")
    q_source, k, s = "config", None, None
    if q is None:
        q, k, s = first_peak_q([_first_frame(p, reader) for p in paths])
        q_source = "first peak of S(k) at t = 0"
    rows, summary = aging_dynamics((_read(p, reader) for p in paths), q, a, s4)
    write_table(out_csv, rows, DYNAMICS_COLUMNS)
    record = {
        "q": summary["q"],
        "q_source": q_source,
        "a": summary["a"],
        "tau_alpha": summary["tau_alpha"],
        "n_trajectories": summary["n_trajectories"],
        "trajectories": [str(p) for p in paths],
        "k": None if k is None else k.tolist(),
        "S_k": None if s is None else s.tolist(),
        "s4": summary["s4"],
    }
    json_path = Path(out_json) if out_json is not None else Path(out_csv).with_suffix(".json")
    with atomic_output(json_path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, allow_nan=True))


LIQUID_COLUMNS = ["temperature", "species", "time", "msd", "fs", "overlap", "chi4", "n_samples"]


def time_origin_pairs(times, max_origins: int = 64, rtol: float = 1e-6) -> dict[float, list[tuple[int, int]]]:
    """Frame pairs (i, j) per lag t_j − t_i, for lags in the set {t_k − t_0} of the trajectory.

    Every frame i is a candidate time origin; a lag counts for origin i when a frame lies at
    t_i + lag (relative tolerance ``rtol``). Log-spaced frames from one origin give their own
    lags only; equally spaced or repeated log-spaced blocks give many origins per lag. At most
    ``max_origins`` origins (evenly spread) are used, so the cost is O(max_origins · frames · N)."""
    times = np.asarray(times, dtype=np.float64)
    if np.any(np.diff(times) <= 0):
        raise ValueError("time_origin_pairs: frame times must increase")
    lags = np.unique(times[1:] - times[0])
    lags = lags[lags > 0]
    tolerance = rtol * max(float(np.abs(times).max()), 1.0)
    matches = []
    for i, t in enumerate(times):
        j = np.searchsorted(times, t + lags - tolerance)
        j = np.minimum(j, len(times) - 1)
        hit = np.abs(times[j] - (t + lags)) <= tolerance
        matches.append([(float(lag), i, int(jj)) for lag, jj in zip(lags[hit], j[hit], strict=True)])
    origins = [i for i, m in enumerate(matches) if m]
    if len(origins) > max_origins:
        origins = [origins[k] for k in np.unique(np.linspace(0, len(origins) - 1, max_origins).round().astype(int))]
    pairs: dict[float, list[tuple[int, int]]] = defaultdict(list)
    for i in origins:
        for lag, origin, end in matches[i]:
            pairs[float(f"{lag:.9g}")].append((origin, end))
    return dict(sorted(pairs.items()))


def diffusion_coefficient(times, msd, dimensions: int, msd_min: float = 1.0) -> dict:
    """D from MSD(t) = 2dDt + c fitted (least squares) on the times where MSD ≥ ``msd_min``
    (σ², default one particle diameter squared: beyond the cage, in the diffusive regime).
    Returns D (σ²/τ), D_err (fit standard error), msd_exponent (slope of ln MSD against ln t
    over the same points; 1 when diffusive), fit_t_min and a reason (None, or why D is NaN:
    fewer than 3 points in the regime)."""
    times, msd = np.asarray(times, float), np.asarray(msd, float)
    use = (times > 0) & np.isfinite(msd) & (msd >= msd_min)
    out = {"D": float("nan"), "D_err": float("nan"), "msd_exponent": float("nan"), "fit_t_min": float("nan"), "msd_min": float(msd_min), "reason": None}
    if use.sum() < 3:
        out["reason"] = f"MSD ≥ {msd_min:g} σ² at only {int(use.sum())} times (need 3): diffusive regime not reached"
        return out
    fit = linregress(times[use], msd[use])
    out.update(
        D=float(fit.slope / (2 * dimensions)),
        D_err=float(fit.stderr / (2 * dimensions)),
        msd_exponent=float(np.polyfit(np.log(times[use]), np.log(msd[use]), 1)[0]),
        fit_t_min=float(times[use].min()),
    )
    return out


def liquid_relaxation(trajectories: list[list[State]], q: float | None = None, a: float = 0.3, msd_min: float = 1.0, max_origins: int = 64) -> dict:
    """Equilibrium relaxation of trajectories of one state point (pure: states in, numbers out):
    every lag t averaged over time origins (:func:`time_origin_pairs`) and trajectories,
    displacements with the centre-of-mass drift removed; Fs(q*, t), MSD, Q(t; a), χ4 = N[⟨Q²⟩ −
    ⟨Q⟩²] over the (trajectory, origin) samples (NaN with one), τα (:func:`relaxation_time`), D
    (:func:`diffusion_coefficient`) and 1/(q²D), per species. q (σ⁻¹) is the first peak of
    S(k) of the first and last frames unless given.

    Returns {q, q_source, k, S_k, dimensions, species: {name: {time, msd, fs, overlap, chi4,
    n_samples, tau_alpha, tau_diffusive, D, D_err, msd_exponent, fit_t_min, msd_min, reason}}}.
    Errors: no trajectory, a trajectory with fewer than 2 frames (named by index)."""
    if not trajectories:
        raise ValueError("liquid_relaxation: no trajectories given")
    for index, states in enumerate(trajectories):
        if len(states) < 2:
            raise ValueError(f"liquid_relaxation: trajectory {index} has {len(states)} frame; relaxation needs at least 2")
    q_t, q_source, k, s = q, "config", None, None
    if q is None:
        k, s = structure_factor([st[i] for st in trajectories for i in (0, -1)])
        q_t, q_source = first_peak(k, s), "first peak of S(k)"
    samples: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    masks = _species_masks(trajectories[0][0])
    dimensions = trajectories[0][0].dimensions
    for states in trajectories:
        for lag, pairs in time_origin_pairs([st.time for st in states], max_origins).items():
            for i, j in pairs:
                disp = window_displacement(states[i], states[j])
                for species, mask in masks.items():
                    entry = samples[(species, lag)]
                    entry["msd"].append(mean_squared_displacement(disp[mask]))
                    entry["fs"].append(self_intermediate_scattering(disp[mask], q_t))
                    entry["overlap"].append(overlap(disp[mask], a))
    per_species = {}
    for species, mask in masks.items():
        lags = sorted(t for sp, t in samples if sp == species)
        series = {"time": lags, "msd": [], "fs": [], "overlap": [], "chi4": [], "n_samples": []}
        for lag in lags:
            entry = samples[(species, lag)]
            n = len(entry["overlap"])
            for key in ("msd", "fs", "overlap"):
                series[key].append(float(np.mean(entry[key])))
            series["chi4"].append(float(chi4(entry["overlap"], int(mask.sum()))) if n > 1 else float("nan"))
            series["n_samples"].append(n)
        diffusion = diffusion_coefficient(lags, series["msd"], dimensions, msd_min)
        per_species[species] = {
            **series,
            "tau_alpha": relaxation_time(lags, series["fs"]),
            "tau_diffusive": float(1 / (q_t**2 * diffusion["D"])) if diffusion["D"] > 0 else float("nan"),
            **diffusion,
        }
    return {
        "q": float(q_t),
        "q_source": q_source,
        "k": None if k is None else k.tolist(),
        "S_k": None if s is None else s.tolist(),
        "dimensions": dimensions,
        "species": per_species,
    }


def compute_liquid_relaxation(trajectory_paths, out_json, q: float | None = None, a: float = 0.3, out_csv=None, msd_min: float = 1.0, max_origins: int = 64, reader: dict | None = None) -> None:
    """Stage: :func:`liquid_relaxation` at each temperature. Trajectories are grouped by
    ``read_provenance(path)["temperature"]`` and read through
    :func:`glasscam.readers.read_trajectory` (keyword arguments ``reader``).

    Writes ``out_json`` ({a, msd_min, dimensions, temperatures: [{temperature, q, q_source, k, S_k,
    n_trajectories, trajectories, species: {name: {time, msd, fs, overlap, chi4, n_samples,
    tau_alpha, tau_diffusive, D, D_err, msd_exponent, fit_t_min, msd_min, reason}}}]}) and a tidy
    CSV (``out_csv``, default the JSON path with suffix ``.csv``; :data:`LIQUID_COLUMNS`).
    Cost O(origins · frames · N) per trajectory."""
    paths = [Path(p) for p in trajectory_paths]
    if not paths:
        raise ValueError("compute_liquid_relaxation: no trajectories given")
    by_temperature: dict[float, list[Path]] = defaultdict(list)
    for path in paths:
        record = read_provenance(path)
        if "temperature" not in record:
            raise TrajectoryError(f"{path}: provenance lacks 'temperature'")
        by_temperature[float(record["temperature"])].append(path)
    temperatures, rows = [], []
    dimensions = None
    for temperature, group in sorted(by_temperature.items()):
        trajectories = [_read(p, reader) for p in group]
        for path, states in zip(group, trajectories, strict=True):
            if len(states) < 2:
                raise TrajectoryError(f"{path}: {len(states)} frame; relaxation needs at least 2")
        result = liquid_relaxation(trajectories, q, a, msd_min, max_origins)
        dimensions = result.pop("dimensions")
        for species, series in result["species"].items():
            for i, lag in enumerate(series["time"]):
                rows.append(
                    {"temperature": temperature, "species": species, "time": lag, **{c: series[c][i] for c in ("msd", "fs", "overlap", "chi4", "n_samples")}}
                )
        temperatures.append(
            {
                "temperature": temperature,
                "q": result["q"],
                "q_source": result["q_source"],
                "k": result["k"],
                "S_k": result["S_k"],
                "n_trajectories": len(group),
                "trajectories": [str(p) for p in group],
                "species": result["species"],
            }
        )
    with atomic_output(out_json) as tmp:
        record = {"a": float(a), "msd_min": float(msd_min), "dimensions": dimensions, "temperatures": temperatures}
        tmp.write_text(json.dumps(record, indent=2, allow_nan=True))
    write_table(Path(out_csv) if out_csv is not None else Path(out_json).with_suffix(".csv"), rows, LIQUID_COLUMNS)


def mobility_names(dynamics_cfg: dict) -> list[str]:
    """Per-particle arrays written by :func:`compute_mobility`: ``<measure>_dt<Δt:g>``."""
    return [f"{m}_dt{float(dt):g}" for dt in _windows(dynamics_cfg) for m in MOBILITY_MEASURES]


def _windows(dynamics_cfg: dict) -> list[float]:
    if "windows" not in dynamics_cfg:
        raise ValueError("dynamics_cfg.windows is required (list of Δt in τ)")
    windows = [float(dt) for dt in dynamics_cfg["windows"]]
    if not windows or any(dt <= 0 for dt in windows):
        raise ValueError(f"dynamics_cfg.windows = {dynamics_cfg['windows']!r}; expected a non-empty list of Δt > 0")
    return windows


WINDOW_TOLERANCE = 0.25  # a window [t_w, t_w + Δt] counts as Δt only if its frame lies within ±25 % of Δt


def _end_frame(times: np.ndarray, start: int, dt: float, tolerance: float = WINDOW_TOLERANCE) -> int | None:
    """Index of the frame after ``start`` nearest t_start + Δt, if the realised window
    t_end − t_start is within ``tolerance`` · Δt of Δt; None if t_start + Δt lies beyond the run or
    no frame is that close. Log-spaced frames thin out at late times: with 10 frames per decade
    the frame after t_w = 63.8 τ is at 79.4 τ, so a 1 τ window does not exist there, and taking the
    nearest frame would report a 16 τ displacement as Δt = 1 τ."""
    target = times[start] + dt
    if target > times[-1] * (1 + 1e-9) + 1e-9 or start == len(times) - 1:
        return None
    later = np.arange(start + 1, len(times))
    end = int(later[np.argmin(np.abs(times[later] - target))])
    if abs((times[end] - times[start]) - dt) > tolerance * dt * (1 + 1e-9):
        return None
    return end


def _int_log(log: dict, key: str, path, frame: int) -> int:
    if key not in log:
        raise ValueError(f"{path}: frame {frame} lacks log {key}")
    return int(np.asarray(log[key]).ravel()[0])


def _min_image_distance(a: np.ndarray, b: np.ndarray, box_length: float, dimensions: int) -> float:
    delta = (a - b)[:, :dimensions]
    delta -= box_length * np.round(delta / box_length)
    return float(np.abs(delta).max()) if len(delta) else 0.0


REARRANGEMENT_THRESHOLD = 0.5  # σ: a particle "rearranged" in a window if |Δr| exceeds this


def rearranged_fraction(displacement_norms: np.ndarray, mask: np.ndarray,
                        threshold: float = REARRANGEMENT_THRESHOLD) -> float:
    """Fraction of the particles in ``mask`` whose |Δr| (σ) exceeds ``threshold``; NaN when the
    mask is empty or any of its displacements is NaN (a window that does not exist)."""
    values = np.asarray(displacement_norms)[np.asarray(mask, bool)]
    if not len(values) or not np.all(np.isfinite(values)):
        return float("nan")
    return float(np.mean(values > threshold))


def compute_mobility(glass_samples_gsd, aging_paths, out_gsd, dynamics_cfg: dict, provenance: dict,
                     propensity_paths=()) -> None:
    """Per-particle mobility, cage-relative displacement and propensity of every glass sample.

    Each frame of ``glass_samples_gsd`` names its aging trajectory (``glasscam/run``,
    ``glasscam/replica``) and frame there (``glasscam/source_frame``, time t_w). For each
    Δt in ``dynamics_cfg['windows']`` the window ends at the later frame nearest t_w + Δt, if
    that frame realises Δt within ``dynamics_cfg['window_tolerance']`` · Δt (default
    :data:`WINDOW_TOLERANCE`); NaN if t_w + Δt lies beyond the run or no frame is that close (the
    realised Δt, or NaN, is logged as ``glasscam/window_dt<Δt:g>``; the log lists every
    unresolved (t_w, Δt)).

    Propensity ⟨|Δr_i|⟩ over iso-configurational replicas (Widmer-Cooper et al., PRL 93, 135701
    (2004)): at t_w = 0 over all aging replicas of the run in ``aging_paths``; at t_w > 0 over
    the replicas in ``propensity_paths`` launched from this sample's frame (provenance
    ``stage: propensity``, ``run``, ``source_frame``; :func:`glasscam.simulate.propensity_replicas`);
    NaN where no replicas exist (``glasscam/n_iso_replicas`` = 0). Also logged per window: the
    fraction of A particles (first species) with |Δr| > 0.5 σ in this trajectory
    (``glasscam/rearranged_A_dt<Δt:g>``) and averaged over the replicas
    (``glasscam/rearranged_A_replicas_dt<Δt:g>``).
    ``dynamics_cfg['cage_radius']``: σ or ``auto`` (default; first minimum of g(r) of the
    glass samples).
    """
    windows = _windows(dynamics_cfg)
    tolerance = float(dynamics_cfg.get("window_tolerance", WINDOW_TOLERANCE))
    if not 0 < tolerance < 1:
        raise ValueError(f"dynamics.window_tolerance = {tolerance}; expected 0 < tolerance < 1 (relative to Δt)")
    states = read_states(glass_samples_gsd)
    logs = read_logs(glass_samples_gsd)
    cage_radius = dynamics_cfg.get("cage_radius", "auto")
    cage_radius = rdf_first_minimum(states) if cage_radius == "auto" else float(cage_radius)
    trajectories: dict[tuple[int, int], Path] = {}
    for path in map(Path, aging_paths):
        record = read_provenance(path)
        if "run" not in record or "replica" not in record:
            raise TrajectoryError(f"{path}: provenance lacks 'run' or 'replica'")
        key = (int(record["run"]), int(record["replica"]))
        if key in trajectories:
            raise ValueError(f"{path} and {trajectories[key]} are both run {key[0]} replica {key[1]}")
        trajectories[key] = path
    launched: dict[tuple[int, int], list[Path]] = {}  # (run, source frame) → replica trajectories
    for path in map(Path, propensity_paths):
        record = read_provenance(path)
        missing = [k for k in ("run", "replica", "source_frame") if k not in record]
        if missing or record.get("stage") != "propensity":
            raise TrajectoryError(f"{path}: not a propensity replica (stage {record.get('stage')!r}, lacks {missing})")
        launched.setdefault((int(record["run"]), int(record["source_frame"])), []).append(path)
    cache: dict[Path, list[State]] = {}

    def load(path: Path) -> list[State]:
        if path not in cache:
            cache[path] = read_states(path)
        return cache[path]

    propensity_cache: dict[tuple, tuple[np.ndarray, int, float]] = {}

    def replica_propensity(key: tuple, replicas: list[Path], start: State, dt: float, a_mask: np.ndarray):
        if key not in propensity_cache:
            disps = []
            for path in replicas:
                traj = load(path)
                if _min_image_distance(traj[0].positions, start.positions, start.box_length, start.dimensions) > POSITION_MATCH_TOLERANCE:
                    raise ValueError(f"{path}: frame 0 differs from the glass sample it should start from; "
                                     "iso-configurational replicas must start from identical positions")
                end = _end_frame(np.array([s.time for s in traj]), 0, dt, tolerance)
                if end is None:
                    disps = None
                    break
                disps.append(window_displacement(traj[0], traj[end]))
            n = len(start.positions)
            if disps:
                fraction = float(np.mean([rearranged_fraction(np.linalg.norm(d, axis=1), a_mask) for d in disps]))
                propensity_cache[key] = (propensity(disps), len(replicas), fraction)
            else:
                propensity_cache[key] = (np.full(n, np.nan), len(replicas), float("nan"))
        return propensity_cache[key]

    out_logs, unresolved = [], set()
    for k, (state, log) in enumerate(zip(states, logs, strict=True)):
        run = _int_log(log, "glasscam/run", glass_samples_gsd, k)
        replica = _int_log(log, "glasscam/replica", glass_samples_gsd, k)
        source = _int_log(log, "glasscam/source_frame", glass_samples_gsd, k)
        if (run, replica) not in trajectories:
            raise ValueError(f"{glass_samples_gsd}: frame {k} comes from run {run} replica {replica}, not among the aging trajectories given")
        path = trajectories[(run, replica)]
        traj = load(path)
        if not 0 <= source < len(traj):
            raise ValueError(f"{glass_samples_gsd}: frame {k} has glasscam/source_frame {source}, but {path} has {len(traj)} frames")
        start = traj[source]
        if len(start.positions) != len(state.positions) or _min_image_distance(
            start.positions, state.positions, state.box_length, state.dimensions
        ) > POSITION_MATCH_TOLERANCE:
            raise ValueError(f"{glass_samples_gsd}: frame {k} does not match frame {source} of {path}")
        times = np.array([s.time for s in traj])
        n = len(state.positions)
        a_mask = state.typeid == 0
        if times[source] == 0.0:
            replicas = [trajectories[key] for key in sorted(trajectories) if key[0] == run]
        elif replica == 0:
            replicas = sorted(launched.get((run, source), []))
        else:
            replicas = []
        out_log = per_frame_scalars(log)
        for dt in windows:
            end = _end_frame(times, source, dt, tolerance)
            if end is None:
                unresolved.add((float(times[source]), dt))
                mobility = cage = np.full(n, np.nan)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([np.nan])
            else:
                disp = window_displacement(start, traj[end])
                mobility = np.linalg.norm(disp, axis=1)
                cage = np.linalg.norm(cage_relative_displacement(disp, start, cage_radius), axis=1)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([times[end] - times[source]])
            out_log[f"glasscam/rearranged_A_dt{dt:g}"] = np.array([rearranged_fraction(mobility, a_mask)])
            if replicas:
                prop, n_replicas, fraction = replica_propensity((run, source, dt), replicas, start, dt, a_mask)
            else:
                prop, n_replicas, fraction = np.full(n, np.nan), 0, float("nan")
            out_log["glasscam/n_iso_replicas"] = np.array([n_replicas], dtype=np.int32)
            out_log[f"glasscam/rearranged_A_replicas_dt{dt:g}"] = np.array([fraction])
            out_log[per_particle_key(f"mobility_dt{dt:g}")] = mobility.astype(np.float32)
            out_log[per_particle_key(f"cage_relative_dt{dt:g}")] = cage.astype(np.float32)
            out_log[per_particle_key(f"propensity_dt{dt:g}")] = prop.astype(np.float32)
        out_logs.append(out_log)
    if unresolved:
        logger.warning("mobility: no frame realises these windows within ±%g %% of Δt; their mobility is NaN: %s",
                    100 * tolerance, ", ".join(f"t_w = {t:.4g} τ, Δt = {dt:g} τ" for t, dt in sorted(unresolved)))
    record = {
        **provenance,
        "mobility": {
            "names": mobility_names(dynamics_cfg),
            "windows": windows,
            "window_tolerance": tolerance,
            "unresolved_windows": [{"t_w": t, "dt": dt} for t, dt in sorted(unresolved)],
            "cage_radius": cage_radius,
            "rearrangement_threshold": REARRANGEMENT_THRESHOLD,
            "config": dynamics_cfg,
            "input": str(glass_samples_gsd),
            "aging_trajectories": [str(trajectories[key]) for key in sorted(trajectories)],
            "propensity_trajectories": [str(p) for key in sorted(launched) for p in sorted(launched[key])],
        },
    }
    write_states(out_gsd, states, record, out_logs)
