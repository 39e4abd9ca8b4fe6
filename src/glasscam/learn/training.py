"""Training the liquid/glass CNN on a voxelized dataset (:mod:`.dataset`).

Loss: cross-entropy, optionally class-weighted w_c = S_train / (n_classes · S_train,c) so an
unbalanced training split counts both classes equally. Adam optimizer (L2 ``weight_decay``) with a
learning-rate ``schedule`` stepped every batch: ``constant``; ``cosine`` (cosine annealing from
``learning_rate`` to 0 over ``epochs``; Loshchilov & Hutter, ICLR 2017); ``one_cycle`` (warm-up
to ``learning_rate`` over the first 30 % then cosine annealing; Smith & Topin 2019, torch's
OneCycleLR). Augmentation per sample:
a random periodic translation (``torch.roll`` by a uniform number of cells along every axis) and a
random element of the square (8) / cubic (48) point group (axis permutation × reflections; a
reflection i → n−1−i maps cell centres x → −x exactly). Early stopping on the validation loss
with ``patience`` epochs; the best epoch's weights are kept, and the train (unaugmented, eval
mode), validation and test loss and accuracy of that kept epoch are reported. After each epoch the BatchNorm
statistics are recomputed over the (unaugmented) training split ("precise BatchNorm").

Reproducibility: initial weights, batch order, augmentation and dropout derive from ``seed``
(:func:`glasscam.core.seeds.derive_seed`); on CPU ``torch.use_deterministic_algorithms(True)`` and a
fixed thread count make two runs bit-identical.
"""

from __future__ import annotations

import copy
import itertools
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from glasscam.core.options import Options
from glasscam.core.seeds import derive_seed
from glasscam.core.tasks import SPLITS
from glasscam.learn.model import build_model

SCHEDULES = ("constant", "cosine", "one_cycle")
AUGMENTATIONS = ("translate", "point_group")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOptions(Options):
    """Settings of the classifier's training (config ``training``; :func:`fit_classifier`).

    epochs: most passes over the training split (≥ 1; also the length of the learning-rate
    schedule); batch_size: samples per optimizer step (≥ 1); learning_rate: Adam's step size
    (> 0, dimensionless — the inputs are densities per voxel); weight_decay: Adam's L2 penalty
    (≥ 0); schedule: per-batch learning-rate schedule, one of :data:`SCHEDULES`; patience: epochs
    without a lower validation loss before early stopping (≥ 1); augment: true/false, or
    {translate, point_group} — random periodic translations and square/cubic point-group
    operations per sample (:func:`augment_batch`); balance_classes: weight the loss by
    S_train / (n_classes · S_train,c); precise_batchnorm: recompute the BatchNorm statistics on
    the unaugmented training split after every epoch (:func:`recalibrate_batchnorm`).

    Values are kept as given; :meth:`as_dict` expands ``augment`` into {translate, point_group}.
    Raises ``ValueError`` naming the key (``training.patience = 0; must be ≥ 1``).
    """

    SECTION = "training"

    epochs: int = 50
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    patience: int = 10
    augment: bool | Mapping = True
    balance_classes: bool = True
    precise_batchnorm: bool = True

    def __post_init__(self):
        self.require_at_least(1, "epochs", "batch_size", "patience")
        self.require_positive("learning_rate")
        self.require_nonnegative("weight_decay")
        if self.schedule not in SCHEDULES:
            self.refuse("schedule", f"expected one of {SCHEDULES}")
        if not (isinstance(self.augment, bool)
                or (isinstance(self.augment, Mapping) and set(self.augment) <= set(AUGMENTATIONS))):
            self.refuse("augment", "expected true/false or {translate: bool, point_group: bool}")
        for key in ("balance_classes", "precise_batchnorm"):
            if not isinstance(getattr(self, key), bool):
                self.refuse(key, "expected true or false")

    def as_dict(self) -> dict:
        """The resolved training settings; ``augment`` as {translate: bool, point_group: bool}."""
        augment = self.augment
        if isinstance(augment, bool):
            augment = {"translate": augment, "point_group": augment}
        else:
            augment = {"translate": bool(augment.get("translate", True)),
                       "point_group": bool(augment.get("point_group", True))}
        return {**super().as_dict(), "augment": augment}


@dataclass(frozen=True)
class LearningCurveOptions(Options):
    """Settings of the learning curve (config ``learning_curve``; :func:`glasscam.stages.train.learning_curve`).

    fractions: fractions of the training split's runs trained on, each in (0, 1]
    (duplicates dropped, sorted by :meth:`resolved`); repeats: draws of the runs (another seed per
    repeat) at each fraction (≥ 1). Raises ``ValueError`` naming the key.
    """

    SECTION = "learning_curve"

    fractions: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0)
    repeats: int = 3

    def __post_init__(self):
        object.__setattr__(self, "fractions", tuple(self.fractions))
        if not self.fractions or any(not 0 < float(f) <= 1 for f in self.fractions):
            self.refuse("fractions", "expected values in (0, 1]")
        self.require_at_least(1, "repeats")

    def resolved(self) -> tuple[list[float], int]:
        """(sorted distinct fractions, repeats)."""
        return sorted({float(f) for f in self.fractions}), int(self.repeats)


def point_group(dimensions: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The d!·2^d symmetry operations of the square/cubic grid as (axis permutation, flipped axes)."""
    return [
        (perm, tuple(a for a, f in enumerate(flips) if f))
        for perm in itertools.permutations(range(dimensions))
        for flips in itertools.product((False, True), repeat=dimensions)
    ]


def augment_batch(x: torch.Tensor, generator: torch.Generator, translate: bool, symmetry: bool) -> torch.Tensor:
    """Random periodic translation and point-group operation per sample of ``(B, C, *grid)``."""
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


def make_scheduler(optimizer: torch.optim.Optimizer, schedule: str, learning_rate: float, total_steps: int):
    """Per-batch learning-rate scheduler of ``schedule`` (:data:`SCHEDULES`) over ``total_steps``
    optimizer steps, or None for a constant rate."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
    if schedule == "one_cycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, total_steps=max(total_steps, 2),
                                                   pct_start=0.3, cycle_momentum=False)
    return None


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


def energy_threshold_baseline(energy: np.ndarray, labels: np.ndarray, train_rows: np.ndarray,
                              test_rows: np.ndarray) -> dict:
    """One-number baseline: label a sample glass (1) when its potential energy per particle u = U/N
    (ε) lies on the glass side of a threshold u*; side and u* maximise the training accuracy
    (sorted cumulative counts, O(S log S)); returns u*, the side and the train/test accuracy.
    On inherent structures this is the classic structural order parameter of aging (the
    inherent-structure energy), so a CNN below it is missing structure a single number holds."""
    u, y = energy[train_rows], labels[train_rows]
    order = np.argsort(u, kind="stable")
    u, y = u[order], y[order]
    n = len(y)
    glass_below = np.concatenate([[0], np.cumsum(y)])  # glasses among the k lowest, k = 0 … n
    liquid_below = np.arange(n + 1) - glass_below
    # predict glass for the k lowest ("below") or for the n − k highest ("above")
    correct_below = glass_below + (np.sum(1 - y) - liquid_below)
    correct_above = liquid_below + (np.sum(y) - glass_below)
    side = "below" if correct_below.max() >= correct_above.max() else "above"
    correct = correct_below if side == "below" else correct_above
    k = int(np.argmax(correct))
    threshold = float(-np.inf if k == 0 else np.inf if k == n else 0.5 * (u[k - 1] + u[k]))
    predicted_glass = energy[test_rows] < threshold if side == "below" else energy[test_rows] > threshold
    return {
        "threshold_energy_per_particle": threshold,
        "glass_side": side,
        "train_accuracy": float(correct[k] / n),
        "test_accuracy": float(np.mean(predicted_glass == (labels[test_rows] == 1))),
        "test_predicted": predicted_glass.astype(int).tolist(),
    }


def accuracy_by_group(data: dict, rows: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Accuracy of ``predicted`` on ``rows`` per liquid temperature and per glass aging time t_w,
    so a ceiling set by one kind of sample (e.g. glasses at t_w = 0, still liquid structures
    after an instantaneous quench) shows."""
    labels = data["labels"].numpy()[rows]
    keys = [(int(c), float(t), float(a) if data["class_names"][c] != "liquid" else None)
            for c, t, a in zip(labels, data["temperature"][rows], data["time"][rows])]
    out = []
    for key in sorted(set(keys), key=lambda k: (k[0], k[1], k[2] or 0.0)):
        mask = np.array([k == key for k in keys])
        out.append({"class": data["class_names"][key[0]], "temperature": key[1], "aging_time": key[2],
                    "samples": int(mask.sum()), "accuracy": float(np.mean(predicted[mask] == labels[mask]))})
    return out


def _energy_baseline(data: dict) -> dict:
    return energy_threshold_baseline(data["potential_energy"], data["labels"].numpy(),
                                     np.flatnonzero(data["split"] == SPLITS["train"]),
                                     np.flatnonzero(data["split"] == SPLITS["test"]))


def fit_classifier(data: dict, model_cfg: dict, train_cfg: dict, seed: int, device: torch.device,
                   train_rows: np.ndarray | None = None, desc: str = "train", evaluate_test: bool = True,
                   cpu_deadline: float | None = None, epoch_callback=None) -> dict:
    """Train a :class:`~glasscam.learn.model.GlassCNN` on the train split of ``data`` (as
    :func:`load_dataset` returns it; only the rows ``train_rows`` of it if given) with early
    stopping on the validation loss, and evaluate the best epoch's weights on the test split.

    Returns the model (best weights), the resolved training config, curves, best epoch/loss,
    class counts per split, the loss's class weights, ``kept`` — loss and accuracy on the train
    (unaugmented, eval mode), validation and test splits at the kept epoch — and the test loss,
    accuracy, predictions, labels and accuracy per group (:func:`accuracy_by_group`).
    ``evaluate_test=False`` (the hyperparameter search) never runs the model on the test split:
    the test entries are then None. ``cpu_deadline`` (a :func:`time.process_time` value, s):
    training stops after the first epoch that ends past it, keeping the best epoch so far
    (``stopped_by_deadline`` True) — the search's CPU budget, which one slow trial could
    otherwise overrun by hours. ``epoch_callback(epoch, validation_loss, validation_accuracy)``
    (optional) is called after every epoch; when it returns True, training stops there, keeping
    the best epoch so far (``stopped_by_callback`` True) — the search's pruner."""
    cfg = TrainingOptions.from_config(train_cfg).as_dict()
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    n_classes = len(data["class_names"])
    torch.manual_seed(derive_seed(seed, "training", "init"))
    model = build_model(model_cfg, data["dimensions"], data["in_channels"], n_classes)
    grid = tuple(data["images"].shape[2:])
    if any(n % model.total_stride for n in grid):
        raise ValueError(
            f"{data['path']}: grid {grid} is not divisible by the model's pooling stride {model.total_stride}; "
            f"set voxel.grid_multiple to a multiple of {model.total_stride} or use fewer model.channels"
        )
    model = model.to(device)

    rows = {name: np.flatnonzero(data["split"] == k) for name, k in SPLITS.items()}
    if train_rows is not None:
        rows["train"] = np.asarray(train_rows)
    parts = {name: (data["images"][r], data["labels"][r]) for name, r in rows.items()}
    counts = {name: np.bincount(labels.numpy(), minlength=n_classes).tolist() for name, (_, labels) in parts.items()}
    train_counts = np.array(counts["train"], dtype=np.float64)
    if cfg["balance_classes"]:
        if np.any(train_counts == 0):
            raise ValueError(f"{data['path']}: the train split lacks a class (counts {counts['train']})")
        class_weights = train_counts.sum() / (n_classes * train_counts)
    else:
        class_weights = np.ones(n_classes)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(class_weights, dtype=torch.float32, device=device))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg["learning_rate"]),
                                 weight_decay=float(cfg["weight_decay"]))
    batch_size = int(cfg["batch_size"])
    steps_per_epoch = -(-len(rows["train"]) // batch_size)
    scheduler = make_scheduler(optimizer, cfg["schedule"], float(cfg["learning_rate"]),
                               steps_per_epoch * int(cfg["epochs"]))
    shuffle_gen = torch.Generator().manual_seed(derive_seed(seed, "training", "shuffle"))
    augment_gen = torch.Generator().manual_seed(derive_seed(seed, "training", "augment"))

    curves = {key: [] for key in ("epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy")}
    best_loss, best_epoch, best_state, waited = float("inf"), 0, None, 0
    stopped_by_deadline = stopped_by_callback = False
    x_train, y_train = parts["train"]
    progress = tqdm(range(1, int(cfg["epochs"]) + 1), desc=desc, unit="epoch", file=sys.stderr)
    for epoch in progress:
        model.train()
        total, correct = 0.0, 0
        for idx in _batches(len(y_train), batch_size, shuffle_gen):
            x = augment_batch(x_train[idx], augment_gen, cfg["augment"]["translate"], cfg["augment"]["point_group"])
            y = y_train[idx].to(device)
            optimizer.zero_grad()
            logits = model(x.to(device))
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == y).sum())
        if cfg["precise_batchnorm"]:
            recalibrate_batchnorm(model, x_train, batch_size, device)
        val_loss, val_acc, _ = evaluate(model, *parts["validation"], loss_fn, batch_size, device)
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
        if epoch_callback is not None and epoch < int(cfg["epochs"]) and epoch_callback(epoch, val_loss, val_acc):
            stopped_by_callback = True
            log.info("%s: stopped by the epoch callback after epoch %d; keeping epoch %d", desc, epoch, best_epoch)
            break
        if cpu_deadline is not None and time.process_time() >= cpu_deadline and epoch < int(cfg["epochs"]):
            stopped_by_deadline = True
            log.info("%s: CPU deadline reached after epoch %d of %d; keeping epoch %d", desc, epoch, int(cfg["epochs"]),
                     best_epoch)
            break
    progress.close()
    model.load_state_dict(best_state)
    if evaluate_test:
        test_loss, test_acc, predicted = evaluate(model, *parts["test"], loss_fn, batch_size, device)
    else:
        test_loss = test_acc = predicted = None
    train_loss, train_acc, _ = evaluate(model, *parts["train"], loss_fn, batch_size, device)
    kept = {"epoch": best_epoch,
            "train_loss": train_loss, "train_accuracy": train_acc,
            "train_augmented_loss": curves["train_loss"][best_epoch - 1],
            "train_augmented_accuracy": curves["train_accuracy"][best_epoch - 1],
            "validation_loss": best_loss, "validation_accuracy": curves["validation_accuracy"][best_epoch - 1],
            "test_loss": test_loss, "test_accuracy": test_acc}
    return {
        "model": model, "config": cfg, "curves": curves, "best_epoch": best_epoch, "best_validation_loss": best_loss,
        "kept": kept, "stopped_by_deadline": stopped_by_deadline,
        "stopped_by_callback": stopped_by_callback,
        "counts": counts, "class_weights": class_weights, "test_loss": test_loss, "test_accuracy": test_acc,
        "test_predicted": predicted, "test_labels": parts["test"][1].numpy(), "test_rows": rows["test"],
        "test_accuracy_by_group": accuracy_by_group(data, rows["test"], predicted) if evaluate_test else None,
    }


