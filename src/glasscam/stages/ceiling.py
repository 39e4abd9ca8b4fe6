"""Stage of the supervised-ceiling rule: how much of the propensity the images and the descriptors
carry at all, on held-out runs."""

from __future__ import annotations

import numpy as np

from glasscam.analysis.ceiling import (
    best_single_descriptor,
    descriptor_ridge,
    held_out_correlation,
)
from glasscam.analysis.correlations import _check_aligned, _particle_arrays, _quantities
from glasscam.core.grid import grid_points
from glasscam.core.keys import RUN_KEY
from glasscam.core.seeds import rng
from glasscam.io.gsd import read_logs, read_provenance, read_states
from glasscam.io.provenance import provenance as make_provenance
from glasscam.io.tables import write_json, write_table
from glasscam.learn.ceiling import (
    CeilingOptions,
    fit_propensity_cnn,
    predict_propensity,
    standardise_within_frame,
)
from glasscam.learn.voxelize import interpolation_stencil, voxelize_gaussian
from glasscam.stages.dataset import split_runs

CEILING_COLUMNS = ["window", "t_w", "n_test_frames", "n_particles", "predictor", "field", "pearson", "pearson_lo",
                   "pearson_hi", "spearman", "spearman_lo", "spearman_hi"]
TARGET = "propensity"


def supervised_ceiling(indicators_gsd, mobility_gsd, out_json, out_csv, model_cfg: dict, voxel_cfg: dict,
                       split: dict, ceiling_cfg: dict, seed: int, species: str = "A", n_bootstrap: int = 200) -> dict:
    """Supervised ceiling per Δt: the CNN body regressing propensity
    (:func:`glasscam.learn.ceiling.fit_propensity_cnn`), ridge on every per-particle descriptor raw
    and coarse-grained (:func:`glasscam.analysis.ceiling.descriptor_ridge`) and the best single
    descriptor (chosen on the training runs, sign kept), each trained on the training runs'
    glass samples (the CNN early-stopped on the validation runs; ridge fits train + validation)
    and scored on the test runs — the classifier's run split (:func:`split_runs` with
    ``split`` and ``seed``) — by within-frame Pearson / Spearman with the true propensity of the
    ``species`` particles, per t_w and pooled (``t_w = all``), with bootstrap intervals over frames.

    Images: the classifier's voxelization (``voxel_cfg``: spacing, width, grid_multiple); the
    network: ``model_cfg`` with the keys of ``ceiling_cfg["model"]`` over it (recorded as
    ``model``, and the output map's cells per side as ``output_cells``).
    ``ceiling_cfg``: :class:`glasscam.learn.ceiling.CeilingOptions` keys. Frames without a finite
    propensity for a Δt are not used for it. Writes ``out_json`` (rows, training histories,
    ridge penalty, runs per split, provenance) and the rows as ``out_csv``
    (:data:`CEILING_COLUMNS`); returns the record."""
    ceiling_cfg = CeilingOptions.from_config(ceiling_cfg).as_dict()  # refuse a bad setting before reading anything
    model_cfg = {**model_cfg, **(ceiling_cfg.pop("model") or {})}  # ceiling.model overrides the classifier's keys
    states, logs = read_states(indicators_gsd), read_logs(indicators_gsd)
    mobility_logs = read_logs(mobility_gsd)
    _check_aligned({"indicators": logs, "mobility": mobility_logs},
                   {"indicators": states, "mobility": read_states(mobility_gsd)})
    runs = [int(np.ravel(log[RUN_KEY])[0]) for log in logs]
    split_of_run = split_runs(runs, split, seed)
    frame_split = np.array([split_of_run[r] for r in runs])
    descriptors = [name for name, *_ in _quantities(logs, "indicator", indicators_gsd)]
    features = [np.column_stack([_particle_arrays(log)[name] for name in descriptors]) for log in logs]
    types = states[0].types
    if species not in types:
        raise ValueError(f"ceiling species {species!r} is not a particle type of {indicators_gsd} ({types})")
    masks = [s.typeid == types.index(species) for s in states]
    windows = [float(w) for w in read_provenance(mobility_gsd)["mobility"]["windows"]]
    n_cells = [grid_points(s.box_length, float(voxel_cfg["spacing"]), int(voxel_cfg["grid_multiple"])) for s in states]
    images = [voxelize_gaussian(s.positions, s.typeid, len(types), s.box_length, s.dimensions, s.box_length / n,
                                float(voxel_cfg["width"]), grid_multiple=1) for s, n in zip(states, n_cells, strict=True)]
    stride = 2 ** (len(model_cfg.get("channels", [16, 32, 64])) - 1)
    stencils = [interpolation_stencil(s.positions, s.box_length, s.dimensions, n // stride)
                for s, n in zip(states, n_cells, strict=True)]
    ages = np.array([round(s.time, 9) for s in states])
    rows, histories, ridge_info, chosen = [], {}, {}, {}
    for window in windows:
        key = f"{TARGET}_dt{window:g}"
        truths = [standardise_within_frame(_particle_arrays(log).get(key, np.full(len(m), np.nan)),
                                           m & np.isfinite(_particle_arrays(log).get(key, np.full(len(m), np.nan))))
                  for log, m in zip(mobility_logs, masks, strict=True)]
        usable = np.array([np.isfinite(t).sum() > 2 for t in truths])
        train = [k for k in np.flatnonzero(usable & (frame_split == 0))]
        validation = [k for k in np.flatnonzero(usable & (frame_split == 1))]
        test = [k for k in np.flatnonzero(usable & (frame_split == 2))]
        if not train or not test:
            histories[f"{window:g}"] = {"note": f"no {'training' if not train else 'test'} frames with a finite {key}"}
            continue
        model, history = fit_propensity_cnn(images, stencils, truths, train, validation, model_cfg, states[0].dimensions,
                                            ceiling_cfg, seed)
        histories[f"{window:g}"] = history
        cnn = predict_propensity(model, images, stencils)
        ridge, info = descriptor_ridge(features, truths, train + validation)
        ridge_info[f"{window:g}"] = {**info, "descriptors": descriptors}
        name, sign = best_single_descriptor(features, descriptors, truths, train + validation)
        chosen[f"{window:g}"] = {"descriptor": name, "sign": sign}
        single = [sign * f[:, descriptors.index(name)] for f in features]
        for t_w in ["all"] + sorted({float(a) for a in ages[test]}):
            members = test if t_w == "all" else [k for k in test if ages[k] == t_w]
            for predictor, field, predictions in (("best_descriptor", name, single), ("descriptor_ridge", "ridge", ridge),
                                                  ("supervised_cnn", "cnn", cnn)):
                generator = rng(seed, "ceiling", predictor, window, str(t_w))
                pooled = held_out_correlation(predictions, truths, members, n_bootstrap, generator)
                row = {"window": window, "t_w": t_w, "n_test_frames": pooled.get("n_samples", 0),
                       "predictor": predictor, "field": field, **pooled}
                rows.append({c: row.get(c, float("nan")) for c in CEILING_COLUMNS})
    record = {
        "target": TARGET, "species": species, "rows": rows, "cnn_history": histories, "ridge": ridge_info,
        "best_descriptor": chosen, "model": model_cfg, "output_cells": [n // stride for n in n_cells[:1]][0],
        "runs": {name: sorted(r for r, s in split_of_run.items() if s == code)
                 for code, name in enumerate(("train", "validation", "test"))},
        "provenance": make_provenance({"model": model_cfg, "voxel": voxel_cfg, "split": split, "ceiling": ceiling_cfg,
                                       "seed": seed, "species": species}, stage="supervised_ceiling",
                                      indicators=str(indicators_gsd), mobility=str(mobility_gsd)),
    }
    write_table(out_csv, rows, CEILING_COLUMNS)
    write_json(out_json, record, indent=1, default=str)
    return record
