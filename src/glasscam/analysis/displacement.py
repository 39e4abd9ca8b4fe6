"""Displacements with centre-of-mass drift removed, window and cage-relative displacement, propensity,
MSD and the rearranged fraction (σ, τ)."""

import numpy as np

from glasscam.core.neighbors import ball_query
from glasscam.core.state import State


def remove_drift(delta: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Displacements (..., N, d) [σ] minus each set's mass-weighted centre-of-mass displacement
    ΔR = Σ_j m_j Δr_j / Σ_j m_j (the leading axes are independent sets: frames or replicas)."""
    m = masses / masses.sum()
    return delta - np.einsum("i,...id->...d", m, delta)[..., None, :]


def replica_propensity(initial: State, replica_ends: np.ndarray, drift_removed: bool = True) -> np.ndarray:
    """Propensity ⟨|Δr_i|⟩ over R replicas from unwrapped end points (R, N, d) and the common
    start ``initial`` (its unwrapped positions); with ``drift_removed`` each replica's
    mass-weighted centre-of-mass displacement is subtracted (as :func:`glasscam.analysis.displacement.displacements`)."""

    d = initial.dimensions
    delta = np.asarray(replica_ends, dtype=np.float64)[..., :d] - initial.unwrapped[:, :d]
    if drift_removed:
        delta = remove_drift(delta, initial.masses)
    return propensity(delta)


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
        delta = remove_drift(delta, states[0].masses)
    return delta


def window_displacement(start: State, end: State, drift_removed: bool = True) -> np.ndarray:
    """Δr_i over [start.time, end.time], shape (N, d)."""
    return displacements([start, end], drift_removed)[-1]


def cage_relative_displacement(displacement: np.ndarray, reference: State, cage_radius: float) -> np.ndarray:
    """Δr_i − mean of Δr_j over the neighbours j of i within ``cage_radius`` at the window's
    start ``reference`` (self excluded), shape (N, d); NaN rows for particles without neighbours."""
    nlist = ball_query(reference, cage_radius, exclude_self=True)
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


REARRANGEMENT_THRESHOLD = 0.5  # σ: a particle "rearranged" in a window if |Δr| exceeds this


def rearranged_fraction(displacement_norms: np.ndarray, mask: np.ndarray,
                        threshold: float = REARRANGEMENT_THRESHOLD) -> float:
    """Fraction of the particles in ``mask`` whose |Δr| (σ) exceeds ``threshold``; NaN when the
    mask is empty or any of its displacements is NaN (a window that does not exist)."""
    values = np.asarray(displacement_norms)[np.asarray(mask, bool)]
    if not len(values) or not np.all(np.isfinite(values)):
        return float("nan")
    return float(np.mean(values > threshold))
