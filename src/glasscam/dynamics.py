"""Particle and collective dynamics of aging trajectories (time in τ, lengths in σ_AA).

Displacement of particle i between frames 0 and k, centre-of-mass drift removed:

    Δr_i(t_k) = [r_i(t_k) − r_i(t_0)] − [R(t_k) − R(t_0)],   R = Σ_j m_j r_j / Σ_j m_j

(unwrapped coordinates r = position + image · L). From the displacements of N particles:

    MSD(t)  = (1/N) Σ_i |Δr_i(t)|²
    Fs(q,t) = (1/N) Σ_i ⟨exp(i q·Δr_i)⟩_q̂ = (1/N) Σ_i sin(q|Δr_i|)/(q|Δr_i|)   (3D)
                                         = (1/N) Σ_i J0(q|Δr_i|)              (2D)
    Q(t; a) = (1/N) Σ_i Θ(a − |Δr_i(t)|)
    χ4(t)   = N [⟨Q²⟩ − ⟨Q⟩²]        (⟨·⟩ over trajectories: runs and replicas)

Per particle, over the window [t_w, t_w + Δt]:

* mobility |Δr_i|;
* cage-relative displacement |Δr_i − (1/n_i) Σ_{j ∈ shell(i)} Δr_j|, shell(i) = particles within
  ``cage_radius`` of i at t_w (excluding i);
* propensity ⟨|Δr_i(Δt)|⟩_iso, the mean over the iso-configurational replicas of one run
  (t_w = 0, identical positions, independent Maxwell–Boltzmann velocities).

q* is the position of the main (first) peak of S(k) = (1/N) |Σ_j exp(ik·r_j)|², averaged over
the box's reciprocal-lattice vectors in |k| bins (freud's Direct method in 3D, NumPy in 2D);
τα solves Fs(q*, τα) = 1/e by linear interpolation in ln t.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import freud
import numpy as np
from scipy.special import j0

from .indicators import freud_system, per_frame_scalars, rdf_first_minimum
from .trajectory import (
    State,
    TrajectoryError,
    atomic_output,
    per_particle_key,
    read_logs,
    read_provenance,
    read_state,
    read_states,
    write_states,
)

DYNAMICS_COLUMNS = ["species", "time", "msd", "fs", "overlap", "chi4", "n_trajectories"]
MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")
POSITION_MATCH_TOLERANCE = 1e-3  # σ_AA; glass samples and aging frames are both float32 copies


def displacements(states: list[State], drift_removed: bool = True) -> np.ndarray:
    """Δr_i(t_k) relative to ``states[0]``, shape (T, N, d), σ_AA; with ``drift_removed`` the
    mass-weighted centre-of-mass displacement R(t_k) − R(t_0) is subtracted."""
    if not states:
        raise ValueError("displacements: no states given")
    n, d = len(states[0].positions), states[0].dimensions
    if any(len(s.positions) != n for s in states):
        raise ValueError("displacements: states have different particle numbers")
    unwrapped = np.stack([s.unwrapped[:, :d] for s in states])
    delta = unwrapped - unwrapped[0]
    if drift_removed:
        m = states[0].masses / states[0].masses.sum()
        delta -= np.einsum("i,tid->td", m, delta)[:, None, :]
    return delta


def window_displacement(start: State, end: State, drift_removed: bool = True) -> np.ndarray:
    """Δr_i over [start.time, end.time], shape (N, d)."""
    return displacements([start, end], drift_removed)[-1]


def cage_relative_displacement(displacement: np.ndarray, reference: State, cage_radius: float) -> np.ndarray:
    """Δr_i − mean of Δr_j over the neighbours j of i within ``cage_radius`` at the window's
    start ``reference`` (self excluded), shape (N, d); NaN rows for particles without neighbours."""
    box, points = freud_system(reference)
    nlist = (
        freud.locality.AABBQuery(box, points)
        .query(points, {"r_max": float(cage_radius), "exclude_ii": True})
        .toNeighborList()
    )
    n, d = displacement.shape
    counts = np.bincount(nlist.query_point_indices, minlength=n).astype(np.float64)
    cage = np.stack(
        [np.bincount(nlist.query_point_indices, weights=displacement[nlist.point_indices, k], minlength=n) for k in range(d)],
        axis=1,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return displacement - cage / counts[:, None]


def propensity(replica_displacements) -> np.ndarray:
    """⟨|Δr_i|⟩ over iso-configurational replicas; input shape (R, N, d), output (N,)."""
    disp = np.asarray(replica_displacements, dtype=np.float64)
    if disp.ndim != 3:
        raise ValueError(f"propensity expects (replicas, N, d) displacements, got shape {disp.shape}")
    return np.linalg.norm(disp, axis=-1).mean(axis=0)


def mean_squared_displacement(disp: np.ndarray) -> np.ndarray:
    """MSD = (1/N) Σ_i |Δr_i|² over the particle axis (−2) of displacements (..., N, d), σ_AA²."""
    return np.sum(disp**2, axis=-1).mean(axis=-1)


def self_intermediate_scattering(disp: np.ndarray, q: float) -> np.ndarray:
    """Fs(q) = (1/N) Σ_i sin(q|Δr_i|)/(q|Δr_i|) for d = 3, (1/N) Σ_i J0(q|Δr_i|) for d = 2
    (isotropic average of exp(iq·Δr)); d is the last axis of ``disp``."""
    r = np.linalg.norm(disp, axis=-1)
    d = disp.shape[-1]
    if d == 3:
        values = np.sinc(q * r / np.pi)  # np.sinc(x) = sin(πx)/(πx)
    elif d == 2:
        values = j0(q * r)
    else:
        raise ValueError(f"self_intermediate_scattering: dimension {d} not supported")
    return values.mean(axis=-1)


def overlap(disp: np.ndarray, a: float = 0.3) -> np.ndarray:
    """Q(a) = (1/N) Σ_i Θ(a − |Δr_i|), the fraction of particles that moved less than a."""
    return (np.linalg.norm(disp, axis=-1) < a).mean(axis=-1)


def chi4(overlaps, n_particles: int) -> np.ndarray:
    """χ4 = N [⟨Q²⟩ − ⟨Q⟩²] over trajectories (axis 0 of ``overlaps``)."""
    q = np.asarray(overlaps, dtype=np.float64)
    return n_particles * (np.mean(q**2, axis=0) - np.mean(q, axis=0) ** 2)


def _structure_factor_grid(state: State, k_max: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """S(k) = |Σ_j exp(ik·r_j)|² / N over the reciprocal-lattice vectors k = 2πn/L
    (n ∈ ℤ^d, 0 < |k| ≤ k_max), averaged in |k| bins; NaN in empty bins."""
    d, L = state.dimensions, state.box_length
    n_max = int(k_max * L / (2 * np.pi))
    axis = np.arange(-n_max, n_max + 1)
    k_vectors = 2 * np.pi / L * np.array(np.meshgrid(*[axis] * d, indexing="ij")).reshape(d, -1).T
    k_norm = np.linalg.norm(k_vectors, axis=1)
    keep = (k_norm > 0) & (k_norm <= k_max)
    k_vectors, k_norm = k_vectors[keep], k_norm[keep]
    positions = state.positions[:, :d]
    s_k = np.empty(len(k_vectors))
    for start in range(0, len(k_vectors), 512):
        phase = np.einsum("nd,kd->kn", positions, k_vectors[start : start + 512])
        s_k[start : start + 512] = (np.cos(phase).sum(axis=1) ** 2 + np.sin(phase).sum(axis=1) ** 2) / len(positions)
    edges = np.linspace(0.0, k_max, bins + 1)
    index = np.clip(np.digitize(k_norm, edges) - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        return 0.5 * (edges[1:] + edges[:-1]), np.bincount(index, weights=s_k, minlength=bins) / counts


def structure_factor(states: list[State], k_max: float = 12.0, bins: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """S(k) averaged over ``states`` on k ∈ (0, k_max] (σ_AA⁻¹), from the reciprocal-lattice
    vectors of the box: freud.diffraction.StaticStructureFactorDirect in 3D (NaN below its
    ``min_valid_k``), the same sum in NumPy in 2D (freud's Direct is 3D-only, its Debye is slow).
    NaN in k bins holding no reciprocal-lattice vector."""
    values = []
    for state in states:
        if state.dimensions == 3:
            sf = freud.diffraction.StaticStructureFactorDirect(bins=bins, k_max=k_max, k_min=0.0)
            sf.compute(freud_system(state))
            k = np.asarray(sf.bin_centers, dtype=np.float64)
            values.append(np.where(k >= sf.min_valid_k, sf.S_k, np.nan))
        else:
            k, s_k = _structure_factor_grid(state, k_max, bins)
            values.append(s_k)
    return k, np.mean(values, axis=0)


def first_peak(k: np.ndarray, s: np.ndarray, k_min: float = 3.0) -> float:
    """k of the main peak of S(k) above ``k_min`` (the first peak dominates in liquids and glasses)."""
    ok = (k >= k_min) & np.isfinite(s)
    if not ok.any():
        raise ValueError(f"S(k) has no finite values above k_min = {k_min}")
    return float(k[ok][np.argmax(s[ok])])


def relaxation_time(times, fs, level: float = 1 / np.e) -> float:
    """τ with Fs(τ) = ``level`` (first downward crossing, linear interpolation in ln t); NaN if
    Fs never falls to ``level``."""
    times, fs = np.asarray(times, dtype=np.float64), np.asarray(fs, dtype=np.float64)
    below = np.nonzero(fs <= level)[0]
    if len(below) == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(times[0])
    t0, t1 = times[i - 1], times[i]
    f = (fs[i - 1] - level) / (fs[i - 1] - fs[i])
    if t0 > 0:
        return float(np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0))))
    return float(t0 + f * (t1 - t0))


def _species_masks(state: State) -> dict[str, np.ndarray]:
    masks = {"all": np.ones(len(state.typeid), dtype=bool)}
    for t, name in enumerate(state.types):
        if np.any(state.typeid == t):
            masks[name] = state.typeid == t
    return masks


def compute_aging_dynamics(aging_paths, out_csv, q: float | None = None, a: float = 0.3, out_json=None) -> None:
    """MSD, Fs(q, t), Q(t; a) and χ4(t) from the t = 0 frame of every aging trajectory, averaged
    over all runs and replicas at equal times, per species (all / A / B).

    Writes a tidy CSV (columns :data:`DYNAMICS_COLUMNS`) and a JSON (``out_json``, default the
    CSV path with suffix ``.json``) holding q (σ_AA⁻¹; the first peak of S(k) from the t = 0
    frames when ``q`` is None), a, S(k) and τα per species.
    """
    paths = [Path(p) for p in aging_paths]
    if not paths:
        raise ValueError("compute_aging_dynamics: no aging trajectories given")
    q_source = "config"
    k = s = None
    if q is None:
        k, s = structure_factor([read_state(p, 0) for p in paths])
        q, q_source = first_peak(k, s), "first peak of S(k) at t = 0"
    # (species, time) -> per-trajectory values
    samples: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = {}
    for path in paths:
        states = read_states(path)
        disp = displacements(states)
        for species, mask in _species_masks(states[0]).items():
            counts[species] = int(mask.sum())
            d = disp[:, mask]
            for t, m, f, o in zip(
                [st.time for st in states],
                mean_squared_displacement(d),
                self_intermediate_scattering(d, q),
                overlap(d, a),
                strict=True,
            ):
                entry = samples[(species, round(t, 9))]
                entry["msd"].append(m)
                entry["fs"].append(f)
                entry["overlap"].append(o)
    rows = []
    for (species, t), entry in sorted(samples.items()):
        n_traj = len(entry["overlap"])
        rows.append(
            {
                "species": species,
                "time": t,
                "msd": float(np.mean(entry["msd"])),
                "fs": float(np.mean(entry["fs"])),
                "overlap": float(np.mean(entry["overlap"])),
                "chi4": float(chi4(entry["overlap"], counts[species])) if n_traj > 1 else float("nan"),
                "n_trajectories": n_traj,
            }
        )
    with atomic_output(out_csv) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=DYNAMICS_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    tau = {}
    for species in counts:
        sel = [r for r in rows if r["species"] == species]
        tau[species] = relaxation_time([r["time"] for r in sel], [r["fs"] for r in sel])
    record = {
        "q": float(q),
        "q_source": q_source,
        "a": float(a),
        "tau_alpha": tau,
        "n_trajectories": len(paths),
        "trajectories": [str(p) for p in paths],
        "k": None if k is None else k.tolist(),
        "S_k": None if s is None else s.tolist(),
    }
    json_path = Path(out_json) if out_json is not None else Path(out_csv).with_suffix(".json")
    with atomic_output(json_path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, allow_nan=True))


def mobility_names(dynamics_cfg: dict) -> list[str]:
    """Per-particle arrays written by :func:`compute_mobility`: ``<measure>_dt<Δt:g>``."""
    return [f"{m}_dt{float(dt):g}" for dt in _windows(dynamics_cfg) for m in MOBILITY_MEASURES]


def _windows(dynamics_cfg: dict) -> list[float]:
    if "windows" not in dynamics_cfg:
        raise ValueError("dynamics_cfg.windows is required (list of Δt in τ)")
    windows = [float(dt) for dt in dynamics_cfg["windows"]]
    if not windows or any(dt <= 0 for dt in windows):
        raise ValueError(f"dynamics_cfg.windows = {dynamics_cfg['windows']!r}; expected a non-empty list of Δt > 0")
    return windows


def _end_frame(times: np.ndarray, start: int, dt: float) -> int | None:
    """Index of the frame after ``start`` nearest t_start + Δt; None if t_start + Δt lies beyond the run."""
    target = times[start] + dt
    if target > times[-1] * (1 + 1e-9) + 1e-9 or start == len(times) - 1:
        return None
    later = np.arange(start + 1, len(times))
    return int(later[np.argmin(np.abs(times[later] - target))])


def _int_log(log: dict, key: str, path, frame: int) -> int:
    if key not in log:
        raise ValueError(f"{path}: frame {frame} lacks log {key}")
    return int(np.asarray(log[key]).ravel()[0])


def _min_image_distance(a: np.ndarray, b: np.ndarray, box_length: float, dimensions: int) -> float:
    delta = (a - b)[:, :dimensions]
    delta -= box_length * np.round(delta / box_length)
    return float(np.abs(delta).max()) if len(delta) else 0.0


def compute_mobility(glass_samples_gsd, aging_paths, out_gsd, dynamics_cfg: dict, provenance: dict) -> None:
    """Per-particle mobility, cage-relative displacement and propensity of every glass sample.

    Each frame of ``glass_samples_gsd`` names its aging trajectory (``glasscam/run``,
    ``glasscam/replica``) and frame there (``glasscam/source_frame``, time t_w). For each
    Δt in ``dynamics_cfg['windows']`` the window ends at the later frame nearest t_w + Δt
    (NaN if t_w + Δt lies beyond the run; the realised Δt is logged as
    ``glasscam/window_dt<Δt:g>``). Propensity is computed for t_w = 0 only (NaN otherwise) over
    all replicas of the run found in ``aging_paths`` (``glasscam/n_iso_replicas``).
    ``dynamics_cfg['cage_radius']``: σ_AA or ``auto`` (default; first minimum of g(r) of the
    glass samples).
    """
    windows = _windows(dynamics_cfg)
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
    cache: dict[Path, list[State]] = {}

    def load(path: Path) -> list[State]:
        if path not in cache:
            cache[path] = read_states(path)
        return cache[path]

    propensity_cache: dict[tuple[int, float], tuple[np.ndarray, int]] = {}

    def run_propensity(run: int, dt: float) -> tuple[np.ndarray, int]:
        if (run, dt) not in propensity_cache:
            replicas = [trajectories[key] for key in sorted(trajectories) if key[0] == run]
            first = load(replicas[0])[0]
            disps = []
            for path in replicas:
                traj = load(path)
                if _min_image_distance(traj[0].positions, first.positions, first.box_length, first.dimensions) > POSITION_MATCH_TOLERANCE:
                    raise ValueError(f"{path}: frame 0 differs from {replicas[0]}; replicas of run {run} must start from identical positions")
                end = _end_frame(np.array([s.time for s in traj]), 0, dt)
                if end is None:
                    disps = None
                    break
                disps.append(window_displacement(traj[0], traj[end]))
            n = len(first.positions)
            propensity_cache[(run, dt)] = (propensity(disps) if disps else np.full(n, np.nan), len(replicas))
        return propensity_cache[(run, dt)]

    out_logs = []
    for k, (state, log) in enumerate(zip(states, logs, strict=True)):
        run = _int_log(log, "glasscam/run", glass_samples_gsd, k)
        replica = _int_log(log, "glasscam/replica", glass_samples_gsd, k)
        source = _int_log(log, "glasscam/source_frame", glass_samples_gsd, k)
        if (run, replica) not in trajectories:
            raise ValueError(f"{glass_samples_gsd}: frame {k} comes from run {run} replica {replica}, not among the aging trajectories given")
        path = trajectories[(run, replica)]
        traj = load(path)
        if not 0 <= source < len(traj):
            raise ValueError(f"{glass_samples_gsd}: frame {k} has glasscam/source_frame {source}, but {path} has {len(traj)} frames")
        start = traj[source]
        if len(start.positions) != len(state.positions) or _min_image_distance(
            start.positions, state.positions, state.box_length, state.dimensions
        ) > POSITION_MATCH_TOLERANCE:
            raise ValueError(f"{glass_samples_gsd}: frame {k} does not match frame {source} of {path}")
        times = np.array([s.time for s in traj])
        n = len(state.positions)
        out_log = per_frame_scalars(log)
        for dt in windows:
            end = _end_frame(times, source, dt)
            if end is None:
                mobility = cage = np.full(n, np.nan)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([np.nan])
            else:
                disp = window_displacement(start, traj[end])
                mobility = np.linalg.norm(disp, axis=1)
                cage = np.linalg.norm(cage_relative_displacement(disp, start, cage_radius), axis=1)
                out_log[f"glasscam/window_dt{dt:g}"] = np.array([times[end] - times[source]])
            if times[source] == 0.0:
                prop, n_replicas = run_propensity(run, dt)
            else:
                prop, n_replicas = np.full(n, np.nan), 0
            out_log["glasscam/n_iso_replicas"] = np.array([n_replicas], dtype=np.int32)
            out_log[per_particle_key(f"mobility_dt{dt:g}")] = mobility.astype(np.float32)
            out_log[per_particle_key(f"cage_relative_dt{dt:g}")] = cage.astype(np.float32)
            out_log[per_particle_key(f"propensity_dt{dt:g}")] = prop.astype(np.float32)
        out_logs.append(out_log)
    record = {
        **provenance,
        "mobility": {
            "names": mobility_names(dynamics_cfg),
            "windows": windows,
            "cage_radius": cage_radius,
            "config": dynamics_cfg,
            "input": str(glass_samples_gsd),
            "aging_trajectories": [str(trajectories[key]) for key in sorted(trajectories)],
        },
    }
    write_states(out_gsd, states, record, out_logs)

