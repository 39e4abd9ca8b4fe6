"""Classification tasks: the age task's kinetic-temperature guard, lineage-safe splits, and a
planted structural motif at equal temperature that only a network reading local structure finds."""

import json
import math

import h5py
import numpy as np
import pytest
from conftest import SCHEMA
from scipy.stats import rankdata

from glasscam.analysis.statistics import paired_accuracy_difference, wilson_interval
from glasscam.config import validate_config
from glasscam.core.state import State
from glasscam.core.tasks import (
    equilibrium_kinetic_temperature_sd,
    kinetic_relaxation_time,
)
from glasscam.errors import ConfigError
from glasscam.io.gsd import open_trajectory, write_states
from glasscam.stages.baselines import classifier_baselines
from glasscam.stages.dataset import build_dataset
from glasscam.stages.explain import explain
from glasscam.stages.train import train_classifier

L, D, N, N_PATCH = 8.0, 2, 48, 8
TYPES = ["A", "B"]
T_G = 0.3
TIMES = [0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 10.0, 50.0, 60.0, 70.0, 80.0, 100.0]
AGE_TASK = {"name": "age", "kind": "age", "young": [5, 10], "aged": [50, 100]}
SPLIT = {"train": 0.5, "validation": 0.25, "test": 0.25}


def test_kinetic_relaxation_time_of_an_exponential_decay():
    times = np.linspace(0, 50, 501)
    amplitude, tau, n = 0.25, 2.0, 1000
    sigma = equilibrium_kinetic_temperature_sd(T_G, n, 3)
    assert sigma == pytest.approx(T_G * math.sqrt(2 / (3 * n - 3)))
    curves = [T_G + amplitude * np.exp(-times / tau)] * 4  # R = 4 noise-free trajectories
    measured = kinetic_relaxation_time(times, curves, T_G, n, 3)
    expected = tau * math.log(amplitude / (sigma * (1 + 2 / math.sqrt(4))))  # excess = σ_T (1 + z/√R)
    assert measured["threshold"] == pytest.approx(2 * sigma)
    assert expected <= measured["time"] <= expected + 0.1
    # a bath the system never reaches
    assert kinetic_relaxation_time(times, [np.full_like(times, 2 * T_G)], T_G, n, 3)["time"] == math.inf


def test_kinetic_relaxation_time_is_not_set_by_noise_at_late_frames():
    """Planted truth: R = 4 trajectories whose excess decays as 0.25 e^{−t/2} (t_K ≈ 6 τ with the
    noise allowance) plus each sample's thermal noise σ_T, on 40 log-spaced frames to 100 τ. The
    mean of four crosses σ_T by chance at late frames in most runs; t_K must not follow it."""
    rng = np.random.default_rng(11)
    n, tau, amplitude = 500, 2.0, 0.25
    sigma = equilibrium_kinetic_temperature_sd(T_G, n, 3)
    times = np.concatenate([[0.0], np.logspace(-2, 2, 40)])
    truth = tau * math.log(amplitude / (2 * sigma))
    late, late_without_allowance = 0, 0
    for _ in range(200):
        curves = T_G + amplitude * np.exp(-times / tau) + rng.normal(0, sigma, (4, len(times)))
        late += kinetic_relaxation_time(times, curves, T_G, n, 3)["time"] > 2 * truth
        late_without_allowance += kinetic_relaxation_time(times, curves, T_G, n, 3, z=0.0)["time"] > 2 * truth
    assert late <= 4, f"{late} of 200 runs put t_K beyond {2 * truth:.1f} τ"
    assert late_without_allowance >= 60  # the former criterion (z = 0): most runs set by a noisy late frame


def configuration(rng, patch: bool, time: float) -> State:
    """Uniform random positions; the B particles are either random or — the planted motif — the
    N_PATCH particles nearest a random point (a compact B patch). Species-blind descriptors
    (Voronoi area, local density, |ψ6|) have the same distribution in both."""
    positions = np.zeros((N, 3))
    positions[:, :D] = rng.uniform(-L / 2, L / 2, (N, D))
    if patch:
        centre = rng.uniform(-L / 2, L / 2, D)
        delta = positions[:, :D] - centre
        delta -= L * np.round(delta / L)
        b = np.argsort(np.linalg.norm(delta, axis=1))[:N_PATCH]
    else:
        b = rng.choice(N, N_PATCH, replace=False)
    typeid = np.zeros(N, dtype=int)
    typeid[b] = 1
    velocities = rng.normal(0, math.sqrt(T_G), (N, 3)) * [1, 1, 0]
    return State(positions, np.zeros((N, 3), dtype=int), velocities, typeid, TYPES, np.ones(N), L, D,
                 step=int(time * 200), time=time)


def write_aging_run(path, run, replica, rng, kinetic=lambda t: T_G, patched=lambda t: t >= 50):
    states = [configuration(rng, patched(t), t) for t in TIMES]
    logs = [{"particles/glasscam/potential_energy": np.zeros(N, dtype=np.float32),
             "glasscam/kinetic_temperature": np.array([kinetic(t) + rng.normal(0, 0.002)])} for t in TIMES]
    write_states(path, states, {"system": "planted", "run": run, "replica": replica, "stage": "aging",
                                "seed": 100 * run + replica, "temperature": T_G}, logs)
    return str(path)


def build_age(tmp_path, paths, task=AGE_TASK, name="age.h5"):
    return build_dataset(output_h5=tmp_path / name, liquid_paths=[], glass_paths=paths, system_types=TYPES,
                         voxel_cfg={"spacing": 0.25, "width": 0.3, "grid_multiple": 4},
                         dataset_cfg={"glass_ages": [0], "split": SPLIT}, seed=3, provenance={}, task=task, glass_temperature=T_G)


def test_age_task_refuses_a_young_window_before_the_kinetic_temperature_relaxed(tmp_path):
    rng = np.random.default_rng(0)
    hot = lambda t: T_G + 0.5 * math.exp(-t / 5)  # noqa: E731  (excess > σ_T (1 + 2/√4) until t ≈ 8.7 τ)
    paths = [write_aging_run(tmp_path / f"a{r}.gsd", r, 0, rng, kinetic=hot) for r in range(4)]
    with pytest.raises(ValueError, match=r"young = \[5, 10\]: its first frame at t_w = 5 τ.*kinetic temperature.*t_K = 10 τ"):
        build_age(tmp_path, paths)
    late = {**AGE_TASK, "young": [50, 60], "aged": [70, 100]}
    build_age(tmp_path, paths, task=late)  # from t_K on it is accepted


def test_config_check_refuses_an_early_young_window(default_config):
    import copy

    config = copy.deepcopy(default_config)
    config["dataset"]["tasks"] = [{"name": "age", "kind": "age", "young": [1, 20], "aged": [1000, 10000]}]
    with pytest.raises(ConfigError, match=r"dataset.tasks\[0\] \(age\).young = \[1, 20\].*kinetic_relaxation_time"):
        validate_config(config, SCHEMA)
    config["dataset"]["tasks"][0]["aged"] = [20000, 30000]
    config["dataset"]["tasks"][0]["young"] = [10, 20]
    with pytest.raises(ConfigError, match=r"aged = \[20000, 30000\] lies beyond the aging duration"):
        validate_config(config, SCHEMA)


def test_age_task_splits_keep_every_lineage_on_one_side(tmp_path):
    rng = np.random.default_rng(1)
    paths = [write_aging_run(tmp_path / f"a{r}_{p}.gsd", r, p, rng) for r in range(8) for p in range(3)]
    counts = build_age(tmp_path, paths)
    with h5py.File(tmp_path / "age.h5") as h5:
        runs, split, labels, times = h5["run"][:], h5["split"][:], h5["labels"][:], h5["time"][:]
        assert [str(c) for c in h5.attrs["class_names"]] == ["young", "aged"]
        np.testing.assert_allclose(h5["kinetic_temperature"][:], T_G, atol=0.02)
        assert json.loads(h5.attrs["task"])["kind"] == "age"
    for run in range(8):
        assert len(set(split[runs == run])) == 1, f"run {run} is split across {set(split[runs == run])}"
    assert set(split) == {0, 1, 2}
    assert np.all(times[labels == 0] <= 10) and np.all(times[labels == 1] >= 50)
    assert labels.tolist().count(0) == 8 * 3 * 5 and labels.tolist().count(1) == 8 * 3 * 5
    assert sum(c["young"] + c["aged"] for c in counts.values()) == len(labels)


def test_wilson_and_paired_intervals():
    lo, hi = wilson_interval(81, 100)  # Wilson (1927) example values via the closed form
    assert lo == pytest.approx(0.7222, abs=1e-3) and hi == pytest.approx(0.8749, abs=1e-3)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    a = np.array([True] * 30 + [False] * 10)
    b = np.array([True] * 20 + [False] * 20)
    d = paired_accuracy_difference(a, b)
    assert d["difference"] == pytest.approx(0.25) and d["lo"] < 0.25 < d["hi"]
    assert paired_accuracy_difference(a, a)["difference"] == 0.0


def roc_auc(scores, positive):
    ranks = rankdata(scores)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_planted_motif_at_equal_temperature_cnn_beats_both_baselines(tmp_path):
    """Young and aged samples share positions' statistics, kinetic temperature and energy; aged
    ones hide a compact B patch. Per-sample descriptor statistics cannot see it; the CNN must,
    and its Grad-CAM must point at the patch."""
    rng = np.random.default_rng(7)
    paths = [write_aging_run(tmp_path / f"a{r}.gsd", r, 0, rng) for r in range(16)]
    build_age(tmp_path, paths)
    metrics = train_classifier(dataset_h5=tmp_path / "age.h5", model_out=tmp_path / "model.pt", metrics_out=tmp_path / "metrics.json",
                               model_cfg={"channels": [8, 16]},
                               train_cfg={"epochs": 12, "batch_size": 16, "learning_rate": 0.005, "patience": 5}, seed=2,
                               device="cpu", threads=1)
    record = classifier_baselines(dataset_h5=tmp_path / "age.h5", metrics_json=tmp_path / "metrics.json", out_json=tmp_path / "baselines.json",
                                  indicator_cfg={"coarse_graining_radii": [1.0], "local_density_radius": 1.0}, seed=0)
    cnn = record["cnn"]["accuracy"]
    best = record["baselines"][record["best_baseline"]]["accuracy"]
    print(f"CNN {cnn:.3f}, baselines {[(k, round(v['accuracy'], 3)) for k, v in record['baselines'].items()]}, "
          f"difference {record['cnn_minus_best_baseline']}")
    assert metrics["test_accuracy"] == cnn >= 0.9
    assert best <= 0.75
    assert record["cnn_minus_best_baseline"]["lo"] > 0
    # thermal cue: identical kinetic temperatures, so T_kin alone is near chance
    assert record["thermal_cues"]["kinetic_temperature"]["logistic"]["accuracy"] <= 0.75

    # Grad-CAM of the aged class ranks the patch's B particles highest in aged samples
    aged = [configuration(np.random.default_rng(100 + k), True, 60.0) for k in range(12)]
    for k, state in enumerate(aged):
        state.step = k
    write_states(tmp_path / "aged.gsd", aged, {"stage": "test"},
                 [{"glasscam/sample": np.array([k])} for k in range(len(aged))])
    explain(model_path=tmp_path / "model.pt", glass_gsd=tmp_path / "aged.gsd", out_h5=tmp_path / "cam.h5", out_gsd=tmp_path / "cam.gsd", gradcam_cfg={}, device="cpu")
    auc, auc_signed = [], []
    with open_trajectory(tmp_path / "cam.gsd") as traj:
        for frame in traj:
            patch = frame.particles.typeid == 1
            auc.append(roc_auc(np.asarray(frame.log["particles/glasscam/gradcam_aged"]), patch))
            auc_signed.append(roc_auc(np.asarray(frame.log["particles/glasscam/gradcam_signed_aged"]), patch))
    print(f"mean ROC-AUC of the patch: ReLU map {np.mean(auc):.3f}, signed map {np.mean(auc_signed):.3f}")
    assert np.mean(auc) >= 0.8 and np.mean(auc_signed) >= 0.7
