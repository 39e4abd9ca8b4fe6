"""Static structure factor S(k), its first peak q*, and the self-intermediate scattering function Fs(q, t)."""

import numpy as np
from scipy.special import j0

from glasscam.core.state import State


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


def first_peak(k: np.ndarray, s: np.ndarray, k_min: float = 3.0) -> float:
    """k of the main peak of S(k) above ``k_min`` (the first peak dominates in liquids and glasses)."""
    ok = (k >= k_min) & np.isfinite(s)
    if not ok.any():
        raise ValueError(f"S(k) has no finite values above k_min = {k_min}")
    return float(k[ok][np.argmax(s[ok])])


def _distinct_states(states: list[State]) -> list[State]:
    """``states`` without repeated configurations (iso-configurational replicas share frame 0)."""
    seen, out = set(), []
    for state in states:
        key = state.positions.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(state)
    return out


def first_peak_q(first_frames: list[State]) -> tuple[float, np.ndarray, np.ndarray]:
    """q* = the first peak of S(k) of the distinct configurations ``first_frames`` (σ⁻¹), with
    (k, S(k)) (:func:`structure_factor`, :func:`first_peak`)."""
    k, s = structure_factor(_distinct_states(first_frames))
    return first_peak(k, s), k, s
