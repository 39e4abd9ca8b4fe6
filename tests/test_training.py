import json

import h5py
import numpy as np
import pytest
import torch

from glasscam.learn.model import GlassCNN, build_model
from glasscam.learn.training import (
    augment_batch,
    energy_threshold_baseline,
    point_group,
)
from glasscam.stages.models import load_checkpoint
from glasscam.stages.train import learning_curve, train_classifier


@pytest.mark.parametrize("d, norm, extra", [
    (2, "batch", {}), (3, "group", {}),
    (2, "batch", {"convs_per_block": 2, "residual": True, "pool": "strided", "kernel_size": 5}),
    (3, "batch", {"convs_per_block": 2, "residual": True, "pool": "avg"}),
])
def test_forward_shape_and_periodic_roll_invariance(d, norm, extra):
    torch.manual_seed(0)
    model = GlassCNN(d, in_channels=2, n_classes=2, channels=[4, 8, 8], norm=norm, groups=2, **extra).eval()
    n = 16 if d == 2 else 8
    x = torch.rand((3, 2) + (n,) * d)
    out = model(x)
    assert out.shape == (3, 2)
    assert model.total_stride == 4
    dims = tuple(range(2, 2 + d))
    for shift in ([4] + [0] * (d - 1), [4] * d, [-8] + [4] * (d - 1)):
        torch.testing.assert_close(model(torch.roll(x, shift, dims)), out, rtol=1e-5, atol=1e-6)
    # the same network with zero padding sees the edges and is not invariant
    zero_padded = GlassCNN(d, 2, 2, channels=[4, 8, 8], norm=norm, groups=2, **extra).eval()
    zero_padded.load_state_dict(model.state_dict())
    for module in zero_padded.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Conv3d)):
            module.padding_mode = "zeros"
    z = zero_padded(x)
    assert not torch.allclose(zero_padded(torch.roll(x, [4] * d, dims)), z, atol=1e-6)


def test_grid_must_be_divisible_by_stride_and_layer_lookup():
    model = GlassCNN(2, 2, channels=[4, 4, 4])
    with pytest.raises(ValueError, match="divisible"):
        model(torch.rand(1, 2, 18, 18))
    assert model.gradcam_layer("last") is model.blocks[2].activation
    assert model.gradcam_layer(-2) is model.blocks[1].activation
    assert model.layer_stride(0) == 1 and model.layer_stride("last") == 4
    with pytest.raises(ValueError, match="gradcam.layer"):
        model.gradcam_layer(3)
    with pytest.raises(ValueError, match="model: unknown keys"):
        build_model({"chanels": [4]}, 2, 2)


@pytest.mark.parametrize("d, size", [(2, 8), (3, 48)])
def test_point_group_operations_are_distinct_symmetries(d, size):
    operations = point_group(d)
    assert len(operations) == size
    n = 4
    x = torch.arange(n**d, dtype=torch.float32).reshape((1, 1) + (n,) * d)
    images = set()
    for perm, flipped in operations:
        y = x[0].permute(0, *[1 + p for p in perm])
        y = torch.flip(y, [1 + a for a in flipped]) if flipped else y
        images.add(tuple(y.flatten().tolist()))
    assert len(images) == size
    g = torch.Generator().manual_seed(0)
    augmented = augment_batch(x.repeat(20, 1, *([1] * d)), g, translate=True, symmetry=True)
    assert augmented.shape == (20, 1) + (n,) * d
    for sample in augmented:  # every output is a rearrangement of the same values
        assert sorted(sample.flatten().tolist()) == sorted(x.flatten().tolist())


def write_blob_dataset(path, n_per_class=48, n=16, seed=0, signal=1.0, noise=0.1):
    """2-channel 2D images: random blobs in channel 0 for both classes; class 1 adds a blob of
    height ``signal`` in channel 1; uniform noise of amplitude ``noise`` everywhere."""
    rng = np.random.default_rng(seed)
    grid = np.arange(n)

    def blob():
        cx, cy = rng.uniform(0, n, 2)
        dx = (grid[:, None] - cx + n / 2) % n - n / 2
        dy = (grid[None, :] - cy + n / 2) % n - n / 2
        return np.exp(-(dx**2 + dy**2) / (2 * 1.5**2))

    labels = np.repeat([0, 1], n_per_class).astype(np.int8)
    images = np.zeros((len(labels), 2, n, n), dtype=np.float32)
    for k, label in enumerate(labels):
        images[k, 0] = blob() + blob() + noise * rng.random((n, n))
        images[k, 1] = noise * rng.random((n, n)) + (signal * blob() if label else 0.0)
    split = np.tile([0, 0, 0, 1, 2, 0], len(labels) // 6).astype(np.int8)
    with h5py.File(path, "w") as h5:
        h5["images"], h5["labels"], h5["split"] = images, labels, split
        h5["run"] = (np.arange(len(labels)) % n_per_class) // 6  # runs of 6 samples holding both classes
        h5["temperature"] = np.where(labels == 1, 0.3, 1.0)
        h5["time"] = np.where(labels == 1, 10.0 * (np.arange(len(labels)) // 6 % 2), 0.0)  # glasses at t_w = 0, 10
        h5["potential_energy"] = rng.normal(-5.0 - 0.1 * labels, 0.1)
        h5.attrs["dimensions"] = 2
        h5.attrs["class_names"] = ["liquid", "glass"]
        h5.attrs["provenance"] = json.dumps({"config_hash": "test"})


MODEL = {"channels": [8, 8], "kernel_size": 3}
TRAIN = {"epochs": 12, "batch_size": 16, "learning_rate": 0.01, "patience": 4}


def test_training_is_accurate_and_bit_identical(tmp_path):
    data = tmp_path / "data.h5"
    write_blob_dataset(data)
    runs = []
    for tag in ("a", "b"):
        metrics = train_classifier(dataset_h5=data, model_out=tmp_path / f"{tag}.pt", metrics_out=tmp_path / f"{tag}.json", model_cfg=MODEL, train_cfg=TRAIN, seed=3,
                                   device="cpu", threads=1)
        runs.append(metrics)
    first, second = runs
    assert first["test_accuracy"] >= 0.9
    assert first["curves"] == second["curves"]
    model_a, record = load_checkpoint(tmp_path / "a.pt")
    model_b, _ = load_checkpoint(tmp_path / "b.pt")
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        assert torch.equal(a, b), name
    saved = json.loads((tmp_path / "a.json").read_text())
    assert saved["device"] == "cpu" and saved["seed"] == 3
    assert np.sum(saved["confusion_matrix"]) == saved["class_counts"]["test"]["liquid"] + saved["class_counts"]["test"]["glass"]
    assert saved["n_parameters"] == sum(p.numel() for p in model_a.parameters())
    assert len(saved["curves"]["validation_loss"]) == saved["epochs_run"]
    # the kept epoch's train (unaugmented), validation and test loss and accuracy; no search here
    kept = saved["kept"]
    assert kept["epoch"] == saved["best_epoch"] and kept["test_accuracy"] == saved["test_accuracy"]
    assert kept["validation_loss"] == saved["best_validation_loss"] == saved["curves"]["validation_loss"][kept["epoch"] - 1]
    assert saved["train_accuracy"] == kept["train_accuracy"] >= 0.9 and saved["fits_training_split"]
    assert saved["search"] is None and saved["model_config"] == MODEL
    groups = saved["test_accuracy_by_group"]
    assert [(g["class"], g["temperature"], g["aging_time"]) for g in groups] == [
        ("liquid", 1.0, None), ("glass", 0.3, 0.0), ("glass", 0.3, 10.0)]
    assert sum(g["samples"] for g in groups) == np.sum(saved["confusion_matrix"])
    correct = sum(g["accuracy"] * g["samples"] for g in groups)
    assert correct == pytest.approx(saved["test_accuracy"] * np.sum(saved["confusion_matrix"]))
    assert 0.5 < saved["energy_baseline"]["test_accuracy"] <= 1 and saved["energy_baseline"]["glass_side"] == "below"
    assert record["provenance"]["dataset_provenance"] == {"config_hash": "test"}
    # another seed gives other weights
    train_classifier(dataset_h5=data, model_out=tmp_path / "c.pt", metrics_out=tmp_path / "c.json", model_cfg=MODEL, train_cfg={**TRAIN, "epochs": 1}, seed=4, device="cpu")
    model_c, _ = load_checkpoint(tmp_path / "c.pt")
    assert not torch.equal(model_c.blocks[0].body[0].weight, model_a.blocks[0].body[0].weight)


@pytest.mark.parametrize("sign", [1, -1], ids=["glass lower", "glass higher"])
def test_energy_threshold_baseline_finds_the_separating_energy(sign):
    """Planted: training glasses at u ∈ {−1, 0, 0.5}, liquids at {1, 2, 3} (mirrored for glasses
    above): the threshold falls midway between 0.5 and 1; test samples on the wrong side of it
    count as errors."""
    energy = sign * np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 0.7, 0.9, 2.5, -3.0])
    labels = np.array([1, 1, 1, 0, 0, 0, 1, 1, 0, 1])  # the glass at 0.9 lies on the liquid side
    result = energy_threshold_baseline(energy, labels, np.arange(6), np.arange(6, 10))
    assert result["threshold_energy_per_particle"] == pytest.approx(sign * 0.75)
    assert result["glass_side"] == ("below" if sign > 0 else "above")
    assert result["train_accuracy"] == 1.0
    assert result["test_accuracy"] == 0.75


def test_bad_train_config_is_rejected(tmp_path):
    data = tmp_path / "data.h5"
    write_blob_dataset(data, n_per_class=6)
    with pytest.raises(ValueError, match="training: unknown keys"):
        train_classifier(dataset_h5=data, model_out=tmp_path / "m.pt", metrics_out=tmp_path / "m.json", model_cfg=MODEL, train_cfg={"epoch": 3}, seed=1, device="cpu")
    with pytest.raises(ValueError, match="pooling stride"):
        train_classifier(dataset_h5=data, model_out=tmp_path / "m.pt", metrics_out=tmp_path / "m.json", model_cfg={"channels": [2, 2, 2, 2, 2, 2]}, train_cfg=TRAIN, seed=1,
                         device="cpu")
    assert not (tmp_path / "m.pt").exists()


def test_learning_curve_grows_with_the_number_of_training_runs(tmp_path):
    """A faint planted cue (class-1 blob of height 0.6 under noise of amplitude 1; 16 runs × 4
    training samples per class): one run's samples are not enough to learn it, all sixteen are.
    Subsets are whole runs; validation and test stay fixed."""
    data = tmp_path / "data.h5"
    write_blob_dataset(data, n_per_class=96, signal=0.6, noise=1.0)
    train = {**TRAIN, "epochs": 20, "patience": 6}
    result = learning_curve(dataset_h5=data, out_json=tmp_path / "curve.json", model_cfg=MODEL, train_cfg=train, curve_cfg={"fractions": [1 / 16, 1.0], "repeats": 3},
                            seed=5, device="cpu")
    assert json.loads((tmp_path / "curve.json").read_text())["summary"] == result["summary"]
    assert result["train_runs_available"] == list(range(16)) and result["test_samples"] == 32
    small, full = result["summary"]
    assert (small["train_runs"], full["train_runs"]) == (1, 16)
    for row in result["rows"]:
        assert row["train_samples"] == 8 * len(row["train_runs"]) == 8 * len(set(row["train_runs"]))
    assert len({tuple(r["train_runs"]) for r in result["rows"] if r["fraction"] < 1}) > 1  # repeats draw other runs
    accuracy = {f: [r["test_accuracy"] for r in result["rows"] if r["fraction"] == f] for f in (1 / 16, 1.0)}
    assert full["test_accuracy_mean"] >= 0.95
    assert min(accuracy[1.0]) > max(accuracy[1 / 16])
    with pytest.raises(ValueError, match="learning_curve.fractions"):
        learning_curve(dataset_h5=data, out_json=tmp_path / "x.json", model_cfg=MODEL, train_cfg=TRAIN, curve_cfg={"fractions": [0, 1]}, seed=5, device="cpu")
    assert not (tmp_path / "x.json").exists()
