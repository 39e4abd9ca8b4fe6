"""Checks every file read passes (box, particle number, types, coincident particles, times, unwrapping)."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glasscam.core.keys import TIME_KEY
from glasscam.core.neighbors import ball_query
from glasscam.core.state import State
from glasscam.errors import ReaderError

UNWRAP_MODES = ("auto", "independent")


MAX_UNWRAP_FRACTION = 0.25


MIN_SEPARATION = 1e-4  # σ: closer particles are called coincident


BOX_RTOL = 1e-6


@dataclass
class Trajectory:
    """Frames of one file as states (``state.time`` set) and, for GSD, the per-frame log chunks
    (``{key: array}`` without the ``log/`` prefix)."""

    path: Path
    format: str
    states: list[State]
    logs: list[dict] = field(default_factory=list)

    @property
    def times(self) -> np.ndarray:
        return np.array([s.time for s in self.states])


@dataclass
class ReplicaSet:
    """npz layout: initial configurations (S states) and replica end points (S, R, N, d) unwrapped
    (``None`` without ``positions``)."""

    path: Path
    states: list[State]
    replica_ends: np.ndarray | None


def box_length_of(path, frame: int, box, dimensions: int) -> float:
    """The single box length L of a GSD-style box [Lx, Ly, Lz, xy, xz, yz]; anything else refused."""
    box = [float(b) for b in np.ravel(box)]
    if len(box) != 6:
        raise ReaderError(f"{path}: frame {frame}: box {box} is not [Lx, Ly, Lz, xy, xz, yz]")
    lengths = box[:dimensions]
    if any(t != 0.0 for t in box[3:]):
        raise ReaderError(
            f"{path}: frame {frame}: tilted (triclinic) box with tilts xy, xz, yz = {box[3:]}; glasscam supports cubic "
            "(square in 2D) boxes only"
        )
    if not all(np.isfinite(lengths)) or min(lengths) <= 0:
        raise ReaderError(f"{path}: frame {frame}: box lengths {lengths} are not positive")
    if not np.allclose(lengths, lengths[0], rtol=BOX_RTOL, atol=0):
        shape = " × ".join(f"{x:g}" for x in lengths)
        raise ReaderError(
            f"{path}: frame {frame}: box {shape} is not {'square' if dimensions == 2 else 'cubic'}; glasscam's states, "
            "voxel grids and analyses assume one box length L (Lx = Ly = Lz), so non-cubic boxes are refused rather than "
            "read as L × L"
        )
    return lengths[0]


def check_state(path, frame: int, state: State, min_separation: float = MIN_SEPARATION) -> None:
    """Refuse non-finite coordinates, type ids outside the type list and coincident particles
    (pairs closer than ``min_separation``, periodic)."""
    n = len(state.positions)
    if n == 0:
        raise ReaderError(f"{path}: frame {frame}: no particles")
    if not np.all(np.isfinite(state.positions)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(state.positions), axis=1))[0])
        raise ReaderError(f"{path}: frame {frame}: particle {bad} has a non-finite position {state.positions[bad].tolist()}")
    if len(state.typeid) != n:
        raise ReaderError(f"{path}: frame {frame}: {len(state.typeid)} type ids for {n} particles")
    if state.typeid.min() < 0 or state.typeid.max() >= len(state.types):
        raise ReaderError(
            f"{path}: frame {frame}: type ids span [{state.typeid.min()}, {state.typeid.max()}] but the file names "
            f"{len(state.types)} types {state.types}"
        )
    if min_separation > 0 and n > 1:
        pairs = ball_query(state, min_separation, exclude_self=True)
        if len(pairs):
            i, j = int(pairs.query_point_indices[0]), int(pairs.point_indices[0])
            raise ReaderError(
                f"{path}: frame {frame}: particles {i} and {j} are coincident (distance {float(pairs.distances[0]):.3g} < "
                f"{min_separation:g} σ; {len(pairs) // 2} such pairs): duplicated particles or a broken export"
            )


def check_consistent(path, states: list[State]) -> None:
    """Same particle number, dimension, box and type list in every frame."""
    first = states[0]
    for k, s in enumerate(states[1:], start=1):
        if len(s.positions) != len(first.positions):
            raise ReaderError(
                f"{path}: frame {k}: particle number changes from {len(first.positions)} (frame 0) to {len(s.positions)}; "
                "glasscam follows a fixed set of particles (lost or inserted particles are not supported)"
            )
        if s.dimensions != first.dimensions:
            raise ReaderError(f"{path}: frame {k}: dimensions {s.dimensions} differ from {first.dimensions} in frame 0")
        if not np.isclose(s.box_length, first.box_length, rtol=BOX_RTOL, atol=0):
            raise ReaderError(
                f"{path}: frame {k}: box length {s.box_length:g} differs from {first.box_length:g} in frame 0 (changing boxes, "
                "e.g. NPT, are not supported)"
            )
        if list(s.types) != list(first.types):
            raise ReaderError(f"{path}: frame {k}: type names {s.types} differ from {first.types} in frame 0")


def map_types(path, frame: int, names: list[str], typeid: np.ndarray, type_map: dict | None, species: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """File type names → (type ids, type list). With ``species`` (a system's, in order) every
    name used must map (through ``type_map``, else by itself) onto one of them; the type list is
    then ``species``. Without, names are mapped by ``type_map`` and kept in file order."""
    type_map = {str(k): str(v) for k, v in (type_map or {}).items()}
    mapped = [type_map.get(str(name), str(name)) for name in names]
    used = np.unique(typeid)
    if len(used) and (used.min() < 0 or used.max() >= len(names)):
        raise ReaderError(f"{path}: frame {frame}: type ids span [{used.min()}, {used.max()}] but the file names {len(names)} types {names}")
    if species is None:
        if len(set(mapped)) != len(mapped):
            raise ReaderError(f"{path}: frame {frame}: type_map {type_map} maps two file types onto one name: {mapped}")
        return typeid.astype(np.int64), mapped
    lookup = np.full(len(names), -1, dtype=np.int64)
    for t in used:
        if mapped[t] not in species:
            hint = f" (type_map maps it to {mapped[t]!r})" if str(names[t]) in type_map else ""
            raise ReaderError(
                f"{path}: frame {frame}: unknown type {names[t]!r}{hint}; the system's species are {species}: give "
                f"type_map {{{names[t]!r}: <species>}}"
            )
        lookup[t] = species.index(mapped[t])
    return lookup[typeid], list(species)


def unwrap_by_minimum_image(path, states: list[State], own_images: list[bool], max_fraction: float = MAX_UNWRAP_FRACTION) -> None:
    """Give every frame without its own images (``own_images[k]`` False) the images that follow
    the minimum-image displacement from frame k−1; refuse when a component exceeds
    ``max_fraction`` · L (in place)."""
    for k in range(1, len(states)):
        if own_images[k]:
            continue
        prev, cur = states[k - 1], states[k]
        L, d = cur.box_length, cur.dimensions
        step = cur.positions[:, :d] - prev.positions[:, :d]
        step -= L * np.round(step / L)
        largest = float(np.abs(step).max())
        if largest > max_fraction * L:
            i = int(np.argmax(np.abs(step).max(axis=1)))
            raise ReaderError(
                f"{path}: frame {k}: images are not stored for this frame and particle {i} moved {largest:.3g} σ (minimum "
                f"image) since frame {k - 1} (t = {prev.time:g} → {cur.time:g}), more than {max_fraction:g} L = "
                f"{max_fraction * L:.3g}: periodic crossings cannot be told apart, so unwrapped displacements would be "
                "wrong. Store particles/image in every frame (HOOMD: write.GSD(dynamic=['property', 'momentum'])) or "
                "unwrapped coordinates, or write frames closer in time (if the frames are unrelated configurations, read "
                "them with unwrap='independent')"
            )
        unwrapped = prev.unwrapped[:, :d] + step
        images = np.zeros_like(cur.images)
        images[:, :d] = np.rint((unwrapped - cur.positions[:, :d]) / L).astype(images.dtype)
        cur.images = images


def _finish(path, states: list[State], own_images: list[bool], unwrap: str, max_unwrap_fraction: float, min_separation: float) -> None:
    if unwrap not in UNWRAP_MODES:
        raise ReaderError(f"{path}: unwrap = {unwrap!r}; expected one of {UNWRAP_MODES}")
    check_consistent(path, states)
    for k, s in enumerate(states):
        check_state(path, k, s, min_separation)
    if unwrap == "auto":
        unwrap_by_minimum_image(path, states, own_images, max_unwrap_fraction)


def _times(path, explicit: list[float | None], steps: list[int | None], dt: float | None, require: bool) -> list[float]:
    """Frame times: explicit values where every frame has one, else step × dt; refusal otherwise
    (a single frame or ``require=False`` without any time gives 0)."""
    have = [t is not None for t in explicit]
    if all(have):
        return [float(t) for t in explicit]
    if any(have):
        first = have.index(False)
        raise ReaderError(f"{path}: frame {first}: no time log ({TIME_KEY}) although frame {have.index(True)} has one")
    if dt is not None:
        if not dt > 0:
            raise ReaderError(f"{path}: dt = {dt!r}; expected a positive time step (τ)")
        missing = [k for k, s in enumerate(steps) if s is None]
        if missing:
            raise ReaderError(f"{path}: frame {missing[0]}: no step number to multiply by dt = {dt:g}")
        return [float(s) * float(dt) for s in steps]
    if len(explicit) == 1 or not require:
        return [0.0] * len(explicit)
    raise ReaderError(
        f"{path}: frame 0: no time log ({TIME_KEY}) and no dt given to convert configuration/step into time; give dt "
        f"(e.g. dt: 0.005 in the external entry, --dt on the command line) — frames would otherwise all sit at t = 0"
    )
