"""Readers for configurations and trajectories written by other programs, turned into the
pipeline's :class:`~glasscam.trajectory.State` lists, and the checks every file passes first.

Formats (``format`` names, chosen from the suffix with ``auto``):

* ``gsd`` (``.gsd``): GSD as written by any HOOMD-blue version, by glasscam itself, or by
  converters. Type names are mapped by ``type_map``. ``particles/image`` may be stored in every
  frame, only in frame 0 (HOOMD's default ``write.GSD``: ``image`` belongs to the
  ``momentum`` category, written once; ``gsd`` then serves frame 0's images for every frame),
  or not at all: frames without their own image chunk are unwrapped by the minimum image from
  the previous frame (see *Unwrapping*). Time: ``log/glasscam/time`` where every frame has it,
  else ``configuration/step`` × ``dt`` where ``dt`` is given, else the file is refused.
* ``lammps-dump`` (``.dump``, ``.lammpstrj``): LAMMPS text dumps (``dump custom``/``atom``),
  read with ASE (:func:`ase.io.read`, ``lammps-dump-text``). Columns ``id type`` and either
  unwrapped ``xu yu zu`` (exact) or wrapped ``x y z``/``xs ys zs`` (unwrapped by the minimum
  image; ASE does not carry image flags ``ix iy iz``). Types are LAMMPS' integer types, mapped by
  ``type_map`` (keys ``"1"``, ``"2"``, …); time = ``TIMESTEP`` × ``dt``.
* ``extxyz`` (``.xyz``, ``.extxyz``): extended XYZ (ASE) with ``Lattice="…"``; species are the
  file's symbols, mapped by ``type_map``; time from the comment's ``time=`` key, else
  ``step=``/``timestep=`` × ``dt``.
* ``npz`` (``.npz``): the GlassBench/BOTAN KA layout: ``types`` (N,), ``initial_positions``
  (N, d) and optionally ``positions`` (R, N, d), the unwrapped end points of R
  iso-configurational runs started from ``initial_positions`` (a leading sample axis S is
  allowed on all three). The box is not in the file: ``box_length`` (or the system's) is used.
  Read by :func:`read_npz`, which returns the initial configurations and the replica ends.

Refused, with an error naming the file, the frame and the problem, before any analysis runs
(:class:`ReaderError`): a box that is not cubic (square in 2D; Lx ≠ Ly ≠ Lz — glasscam's
states, voxel grids and analyses are written for one box length) or tilted (triclinic), a box
that changes between frames (NPT), a particle number that changes, particles closer than
``min_separation`` (coincident), non-finite coordinates, types outside the type list or not
mapped to a species of the system, a missing position/type chunk, partial time logs or times
that cannot be known, and displacements between frames too large to unwrap.

Unwrapping: with wrapped coordinates and no images, particle i's displacement between frames
k−1 and k is taken as the minimum image of x_k − x_{k−1}. That is exact only while every true
displacement component is below L/2; since a folded value can lie anywhere in (−L/2, L/2), the
reader refuses the file when any minimum-image component exceeds ``max_unwrap_fraction`` · L
(default 0.25): then frames are too far apart to tell crossings from jumps. Write images every
frame (HOOMD: ``hoomd.write.GSD(..., dynamic=['property', 'momentum'])``; LAMMPS:
``dump custom … xu yu zu``) for such trajectories. ``unwrap="independent"`` declares the frames
to be unrelated configurations (a sample collection): images absent are then zero and no
displacement across frames is implied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .trajectory import PROVENANCE_KEY, TIME_KEY, State, TrajectoryError, damaged

FORMATS = ("gsd", "lammps-dump", "extxyz", "npz")
SUFFIXES = {".gsd": "gsd", ".dump": "lammps-dump", ".lammpstrj": "lammps-dump", ".xyz": "extxyz", ".extxyz": "extxyz", ".npz": "npz"}
UNWRAP_MODES = ("auto", "independent")
MAX_UNWRAP_FRACTION = 0.25
MIN_SEPARATION = 1e-4  # σ: closer particles are called coincident
BOX_RTOL = 1e-6


class ReaderError(TrajectoryError):
    """A file the pipeline cannot represent or read correctly; the message names the file, the
    frame and the problem."""


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


def detect_format(path, fmt: str = "auto") -> str:
    """``fmt`` checked, or the format implied by the suffix of ``path`` with ``auto``."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ReaderError(f"{path}: format {fmt!r}; expected one of {FORMATS} or 'auto'")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ReaderError(f"{path}: cannot tell the format from the suffix {suffix!r}; give one of {FORMATS}")
    return SUFFIXES[suffix]


# ---------------------------------------------------------------------------------------------
# checks shared by every format


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


def wrap_into_box(positions: np.ndarray, images: np.ndarray, box_length: float, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions folded into [−L/2, L/2) with the images adjusted so that positions + images · L
    is unchanged (foreign writers do not always wrap)."""
    shift = np.zeros_like(images)
    shift[:, :dimensions] = np.floor(positions[:, :dimensions] / box_length + 0.5).astype(images.dtype)
    return positions - shift * box_length, images + shift


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
        import freud

        from .indicators import freud_system

        box, points = freud_system(state)
        pairs = (
            freud.locality.AABBQuery(box, points)
            .query(points, {"r_max": float(min_separation), "exclude_ii": True})
            .toNeighborList()
        )
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


# ---------------------------------------------------------------------------------------------
# GSD


def read_gsd(
    path,
    type_map: dict | None = None,
    species: list[str] | None = None,
    dt: float | None = None,
    unwrap: str = "auto",
    max_unwrap_fraction: float = MAX_UNWRAP_FRACTION,
    min_separation: float = MIN_SEPARATION,
    require_time: bool = True,
    masses: dict | None = None,
) -> Trajectory:
    """Every frame of a GSD file as checked states (see the module docstring), with its logs."""
    import gsd.hoomd

    from .trajectory import open_trajectory

    path = Path(path)
    states, logs, own_images, explicit, steps = [], [], [], [], []
    with open_trajectory(path) as traj:
        fl = traj.file
        own_writer = bool(fl.chunk_exists(frame=0, name="log/" + PROVENANCE_KEY))
        for k in range(len(traj)):
            if k == 0 and not fl.chunk_exists(frame=0, name="particles/position"):
                raise ReaderError(f"{path}: frame 0: missing chunk particles/position")
            try:
                frame: gsd.hoomd.Frame = traj[k]
            except Exception as err:
                raise damaged(path, f"frame {k}: truncated or corrupt", err) from err
            # glasscam writes images in every frame and gsd leaves out chunks equal to frame 0's, so
            # in its own files (provenance record in frame 0) a missing chunk means "as frame 0"
            own_images.append(own_writer or bool(fl.chunk_exists(frame=k, name="particles/image")))
            dims = int(frame.configuration.dimensions)
            if dims not in (2, 3):
                raise ReaderError(f"{path}: frame {k}: dimensions = {dims}; expected 2 or 3")
            L = box_length_of(path, k, frame.configuration.box, dims)
            n = int(frame.particles.N)
            if states and n != len(states[0].positions):
                raise ReaderError(
                    f"{path}: frame {k}: particle number changes from {len(states[0].positions)} (frame 0) to {n}; glasscam "
                    "follows a fixed set of particles (lost or inserted particles are not supported)"
                )
            pos = np.asarray(frame.particles.position, dtype=np.float64).reshape(-1, 3)
            if len(pos) != n:
                raise ReaderError(f"{path}: frame {k}: {len(pos)} positions for particles/N = {n}")
            if own_images[-1]:
                img = np.asarray(frame.particles.image, dtype=np.int64).reshape(-1, 3)
                if len(img) != n:
                    raise ReaderError(f"{path}: frame {k}: {len(img)} images for particles/N = {n}")
            else:
                img = np.zeros((n, 3), dtype=np.int64)  # gsd would serve frame 0's images: never use them
            if dims == 2:
                pos[:, 2] = 0.0
                img[:, 2] = 0
            names = [str(t) for t in frame.particles.types]
            typeid = np.asarray(frame.particles.typeid, dtype=np.int64)
            if len(typeid) != n:
                raise ReaderError(f"{path}: frame {k}: {len(typeid)} type ids for particles/N = {n}")
            typeid, types = map_types(path, k, names, typeid, type_map, species)
            if frame.particles.mass is not None and fl.chunk_exists(frame=0, name="particles/mass"):
                mass = np.asarray(frame.particles.mass, dtype=np.float64)
            elif masses:
                mass = np.array([float(masses.get(t, 1.0)) for t in types])[typeid]
            else:
                mass = np.ones(n)
            vel = np.asarray(frame.particles.velocity, dtype=np.float64).reshape(-1, 3)
            if len(vel) != n:
                vel = np.zeros((n, 3))
            pos, img = wrap_into_box(pos, img, L, dims)
            log = {key: np.asarray(v) for key, v in frame.log.items()}
            time = log.get(TIME_KEY)
            explicit.append(float(np.ravel(time)[0]) if time is not None else None)
            steps.append(int(frame.configuration.step))
            states.append(State(pos, img, vel, typeid, types, mass, L, dims, step=int(frame.configuration.step)))
            logs.append(log)
    times = _times(path, explicit, steps, dt, require_time)
    for s, t in zip(states, times, strict=True):
        s.time = t
    _finish(path, states, own_images, unwrap, max_unwrap_fraction, min_separation)
    return Trajectory(path, "gsd", states, logs)


def read_gsd_frame(path, frame: int = -1, require_time: bool = True) -> State:
    """One frame of a GSD file, checked; frames without their own images are unwrapped from the
    frames before them (so the whole file is read then)."""
    from .trajectory import open_trajectory

    path = Path(path)
    with open_trajectory(path) as traj:
        n_frames = len(traj)
        index = frame + n_frames if frame < 0 else frame
        if not 0 <= index < n_frames:
            raise ReaderError(f"{path}: frame {frame} out of range ({n_frames} frames)")
        own_writer = traj.file.chunk_exists(frame=0, name="log/" + PROVENANCE_KEY)
        fast = index == 0 or own_writer or traj.file.chunk_exists(frame=index, name="particles/image")
    if not fast:
        return read_gsd(path, require_time=require_time).states[index]
    with open_trajectory(path) as traj:
        from .trajectory import state_from_frame

        try:
            raw = traj[index]
            state = state_from_frame(raw, source=f"{path}: frame {index}")
        except TrajectoryError:
            raise
        except Exception as err:
            raise damaged(path, f"frame {index}: truncated or corrupt", err) from err
        if not own_writer and not traj.file.chunk_exists(frame=index, name="particles/image"):
            state.images = np.zeros_like(state.images)
        n0 = int(traj[0].particles.N)
        time_present = traj.file.chunk_exists(frame=index, name=f"log/{TIME_KEY}")
    if len(state.positions) != n0:
        raise ReaderError(
            f"{path}: frame {index}: particle number changes from {n0} (frame 0) to {len(state.positions)}; glasscam "
            "follows a fixed set of particles"
        )
    if require_time and not time_present and n_frames > 1:
        raise ReaderError(f"{path}: frame {index}: no time log ({TIME_KEY}); read the file with readers.read_gsd(dt=...)")
    state.positions, state.images = wrap_into_box(state.positions, state.images, state.box_length, state.dimensions)
    check_state(path, index, state)
    return state


# ---------------------------------------------------------------------------------------------
# LAMMPS dumps and extended XYZ (ASE)


def _dump_columns(path) -> list[str]:
    with open(path) as fh:
        for line in fh:
            if line.startswith("ITEM: ATOMS"):
                return line.split()[2:]
    raise ReaderError(f"{path}: frame 0: no 'ITEM: ATOMS' section (not a LAMMPS text dump)")


def read_ase(
    path,
    fmt: str,
    type_map: dict | None = None,
    species: list[str] | None = None,
    dt: float | None = None,
    dimensions: int = 3,
    unwrap: str = "auto",
    max_unwrap_fraction: float = MAX_UNWRAP_FRACTION,
    min_separation: float = MIN_SEPARATION,
    require_time: bool = True,
    masses: dict | None = None,
) -> Trajectory:
    """A LAMMPS text dump or extended XYZ file through ASE (see the module docstring)."""
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    ase_format = {"lammps-dump": "lammps-dump-text", "extxyz": "extxyz"}[fmt]
    unwrapped_input = False
    if fmt == "lammps-dump":
        columns = _dump_columns(path)
        if "type" not in columns:
            raise ReaderError(f"{path}: frame 0: dump columns {columns} lack 'type'")
        if not ({"x", "xs", "xu", "xsu"} & set(columns)):
            raise ReaderError(f"{path}: frame 0: dump columns {columns} hold no coordinates (x/xs/xu/xsu)")
        if "id" not in columns:
            raise ReaderError(f"{path}: frame 0: dump columns {columns} lack 'id'; particles could not be followed between frames")
        unwrapped_input = bool({"xu", "xsu"} & set(columns)) and not ({"x", "xs"} & set(columns))
    try:
        frames = ase.io.read(str(path), index=":", format=ase_format)
    except Exception as err:
        hint = ""
        if fmt == "extxyz" and isinstance(err, KeyError):
            hint = (f"; ASE reads the species column of extended XYZ as chemical symbols, and {err} is not an "
                    "element: write element symbols (e.g. Ar, Ne) and map them with type_map (Ar=A,Ne=B), or a "
                    "'type' per-atom column, or use GSD")
        raise ReaderError(f"{path}: not a readable {fmt} file ({type(err).__name__}: {err}){hint}") from err
    if not frames:
        raise ReaderError(f"{path}: no frames")
    states, explicit, steps, own_images = [], [], [], []
    for k, atoms in enumerate(frames):
        cell = np.asarray(atoms.cell.array, dtype=np.float64)
        if not np.allclose(cell, np.diag(np.diag(cell)), atol=0):
            raise ReaderError(f"{path}: frame {k}: tilted (triclinic) cell {cell.tolist()}; glasscam supports cubic boxes only")
        lengths = np.diag(cell)
        L = box_length_of(path, k, [*lengths, 0, 0, 0], dimensions)
        if fmt == "lammps-dump":
            labels = [str(t) for t in np.asarray(atoms.arrays["type"])]
        elif "type" in atoms.arrays:
            labels = [str(t) for t in np.asarray(atoms.arrays["type"])]
        else:
            labels = list(atoms.get_chemical_symbols())
        names = sorted(set(labels), key=lambda s: (len(s), s))
        index = {name: i for i, name in enumerate(names)}
        typeid = np.array([index[x] for x in labels], dtype=np.int64)
        typeid, types = map_types(path, k, names, typeid, type_map, species)
        origin = np.asarray(atoms.get_celldisp(), dtype=np.float64).ravel() if hasattr(atoms, "get_celldisp") else np.zeros(3)
        pos = np.asarray(atoms.positions, dtype=np.float64) - origin - 0.5 * lengths
        if dimensions == 2:
            pos[:, 2] = 0.0
        n = len(pos)
        images = np.zeros((n, 3), dtype=np.int64)
        pos, images = wrap_into_box(pos, images, L, dimensions)
        if fmt == "extxyz" and np.any(images != 0):
            unwrapped_input = True  # coordinates outside the cell: the file holds unwrapped positions
        mass = np.array([float((masses or {}).get(t, 1.0)) for t in types])[typeid]
        vel = np.asarray(atoms.get_velocities(), dtype=np.float64) if atoms.has("momenta") else np.zeros((n, 3))
        info = atoms.info
        explicit.append(float(info["time"]) if "time" in info else None)
        step = info.get("timestep", info.get("step"))
        steps.append(int(step) if step is not None else None)
        states.append(State(pos, images, vel, typeid, types, mass, L, dimensions, step=int(step or 0)))
    own_images = [unwrapped_input] * len(states)
    times = _times(path, explicit, steps, dt, require_time)
    for s, t in zip(states, times, strict=True):
        s.time = t
    if unwrapped_input:
        own_images = [True] * len(states)
    _finish(path, states, own_images, unwrap, max_unwrap_fraction, min_separation)
    return Trajectory(path, fmt, states, [{} for _ in states])


# ---------------------------------------------------------------------------------------------
# GlassBench / BOTAN npz


NPZ_KEYS = ("types", "initial_positions")


def read_npz(
    path,
    box_length: float | None,
    dimensions: int = 3,
    type_map: dict | None = None,
    species: list[str] | None = None,
    masses: dict | None = None,
    min_separation: float = MIN_SEPARATION,
    density: float | None = None,
) -> ReplicaSet:
    """The GlassBench/BOTAN npz layout → initial states (``time`` 0) and replica end points.

    ``types`` (N,) or (S, N): integer or string labels, mapped by ``type_map`` (keys as strings,
    e.g. ``{"0": A, "1": B}``); ``initial_positions`` (N, d) or (S, N, d), σ; ``positions``
    (R, N, d) or (S, R, N, d), the unwrapped end points of the iso-configurational runs in the
    same frame of reference (optional). The box is not in the file: ``box_length`` L (σ), else
    L = (N/``density``)^{1/d} from the number density of the system the data belong to."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:
        raise ReaderError(f"{path}: not a readable npz file ({err})") from err
    with data:
        missing = [key for key in NPZ_KEYS if key not in data.files]
        if missing:
            raise ReaderError(f"{path}: frame 0: missing arrays {missing} (npz layout: types, initial_positions[, positions]; has {data.files})")
        types = np.asarray(data["types"])
        initial = np.asarray(data["initial_positions"], dtype=np.float64)
        ends = np.asarray(data["positions"], dtype=np.float64) if "positions" in data.files else None
    if initial.ndim == 2:
        initial, types = initial[None], types[None]
        ends = None if ends is None else ends[None]
    if initial.ndim != 3 or initial.shape[2] != dimensions:
        raise ReaderError(f"{path}: frame 0: initial_positions has shape {initial.shape}; expected (N, {dimensions}) or (S, N, {dimensions})")
    n_samples, n = initial.shape[:2]
    if types.shape != (n_samples, n):
        types = np.broadcast_to(types, (n_samples, n)) if types.shape[-1:] == (n,) else None
        if types is None:
            raise ReaderError(f"{path}: frame 0: types has a shape that does not match initial_positions {initial.shape}")
    if ends is not None and (ends.ndim != 4 or ends.shape[0] != n_samples or ends.shape[2:] != (n, dimensions)):
        raise ReaderError(f"{path}: frame 0: positions has shape {ends.shape}; expected (R, {n}, {dimensions}) for initial_positions {initial.shape}")
    if ends is not None and not np.all(np.isfinite(ends)):
        s, r = np.argwhere(~np.isfinite(ends))[0][:2]
        raise ReaderError(f"{path}: frame {s}: replica {r} has non-finite end positions")
    if not box_length and density:
        box_length = (n / float(density)) ** (1.0 / dimensions)
    if not box_length or box_length <= 0:
        raise ReaderError(f"{path}: the npz layout stores no box: give box_length (σ) or the system's density")
    states = []
    for s in range(n_samples):
        labels = [str(t) for t in types[s]]
        names = sorted(set(labels), key=lambda x: (len(x), x))
        index = {name: i for i, name in enumerate(names)}
        typeid, type_names = map_types(path, s, names, np.array([index[x] for x in labels]), type_map, species)
        pos = np.zeros((n, 3))
        pos[:, :dimensions] = initial[s]
        pos, images = wrap_into_box(pos, np.zeros((n, 3), dtype=np.int64), float(box_length), dimensions)
        mass = np.array([float((masses or {}).get(t, 1.0)) for t in type_names])[typeid]
        state = State(pos, images, np.zeros((n, 3)), typeid, type_names, mass, float(box_length), dimensions)
        check_state(path, s, state, min_separation)
        states.append(state)
    return ReplicaSet(path, states, ends)


def replica_propensity(initial: State, replica_ends: np.ndarray, drift_removed: bool = True) -> np.ndarray:
    """Propensity ⟨|Δr_i|⟩ over R replicas from unwrapped end points (R, N, d) and the common
    start ``initial`` (its unwrapped positions); with ``drift_removed`` each replica's
    mass-weighted centre-of-mass displacement is subtracted (as :func:`glasscam.dynamics.displacements`)."""
    from .dynamics import propensity

    d = initial.dimensions
    delta = np.asarray(replica_ends, dtype=np.float64)[..., :d] - initial.unwrapped[:, :d]
    if drift_removed:
        m = initial.masses / initial.masses.sum()
        delta = delta - np.einsum("i,rid->rd", m, delta)[:, None, :]
    return propensity(delta)


# ---------------------------------------------------------------------------------------------
# one entry point


def read_trajectory(
    path,
    fmt: str = "auto",
    type_map: dict | None = None,
    species: list[str] | None = None,
    dt: float | None = None,
    dimensions: int | None = None,
    unwrap: str = "auto",
    max_unwrap_fraction: float = MAX_UNWRAP_FRACTION,
    min_separation: float = MIN_SEPARATION,
    require_time: bool = True,
    masses: dict | None = None,
    box_length: float | None = None,
) -> Trajectory:
    """Any supported file as a checked :class:`Trajectory` (npz: its initial configurations,
    one state per sample, time 0)."""
    fmt = detect_format(path, fmt)
    if fmt == "gsd":
        return read_gsd(path, type_map, species, dt, unwrap, max_unwrap_fraction, min_separation, require_time, masses)
    if fmt == "npz":
        replicas = read_npz(path, box_length, dimensions or 3, type_map, species, masses, min_separation)
        return Trajectory(Path(path), "npz", replicas.states, [{} for _ in replicas.states])
    return read_ase(path, fmt, type_map, species, dt, dimensions or 3, unwrap, max_unwrap_fraction, min_separation, require_time, masses)
