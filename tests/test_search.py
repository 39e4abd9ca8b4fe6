"""Hyperparameter search of the CNN (glasscam.learn.search, stage search_classifier).

Planted truth: in each 24 × 24 periodic image two identical narrow blobs sit 5 cells apart
(class 1) or 9–12 cells apart (class 0). Every 3 × 3 patch looks alike in both classes (the
blobs' tails overlap by < 1 % of their height under noise of 5 %), so one conv block followed by
global average pooling cannot tell them apart; three blocks with pooling see ~18 cells and can.
The search over depth ∈ {1, 3} must select a deep model that fits its training split.
"""

import json

import h5py
import numpy as np
import pytest
import torch

from glasscam.io.datasets import load_dataset
from glasscam.learn.search import check_search_cfg, configs_from_params, valid_depths
from glasscam.learn.training import fit_classifier
from glasscam.stages.train import search_classifier, train_classifier

pytest.importorskip("optuna")

TRAIN = {"epochs": 25, "batch_size": 16, "learning_rate": 0.01, "patience": 25, "schedule": "one_cycle"}


def write_pair_distance_dataset(path, n_per_class=64, n=24, seed=0, width=0.7, noise=0.05):
    rng = np.random.default_rng(seed)
    grid = np.arange(n)

    def blob(cx, cy):
        dx = (grid[:, None] - cx + n / 2) % n - n / 2
        dy = (grid[None, :] - cy + n / 2) % n - n / 2
        return np.exp(-(dx**2 + dy**2) / (2 * width**2))

    labels = np.repeat([0, 1], n_per_class).astype(np.int8)
    images = np.zeros((len(labels), 1, n, n), dtype=np.float32)
    for k, label in enumerate(labels):
        cx, cy = rng.uniform(0, n, 2)
        distance = 5.0 if label else rng.uniform(9.0, 12.0)
        angle = rng.uniform(0, 2 * np.pi)
        images[k, 0] = (blob(cx, cy) + blob(cx + distance * np.cos(angle), cy + distance * np.sin(angle))
                        + noise * rng.random((n, n)))
    split = np.tile([0, 0, 0, 1, 2, 0], len(labels) // 6 + 1)[: len(labels)].astype(np.int8)
    with h5py.File(path, "w") as h5:
        h5["images"], h5["labels"], h5["split"] = images, labels, split
        h5["run"] = np.arange(len(labels)) // 6
        h5["temperature"] = np.where(labels == 1, 0.3, 1.0)
        h5["time"] = np.zeros(len(labels))
        h5["potential_energy"] = rng.normal(-5.0, 0.1, len(labels))
        h5.attrs["dimensions"] = 2
        h5.attrs["class_names"] = ["liquid", "glass"]
        h5.attrs["provenance"] = json.dumps({"config_hash": "test"})


@pytest.fixture(scope="module")
def pair_dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "pairs.h5"
    write_pair_distance_dataset(path)
    return path


def test_shallow_network_cannot_fit_what_a_deep_one_fits(pair_dataset):
    """The planted data: depth 1 stays near chance on its own training split, depth 3 fits it."""
    torch.set_num_threads(1)
    data = load_dataset(pair_dataset)
    kept = {}
    for depth in (1, 3):
        model, train = configs_from_params({"depth": depth, "base_width": 8}, {"kernel_size": 3}, TRAIN)
        kept[depth] = fit_classifier(data, model, train, 1, torch.device("cpu"), evaluate_test=False)["kept"]
    assert kept[1]["train_accuracy"] < 0.75
    assert kept[3]["train_accuracy"] >= 0.95 and kept[3]["validation_accuracy"] >= 0.85


def test_search_selects_a_fitting_model_and_is_reproducible(pair_dataset, tmp_path):
    torch.set_num_threads(1)
    search = {"n_trials": 4, "space": {"depth": [1, 3], "base_width": 8, "kernel_size": 3,
                                       "learning_rate": {"low": 0.005, "high": 0.02, "log": True}}}
    outputs = []
    for tag in ("a", "b"):
        paths = [tmp_path / f"{tag}_{name}" for name in ("trials.json", "trials.csv", "selected.json")]
        result = search_classifier(dataset_h5=pair_dataset, trials_json=paths[0], trials_csv=paths[1],
                                   selected_json=paths[2], model_cfg={"channels": [8, 8]}, train_cfg=TRAIN,
                                   search_cfg=search, seed=7, device="cpu")
        outputs.append((result, paths))
    (first, paths_a), (second, paths_b) = outputs
    # same seed, same trials → the same parameters, scores and selection, byte for byte
    assert [t["params"] for t in first["trials"]] == [t["params"] for t in second["trials"]]
    assert [t["score"] for t in first["trials"]] == [t["score"] for t in second["trials"]]
    for path_a, path_b in zip(paths_a, paths_b, strict=True):  # timings live in the log only
        assert path_a.read_bytes() == path_b.read_bytes(), path_a.name
    depths = {t["params"]["depth"] for t in first["trials"]}
    assert depths == {1, 3}, "the seeded sampler should try both depths in 4 trials"
    chosen = first["selected"]
    assert chosen["params"]["depth"] == 3 and chosen["train_accuracy"] >= 0.95
    assert all(t["validation_accuracy"] < chosen["validation_accuracy"] for t in first["trials"] if t["params"]["depth"] == 1)
    saved = json.loads(paths_a[0].read_text())
    assert len(saved["trials"]) == 4 and "epochs_run" in saved["trials"][0]
    assert paths_a[1].read_text().count("\n") == 5  # header + 4 trials
    # the selected configuration trains the final model, the test split now evaluated once
    metrics = train_classifier(dataset_h5=pair_dataset, model_out=tmp_path / "m.pt", metrics_out=tmp_path / "m.json", model_cfg={"channels": [8, 8]}, train_cfg=TRAIN,
                               seed=7, device="cpu", selected_json=paths_a[2])
    assert metrics["model_config"]["channels"] == [8, 16, 32]
    assert metrics["search"]["number"] == chosen["number"] and metrics["search"]["trials"] == 4
    # the same seed and settings as the selected trial: the same kept epoch
    assert metrics["validation_accuracy"] == chosen["validation_accuracy"]
    assert metrics["train_accuracy"] == chosen["train_accuracy"] and metrics["fits_training_split"]
    for key in ("train", "validation", "test"):
        assert 0 <= metrics["kept"][f"{key}_accuracy"] <= 1 and metrics["kept"][f"{key}_loss"] >= 0
    assert metrics["test_accuracy"] >= 0.8


def test_search_config_and_depths_are_checked():
    assert valid_depths((24, 24)) == [1, 2, 3, 4]  # 24 / 8 = 3 cells; 24 / 16 not an integer
    assert valid_depths((20, 20, 20)) == [1, 2, 3]
    with pytest.raises(ValueError, match="search.space: unknown keys"):
        check_search_cfg({"space": {"dept": [1]}})
    with pytest.raises(ValueError, match="low"):
        check_search_cfg({"space": {"learning_rate": {"low": 1e-2, "high": 1e-3}}})
    with pytest.raises(ValueError, match="log range"):
        check_search_cfg({"space": {"weight_decay": {"low": 0.0, "high": 1e-3, "log": True}}})
    model, train = configs_from_params({"depth": 4, "base_width": 8, "width_doublings": 2, "residual": True,
                                        "schedule": "cosine"}, {"channels": [8], "norm": "batch"}, {"epochs": 3})
    assert model == {"channels": [8, 16, 32, 32], "norm": "batch", "residual": True}
    assert train == {"epochs": 3, "schedule": "cosine"}


def test_cpu_budget_stops_a_trial_between_epochs(pair_dataset, tmp_path):
    """A budget spent inside a trial ends that trial after the current epoch (its best epoch so
    far kept, marked) and the search with it: one slow trial cannot overrun the budget by hours."""
    torch.set_num_threads(1)
    data = load_dataset(pair_dataset)
    model, train = configs_from_params({"depth": 3, "base_width": 8}, {"kernel_size": 3}, TRAIN)
    fit = fit_classifier(data, model, train, 1, torch.device("cpu"), evaluate_test=False, cpu_deadline=0.0)
    assert fit["stopped_by_deadline"] and len(fit["curves"]["epoch"]) == 1 and fit["best_epoch"] == 1
    search = {"n_trials": 3, "cpu_minutes": 1e-6, "space": {"depth": [3], "base_width": 8, "kernel_size": 3}}
    result = search_classifier(dataset_h5=pair_dataset, trials_json=tmp_path / "t.json", trials_csv=tmp_path / "t.csv",
                               selected_json=tmp_path / "s.json", model_cfg={"channels": [8, 8]}, train_cfg=TRAIN,
                               search_cfg=search, seed=7, device="cpu")
    assert [t["state"] for t in result["trials"]] == ["stopped at the CPU budget"]
    assert result["trials"][0]["epochs_run"] == 1 < TRAIN["epochs"]


def test_pruner_stops_trials_that_cannot_learn(pair_dataset, tmp_path):
    """Planted truth: depth 1 cannot tell the classes apart (above), depth 3 can. With the median
    pruner after one finished trial, a depth-1 trial drawn after a depth-3 one falls below the
    median within a few epochs and is stopped there; the selection is a trial that ran out, and
    the same seed prunes the same trials at the same epochs."""
    torch.set_num_threads(1)
    search = {"n_trials": 6, "cpu_minutes": None, "pruner": {"n_startup_trials": 1, "n_warmup_epochs": 3},
              "space": {"depth": [1, 3], "base_width": 8, "kernel_size": 3}}
    runs = [search_classifier(dataset_h5=pair_dataset, trials_json=tmp_path / f"{tag}.json",
                              trials_csv=tmp_path / f"{tag}.csv", selected_json=tmp_path / f"{tag}_s.json",
                              model_cfg={"channels": [8, 8]}, train_cfg=TRAIN, search_cfg=search, seed=0,
                              device="cpu") for tag in "ab"]
    trials = runs[0]["trials"]
    assert [t["state"] for t in trials] == [t["state"] for t in runs[1]["trials"]]
    pruned = [t for t in trials if t["pruned"]]
    assert pruned, [(t["params"], t["state"]) for t in trials]
    finished_deep = min(t["number"] for t in trials if t["params"]["depth"] == 3 and not t["pruned"])
    assert any(t["params"]["depth"] == 1 and t["number"] > finished_deep for t in pruned)
    for t in pruned:  # a redrawn pruned configuration is not refitted: it stays pruned, as a duplicate
        if not t["state"].startswith("duplicate of trial"):
            assert t["state"] == f"pruned at epoch {t['epochs_run']}"
        assert 3 <= t["epochs_run"] < TRAIN["epochs"]
    assert runs[0]["summary"]["pruned"] == len(pruned)
    chosen = runs[0]["selected"]
    assert chosen["params"]["depth"] == 3 and chosen["train_accuracy"] >= 0.95
    assert not next(t for t in trials if t["number"] == chosen["number"])["pruned"]
    # pruner: null lets every trial run out
    unpruned = search_classifier(dataset_h5=pair_dataset, trials_json=tmp_path / "n.json", trials_csv=tmp_path / "n.csv",
                                 selected_json=tmp_path / "n_s.json", model_cfg={"channels": [8, 8]}, train_cfg=TRAIN,
                                 search_cfg={**search, "n_trials": 3, "pruner": None}, seed=0, device="cpu")
    assert not any(t["pruned"] for t in unpruned["trials"])


def test_controls_take_the_selected_architecture_and_budget(pair_dataset, tmp_path):
    """Sanity nulls compare like with like (issue 20, item 1): given the search's selection, both
    control models have the selected architecture and training settings, not the config's."""
    from glasscam.stages.models import load_checkpoint
    from glasscam.stages.train import train_control

    torch.set_num_threads(1)
    selected_model = {"channels": [4, 8, 8], "convs_per_block": 2, "residual": True, "pool": "avg"}
    selected_train = {**TRAIN, "epochs": 2, "patience": 2, "batch_size": 32}
    selected = tmp_path / "selected.json"
    selected.write_text(json.dumps({"selected": {"number": 5, "model": selected_model, "training": selected_train},
                                    "trials": []}))
    for control in ("random_weights", "shuffled_labels"):
        metrics = train_control(dataset_h5=pair_dataset, model_out=tmp_path / f"{control}.pt",
                                metrics_out=tmp_path / f"{control}.json", model_cfg={"channels": [8, 8]},
                                train_cfg=TRAIN, control=control, seed=1, control_seed=0, device="cpu",
                                selected_json=selected)
        model, record = load_checkpoint(tmp_path / f"{control}.pt")
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
        assert [c.out_channels for c in convs] == [4, 4, 8, 8, 8, 8]
        assert metrics["model_config"] == selected_model and metrics["train_config"] == selected_train
        assert metrics["search"]["number"] == 5
        if control == "shuffled_labels":
            assert len(metrics["curves"]["epoch"]) == 2  # the selected budget, not the config's 25 epochs
