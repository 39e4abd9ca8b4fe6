"""Particle and collective dynamics of aging trajectories (time in τ, lengths in σ).

Displacement of particle i between frames 0 and k, centre-of-mass drift removed::

    Δr_i(t_k) = [r_i(t_k) − r_i(t_0)] − [R(t_k) − R(t_0)],   R = Σ_j m_j r_j / Σ_j m_j

(unwrapped coordinates r = position + image · L). From the displacements of N particles::

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
the box's reciprocal-lattice vectors in |k| bins (a bounded subset per bin, so O(N) per frame);
τα solves Fs(q*, τα) = 1/e by linear interpolation in ln t.

Dynamic heterogeneity length: the four-point structure factor of the overlap weights
w_j = Θ(a − |Δr_j(t)|) at the time t* of the χ4 peak,

    S4(q, t) = (1/N) [⟨|W(q, t)|²⟩ − |⟨W(q, t)⟩|²],   W(q, t) = Σ_j [w_j(t) − ⟨Q(t)⟩] e^{iq·r_j(0)}

on shells of equal |q| of the reciprocal lattice (S4(0, t) = χ4(t)), fitted with the
Ornstein–Zernike form χ4^∞ / (1 + (q ξ4)²) at small q where the box allows.

Equilibrium liquids: the same Fs, MSD, Q and χ4 averaged over time origins, τα(T), and the
self-diffusion coefficient D from MSD = 2dDt in the diffusive regime.

Every per-frame operation is O(N) (O(N K) for K wave vectors, K bounded independently of N).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from scipy.stats import linregress

from glasscam.analysis.displacement import (
    displacements,
    mean_squared_displacement,
    window_displacement,
)
from glasscam.analysis.heterogeneity import (
    S4Options,
    _four_point,
    _OverlapRecord,
    chi4,
    chi4_over_runs,
    overlap,
    run_bootstrap_counts,
)
from glasscam.analysis.scattering import (
    first_peak,
    self_intermediate_scattering,
    structure_factor,
)
from glasscam.analysis.statistics import run_mean_interval
from glasscam.core.schedule import GLASS_AGE_TOLERANCE, time_key
from glasscam.core.state import State

logger = logging.getLogger(__name__)

DYNAMICS_COLUMNS = ["species", "time", "msd", "fs", "overlap", "chi4", "n_trajectories"]


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


def relaxation_time_record(times, fs, level: float = 1 / np.e, max_bracket_ratio: float = 10.0) -> dict:
    """τα of :func:`relaxation_time` with how it was obtained: the bracketing frames (the
    interpolation range [t_before, t_after] and Fs there), and ``reliable`` / ``flag`` (None, or
    why τα must not be quoted: Fs never reaches ``level`` in the run — τα exceeds it — it is
    already below at the first frame, or the bracket spans more than ``max_bracket_ratio`` in t)."""
    times, fs = np.asarray(times, dtype=np.float64), np.asarray(fs, dtype=np.float64)
    tau = relaxation_time(times, fs, level)
    out = {"tau_alpha": tau, "level": float(level), "fit_t_start": float("nan"), "fit_t_end": float("nan"),
           "fs_start": float("nan"), "fs_end": float("nan"), "reliable": False, "flag": None}
    below = np.nonzero(fs <= level)[0]
    if len(below) == 0:
        out["flag"] = (f"Fs never falls to {level:.3g} within t ≤ {times.max():.3g} τ (lowest {np.nanmin(fs):.3g}): "
                       "τα exceeds the run" if len(times) else "no frames")
        return out
    i = below[0]
    if i == 0:
        out["flag"] = f"Fs is already ≤ {level:.3g} at the first frame (t = {times[0]:.3g} τ)"
        return out
    out.update(fit_t_start=float(times[i - 1]), fit_t_end=float(times[i]), fs_start=float(fs[i - 1]), fs_end=float(fs[i]))
    if times[i - 1] > 0 and times[i] / times[i - 1] > max_bracket_ratio:
        out["flag"] = f"the crossing is interpolated across t = {times[i - 1]:.3g}–{times[i]:.3g} τ (ratio > {max_bracket_ratio:g})"
    out["reliable"] = out["flag"] is None
    return out


def _species_masks(state: State) -> dict[str, np.ndarray]:
    masks = {"all": np.ones(len(state.typeid), dtype=bool)}
    for t, name in enumerate(state.types):
        if np.any(state.typeid == t):
            masks[name] = state.typeid == t
    return masks


def check_frames(index: int, states: list[State]) -> None:
    """A trajectory dynamics can be measured on: at least 2 frames, times that increase (a
    trajectory whose times repeat or go back is several runs in one, never pooled as if they
    were separate trajectories). ``ValueError`` naming the trajectory by ``index`` and the frame."""
    if len(states) < 2:
        raise ValueError(f"trajectory {index}: {len(states)} frame: no dynamics (MSD, Fs, Q, χ4 and τα need at least 2 frames)")
    for k in range(1, len(states)):
        if not states[k].time > states[k - 1].time:
            raise ValueError(
                f"trajectory {index}: frame {k} (t = {states[k].time:g}) follows frame {k - 1} (t = {states[k - 1].time:g}): "
                "frame times must increase within one trajectory"
            )


def aging_dynamics(trajectories: Iterable[list[State]], q: float, a: float = 0.3, s4: dict | None = None) -> tuple[list[dict], dict]:
    """MSD, Fs(q, t), Q(t; a) and χ4(t) from the first frame of every trajectory (a list of
    states with ``time`` set, τ), averaged over trajectories at equal times, per species
    (all / each type); S4(q, t*) and ξ4 at the time t* of the χ4 peak (:func:`_four_point`).

    Pure: states in, numbers out. ``trajectories`` is consumed once (a generator reading one
    file at a time keeps memory at one trajectory plus (frames × N) overlap flags each).
    Returns (rows with keys :data:`DYNAMICS_COLUMNS`, summary {q, a, tau_fs_1e_from_quench,
    n_trajectories, s4}); ``tau_fs_1e_from_quench`` is the time after the quench at which the
    trajectory-mean Fs(q, t) first falls to 1/e — not an equilibrium τα (the glass ages during
    it; :func:`two_time_dynamics` gives τ(t_w) per waiting time). Errors: no trajectories; a trajectory of one frame or whose times do not increase
    (:func:`check_frames`); trajectories with different boxes or particle numbers."""
    cfg = S4Options.from_config(s4)
    samples: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = {}
    species_masks: dict[str, np.ndarray] = {}
    records: list[_OverlapRecord] = []
    box = None
    for index, states in enumerate(trajectories):
        check_frames(index, states)
        first = states[0]
        if box is None:
            box = (first.box_length, first.dimensions, len(first.positions))
        elif (first.box_length, first.dimensions, len(first.positions)) != box:
            raise ValueError(
                f"aging_dynamics: trajectory {index} has box L = {first.box_length:g}, d = {first.dimensions}, "
                f"N = {len(first.positions)}; trajectory 0 has L = {box[0]:g}, d = {box[1]}, N = {box[2]}"
            )
        times = np.array([st.time for st in states])
        disp = displacements(states)
        weights = np.linalg.norm(disp, axis=-1) < a
        records.append(_OverlapRecord(str(index), times, first.positions[:, : first.dimensions].copy(), weights))
        for species, mask in _species_masks(first).items():
            counts[species] = int(mask.sum())
            species_masks[species] = mask
            d = disp[:, mask]
            for t, m, f, o in zip(times, mean_squared_displacement(d), self_intermediate_scattering(d, q), weights[:, mask].mean(axis=-1), strict=True):
                entry = samples[(species, time_key(t))]
                entry["msd"].append(m)
                entry["fs"].append(f)
                entry["overlap"].append(o)
    if box is None:
        raise ValueError("aging_dynamics: no trajectories given")
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
    tau, tau_fit = {}, {}
    for species in counts:
        sel = [r for r in rows if r["species"] == species]
        tau_fit[species] = relaxation_time_record([r["time"] for r in sel], [r["fs"] for r in sel])
        tau[species] = tau_fit[species]["tau_alpha"]
    summary = {
        "q": float(q),
        "a": float(a),
        "tau_fs_1e_from_quench": tau,
        "tau_fs_1e_from_quench_fit": tau_fit,
        "n_trajectories": len(records),
        "s4": _four_point(
            records, box[0], box[1], species_masks, {sp: [(r["time"], r["chi4"]) for r in rows if r["species"] == sp] for sp in counts}, cfg
        ),
    }
    return rows, summary


TWO_TIME_COLUMNS = [
    "species", "t_w", "time", "msd", "msd_lo", "msd_hi", "fs", "fs_lo", "fs_hi",
    "overlap", "overlap_lo", "overlap_hi", "chi4", "chi4_lo", "chi4_hi", "n_runs", "n_trajectories",
]


def waiting_time_frames(times, ages) -> tuple[dict[float, int], list[float]]:
    """Frame of each waiting time t_w in ``ages``: the frame nearest t_w, accepted if its time
    lies in [t_w/2, 2 t_w] (t_w = 0: the frame at t = 0), as the glass samples are chosen
    (:func:`glasscam.core.schedule.select_glass_frames`). Returns ({requested t_w: frame}, the
    ages no frame resolves); an age that picks the frame of an earlier one is unresolved."""
    times = np.asarray(times, dtype=np.float64)
    frames: dict[float, int] = {}
    unresolved = []
    for age in ages:
        frame = int(np.argmin(np.abs(times - age)))
        t = times[frame]
        if age / GLASS_AGE_TOLERANCE <= t <= age * GLASS_AGE_TOLERANCE and frame not in frames.values():
            frames[float(age)] = frame
        else:
            unresolved.append(float(age))
    return frames, unresolved


def two_time_dynamics(trajectories, q: float, a: float, ages, confidence: float = 0.95, n_bootstrap: int = 1000, seed: int = 0) -> tuple[list[dict], dict]:
    """Two-time correlation functions of aging runs (Kob & Barrat, PRL 78, 4581 (1997)):

        MSD(t_w + t, t_w) = (1/N) Σ_i |Δr_i|²,   Fs(q; t_w + t, t_w) = (1/N) Σ_i sin(q|Δr_i|)/(q|Δr_i|)
        (J0 in 2D),   Q(t_w + t, t_w; a) = (1/N) Σ_i Θ(a − |Δr_i|),   χ4 = N [⟨Q²⟩ − ⟨Q⟩²]

    with Δr_i = r_i(t_w + t) − r_i(t_w), the centre-of-mass drift removed, for each waiting time
    of ``ages`` that the frames resolve (:func:`waiting_time_frames`; t_w is the realised frame
    time) and every later frame (t = its time − t_w), per species (all / each type).

    ``trajectories``: iterable of (run, states) — ``run`` any hashable naming the independent run
    a trajectory belongs to (iso-configurational replicas share it). MSD, Fs and Q: replicas are
    averaged within their run, then mean and Student-t interval over runs
    (:func:`glasscam.analysis.statistics.run_mean_interval`); χ4 over every trajectory with a
    bootstrap over runs (:func:`glasscam.analysis.heterogeneity.chi4_over_runs`, ``n_bootstrap``
    draws, ``seed``). Pure; consumed once. O(frames · ages · N) per trajectory.

    Returns (rows with keys :data:`TWO_TIME_COLUMNS`, summary {q, a, confidence, n_bootstrap,
    ages_requested, t_w (realised, per resolved age), unresolved_ages, n_runs, n_trajectories,
    tau_fs_1e: {species: [{t_w, tau, t_max}]}}), τ(t_w) the t at which the run-mean
    Fs(q; t_w + t, t_w) first falls to 1/e (NaN if it does not within the run: then τ(t_w) > t_max,
    the longest t measured from that t_w).
    Errors: no trajectories, an empty trajectory, no resolved age, differing particle numbers."""
    samples: dict[tuple[str, float, float], dict] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = {}
    runs: set = set()
    realised: dict[float, float] = {}
    unresolved: set[float] = set()
    n_traj, n_particles = 0, None
    for index, (run, states) in enumerate(trajectories):
        if not states:
            raise ValueError(f"two_time_dynamics: trajectory {index} (run {run}) has no frames")
        if n_particles is None:
            n_particles = len(states[0].positions)
        elif len(states[0].positions) != n_particles:
            raise ValueError(f"two_time_dynamics: trajectory {index} has N = {len(states[0].positions)}; trajectory 0 has N = {n_particles}")
        n_traj += 1
        runs.add(run)
        times = np.array([st.time for st in states], dtype=np.float64)
        frames, missing = waiting_time_frames(times, ages)
        unresolved.update(missing)
        masks = _species_masks(states[0])
        for age, k in frames.items():
            t_w = round(float(times[k]), 9)
            realised.setdefault(age, t_w)
            for j in range(k, len(states)):
                disp = window_displacement(states[k], states[j])
                lag = round(float(times[j] - times[k]), 9)
                for species, mask in masks.items():
                    counts[species] = int(mask.sum())
                    d = disp[mask]
                    by_run = samples[(species, t_w, lag)]
                    by_run[run].append((float(mean_squared_displacement(d)), float(self_intermediate_scattering(d, q)), float(overlap(d, a))))
    if n_traj == 0:
        raise ValueError("two_time_dynamics: no trajectories given")
    if not realised:
        raise ValueError(f"two_time_dynamics: no waiting time of {list(ages)} has a frame within a factor {GLASS_AGE_TOLERANCE:g}")
    boot = run_bootstrap_counts(len(runs), n_bootstrap, seed) if len(runs) > 1 else None
    rows = []
    for (species, t_w, lag), by_run in sorted(samples.items()):
        row = {"species": species, "t_w": t_w, "time": lag}
        for column, key in enumerate(("msd", "fs", "overlap")):
            mean, lo, hi, n_runs = run_mean_interval({r: [v[column] for v in values] for r, values in by_run.items()}, confidence)
            row.update({key: mean, f"{key}_lo": lo, f"{key}_hi": hi})
        overlaps = {r: [v[2] for v in values] for r, values in by_run.items()}
        counts_b = boot if boot is not None and len(overlaps) == boot.shape[1] else None
        value, lo, hi = chi4_over_runs(overlaps, counts[species], counts_b, confidence)
        row.update(chi4=value, chi4_lo=lo, chi4_hi=hi, n_runs=n_runs, n_trajectories=sum(len(v) for v in by_run.values()))
        rows.append(row)
    tau: dict[str, list[dict]] = {}
    for species in counts:
        tau[species] = []
        for t_w in sorted(set(realised.values())):
            lags, fs = zip(*[(r["time"], r["fs"]) for r in rows if r["species"] == species and r["t_w"] == t_w], strict=True)
            tau[species].append({"t_w": t_w, "tau": relaxation_time(lags, fs), "t_max": float(max(lags))})
    summary = {
        "q": float(q),
        "a": float(a),
        "confidence": float(confidence),
        "n_bootstrap": int(n_bootstrap),
        "ages_requested": [float(x) for x in ages],
        "t_w": sorted(set(realised.values())),
        "unresolved_ages": sorted(unresolved - set(realised)),
        "n_runs": len(runs),
        "n_trajectories": n_traj,
        "tau_fs_1e": tau,
    }
    return rows, summary


LIQUID_COLUMNS = ["temperature", "species", "time", "msd", "fs", "overlap", "chi4", "n_samples"]


def time_origin_pairs(times, max_origins: int = 64, rtol: float = 1e-6) -> dict[float, list[tuple[int, int]]]:
    """Frame pairs (i, j) per lag t_j − t_i, for lags in the set {t_k − t_0} of the trajectory.

    Every frame i is a candidate time origin; a lag counts for origin i when a frame lies at
    t_i + lag (relative tolerance ``rtol``). Log-spaced frames from one origin give their own
    lags only; equally spaced or repeated log-spaced blocks give many origins per lag. At most
    ``max_origins`` origins (evenly spread) are used, so the cost is O(max_origins · frames · N)."""
    times = np.asarray(times, dtype=np.float64)
    if np.any(np.diff(times) <= 0):
        raise ValueError("time_origin_pairs: frame times must increase")
    lags = np.unique(times[1:] - times[0])
    lags = lags[lags > 0]
    tolerance = rtol * max(float(np.abs(times).max()), 1.0)
    matches = []
    for i, t in enumerate(times):
        j = np.searchsorted(times, t + lags - tolerance)
        j = np.minimum(j, len(times) - 1)
        hit = np.abs(times[j] - (t + lags)) <= tolerance
        matches.append([(float(lag), i, int(jj)) for lag, jj in zip(lags[hit], j[hit], strict=True)])
    origins = [i for i, m in enumerate(matches) if m]
    if len(origins) > max_origins:
        origins = [origins[k] for k in np.unique(np.linspace(0, len(origins) - 1, max_origins).round().astype(int))]
    pairs: dict[float, list[tuple[int, int]]] = defaultdict(list)
    for i in origins:
        for lag, origin, end in matches[i]:
            pairs[float(f"{lag:.9g}")].append((origin, end))
    return dict(sorted(pairs.items()))


def diffusion_coefficient(times, msd, dimensions: int, msd_min: float = 1.0) -> dict:
    """D from MSD(t) = 2dDt + c fitted (least squares) on the times where MSD ≥ ``msd_min``
    (σ², default one particle diameter squared: beyond the cage, in the diffusive regime).
    Returns D (σ²/τ), D_err (fit standard error), msd_exponent (slope of ln MSD against ln t
    over the same points; 1 when diffusive), fit_t_min and a reason (None, or why D is NaN:
    fewer than 3 points in the regime)."""
    times, msd = np.asarray(times, float), np.asarray(msd, float)
    use = (times > 0) & np.isfinite(msd) & (msd >= msd_min)
    out = {"D": float("nan"), "D_err": float("nan"), "msd_exponent": float("nan"), "fit_t_min": float("nan"), "msd_min": float(msd_min), "reason": None}
    if use.sum() < 3:
        out["reason"] = f"MSD ≥ {msd_min:g} σ² at only {int(use.sum())} times (need 3): diffusive regime not reached"
        return out
    fit = linregress(times[use], msd[use])
    out.update(
        D=float(fit.slope / (2 * dimensions)),
        D_err=float(fit.stderr / (2 * dimensions)),
        msd_exponent=float(np.polyfit(np.log(times[use]), np.log(msd[use]), 1)[0]),
        fit_t_min=float(times[use].min()),
    )
    return out


def liquid_relaxation(trajectories: list[list[State]], q: float | None = None, a: float = 0.3, msd_min: float = 1.0, max_origins: int = 64) -> dict:
    """Equilibrium relaxation of trajectories of one state point (pure: states in, numbers out):
    every lag t averaged over time origins (:func:`time_origin_pairs`) and trajectories,
    displacements with the centre-of-mass drift removed; Fs(q*, t), MSD, Q(t; a), χ4 = N[⟨Q²⟩ −
    ⟨Q⟩²] over the (trajectory, origin) samples (NaN with one), τα (:func:`relaxation_time`), D
    (:func:`diffusion_coefficient`) and 1/(q²D), per species. q (σ⁻¹) is the first peak of
    S(k) of the first and last frames unless given.

    Returns {q, q_source, k, S_k, dimensions, species: {name: {time, msd, fs, overlap, chi4,
    n_samples, tau_alpha, tau_diffusive, D, D_err, msd_exponent, fit_t_min, msd_min, reason}}}.
    Errors: no trajectory, a trajectory with fewer than 2 frames or whose times do not increase
    (:func:`check_frames`, named by index and frame)."""
    if not trajectories:
        raise ValueError("liquid_relaxation: no trajectories given")
    for index, states in enumerate(trajectories):
        check_frames(index, states)
    q_t, q_source, k, s = q, "config", None, None
    if q is None:
        k, s = structure_factor([st[i] for st in trajectories for i in (0, -1)])
        q_t, q_source = first_peak(k, s), "first peak of S(k)"
    samples: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    masks = _species_masks(trajectories[0][0])
    dimensions = trajectories[0][0].dimensions
    for states in trajectories:
        for lag, pairs in time_origin_pairs([st.time for st in states], max_origins).items():
            for i, j in pairs:
                disp = window_displacement(states[i], states[j])
                for species, mask in masks.items():
                    entry = samples[(species, lag)]
                    entry["msd"].append(mean_squared_displacement(disp[mask]))
                    entry["fs"].append(self_intermediate_scattering(disp[mask], q_t))
                    entry["overlap"].append(overlap(disp[mask], a))
    per_species = {}
    for species, mask in masks.items():
        lags = sorted(t for sp, t in samples if sp == species)
        series = {"time": lags, "msd": [], "fs": [], "overlap": [], "chi4": [], "n_samples": []}
        for lag in lags:
            entry = samples[(species, lag)]
            n = len(entry["overlap"])
            for key in ("msd", "fs", "overlap"):
                series[key].append(float(np.mean(entry[key])))
            series["chi4"].append(float(chi4(entry["overlap"], int(mask.sum()))) if n > 1 else float("nan"))
            series["n_samples"].append(n)
        diffusion = diffusion_coefficient(lags, series["msd"], dimensions, msd_min)
        per_species[species] = {
            **series,
            "tau_alpha": relaxation_time(lags, series["fs"]),
            "tau_alpha_fit": relaxation_time_record(lags, series["fs"]),
            "tau_diffusive": float(1 / (q_t**2 * diffusion["D"])) if diffusion["D"] > 0 else float("nan"),
            **diffusion,
        }
    return {
        "q": float(q_t),
        "q_source": q_source,
        "k": None if k is None else k.tolist(),
        "S_k": None if s is None else s.tolist(),
        "dimensions": dimensions,
        "species": per_species,
    }


