"""Hyperparameter search of the CNN classifier on the validation split (Optuna).

Each trial draws a network and a training setting from ``search.space``, trains it with
:func:`glasscam.learn.training.fit_classifier` on the training split (early stopping on the
validation loss, the test split never evaluated) and scores the kept epoch by

    score = validation accuracy − 10⁻³ · min(validation loss, 10)

(accuracy first; on the small validation splits of this pipeline many trials tie in accuracy,
and the loss term breaks ties towards the better-calibrated model). The sampler is Optuna's TPE
(Bergstra et al., NeurIPS 2011; Akiba et al., KDD 2019) seeded from the config seed, run with
``n_jobs = 1`` and every trial trained with the same training seed, so the same seed, dataset
and number of trials give the same trials and the same selection (a repeated draw, common in
small categorical spaces, reuses the first fit instead of training it again). A ``cpu_minutes`` budget
stops the search early (process CPU time, checked after every epoch: a trial that reaches it keeps
its best epoch so far, is marked "stopped at the CPU budget", and is the last): reproducible as
long as ``n_trials`` ends the search first — the trial table records how many ran and how.

Pruning (``search.pruner``; null = none): every trial reports its score after every epoch, and
Optuna's median rule (``optuna.pruners.MedianPruner``; Akiba et al., KDD 2019) stops a trial whose
best score so far lies below the median of the earlier trials' scores at the same epoch, once
``n_startup_trials`` trials have finished and after its first ``n_warmup_epochs`` epochs. A pruned
trial is recorded ("pruned at epoch k", its best epoch so far) and is not selected while any
trial ran to its end; the budget then goes to trials that learn. Pruning depends only on the
seeded trials' scores, so it keeps the search reproducible.

Search space (``search.space``; every key optional — an absent key keeps the ``model`` /
``training`` value of the config). A value is a list (categorical choice), a scalar (fixed) or
``{low, high, log}`` (a range; integer when both bounds are integers):

===================  ============================================================================
depth                conv blocks; channels = base_width · 2^min(i, width_doublings) for block i
base_width           channels of the first block
width_doublings      how many blocks double the width (default 3)
convs_per_block      convolutions per block (model.convs_per_block)
kernel_size          odd kernel side (model.kernel_size)
residual             residual connection per block (model.residual)
pool                 max | avg | strided (model.pool)
dropout              dropout before the head (model.dropout)
learning_rate        Adam learning rate (training.learning_rate)
weight_decay         L2 weight decay (training.weight_decay)
schedule             constant | cosine | one_cycle (training.schedule)
batch_size           training.batch_size
epochs               training.epochs (the schedule's length; early stopping may end sooner)
patience             training.patience (epochs without a lower validation loss before stopping)
augment              training.augment: random periodic translations and point-group operations
                     (true/false); the network is translation-equivariant without them
===================  ============================================================================

Depths whose total pooling stride 2^(depth − 1) does not divide the dataset's grid, or leaves
fewer than :data:`MIN_FEATURE_CELLS` cells per side, are dropped from the choices (logged).
The voxel spacing and Gaussian width change the dataset itself, not the network, and are not in
this space: searching them needs one dataset per voxel setting (docs/classifier-search.md).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from glasscam.core.options import Options
from glasscam.learn.training import TrainingOptions, fit_classifier

log = logging.getLogger(__name__)

MODEL_PARAMS = ("convs_per_block", "kernel_size", "residual", "pool", "dropout")
ARCHITECTURE_PARAMS = ("depth", "base_width", "width_doublings")
TRAIN_PARAMS = ("learning_rate", "weight_decay", "schedule", "batch_size", "epochs", "patience", "augment")
SPACE_KEYS = ARCHITECTURE_PARAMS + MODEL_PARAMS + TRAIN_PARAMS
MIN_FEATURE_CELLS = 2
PRUNER_DEFAULTS = {"n_startup_trials": 3, "n_warmup_epochs": 5}
LOSS_WEIGHT = 1e-3


@dataclass(frozen=True)
class SearchOptions(Options):
    """Settings of the hyperparameter search (config ``search``; :func:`search_classifier`).

    n_trials: trials drawn by the TPE sampler (≥ 0; 0 = no search: the ``model`` / ``training``
    settings are trained as they are); pruner: {n_startup_trials, n_warmup_epochs} of the median
    pruner (integers ≥ 0; null: no pruning; see the module docstring); cpu_minutes: cap on the search's process CPU time
    [minutes] (> 0, or None for no cap), checked after every epoch — the selection is reproducible
    when ``n_trials`` ends the search first; space: the search space, a mapping of
    :data:`SPACE_KEYS` to a list (categorical), a scalar (fixed) or {low, high, log} (a range;
    log needs low > 0) — see the module docstring; empty = nothing drawn.

    Raises ``ValueError`` naming the key (``search.n_trials = -1; must be ≥ 0``).
    """

    SECTION = "search"

    n_trials: int = 24
    cpu_minutes: float | None = 240
    space: Mapping = field(default_factory=dict)
    pruner: Mapping | None = field(default_factory=lambda: dict(PRUNER_DEFAULTS))

    def __post_init__(self):
        if int(self.n_trials) < 0:
            self.refuse("n_trials", "must be ≥ 0 (0: no search)")
        if self.cpu_minutes is not None and not float(self.cpu_minutes) > 0:
            self.refuse("cpu_minutes", "must be positive or null")
        if self.pruner is not None:
            if not isinstance(self.pruner, Mapping) or set(self.pruner) - set(PRUNER_DEFAULTS):
                self.refuse("pruner", f"must be null or a mapping with keys among {list(PRUNER_DEFAULTS)}")
            pruner = {**PRUNER_DEFAULTS, **self.pruner}
            for key, value in pruner.items():
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"search.pruner.{key} = {value!r}; must be an integer ≥ 0")
            object.__setattr__(self, "pruner", pruner)
        space = dict(self.space or {})
        object.__setattr__(self, "space", space)
        unknown = set(space) - set(SPACE_KEYS)
        if unknown:
            raise ValueError(f"search.space: unknown keys {sorted(unknown)}; expected a subset of {list(SPACE_KEYS)}")
        for key, value in space.items():
            if isinstance(value, dict):
                if set(value) - {"low", "high", "log"} or not {"low", "high"} <= set(value):
                    raise ValueError(f"search.space.{key} = {value!r}; a range is {{low, high, log}}")
                if not float(value["low"]) <= float(value["high"]):
                    raise ValueError(f"search.space.{key}: low {value['low']!r} > high {value['high']!r}")
                if value.get("log") and not float(value["low"]) > 0:
                    raise ValueError(f"search.space.{key}: a log range needs low > 0, got {value['low']!r}")
            elif isinstance(value, list) and not value:
                raise ValueError(f"search.space.{key} is an empty list; give at least one choice")

    def as_dict(self) -> dict:
        """The resolved ``search`` section (``space`` a copy)."""
        return {**super().as_dict(), "space": dict(self.space),
                "pruner": None if self.pruner is None else dict(self.pruner)}


def check_search_cfg(search_cfg: dict | None) -> dict:
    """Validated ``search`` section with defaults (:class:`SearchOptions`); ValueError names
    the key and value."""
    return SearchOptions.from_config(search_cfg).as_dict()


def _suggest(trial, name: str, spec):
    if isinstance(spec, dict):
        low, high, log_scale = spec["low"], spec["high"], bool(spec.get("log", False))
        if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
            return trial.suggest_int(name, low, high, log=log_scale)
        return trial.suggest_float(name, float(low), float(high), log=log_scale)
    if isinstance(spec, list):
        return trial.suggest_categorical(name, spec)
    return spec


def valid_depths(grid: tuple[int, ...], max_depth: int = 8) -> list[int]:
    """Depths d whose pooling stride 2^(d−1) divides every grid side and leaves ≥ MIN_FEATURE_CELLS."""
    return [d for d in range(1, max_depth + 1)
            if all(n % 2 ** (d - 1) == 0 and n // 2 ** (d - 1) >= MIN_FEATURE_CELLS for n in grid)]


def configs_from_params(params: dict, model_cfg: dict, train_cfg: dict) -> tuple[dict, dict]:
    """The ``model`` and ``training`` sections of one trial: the config's, overridden by the
    drawn ``params`` (keys of :data:`SPACE_KEYS`)."""
    model = dict(model_cfg)
    train = dict(train_cfg)
    if any(k in params for k in ARCHITECTURE_PARAMS):
        channels = list(model.get("channels", [16, 32, 64]))
        depth = int(params.get("depth", len(channels)))
        base = int(params.get("base_width", channels[0]))
        doublings = int(params.get("width_doublings", 3))
        model["channels"] = [base * 2 ** min(i, doublings) for i in range(depth)]
    model.update({k: params[k] for k in MODEL_PARAMS if k in params})
    train.update({k: params[k] for k in TRAIN_PARAMS if k in params})
    for key in ("convs_per_block", "kernel_size"):
        if key in model:
            model[key] = int(model[key])
    for key in ("batch_size", "epochs", "patience"):
        if key in train:
            train[key] = int(train[key])
    return model, train


def score(validation_accuracy: float, validation_loss: float) -> float:
    """The search objective (maximised): accuracy, ties broken by the loss."""
    return float(validation_accuracy) - LOSS_WEIGHT * min(float(validation_loss), 10.0)


def search_classifier(data: dict, model_cfg: dict, train_cfg: dict, search_cfg: dict, seed: int,
                      device: torch.device) -> dict:
    """Run the search on ``data`` (as :func:`glasscam.io.datasets.load_dataset` returns it).

    Returns ``trials`` (one record per trial: number, state, params, model and training config,
    validation accuracy/loss, unaugmented training accuracy/loss and augmented training loss at
    the kept epoch, best epoch, epochs run, parameters, score, wall and CPU seconds), the
    ``selected`` trial's number, params, ``model`` and ``training`` sections and scores, the
    resolved search config and the depths allowed by the grid. Never evaluates the test split."""
    import optuna  # noqa: PLC0415 — optional heavy dependency

    cfg = check_search_cfg(search_cfg)
    TrainingOptions.from_config(train_cfg)
    space = dict(cfg["space"])
    grid = tuple(int(n) for n in data["images"].shape[2:])
    allowed = valid_depths(grid)
    if "depth" in space:
        spec = space["depth"]
        choices = (list(range(int(spec["low"]), int(spec["high"]) + 1)) if isinstance(spec, dict)
                   else spec if isinstance(spec, list) else [spec])
        kept = [int(d) for d in choices if int(d) in allowed]
        if not kept:
            raise ValueError(f"search.space.depth = {spec!r}: no depth fits the grid {grid} "
                             f"(allowed {allowed}); raise voxel.grid_multiple")
        if len(kept) < len(choices):
            log.info("search.space.depth: %s dropped (grid %s allows %s)",
                     sorted(set(map(int, choices)) - set(kept)), grid, allowed)
        space["depth"] = kept
    budget = None if cfg["cpu_minutes"] is None else 60.0 * float(cfg["cpu_minutes"])
    start_cpu = time.process_time()
    records = []

    done: dict[str, dict] = {}

    def objective(trial):
        params = {name: _suggest(trial, name, spec) for name, spec in space.items()}
        key = json.dumps(params, sort_keys=True)
        if key in done:  # small categorical spaces repeat draws: the same seed gives the same fit
            first = done[key]
            records.append({**first, "number": trial.number, "state": f"duplicate of trial {first['number']}"})
            if first["pruned"]:
                raise optuna.TrialPruned()
            return first["score"]
        model, train = configs_from_params(params, model_cfg, train_cfg)
        wall, cpu = time.perf_counter(), time.process_time()

        def report(epoch, validation_loss, validation_accuracy):
            if pruner is None:
                return False
            trial.report(score(validation_accuracy, validation_loss), epoch)
            return trial.should_prune()

        fit = fit_classifier(data, model, train, seed, device, desc=f"trial {trial.number}", evaluate_test=False,
                             cpu_deadline=None if budget is None else start_cpu + budget, epoch_callback=report)
        kept = fit["kept"]
        value = score(kept["validation_accuracy"], kept["validation_loss"])
        epochs_run = len(fit["curves"]["epoch"])
        state = ("stopped at the CPU budget" if fit["stopped_by_deadline"]
                 else f"pruned at epoch {epochs_run}" if fit["stopped_by_callback"] else "complete")
        records.append({
            "number": trial.number,
            "state": state, "pruned": bool(fit["stopped_by_callback"]),
            "params": params, "model": model, "training": train,
            "validation_accuracy": kept["validation_accuracy"], "validation_loss": kept["validation_loss"],
            "train_accuracy": kept["train_accuracy"], "train_loss": kept["train_loss"],
            "train_augmented_loss": kept["train_augmented_loss"], "best_epoch": fit["best_epoch"],
            "epochs_run": epochs_run,
            "n_parameters": int(sum(p.numel() for p in fit["model"].parameters())), "score": value,
        })
        done[key] = records[-1]
        # timings go to the log only: the trial records are the same bytes in every rerun
        log.info("trial %d: %s → validation accuracy %.3f, loss %.3f, train accuracy %.3f (%.1f s wall, %.1f s CPU)",
                 trial.number, params, kept["validation_accuracy"], kept["validation_loss"], kept["train_accuracy"],
                 time.perf_counter() - wall, time.process_time() - cpu)
        if fit["stopped_by_callback"]:
            log.info("trial %d: %s", trial.number, state)
            raise optuna.TrialPruned()
        return value

    def stop_on_budget(study, _trial):
        if budget is not None and time.process_time() - start_cpu >= budget:
            log.info("search: CPU budget of %.1f min spent after %d trials", budget / 60, len(study.trials))
            study.stop()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=int(seed) % 2**32, n_startup_trials=min(10, max(1, int(cfg["n_trials"]))))
    pruner = cfg["pruner"]
    study = optuna.create_study(
        direction="maximize", sampler=sampler,
        pruner=(optuna.pruners.NopPruner() if pruner is None else
                optuna.pruners.MedianPruner(n_startup_trials=pruner["n_startup_trials"],
                                            n_warmup_steps=pruner["n_warmup_epochs"])))
    if int(cfg["n_trials"]) > 0:
        study.optimize(objective, n_trials=int(cfg["n_trials"]), n_jobs=1, callbacks=[stop_on_budget],
                       gc_after_trial=True)
    log.info("search: %d trials in %.1f CPU-min", len(records), (time.process_time() - start_cpu) / 60)
    if not records:
        raise ValueError("search: no trial completed (search.n_trials = 0 or every trial failed)")
    # a pruned trial stopped before its schedule ended: selected only when no trial ran to its end
    candidates = [r for r in records if not r["pruned"]] or records
    best = max(candidates, key=lambda r: (r["score"], -r["number"]))  # ties: the earliest trial
    return {
        "trials": records,
        "selected": {key: best[key] for key in ("number", "params", "model", "training", "validation_accuracy",
                                                "validation_loss", "train_accuracy", "score")},
        "search": {**cfg, "space": space},
        "allowed_depths": allowed,
        "grid": list(grid),
        "objective": f"validation accuracy − {LOSS_WEIGHT:g} · min(validation loss, 10), maximised",
        "sampler": f"optuna.samplers.TPESampler(seed={int(seed) % 2**32})",
        "optuna_version": optuna.__version__,
        "summary": {
            "trials": len(records),
            "pruned": sum(bool(r["pruned"]) for r in records),
            "validation_accuracy_max": float(np.max([r["validation_accuracy"] for r in records])),
            "train_accuracy_of_selected": best["train_accuracy"],
        },
    }
