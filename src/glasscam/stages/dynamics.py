"""Stages of the dynamics rules: aging dynamics, liquid relaxation and per-particle mobility/propensity."""

import logging
from collections import defaultdict
from pathlib import Path

import numpy as np

from glasscam.analysis.displacement import (
    REARRANGEMENT_THRESHOLD,
    cage_relative_displacement,
    propensity,
    rearranged_fraction,
    window_displacement,
)
from glasscam.analysis.mobility import _windows, mobility_names
from glasscam.analysis.relaxation import (
    DYNAMICS_COLUMNS,
    LIQUID_COLUMNS,
    TWO_TIME_COLUMNS,
    aging_dynamics,
    liquid_relaxation,
    two_time_dynamics,
)
from glasscam.analysis.scattering import first_peak_q
from glasscam.analysis.structure import rdf_first_minimum
from glasscam.core.keys import REPLICA_KEY, RUN_KEY, SOURCE_FRAME_KEY, per_particle_key
from glasscam.core.periodic import max_minimum_image_difference
from glasscam.core.schedule import WINDOW_TOLERANCE, window_end_frame
from glasscam.core.state import State
from glasscam.errors import TrajectoryError
from glasscam.io.foreign import detect_format, frame_count, read_trajectory
from glasscam.io.gsd import (
    per_frame_scalars,
    read_gsd_frame,
    read_logs,
    read_provenance,
    read_states,
    write_states,
)
from glasscam.io.tables import read_json, write_json, write_table

logger = logging.getLogger(__name__)


POSITION_MATCH_TOLERANCE = 1e-3  # σ; glass samples and aging frames are both float32 copies


def _read(path, reader: dict | None):
    return read_trajectory(path, **(reader or {})).states


def _check_frame_count(path, reader: dict | None, n: int | None = None) -> None:
    n = frame_count(path, (reader or {}).get("fmt", "auto")) if n is None else n
    if n < 2:
        raise TrajectoryError(f"{path}: {n} frame: no dynamics (MSD, Fs, Q, χ4 and τα need at least 2 frames)")


def _first_frame(path, reader: dict | None) -> State:
    reader = reader or {}
    if detect_format(path, reader.get("fmt", "auto")) == "gsd" and not reader.get("type_map") and not reader.get("species"):
        return read_gsd_frame(path, 0, require_time=False)
    return _read(path, {**reader, "require_time": False})[0]


def _run_of(path: Path, reader: dict | None, index: int):
    """The independent run a trajectory belongs to: provenance ``run`` of a glasscam GSD file
    (its replicas share it); any other file is a run of its own."""
    if detect_format(path, (reader or {}).get("fmt", "auto")) == "gsd":
        record = read_provenance(path)
        if "run" in record:
            return int(record["run"])
    return f"file{index}"


def _liquid_q(liquid_json) -> tuple[float, str]:
    """q* of the liquid relaxation record (one per system, from its lowest liquid temperature)."""
    record = read_json(liquid_json)
    entries = record.get("temperatures") or []
    if not entries:
        raise ValueError(f"{liquid_json}: no temperatures; cannot take q* from the liquid")
    coldest = min(entries, key=lambda e: e["temperature"])
    source = coldest["q_source"]  # 'first peak of S(k) at the lowest T_L = 0.8' names its T_L already
    if "T_L" not in source:
        source += f" of the liquid at T_L = {coldest['temperature']:g}"
    # one flat phrase: a figure puts it in parentheses (glasscam.report.names.q_star_text)
    return float(coldest["q"]), f"{source}, {Path(liquid_json).name}"


TAU_ALPHA_NOTE = ("not defined for an aging glass (no stationary relaxation); glasscam <= 0.1 stored here the time "
                  "after the quench at which Fs first falls to 1/e, now tau_fs_1e_from_quench; the relaxation "
                  "time at each waiting time is two_time.tau_fs_1e")


def compute_aging_dynamics(*, aging_paths, out_csv, q: float | None = None, a: float = 0.3, out_json=None, s4: dict | None = None, reader: dict | None = None,
                           ages=None, out_two_time=None, liquid_json=None, confidence: float = 0.95, n_bootstrap: int = 1000) -> None:
    """Stage: :func:`aging_dynamics` of the trajectory files ``aging_paths`` → tidy CSV (columns
    :data:`DYNAMICS_COLUMNS`, everything measured from t = 0, the end of the quench) and a JSON
    (``out_json``, default the CSV path with suffix ``.json``) holding q (σ⁻¹), q_source, a,
    S(k) of the first frames, ``tau_fs_1e_from_quench`` per species (the time after the quench
    at which Fs first falls to 1/e; not an equilibrium τα — ``tau_alpha`` is null, with
    ``tau_alpha_note`` saying why, for readers of the old key) and ``s4``: per species t*, χ4(t*), S4
    and its standard error on the shells q (q[0] = 0, S4[0] = χ4(t*)), the number of vectors per
    shell and the fit of :func:`fit_ornstein_zernike` (χ4^∞, ξ4 ± error, or NaN and a reason).

    q*: ``q`` if given, else the first peak of S(k) of the liquid at its lowest temperature from
    ``liquid_json`` (the liquid relaxation record, so liquids and aging runs of a system share
    one q*), else the first peak of S(k) of the distinct first frames.

    With ``ages`` (the waiting times t_w, τ, e.g. dataset.glass_ages) the two-time functions
    Fs, MSD, Q and χ4 (t_w + t, t_w) of :func:`two_time_dynamics` go to ``out_two_time`` (default
    the CSV path with stem ``aging_two_time``; :data:`TWO_TIME_COLUMNS`) and the JSON gains
    ``two_time`` (realised t_w, τ(t_w) = ``tau_fs_1e``, runs, intervals), ``system`` and
    ``temperature`` (T_G) from the trajectories' provenance. Runs are the provenance ``run`` of
    each file (replicas share it; :func:`_run_of`).
    ``s4`` options (:class:`glasscam.analysis.heterogeneity.S4Options`): ``q_max`` (σ⁻¹), ``max_shells``,
    ``max_vectors_per_shell`` (see :func:`s4_wavevectors`), ``fit_qxi_max``, ``min_shells``.
    Files are read by :func:`glasscam.io.foreign.read_trajectory` with keyword arguments ``reader``
    (format, type_map, dt, …), so a file that cannot be analysed correctly is refused by name.
    Cost per frame O(N), with O(N · K) for the K ≤ max_shells · max_vectors_per_shell S4 vectors,
    and O(N · ages) for the two-time functions.
    """
    paths = [Path(p) for p in aging_paths]
    if not paths:
        raise ValueError("compute_aging_dynamics: no aging trajectories given")
    for path in paths:  # before any frame is read: a one-frame file has no dynamics
        _check_frame_count(path, reader)
    q_first, k, s = first_peak_q([_first_frame(p, reader) for p in paths])
    q_source = "config"
    if q is None and liquid_json is not None:
        q, q_source = _liquid_q(liquid_json)
    if q is None:
        q, q_source = q_first, "first peak of S(k) at t = 0"
    rows, summary = aging_dynamics((_read(p, reader) for p in paths), q, a, s4)
    write_table(out_csv, rows, DYNAMICS_COLUMNS)
    record = {
        "q": summary["q"],
        "q_source": q_source,
        "q_first_peak_t0": q_first,
        "a": summary["a"],
        "tau_fs_1e_from_quench": summary["tau_fs_1e_from_quench"],
        # glasscam ≤ 0.1 stored the 1/e time after the quench here; an aging glass has no equilibrium τα
        "tau_alpha": None,
        "tau_alpha_note": TAU_ALPHA_NOTE,
        "n_trajectories": summary["n_trajectories"],
        "trajectories": [str(p) for p in paths],
        "k": k.tolist(),
        "S_k": s.tolist(),
        "s4": summary["s4"],
    }
    if ages is not None:
        run_ids = [_run_of(p, reader, i) for i, p in enumerate(paths)]
        two_rows, two_summary = two_time_dynamics(
            ((run, _read(p, reader)) for run, p in zip(run_ids, paths, strict=True)), q, a, ages, confidence, n_bootstrap
        )
        if two_summary["unresolved_ages"]:
            logger.warning("aging two-time functions: no frame within a factor 2 of t_w = %s τ", two_summary["unresolved_ages"])
        write_table(Path(out_two_time) if out_two_time is not None else Path(out_csv).with_stem("aging_two_time"), two_rows, TWO_TIME_COLUMNS)
        origin = read_provenance(paths[0]) if detect_format(paths[0], (reader or {}).get("fmt", "auto")) == "gsd" else {}
        record.update(system=origin.get("system"), temperature=origin.get("temperature"), two_time=two_summary)
    json_path = Path(out_json) if out_json is not None else Path(out_csv).with_suffix(".json")
    write_json(json_path, record, indent=2, allow_nan=True)


def compute_liquid_relaxation(*, trajectory_paths, out_json, q: float | None = None, a: float = 0.3, out_csv=None, msd_min: float = 1.0, max_origins: int = 64, reader: dict | None = None) -> None:
    """Stage: :func:`liquid_relaxation` at each temperature with one q* for all of them (``q``,
    or the first peak of S(k) at the lowest temperature; S(k) is stored there). Trajectories are grouped by
    ``read_provenance(path)["temperature"]`` and read through
    :func:`glasscam.io.foreign.read_trajectory` (keyword arguments ``reader``).

    Writes ``out_json`` ({a, msd_min, dimensions, temperatures: [{temperature, q, q_source, k, S_k,
    n_trajectories, trajectories, species: {name: {time, msd, fs, overlap, chi4, n_samples,
    tau_alpha, tau_diffusive, D, D_err, msd_exponent, fit_t_min, msd_min, reason}}}]}) and a tidy
    CSV (``out_csv``, default the JSON path with suffix ``.csv``; :data:`LIQUID_COLUMNS`).
    Cost O(origins · frames · N) per trajectory."""
    paths = [Path(p) for p in trajectory_paths]
    if not paths:
        raise ValueError("compute_liquid_relaxation: no trajectories given")
    by_temperature: dict[float, list[Path]] = defaultdict(list)
    for path in paths:
        gsd = detect_format(path, (reader or {}).get("fmt", "auto")) == "gsd"
        record = read_provenance(path, missing_ok=True) if gsd else {}
        if "temperature" not in record:
            _read(path, reader)  # the file's own refusals (times, images, …) come first
            raise TrajectoryError(
                f"{path}: no glasscam provenance record with the temperature (the file was not written by the pipeline): "
                "compute_liquid_relaxation groups the pipeline's own liquid runs by temperature; for trajectories from "
                "elsewhere call glasscam.analysis.relaxation.liquid_relaxation([glasscam.io.foreign.read_trajectory(path, "
                "...).states]) per state point (docs/howto/own-trajectories.md)"
            )
        by_temperature[float(record["temperature"])].append(path)
    temperatures, rows = [], []
    dimensions = None
    for temperature, group in sorted(by_temperature.items()):
        trajectories = [_read(p, reader) for p in group]
        for path, states in zip(group, trajectories, strict=True):
            _check_frame_count(path, reader, len(states))
        result = liquid_relaxation(trajectories, q, a, msd_min, max_origins)
        if q is None:  # one q* per system: the first peak of S(k) at the lowest liquid temperature
            q, result["q_source"] = result["q"], f"first peak of S(k) at the lowest T_L = {temperature:g}"
        elif temperatures and temperatures[0]["q_source"] != "config":
            result["q_source"] = temperatures[0]["q_source"]
        dimensions = result.pop("dimensions")
        for species, series in result["species"].items():
            for i, lag in enumerate(series["time"]):
                rows.append(
                    {"temperature": temperature, "species": species, "time": lag, **{c: series[c][i] for c in ("msd", "fs", "overlap", "chi4", "n_samples")}}
                )
        temperatures.append(
            {
                "temperature": temperature,
                "q": result["q"],
                "q_source": result["q_source"],
                "k": result["k"],
                "S_k": result["S_k"],
                "n_trajectories": len(group),
                "trajectories": [str(p) for p in group],
                "species": result["species"],
            }
        )
    record = {"a": float(a), "msd_min": float(msd_min), "dimensions": dimensions, "temperatures": temperatures}
    write_json(out_json, record, indent=2, allow_nan=True)
    write_table(Path(out_csv) if out_csv is not None else Path(out_json).with_suffix(".csv"), rows, LIQUID_COLUMNS)


def _int_log(log: dict, key: str, path, frame: int) -> int:
    if key not in log:
        raise ValueError(f"{path}: frame {frame} lacks log {key}")
    return int(np.asarray(log[key]).ravel()[0])


def compute_mobility(*, glass_samples_gsd, aging_paths, out_gsd, dynamics_cfg: dict, provenance: dict,
                     propensity_paths=()) -> None:
    """Per-particle mobility, cage-relative displacement and propensity of every glass sample.

    Each frame of ``glass_samples_gsd`` names its aging trajectory (``glasscam/run``,
    ``glasscam/replica``) and frame there (``glasscam/source_frame``, time t_w). For each
    Δt in ``dynamics_cfg['windows']`` the window ends at the later frame nearest t_w + Δt, if
    that frame realises Δt within ``dynamics_cfg['window_tolerance']`` · Δt (default
    :data:`WINDOW_TOLERANCE`); NaN if t_w + Δt lies beyond the run or no frame is that close (the
    realised Δt, or NaN, is logged as ``glasscam/window_dt<Δt:g>``; the log lists every
    unresolved (t_w, Δt)).

    Propensity ⟨|Δr_i|⟩ over iso-configurational replicas (Widmer-Cooper et al., PRL 93, 135701
    (2004)): at t_w = 0 over all aging replicas of the run in ``aging_paths``; at t_w > 0 over
    the replicas in ``propensity_paths`` launched from this sample's frame (provenance
    ``stage: propensity``, ``run``, ``source_frame``; :func:`glasscam.stages.simulate.propensity_replicas`);
    NaN where no replicas exist (``glasscam/n_iso_replicas`` = 0). Also logged per window: the
    fraction of A particles (first species) with |Δr| > 0.5 σ in this trajectory
    (``glasscam/rearranged_A_dt<Δt:g>``) and averaged over the replicas
    (``glasscam/rearranged_A_replicas_dt<Δt:g>``).
    ``dynamics_cfg['cage_radius']``: σ or ``auto`` (default; first minimum of g(r) of the
    glass samples).
    """
    windows = _windows(dynamics_cfg)
    tolerance = float(dynamics_cfg.get("window_tolerance", WINDOW_TOLERANCE))
    if not 0 < tolerance < 1:
        raise ValueError(f"dynamics.window_tolerance = {tolerance}; expected 0 < tolerance < 1 (relative to Δt)")
    states = read_states(glass_samples_gsd)
    logs = read_logs(glass_samples_gsd)
    cage_radius = dynamics_cfg.get("cage_radius", "auto")
    cage_radius = rdf_first_minimum(states) if cage_radius == "auto" else float(cage_radius)
    trajectories: dict[tuple[int, int], Path] = {}
    for path in map(Path, aging_paths):
        record = read_provenance(path)
        if "run" not in record or "replica" not in record:
            raise TrajectoryError(f"{path}: provenance lacks 'run' or 'replica'")
        key = (int(record["run"]), int(record["replica"]))
        if key in trajectories:
            raise ValueError(f"{path} and {trajectories[key]} are both run {key[0]} replica {key[1]}")
        trajectories[key] = path
    launched: dict[tuple[int, int], list[Path]] = {}  # (run, source frame) → replica trajectories
    for path in map(Path, propensity_paths):
        record = read_provenance(path)
        missing = [k for k in ("run", "replica", "source_frame") if k not in record]
        if missing or record.get("stage") != "propensity":
            raise TrajectoryError(f"{path}: not a propensity replica (stage {record.get('stage')!r}, lacks {missing})")
        launched.setdefault((int(record["run"]), int(record["source_frame"])), []).append(path)
    cache: dict[Path, list[State]] = {}

    def load(path: Path) -> list[State]:
        if path not in cache:
            cache[path] = read_states(path)
        return cache[path]

    propensity_cache: dict[tuple, tuple[np.ndarray, int, float]] = {}

    def replica_propensity(key: tuple, replicas: list[Path], start: State, dt: float, a_mask: np.ndarray):
        if key not in propensity_cache:
            disps = []
            for path in replicas:
                traj = load(path)
                if max_minimum_image_difference(traj[0].positions, start.positions, start.box_length, start.dimensions) > POSITION_MATCH_TOLERANCE:
                    raise ValueError(f"{path}: frame 0 differs from the glass sample it should start from; "
                                     "iso-configurational replicas must start from identical positions")
                end = window_end_frame(np.array([s.time for s in traj]), 0, dt, tolerance)
                if end is None:
                    disps = None
                    break
                disps.append(window_displacement(traj[0], traj[end]))
            n = len(start.positions)
            if disps:
                fraction = float(np.mean([rearranged_fraction(np.linalg.norm(d, axis=1), a_mask) for d in disps]))
                propensity_cache[key] = (propensity(disps), len(replicas), fraction)
            else:
                propensity_cache[key] = (np.full(n, np.nan), len(replicas), float("nan"))
        return propensity_cache[key]

    out_logs, unresolved = [], set()
    for k, (state, log) in enumerate(zip(states, logs, strict=True)):
        run = _int_log(log, RUN_KEY, glass_samples_gsd, k)
        replica = _int_log(log, REPLICA_KEY, glass_samples_gsd, k)
        source = _int_log(log, SOURCE_FRAME_KEY, glass_samples_gsd, k)
        if (run, replica) not in trajectories:
            raise ValueError(f"{glass_samples_gsd}: frame {k} comes from run {run} replica {replica}, not among the aging trajectories given")
        path = trajectories[(run, replica)]
        traj = load(path)
        if not 0 <= source < len(traj):
            raise ValueError(f"{glass_samples_gsd}: frame {k} has glasscam/source_frame {source}, but {path} has {len(traj)} frames")
        start = traj[source]
        if len(start.positions) != len(state.positions) or max_minimum_image_difference(
            start.positions, state.positions, state.box_length, state.dimensions
        ) > POSITION_MATCH_TOLERANCE:
            raise ValueError(f"{glass_samples_gsd}: frame {k} does not match frame {source} of {path}")
        times = np.array([s.time for s in traj])
        n = len(state.positions)
        a_mask = state.typeid == 0
        if times[source] == 0.0:
            replicas = [trajectories[key] for key in sorted(trajectories) if key[0] == run]
        elif replica == 0:
            replicas = sorted(launched.get((run, source), []))
        else:
            replicas = []
        out_log = per_frame_scalars(log)
        for dt in windows:
            end = window_end_frame(times, source, dt, tolerance)
            if end is None:
                unresolved.add((float(times[source]), dt))
                mobility = cage = np.full(n, np.nan)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([np.nan])
            else:
                disp = window_displacement(start, traj[end])
                mobility = np.linalg.norm(disp, axis=1)
                cage = np.linalg.norm(cage_relative_displacement(disp, start, cage_radius), axis=1)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([times[end] - times[source]])
            out_log[f"glasscam/rearranged_A_dt{dt:g}"] = np.array([rearranged_fraction(mobility, a_mask)])
            if replicas:
                prop, n_replicas, fraction = replica_propensity((run, source, dt), replicas, start, dt, a_mask)
            else:
                prop, n_replicas, fraction = np.full(n, np.nan), 0, float("nan")
            out_log["glasscam/n_iso_replicas"] = np.array([n_replicas], dtype=np.int32)
            out_log[f"glasscam/rearranged_A_replicas_dt{dt:g}"] = np.array([fraction])
            out_log[per_particle_key(f"mobility_dt{dt:g}")] = mobility.astype(np.float32)
            out_log[per_particle_key(f"cage_relative_dt{dt:g}")] = cage.astype(np.float32)
            out_log[per_particle_key(f"propensity_dt{dt:g}")] = prop.astype(np.float32)
        out_logs.append(out_log)
    if unresolved:
        logger.warning("mobility: no frame realises these windows within ±%g %% of Δt; their mobility is NaN: %s",
                    100 * tolerance, ", ".join(f"t_w = {t:.4g} τ, Δt = {dt:g} τ" for t, dt in sorted(unresolved)))
    record = {
        **provenance,
        "mobility": {
            "names": mobility_names(dynamics_cfg),
            "windows": windows,
            "window_tolerance": tolerance,
            "unresolved_windows": [{"t_w": t, "dt": dt} for t, dt in sorted(unresolved)],
            "cage_radius": cage_radius,
            "rearrangement_threshold": REARRANGEMENT_THRESHOLD,
            "config": dynamics_cfg,
            "input": str(glass_samples_gsd),
            "aging_trajectories": [str(trajectories[key]) for key in sorted(trajectories)],
            "propensity_trajectories": [str(p) for key in sorted(launched) for p in sorted(launched[key])],
        },
    }
    write_states(out_gsd, states, record, out_logs)
