"""Training the liquid/glass CNN on a voxelized dataset (:mod:`.dataset`).

Loss: cross-entropy, optionally class-weighted w_c = S_train / (n_classes · S_train,c) so an
unbalanced training split counts both classes equally. Adam optimizer. Augmentation per sample:
a random periodic translation (``torch.roll`` by a uniform number of cells along every axis) and a
random element of the square (8) / cubic (48) point group (axis permutation × reflections; a
reflection i → n−1−i maps cell centres x → −x exactly). Early stopping on the validation loss
with ``patience`` epochs; the best epoch's weights are kept. After each epoch the BatchNorm
statistics are recomputed over the (unaugmented) training split ("precise BatchNorm").

Reproducibility: initial weights, batch order, augmentation and dropout derive from ``seed``
(:func:`glasscam.seeds.derive_seed`); on CPU ``torch.use_deterministic_algorithms(True)`` and a
fixed thread count make two runs bit-identical.
"""

from __future__ import annotations

import copy
import itertools
import json
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .model import build_model, save_checkpoint
from .provenance import provenance as make_provenance
from .seeds import derive_seed
from .trajectory import atomic_output

TRAIN_DEFAULTS = {
    "epochs": 50,
    "batch_size": 16,
    "learning_rate": 1e-3,
    "weight_decay": 0.0,
    "patience": 10,
    "augment": True,
    "balance_classes": True,
    "precise_batchnorm": True,
}
SPLITS = {"train": 0, "validation": 1, "test": 2}


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" → CUDA when available, else CPU; "cuda" without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested, but torch sees no CUDA device")
    return torch.device(device)


def point_group(dimensions: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The d!·2^d symmetry operations of the square/cubic grid as (axis permutation, flipped axes)."""
    return [
        (perm, tuple(a for a, f in enumerate(flips) if f))
        for perm in itertools.permutations(range(dimensions))
        for flips in itertools.product((False, True), repeat=dimensions)
    ]


def augment_batch(x: torch.Tensor, generator: torch.Generator, translate: bool, symmetry: bool) -> torch.Tensor:
    """Random periodic translation and point-group operation per sample of (B, C, *grid)."""
    d = x.ndim - 2
    operations = point_group(d)
    out = []
    for sample in x:
        if translate:
            shifts = [int(torch.randint(0, n, (1,), generator=generator)) for n in sample.shape[1:]]
            sample = torch.roll(sample, shifts, dims=tuple(range(1, d + 1)))
        if symmetry:
            perm, flipped = operations[int(torch.randint(0, len(operations), (1,), generator=generator))]
            sample = sample.permute(0, *[1 + p for p in perm])
            if flipped:
                sample = torch.flip(sample, [1 + a for a in flipped])
        out.append(sample)
    return torch.stack(out)


def _check_train_cfg(train_cfg: dict) -> dict:
    unknown = set(train_cfg) - set(TRAIN_DEFAULTS)
    if unknown:
        raise ValueError(f"train: unknown keys {sorted(unknown)}; expected a subset of {list(TRAIN_DEFAULTS)}")
    cfg = {**TRAIN_DEFAULTS, **train_cfg}
    for key in ("epochs", "batch_size", "patience"):
        if int(cfg[key]) < 1:
            raise ValueError(f"train.{key} = {cfg[key]!r}; must be ≥ 1")
    if not float(cfg["learning_rate"]) > 0:
        raise ValueError(f"train.learning_rate = {cfg['learning_rate']!r}; must be positive")
    augment = cfg["augment"]
    if isinstance(augment, bool):
        cfg["augment"] = {"translate": augment, "point_group": augment}
    elif not (isinstance(augment, dict) and set(augment) <= {"translate", "point_group"}):
        raise ValueError(f"train.augment = {augment!r}; expected true/false or {{translate: bool, point_group: bool}}")
    else:
        cfg["augment"] = {"translate": bool(augment.get("translate", True)),
                          "point_group": bool(augment.get("point_group", True))}
    return cfg


def load_dataset(dataset_h5) -> dict:
    """Images, labels and split of a dataset file as tensors, plus its attributes."""
    try:
        h5 = h5py.File(dataset_h5, "r")
    except OSError as err:
        raise FileNotFoundError(f"{dataset_h5}: not a readable HDF5 dataset ({err})") from err
    with h5:
        for key in ("images", "labels", "split"):
            if key not in h5:
                raise KeyError(f"{dataset_h5}: no '{key}' dataset")
        for key in ("dimensions", "class_names"):
            if key not in h5.attrs:
                raise KeyError(f"{dataset_h5}: no '{key}' attribute")
        data = {
            "images": torch.from_numpy(h5["images"][:].astype(np.float32)),
            "labels": torch.from_numpy(h5["labels"][:].astype(np.int64)),
            "split": h5["split"][:].astype(np.int64),
            "dimensions": int(h5.attrs["dimensions"]),
            "class_names": [str(c) for c in h5.attrs["class_names"]],
            "provenance": json.loads(h5.attrs.get("provenance", "{}")),
        }
    for name, k in SPLITS.items():
        if not np.any(data["split"] == k):
            raise ValueError(f"{dataset_h5}: the {name} split is empty")
    return data


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def recalibrate_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device) -> None:
    """"Precise BatchNorm": replace the running mean/variance of every BatchNorm layer by their
    plain averages over ``images`` under the current weights (the exponential running averages
    lag behind fast-changing weights on small datasets, so eval-mode outputs drift from training)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for idx in _batches(len(images), batch_size, None):
            model(images[idx].to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, loss_fn, batch_size: int,
             device: torch.device) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predicted classes (eval mode, no augmentation)."""
    model.eval()
    total, predictions = 0.0, []
    with torch.no_grad():
        for idx in _batches(len(labels), batch_size, None):
            logits = model(images[idx].to(device))
            total += float(loss_fn(logits, labels[idx].to(device))) * len(idx)
            predictions.append(logits.argmax(dim=1).cpu())
    predicted = torch.cat(predictions).numpy()
    return total / len(labels), float(np.mean(predicted == labels.numpy())), predicted


def train_classifier(dataset_h5, model_out, metrics_out, model_cfg: dict, train_cfg: dict, seed: int,
                     device: str = "auto", threads: int = 1) -> dict:
    """Train a :class:`~glasscam.model.GlassCNN` on the train split with early stopping on the
    validation loss; write the best checkpoint to ``model_out`` and metrics JSON to
    ``metrics_out``; return the metrics.

    ``train_cfg`` keys (defaults :data:`TRAIN_DEFAULTS`): epochs, batch_size, learning_rate,
    weight_decay, patience, augment (bool or {translate, point_group}), balance_classes,
    precise_batchnorm (recompute BatchNorm statistics on the training split after every epoch).
    """
    cfg = _check_train_cfg(train_cfg)
    dev = resolve_device(device)
    torch.set_num_threads(int(threads))
    torch.use_deterministic_algorithms(True, warn_only=dev.type != "cpu")
    data = load_dataset(dataset_h5)
    n_classes = len(data["class_names"])
    in_channels = data["images"].shape[1]
    torch.manual_seed(derive_seed(seed, "training", "init"))
    model = build_model(model_cfg, data["dimensions"], in_channels, n_classes)
    grid = tuple(data["images"].shape[2:])
    if any(n % model.total_stride for n in grid):
        raise ValueError(
            f"{dataset_h5}: grid {grid} is not divisible by the model's pooling stride {model.total_stride}; "
            f"set voxel.grid_multiple to a multiple of {model.total_stride} or use fewer model.channels"
        )
    model = model.to(dev)

    parts = {name: (data["images"][data["split"] == k], data["labels"][data["split"] == k]) for name, k in SPLITS.items()}
    counts = {name: np.bincount(labels.numpy(), minlength=n_classes).tolist() for name, (_, labels) in parts.items()}
    train_counts = np.array(counts["train"], dtype=np.float64)
    if cfg["balance_classes"]:
        if np.any(train_counts == 0):
            raise ValueError(f"{dataset_h5}: the train split lacks a class (counts {counts['train']})")
        class_weights = train_counts.sum() / (n_classes * train_counts)
    else:
        class_weights = np.ones(n_classes)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(class_weights, dtype=torch.float32, device=dev))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg["learning_rate"]),
                                 weight_decay=float(cfg["weight_decay"]))
    shuffle_gen = torch.Generator().manual_seed(derive_seed(seed, "training", "shuffle"))
    augment_gen = torch.Generator().manual_seed(derive_seed(seed, "training", "augment"))
    batch_size = int(cfg["batch_size"])

    curves = {key: [] for key in ("epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy")}
    best_loss, best_epoch, best_state, waited = float("inf"), 0, None, 0
    x_train, y_train = parts["train"]
    start = time.perf_counter()
    progress = tqdm(range(1, int(cfg["epochs"]) + 1), desc="train", unit="epoch", file=sys.stderr)
    for epoch in progress:
        model.train()
        total, correct = 0.0, 0
        for idx in _batches(len(y_train), batch_size, shuffle_gen):
            x = augment_batch(x_train[idx], augment_gen, cfg["augment"]["translate"], cfg["augment"]["point_group"])
            y = y_train[idx].to(dev)
            optimizer.zero_grad()
            logits = model(x.to(dev))
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == y).sum())
        if cfg["precise_batchnorm"]:
            recalibrate_batchnorm(model, x_train, batch_size, dev)
        val_loss, val_acc, _ = evaluate(model, *parts["validation"], loss_fn, batch_size, dev)
        for key, value in zip(curves, (epoch, total / len(y_train), correct / len(y_train), val_loss, val_acc)):
            curves[key].append(value)
        progress.set_postfix(loss=f"{total / len(y_train):.3f}", val_loss=f"{val_loss:.3f}", val_acc=f"{val_acc:.3f}")
        if val_loss < best_loss:
            best_loss, best_epoch, waited = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= int(cfg["patience"]):
                break
    progress.close()
    wall = time.perf_counter() - start

    model.load_state_dict(best_state)
    test_loss, test_acc, predicted = evaluate(model, *parts["test"], loss_fn, batch_size, dev)
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (parts["test"][1].numpy(), predicted), 1)
    record = make_provenance(
        {"model": model_cfg, "train": train_cfg},
        stage="train", seed=int(seed), device=str(dev), threads=int(threads), dataset=str(dataset_h5),
        dataset_provenance=data["provenance"],
    )
    n_parameters = int(sum(p.numel() for p in model.parameters()))
    metrics = {
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "best_epoch": best_epoch,
        "best_validation_loss": best_loss,
        "best_validation_accuracy": curves["validation_accuracy"][best_epoch - 1],
        "epochs_run": len(curves["epoch"]),
        "stopped_early": len(curves["epoch"]) < int(cfg["epochs"]),
        "curves": curves,
        "confusion_matrix": confusion.tolist(),
        "confusion_matrix_axes": "rows: true class, columns: predicted class",
        "class_names": data["class_names"],
        "class_counts": {name: dict(zip(data["class_names"], c)) for name, c in counts.items()},
        "loss_class_weights": class_weights.tolist(),
        "device": str(dev),
        "threads": int(threads),
        "n_parameters": n_parameters,
        "seed": int(seed),
        "train_config": cfg,
        "wall_time_s": wall,
        "provenance": record,
    }
    save_checkpoint(model_out, model, model_cfg, in_channels, n_classes, data["class_names"], record)
    with atomic_output(metrics_out) as tmp:
        tmp.write_text(json.dumps(metrics, indent=1, default=str))
    return metrics
