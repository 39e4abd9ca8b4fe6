"""Thermal ↔ inherent pairing of the thermal-cue baseline: every thermal sample meets its own
inherent structure, also where liquids at two temperatures share (run, replica, time)."""

import json

import numpy as np
import pytest

from glasscam.core.state import State
from glasscam.io.gsd import write_states
from glasscam.io.tables import open_h5
from glasscam.stages.baselines import classifier_baselines, match_samples
from glasscam.stages.dataset import build_dataset

L, D, N = 5.0, 2, 24
TYPES = ["A", "B"]
# planted vibration amplitude (σ, RMS distance thermal → inherent) of each (stage, temperature)
AMPLITUDE = {("liquid", 1.0): 0.30, ("liquid", 0.8): 0.12, ("aging", 0.3): 0.05}
DATASET = {"glass_ages": [0, 10], "split": {"train": 0.5, "validation": 0.25, "test": 0.25},
           "liquid_samples_per_trajectory": 2}


def write_pair(tmp_path, run, stage, temperature, times):
    """A thermal trajectory and its 'inherent structures': every particle displaced by exactly the
    planted amplitude in a random direction, so each pair's RMS distance is known."""
    rng = np.random.default_rng(hash((run, stage, temperature)) % 2**32)
    amplitude = AMPLITUDE[(stage, temperature)]
    thermal, inherent, logs = [], [], []
    for t in times:
        positions = np.zeros((N, 3))
        positions[:, :D] = rng.uniform(-L / 2, L / 2, (N, D))
        angle = rng.uniform(0, 2 * np.pi, N)
        minimum = positions.copy()
        minimum[:, 0] += amplitude * np.cos(angle)
        minimum[:, 1] += amplitude * np.sin(angle)
        minimum[:, :D] -= L * np.round(minimum[:, :D] / L)
        for out, p in ((thermal, positions), (inherent, minimum)):
            out.append(State(p, np.zeros((N, 3), dtype=int), np.zeros((N, 3)), (np.arange(N) >= 16).astype(int),
                             TYPES, np.ones(N), L, D, step=int(t * 200), time=t))
        logs.append({"particles/glasscam/potential_energy": rng.normal(-3, 0.5, N).astype(np.float32)})
    record = {"system": "toy2d", "run": run, "replica": 0, "temperature": temperature, "stage": stage, "seed": run}
    paths = tmp_path / f"{stage}_{run}_T{temperature:g}.gsd", tmp_path / f"is_{stage}_{run}_T{temperature:g}.gsd"
    write_states(paths[0], thermal, record, logs)
    write_states(paths[1], inherent, {**record, "inherent_structure": True}, logs)
    return paths


def test_liquids_at_two_temperatures_meet_their_own_inherent_structures(tmp_path):
    pairs = {"liquid": [], "aging": []}
    for run in range(4):
        for temperature in (1.0, 0.8):  # same run, replica and frame times at both liquid temperatures
            pairs["liquid"].append(write_pair(tmp_path, run, "liquid", temperature, [0, 10, 20]))
        pairs["aging"].append(write_pair(tmp_path, run, "aging", 0.3, [0, 10]))
    out = {}
    for k, inputs in enumerate(("thermal", "inherent")):
        out[inputs] = tmp_path / f"{inputs}.h5"
        build_dataset(output_h5=out[inputs], liquid_paths=[p[k] for p in pairs["liquid"]],
                      glass_paths=[p[k] for p in pairs["aging"]], system_types=TYPES,
                      voxel_cfg={"spacing": 0.25, "width": 0.3}, dataset_cfg=DATASET, seed=7,
                      provenance={"config_hash": "abc"})
    with open_h5(out["thermal"]) as h5:
        labels, split = h5["labels"][:], h5["split"][:]
        assert sorted(set(s.decode() for s in h5["stage"][:])) == ["aging", "liquid"]
    test = np.flatnonzero(split == 2)
    (tmp_path / "metrics.json").write_text(json.dumps({"test_samples": {"rows": test.tolist(),
                                                                        "predicted": labels[test].tolist()}}))
    record = classifier_baselines(dataset_h5=out["thermal"], metrics_json=tmp_path / "metrics.json", out_json=tmp_path / "baselines.json",
                                  indicator_cfg={"coarse_graining_radii": [], "local_density_radius": 1.0}, seed=0,
                                  inherent_dataset_h5=out["inherent"])
    cue = record["thermal_cues"]["vibration_amplitude"]["distribution"]
    # half the liquids at each T: 0.30 and 0.12 σ; a sample paired with the other temperature's
    # configuration would read ~ L/√6 ≈ 2 σ
    assert cue["liquid"]["n"] == 16
    assert cue["liquid"]["mean"] == pytest.approx((0.30 + 0.12) / 2, abs=1e-6)
    assert cue["liquid"]["q90"] == pytest.approx(0.30, abs=1e-6) and cue["liquid"]["q10"] == pytest.approx(0.12, abs=1e-6)
    assert cue["glass"]["mean"] == pytest.approx(0.05, abs=1e-6)


def test_match_samples_refuses_ambiguous_or_missing_identities():
    base = {"stage": ["liquid", "liquid"], "run": [0, 0], "replica": [0, 0], "temperature": [1.0, 0.8],
            "time": [10.0, 10.0]}
    assert match_samples(base, {k: v[::-1] for k, v in base.items()}) == [1, 0]
    with pytest.raises(ValueError, match=r"rows 0 and 1 are the same sample"):
        match_samples(base, {**base, "temperature": [1.0, 1.0]})
    with pytest.raises(ValueError, match=r"1 samples of thermal dataset have no inherent structure.*0\.8"):
        match_samples(base, {k: v[:1] for k, v in base.items()})
    with pytest.raises(ValueError, match=r"no 'stage' column.*rebuild"):
        match_samples({**base, "stage": None}, base)
