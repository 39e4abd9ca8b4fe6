"""External datasets: configurations from elsewhere through the whole analysis.

An external dataset is a config entry ``external.<name>`` (see :data:`EXTERNAL_KEYS`; the
Snakemake rules in ``workflow/rules/external.smk`` and the command line ``glasscam analyse``
both end in :func:`analyse_external`). For every configuration of its files:

* p(class) of a trained classifier of the matching system and per-particle Grad-CAM
  (``gradcam_<class>``, ``gradcam_signed_<class>``), from
  :func:`glasscam.learn.gradcam.particle_gradcam`, which voxelizes with the grid recorded in the model
  checkpoint (the effective spacing L/n the training dataset used, the width, truncation and grid
  multiple) — the fully convolutional network takes any box size;
* every structural indicator (:func:`glasscam.analysis.structure.indicators_for_states`);
* the per-particle potential energy U_i under the configured system's Hamiltonian
  (:func:`potential_energies`: the NumPy reference of :mod:`glasscam.core.hamiltonian` for small N,
  else an MD engine's ``evaluate``);
* the propensity ⟨|Δr_i|⟩ over iso-configurational replicas where the file holds their end
  points (npz layout; :func:`glasscam.analysis.displacement.replica_propensity`);
* within-frame correlations of every per-particle field with the propensity, per species, with
  bootstrap intervals and a shuffled null (:class:`glasscam.analysis.correlations.FrameCorrelations`).

Outputs: a GSD (every frame with its per-particle arrays as ``particles/glasscam/<name>``, for
OVITO; per-frame ``glasscam/p_<class>``, ``glasscam/source_file``, ``glasscam/source_frame``), a
correlation CSV (:data:`glasscam.analysis.correlations.CORRELATION_COLUMNS`, ``kind`` gradcam / indicator /
energy, ``window`` NaN, ``t_w`` all), the sanity nulls of the Grad-CAM correlations (random-weight
re-initialisations of the model, and permuted-label models where the training dataset is
available; :func:`external_sanity_nulls`), a JSON summary and a figure (:func:`plot_external`).
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import re
from pathlib import Path

import numpy as np
import torch

from glasscam.analysis.correlations import (
    CORRELATION_COLUMNS,
    CorrelationOptions,
    FrameCorrelations,
)
from glasscam.analysis.displacement import replica_propensity
from glasscam.analysis.sanity import sanity_columns, sanity_table
from glasscam.analysis.structure import indicators_for_states
from glasscam.core.hamiltonian import evaluate_pairs
from glasscam.core.keys import SOURCE_FRAME_KEY, per_particle_key
from glasscam.core.seeds import derive_seed, rng
from glasscam.core.state import State
from glasscam.core.systems import System, system_from_config
from glasscam.errors import ReaderError
from glasscam.io.checks import UNWRAP_MODES, check_against_system
from glasscam.io.foreign import FORMATS, detect_format, read_npz, read_trajectory
from glasscam.io.gsd import write_states
from glasscam.io.provenance import provenance
from glasscam.io.tables import write_json, write_table
from glasscam.learn import gradcam
from glasscam.learn.model import build_model
from glasscam.md.engines import create_engine
from glasscam.stages.models import load_checkpoint

logger = logging.getLogger(__name__)

EXTERNAL_KEYS = {
    "paths": "glob pattern or list of patterns (relative to the working directory)",
    "format": f"auto (from the suffix) or one of {FORMATS}",
    "system": "name of the entry of `systems` whose Hamiltonian applies and whose classifier is used",
    "type_map": "file type label → species of the system, e.g. {'1': A, '2': B}",
    "dt": "time step (τ) to turn step numbers into times (GSD without time log, LAMMPS dumps)",
    "unwrap": f"{UNWRAP_MODES}: independent (default) = the frames are unrelated configurations",
    "box_length": "σ; the npz layout stores no box (default: (N/ρ)^(1/d) with the system's density ρ)",
    "model": "checkpoint path (default: the system's classifier trained on `model_inputs`)",
    "model_inputs": "thermal (default) or inherent: which of the system's classifiers",
    "task": "classification task of the default classifier (default: the first of dataset.tasks)",
    "energy": "numpy | auto | lammps | hoomd: how U_i is evaluated (default auto)",
    "propensity_drift_removed": "subtract each replica's centre-of-mass displacement (default true)",
}
NUMPY_ENERGY_MAX_N = 2048  # the O(N²) reference above this size is slow and memory-hungry
PROPENSITY = "propensity"
_CG = re.compile(r"^(?P<base>.+)_cg(?P<value>[0-9.eE+-]+)$")


def check_entry(name: str, entry: dict, systems: dict) -> dict:
    """The entry with defaults filled in; unknown keys, a missing ``paths``/``system`` or a system
    not in ``systems`` raise ``ValueError`` naming ``external.<name>.<key>``."""
    where = f"external.{name}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping, got {entry!r}")
    unknown = set(entry) - set(EXTERNAL_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; expected a subset of {sorted(EXTERNAL_KEYS)}")
    for key in ("paths", "system"):
        if key not in entry:
            raise ValueError(f"{where}.{key} is required ({EXTERNAL_KEYS[key]})")
    if entry["system"] not in systems:
        raise ValueError(f"{where}.system = {entry['system']!r}; not among the configured systems {sorted(systems)}")
    out = {
        "format": "auto",
        "type_map": {},
        "dt": None,
        "unwrap": "independent",
        "box_length": None,
        "model": None,
        "model_inputs": "thermal",
        "task": None,
        "energy": "auto",
        "propensity_drift_removed": True,
        **entry,
    }
    if out["format"] != "auto" and out["format"] not in FORMATS:
        raise ValueError(f"{where}.format = {out['format']!r}; expected auto or one of {FORMATS}")
    if out["unwrap"] not in UNWRAP_MODES:
        raise ValueError(f"{where}.unwrap = {out['unwrap']!r}; expected one of {UNWRAP_MODES}")
    if out["energy"] not in ("numpy", "auto", "lammps", "hoomd"):
        raise ValueError(f"{where}.energy = {out['energy']!r}; expected numpy, auto, lammps or hoomd")
    return out


def resolve_paths(patterns) -> list[Path]:
    """Sorted files matching the glob ``patterns`` (a string or list); a pattern matching no file
    raises ``FileNotFoundError`` naming it."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    out: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(str(pattern)))
        if not matches:
            raise FileNotFoundError(f"{pattern}: no file matches")
        out.extend(Path(m) for m in matches)
    return list(dict.fromkeys(out))


def load_configurations(paths, entry: dict, system: System, require_time: bool = False) -> tuple[list[State], list[tuple[str, int]], list[np.ndarray | None]]:
    """Every configuration of ``paths`` as checked states in the system's species order, with
    (file, frame) of each and the replica end points (R, N, d) where the file has them.
    Refusals (:class:`glasscam.errors.ReaderError`) name the file and frame: a dimension
    different from the system's, and every configuration that contradicts the system
    (:func:`glasscam.io.checks.check_against_system`: a box no larger than twice the pair cutoff;
    a box inferred from the configured density that the configuration contradicts).
    ``require_time``: frames of a multi-frame file must have known, increasing
    times (the trajectory reading of `glasscam check`)."""
    states, sources, ends, inferred = [], [], [], []
    for path in map(Path, paths):
        fmt = detect_format(path, entry.get("format", "auto"))
        if fmt == "npz":
            replicas = read_npz(
                path,
                entry.get("box_length"),
                system.dimensions,
                entry.get("type_map"),
                system.types,
                system.masses,
                density=system.density,
            )
            for k, state in enumerate(replicas.states):
                states.append(state)
                sources.append((str(path), k))
                ends.append(None if replicas.replica_ends is None else replicas.replica_ends[k])
                inferred.append(replicas.box_inferred)
            continue
        traj = read_trajectory(
            path,
            fmt,
            type_map=entry.get("type_map"),
            species=system.types,
            dt=entry.get("dt"),
            dimensions=system.dimensions,
            unwrap=entry.get("unwrap", "independent"),
            require_time=require_time,
            masses=system.masses,
        )
        for k, state in enumerate(traj.states):
            states.append(state)
            sources.append((str(path), k))
            ends.append(None)
            inferred.append(False)
    for state, (path, k), box_inferred in zip(states, sources, inferred, strict=True):
        if state.dimensions != system.dimensions:
            raise ReaderError(f"{path}: frame {k}: dimensions {state.dimensions}, but system {system.name} is {system.dimensions}D")
        check_against_system(path, k, state, system, box_inferred)
    return states, sources, ends


def system_for_state(system: System, state: State) -> System:
    """``system``'s Hamiltonian with the composition and density of ``state`` (its own N and L)."""
    counts = np.bincount(state.typeid, minlength=len(system.types))
    composition = {t: int(c) for t, c in zip(system.types, counts, strict=True)}
    density = len(state.positions) / state.box_length**state.dimensions
    return dataclasses.replace(system, composition=composition, density=float(density))


def potential_energies(states: list[State], system: System, engine: str = "auto", threads: int = 1) -> list[np.ndarray]:
    """Per-particle potential energy U_i (ε) of every state under ``system``'s pair
    Hamiltonian. ``numpy``: the O(N²) reference :func:`glasscam.core.hamiltonian.evaluate_pairs`;
    ``lammps``/``hoomd``: that engine's ``evaluate``; ``auto``: NumPy up to
    :data:`NUMPY_ENERGY_MAX_N` particles, else the engine ``auto`` resolves to. A box no larger
    than twice the largest cutoff is refused (minimum image)."""

    out = []
    for k, state in enumerate(states):
        local = system_for_state(system, state)
        if state.box_length <= 2 * system.max_cutoff():
            raise ValueError(f"configuration {k}: box length {state.box_length:g} ≤ twice the largest cutoff {system.max_cutoff():g}")
        kind = engine if engine != "auto" else ("numpy" if len(state.positions) <= NUMPY_ENERGY_MAX_N else "auto")
        if kind == "numpy":
            out.append(evaluate_pairs(local, state.positions, state.typeid).energies)
            continue

        with create_engine(kind, local, threads) as md:
            md.load(state)
            out.append(np.asarray(md.evaluate().energies, dtype=np.float64))
    return out


def correlate_with_propensity(
    fields: list[dict[str, np.ndarray]], propensity: list[np.ndarray], states: list[State],
    n_bootstrap: int = CorrelationOptions.n_bootstrap, n_null: int = CorrelationOptions.n_null, seed: int = 0
) -> list[dict]:
    """Within-frame Pearson and Spearman coefficients of every per-particle field with the
    propensity, pooled over the frames that have a propensity (n-weighted; bootstrap over frames;
    null: field ranks shuffled within frames), per species (all and each type). Rows with the
    columns :data:`glasscam.analysis.correlations.CORRELATION_COLUMNS`: ``field`` the per-particle array
    correlated with the propensity, ``quantity``/``coarse_graining`` its base name and radius,
    ``kind`` gradcam / indicator / energy, ``n_zero_maps`` the frames where it is identically 0."""
    have = [k for k, p in enumerate(propensity) if p is not None and np.isfinite(p).any()]
    if not have:
        return []
    types = states[have[0]].types
    names = sorted(fields[have[0]])
    rows = []
    for name in names:
        match = _CG.match(name)
        base, cg = (match["base"], float(match["value"])) if match else (name, 0.0)
        kind = "gradcam" if base.startswith("gradcam") else "energy" if base == "potential_energy" else "indicator"
        for species in ["all", *types]:
            xs, ys = [], []
            for k in have:
                x, y = np.asarray(fields[k][name], float), np.asarray(propensity[k], float)
                mask = np.ones(len(x), bool) if species == "all" else states[k].typeid == types.index(species)
                ok = mask & np.isfinite(x) & np.isfinite(y)
                xs.append(x[ok])
                ys.append(y[ok])
            generator = rng(seed, "external", name, species)
            frames = FrameCorrelations.compute(xs, ys, n_null, generator)
            zero = sum(bool(np.all(np.asarray(fields[k][name]) == 0)) for k in have)
            row = {"field": name, "quantity": base, "kind": kind, "coarse_graining": cg, "window": float("nan"), "species": species, "t_w": "all",
                   "n_zero_maps": zero}
            row.update(frames.pooled(np.arange(len(have)), n_bootstrap, generator))
            rows.append({c: row.get(c, float("nan")) for c in CORRELATION_COLUMNS})
    return rows


def _check_model(model_path, system: System) -> tuple:
    model, checkpoint = load_checkpoint(model_path, "cpu")
    if int(checkpoint["dimensions"]) != system.dimensions:
        raise ValueError(f"{model_path}: a {checkpoint['dimensions']}D model, but system {system.name} is {system.dimensions}D")
    if int(checkpoint["in_channels"]) != len(system.types):
        raise ValueError(
            f"{model_path}: the model reads {checkpoint['in_channels']} species channels, system {system.name} has {len(system.types)} species"
        )
    return model, checkpoint


def analyse_external(
    *,
    name: str,
    entry: dict,
    system_spec: dict,
    model_path,
    out_gsd,
    out_csv,
    out_json,
    indicator_cfg: dict,
    correlation_cfg: dict | None = None,
    gradcam_cfg: dict | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int = 1,
    paths=None,
    out_sanity_csv=None,
    control_seeds: int = 0,
    shuffled_label_models: list | None = None,
) -> dict:
    """Stage: the whole analysis of the external dataset ``name`` (module docstring).

    ``entry``: the config entry (checked by :func:`check_entry` against ``{system: system_spec}``);
    ``system_spec``: the ``systems.<system>`` config entry; ``model_path``: the classifier
    checkpoint; ``paths``: the files (default: ``entry['paths']`` globbed); ``correlation_cfg``: the
    config ``correlations`` mapping (:class:`glasscam.analysis.correlations.CorrelationOptions`;
    n_bootstrap and n_null are read, the mapping is recorded as given). Every file is read
    and checked before any expensive step. Returns the JSON summary.

    Sanity nulls (:mod:`glasscam.analysis.sanity`), written to ``out_sanity_csv`` when given and
    the files carry a propensity: ``control_seeds`` re-initialisations of the model's architecture
    (``random_weights``, no training data needed) and the permuted-label models
    ``shuffled_label_models`` (checkpoints of :func:`glasscam.stages.train.train_control` on the
    model's training dataset; without them the summary says that control was not run), each
    explained and correlated with the propensity like the model."""
    system_name = entry["system"]
    entry = check_entry(name, entry, {system_name: system_spec})
    options = CorrelationOptions.from_config(correlation_cfg)  # refuse a bad setting before reading any file
    system = system_from_config(system_name, system_spec)
    files = resolve_paths(entry["paths"]) if paths is None else [Path(p) for p in paths]
    states, sources, ends = load_configurations(files, entry, system)
    for radius in indicator_cfg.get("coarse_graining_radii", []):
        small = min(range(len(states)), key=lambda k: states[k].box_length)
        if not 0 < float(radius) < states[small].box_length / 2:
            path, frame = sources[small]
            raise ValueError(
                f"indicators.coarse_graining_radii: {radius} must lie in (0, L/2); {path}: frame {frame} has "
                f"L/2 = {states[small].box_length / 2:.3f}"
            )
    model, checkpoint = _check_model(model_path, system)
    class_names = list(checkpoint["class_names"])

    if not hasattr(gradcam, "particle_gradcam"):
        raise RuntimeError("glasscam.learn.gradcam.particle_gradcam is missing: this glasscam predates per-configuration Grad-CAM")
    maps, probability = gradcam.particle_gradcam(model, checkpoint, states, gradcam_cfg, device=device, source=str(model_path))
    energies = potential_energies(states, system, entry["energy"], threads)
    indicators = [dict(a) for a in _indicators(states, energies, indicator_cfg)]
    propensity = [
        None if e is None else replica_propensity(s, e, bool(entry["propensity_drift_removed"])) for s, e in zip(states, ends, strict=True)
    ]
    if all(p is None for p in propensity):
        logger.warning("no iso-configurational replica end points in these files (only the npz layout carries them, "
                    "'positions'): no propensity, so correlations.csv holds only its header; p(class), Grad-CAM and "
                    "the indicators are written")
    fields = [{**{k: np.asarray(v, float) for k, v in m.items()}, **ind} for m, ind in zip(maps, indicators, strict=True)]
    correlation_cfg = correlation_cfg or {}
    rows = correlate_with_propensity(fields, propensity, states, int(options.n_bootstrap), int(options.n_null), seed)
    sanity = external_sanity_nulls(model, checkpoint, states, propensity, rows, gradcam_cfg, options, seed,
                                   device, control_seeds, shuffled_label_models or [], out_sanity_csv)
    file_index = {f: i for i, f in enumerate(dict.fromkeys(p for p, _ in sources))}
    logs = []
    for k, (state, (path, frame)) in enumerate(zip(states, sources, strict=True)):
        log = {per_particle_key(key): np.asarray(values, dtype=np.float32) for key, values in fields[k].items()}
        if propensity[k] is not None:
            log[per_particle_key(PROPENSITY)] = propensity[k].astype(np.float32)
            log["glasscam/n_iso_replicas"] = np.array([len(ends[k])], dtype=np.int32)
        for c, cls in enumerate(class_names):
            log[f"glasscam/p_{cls}"] = np.array([float(probability[k, c])])
        log["glasscam/source_file"] = np.array([file_index[path]], dtype=np.int32)
        log[SOURCE_FRAME_KEY] = np.array([frame], dtype=np.int32)
        logs.append(log)

    record = provenance(
        {"external": entry, "indicators": indicator_cfg, "correlations": correlation_cfg, "gradcam": gradcam_cfg or {}},
        stage="external",
        name=name,
        system=system_name,
        model=str(model_path),
        files=list(file_index),
        model_grid=checkpoint.get("grid"),
    )
    write_states(out_gsd, states, record, logs)
    write_table(out_csv, rows, CORRELATION_COLUMNS)
    summary = {
        "name": name,
        "system": system_name,
        "model": str(model_path),
        "model_grid": checkpoint.get("grid"),
        "class_names": class_names,
        "n_configurations": len(states),
        "files": list(file_index),
        "configurations": [
            {
                "file": path,
                "frame": frame,
                "n_particles": len(s.positions),
                "box_length": s.box_length,
                **{f"p_{cls}": float(probability[k, c]) for c, cls in enumerate(class_names)},
                "potential_energy_per_particle": float(np.mean(energies[k])),
                "n_iso_replicas": 0 if ends[k] is None else int(len(ends[k])),
            }
            for k, (s, (path, frame)) in enumerate(zip(states, sources, strict=True))
        ],
        "fields": sorted(fields[0]),
        "has_propensity": any(p is not None for p in propensity),
        "sanity_nulls": sanity,
        "provenance": record,
    }
    write_json(out_json, summary, indent=2, default=str, allow_nan=True)
    return summary


def random_weight_model(checkpoint: dict, seed: int):
    """The architecture of ``checkpoint`` with freshly initialised weights (seeded), eval mode —
    the model-randomization control; the checkpoint record with those weights for Grad-CAM."""
    torch.manual_seed(int(seed))
    model = build_model(checkpoint["model_cfg"], int(checkpoint["dimensions"]), int(checkpoint["in_channels"]),
                        int(checkpoint["n_classes"])).eval()
    return model, {**checkpoint, "state_dict": model.state_dict()}


def external_sanity_nulls(model, checkpoint, states, propensity, model_rows, gradcam_cfg, correlation_cfg, seed, device,
                          control_seeds: int, shuffled_label_models: list, out_csv) -> dict:
    """Sanity nulls of the external dataset's attribution correlations (see
    :func:`analyse_external`); returns a summary for the JSON (what ran, counts learned, or why
    not)."""
    if out_csv is None:
        return {"ran": False, "reason": "no sanity-null output requested"}
    if not any(p is not None for p in propensity):
        write_table(out_csv, [], sanity_columns([]))
        return {"ran": False, "reason": "no propensity in these files: nothing to correlate"}
    options = CorrelationOptions.from_config(correlation_cfg)
    n_bootstrap, n_null = int(options.n_bootstrap), int(options.n_null)
    attribution_rows = [r for r in model_rows if r["kind"] == "gradcam"]

    def control_rows(control_model, control_checkpoint, source) -> list[dict]:
        maps, _ = gradcam.particle_gradcam(control_model, control_checkpoint, states, gradcam_cfg, device=device,
                                           source=source)
        fields = [{k: np.asarray(v, float) for k, v in m.items()} for m in maps]
        return correlate_with_propensity(fields, propensity, states, n_bootstrap, n_null, seed)

    controls = {}
    if control_seeds > 0:
        controls["random_weights"] = [
            control_rows(*random_weight_model(checkpoint, derive_seed(seed, "external", "random_weights", k)),
                         f"random weights #{k}")
            for k in range(int(control_seeds))
        ]
    for path in shuffled_label_models:
        control_model, control_checkpoint = load_checkpoint(path, "cpu")
        controls.setdefault("shuffled_labels", []).append(control_rows(control_model, control_checkpoint, str(path)))
    if not controls:
        write_table(out_csv, [], sanity_columns([]))
        return {"ran": False, "reason": "controls.seeds = 0 and no permuted-label models"}
    table = sanity_table(attribution_rows, controls)
    write_table(out_csv, table, sanity_columns(list(controls)))
    summary = {"ran": True, "controls": {c: len(v) for c, v in controls.items()},
               "rows": len(table), "beyond_null": sum(r["beyond_null"] for r in table),
               "learned": sum(r["learned"] for r in table)}
    if "shuffled_labels" not in controls:
        summary["shuffled_labels"] = ("not run: the model's training dataset is not available here (a permuted-label "
                                      "control needs it); 'learned' means beyond the random-weight control only")
    return summary


def _indicators(states, energies, indicator_cfg):
    return indicators_for_states(states, energies, indicator_cfg)


