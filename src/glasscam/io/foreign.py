"""Readers for configurations and trajectories written by other programs, turned into the
pipeline's :class:`~glasscam.core.state.State` lists, and the checks every file passes first.

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

from pathlib import Path

import numpy as np

from glasscam.core.periodic import wrap_into_box
from glasscam.core.state import State
from glasscam.errors import ReaderError
from glasscam.io.checks import (
    MAX_UNWRAP_FRACTION,
    MIN_SEPARATION,
    ReplicaSet,
    Trajectory,
    _finish,
    _times,
    box_length_of,
    check_state,
    map_types,
)
from glasscam.io.gsd import read_gsd

FORMATS = ("gsd", "lammps-dump", "extxyz", "npz")
SUFFIXES = {".gsd": "gsd", ".dump": "lammps-dump", ".lammpstrj": "lammps-dump", ".xyz": "extxyz", ".extxyz": "extxyz", ".npz": "npz"}


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


# ---------------------------------------------------------------------------------------------
# GSD


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
