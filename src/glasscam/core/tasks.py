"""Classification tasks: what the CNN is asked to tell apart, as configuration.

Two kinds (``dataset.tasks``, a list of ``{name, kind, …}``):

* ``liquid_vs_glass`` — the seed paper's task (Oyama, Koyama, Kawasaki, Front. Phys. 2023):
  liquid samples at the liquid temperatures T_L (class 0, ``liquid``) against aging frames at
  ``dataset.glass_ages`` (class 1, ``glass``). The classes differ in temperature, so on thermal
  inputs vibration amplitude alone separates them.
* ``age`` — one temperature, two ages: frames of the same quenched lineages at T_G with aging
  time t_w ∈ [``young[0]``, ``young[1]``] (class 0, ``young``) against t_w ∈ [``aged[0]``,
  ``aged[1]``] (class 1, ``aged``), τ. Both classes are thermal at the same kinetic temperature
  once t_w exceeds the kinetic-temperature relaxation time t_K after the quench
  (:func:`kinetic_relaxation_time`), so only structure can separate them; ``young[0]`` must not
  lie below the measured t_K (``systems.<name>.state_points.kinetic_relaxation_time``).

Frames are taken from the first ``dataset.glass_replicas`` aging replicas of every run (all of a
run's samples stay in one split).
"""

from __future__ import annotations

import math

import numpy as np

TASK_KINDS = {"liquid_vs_glass": ("liquid", "glass"), "age": ("young", "aged")}
DEFAULT_TASKS = [{"name": "liquid_vs_glass", "kind": "liquid_vs_glass"}]


def tasks_of(dataset_cfg: dict) -> list[dict]:
    """The configured tasks (default: the seed paper's ``liquid_vs_glass`` only), checked.

    Raises ``ValueError`` naming the ``dataset.tasks[i]`` key at fault."""
    tasks = dataset_cfg.get("tasks", DEFAULT_TASKS)
    names = [t.get("name") for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"dataset.tasks: task names {names} are not unique")
    for i, task in enumerate(tasks):
        key = f"dataset.tasks[{i}]"
        kind = task.get("kind")
        if kind not in TASK_KINDS:
            raise ValueError(f"{key}.kind = {kind!r}; expected one of {sorted(TASK_KINDS)}")
        if kind == "age":
            for part in ("young", "aged"):
                window = task.get(part)
                if not (isinstance(window, (list, tuple)) and len(window) == 2 and 0 <= window[0] <= window[1]):
                    raise ValueError(f"{key}.{part} = {window!r}; expected [t_from, t_to] in τ with 0 ≤ t_from ≤ t_to")
            if not task["young"][1] < task["aged"][0]:
                raise ValueError(f"{key}: young {task['young']} must end before aged {task['aged']} starts")
    return [dict(t) for t in tasks]


def task_by_name(dataset_cfg: dict, name: str) -> dict:
    for task in tasks_of(dataset_cfg):
        if task["name"] == name:
            return task
    raise ValueError(f"dataset.tasks has no task named {name!r}")


def class_names(task: dict) -> tuple[str, str]:
    return TASK_KINDS[task["kind"]]


def equilibrium_kinetic_temperature_sd(temperature: float, n_particles: int, dimensions: int) -> float:
    """Standard deviation of the instantaneous kinetic temperature in the canonical ensemble,
    σ_T = T √(2 / (d N − d)) (ε/k_B): d N − d momentum degrees of freedom, each contributing
    an independent χ²₁ term (Allen & Tildesley, Computer Simulation of Liquids, §2.5)."""
    dof = dimensions * n_particles - dimensions
    return float(temperature * math.sqrt(2.0 / dof))


KINETIC_NOISE_Z = 2.0  # standard errors of the R-trajectory mean added to σ_T before a frame counts as hot


def kinetic_relaxation_time(times: np.ndarray, kinetic_temperatures: np.ndarray, temperature: float,
                            n_particles: int, dimensions: int, z: float = KINETIC_NOISE_Z) -> dict:
    """When the kinetic temperature has come back to the bath after a quench.

    ``kinetic_temperatures`` (R, F): T_kin of R trajectories quenched at t = 0 at the F frame
    times ``times`` (τ). The question is whether the *systematic* excess ⟨T_kin⟩(t) − T is still
    larger than the thermal noise σ_T of a single sample (:func:`equilibrium_kinetic_temperature_sd`):
    if not, a single sample's T_kin cannot tell its age better than thermal noise does. The mean
    over R trajectories estimates that excess with a standard error σ_T/√R, so a frame counts as
    not relaxed when

        |⟨T_kin⟩(t) − T| > σ_T (1 + z/√R)        (z = ``z``, default 2)

    and t_K is the first frame after the last such frame. Without the noise allowance the mean
    of a few trajectories crosses σ_T by chance at single late frames (R = 4: 2.3 % per frame,
    half of the runs over ~30 frames), which set t_K at 16–100 τ for relaxed soft-sphere glasses
    (validation/ss/README.md).

    Returns {"time": t_K (τ; inf if never), "sigma": σ_T, "threshold": σ_T (1 + z/√R), "mean":
    ⟨T_kin⟩(t) list, "excess_in_sigma": (⟨T_kin⟩ − T)/σ_T per frame, "trajectories": R}."""
    tk = np.atleast_2d(np.asarray(kinetic_temperatures, dtype=float))
    times = np.asarray(times, dtype=float)
    if tk.shape[1] != len(times):
        raise ValueError(f"kinetic temperatures have {tk.shape[1]} frames, times {len(times)}")
    sigma = equilibrium_kinetic_temperature_sd(temperature, n_particles, dimensions)
    threshold = sigma * (1.0 + float(z) / math.sqrt(tk.shape[0]))
    mean = tk.mean(axis=0)
    outside = np.abs(mean - temperature) > threshold
    if outside[-1]:
        t_k = math.inf
    else:
        last_bad = np.flatnonzero(outside)
        t_k = float(times[last_bad[-1] + 1]) if len(last_bad) else float(times[0])
    return {"time": t_k, "sigma": sigma, "threshold": threshold, "temperature": float(temperature),
            "times": times.tolist(), "mean": mean.tolist(), "excess_in_sigma": ((mean - temperature) / sigma).tolist(),
            "trajectories": int(tk.shape[0])}




#: split index of each split name in a dataset's ``split`` column
SPLITS = {"train": 0, "validation": 1, "test": 2}
