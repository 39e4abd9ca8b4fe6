"""NumPy O(N²) reference for the pair Hamiltonian (the ground truth engines are tested against).

For particles i, j with minimum-image separation r_ij < r_c(ab):

    U_i   = ½ Σ_j V_ab(r_ij)                         (per-particle energy, ε)
    F_i   = Σ_j F_ab(r_ij) r̂_ij,  F = −dV/dr        (force, ε/σ)
    W     = ½ Σ_{i≠j} r_ij F_ab(r_ij)                  (virial, ε)
    P     = (N k_B T + W / d) / V                     (pressure; configurational part W/(dV))

V_ab is the shifted or force-shifted pair potential of :mod:`glasscam.core.systems`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasscam.core.systems import System


@dataclass(frozen=True)
class PairEvaluation:
    """Energies, forces and virial of one configuration."""

    energies: np.ndarray  # (N,) per-particle potential energy
    forces: np.ndarray  # (N, 3)
    virial: float  # W = ½ Σ_{i≠j} r_ij·F_ij

    @property
    def potential_energy(self) -> float:
        return float(self.energies.sum())


def minimum_image(delta: np.ndarray, box_length: float, dimensions: int) -> np.ndarray:
    """Wrap separation vectors into [−L/2, L/2) along the periodic axes."""
    out = delta.copy()
    out[..., :dimensions] -= box_length * np.round(out[..., :dimensions] / box_length)
    return out


def shifted_pair(system: System, a: str, b: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifted pair energy V_s(r) and force magnitude F(r) = −dV_s/dr for r < r_c (0 beyond)."""
    p = system.pair(a, b)
    inside = r < p.r_cut
    rs = np.where(inside, r, p.r_cut)
    energy = p.energy(rs) - p.energy(np.float64(p.r_cut))
    force = p.force_magnitude(rs)
    if system.cutoff_mode == "force_shift":
        fc = p.force_magnitude(np.float64(p.r_cut))
        energy = energy + (rs - p.r_cut) * fc
        force = force - fc
    return np.where(inside, energy, 0.0), np.where(inside, force, 0.0)


def evaluate_pairs(system: System, positions: np.ndarray, typeid: np.ndarray) -> PairEvaluation:
    """Reference energies, forces and virial by direct summation over all pairs (O(N²) memory)."""
    pos = np.asarray(positions, dtype=np.float64)
    n = len(pos)
    delta = minimum_image(pos[:, None, :] - pos[None, :, :], system.box_length, system.dimensions)
    r = np.linalg.norm(delta, axis=-1)
    np.fill_diagonal(r, np.inf)
    energy = np.zeros((n, n))
    fmag = np.zeros((n, n))
    types = system.types
    for ia, a in enumerate(types):
        for ib, b in enumerate(types):
            mask = (typeid[:, None] == ia) & (typeid[None, :] == ib)
            e, f = shifted_pair(system, a, b, r[mask])
            energy[mask] = e
            fmag[mask] = f
    forces = np.einsum("ij,ijk->ik", fmag / r, delta)
    return PairEvaluation(
        energies=0.5 * energy.sum(axis=1),
        forces=forces,
        virial=0.5 * float((fmag * np.where(np.isfinite(r), r, 0.0)).sum()),
    )


def pressure(system: System, virial: float, kinetic_temperature: float) -> float:
    """P = ρ k_B T + W / (d V), in ε/σ^d."""
    volume = system.box_length**system.dimensions
    return system.n_particles * kinetic_temperature / volume + virial / (system.dimensions * volume)
