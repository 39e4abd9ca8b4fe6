"""Classical baselines for the CNN classifier, on the same split, and the thermal-cue check.

A classifier "finds structure" only if it beats what classical descriptors already hold. For
every dataset sample s this module computes per-sample statistics of the per-particle
descriptors the pipeline already has (:mod:`glasscam.analysis.structure`: potential energy U_i, local
density, Voronoi volume/area, q̄6 or |ψ6|, Steinhardt q4/q6/ŵ6, icosahedral centres, each raw and
coarse-grained over ``coarse_graining_radii``), for all particles and for the A particles (KA
convention): mean, standard deviation and the 10/50/90 % quantiles. On those features:

* ``descriptor_logistic``: L2-regularised logistic regression (scikit-learn), features
  standardised on the training split, C chosen on the validation split from a log grid;
* ``energy_threshold``: one threshold on U/N (:func:`glasscam.learn.training.energy_threshold_baseline`);
* thermal cues: logistic regression on the kinetic temperature alone, and on the vibration
  amplitude alone (root-mean-square distance between each thermal configuration and its
  inherent structure, σ), with their per-class distributions, so a reader sees whether the
  classes still differ thermally.

Accuracies carry Wilson 95 % intervals (Wilson, JASA 22, 209 (1927)); the CNN minus a baseline
on the same test samples carries the Agresti–Min 95 % interval for a paired difference of
proportions (Agresti & Min, Biometrics 61, 515 (2005): Wald on the 2×2 agreement table with ½
added to each cell).
"""

from __future__ import annotations

import json
import math

import numpy as np
from tqdm import tqdm

from glasscam.analysis.statistics import (
    accuracy_record,
    fit_logistic,
    paired_accuracy_difference,
    run_bootstrap_mean,
)
from glasscam.analysis.structure import coarse_grain, raw_indicators
from glasscam.core.keys import POTENTIAL_ENERGY_KEY
from glasscam.core.seeds import derive_seed
from glasscam.core.tasks import SPLITS
from glasscam.io.gsd import open_trajectory, state_from_frame
from glasscam.io.provenance import provenance as make_provenance
from glasscam.io.provenance import settings_record
from glasscam.io.tables import open_h5, read_json, write_json
from glasscam.learn.training import energy_threshold_baseline

STATISTICS = ("mean", "std", "q10", "q50", "q90")


def sample_features(per_particle: dict[str, np.ndarray], typeid: np.ndarray, types: list[str]) -> dict[str, float]:
    """Per-sample statistics (:data:`STATISTICS`) of each per-particle array, over all particles
    and over the first species (A, the KA convention), keyed ``<array>|<group>|<statistic>``."""
    groups = {"all": np.ones(len(typeid), bool), types[0]: typeid == 0}
    out = {}
    for name in sorted(per_particle):
        values = np.asarray(per_particle[name], dtype=np.float64)
        for group, mask in groups.items():
            v = values[mask]
            q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
            for stat, value in zip(STATISTICS, (v.mean(), v.std(), q10, q50, q90), strict=True):
                out[f"{name}|{group}|{stat}"] = float(value)
    return out


def descriptor_arrays(state, energies: np.ndarray, indicator_cfg: dict) -> dict[str, np.ndarray]:
    """Raw and coarse-grained per-particle descriptors of one configuration (as
    :func:`glasscam.stages.indicators.compute_indicators` computes them)."""
    raw = raw_indicators(
        state, energies, neighbors=indicator_cfg.get("neighbors", "voronoi"),
        neighbor_cutoff=indicator_cfg.get("neighbor_cutoff") if indicator_cfg.get("neighbor_cutoff") != "auto" else None,
        local_density_radius=float(indicator_cfg.get("local_density_radius", 1.5)),
        local_density_diameter=float(indicator_cfg.get("local_density_diameter", 0.0)),
    )
    arrays = dict(raw)
    for radius in indicator_cfg.get("coarse_graining_radii", []):
        arrays.update({f"{name}_cg{float(radius):g}": v for name, v in coarse_grain(state, raw, float(radius)).items()})
    return arrays


def _class_distribution(values: np.ndarray, labels: np.ndarray, class_names: list[str]) -> dict:
    out = {}
    for c, name in enumerate(class_names):
        v = values[(labels == c) & np.isfinite(values)]
        out[name] = ({"n": int(len(v)), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                      "q10": float(np.quantile(v, 0.1)), "q50": float(np.median(v)), "q90": float(np.quantile(v, 0.9))}
                     if len(v) else {"n": 0})
    return out


def _read_dataset_index(dataset_h5) -> dict:
    with open_h5(dataset_h5) as h5:
        out = {key: h5[key][:] for key in ("labels", "split", "frame", "run", "replica", "time", "potential_energy")}
        out["source"] = [s.decode() if isinstance(s, bytes) else str(s) for s in h5["source"][:]]
        out["temperature"] = h5["temperature"][:]
        # datasets written before the stage column: None (match_samples refuses them)
        out["stage"] = [s.decode() if isinstance(s, bytes) else str(s) for s in h5["stage"][:]] if "stage" in h5 else None
        out["kinetic_temperature"] = (h5["kinetic_temperature"][:] if "kinetic_temperature" in h5
                                      else np.full(len(out["labels"]), np.nan))
        out["class_names"] = [str(c) for c in h5.attrs["class_names"]]
        out["types"] = [str(t) for t in h5.attrs["types"]]
        out["task"] = json.loads(h5.attrs.get("task", "{}"))
        out["kinetic_relaxation"] = json.loads(h5.attrs["kinetic_relaxation"]) if "kinetic_relaxation" in h5.attrs else None
    return out


def _read_sample_states(index: dict) -> tuple[list, list[np.ndarray]]:
    """States and per-particle energies of every dataset sample, in dataset order."""
    states, energies = [None] * len(index["labels"]), [None] * len(index["labels"])
    by_source: dict[str, list[int]] = {}
    for k, source in enumerate(index["source"]):
        by_source.setdefault(source, []).append(k)
    for source, rows in tqdm(by_source.items(), desc="read samples", unit="trajectory"):
        with open_trajectory(source) as traj:
            for k in rows:
                frame = traj[int(index["frame"][k])]
                if POTENTIAL_ENERGY_KEY not in frame.log:
                    raise ValueError(f"{source}: frame {int(index['frame'][k])} lacks {POTENTIAL_ENERGY_KEY}")
                states[k] = state_from_frame(frame)
                energies[k] = np.asarray(frame.log[POTENTIAL_ENERGY_KEY], dtype=np.float64)
    return states, energies


def sample_identity(index: dict, k: int) -> tuple:
    """The identity of dataset sample ``k``: (stage, run, replica, temperature, time) — every
    liquid temperature has its own runs with the same (run, replica, time), so all five are
    needed to name one configuration (temperature and time rounded to 1e-9)."""
    return (index["stage"][k], int(index["run"][k]), int(index["replica"][k]),
            round(float(index["temperature"][k]), 9), round(float(index["time"][k]), 9))


def match_samples(thermal: dict, inherent: dict, thermal_name: str = "thermal dataset",
                  inherent_name: str = "inherent dataset") -> list[int]:
    """For every sample of the ``thermal`` dataset index, the row of its own inherent structure in
    the ``inherent`` index, matched by :func:`sample_identity` (stage, run, replica,
    temperature, time). Raises ``ValueError`` if either index lacks the ``stage`` column (a
    dataset from before it: rebuild it), if an identity occurs twice in the inherent index, or if
    a thermal sample has no inherent structure."""
    for name, index in ((thermal_name, thermal), (inherent_name, inherent)):
        if index.get("stage") is None:
            raise ValueError(f"{name}: no 'stage' column (a dataset written before samples recorded their stage); "
                             f"rebuild it (snakemake --forcerun build_dataset) so thermal and inherent samples can "
                             f"be paired by (stage, run, replica, temperature, time)")
    rows: dict[tuple, int] = {}
    for k in range(len(inherent["run"])):
        key = sample_identity(inherent, k)
        if key in rows:
            raise ValueError(f"{inherent_name}: rows {rows[key]} and {k} are the same sample {key} "
                             f"(stage, run, replica, temperature, time)")
        rows[key] = k
    mapping = [rows.get(sample_identity(thermal, k)) for k in range(len(thermal["run"]))]
    missing = [k for k, m in enumerate(mapping) if m is None]
    if missing:
        raise ValueError(f"{inherent_name}: {len(missing)} samples of {thermal_name} have no inherent structure there "
                         f"(first: row {missing[0]}, {sample_identity(thermal, missing[0])})")
    return mapping


def vibration_amplitudes(thermal_states: list, inherent_states: list) -> np.ndarray:
    """Per-sample root-mean-square displacement between a thermal configuration and its inherent
    structure, √(⟨|r_i − r_i^IS|²⟩_i) with minimum-image differences (σ)."""
    out = np.empty(len(thermal_states))
    for k, (a, b) in enumerate(zip(thermal_states, inherent_states, strict=True)):
        d = (a.positions - b.positions)[:, : a.dimensions]
        d -= a.box_length * np.round(d / a.box_length)
        out[k] = math.sqrt(float(np.mean(np.sum(d * d, axis=1))))
    return out


def cnn_fit(metrics: dict) -> dict:
    """How well the CNN of ``metrics`` fits its own training split: unaugmented training and
    validation accuracy at the kept epoch, whether the training accuracy reaches the fit threshold
    (0.95), and the search that chose it (trials, selected trial), or None entries for metrics
    written before these keys existed."""
    search = metrics.get("search") or {}
    return {"train_accuracy": metrics.get("train_accuracy"), "validation_accuracy": metrics.get("validation_accuracy"),
            "fits_training_split": metrics.get("fits_training_split"), "fit_threshold": metrics.get("fit_threshold"),
            "search_trials": search.get("trials"), "selected_trial": search.get("number"),
            "selected_params": search.get("params"), "model_config": metrics.get("model_config")}


def classifier_baselines(*, dataset_h5, metrics_json, out_json, indicator_cfg: dict, seed: int,
                         inherent_dataset_h5=None, settings: dict | None = None) -> dict:
    """Baselines of one task and input kind on the CNN's own split, and the CNN minus each.

    Reads the dataset's samples back from their source trajectories (``source``/``frame``),
    computes their descriptor statistics (:func:`sample_features`), fits the baselines and
    compares them with the CNN's test predictions in ``metrics_json`` (paired, same samples).
    ``inherent_dataset_h5`` (optional, thermal inputs): the inherent-structure dataset of the
    same task; samples are matched by their identity (stage, run, replica, temperature, time;
    :func:`match_samples`) to give each thermal sample its
    vibration amplitude. Every accuracy and the CNN minus each baseline also carry a
    cluster-bootstrap interval over the test split's runs (``run_interval``,
    :func:`glasscam.analysis.statistics.run_bootstrap_mean`). ``settings``: the config keys that
    made the result, recorded with their hash (:func:`glasscam.io.provenance.settings_record`).
    Writes ``out_json``; returns the record."""
    index = _read_dataset_index(dataset_h5)
    metrics = read_json(metrics_json)
    labels, split = index["labels"].astype(int), index["split"].astype(int)
    test = np.flatnonzero(split == SPLITS["test"])
    if metrics["test_samples"]["rows"] != test.tolist():
        raise ValueError(f"{metrics_json}: test rows differ from the test split of {dataset_h5}")
    states, energies = _read_sample_states(index)
    rows = []
    for state, energy in tqdm(list(zip(states, energies, strict=True)), desc="descriptors", unit="sample"):
        rows.append(sample_features(descriptor_arrays(state, energy, indicator_cfg), state.typeid, index["types"]))
    names = list(rows[0])
    features = np.array([[row[n] for n in names] for row in rows])
    test_labels = labels[test]
    cnn_predicted = np.asarray(metrics["test_samples"]["predicted"], int)
    baselines = {}
    logistic = fit_logistic(features, labels, split, seed)
    baselines["descriptor_logistic"] = {**accuracy_record(np.asarray(logistic["test_predicted"]), test_labels),
                                        **{k: v for k, v in logistic.items() if k != "test_predicted"},
                                        "test_predicted": logistic["test_predicted"]}
    energy = energy_threshold_baseline(index["potential_energy"], labels, np.flatnonzero(split == SPLITS["train"]), test)
    baselines["energy_threshold"] = {**accuracy_record(np.asarray(energy["test_predicted"]), test_labels),
                                     **{k: v for k, v in energy.items() if k not in ("test_accuracy",)}}
    thermal = {}
    kinetic = index["kinetic_temperature"]
    if np.isfinite(kinetic).all():
        fit = fit_logistic(kinetic, labels, split, seed)
        thermal["kinetic_temperature"] = {"distribution": _class_distribution(kinetic, labels, index["class_names"]),
                                          "logistic": {**accuracy_record(np.asarray(fit["test_predicted"]), test_labels),
                                                       "C": fit["C"]}}
    if inherent_dataset_h5 is not None:
        other = _read_dataset_index(inherent_dataset_h5)
        mapping = match_samples(index, other, str(dataset_h5), str(inherent_dataset_h5))
        inherent_states, _ = _read_sample_states({**other, "frame": other["frame"][mapping],
                                                  "source": [other["source"][m] for m in mapping],
                                                  "labels": labels})
        amplitude = vibration_amplitudes(states, inherent_states)
        fit = fit_logistic(amplitude, labels, split, seed)
        thermal["vibration_amplitude"] = {"distribution": _class_distribution(amplitude, labels, index["class_names"]),
                                          "logistic": {**accuracy_record(np.asarray(fit["test_predicted"]), test_labels),
                                                       "C": fit["C"]},
                                          "units": "σ (RMS distance thermal → inherent structure)"}
    test_runs = index["run"][test]
    cnn = {**accuracy_record(cnn_predicted, test_labels),
           "run_interval": run_bootstrap_mean(cnn_predicted == test_labels, test_runs, derive_seed(seed, "runs", "cnn"))}
    comparison = {}
    for name, baseline in baselines.items():
        right = np.asarray(baseline["test_predicted"]) == test_labels
        baseline["run_interval"] = run_bootstrap_mean(right, test_runs, derive_seed(seed, "runs", name))
        comparison[name] = {**paired_accuracy_difference(cnn_predicted == test_labels, right),
                            "run_interval": run_bootstrap_mean((cnn_predicted == test_labels).astype(float) - right,
                                                               test_runs, derive_seed(seed, "runs", "cnn", name))}
    best = max(baselines, key=lambda n: baselines[n]["accuracy"])
    record = {
        "task": index["task"],
        "class_names": index["class_names"],
        "class_balance": {"test": np.bincount(test_labels, minlength=len(index["class_names"])).tolist()},
        "chance_majority": float(np.bincount(test_labels).max() / len(test_labels)),
        "cnn": cnn,
        "baselines": baselines,
        "best_baseline": best,
        "cnn_minus_best_baseline": comparison[best],
        "cnn_minus_baseline": comparison,
        "thermal_cues": thermal,
        "cnn_fit": cnn_fit(metrics),
        "kinetic_relaxation": index["kinetic_relaxation"],
        "features": {"names": names, "statistics": list(STATISTICS), "count": len(names)},
        **settings_record(settings or {"indicators": indicator_cfg}),
        "provenance": make_provenance({"indicators": indicator_cfg}, stage="baselines", seed=int(seed),
                                      dataset=str(dataset_h5), metrics=str(metrics_json)),
    }
    write_json(out_json, record, indent=1, default=str)
    return record
