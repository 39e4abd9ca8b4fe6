import json

import h5py
import numpy as np
import pytest

from glasscam.core.state import State
from glasscam.errors import TrajectoryError
from glasscam.io.gsd import read_logs, read_states, write_states
from glasscam.learn.voxelize import voxelize_gaussian
from glasscam.stages.dataset import build_dataset, split_runs

L, D, N = 5.0, 2, 24
TYPES = ["A", "B"]
VOXEL = {"spacing": 0.25, "width": 0.3}
AGING_TIMES = [0.0, 0.1, 1.0, 3.0, 10.0, 30.0]


def write_trajectory(path, run, stage, temperature, times, seed):
    rng = np.random.default_rng(seed)
    states, logs = [], []
    for t in times:
        positions = np.zeros((N, 3))
        positions[:, :D] = rng.uniform(-L / 2, L / 2, (N, D))
        states.append(State(positions, np.zeros((N, 3), dtype=int), rng.normal(size=(N, 3)) * [1, 1, 0],
                            (np.arange(N) >= 16).astype(int), TYPES, np.ones(N), L, D, step=int(t * 200), time=t))
        logs.append({"particles/glasscam/potential_energy": rng.normal(-3, 0.5, N).astype(np.float32)})
    provenance = {"system": "toy2d", "run": run, "replica": 0, "temperature": temperature, "stage": stage,
                  "seed": seed}
    write_states(path, states, provenance, logs)
    return path


def make_inputs(tmp_path, n_runs=6):
    liquid, glass = [], []
    for run in range(n_runs):
        liquid.append(write_trajectory(tmp_path / f"liquid_{run}.gsd", run, "liquid", 1.0, [0, 10, 20, 30], 100 + run))
        glass.append(write_trajectory(tmp_path / f"aging_{run}.gsd", run, "aging", 0.3, AGING_TIMES, 200 + run))
    return liquid, glass


DATASET = {"glass_ages": [0, 1, 25], "split": {"train": 0.5, "validation": 0.25, "test": 0.25},
           "liquid_samples_per_trajectory": 3}


def build(tmp_path, liquid, glass, out="out", seed=7, dataset_cfg=DATASET, voxel_cfg=VOXEL):
    out = tmp_path / out
    counts = build_dataset(output_h5=out / "data.h5", liquid_paths=liquid, glass_paths=glass, system_types=TYPES,
                           voxel_cfg=voxel_cfg, dataset_cfg=dataset_cfg, seed=seed, provenance={"config_hash": "abc123"})
    return out / "data.h5", counts


def test_dataset_contents(tmp_path):
    liquid, glass = make_inputs(tmp_path)
    h5_path, counts = build(tmp_path, liquid, glass)
    with h5py.File(h5_path) as h5:
        images, labels = h5["images"][:], h5["labels"][:]
        frames, times = h5["frame"][:], h5["time"][:]
        sources = [s.decode() for s in h5["source"][:]]
        assert images.shape == (6 * 3 + 6 * 3, 2, 20, 20) and images.dtype == np.float32
        assert labels.tolist() == [0] * 18 + [1] * 18
        assert json.loads(h5.attrs["provenance"])["config_hash"] == "abc123"
        assert list(h5.attrs["class_names"]) == ["liquid", "glass"]
        assert h5.attrs["dimensions"] == 2 and h5.attrs["box_length"] == L
        assert json.loads(h5.attrs["class_counts"]) == counts
        assert h5["temperature"][:].tolist() == [1.0] * 18 + [0.3] * 18
        energy = h5["potential_energy"][:]
    # liquid frames evenly spaced; glass frames nearest to the requested t_w (0, 1, 25 → 0, 1, 30)
    assert frames[:3].tolist() == [0, 2, 3] and frames[18:21].tolist() == [0, 2, 5]
    assert times[18:21].tolist() == [0.0, 1.0, 30.0]
    # images are the voxelized source frames; U/N is the mean of the frame's per-particle energies
    for k in (1, 20, 35):
        per_particle = read_logs(sources[k])[frames[k]]["particles/glasscam/potential_energy"]
        assert energy[k] == pytest.approx(np.mean(per_particle, dtype=np.float64), rel=1e-12)
        state = read_states(sources[k])[frames[k]]
        expected = voxelize_gaussian(state.positions, state.typeid, 2, L, D, 0.25, 0.3)
        np.testing.assert_array_equal(images[k], expected)
    assert sum(c for split_counts in counts.values() for c in split_counts.values()) == 36


def test_splits_keep_each_run_on_one_side(tmp_path):
    liquid, glass = make_inputs(tmp_path, n_runs=8)
    h5_path, counts = build(tmp_path, liquid, glass)
    with h5py.File(h5_path) as h5:
        runs, split = h5["run"][:], h5["split"][:]
    for run in np.unique(runs):
        assert len(np.unique(split[runs == run])) == 1
    assert sorted(np.unique(split)) == [0, 1, 2]
    runs_per_split = [len(np.unique(runs[split == k])) for k in range(3)]
    assert runs_per_split == [4, 2, 2]
    assert counts["train"] == {"liquid": 12, "glass": 12}


def test_split_runs_properties():
    fractions = {"train": 0.6, "validation": 0.2, "test": 0.2}
    for n_runs in (3, 4, 7, 10, 31):
        runs = list(range(100, 100 + n_runs))
        assignment = split_runs(runs * 3, fractions, seed=11)
        assert sorted(assignment) == runs
        sizes = np.bincount(list(assignment.values()), minlength=3)
        assert sizes.min() >= 1 and sizes.sum() == n_runs
        assert abs(sizes[0] - 0.6 * n_runs) <= 1
    assert split_runs(list(range(20)), fractions, 1) != split_runs(list(range(20)), fractions, 2)


def test_dataset_is_deterministic(tmp_path):
    liquid, glass = make_inputs(tmp_path)
    first = build(tmp_path, liquid, glass, out="a")
    second = build(tmp_path, liquid, glass, out="b")
    assert first[0].read_bytes() == second[0].read_bytes()
    other = build(tmp_path, liquid, glass, out="c", seed=8)
    with h5py.File(first[0]) as h5a, h5py.File(other[0]) as h5c:
        np.testing.assert_array_equal(h5a["images"][:], h5c["images"][:])
        assert not np.array_equal(h5a["split"][:], h5c["split"][:])


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"dataset": {**DATASET, "glass_ages": [0.4]}}, ValueError, "dataset.glass_ages"),
        ({"dataset": {**DATASET, "liquid_samples_per_trajectory": 9}}, ValueError, "liquid_samples_per_trajectory"),
        ({"dataset": {**DATASET, "split": {"train": 0.5, "validation": 0.5}}}, ValueError, "dataset.split.test"),
        ({"voxel": {"width": 0.3}}, ValueError, "voxel.spacing"),
        ({"runs": 2}, ValueError, "dataset.split.test"),
        ({"swap": True}, TrajectoryError, "aging_0.gsd: stage 'aging'"),
        ({"missing": True}, TrajectoryError, "nothere.gsd"),
    ],
)
def test_bad_input_is_rejected_before_writing(tmp_path, change, error, message):
    liquid, glass = make_inputs(tmp_path, n_runs=change.get("runs", 3))
    if change.get("swap"):
        glass = liquid
        liquid = [tmp_path / "aging_0.gsd"]
    if change.get("missing"):
        glass = glass + [tmp_path / "nothere.gsd"]
    with pytest.raises(error, match=message):
        build(tmp_path, liquid, glass, dataset_cfg=change.get("dataset", DATASET), voxel_cfg=change.get("voxel", VOXEL))
    assert not (tmp_path / "out").exists()



def test_young_glasses_stay_out_of_the_classifier_splits(tmp_path):
    """classifier_min_age = 0.5 τ: the t_w = 0 glasses (still liquid structures after an
    instantaneous quench) get split 3 — in the file, in none of train/validation/test; every other sample keeps its run's split."""
    liquid, glass = make_inputs(tmp_path)
    h5_all, _ = build(tmp_path, liquid, glass, out="all")
    h5_path, counts = build(tmp_path, liquid, glass, out="aged", dataset_cfg={**DATASET, "classifier_min_age": 0.5})
    with h5py.File(h5_all) as a, h5py.File(h5_path) as b:
        young = (b["labels"][:] == 1) & (b["time"][:] < 0.5)
        assert young.sum() == 6  # one t_w = 0 frame per glass trajectory
        assert np.all(b["split"][:][young] == 3)
        np.testing.assert_array_equal(b["split"][:][~young], a["split"][:][~young])
        assert list(b.attrs["split_names"]) == ["train", "validation", "test", "analysis_only"]
    assert counts["analysis_only"] == {"liquid": 0, "glass": 6}
    assert sum(c["glass"] for c in counts.values()) == 18
    with pytest.raises(ValueError, match="classifier_min_age"):
        build(tmp_path, liquid, glass, out="none", dataset_cfg={**DATASET, "classifier_min_age": 100})
