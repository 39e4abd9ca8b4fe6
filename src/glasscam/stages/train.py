"""Stages of the training rules: classifier and learning curve."""

import json
import logging
import time

import numpy as np
import torch

from glasscam.analysis.statistics import run_bootstrap_accuracy
from glasscam.core.seeds import derive_seed
from glasscam.core.tasks import SPLITS
from glasscam.io.datasets import load_dataset
from glasscam.io.provenance import provenance as make_provenance
from glasscam.io.provenance import settings_record
from glasscam.io.tables import read_json, write_json, write_table
from glasscam.learn.device import resolve_device
from glasscam.learn.model import build_model
from glasscam.learn.search import search_classifier as run_search
from glasscam.learn.training import (
    LearningCurveOptions,
    TrainingOptions,
    _energy_baseline,
    evaluate,
    fit_classifier,
)
from glasscam.stages.models import save_checkpoint

logger = logging.getLogger(__name__)
FIT_THRESHOLD = 0.95  # unaugmented training accuracy above which the CNN "fits its training split"
TRIAL_COLUMNS = ["number", "state", "pruned", "validation_accuracy", "validation_loss", "train_accuracy", "train_loss",
                 "train_augmented_loss", "best_epoch", "epochs_run", "n_parameters", "score", "params", "model", "training"]


def selected_configs(selected_json, model_cfg: dict, train_cfg: dict) -> tuple[dict, dict, dict | None]:
    """The ``model`` and ``training`` sections to train: those chosen by the search
    (``selected_json``, written by :func:`search_classifier`) when given, else the config's;
    and the selection record (None without a search)."""
    if selected_json is None:
        return dict(model_cfg), dict(train_cfg), None
    selection = read_json(selected_json)
    try:
        chosen = selection["selected"]
        return dict(chosen["model"]), dict(chosen["training"]), selection
    except (KeyError, TypeError):
        raise ValueError(f"{selected_json}: not a search selection (no selected.model / selected.training); "
                         f"rerun the search_classifier rule") from None


def train_classifier(*, dataset_h5, model_out, metrics_out, model_cfg: dict, train_cfg: dict, seed: int,
                     device: str = "auto", threads: int = 1, settings: dict | None = None, selected_json=None) -> dict:
    """Train a :class:`~glasscam.learn.model.GlassCNN` on the train split with early stopping on the
    validation loss (:func:`fit_classifier`); write the best checkpoint to ``model_out`` and
    metrics JSON to ``metrics_out``; return the metrics.

    ``train_cfg`` keys (defaults and units: :class:`~glasscam.learn.training.TrainingOptions`):
    epochs, batch_size, learning_rate,
    weight_decay, patience, augment (bool or {translate, point_group}), balance_classes,
    precise_batchnorm (recompute BatchNorm statistics on the training split after every epoch),
    schedule.
    ``settings``: the config keys that made the result (:func:`glasscam.io.provenance.settings_record`;
    default model and training), recorded with their hash so a summary can refuse stale inputs.
    The test accuracy carries a cluster-bootstrap interval over the test split's runs.

    ``selected_json`` (optional): the hyperparameter search's selection (:func:`search_classifier`);
    its ``model`` and ``training`` sections replace ``model_cfg`` and ``train_cfg``, and the
    selection (trial, validation score) is recorded in the metrics under ``search``.

    Metrics: ``kept`` holds the train (unaugmented), validation and test loss and accuracy of the
    kept epoch; ``fits_training_split`` is true when the unaugmented training accuracy is ≥ 0.95.
    """
    model_cfg, train_cfg, selection = selected_configs(selected_json, model_cfg, train_cfg)
    TrainingOptions.from_config(train_cfg)  # refuse a bad setting before loading anything
    dev = resolve_device(device)
    torch.set_num_threads(int(threads))
    data = load_dataset(dataset_h5)
    n_classes = len(data["class_names"])
    start = time.perf_counter()
    fit = fit_classifier(data, model_cfg, train_cfg, seed, dev)
    # wall time goes to the log (and the rule's benchmark file), not into the result: every output is
    # bit-identical between two runs from scratch
    logger.info("trained in %.1f s on %s with %d threads", time.perf_counter() - start, dev, int(threads))
    model, curves = fit["model"], fit["curves"]
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (fit["test_labels"], fit["test_predicted"]), 1)
    record = make_provenance(
        {"model": model_cfg, "train": train_cfg},
        stage="train", seed=int(seed), selected_by_search=selected_json is not None, device=str(dev), threads=int(threads), dataset=str(dataset_h5),
        dataset_provenance=data["provenance"],
    )
    n_parameters = int(sum(p.numel() for p in model.parameters()))
    correct = np.asarray(fit["test_predicted"]) == fit["test_labels"]
    metrics = {
        "test_accuracy": fit["test_accuracy"],
        "test_accuracy_run_interval": run_bootstrap_accuracy(correct, data["run"][fit["test_rows"]],
                                                             derive_seed(seed, "train", "run_bootstrap")),
        "test_loss": fit["test_loss"],
        "train_accuracy": fit["kept"]["train_accuracy"],
        "train_loss": fit["kept"]["train_loss"],
        "validation_accuracy": fit["kept"]["validation_accuracy"],
        "validation_loss": fit["kept"]["validation_loss"],
        "kept": fit["kept"],
        "fits_training_split": fit["kept"]["train_accuracy"] >= FIT_THRESHOLD,
        "fit_threshold": FIT_THRESHOLD,
        "model_config": model_cfg,
        "search": None if selection is None else {
            "selected_json": str(selected_json), "trials": len(selection["trials"]),
            **{k: selection["selected"][k] for k in ("number", "params", "validation_accuracy", "validation_loss",
                                                     "train_accuracy", "score")},
        },
        "best_epoch": fit["best_epoch"],
        "best_validation_loss": fit["best_validation_loss"],
        "best_validation_accuracy": curves["validation_accuracy"][fit["best_epoch"] - 1],
        "epochs_run": len(curves["epoch"]),
        "stopped_early": len(curves["epoch"]) < int(fit["config"]["epochs"]),
        "curves": curves,
        "confusion_matrix": confusion.tolist(),
        "confusion_matrix_axes": "rows: true class, columns: predicted class",
        "test_accuracy_by_group": fit["test_accuracy_by_group"],
        "test_samples": {"rows": fit["test_rows"].tolist(), "labels": fit["test_labels"].tolist(),
                         "predicted": np.asarray(fit["test_predicted"]).tolist()},
        "energy_baseline": _energy_baseline(data),
        "class_names": data["class_names"],
        "class_counts": {name: dict(zip(data["class_names"], c)) for name, c in fit["counts"].items()},
        "loss_class_weights": fit["class_weights"].tolist(),
        "device": str(dev),
        "threads": int(threads),
        "n_parameters": n_parameters,
        "seed": int(seed),
        "train_config": fit["config"],
        **settings_record(settings or {"model": model_cfg, "training": train_cfg}),
        "provenance": record,
    }
    save_checkpoint(model_out, model, model_cfg, data["in_channels"], n_classes, data["class_names"], record,
                    grid=data["grid"])
    write_json(metrics_out, metrics, indent=1, default=str)
    return metrics


def learning_curve(*, dataset_h5, out_json, model_cfg: dict, train_cfg: dict, curve_cfg: dict, seed: int,
                   device: str = "auto", threads: int = 1, selected_json=None) -> dict:
    """Test accuracy against the amount of training data: for each fraction f of
    ``curve_cfg['fractions']`` and each of ``curve_cfg['repeats']`` repeats, train on the samples
    of k = max(1, round(f · R)) of the R training trajectories (runs, drawn without replacement;
    whole runs, so the subsets stay independent of validation and test) and evaluate on the full,
    fixed test split. Repeats differ in the runs drawn and in the training seed.

    Writes ``out_json``: one row per (fraction, repeat) and per fraction the mean and standard
    deviation of the test accuracy over repeats, with the binomial standard error
    √(a(1 − a)/S_test) of one accuracy a on S_test test samples for scale. ``selected_json``: the
    search's selection replaces ``model_cfg`` and ``train_cfg`` (:func:`selected_configs`)."""
    model_cfg, train_cfg, _ = selected_configs(selected_json, model_cfg, train_cfg)
    fractions, repeats = LearningCurveOptions.from_config(curve_cfg).resolved()
    TrainingOptions.from_config(train_cfg)  # refuse a bad setting before loading anything
    dev = resolve_device(device)
    torch.set_num_threads(int(threads))
    data = load_dataset(dataset_h5)
    train_rows = np.flatnonzero(data["split"] == SPLITS["train"])
    runs = np.unique(data["run"][train_rows])
    n_test = int(np.sum(data["split"] == SPLITS["test"]))
    runs_drawn = {fraction: max(1, int(round(fraction * len(runs)))) for fraction in fractions}
    rows = []
    for fraction, k in runs_drawn.items():
        for repeat in range(repeats):
            draw = np.random.default_rng(derive_seed(seed, "learning_curve", "runs", fraction, repeat))
            chosen = np.sort(draw.choice(runs, size=k, replace=False))
            subset = train_rows[np.isin(data["run"][train_rows], chosen)]
            fit = fit_classifier(data, model_cfg, train_cfg, derive_seed(seed, "learning_curve", repeat), dev,
                                 train_rows=subset, desc=f"f={fraction:g} #{repeat}")
            rows.append({
                "fraction": fraction, "repeat": repeat, "train_runs": chosen.tolist(), "train_samples": int(len(subset)),
                "test_accuracy": fit["test_accuracy"], "test_loss": fit["test_loss"], "best_epoch": fit["best_epoch"],
                "test_accuracy_by_group": fit["test_accuracy_by_group"],
            })
            logger.info("fraction %g repeat %d: %d training samples from runs %s → test accuracy %.3f",
                     fraction, repeat, len(subset), chosen.tolist(), fit["test_accuracy"])
    summary = []
    for fraction in fractions:
        acc = np.array([r["test_accuracy"] for r in rows if r["fraction"] == fraction])
        samples = np.array([r["train_samples"] for r in rows if r["fraction"] == fraction])
        mean = float(acc.mean())
        summary.append({
            "fraction": fraction, "train_runs": runs_drawn[fraction],
            "train_samples_mean": float(samples.mean()), "test_accuracy_mean": mean,
            "test_accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else None,
            "binomial_standard_error": float(np.sqrt(mean * (1 - mean) / n_test)), "repeats": len(acc),
        })
    result = {
        "summary": summary,
        "rows": rows,
        "train_runs_available": runs.tolist(),
        "test_samples": n_test,
        "class_names": data["class_names"],
        "energy_baseline": _energy_baseline(data),
        "provenance": make_provenance(
            {"model": model_cfg, "train": train_cfg, "learning_curve": curve_cfg},
            stage="learning_curve", seed=int(seed), device=str(dev), threads=int(threads), dataset=str(dataset_h5),
            dataset_provenance=data["provenance"],
        ),
    }
    write_json(out_json, result, indent=1, default=str)
    return result


CONTROLS = ("random_weights", "shuffled_labels")


def permuted_labels(labels: torch.Tensor, split: np.ndarray, seed: int) -> torch.Tensor:
    """The labels with the train and validation rows each permuted among themselves (class counts
    per split kept; test rows untouched, so the test accuracy of a model fitted to them measures
    chance) — the data-randomization test of Adebayo et al., NeurIPS 2018."""
    out = labels.clone()
    generator = np.random.default_rng(seed)
    for name in ("train", "validation"):
        rows = np.flatnonzero(split == SPLITS[name])
        out[rows] = labels[rows[generator.permutation(len(rows))]]
    return out


def train_control(*, dataset_h5, model_out, metrics_out, model_cfg: dict, train_cfg: dict, control: str, seed: int,
                  control_seed: int, device: str = "auto", threads: int = 1, settings: dict | None = None,
                  selected_json=None) -> dict:
    """A sanity-null model of the classifier (Adebayo et al., "Sanity checks for saliency maps",
    NeurIPS 2018), written like :func:`train_classifier` (checkpoint + metrics JSON) so the
    explain and correlate stages treat it as the real model:

    * ``random_weights`` (model randomization): the same architecture with freshly initialised
      weights (PyTorch's default initialisation seeded by ``seed`` and ``control_seed``), no
      training; BatchNorm layers keep their initial statistics (mean 0, variance 1).
    * ``shuffled_labels`` (data randomization): the same architecture trained with the same
      ``train_cfg`` (epochs, early stopping, augmentation) on the same split, with the train and
      validation labels permuted within each split (:func:`permuted_labels`).

    Whatever an attribution of such a model correlates with is imposed by the input
    representation and the architecture, not learned from the labels. ``control_seed`` (0, 1, …)
    numbers the independent draws. Metrics: test accuracy on the true test labels (≈ chance),
    control name and seed, settings (:func:`glasscam.io.provenance.settings_record`). Raises
    ``ValueError`` for an unknown ``control``.

    ``selected_json`` (optional): the search's selection (:func:`search_classifier`), as for
    :func:`train_classifier` — the control then has the selected architecture and training budget
    of the real model (same architecture, same budget), recorded as ``model_config`` and
    ``search``."""
    if control not in CONTROLS:
        raise ValueError(f"control = {control!r}; expected one of {list(CONTROLS)}")
    model_cfg, train_cfg, selection = selected_configs(selected_json, model_cfg, train_cfg)
    training = TrainingOptions.from_config(train_cfg)  # refuse a bad setting before loading anything
    dev = resolve_device(device)
    torch.set_num_threads(int(threads))
    data = load_dataset(dataset_h5)
    n_classes = len(data["class_names"])
    draw = derive_seed(seed, "control", control, int(control_seed))
    if control == "random_weights":
        torch.manual_seed(draw)
        model = build_model(model_cfg, data["dimensions"], data["in_channels"], n_classes).to(dev)
        test = np.flatnonzero(data["split"] == SPLITS["test"])
        loss, accuracy, predicted = evaluate(model, data["images"][test], data["labels"][test],
                                             torch.nn.CrossEntropyLoss(), int(training.batch_size), dev)
        fit = {"test_loss": loss, "test_accuracy": accuracy, "test_predicted": predicted, "test_rows": test,
               "test_labels": data["labels"][test].numpy(), "best_epoch": 0, "curves": None}
    else:
        shuffled = {**data, "labels": permuted_labels(data["labels"], data["split"], draw)}
        fit = fit_classifier(shuffled, model_cfg, train_cfg, draw, dev, desc=f"{control} #{control_seed}")
        model = fit["model"]
    correct = np.asarray(fit["test_predicted"]) == fit["test_labels"]
    record = make_provenance({"model": model_cfg, "train": train_cfg}, stage="train_control", control=control,
                             seed=int(seed), control_seed=int(control_seed), derived_seed=int(draw), device=str(dev),
                             dataset=str(dataset_h5), dataset_provenance=data["provenance"])
    metrics = {
        "control": control,
        "control_seed": int(control_seed),
        "model_config": model_cfg,
        "train_config": train_cfg,
        "search": None if selection is None else {"selected_json": str(selected_json),
                                                  "number": selection["selected"]["number"]},
        "test_accuracy": fit["test_accuracy"],
        "test_accuracy_run_interval": run_bootstrap_accuracy(correct, data["run"][fit["test_rows"]],
                                                             derive_seed(draw, "run_bootstrap")),
        "test_loss": fit["test_loss"],
        "best_epoch": fit["best_epoch"],
        "curves": fit["curves"],
        "test_samples": {"rows": np.asarray(fit["test_rows"]).tolist(), "labels": fit["test_labels"].tolist(),
                         "predicted": np.asarray(fit["test_predicted"]).tolist()},
        "class_names": data["class_names"],
        **settings_record(settings or {"model": model_cfg, "training": train_cfg}),
        "provenance": record,
    }
    save_checkpoint(model_out, model, model_cfg, data["in_channels"], n_classes, data["class_names"], record,
                    grid=data["grid"])
    write_json(metrics_out, metrics, indent=1, default=str)
    logger.info("%s control #%d: test accuracy %.3f", control, control_seed, fit["test_accuracy"])
    return metrics


def search_classifier(*, dataset_h5, trials_json, trials_csv, selected_json, model_cfg: dict, train_cfg: dict,
                      search_cfg: dict, seed: int, device: str = "auto", threads: int = 1) -> dict:
    """Hyperparameter search on the validation split (:func:`glasscam.learn.search.search_classifier`).

    Writes every trial to ``trials_json`` (with the search config, objective, sampler and grid)
    and ``trials_csv`` (one row per trial; params, model and training as JSON cells), and the
    selection to ``selected_json`` — the selected trial's ``model`` and ``training`` sections.
    Timings go to the log (and the rule's benchmark), never to these files, so two searches with
    the same seed and trials write identical files.
    Returns the trials record."""
    dev = resolve_device(device)
    torch.set_num_threads(int(threads))
    data = load_dataset(dataset_h5)
    result = run_search(data, model_cfg, train_cfg, search_cfg, seed, dev)
    record = make_provenance(
        {"model": model_cfg, "train": train_cfg, "search": search_cfg},
        stage="search", seed=int(seed), dataset=str(dataset_h5), dataset_provenance=data["provenance"],
    )
    write_json(trials_json, {**result, "provenance": {**record, "device": str(dev), "threads": int(threads)}},
               indent=1, default=str)
    rows = [{k: (json.dumps(t[k], sort_keys=True) if isinstance(t[k], dict) else t[k]) for k in TRIAL_COLUMNS}
            for t in result["trials"]]
    write_table(trials_csv, rows, TRIAL_COLUMNS)
    selection = {key: result[key] for key in ("selected", "search", "allowed_depths", "grid", "objective", "sampler")}
    selection["trials"] = [{k: t[k] for k in ("number", "params", "validation_accuracy", "validation_loss",
                                              "train_accuracy", "score")} for t in result["trials"]]
    write_json(selected_json, {**selection, "provenance": record}, indent=1, default=str)
    chosen = result["selected"]
    logger.info("search: %d trials; selected trial %d %s (validation accuracy %.3f, train accuracy %.3f)",
                len(result["trials"]), chosen["number"], chosen["params"], chosen["validation_accuracy"],
                chosen["train_accuracy"])
    return result
