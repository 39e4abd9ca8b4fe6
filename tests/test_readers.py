"""Readers: a trajectory the project simulates, exported to every supported format, gives the
internal path's per-particle results; the field cases give the right number or a refusal naming
file and frame; the npz layout reproduces a propensity computed by hand."""

import csv
import json
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest
from conftest import ROOT, small_system

from glasscam.analysis.displacement import (
    displacements,
    propensity,
    replica_propensity,
    window_displacement,
)
from glasscam.analysis.relaxation import aging_dynamics
from glasscam.analysis.structure import indicators_for_states
from glasscam.core.state import State
from glasscam.errors import ReaderError
from glasscam.io.checks import ReaderOptions
from glasscam.io.foreign import read_npz, read_trajectory
from glasscam.io.gsd import read_gsd, read_states, write_states
from glasscam.md.engines.lammps_engine import lammps_available
from glasscam.stages.dynamics import compute_aging_dynamics
from glasscam.stages.indicators import compute_indicators

FIELD_CASES = ROOT.parent / "shared" / "field-cases"
DT = 0.005
EVERY = 20  # steps between frames: 0.1 τ
FRAMES = 16
INDICATOR_CFG = {"neighbors": "voronoi", "local_density_radius": 1.5, "coarse_graining_radii": [1.0]}
needs_lammps = pytest.mark.skipif(not lammps_available(), reason="lammps wheel not importable")


def _simulate(system, start: State, steps: int, frames: int, seed: int) -> list[State]:
    from glasscam.md.engines import create_engine
    from glasscam.md.engines.base import Thermostat

    out = []
    with create_engine("lammps", system) as engine:
        engine.load(start)
        engine.set_thermostat(Thermostat("bussi", 2.0, 0.5, seed=seed))
        out.append(engine.state())
        for _ in range(frames - 1):
            engine.run(steps)
            out.append(engine.state())
    return out


@pytest.fixture(scope="module")
def simulated(default_config, tmp_path_factory):
    """A hot KA 3D run (N = 250) written by the pipeline's own GSD writer, read back internally."""
    from glasscam.md.protocols import lattice_state

    system = small_system(default_config, "ka3d", 250)
    start = lattice_state(system, np.random.default_rng(3), jitter=0.05)
    start.velocities[:, :3] = np.random.default_rng(4).normal(scale=np.sqrt(2.0), size=(system.n_particles, 3))
    states = _simulate(system, start, EVERY, FRAMES, seed=5)
    folder = tmp_path_factory.mktemp("simulated")
    path = folder / "internal.gsd"
    write_states(path, states, {"stage": "test"})
    internal = read_states(path)
    assert np.abs(internal[-1].images).max() >= 1, "the test trajectory should cross the periodic boundary"
    return system, folder, internal


def _write_hoomd_gsd(path, states, images_in: str, type_names=("Ka", "Kb")):
    """HOOMD-blue write.GSD as it stores a run by default: step but no time log; images in every
    frame, frame 0 only, or never."""
    with gsd.hoomd.open(str(path), "w") as traj:
        for k, s in enumerate(states):
            f = gsd.hoomd.Frame()
            f.configuration.step = int(round(s.time / DT))
            f.configuration.box = [s.box_length] * 3 + [0, 0, 0]
            f.particles.N = len(s.positions)
            f.particles.types = list(type_names)
            f.particles.typeid = s.typeid.astype(np.uint32)
            f.particles.position = s.positions.astype(np.float32)
            if images_in == "every" or (images_in == "first" and k == 0):
                f.particles.image = s.images.astype(np.int32)
            traj.append(f)


def _write_lammps_dump(path, states, unwrapped: bool, order: np.ndarray):
    """A LAMMPS `dump custom` text file, box [0, L)³, atoms listed in ``order`` (ids 1-based)."""
    with open(path, "w") as fh:
        for s in states:
            L = s.box_length
            coords = s.unwrapped + L / 2 if unwrapped else s.positions + L / 2
            fh.write(f"ITEM: TIMESTEP\n{int(round(s.time / DT))}\nITEM: NUMBER OF ATOMS\n{len(coords)}\n")
            fh.write("ITEM: BOX BOUNDS pp pp pp\n" + f"0 {float(L)!r}\n" * 3)
            fh.write("ITEM: ATOMS id type " + ("xu yu zu" if unwrapped else "x y z") + "\n")
            for i in order:
                x, y, z = (float(v) for v in coords[i])
                fh.write(f"{i + 1} {s.typeid[i] + 1} {x!r} {y!r} {z!r}\n")


def _write_extxyz(path, states):
    import ase
    import ase.io

    frames = []
    for s in states:
        atoms = ase.Atoms(
            symbols=np.array(["Ar", "Kr"])[s.typeid], positions=s.unwrapped + s.box_length / 2, cell=[s.box_length] * 3, pbc=True
        )
        atoms.info["time"] = s.time
        frames.append(atoms)
    ase.io.write(str(path), frames, format="extxyz")


def _exports(folder, internal):
    order = np.random.default_rng(0).permutation(len(internal[0].positions))
    _write_hoomd_gsd(folder / "images_every.gsd", internal, "every")
    _write_hoomd_gsd(folder / "images_first.gsd", internal, "first")
    _write_hoomd_gsd(folder / "images_none.gsd", internal, "none")
    _write_lammps_dump(folder / "unwrapped.dump", internal, True, order)
    _write_lammps_dump(folder / "wrapped.lammpstrj", internal, False, order)
    _write_extxyz(folder / "unwrapped.xyz", internal)
    gsd_map = {"Ka": "A", "Kb": "B"}
    return {
        "gsd, images every frame": ("images_every.gsd", dict(type_map=gsd_map, dt=DT)),
        "gsd, images in frame 0 only": ("images_first.gsd", dict(type_map=gsd_map, dt=DT)),
        "gsd, no images": ("images_none.gsd", dict(type_map=gsd_map, dt=DT)),
        "lammps dump, xu yu zu": ("unwrapped.dump", dict(type_map={"1": "A", "2": "B"}, dt=DT)),
        "lammps dump, x y z": ("wrapped.lammpstrj", dict(type_map={"1": "A", "2": "B"}, dt=DT)),
        "extended xyz": ("unwrapped.xyz", dict(type_map={"Ar": "A", "Kr": "B"})),
    }


@needs_lammps
def test_every_format_gives_the_internal_per_particle_results(simulated):
    system, folder, internal = simulated
    reference_disp = np.linalg.norm(displacements(internal), axis=-1)
    frames = [0, FRAMES - 1]
    reference_ind = indicators_for_states([internal[k] for k in frames], None, INDICATOR_CFG)
    reference_rows, _ = aging_dynamics([internal], q=7.0)
    for label, (name, kwargs) in _exports(folder, internal).items():
        states = read_trajectory(folder / name, species=system.types, **kwargs).states
        assert len(states) == FRAMES, label
        assert [s.types for s in states] == [system.types] * FRAMES, label
        np.testing.assert_array_equal(states[0].typeid, internal[0].typeid, err_msg=label)
        np.testing.assert_allclose([s.time for s in states], [s.time for s in internal], rtol=1e-9, err_msg=label)
        disp = np.linalg.norm(displacements(states), axis=-1)
        np.testing.assert_allclose(disp, reference_disp, rtol=1e-6, atol=1e-9, err_msg=label)
        got = indicators_for_states([states[k] for k in frames], None, INDICATOR_CFG)
        for ref, new in zip(reference_ind, got, strict=True):
            assert set(ref) == set(new)
            for key in ref:
                np.testing.assert_allclose(new[key], ref[key], rtol=1e-6, atol=1e-9, err_msg=f"{label}: {key}")
        rows, _ = aging_dynamics([states], q=7.0)
        for a, b in zip(rows, reference_rows, strict=True):
            for key in ("msd", "fs", "overlap"):
                # Fs at large t is a mean near 0 (cancellation): absolute 1e-7 there; extended
                # XYZ as ASE writes it keeps 8 decimals of each coordinate
                assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-7), (label, key)


@needs_lammps
def test_frames_too_far_apart_without_images_are_refused(simulated, tmp_path):
    """Every 4th frame of the same run: the frame-0-only and image-less files are refused, by
    file and frame, while the file with images in every frame still reads."""
    system, _, internal = simulated
    sparse = internal[::5]
    for images_in in ("first", "none"):
        path = tmp_path / f"sparse_{images_in}.gsd"
        _write_hoomd_gsd(path, sparse, images_in)
        try:
            states = read_gsd(path, ReaderOptions(type_map={"Ka": "A", "Kb": "B"}, species=system.types, dt=DT)).states
        except ReaderError as err:
            assert str(path) in str(err) and "frame " in str(err) and "images" in str(err)
        else:  # where it reads, it must be right
            np.testing.assert_allclose(displacements(states), displacements(sparse), atol=1e-5)


def test_frame0_images_and_no_images_unwrapped_when_frames_are_close(tmp_path):
    """HOOMD's default writer (images in frame 0 only) and image-less files of a random walk with
    small steps give the exact MSD, never one bounded by the box."""
    rng = np.random.default_rng(11)
    n, L, D = 200, 6.0, 0.05
    times = np.linspace(0, 100, 201)
    x = [rng.uniform(-L / 2, L / 2, (n, 3)) + L * rng.integers(-1, 2, (n, 3))]
    for t0, t1 in zip(times[:-1], times[1:]):
        x.append(x[-1] + rng.normal(scale=np.sqrt(2 * D * (t1 - t0)), size=(n, 3)))
    x = np.array(x)
    disp = x - x[0]
    disp -= disp.mean(axis=1, keepdims=True)
    exact = (disp**2).sum(-1).mean(-1)
    assert exact[-1] > (L / 2) ** 2, "the walk must leave the box for the test to mean anything"
    images = np.floor(x / L + 0.5).astype(np.int32)
    for variant in ("first", "none"):
        path = tmp_path / f"{variant}.gsd"
        with gsd.hoomd.open(str(path), "w") as traj:
            for k, t in enumerate(times):
                f = gsd.hoomd.Frame()
                f.configuration.step = k * 100
                f.configuration.box = [L, L, L, 0, 0, 0]
                f.particles.N = n
                f.particles.types = ["A", "B"]
                f.particles.typeid = (np.arange(n) >= 160).astype(np.uint32)
                f.particles.position = (x[k] - images[k] * L).astype(np.float32)
                if variant == "first" and k == 0:
                    f.particles.image = images[0]
                f.log["glasscam/time"] = np.array([t])
                traj.append(f)
        out = tmp_path / f"{variant}.csv"
        compute_aging_dynamics(aging_paths=[path], out_csv=out, q=7.0)
        msd = np.array([float(r["msd"]) for r in csv.DictReader(open(out)) if r["species"] == "all"])
        np.testing.assert_allclose(msd, exact, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------------------
# field cases (../shared/field-cases): the right number or a refusal naming file and frame


def _case(name):
    folder = FIELD_CASES / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    return folder


def test_case01_hoomd_image_frame0(tmp_path):
    here = _case("01-hoomd-image-frame0")
    unwrapped = np.load(here / "unwrapped.npy")
    disp = unwrapped - unwrapped[0]
    disp -= disp.mean(axis=1, keepdims=True)
    exact = (disp**2).sum(-1).mean(-1)
    compute_aging_dynamics(aging_paths=[here / "control_images_every_frame.gsd"], out_csv=tmp_path / "control.csv", q=7.0)
    msd = np.array([float(r["msd"]) for r in csv.DictReader(open(tmp_path / "control.csv")) if r["species"] == "all"])
    np.testing.assert_allclose(msd, exact, rtol=1e-5)
    for name in ("hoomd_default_image_frame0_only.gsd", "no_images_at_all.gsd"):
        with pytest.raises(ReaderError, match=r"frame \d+: images are not stored") as err:
            compute_aging_dynamics(aging_paths=[here / name], out_csv=tmp_path / f"{name}.csv", q=7.0)
        assert str(here / name) in str(err.value)
        assert not (tmp_path / f"{name}.csv").exists()


def test_case04_rectangular_box_refused(tmp_path):
    here = _case("04-rectangular-box-2d")
    with pytest.raises(ReaderError, match=r"frame 0: box 20 × 12 is not square") as err:
        compute_aging_dynamics(aging_paths=[here / "rect_moving.gsd"], out_csv=tmp_path / "dyn.csv", q=7.0)
    assert str(here / "rect_moving.gsd") in str(err.value)
    with pytest.raises(ReaderError, match=r"rect_sample.gsd: frame 0: box 20 × 12") as err:
        compute_indicators(glass_samples_gsd=here / "rect_sample.gsd", out_gsd=tmp_path / "ind.gsd", indicator_cfg={"neighbors": "voronoi"}, provenance={})
    assert not (tmp_path / "dyn.csv").exists() and not (tmp_path / "ind.gsd").exists()


def test_case07_changing_n_refused(tmp_path):
    here = _case("07-changing-n")
    path = here / "n_changes.gsd"
    for call in (
        lambda: compute_aging_dynamics(aging_paths=[path], out_csv=tmp_path / "dyn.csv", q=7.0),
        lambda: compute_aging_dynamics(aging_paths=[path], out_csv=tmp_path / "dyn2.csv"),
        lambda: compute_indicators(glass_samples_gsd=path, out_gsd=tmp_path / "ind.gsd", indicator_cfg={"neighbors": "voronoi"}, provenance={}),
    ):
        with pytest.raises(ReaderError, match=r"frame 5: particle number changes from 200 \(frame 0\) to 199") as err:
            call()
        assert str(path) in str(err.value)


def test_case14_missing_time_log(tmp_path):
    here = _case("14-missing-time-log")
    with pytest.raises(ReaderError, match=r"frame 0: no time log .* no dt given") as err:
        compute_aging_dynamics(aging_paths=[here / "hoomd_step_only.gsd"], out_csv=tmp_path / "step.csv", q=7.0)
    assert str(here / "hoomd_step_only.gsd") in str(err.value)
    compute_aging_dynamics(aging_paths=[here / "hoomd_step_only.gsd"], out_csv=tmp_path / "step.csv", q=7.0, reader={"dt": 0.005})
    compute_aging_dynamics(aging_paths=[here / "control_with_time_log.gsd"], out_csv=tmp_path / "control.csv", q=7.0)
    step_rows = list(csv.DictReader(open(tmp_path / "step.csv")))
    control_rows = list(csv.DictReader(open(tmp_path / "control.csv")))
    assert len(step_rows) == len(control_rows) == 13 * 3
    for a, b in zip(step_rows, control_rows, strict=True):
        assert a["species"] == b["species"]
        for key in ("time", "msd", "fs", "overlap"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-9, abs=1e-12)
    assert json.loads((tmp_path / "step.json").read_text())["tau_fs_1e_from_quench"]["all"] == pytest.approx(
        json.loads((tmp_path / "control.json").read_text())["tau_fs_1e_from_quench"]["all"]
    )


# --------------------------------------------------------------------------------------------
# other refusals


def _frame(positions, box, types=("A", "B"), typeid=None, dims=3, time=0.0):
    f = gsd.hoomd.Frame()
    f.configuration.box = box
    f.configuration.dimensions = dims
    f.particles.N = len(positions)
    f.particles.types = list(types)
    f.particles.typeid = np.zeros(len(positions), np.uint32) if typeid is None else np.asarray(typeid, np.uint32)
    f.particles.position = np.asarray(positions, np.float32)
    f.log["glasscam/time"] = np.array([time])
    return f


def _write(path, frames):
    with gsd.hoomd.open(str(path), "w") as traj:
        for f in frames:
            traj.append(f)
    return path


@pytest.mark.parametrize(
    "box, message",
    [
        ([6, 6, 5, 0, 0, 0], r"frame 0: box 6 × 6 × 5 is not cubic"),
        ([6, 6, 6, 0.5, 0, 0], r"frame 0: tilted \(triclinic\) box"),
    ],
)
def test_unsupported_boxes_refused(tmp_path, box, message):
    pos = np.random.default_rng(1).uniform(-2.5, 2.5, (20, 3))
    path = _write(tmp_path / "box.gsd", [_frame(pos, box)])
    with pytest.raises(ReaderError, match=message):
        read_states(path)


def test_changing_box_coincident_and_unknown_types_refused(tmp_path):
    rng = np.random.default_rng(2)
    pos = rng.uniform(-2.5, 2.5, (20, 3))
    path = _write(tmp_path / "npt.gsd", [_frame(pos, [6, 6, 6, 0, 0, 0]), _frame(pos, [6.1, 6.1, 6.1, 0, 0, 0], time=1.0)])
    with pytest.raises(ReaderError, match=r"npt.gsd: frame 1: box length 6.1 differs from 6"):
        read_states(path)
    twin = pos.copy()
    twin[7] = twin[3]
    path = _write(tmp_path / "twin.gsd", [_frame(twin, [6, 6, 6, 0, 0, 0])])
    with pytest.raises(ReaderError, match=r"twin.gsd: frame 0: particles [37] and [37] are coincident"):
        read_states(path)
    path = _write(tmp_path / "types.gsd", [_frame(pos, [6, 6, 6, 0, 0, 0], types=("A", "C"), typeid=[0] * 10 + [1] * 10)])
    with pytest.raises(ReaderError, match=r"types.gsd: frame 0: unknown type 'C'.*species are \['A', 'B'\]"):
        read_gsd(path, ReaderOptions(species=["A", "B"]))
    assert read_gsd(path, ReaderOptions(type_map={"C": "B"}, species=["A", "B"])).states[0].typeid.tolist() == [0] * 10 + [1] * 10


def test_lammps_dump_without_ids_and_triclinic_refused(tmp_path):
    path = tmp_path / "noid.dump"
    frame = "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n0 5\n0 5\n0 5\nITEM: ATOMS type x y z\n1 1 1 1\n"
    path.write_text(frame.format(0) + frame.format(100))  # a trajectory: rows cannot be followed without ids
    with pytest.raises(ReaderError, match=r"noid.dump: frame 1: no 'id' column"):
        read_trajectory(path, dt=0.005)
    path = tmp_path / "tri.dump"
    path.write_text(
        "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS xy xz yz pp pp pp\n0 5 0.5\n0 5 0\n0 5 0\n"
        "ITEM: ATOMS id type x y z\n1 1 1 1 1\n2 1 3 3 3\n"
    )
    with pytest.raises(ReaderError, match=r"tri.dump: frame 0: tilted"):
        read_trajectory(path)


# --------------------------------------------------------------------------------------------
# npz layout


@needs_lammps
def test_npz_round_trip_reproduces_propensity(simulated, tmp_path):
    """Iso-configurational replicas of the simulated start, written in the GlassBench/BOTAN
    layout (integer types, unwrapped end points), read back: the propensity equals a hand
    computation and the internal path's."""
    system, _, internal = simulated
    start = internal[-1].copy()
    ends = []
    for r in range(3):
        replica = start.copy()
        replica.velocities[:, :3] = np.random.default_rng(100 + r).normal(scale=np.sqrt(2.0), size=replica.velocities[:, :3].shape)
        ends.append(_simulate(system, replica, 100, 2, seed=200 + r)[-1])
    ends[1].images += np.array([1, 0, -1])  # a whole-box drift of one replica: removed with the COM
    path = tmp_path / "config.npz"
    np.savez(path, types=start.typeid.astype(np.int64), initial_positions=start.unwrapped, positions=np.stack([e.unwrapped for e in ends]))
    data = read_npz(path, start.box_length, 3, type_map={"0": "A", "1": "B"}, species=system.types)
    assert len(data.states) == 1 and data.replica_ends.shape == (1, 3, len(start.positions), 3)
    got = replica_propensity(data.states[0], data.replica_ends[0])
    by_hand = np.zeros(len(start.positions))
    for e in ends:
        delta = e.unwrapped - start.unwrapped
        delta -= delta.mean(axis=0)  # equal masses: centre-of-mass drift
        by_hand += np.sqrt((delta**2).sum(axis=1)) / len(ends)
    np.testing.assert_allclose(got, by_hand, rtol=1e-9)
    np.testing.assert_allclose(got, propensity([window_displacement(start, e) for e in ends]), rtol=1e-9)
    assert np.abs(replica_propensity(data.states[0], data.replica_ends[0], drift_removed=False) - got).min() > 0.1
    np.testing.assert_array_equal(data.states[0].typeid, start.typeid)
    with pytest.raises(ReaderError, match=r"config.npz: frame 0: unknown type '1'"):
        read_npz(path, start.box_length, 3, type_map={"0": "A"}, species=system.types)
    np.savez(tmp_path / "bad.npz", types=start.typeid, positions=np.stack([e.unwrapped for e in ends]))
    with pytest.raises(ReaderError, match=r"bad.npz: frame 0: missing arrays \['initial_positions'\]"):
        read_npz(tmp_path / "bad.npz", start.box_length)


def test_read_states_keeps_internal_files_unchanged(tmp_path):
    """glasscam's own files (images left out by gsd where equal to frame 0's) read as before."""
    rng = np.random.default_rng(5)
    states = []
    for k in range(3):
        pos = rng.uniform(-3, 3, (30, 3))
        states.append(State(pos, np.zeros((30, 3), int), np.zeros((30, 3)), np.zeros(30, int), ["A"], np.ones(30), 6.0, 3, time=float(k)))
    write_states(tmp_path / "own.gsd", states, {"stage": "test"})
    back = read_states(tmp_path / "own.gsd")
    for a, b in zip(states, back, strict=True):
        np.testing.assert_allclose(b.positions, a.positions, atol=1e-6)
        assert not b.images.any() and b.time == a.time
    assert Path(tmp_path / "own.gsd").exists()


def test_extxyz_with_non_element_species_is_refused_with_what_to_write(tmp_path):
    """ASE parses the extended-XYZ species column as chemical symbols: LJ labels A/B fail inside
    ASE with a bare KeyError; the refusal says what to write instead."""
    path = tmp_path / "ab.xyz"
    path.write_text('2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 time=0.0 pbc="T T T"\n'
                    "A 0.0 0.0 0.0\nB 1.0 1.0 1.0\n")
    with pytest.raises(ReaderError, match=r"ab\.xyz: not a readable extxyz file .*write element symbols .*type_map"):
        read_trajectory(path, "extxyz", type_map={"A": "A", "B": "B"})


def test_reader_options_are_checked_and_shared_by_every_reader(tmp_path):
    """One options object for every reader: values out of range and unknown names refused by name
    before a file is opened; a config ``reader`` mapping and keyword arguments give the same
    object; the same options read a GSD file and its LAMMPS-dump twin to the same states."""
    with pytest.raises(ReaderError, match=r"unwrap = 'nearest'"):
        ReaderOptions(unwrap="nearest")
    with pytest.raises(ReaderError, match="dt = 0"):
        ReaderOptions(dt=0)
    with pytest.raises(ReaderError, match="max_unwrap_fraction = 0.7"):
        ReaderOptions(max_unwrap_fraction=0.7)
    with pytest.raises(ReaderError, match=r"reader: unknown keys \['time_step'\]"):
        ReaderOptions.from_mapping({"dt": 0.005, "time_step": 0.005})
    with pytest.raises(ReaderError, match="time_step"):
        read_trajectory(tmp_path / "never_opened.gsd", time_step=0.005)
    options = ReaderOptions.from_mapping({"dt": 0.005, "species": ["A", "B"]}, unwrap="independent")
    assert options == ReaderOptions(dt=0.005, species=("A", "B"), unwrap="independent")
    assert ReaderOptions.from_mapping(options, dt=0.01).dt == 0.01 and options.dt == 0.005  # frozen: a copy
    assert ReaderOptions().spatial_dimensions == 3 and ReaderOptions(dimensions=2).spatial_dimensions == 2
    # the same options through two formats: the same trajectory
    rng = np.random.default_rng(3)
    L, n = 6.0, 40
    frames = [rng.uniform(-L / 2, L / 2, (n, 3))]
    for _ in range(3):
        frames.append(frames[-1] + rng.normal(0, 0.05, (n, 3)))
    typeid = np.array([0] * 30 + [1] * 10)
    dump = tmp_path / "twin.dump"
    with open(dump, "w") as fh:
        for k, pos in enumerate(frames):
            fh.write(f"ITEM: TIMESTEP\n{100 * k}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n")
            fh.write(f"{-L / 2} {L / 2}\n" * 3 + "ITEM: ATOMS id type xu yu zu\n")
            fh.writelines(f"{i + 1} {typeid[i] + 1} {x:.10f} {y:.10f} {z:.10f}\n" for i, (x, y, z) in enumerate(pos))
    shared = ReaderOptions(type_map={"1": "A", "2": "B"}, species=("A", "B"), dt=0.005)
    from_dump = read_trajectory(dump, options=shared)
    assert from_dump.times.tolist() == [0.0, 0.5, 1.0, 1.5]
    np.testing.assert_allclose([s.unwrapped for s in from_dump.states], frames, atol=1e-9)
    assert from_dump.states[0].typeid.tolist() == typeid.tolist()
