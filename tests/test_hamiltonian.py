"""The NumPy reference Hamiltonian against analytic two-body cases, and each engine against it."""

import numpy as np
import pytest
from conftest import ENGINES, jittered_lattice, small_system

from glasscam.core.hamiltonian import evaluate_pairs, shifted_pair
from glasscam.core.periodic import wrap
from glasscam.core.state import State

SYSTEMS = ["ka3d", "ka2d", "abm2d", "ss3d", "ss2d"]
MODES = ["shift", "force_shift"]
def two_particles(system, r, a=0, b=0, across_boundary=False):
    """Two particles at distance r along x; optionally straddling the periodic boundary."""
    L = system.box_length
    x0 = L / 2 - r / 2 if across_boundary else -r / 2
    pos = np.array([[x0, 0.0, 0.0], [x0 + r, 0.0, 0.0]])
    pos, img = wrap(pos, L, system.dimensions)
    return pos, np.array([a, b])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["ka3d", "ss3d"])
def test_pair_energy_matches_closed_form(default_config, name, mode):
    system = small_system(default_config, name, 500, mode)
    p = system.pair("A", "B")
    r = np.array([0.9 * p.sigma, 1.3 * p.sigma, p.r_cut * 0.999])
    energy, force = shifted_pair(system, "A", "B", r)
    v = lambda x: p.prefactor * p.epsilon * ((p.sigma / x) ** p.n - (p.sigma / x) ** p.m)  # noqa: E731
    dv = lambda x: -p.prefactor * p.epsilon * (p.n * (p.sigma / x) ** p.n - p.m * (p.sigma / x) ** p.m) / x  # noqa: E731
    expected = v(r) - v(p.r_cut)
    if mode == "force_shift":
        expected = expected - (r - p.r_cut) * dv(p.r_cut)
    np.testing.assert_allclose(energy, expected, rtol=1e-12)
    h = 1e-6
    numeric = -(shifted_pair(system, "A", "B", r + h)[0] - shifted_pair(system, "A", "B", r - h)[0]) / (2 * h)
    np.testing.assert_allclose(force, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["ka3d", "ss2d"])
def test_force_shift_makes_energy_and_force_vanish_at_cutoff(default_config, name):
    system = small_system(default_config, name, 500, "force_shift")
    p = system.pair("A", "A")
    energy, force = shifted_pair(system, "A", "A", np.array([p.r_cut * (1 - 1e-9), p.r_cut * 1.001]))
    assert abs(energy[0]) < 1e-9 and abs(force[0]) < 1e-6
    assert energy[1] == 0 and force[1] == 0


def test_reference_two_body_across_boundary(default_config):
    system = small_system(default_config, "ka3d", 500)
    r = 1.1
    inside = evaluate_pairs(system, *two_particles(system, r, 0, 1))
    across = evaluate_pairs(system, *two_particles(system, r, 0, 1, across_boundary=True))
    expected, f = shifted_pair(system, "A", "B", np.array([r]))
    assert inside.potential_energy == pytest.approx(expected[0], rel=1e-12)
    assert across.potential_energy == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(across.forces, inside.forces, atol=1e-12)
    np.testing.assert_allclose(inside.forces.sum(axis=0), 0, atol=1e-12)  # Newton's third law
    assert inside.virial == pytest.approx(r * f[0], rel=1e-12)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SYSTEMS)
def test_engine_matches_reference(default_config, engine_name, name, mode):
    """Per-particle energies, forces and virial of a dense configuration, plus a pair placed
    just inside the cutoff across the periodic boundary."""
    from glasscam.md.engines import create_engine

    system = small_system(default_config, name, 400 if system_dims(default_config, name) == 3 else 300, mode)
    state = jittered_lattice(system, np.random.default_rng(7))
    ref = evaluate_pairs(system, state.positions, state.typeid)
    with create_engine(engine_name, system) as engine:
        engine.load(state)
        got = engine.evaluate()
        np.testing.assert_allclose(got.energies, ref.energies, rtol=1e-5, atol=1e-5 * np.abs(ref.energies).max())
        np.testing.assert_allclose(got.forces, ref.forces, rtol=1e-5, atol=1e-5 * np.abs(ref.forces).max())
        assert got.virial == pytest.approx(ref.virial, rel=1e-5)



@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["ka3d", "ka2d"])
def test_evaluate_after_run_matches_reference(default_config, engine_name, name, threads):
    """Right after a run the engine may hand out what it tallied on the run's last step (LAMMPS
    does) instead of recomputing: those energies, forces and virial must be the reference's for
    the configuration it stands at, with any thread count."""
    from glasscam.md.engines import create_engine
    from glasscam.md.engines.base import Thermostat
    from glasscam.md.protocols import lattice_state

    system = small_system(default_config, name, 400 if system_dims(default_config, name) == 3 else 300)
    start = lattice_state(system, np.random.default_rng(8), jitter=0.05)
    start.velocities[:, : system.dimensions] = np.random.default_rng(9).normal(size=(system.n_particles, system.dimensions))
    with create_engine(engine_name, system, threads) as engine:
        engine.load(start)
        engine.set_thermostat(Thermostat("bussi", 0.8, 0.5, seed=4))
        engine.run(150)
        got = engine.evaluate()
        state = engine.state()
    ref = evaluate_pairs(system, state.positions, state.typeid)
    np.testing.assert_allclose(got.energies, ref.energies, rtol=1e-5, atol=1e-5 * np.abs(ref.energies).max())
    np.testing.assert_allclose(got.forces, ref.forces, rtol=1e-5, atol=1e-5 * np.abs(ref.forces).max())
    assert got.virial == pytest.approx(ref.virial, rel=1e-5)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SYSTEMS)
@pytest.mark.parametrize("fraction", [0.995, 1.005])
def test_engine_pair_at_cutoff_across_boundary(default_config, engine_name, name, mode, fraction):
    """One A–B pair straddling the periodic boundary just inside / just outside r_c."""
    from glasscam.core.systems import system_from_config
    from glasscam.md.engines import create_engine

    spec = dict(default_config["systems"][name])
    spec.pop("N", None)
    spec["composition"] = {"A": 1, "B": 1}
    spec["potential"] = {**spec["potential"], "cutoff_mode": mode}
    probe = system_from_config(name, {**spec, "density": 1e-3})
    spec["density"] = 2 / (3 * probe.max_cutoff()) ** probe.dimensions
    system = system_from_config(name, spec)
    r = system.pair("A", "B").r_cut * fraction
    pos, typeid = two_particles(system, r, 0, 1, across_boundary=True)
    pos, images = wrap(pos, system.box_length, system.dimensions)
    state = State(pos, images, np.zeros((2, 3)), typeid, system.types, np.ones(2), system.box_length, system.dimensions)
    ref = evaluate_pairs(system, pos, typeid)
    with create_engine(engine_name, system) as engine:
        engine.load(state)
        got = engine.evaluate()
    if fraction > 1:
        assert ref.potential_energy == 0 and np.abs(got.energies).max() < 1e-12
        return
    assert ref.potential_energy != 0
    np.testing.assert_allclose(got.energies, ref.energies, rtol=1e-5)
    np.testing.assert_allclose(got.forces, ref.forces, rtol=1e-5, atol=1e-9)
    assert got.virial == pytest.approx(ref.virial, rel=1e-5)


def system_dims(config, name):
    return config["systems"][name]["dimensions"]
