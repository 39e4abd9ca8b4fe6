"""Image dataset of one system: liquid and glass configurations → periodic Gaussian density images
(:mod:`.voxelize`), labels, a split by independent lineage, and per-sample provenance.

HDF5 layout (S samples, C species, d grid axes of n cells):

* ``images`` (S, C, n, …) float32, species density in σ_AA^{−d}; ``labels`` (S,) int8
  (0 liquid, 1 glass); ``split`` (S,) int8 (0 train, 1 validation, 2 test, 3 analysis only:
  glass samples younger than ``dataset.classifier_min_age``, kept for Grad-CAM and the analysis
  but in no classifier split);
* per sample: ``source`` (trajectory path), ``frame``, ``temperature`` (ε_AA/k_B), ``run``,
  ``replica``, ``time`` (τ; aging time t_w for glasses), ``seed`` (the trajectory's seed),
  ``potential_energy`` U/N (ε_AA; of the inherent structure for inherent inputs);
* attrs: ``provenance`` (JSON), ``system``, ``spacing`` h = L/n and ``width`` w (σ_AA),
  ``truncation``, ``box_length``, ``dimensions``, ``types``, ``class_names``, ``split_names``,
  ``class_counts`` (JSON {split: {class: count}}).

All frames of one run index (its liquid samples and the glasses quenched from it) fall in the same
split: a seeded shuffle of the run indices is cut into train/validation/test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import h5py
import numpy as np

from .seeds import rng
from .trajectory import (
    PROVENANCE_KEY,
    TIME_KEY,
    TrajectoryError,
    atomic_output,
    open_trajectory,
    per_particle_key,
    read_provenance,
    read_states,
    write_states,
)
from .voxelize import DEFAULT_TRUNCATION, grid_points, voxelize_gaussian

CLASS_NAMES = ("liquid", "glass")
SPLIT_NAMES = ("train", "validation", "test")
ANALYSIS_ONLY = 3  # split code of glass samples the classifier never sees (t_w < classifier_min_age)
REQUIRED_PROVENANCE = ("system", "run", "replica", "temperature", "stage", "seed")
POTENTIAL_ENERGY_KEY = per_particle_key("potential_energy")
GLASS_AGE_TOLERANCE = 2.0  # the chosen frame's time must lie in [t_w/2, 2 t_w]


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


@dataclass(frozen=True)
class _Trajectory:
    path: str
    provenance: dict
    times: np.ndarray
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
        first = traj[0]
        box = first.configuration.box
        return _Trajectory(
            path=str(path),
            provenance=record,
            times=times,
            types=list(first.particles.types),
            box_length=float(box[0]),
            dimensions=int(first.configuration.dimensions),
        )


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


def _plan_samples(liquids: list[_Trajectory], glasses: list[_Trajectory], dataset_cfg: dict) -> list[Sample]:
    per = dataset_cfg.get("liquid_samples_per_trajectory")
    per = None if per is None else int(per)
    ages = [float(t) for t in dataset_cfg["glass_ages"]]
    samples = []
    for label, group in ((0, liquids), (1, glasses)):
        for traj in group:
            if label == 0:
                frames = select_liquid_frames(len(traj.times), per, traj.path)
            else:
                frames = select_glass_frames(traj.times, ages, traj.path)
            p = traj.provenance
            samples += [
                Sample(traj.path, f, label, int(p["run"]), int(p["replica"]), float(p["temperature"]),
                       float(traj.times[f]), int(p["seed"]))
                for f in frames
            ]
    return samples


def _read_potential_energies(path, frames: list[int]) -> list[np.ndarray]:
    chunk = f"log/{POTENTIAL_ENERGY_KEY}"
    with open_trajectory(path) as traj:
        missing = [f for f in frames if not traj.file.chunk_exists(f, chunk)]
        if missing:
            raise TrajectoryError(f"{path}: frames {missing[:5]} lack {chunk}")
        return [traj.file.read_chunk(f, chunk) for f in frames]


def build_dataset(
    output_h5,
    output_glass_gsd,
    liquid_paths: list,
    glass_paths: list,
    system_types: list[str],
    voxel_cfg: dict,
    dataset_cfg: dict,
    seed: int,
    provenance: dict,
) -> dict:
    """Voxelize liquid samples and glass samples of one system into ``output_h5``; write the glass
    samples (with per-particle potential energy) to ``output_glass_gsd`` in HDF5 order.

    ``voxel_cfg``: spacing h, width w (σ_AA), optional truncation (in w, default 4) and
    grid_multiple (default 1). ``dataset_cfg``: glass_ages (t_w in τ), classifier_min_age (τ,
    default 0: glass samples with t_w below it get split 3, analysis only), split
    {train, validation, test} fractions, optional liquid_samples_per_trajectory.
    Returns the class counts per split.
    """
    _check_configs(voxel_cfg, dataset_cfg)
    if not liquid_paths:
        raise ValueError("build_dataset: no liquid trajectories given")
    if not glass_paths:
        raise ValueError("build_dataset: no glass (aging) trajectories given")
    paths = [str(p) for p in list(liquid_paths) + list(glass_paths)]
    duplicated = sorted({p for p in paths if paths.count(p) > 1})
    if duplicated:
        raise ValueError(f"build_dataset: trajectories given more than once: {duplicated}")
    liquids = [_read_trajectory_header(p, "liquid") for p in liquid_paths]
    glasses = [_read_trajectory_header(p, "aging") for p in glass_paths]
    _check_consistent(liquids + glasses, system_types)
    samples = _plan_samples(liquids, glasses, dataset_cfg)
    split_of_run = split_runs([s.run for s in samples], dataset_cfg["split"], seed)
    splits = np.array([split_of_run[s.run] for s in samples], dtype=np.int8)
    labels = np.array([s.label for s in samples], dtype=np.int8)
    ages = np.array([s.time for s in samples])
    splits[(labels == 1) & (ages < float(dataset_cfg.get("classifier_min_age", 0.0)))] = ANALYSIS_ONLY

    sample_frames: dict[str, list[int]] = {}
    for s in samples:
        sample_frames.setdefault(s.source, []).append(s.frame)
    energies = {path: dict(zip(frames, _read_potential_energies(path, frames)))
                for path, frames in sample_frames.items()}

    box_length, dimensions = liquids[0].box_length, liquids[0].dimensions
    spacing, width = float(voxel_cfg["spacing"]), float(voxel_cfg["width"])
    truncation = float(voxel_cfg.get("truncation", DEFAULT_TRUNCATION))
    grid_multiple = int(voxel_cfg.get("grid_multiple", 1))
    n = grid_points(box_length, spacing, grid_multiple)
    n_types = len(system_types)
    counts = {name: {c: int(np.sum((splits == k) & (labels == i))) for i, c in enumerate(CLASS_NAMES)}
              for k, name in enumerate(SPLIT_NAMES + ("analysis_only",))}
    record = {**provenance, "stage": "dataset", "seed": int(seed), "voxel": dict(voxel_cfg),
              "dataset": dict(dataset_cfg)}

    glass_samples = []  # (state, log) of each glass sample, in HDF5 order
    with atomic_output(output_h5) as tmp:
        with h5py.File(tmp, "w") as h5:
            images = h5.create_dataset(
                "images", shape=(len(samples), n_types) + (n,) * dimensions, dtype=np.float32,
                chunks=(1, n_types) + (n,) * dimensions, compression="gzip", compression_opts=4, shuffle=True,
            )
            for path in [t.path for t in liquids + glasses]:
                own = [(k, s) for k, s in enumerate(samples) if s.source == path]
                states = read_states(path)
                for k, s in own:
                    state = states[s.frame]
                    images[k] = voxelize_gaussian(state.positions, state.typeid, n_types, box_length, dimensions,
                                                  spacing, width, truncation, grid_multiple)
                    if s.label == 1:
                        glass_samples.append((state, {
                            "glasscam/sample": np.array([k], dtype=np.int64),
                            "glasscam/run": np.array([s.run], dtype=np.int64),
                            "glasscam/replica": np.array([s.replica], dtype=np.int64),
                            "glasscam/source_frame": np.array([s.frame], dtype=np.int64),
                            "glasscam/split": np.array([splits[k]], dtype=np.int64),
                            "glasscam/temperature": np.array([s.temperature], dtype=np.float64),
                            POTENTIAL_ENERGY_KEY: energies[path][s.frame],
                        }))
            h5.create_dataset("labels", data=labels)
            h5.create_dataset("split", data=splits)
            h5.create_dataset("source", data=[s.source for s in samples], dtype=h5py.string_dtype())
            h5.create_dataset("frame", data=np.array([s.frame for s in samples], dtype=np.int64))
            h5.create_dataset("temperature", data=np.array([s.temperature for s in samples], dtype=np.float64))
            h5.create_dataset("run", data=np.array([s.run for s in samples], dtype=np.int64))
            h5.create_dataset("replica", data=np.array([s.replica for s in samples], dtype=np.int64))
            h5.create_dataset("time", data=np.array([s.time for s in samples], dtype=np.float64))
            h5.create_dataset("seed", data=np.array([s.seed for s in samples], dtype=np.int64))
            h5.create_dataset("potential_energy", data=np.array(  # U/N, ε_AA per particle
                [np.mean(energies[s.source][s.frame], dtype=np.float64) for s in samples]))
            h5.attrs["provenance"] = json.dumps(record, sort_keys=True, default=str)
            h5.attrs["system"] = str(liquids[0].provenance["system"])
            h5.attrs["spacing"] = box_length / n
            h5.attrs["width"] = width
            h5.attrs["truncation"] = truncation
            h5.attrs["box_length"] = box_length
            h5.attrs["dimensions"] = dimensions
            h5.attrs["types"] = list(system_types)
            h5.attrs["class_names"] = list(CLASS_NAMES)
            h5.attrs["split_names"] = [*SPLIT_NAMES, "analysis_only"]
            h5.attrs["class_counts"] = json.dumps(counts, sort_keys=True)
    write_states(output_glass_gsd, [state for state, _ in glass_samples], record, [log for _, log in glass_samples])
    return counts
