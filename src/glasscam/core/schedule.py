"""Time schedules and the rules that match times (τ).

Three different questions, each answered by one rule here:

* *the same frame time* — two frames of runs on one schedule are at the same time when their
  times agree to :data:`TIME_DECIMALS` decimals (:func:`time_key`); used to average over
  trajectories at equal times and to find a time in a run (:func:`frame_at`);
* *a frame inside a time window* — :func:`frames_in_window`, relative tolerance;
* *a mobility window of length Δt* — realised within ±:data:`WINDOW_TOLERANCE` · Δt
  (:func:`window_end_frame`): log-spaced frames thin out, so a nearby frame is not the window;
* *a glass age t_w* — the nearest frame within a factor :data:`GLASS_AGE_TOLERANCE`
  (:func:`select_glass_frames`).
"""

import numpy as np

TIME_DECIMALS = 9  # frame times that agree to 1e-9 τ are the same time (float32/float64 copies, step × dt)


def time_key(t: float) -> float:
    """The time ``t`` (τ) rounded to :data:`TIME_DECIMALS` decimals: equal keys, same frame time."""
    return round(float(t), TIME_DECIMALS)


def frame_at(times, t: float) -> int | None:
    """Index of the first frame whose :func:`time_key` equals ``time_key(t)``; None if none does."""
    key = time_key(t)
    matches = [i for i, ti in enumerate(times) if time_key(ti) == key]
    return matches[0] if matches else None


WINDOW_TOLERANCE = 0.25  # a window [t_w, t_w + Δt] counts as Δt only if its frame lies within ±25 % of Δt


def window_end_frame(times: np.ndarray, start: int, dt: float, tolerance: float = WINDOW_TOLERANCE) -> int | None:
    """Index of the frame after ``start`` nearest t_start + Δt, if the realised window
    t_end − t_start is within ``tolerance`` · Δt of Δt; None if t_start + Δt lies beyond the run or
    no frame is that close. Log-spaced frames thin out at late times: with 10 frames per decade
    the frame after t_w = 63.8 τ is at 79.4 τ, so a 1 τ window does not exist there, and taking the
    nearest frame would report a 16 τ displacement as Δt = 1 τ."""
    target = times[start] + dt
    if target > times[-1] * (1 + 1e-9) + 1e-9 or start == len(times) - 1:
        return None
    later = np.arange(start + 1, len(times))
    end = int(later[np.argmin(np.abs(times[later] - target))])
    if abs((times[end] - times[start]) - dt) > tolerance * dt * (1 + 1e-9):
        return None
    return end


GLASS_AGE_TOLERANCE = 2.0  # the chosen frame's time must lie in [t_w/2, 2 t_w]


def select_glass_frames(times: np.ndarray, ages: list[float], path) -> list[int]:
    """For each aging time t_w the frame whose time is nearest; it must lie in [t_w/2, 2 t_w]."""
    frames = []
    for age in ages:
        frame = int(np.argmin(np.abs(times - age)))
        t = times[frame]
        if not (age / GLASS_AGE_TOLERANCE <= t <= age * GLASS_AGE_TOLERANCE):
            raise ValueError(
                f"dataset.glass_ages: t_w = {age:g} τ has no frame in {path} within a factor "
                f"{GLASS_AGE_TOLERANCE:g} (nearest frame {frame} at t = {t:g} τ)"
            )
        if frame in frames:
            raise ValueError(f"dataset.glass_ages: t_w = {age:g} τ selects frame {frame} of {path} twice")
        frames.append(frame)
    return frames


def select_liquid_frames(n_frames: int, per_trajectory: int | None, path) -> list[int]:
    """All frames, or ``per_trajectory`` of them evenly spaced from first to last."""
    if per_trajectory is None:
        return list(range(n_frames))
    if not 1 <= per_trajectory <= n_frames:
        raise ValueError(
            f"dataset.liquid_samples_per_trajectory = {per_trajectory}, but {path} has {n_frames} frames"
        )
    return sorted({int(round(x)) for x in np.linspace(0, n_frames - 1, per_trajectory)})


def frames_in_window(times: np.ndarray, window, rtol: float = 1e-6) -> np.ndarray:
    """Indices of frames with t_from ≤ t ≤ t_to (τ; relative tolerance ``rtol``)."""
    lo, hi = float(window[0]), float(window[1])
    times = np.asarray(times, dtype=float)
    return np.flatnonzero((times >= lo * (1 - rtol) - 1e-12) & (times <= hi * (1 + rtol) + 1e-12))


def log_frame_times(duration: float, dt: float, frames_per_decade: int) -> np.ndarray:
    """Times (τ) of the frames a log-spaced run records (:func:`log_spaced_steps`)."""
    return log_spaced_steps(int(round(duration / dt)), int(frames_per_decade)) * dt


def log_spaced_steps(total_steps: int, frames_per_decade: int) -> np.ndarray:
    """Distinct integer steps 0, 1, …, total_steps, log-spaced with ``frames_per_decade`` per decade."""
    if total_steps < 1:
        raise ValueError(f"total_steps = {total_steps} must be ≥ 1")
    decades = np.log10(total_steps)
    n = max(2, int(np.ceil(decades * frames_per_decade)) + 1)
    steps = np.unique(np.round(np.logspace(0, decades, n)).astype(np.int64))
    return np.concatenate([[0], steps])
