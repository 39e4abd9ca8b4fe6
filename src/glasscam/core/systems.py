"""Binary glass formers as data: composition, box, masses and the pair Hamiltonian.

Reduced Lennard-Jones units throughout: lengths in σ, energies in ε, masses in m_A,
k_B = 1, time in τ = σ (m_A / ε)^{1/2}, where σ and ε are the units in which the system's pair
table is written: σ_AA and ε_AA for the Kob–Andersen mixtures; σ_AB and ε (all pairs equal) for
the additive mixture abm2d, whose σ_AA = 5/6 σ and σ_BB = 7/6 σ.

Every pair potential is written in the Mie form

    V(r) = C ε [(σ/r)^n − (σ/r)^m]

* ``lennard_jones``: n = 12, m = 6, C = 4, i.e. V = 4ε[(σ/r)^12 − (σ/r)^6];
* ``inverse_power``: n given, m = 0, C = 1, i.e. V = ε(σ/r)^n − ε; the constant −ε
  cancels in every supported cutoff treatment.

Cutoff treatments (r_c = cutoff × σ_ab):

* ``shift``: V_s(r) = V(r) − V(r_c)                            (energy continuous)
* ``force_shift``: V_fs(r) = V(r) − V(r_c) − (r − r_c) V'(r_c)   (energy and force continuous)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

FORMS = {"lennard_jones", "inverse_power"}
CUTOFF_MODES = {"shift", "force_shift"}


@dataclass(frozen=True)
class PairParameters:
    """Mie parameters of one species pair: V(r) = prefactor ε [(σ/r)^n − (σ/r)^m]."""

    epsilon: float
    sigma: float
    n: float
    m: float
    prefactor: float
    r_cut: float

    def energy(self, r: np.ndarray) -> np.ndarray:
        """Unshifted V(r) in ε."""
        s = self.sigma / r
        return self.prefactor * self.epsilon * (s**self.n - s**self.m)

    def force_magnitude(self, r: np.ndarray) -> np.ndarray:
        """F(r) = −dV/dr (positive = repulsive), in ε/σ."""
        s = self.sigma / r
        return self.prefactor * self.epsilon * (self.n * s**self.n - self.m * s**self.m) / r


@dataclass(frozen=True)
class System:
    """A binary (or multi-component) glass former in a periodic cubic/square box."""

    name: str
    dimensions: int
    composition: dict[str, int]
    density: float
    masses: dict[str, float]
    form: str
    cutoff_mode: str
    pairs: dict[tuple[str, str], PairParameters]
    dt: float

    @property
    def types(self) -> list[str]:
        return list(self.composition)

    @property
    def n_particles(self) -> int:
        return int(sum(self.composition.values()))

    @property
    def box_length(self) -> float:
        """L = (N/ρ)^{1/d} in σ."""
        return float((self.n_particles / self.density) ** (1.0 / self.dimensions))

    @property
    def box(self) -> list[float]:
        """GSD/HOOMD box [Lx, Ly, Lz, xy, xz, yz]; Lz = 0 in 2D."""
        L = self.box_length
        return [L, L, L if self.dimensions == 3 else 0.0, 0.0, 0.0, 0.0]

    def typeids(self) -> np.ndarray:
        """Type index per particle, species in composition order (A first)."""
        return np.repeat(np.arange(len(self.types)), list(self.composition.values())).astype(np.int32)

    def mass_array(self) -> np.ndarray:
        return np.array([self.masses[t] for t in self.types])[self.typeids()]

    def pair(self, a: str, b: str) -> PairParameters:
        return self.pairs[(a, b)] if (a, b) in self.pairs else self.pairs[(b, a)]

    def max_cutoff(self) -> float:
        return max(p.r_cut for p in self.pairs.values())

    def to_dict(self) -> dict:
        """Plain-data description for provenance records."""
        return {
            "name": self.name,
            "dimensions": self.dimensions,
            "composition": self.composition,
            "density": self.density,
            "masses": self.masses,
            "form": self.form,
            "cutoff_mode": self.cutoff_mode,
            "dt": self.dt,
            "pairs": {
                f"{a}{b}": {"epsilon": p.epsilon, "sigma": p.sigma, "n": p.n, "m": p.m, "r_cut": p.r_cut}
                for (a, b), p in self.pairs.items()
            },
        }


def _pair_key(types: list[str], key: str) -> tuple[str, str]:
    for a, b in itertools.combinations_with_replacement(types, 2):
        if key in (a + b, b + a, f"{a}-{b}", f"{b}-{a}"):
            return (a, b)
    raise KeyError(key)


def system_from_config(name: str, spec: dict) -> System:
    """Build a :class:`System` from one entry of the config's ``systems`` mapping.

    Raises ``ValueError`` naming the offending key on inconsistent data.
    """
    where = f"systems.{name}"
    composition = {str(k): int(v) for k, v in spec["composition"].items()}
    types = list(composition)
    if "N" in spec and sum(composition.values()) != spec["N"]:
        raise ValueError(
            f"{where}.composition sums to {sum(composition.values())}, but {where}.N = {spec['N']}"
        )
    masses = {t: float(spec.get("masses", {}).get(t, 1.0)) for t in types}
    unknown = set(spec.get("masses", {})) - set(types)
    if unknown:
        raise ValueError(f"{where}.masses names species {sorted(unknown)} not in {where}.composition")
    pot = spec["potential"]
    form = pot["form"]
    if form == "lennard_jones":
        n, m, prefactor = 12.0, 6.0, 4.0
    elif form == "inverse_power":
        n, m, prefactor = float(pot.get("exponent", 12)), 0.0, 1.0
    else:
        raise ValueError(f"{where}.potential.form = {form!r}; expected one of {sorted(FORMS)}")
    if pot["cutoff_mode"] not in CUTOFF_MODES:
        raise ValueError(f"{where}.potential.cutoff_mode = {pot['cutoff_mode']!r}; expected one of {sorted(CUTOFF_MODES)}")
    pairs: dict[tuple[str, str], PairParameters] = {}
    for key, p in pot["pairs"].items():
        try:
            ab = _pair_key(types, key)
        except KeyError:
            raise ValueError(f"{where}.potential.pairs.{key}: not a pair of species {types}") from None
        if ab in pairs:
            raise ValueError(f"{where}.potential.pairs.{key}: pair {ab} given twice")
        cutoff = float(p.get("cutoff", pot["cutoff"]))
        pairs[ab] = PairParameters(
            epsilon=float(p["epsilon"]),
            sigma=float(p["sigma"]),
            n=n,
            m=m,
            prefactor=prefactor,
            r_cut=cutoff * float(p["sigma"]),
        )
    missing = [a + b for a, b in itertools.combinations_with_replacement(types, 2) if (a, b) not in pairs]
    if missing:
        raise ValueError(f"{where}.potential.pairs lacks pairs {missing}")
    system = System(
        name=name,
        dimensions=int(spec["dimensions"]),
        composition=composition,
        density=float(spec["density"]),
        masses=masses,
        form=form,
        cutoff_mode=pot["cutoff_mode"],
        pairs=pairs,
        dt=float(spec["dt"]),
    )
    if system.box_length <= 2 * system.max_cutoff():
        raise ValueError(
            f"{where}: box length {system.box_length:.3f} must exceed twice the largest cutoff "
            f"{system.max_cutoff():.3f} (minimum image); increase N"
        )
    return system
