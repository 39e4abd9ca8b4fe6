"""Protocol building blocks and short real runs of the LAMMPS engine."""

import numpy as np
import pytest
from conftest import ENGINES, jittered_lattice, small_system

from glasscam.core.state import State
from glasscam.errors import SimulationBlowUp
from glasscam.md import protocols
from glasscam.md.engines import create_engine
from glasscam.md.engines.base import Engine, Thermostat


def test_log_spaced_steps():
    steps = protocols.log_spaced_steps(10000, 5)
    assert steps[0] == 0 and steps[1] == 1 and steps[-1] == 10000
    assert np.all(np.diff(steps) > 0)
    late = steps[steps >= 100]
    np.testing.assert_allclose(late[1:] / late[:-1], 10 ** (1 / 5), rtol=0.02)


@pytest.mark.parametrize("dims", [2, 3])
def test_maxwell_boltzmann_exact_temperature_and_zero_momentum(dims):
    masses = np.where(np.arange(1000) % 2, 1.0, 2.0)
    v = protocols.maxwell_boltzmann(masses, 0.7, dims, np.random.default_rng(0))
    assert protocols.kinetic_temperature(v, masses, dims) == pytest.approx(0.7, rel=1e-12)
    np.testing.assert_allclose((masses[:, None] * v).sum(axis=0), 0, atol=1e-10)
    if dims == 2:
        assert np.all(v[:, 2] == 0)
    # the distribution is Gaussian with variance T/m per component (not just the right mean)
    assert np.var(v[masses == 1.0, 0]) == pytest.approx(0.7, rel=0.15)


def test_check_engine_state_detects_nan_and_lost_particles(default_config):
    system = small_system(default_config, "ka3d", 500)
    state = jittered_lattice(system, np.random.default_rng(0))

    class Fake:
        blow_up = Engine.blow_up
        current_step = Engine.current_step
        stage, _step0, _time0 = "test stage", 0, 0.0

    engine = Fake()
    engine.system = system
    protocols.check_engine_state(engine, state, "ok")
    bad = state.copy()
    bad.positions[3, 0] = np.nan
    bad.step = 40
    with pytest.raises(SimulationBlowUp, match="non-finite") as err:
        protocols.check_engine_state(engine, bad, "nan")
    assert f"stage test stage, nan, detected at step 40, t = {40 * system.dt:g} τ, dt = {system.dt:g} τ" in str(err.value)
    lost = State(state.positions[:-1], state.images[:-1], state.velocities[:-1], state.typeid[:-1],
                 state.types, state.masses[:-1], state.box_length, state.dimensions)
    with pytest.raises(SimulationBlowUp, match="particles left"):
        protocols.check_engine_state(engine, lost, "lost")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_energy_explosion_is_a_blow_up(default_config, engine_name):
    system = small_system(default_config, "ka3d", 500)
    state = jittered_lattice(system, np.random.default_rng(0))
    state.positions[1] = state.positions[0] + [0.05, 0, 0]  # near-overlap: U/N ≫ 10³
    with create_engine(engine_name, system) as engine:
        engine.load(state)
        with pytest.raises(SimulationBlowUp, match="potential energy"):
            protocols.thermo_log(engine, engine.state(), 1.0)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_nvt_mean_kinetic_temperature(default_config, kind, engine_name):
    """KA 3D liquid at T = 1.0: the time-averaged kinetic temperature is the target within 2%
    (N = 500, 40 τ), and PE/N is the known ≈ −6.0 (reference value at ρ = 1.2)."""
    system = small_system(default_config, "ka3d", 500)
    rng = np.random.default_rng(3)
    with create_engine(engine_name, system) as engine:
        thermostat = Thermostat(kind, 1.0, 0.5, seed=11)
        state = protocols.melt(engine, rng, 1.0, 10.0, thermostat)
        states, logs = protocols.equilibrate_and_sample(engine, state, thermostat, 10.0, 60, 0.5)
    temps = np.array([lg["glasscam/kinetic_temperature"][0] for lg in logs])
    energy = np.array([lg["glasscam/potential_energy"][0] for lg in logs]) / system.n_particles
    assert temps.mean() == pytest.approx(1.0, rel=0.02)
    assert energy.mean() == pytest.approx(-6.0, abs=0.08)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_nve_conserves_energy(default_config, engine_name):
    system = small_system(default_config, "ka3d", 500)
    with create_engine(engine_name, system) as engine:
        protocols.melt(engine, np.random.default_rng(5), 0.8, 5.0, Thermostat("nose_hoover", 0.8, 0.5))
        engine.set_thermostat(None)
        totals = []
        for _ in range(20):
            engine.run(100)
            s = engine.state()
            kinetic = 0.5 * (s.masses[:, None] * s.velocities**2).sum()
            totals.append(kinetic + engine.evaluate().potential_energy)
    drift = (max(totals) - min(totals)) / system.n_particles
    assert drift < 2e-3


@pytest.mark.parametrize("engine_name", ENGINES)
def test_finite_rate_quench_follows_the_ramp(default_config, engine_name):
    """Linear thermostat ramps 1.0 → 0.3 over 10 and 20 τ end near T_G, at the right time; an
    instantaneous quench rescales the velocities to exactly T_G."""
    system = small_system(default_config, "ka3d", 500)
    with create_engine(engine_name, system) as engine:
        thermostat = Thermostat("bussi", 1.0, 0.2, seed=5)
        liquid = protocols.melt(engine, np.random.default_rng(4), 1.0, 5.0, thermostat)
        ramp = Thermostat("bussi", (1.0, 0.3), 0.2, seed=6)
        _, half = protocols.quench(engine, liquid, ramp, 10.0, minimize=False)
        glass, end = protocols.quench(engine, liquid, ramp, 20.0, minimize=False)
        instant, _ = protocols.quench(engine, liquid, ramp, 0.0, minimize=False)
    assert end["glasscam/kinetic_temperature"][0] == pytest.approx(0.3, abs=0.06)
    assert half["glasscam/kinetic_temperature"][0] == pytest.approx(0.3, abs=0.06)
    assert protocols.kinetic_temperature(instant.velocities, instant.masses, 3) == pytest.approx(0.3, rel=1e-6)
    assert glass.time == pytest.approx(20.0)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_blow_up_of_a_real_run_is_the_pipelines_message(default_config, engine_name, tmp_path):
    """Field case 08: KA 3D, N = 256, dt = 0.05 (ten times the usual): the melt loses particles.
    The job fails with SimulationBlowUp naming stage, step, time, dt and a hint (the engine's own
    text after it), and writes no output."""
    from glasscam.stages.simulate import initialize

    spec = {**default_config["systems"]["ka3d"], "N": 256, "composition": {"A": 205, "B": 51}, "dt": 0.05}
    protocol = {**default_config["protocol"], "melt_time": 5}
    output = tmp_path / "init.gsd"
    with pytest.raises(SimulationBlowUp) as err:
        initialize(system_name="ka3d", system_cfg=spec, protocol_cfg=protocol, root_seed=1, run=0, engine_name=engine_name, threads=1, output=str(output))
    message = str(err.value)
    assert message.startswith("simulation blew up in system ka3d, stage initialize (run 0)")
    for part in ("detected at step", "t = ", "dt = 0.05 τ", "Hint: ", "lower systems.ka3d.dt"):
        assert part in message
    assert err.value.step is not None and 0 < err.value.step <= 100
    assert not output.exists() and list(tmp_path.iterdir()) == []
