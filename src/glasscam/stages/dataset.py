"""Image dataset of one system: liquid and glass configurations → periodic Gaussian density images
(:mod:`.voxelize`), labels, a split by independent lineage, and per-sample provenance.

HDF5 layout (S samples, C species, d grid axes of n cells):

* ``images`` (S, C, n, …) float32, species density in σ^{−d}; ``labels`` (S,) int8
  (class index into ``class_names``: liquid/glass or young/aged, :mod:`.tasks`); ``split`` (S,) int8 (0 train, 1 validation, 2 test, 3 analysis only:
  glass samples younger than ``dataset.classifier_min_age``, kept for Grad-CAM and the analysis
  but in no classifier split);
* per sample: ``source`` (trajectory path), ``frame``, ``stage`` (liquid / aging), ``temperature`` (ε/k_B), ``run``,
  ``replica``, ``time`` (τ; aging time t_w for glasses), ``seed`` (the trajectory's seed),
  ``potential_energy`` U/N (ε; of the inherent structure for inherent inputs),
  ``kinetic_temperature`` (ε/k_B, of the thermal frame; NaN for inherent structures);
* attrs: ``provenance`` (JSON), ``system``, ``spacing`` h = L/n and ``width`` w (σ),
  ``truncation``, ``box_length``, ``dimensions``, ``types``, ``class_names``, ``split_names``,
  ``class_counts`` (JSON {split: {class: count}}), ``task`` (JSON of the task), and for the
  ``age`` task ``kinetic_relaxation`` (JSON, :func:`glasscam.core.tasks.kinetic_relaxation_time`).

All frames of one run index (its liquid samples and the glasses quenched from it) fall in the same
split: a seeded shuffle of the run indices is cut into train/validation/test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from glasscam.core.grid import grid_points
from glasscam.core.keys import (
    POTENTIAL_ENERGY_KEY,
    PROVENANCE_KEY,
    REPLICA_KEY,
    RUN_KEY,
    SAMPLE_KEY,
    SOURCE_FRAME_KEY,
    TIME_KEY,
)
from glasscam.core.schedule import (
    frames_in_window,
    select_glass_frames,
    select_liquid_frames,
)
from glasscam.core.seeds import rng
from glasscam.core.tasks import class_names as task_class_names
from glasscam.core.tasks import kinetic_relaxation_time
from glasscam.errors import TrajectoryError
from glasscam.io.datasets import dataset_writer
from glasscam.io.gsd import open_trajectory, read_provenance, read_states, write_states
from glasscam.learn.voxelize import DEFAULT_TRUNCATION, voxelize_gaussian

CLASS_NAMES = ("liquid", "glass")  # the liquid_vs_glass task; see glasscam.core.tasks for the others
SPLIT_NAMES = ("train", "validation", "test")
ANALYSIS_ONLY = 3  # split code of glass samples the classifier never sees (t_w < classifier_min_age)
REQUIRED_PROVENANCE = ("system", "run", "replica", "temperature", "stage", "seed")
KINETIC_TEMPERATURE_KEY = "glasscam/kinetic_temperature"
LIQUID_VS_GLASS = {"name": "liquid_vs_glass", "kind": "liquid_vs_glass"}


@dataclass(frozen=True)
class Sample:
    """One image of the dataset: which frame of which trajectory, and its label and lineage."""

    source: str
    frame: int
    label: int
    run: int
    replica: int
    temperature: float
    time: float
    seed: int
    kinetic_temperature: float = float("nan")
    stage: str = ""  # liquid / aging: with run, replica, temperature and time the sample's identity


@dataclass(frozen=True)
class _Trajectory:
    path: str
    provenance: dict
    times: np.ndarray
    kinetic_temperatures: np.ndarray
    types: list[str]
    box_length: float
    dimensions: int


def _read_trajectory_header(path, stage: str) -> _Trajectory:
    """Provenance, per-frame times, species and box of a trajectory, without reading particles."""
    record = read_provenance(path)
    missing = [key for key in REQUIRED_PROVENANCE if key not in record]
    if missing:
        raise TrajectoryError(f"{path}: {PROVENANCE_KEY} lacks {missing}")
    if record["stage"] != stage:
        raise TrajectoryError(f"{path}: stage {record['stage']!r} in {PROVENANCE_KEY}; expected {stage!r}")
    with open_trajectory(path) as traj:
        n_frames = traj.file.nframes
        time_chunk = f"log/{TIME_KEY}"
        absent = [i for i in range(n_frames) if not traj.file.chunk_exists(i, time_chunk)]
        if absent:
            raise TrajectoryError(f"{path}: frames {absent[:5]} lack {time_chunk}")
        times = np.array([traj.file.read_chunk(i, time_chunk)[0] for i in range(n_frames)], dtype=np.float64)
        tk_chunk = f"log/{KINETIC_TEMPERATURE_KEY}"
        kinetic = np.array([traj.file.read_chunk(i, tk_chunk)[0] if traj.file.chunk_exists(i, tk_chunk) else np.nan
                            for i in range(n_frames)], dtype=np.float64)
        if record.get("inherent_structure"):
            kinetic[:] = np.nan  # minimized frames: no kinetic temperature
        first = traj[0]
        box = first.configuration.box
        return _Trajectory(
            path=str(path),
            provenance=record,
            times=times,
            kinetic_temperatures=kinetic,
            types=list(first.particles.types),
            box_length=float(box[0]),
            dimensions=int(first.configuration.dimensions),
        )


def split_runs(runs: list[int], fractions: dict, seed: int) -> dict[int, int]:
    """Assign each run index to a split (0 train, 1 validation, 2 test).

    The sorted run indices are shuffled with a seeded generator and cut into consecutive groups of
    sizes ≈ f · R (largest remainder, at least one run per split).
    """
    unique = sorted(set(runs))
    shares = np.array([float(fractions[name]) for name in SPLIT_NAMES])
    if len(unique) < len(SPLIT_NAMES):
        raise ValueError(
            f"dataset.split.{SPLIT_NAMES[len(unique)]}: needs at least one run, but only {len(unique)} "
            f"independent runs {unique} exist"
        )
    ideal = shares / shares.sum() * len(unique)
    counts = np.maximum(1, np.floor(ideal)).astype(int)
    while counts.sum() < len(unique):
        counts[np.argmax(ideal - counts)] += 1
    while counts.sum() > len(unique):
        donors = np.where(counts > 1)[0]
        counts[donors[np.argmin((ideal - counts)[donors])]] -= 1
    order = rng(seed, "dataset", "split").permutation(len(unique))
    assignment = np.repeat(np.arange(len(SPLIT_NAMES)), counts)
    return {unique[i]: int(assignment[k]) for k, i in enumerate(order)}


def _check_configs(voxel_cfg: dict, dataset_cfg: dict) -> None:
    for key in ("spacing", "width"):
        if key not in voxel_cfg:
            raise ValueError(f"voxel.{key} is missing")
        if not float(voxel_cfg[key]) > 0:
            raise ValueError(f"voxel.{key} = {voxel_cfg[key]!r}; must be positive")
    if "glass_ages" not in dataset_cfg or not list(dataset_cfg["glass_ages"]):
        raise ValueError("dataset.glass_ages must list at least one aging time (τ)")
    if any(float(t) < 0 for t in dataset_cfg["glass_ages"]):
        raise ValueError(f"dataset.glass_ages = {dataset_cfg['glass_ages']}; times must be ≥ 0")
    min_age = float(dataset_cfg.get("classifier_min_age", 0.0))
    if not any(float(t) >= min_age for t in dataset_cfg["glass_ages"]):
        raise ValueError(f"dataset.classifier_min_age = {min_age:g} τ leaves no glass_ages {dataset_cfg['glass_ages']} "
                         "for the classifier")
    split = dataset_cfg.get("split")
    if not isinstance(split, dict):
        raise ValueError("dataset.split must map train/validation/test to fractions")
    for name in SPLIT_NAMES:
        if name not in split:
            raise ValueError(f"dataset.split.{name} is missing")
        if not float(split[name]) > 0:
            raise ValueError(f"dataset.split.{name} = {split[name]!r}; must be positive")
    unknown = set(split) - set(SPLIT_NAMES)
    if unknown:
        raise ValueError(f"dataset.split has unknown keys {sorted(unknown)}; expected {list(SPLIT_NAMES)}")
    per = dataset_cfg.get("liquid_samples_per_trajectory")
    if per is not None and int(per) < 1:
        raise ValueError(f"dataset.liquid_samples_per_trajectory = {per!r}; must be ≥ 1 or null (all frames)")


def _check_consistent(trajectories: list[_Trajectory], system_types: list[str]) -> None:
    reference = trajectories[0]
    for traj in trajectories:
        if traj.types != list(system_types):
            raise TrajectoryError(f"{traj.path}: species {traj.types}; expected {list(system_types)}")
        if traj.provenance["system"] != reference.provenance["system"]:
            raise TrajectoryError(
                f"{traj.path}: system {traj.provenance['system']!r}, but {reference.path} is "
                f"{reference.provenance['system']!r}; a dataset holds one system"
            )
        if traj.dimensions != reference.dimensions or not np.isclose(traj.box_length, reference.box_length, rtol=1e-6):
            raise TrajectoryError(
                f"{traj.path}: box L = {traj.box_length:g} (d = {traj.dimensions}) differs from "
                f"{reference.path}: L = {reference.box_length:g} (d = {reference.dimensions})"
            )


def _plan_samples(liquids: list[_Trajectory], glasses: list[_Trajectory], dataset_cfg: dict,
                  task: dict | None = None) -> list[Sample]:
    """The samples of ``task`` (default liquid_vs_glass): liquid frames (label 0) and glass frames
    at ``glass_ages`` (label 1); or, for the age task, aging frames in the ``young`` (0) and
    ``aged`` (1) windows."""
    task = task or LIQUID_VS_GLASS
    per = dataset_cfg.get("liquid_samples_per_trajectory")
    per = None if per is None else int(per)
    ages = [float(t) for t in dataset_cfg["glass_ages"]]
    samples = []

    def add(traj: _Trajectory, frames, label: int) -> None:
        p = traj.provenance
        samples.extend(
            Sample(traj.path, int(f), label, int(p["run"]), int(p["replica"]), float(p["temperature"]),
                   float(traj.times[f]), int(p["seed"]), float(traj.kinetic_temperatures[f]), str(p["stage"]))
            for f in frames
        )

    if task["kind"] == "liquid_vs_glass":
        for traj in liquids:
            add(traj, select_liquid_frames(len(traj.times), per, traj.path), 0)
        for traj in glasses:
            add(traj, select_glass_frames(traj.times, ages, traj.path), 1)
    elif task["kind"] == "age":
        for traj in glasses:
            for label, part in enumerate(("young", "aged")):
                frames = frames_in_window(traj.times, task[part])
                if len(frames) == 0:
                    raise ValueError(f"dataset.tasks ({task['name']}).{part} = {task[part]}: no frame of {traj.path} "
                                     f"lies in that window (frame times {np.round(traj.times, 3).tolist()})")
                add(traj, frames, label)
    else:
        raise ValueError(f"dataset.tasks ({task.get('name')}).kind = {task['kind']!r} is not known")
    return samples


def check_kinetic_relaxation(glasses: list[_Trajectory], task: dict, glass_temperature: float,
                             n_particles: int, dimensions: int) -> dict:
    """Measure t_K (:func:`glasscam.core.tasks.kinetic_relaxation_time`) over the given aging
    trajectories and refuse an age task whose first young frame comes before it."""
    reference = glasses[0].times
    usable = [g for g in glasses if len(g.times) == len(reference) and np.allclose(g.times, reference)]
    kinetic = np.array([g.kinetic_temperatures for g in usable])
    if not usable or not np.isfinite(kinetic).all():
        return {"time": None, "reason": "no kinetic temperatures (inherent structures)"}
    measured = kinetic_relaxation_time(reference, kinetic, glass_temperature, n_particles, dimensions)
    young = frames_in_window(reference, task["young"])
    first_young = float(reference[young[0]]) if len(young) else float(task["young"][0])
    measured["first_young_frame_time"] = first_young
    if first_young < measured["time"] * (1 - 1e-9):
        raise ValueError(
            f"dataset.tasks ({task['name']}).young = {task['young']}: its first frame at t_w = {first_young:g} τ comes before the "
            f"kinetic temperature has come back to T_G = {glass_temperature:g} within its equilibrium fluctuation "
            f"σ_T = {measured['sigma']:.4f} (measured over {len(usable)} aging trajectories: t_K = {measured['time']:g} τ); "
            "young samples would be hotter than aged ones"
        )
    return measured


def _read_potential_energies(path, frames: list[int]) -> list[np.ndarray]:
    chunk = f"log/{POTENTIAL_ENERGY_KEY}"
    with open_trajectory(path) as traj:
        missing = [f for f in frames if not traj.file.chunk_exists(f, chunk)]
        if missing:
            raise TrajectoryError(f"{path}: frames {missing[:5]} lack {chunk}")
        return [traj.file.read_chunk(f, chunk) for f in frames]


def build_dataset(
    *,
    output_h5,
    liquid_paths: list,
    glass_paths: list,
    system_types: list[str],
    voxel_cfg: dict,
    dataset_cfg: dict,
    seed: int,
    provenance: dict,
    task: dict | None = None,
    glass_temperature: float | None = None,
) -> dict:
    """Voxelize the samples of one classification ``task`` (:mod:`glasscam.core.tasks`; default the
    seed paper's liquid_vs_glass) of one system into ``output_h5`` (layout: :func:`glasscam.io.datasets.dataset_writer`;
    the analysis samples as particles are :func:`write_glass_samples`).

    liquid_vs_glass: liquid samples from ``liquid_paths`` (label 0), glass samples at
    ``dataset_cfg['glass_ages']`` from ``glass_paths`` (label 1). age: every frame of
    ``glass_paths`` in the task's ``young`` (0) / ``aged`` (1) windows; with thermal inputs the
    kinetic-temperature relaxation after the quench is measured over ``glass_paths``
    (``glass_temperature`` is the bath) and a young window starting before it is refused.

    ``voxel_cfg``: spacing h, width w (σ), optional truncation (in w, default 4) and
    grid_multiple (default 1). ``dataset_cfg``: glass_ages (t_w in τ), classifier_min_age (τ,
    default 0: glass samples with t_w below it get split 3, analysis only), split
    {train, validation, test} fractions, optional liquid_samples_per_trajectory.
    Returns the class counts per split.
    """
    task = dict(task or LIQUID_VS_GLASS)
    class_names = task_class_names(task)
    _check_configs(voxel_cfg, dataset_cfg)
    if task["kind"] == "liquid_vs_glass" and not liquid_paths:
        raise ValueError("build_dataset: no liquid trajectories given")
    if not glass_paths:
        raise ValueError("build_dataset: no glass (aging) trajectories given")
    paths = [str(p) for p in list(liquid_paths) + list(glass_paths)]
    duplicated = sorted({p for p in paths if paths.count(p) > 1})
    if duplicated:
        raise ValueError(f"build_dataset: trajectories given more than once: {duplicated}")
    liquids = [_read_trajectory_header(p, "liquid") for p in liquid_paths] if task["kind"] == "liquid_vs_glass" else []
    glasses = [_read_trajectory_header(p, "aging") for p in glass_paths]
    _check_consistent(liquids + glasses, system_types)
    samples = _plan_samples(liquids, glasses, dataset_cfg, task)
    reference = (liquids + glasses)[0]
    kinetic_relaxation = None
    if task["kind"] == "age" and glass_temperature is not None:
        with open_trajectory(reference.path) as traj:
            n_particles = int(traj[0].particles.N)
        kinetic_relaxation = check_kinetic_relaxation(glasses, task, float(glass_temperature), n_particles,
                                                      reference.dimensions)
    split_of_run = split_runs([s.run for s in samples], dataset_cfg["split"], seed)
    splits = np.array([split_of_run[s.run] for s in samples], dtype=np.int8)
    labels = np.array([s.label for s in samples], dtype=np.int8)
    ages = np.array([s.time for s in samples])
    if task["kind"] == "liquid_vs_glass":
        splits[(labels == 1) & (ages < float(dataset_cfg.get("classifier_min_age", 0.0)))] = ANALYSIS_ONLY

    sample_frames: dict[str, list[int]] = {}
    for s in samples:
        sample_frames.setdefault(s.source, []).append(s.frame)
    energies = {path: dict(zip(frames, _read_potential_energies(path, frames)))
                for path, frames in sample_frames.items()}

    box_length, dimensions = reference.box_length, reference.dimensions
    spacing, width = float(voxel_cfg["spacing"]), float(voxel_cfg["width"])
    truncation = float(voxel_cfg.get("truncation", DEFAULT_TRUNCATION))
    grid_multiple = int(voxel_cfg.get("grid_multiple", 1))
    n = grid_points(box_length, spacing, grid_multiple)
    n_types = len(system_types)
    counts = {name: {c: int(np.sum((splits == k) & (labels == i))) for i, c in enumerate(class_names)}
              for k, name in enumerate(SPLIT_NAMES + ("analysis_only",))}
    record = {**provenance, "stage": "dataset", "seed": int(seed), "voxel": dict(voxel_cfg),
              "dataset": dict(dataset_cfg), "task": task}

    with dataset_writer(output_h5, (len(samples), n_types) + (n,) * dimensions) as (images, finish):
        for path in tqdm([t.path for t in liquids + glasses], desc="voxelize", unit="trajectory"):
            own = [(k, s) for k, s in enumerate(samples) if s.source == path]
            states = read_states(path)
            for k, s in own:
                state = states[s.frame]
                images[k] = voxelize_gaussian(state.positions, state.typeid, n_types, box_length, dimensions,
                                              spacing, width, truncation, grid_multiple)
        columns = {
            "labels": labels,
            "split": splits,
            "source": [s.source for s in samples],
            "frame": np.array([s.frame for s in samples], dtype=np.int64),
            "temperature": np.array([s.temperature for s in samples], dtype=np.float64),
            "run": np.array([s.run for s in samples], dtype=np.int64),
            "replica": np.array([s.replica for s in samples], dtype=np.int64),
            "time": np.array([s.time for s in samples], dtype=np.float64),
            "seed": np.array([s.seed for s in samples], dtype=np.int64),
            "stage": [s.stage for s in samples],
            "kinetic_temperature": np.array([s.kinetic_temperature for s in samples]),
            # U/N, ε per particle
            "potential_energy": np.array([np.mean(energies[s.source][s.frame], dtype=np.float64) for s in samples]),
        }
        attrs = {
            "provenance": json.dumps(record, sort_keys=True, default=str),
            "system": str(reference.provenance["system"]),
            "spacing": box_length / n,
            "width": width,
            "truncation": truncation,
            "box_length": box_length,
            "dimensions": dimensions,
            "types": list(system_types),
            "class_names": list(class_names),
            "task": json.dumps(task, sort_keys=True),
            "grid_multiple": grid_multiple,
        }
        if kinetic_relaxation is not None:
            attrs["kinetic_relaxation"] = json.dumps(kinetic_relaxation)
        attrs["split_names"] = [*SPLIT_NAMES, "analysis_only"]
        attrs["class_counts"] = json.dumps(counts, sort_keys=True)
        finish(columns, attrs)
    return counts


def write_glass_samples(*, aging_paths: list, glass_ages: list[float], out_gsd, provenance: dict) -> list[dict]:
    """The analysis samples: for every aging trajectory (replica 0 of each run, whose
    iso-configurational replicas give the propensity) the frames nearest ``glass_ages`` (t_w, τ;
    :func:`select_glass_frames`), as particles in ``out_gsd`` with per-frame logs
    ``glasscam/sample`` (running index), ``glasscam/run``, ``glasscam/replica``,
    ``glasscam/source_frame``, ``glasscam/requested_age`` (τ; the frame's own time is the t_w
    actually used), ``glasscam/temperature`` and the per-particle potential energy.

    Returns one row per sample {run, replica, frame, requested_age, time} so a snapped age shows."""
    if not aging_paths:
        raise ValueError("write_glass_samples: no aging trajectories given")
    ages = [float(t) for t in glass_ages]
    states_out, logs_out, rows = [], [], []
    for path in aging_paths:
        header = _read_trajectory_header(path, "aging")
        frames = select_glass_frames(header.times, ages, path)
        energies = _read_potential_energies(path, frames)
        states = read_states(path)
        p = header.provenance
        for age, frame, energy in zip(ages, frames, energies, strict=True):
            k = len(states_out)
            states_out.append(states[frame])
            logs_out.append({
                SAMPLE_KEY: np.array([k], dtype=np.int64),
                RUN_KEY: np.array([int(p["run"])], dtype=np.int64),
                REPLICA_KEY: np.array([int(p["replica"])], dtype=np.int64),
                SOURCE_FRAME_KEY: np.array([frame], dtype=np.int64),
                "glasscam/requested_age": np.array([age], dtype=np.float64),
                "glasscam/temperature": np.array([float(p["temperature"])], dtype=np.float64),
                KINETIC_TEMPERATURE_KEY: np.array([header.kinetic_temperatures[frame]], dtype=np.float64),
                POTENTIAL_ENERGY_KEY: energy,
            })
            rows.append({"run": int(p["run"]), "replica": int(p["replica"]), "frame": int(frame),
                         "requested_age": age, "time": float(header.times[frame])})
    record = {**provenance, "stage": "glass_samples", "glass_ages": ages, "samples": rows}
    write_states(out_gsd, states_out, record, logs_out)
    return rows
