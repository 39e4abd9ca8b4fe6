"""Foreign files, second round (issue 22): every kind of input that users of LAMMPS, ASE, gsd and
numpy write and glasscam cannot represent is refused at `glasscam check` time naming file,
frame (or key) and the remedy, or read exactly. Each test plants the truth: the unwrapped
coordinates, species, times or box that went into the file."""

import csv
import re

import gsd.hoomd
import numpy as np
import pytest
from conftest import ROOT, SCHEMA, jittered_lattice, small_system

from glasscam.analysis.relaxation import aging_dynamics, liquid_relaxation
from glasscam.cli import main
from glasscam.config import load_yaml, validate_config
from glasscam.core.systems import system_from_config
from glasscam.errors import DamagedFile, ReaderError, TrajectoryError
from glasscam.io.foreign import read_trajectory
from glasscam.stages.dynamics import compute_aging_dynamics, compute_liquid_relaxation

CONFIG = str(ROOT / "config.yaml")
DELETE_ADVICE = ("delete it", "rm '", "--forcerun")
TYPE_MAP = {"1": "A", "2": "B"}


@pytest.fixture(scope="module")
def ka(default_config):
    """A KA 3D system of N = 250 and a jittered-lattice configuration of it (no overlaps)."""
    system = small_system(default_config, "ka3d", 250)
    return system, jittered_lattice(system, np.random.default_rng(0), jitter=0.05)


def walk(start, frames, step_sd, seed=1):
    """Unwrapped positions (frames, N, 3) of random walks from ``start`` (mean step removed)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=step_sd, size=(frames - 1, len(start.positions), 3))
    steps[:, :, start.dimensions:] = 0
    steps -= steps.mean(axis=1, keepdims=True)
    return start.unwrapped[None] + np.concatenate([np.zeros((1, *start.positions.shape)), np.cumsum(steps, axis=0)])


def write_dump(path, columns, frames, L, steps, bounds="pp pp pp", origin=0.0, typeid=None, labels=("A", "B"), order=None):
    """A LAMMPS text dump with box [origin, origin + L)³; ``frames`` are unwrapped (N, 3) arrays
    in [−L/2, L/2) coordinates; every column LAMMPS writes is derived from them."""
    cols = columns.split()
    with open(path, "w") as fh:
        for k, unwrapped in enumerate(frames):
            n = len(unwrapped)
            image = np.floor(unwrapped / L + 0.5).astype(int)
            wrapped = unwrapped - image * L
            fh.write(f"ITEM: TIMESTEP\n{steps[k]}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS {bounds}\n")
            fh.write(f"{origin!r} {origin + L!r}\n" * 3)
            fh.write("ITEM: ATOMS " + " ".join(cols) + "\n")
            for i in (range(n) if order is None else order[k]):
                row = []
                for c in cols:
                    axis = "xyz".index(c[0]) if c[0] in "xyz" else None
                    if c == "id":
                        row.append(str(i + 1))
                    elif c == "type":
                        row.append(str(typeid[i] + 1))
                    elif c == "typelabel" or c == "label":
                        row.append(labels[typeid[i]])
                    elif c in ("ix", "iy", "iz"):
                        row.append(str(image[i, "xyz".index(c[1])]))
                    elif c in ("x", "y", "z"):
                        row.append(repr(float(wrapped[i, axis] + origin + L / 2)))
                    elif c in ("xu", "yu", "zu"):
                        row.append(repr(float(unwrapped[i, axis] + origin + L / 2)))
                    elif c in ("xs", "ys", "zs"):
                        row.append(repr(float((wrapped[i, axis] + L / 2) / L)))
                    else:
                        raise ValueError(c)
                fh.write(" ".join(row) + "\n")
    return path


def write_gsd(path, frames, typeid, L, images=True, times=None, steps=None, order=None):
    with gsd.hoomd.open(str(path), "w") as traj:
        for k, unwrapped in enumerate(frames):
            rows = np.arange(len(unwrapped)) if order is None else order[k]
            image = np.floor(unwrapped / L + 0.5).astype(np.int32)
            f = gsd.hoomd.Frame()
            f.configuration.step = int(steps[k]) if steps is not None else k * 100
            f.configuration.box = [L, L, L, 0, 0, 0]
            f.particles.N = len(unwrapped)
            f.particles.types = ["A", "B"]
            f.particles.typeid = np.asarray(typeid)[rows].astype(np.uint32)
            f.particles.position = (unwrapped - image * L)[rows].astype(np.float32)
            if images:
                f.particles.image = image[rows]
            if times is not None:
                f.log["glasscam/time"] = np.array([times[k]], dtype=np.float64)
            traj.append(f)
    return path


def check(capsys, *args):
    """`glasscam check` in-process: (exit code, stdout + stderr)."""
    code = main(["check", *map(str, args), "--config", CONFIG])
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_no_delete_advice(text):
    assert not any(a in text for a in DELETE_ADVICE), text


# --------------------------------------------------------------------------------------------
# times that repeat or go back (case 17)


@pytest.mark.parametrize(
    "name, steps, frame",
    [
        ("restart_rewind", [0, 100, 200, 300, 400, 200, 300, 400, 500], 5),  # restart with dump_modify append yes
        ("concat_junction", [0, 100, 200, 300, 300, 400, 500], 4),  # cat run1.dump run2.dump
        ("reset_timestep", [0, 100, 200, 0, 100, 200], 3),  # reset_timestep 0 inside the file
    ],
)
def test_times_that_do_not_increase_are_refused_by_file_frame_and_steps(ka, tmp_path, capsys, name, steps, frame):
    _, start = ka
    frames = walk(start, len(steps), 0.02)
    path = write_dump(tmp_path / f"{name}.dump", "id type xu yu zu", frames, start.box_length, steps, typeid=start.typeid)
    owed = rf"{name}\.dump: frame {frame} \(step {steps[frame]}.*\) follows frame {frame - 1} \(step {steps[frame - 1]}.*times do not increase"
    code, out = check(capsys, path, "--system", "ka3d", "--type-map", "1=A,2=B", "--dt", "0.005", "--unwrap", "auto")
    assert code == 2 and re.search(owed, out), out
    reader = {"type_map": TYPE_MAP, "species": ["A", "B"], "dt": 0.005}
    with pytest.raises(ReaderError, match=owed):
        read_trajectory(path, **reader)
    with pytest.raises(ReaderError, match=owed):  # never one file counted as several trajectories
        compute_aging_dynamics(aging_paths=[path], out_csv=tmp_path / "aging.csv", q=7.25, reader=reader)
    assert not (tmp_path / "aging.csv").exists()
    with pytest.raises(TrajectoryError, match=owed) as err:  # the liquid route: the same refusal
        compute_liquid_relaxation(trajectory_paths=[path], out_json=tmp_path / "liquid.json", q=7.25, reader=reader)
    assert_no_delete_advice(str(err.value))


def test_pure_dynamics_refuse_times_that_do_not_increase_within_one_trajectory(ka):
    _, start = ka
    states = []
    for k, t in enumerate([0.0, 0.5, 1.0, 0.5, 1.0]):
        s = start.copy()
        s.time = t
        s.positions = s.positions + 0.01 * k
        states.append(s)
    with pytest.raises(ValueError, match=r"trajectory 0: frame 3 \(t = 0.5\) follows frame 2 \(t = 1\)"):
        aging_dynamics([states], q=7.25)
    with pytest.raises(ValueError, match=r"trajectory 0: frame 3 \(t = 0.5\) follows frame 2 \(t = 1\)"):
        liquid_relaxation([states], q=7.25)


def test_gsd_time_log_that_goes_back_is_refused(ka, tmp_path):
    _, start = ka
    frames = walk(start, 4, 0.02)
    path = write_gsd(tmp_path / "back.gsd", frames, start.typeid, start.box_length, times=[0.0, 1.0, 2.0, 1.5])
    with pytest.raises(ReaderError, match=r"back\.gsd: frame 3 \(step 300, t = 1.5\) follows frame 2 \(step 200, t = 2\)"):
        read_trajectory(path)


# --------------------------------------------------------------------------------------------
# non-periodic axes (case 19)


def test_non_periodic_axes_are_refused(ka, tmp_path, capsys):
    import ase
    import ase.io

    _, start = ka
    L = start.box_length
    for pbc, axes in (([False] * 3, "x, y, z"), ([True, True, False], "z")):
        atoms = ase.Atoms(symbols=np.array(["Ar", "Ne"])[start.typeid], positions=start.positions + L / 2, cell=[L] * 3, pbc=pbc)
        path = tmp_path / f"pbc{''.join('T' if p else 'F' for p in pbc)}.extxyz"
        ase.io.write(str(path), atoms, format="extxyz")
        code, out = check(capsys, path, "--system", "ka3d", "--type-map", "Ar=A,Ne=B")
        assert code == 2 and f"{path.name}: frame 0: not periodic along {axes}" in out, out
    path = write_dump(tmp_path / "slab.dump", "id type xu yu zu", [start.unwrapped], L, [0], bounds="pp pp ff", typeid=start.typeid)
    code, out = check(capsys, path, "--system", "ka3d", "--type-map", "1=A,2=B")
    assert code == 2 and "slab.dump: frame 0: not periodic along z (BOX BOUNDS pp pp ff)" in out, out
    assert "periodic" in out and "every axis" in out
    path = write_dump(tmp_path / "bulk.dump", "id type xu yu zu", [start.unwrapped], L, [0], typeid=start.typeid)
    assert check(capsys, path, "--system", "ka3d", "--type-map", "1=A,2=B")[0] == 0


# --------------------------------------------------------------------------------------------
# image flags (case 18), type labels (case 21), 2D dumps, dumps without id


@pytest.mark.parametrize("columns", ["id type x y z ix iy iz", "id type xs ys zs ix iy iz", "id type xu yu zu"])
def test_image_flags_unwrap_exactly(ka, tmp_path, columns):
    """Frames far apart (≈ 0.9 σ per component between frames, minimum image useless): the
    file's own ix iy iz give x + ix·L exactly; rows listed in a different order every frame."""
    _, start = ka
    L = start.box_length
    frames = walk(start, 6, 0.9)
    assert np.abs(np.floor(frames / L + 0.5)).max() >= 1  # crossings between frames
    order = [np.random.default_rng(k).permutation(len(start.positions)) for k in range(6)]
    path = write_dump(tmp_path / "flags.dump", columns, frames, L, [2000 * k for k in range(6)], typeid=start.typeid, order=order)
    states = read_trajectory(path, type_map=TYPE_MAP, species=["A", "B"], dt=0.005).states
    got = np.array([s.unwrapped for s in states])
    np.testing.assert_allclose(got - got[0], frames - frames[0], atol=1e-9)
    np.testing.assert_array_equal(states[0].typeid, start.typeid)


@pytest.mark.parametrize(
    "columns, type_map",
    [("id typelabel xu yu zu", {}), ("id label xu yu zu", {}), ("id type typelabel xu yu zu", {"1": "A", "2": "B"}),
     ("id type typelabel xu yu zu", {}), ("id typelabel xu yu zu", {"A": "B", "B": "A"})],
)
def test_lammps_type_labels_map_through_type_map(ka, tmp_path, columns, type_map):
    _, start = ka
    frames = walk(start, 3, 0.02)
    labels_in_type = columns.split()[1] == "label"
    path = write_dump(tmp_path / "labels.dump", columns.replace("label", "type") if labels_in_type else columns, frames,
                      start.box_length, [0, 100, 200], typeid=start.typeid)
    if labels_in_type:  # `type` column holding the labels A/B (LAMMPS ≥ 2023 with labelmap)
        text = path.read_text().splitlines()
        path.write_text("\n".join(ln if ln.startswith("ITEM") or len(ln.split()) < 5 else
                                  " ".join([ln.split()[0], "AB"[int(ln.split()[1]) - 1], *ln.split()[2:]]) for ln in text) + "\n")
    states = read_trajectory(path, type_map=type_map, species=["A", "B"], dt=0.005).states
    expected = 1 - start.typeid if type_map.get("A") == "B" else start.typeid
    np.testing.assert_array_equal(states[0].typeid, expected)
    np.testing.assert_allclose(states[-1].unwrapped - states[0].unwrapped, frames[-1] - frames[0], atol=1e-9)


def test_label_column_that_disagrees_with_numeric_types_is_refused(ka, tmp_path):
    _, start = ka
    path = write_dump(tmp_path / "both.dump", "id type typelabel xu yu zu", [start.unwrapped], start.box_length, [0],
                      typeid=start.typeid, labels=("A", "A"))
    with pytest.raises(ReaderError, match=r"both\.dump: frame 0: .*typelabel 'A' .*types \[1, 2\]"):
        read_trajectory(path, species=["A", "B"])


def test_two_dimensional_dump_without_z_column(default_config, tmp_path):
    system = small_system(default_config, "ka2d", 200)
    start = jittered_lattice(system, np.random.default_rng(2), jitter=0.05)
    L = start.box_length
    frames = walk(start, 4, 0.3)
    path = tmp_path / "two_d.dump"
    with open(path, "w") as fh:
        for k, u in enumerate(frames):
            img = np.floor(u / L + 0.5).astype(int)
            w = u - img * L
            fh.write(f"ITEM: TIMESTEP\n{k * 100}\nITEM: NUMBER OF ATOMS\n{len(u)}\nITEM: BOX BOUNDS pp pp pp\n"
                     f"0 {L!r}\n0 {L!r}\n-0.5 0.5\nITEM: ATOMS id type x y ix iy\n")
            for i in range(len(u)):
                fh.write(f"{i + 1} {start.typeid[i] + 1} {float(w[i, 0] + L / 2)!r} {float(w[i, 1] + L / 2)!r} {img[i, 0]} {img[i, 1]}\n")
    states = read_trajectory(path, type_map=TYPE_MAP, species=system.types, dt=0.005, dimensions=2).states
    assert [s.dimensions for s in states] == [2] * 4
    got = np.array([s.unwrapped for s in states])
    np.testing.assert_allclose(got[:, :, :2] - got[0, :, :2], frames[:, :, :2] - frames[0, :, :2], atol=1e-9)
    assert not got[:, :, 2].any()
    with pytest.raises(ReaderError, match=r"two_d\.dump: frame 0: no z column .* 2D .*3D"):
        read_trajectory(path, type_map=TYPE_MAP, dt=0.005, dimensions=3)


def test_dump_without_id_read_in_file_order_only_where_order_cannot_matter(ka, tmp_path):
    _, start = ka
    L = start.box_length
    one = write_dump(tmp_path / "one.dump", "type xu yu zu", [start.unwrapped], L, [0], typeid=start.typeid)
    state = read_trajectory(one, type_map=TYPE_MAP, species=["A", "B"]).states[0]
    np.testing.assert_allclose(state.unwrapped, start.unwrapped, atol=1e-9)
    frames = walk(start, 3, 0.02)
    many = write_dump(tmp_path / "many.dump", "type xu yu zu", frames, L, [0, 100, 200], typeid=start.typeid)
    with pytest.raises(ReaderError, match=r"many\.dump: frame 1: no 'id' column.*dump_modify \S+ sort id") as err:
        read_trajectory(many, type_map=TYPE_MAP, dt=0.005)
    assert "id type xu yu zu" in str(err.value)
    independent = read_trajectory(many, type_map=TYPE_MAP, unwrap="independent", require_time=False).states
    assert len(independent) == 3


# --------------------------------------------------------------------------------------------
# LAMMPS files recognised by their header whatever the suffix (case 25)


def test_lammps_output_named_xyz(ka, tmp_path, capsys):
    _, start = ka
    L = start.box_length
    custom = write_dump(tmp_path / "dump.xyz", "id type xu yu zu", walk(start, 3, 0.02), L, [0, 100, 200], typeid=start.typeid)
    code, out = check(capsys, custom, "--system", "ka3d", "--type-map", "1=A,2=B", "--dt", "0.005")
    assert code == 0 and "dump.xyz: 3 frames, N = 250" in out, out
    copy = tmp_path / "dump.txt"
    copy.write_text(custom.read_text())
    assert len(read_trajectory(copy, type_map=TYPE_MAP, dt=0.005).states) == 3
    code, out = check(capsys, custom, "--format", "extxyz", "--type-map", "1=A,2=B")
    assert code == 2 and "dump.xyz: a LAMMPS text dump ('ITEM: TIMESTEP'), not extxyz: use --format lammps-dump" in out, out
    plain = tmp_path / "traj.xyz"
    with open(plain, "w") as fh:
        for step in (0, 100):
            fh.write(f"{len(start.positions)}\n Atoms. Timestep: {step}\n")
            for t, p in zip(start.typeid, start.positions + L / 2, strict=True):
                fh.write(f"{t + 1} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}\n")
    code, out = check(capsys, plain, "--system", "ka3d", "--type-map", "1=A,2=B", "--dt", "0.005")
    assert code == 2 and "traj.xyz: a LAMMPS `dump xyz` file ('Atoms. Timestep: 0'), which stores no box" in out, out
    assert "dump custom" in out and "element" not in out


# --------------------------------------------------------------------------------------------
# npz: ragged replicas (case 20) and a box inferred from the configured density (item 2)


def test_ragged_and_nan_padded_npz_refused_by_file_and_key(ka, tmp_path, capsys):
    _, start = ka
    rng = np.random.default_rng(3)
    ends = [start.unwrapped[None] + rng.normal(scale=0.1, size=(r, len(start.positions), 3)) for r in (4, 4, 2)]
    types = np.tile(start.typeid, (3, 1))
    initial = np.tile(start.unwrapped, (3, 1, 1))
    ragged = tmp_path / "ragged.npz"
    positions = np.empty(3, dtype=object)
    positions[:] = ends
    np.savez(ragged, types=types, initial_positions=initial, positions=positions)
    code, out = check(capsys, ragged, "--system", "ka3d", "--type-map", "0=A,1=B")
    assert code == 2, out
    assert "ragged.npz: array 'positions' is an object array" in out and "equal numbers of replicas" in out, out
    assert "one file per sample" in out
    padded = tmp_path / "padded.npz"
    full = np.full((3, 4, len(start.positions), 3), np.nan)
    for s, e in enumerate(ends):
        full[s, : len(e)] = e
    np.savez(padded, types=types, initial_positions=initial, positions=full)
    code, out = check(capsys, padded, "--system", "ka3d", "--type-map", "0=A,1=B")
    assert code == 2 and "padded.npz: array 'positions': sample 2 has non-finite end points in replicas [2, 3]" in out, out
    assert "equal numbers of replicas" in out and "one file per sample" in out


def test_npz_from_another_density_without_box_length_is_refused(default_config, tmp_path, capsys):
    """GlassBench layout at ρ = 1.1 analysed with ka3d's ρ = 1.2 and no box_length: the inferred
    box is too small, particles overlap across its faces; with box_length it reads."""
    spec = dict(default_config["systems"]["ka3d"])
    spec.update(density=1.1, composition={"A": 200, "B": 50})
    spec.pop("N", None)
    other = system_from_config("ka3d", spec)
    state = jittered_lattice(other, np.random.default_rng(4), jitter=0.05)
    path = tmp_path / "rho1.1.npz"
    np.savez(path, types=state.typeid, initial_positions=state.positions)
    code, out = check(capsys, path, "--system", "ka3d", "--type-map", "0=A,1=B")
    assert code == 2, out
    assert f"{path.name}: frame 0: the box L = " in out and "box_length" in out and "density 1.2" in out, out
    assert "closer than inside" in out
    code, out = check(capsys, path, "--system", "ka3d", "--type-map", "0=A,1=B", "--box-length", repr(state.box_length))
    assert code == 0, out


# --------------------------------------------------------------------------------------------
# rows reordered between frames although every frame carries images (item 2)


def test_rows_reordered_between_frames_are_refused_even_with_images(ka, tmp_path):
    _, start = ka
    L = start.box_length
    frames = walk(start, 6, 0.03)
    order = [np.arange(len(start.positions))] * 6
    rng = np.random.default_rng(9)
    order[3] = np.arange(len(start.positions))
    for t in (0, 1):  # rows shuffled within each species: the type column cannot tell
        rows = np.flatnonzero(start.typeid == t)
        order[3][rows] = rng.permutation(rows)
    order[4] = order[5] = order[3]
    path = write_gsd(tmp_path / "reordered.gsd", frames, start.typeid, L, times=[0.5 * k for k in range(6)], order=order)
    with pytest.raises(ReaderError, match=r"reordered\.gsd: frame 3: .*rows .*reordered"):
        read_trajectory(path, unwrap="auto")
    control = write_gsd(tmp_path / "control.gsd", frames, start.typeid, L, times=[0.5 * k for k in range(6)])
    got = np.array([s.unwrapped for s in read_trajectory(control).states])
    np.testing.assert_allclose(got - got[0], frames - frames[0], atol=1e-5)


def test_sparse_frames_with_images_are_not_mistaken_for_reordering(ka, tmp_path):
    """Frames ≈ 0.9 σ per component apart (case 18's spacing; 40 % of particles move > L/4
    between frames): the images make them exact, and they are read."""
    _, start = ka
    frames = walk(start, 8, 0.9)
    path = write_gsd(tmp_path / "sparse.gsd", frames, start.typeid, start.box_length, times=[10.0 * k for k in range(8)])
    got = np.array([s.unwrapped for s in read_trajectory(path).states])
    np.testing.assert_allclose(got - got[0], frames - frames[0], atol=1e-4)


# --------------------------------------------------------------------------------------------
# box below twice the cutoff (case 24), frames all at one time, one frame (case 23)


def test_box_below_twice_the_cutoff_refused_at_check(tmp_path, capsys):
    """KA with N = 100 at ρ = 1.2: L = 4.37 < 2 r_c = 5 (a box glasscam's own config check refuses)."""
    n, L = 100, (100 / 1.2) ** (1 / 3)
    grid = np.stack(np.meshgrid(*[np.arange(5)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    positions = (grid + 0.5) * (L / 5) - L / 2
    typeid = (np.arange(n) % 5 == 4).astype(np.int32)
    path = tmp_path / "ka100.gsd"
    with gsd.hoomd.open(str(path), "w") as traj:
        f = gsd.hoomd.Frame()
        f.configuration.box = [L, L, L, 0, 0, 0]
        f.particles.N, f.particles.types, f.particles.typeid = n, ["A", "B"], typeid.astype(np.uint32)
        f.particles.position = positions.astype(np.float32)
        traj.append(f)
    code, out = check(capsys, path, "--system", "ka3d")
    assert code == 2, out
    assert f"{path.name}: frame 0: box L = {L:.4g} is not larger than twice the largest pair cutoff" in out, out
    assert "N > 150" in out


def test_frames_without_any_time_refused_by_check(ka, tmp_path, capsys):
    _, start = ka
    path = write_gsd(tmp_path / "steps_only.gsd", walk(start, 3, 0.02), start.typeid, start.box_length)
    code, out = check(capsys, path, "--system", "ka3d")
    assert code == 2 and "steps_only.gsd: frame 0: no time log" in out and "--dt" in out, out
    assert check(capsys, path, "--system", "ka3d", "--dt", "0.005")[0] == 0
    assert check(capsys, path, "--system", "ka3d", "--unwrap", "independent")[0] == 0  # unrelated configurations


def test_one_frame_has_no_dynamics(ka, tmp_path):
    _, start = ka
    one = write_gsd(tmp_path / "one.gsd", [start.unwrapped], start.typeid, start.box_length, times=[0.0])
    with pytest.raises(TrajectoryError, match=r"one\.gsd: 1 frame: no dynamics"):
        compute_aging_dynamics(aging_paths=[one], out_csv=tmp_path / "aging.csv")
    assert not (tmp_path / "aging.csv").exists()
    with pytest.raises(ValueError, match=r"trajectory 0: 1 frame: no dynamics"):
        aging_dynamics([[start]], q=7.25)
    with pytest.raises(ValueError, match=r"trajectory 0: 1 frame: no dynamics"):
        liquid_relaxation([[start]], q=7.25)
    two = write_gsd(tmp_path / "two.gsd", walk(start, 2, 0.05), start.typeid, start.box_length, times=[0.0, 5.0])
    compute_aging_dynamics(aging_paths=[two], out_csv=tmp_path / "two.csv")
    assert len([r for r in csv.DictReader(open(tmp_path / "two.csv")) if r["species"] == "all"]) == 2


# --------------------------------------------------------------------------------------------
# YAML 1.2 numbers (case 22)


def test_yaml_numbers_without_a_dot_are_numbers(default_config, tmp_path):
    path = tmp_path / "sci.yaml"
    path.write_text("systems:\n  ka3d:\n    dt: 5e-3\ntraining:\n  learning_rate: 1e-3\nlabel: '5e-3'\nplain: 1e3\n")
    data = load_yaml(path)
    assert data["systems"]["ka3d"]["dt"] == 0.005 and isinstance(data["systems"]["ka3d"]["dt"], float)
    assert data["training"]["learning_rate"] == 0.001 and data["plain"] == 1000.0
    assert data["label"] == "5e-3"  # quoted: text
    # Snakemake parses --configfile with PyYAML (YAML 1.1: '5e-3' is text); validate_config, given
    # the files, turns what YAML 1.2 reads as a number back into one
    import copy

    import yaml

    config = copy.deepcopy(default_config)
    override = tmp_path / "dt.yaml"
    override.write_text("systems:\n  ka3d:\n    dt: 5e-3\n")
    config["systems"]["ka3d"]["dt"] = yaml.safe_load(override.read_text())["systems"]["ka3d"]["dt"]
    assert config["systems"]["ka3d"]["dt"] == "5e-3"
    validate_config(config, SCHEMA, [ROOT / "config.yaml", override])
    assert config["systems"]["ka3d"]["dt"] == 0.005


# --------------------------------------------------------------------------------------------
# no message tells a user to delete an input glasscam did not write (item 3)


def test_damaged_file_advice_only_for_the_pipelines_own_outputs(ka, tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSCAM_RESULTS", str(tmp_path / "results"))
    mine = tmp_path / "mine.gsd"
    mine.write_bytes(b"not a gsd file at all" * 10)
    with pytest.raises(TrajectoryError) as err:
        read_trajectory(mine)
    assert not isinstance(err.value, DamagedFile) and str(mine) in str(err.value)
    assert_no_delete_advice(str(err.value))
    own = tmp_path / "results" / "ka3d" / "aging" / "run0.gsd"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"not a gsd file at all" * 10)
    with pytest.raises(DamagedFile, match=r"delete it \(rm '.*run0.gsd'\)"):
        read_trajectory(own)
    _, start = ka
    dump = write_dump(tmp_path / "run.dump", "id type xu yu zu", walk(start, 3, 0.02), start.box_length, [0, 100, 200],
                      typeid=start.typeid)
    with pytest.raises(TrajectoryError) as err:  # an intact dump has no provenance: said, not "damaged"
        compute_liquid_relaxation(trajectory_paths=[dump], out_json=tmp_path / "liquid.json", q=7.25, reader={"type_map": TYPE_MAP, "dt": 0.005})
    assert "run.dump" in str(err.value) and "temperature" in str(err.value) and "liquid_relaxation" in str(err.value)
    assert_no_delete_advice(str(err.value))
