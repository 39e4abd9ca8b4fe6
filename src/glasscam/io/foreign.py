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
* ``lammps-dump`` (``.dump``, ``.lammpstrj``, or any name whose first line is ``ITEM:``):
  LAMMPS text dumps (``dump custom``/``atom``), read by :mod:`glasscam.io.lammps`. Coordinates:
  unwrapped ``xu yu zu``/``xsu ysu zsu`` (exact), or wrapped ``x y z``/``xs ys zs`` with the
  image flags ``ix iy iz`` (exact: x + ix·L), or wrapped without flags (unwrapped by the minimum
  image). Species from ``typelabel`` (LAMMPS ≥ 2023 type labels), ``element`` or ``type``
  (integer types or labels), mapped by ``type_map`` (keys ``"1"``, ``"2"``, … or the labels);
  where ``type`` and a label column are both present, the one ``type_map``/the system's species
  name is used and the two must agree one to one. Rows are matched by ``id`` (sorted); a dump
  without ``id`` is read in file order only where order cannot matter (one frame, or
  ``unwrap="independent"``). 2D dumps may omit ``z``. Time: ``ITEM: TIME`` where written, else
  ``TIMESTEP`` × ``dt``. A LAMMPS ``dump xyz`` file (``Atoms. Timestep: N``) holds no box and is
  refused with what to write instead.
* ``extxyz`` (``.xyz``, ``.extxyz``): extended XYZ (ASE) with ``Lattice="…"``; species are the
  file's symbols, mapped by ``type_map``; time from the comment's ``time=`` key, else
  ``step=``/``timestep=`` × ``dt``.
* ``npz`` (``.npz``): the GlassBench/BOTAN KA layout: ``types`` (N,), ``initial_positions``
  (N, d) and optionally ``positions`` (R, N, d), the unwrapped end points of R
  iso-configurational runs started from ``initial_positions`` (a leading sample axis S is
  allowed on all three). The box is not in the file: ``box_length`` (or the system's) is used.
  Read by :func:`read_npz`, which returns the initial configurations and the replica ends.

Refused, with an error naming the file, the frame and the problem, before any analysis runs
(:class:`ReaderError`): axes that are not periodic (LAMMPS ``BOX BOUNDS`` other than ``pp``,
extended XYZ ``pbc`` false), times that repeat or go back within one file
(:func:`glasscam.io.checks.check_times_increase`), rows reordered between frames of files
without particle ids (:func:`glasscam.io.checks.check_rows_follow`), a box that is not cubic (square in 2D; Lx ≠ Ly ≠ Lz — glasscam's
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

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from glasscam.core.periodic import wrap_into_box
from glasscam.core.state import State
from glasscam.errors import ReaderError
from glasscam.io.checks import (
    MIN_SEPARATION,
    ReaderOptions,
    ReplicaSet,
    Trajectory,
    box_length_of,
    check_state,
    finish_frames,
    map_types,
)
from glasscam.io.gsd import open_trajectory, read_gsd
from glasscam.io.lammps import count_dump_frames, read_dump_frames, sniff

FORMATS = ("gsd", "lammps-dump", "extxyz", "npz")
SUFFIXES = {".gsd": "gsd", ".dump": "lammps-dump", ".lammpstrj": "lammps-dump", ".xyz": "extxyz", ".extxyz": "extxyz", ".npz": "npz"}


NO_BOX_XYZ = ("a LAMMPS `dump xyz` file ({evidence}), which stores no box: glasscam needs the box to wrap, unwrap and "
              "voxelize; write the trajectory with `dump custom <ID> all custom <N> <file> id type xu yu zu` (a text "
              "dump with the box in every frame) instead")


def detect_format(path, fmt: str = "auto") -> str:
    """``fmt`` checked against the file's first bytes, or, with ``auto``, the format the content
    shows (:func:`glasscam.io.lammps.sniff`: GSD magic number, zip archive, ``ITEM: TIMESTEP``,
    extended XYZ ``Lattice=``) whatever the suffix, else the one the suffix implies. A LAMMPS
    ``dump xyz`` file (no box) and a file whose content contradicts an explicit ``fmt`` are
    refused with what to do."""
    content, evidence = sniff(path)
    if content == "lammps-xyz":
        raise ReaderError(f"{path}: " + NO_BOX_XYZ.format(evidence=evidence))
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ReaderError(f"{path}: format {fmt!r}; expected one of {FORMATS} or 'auto'")
        if content is not None and content != fmt:
            what = {"lammps-dump": "a LAMMPS text dump", "gsd": "a GSD file", "npz": "an npz archive",
                    "extxyz": "an extended XYZ file"}[content]
            raise ReaderError(f"{path}: {what} ({evidence}), not {fmt}: use --format {content} (format: {content} in an "
                              "external entry), or auto")
        return fmt
    if content is not None:
        return content
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ReaderError(f"{path}: cannot tell the format from the suffix {suffix!r}; give one of {FORMATS}")
    return SUFFIXES[suffix]


def frame_count(path, fmt: str = "auto") -> int:
    """Frames (configurations) in ``path`` without reading their particles where the format
    allows (GSD, LAMMPS dump); extended XYZ and npz are read."""
    fmt = detect_format(path, fmt)
    if fmt == "gsd":
        with open_trajectory(path) as traj:
            return len(traj)
    if fmt == "lammps-dump":
        return count_dump_frames(path)
    if fmt == "npz":
        return len(read_npz(path, 1.0, min_separation=0).states)
    import ase.io

    return len(ase.io.read(str(path), index=":", format="extxyz"))


# ---------------------------------------------------------------------------------------------
# checks shared by every format


# ---------------------------------------------------------------------------------------------
# GSD


# ---------------------------------------------------------------------------------------------
# LAMMPS text dumps


LABEL_COLUMNS = ("typelabel", "element")


def _is_integer_column(values: np.ndarray) -> bool:
    return all(v.lstrip("-").isdigit() for v in np.unique(values))


def _species_column(path, frame, dump, type_map: dict | None, species: list[str] | None) -> np.ndarray:
    """The per-row species labels of a dump frame: from ``typelabel``/``element`` or ``type``
    (integers or labels), whichever ``type_map`` and the system's species name; the label and
    numeric columns, where both exist, must agree one to one (LAMMPS' labelmap is a bijection)."""
    candidates = [c for c in (*LABEL_COLUMNS, "type") if c in dump.columns]
    if not candidates:
        raise ReaderError(
            f"{path}: frame {frame}: dump columns {dump.columns} hold no species column: write `type` (or `typelabel` with "
            "LAMMPS type labels) in the dump custom column list"
        )
    columns = {c: dump.column(c) for c in candidates}
    label = next((c for c in LABEL_COLUMNS if c in columns), None)
    if label and "type" in columns and _is_integer_column(columns["type"]):
        for a, b in (("type", label), (label, "type")):
            for value in np.unique(columns[a]):
                partners = np.unique(columns[b][columns[a] == value])
                if len(partners) > 1:
                    shown = sorted((str(x) for x in partners), key=lambda x: (len(x), x))
                    shown = [int(x) for x in shown] if b == "type" else shown
                    raise ReaderError(
                        f"{path}: frame {frame}: {a} '{value}' is given to {b}s {shown}: the `type` and `{label}` columns "
                        "disagree (LAMMPS maps each type to one label); fix the labelmap or drop one column"
                    )
    mapping = {str(k): str(v) for k, v in (type_map or {}).items()}

    def names(c):
        return {mapping.get(v, v) for v in np.unique(columns[c])}

    if species is not None:
        fits = [c for c in candidates if names(c) <= set(species)]
    else:
        fits = [c for c in candidates if mapping and set(np.unique(columns[c])) <= set(mapping)]
    return columns[(fits or candidates)[0]]


def _dump_coordinates(path, frame, dump, dimensions: int) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(positions (N, 3) relative to the box centre, images or None, unwrapped) of a dump frame:
    ``xu``/``xsu`` unwrapped; ``x``/``xs`` wrapped, with ``ix iy iz`` where present."""
    lo, hi = dump.bounds[:, 0], dump.bounds[:, 1]
    lengths = hi - lo
    axes = "xyz"[:dimensions]
    for kind, unwrapped in (("{}u", True), ("{}su", True), ("{}", False), ("{}s", False)):
        names = [kind.format(a) for a in axes]
        if all(n in dump.columns for n in names):
            break
    else:
        raise ReaderError(
            f"{path}: frame {frame}: dump columns {dump.columns} hold no {'/'.join(axes)} coordinates (x, xs, xu or xsu): write "
            f"`id type {' '.join(a + 'u' for a in axes)}`"
        )
    try:
        values = np.stack([dump.column(n).astype(np.float64) for n in names], axis=1)
    except ValueError as err:
        raise ReaderError(f"{path}: frame {frame}: coordinates {names} are not numbers ({err})") from err
    scaled = "s" in kind
    pos = np.zeros((len(values), 3))
    for a in range(dimensions):
        x = values[:, a] * lengths[a] + lo[a] if scaled else values[:, a]
        pos[:, a] = x - lo[a] - 0.5 * lengths[a]
    images = None
    flags = ["i" + a for a in axes]
    if not unwrapped and all(f in dump.columns for f in flags):
        try:
            images = np.zeros((len(values), 3), dtype=np.int64)
            images[:, :dimensions] = np.stack([dump.column(f).astype(np.int64) for f in flags], axis=1)
        except ValueError as err:
            raise ReaderError(f"{path}: frame {frame}: image flags {flags} are not integers ({err})") from err
    return pos, images, unwrapped


def read_lammps_dump(path, options: ReaderOptions | None = None) -> Trajectory:
    """A LAMMPS text dump (see the module docstring): every frame as a checked state, read and
    checked as ``options`` says (:class:`glasscam.io.checks.ReaderOptions`)."""
    options = options or ReaderOptions()
    type_map, species, masses, unwrap = options.type_map, options.species, options.masses, options.unwrap
    dimensions = options.spatial_dimensions
    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    frames = read_dump_frames(path)
    states, explicit, steps, own_images = [], [], [], []
    ids0 = None
    for k, dump in enumerate(frames):
        if dimensions == 3 and not {"z", "zs", "zu", "zsu"} & set(dump.columns) and {"x", "xs", "xu", "xsu"} & set(dump.columns):
            raise ReaderError(
                f"{path}: frame {k}: no z column in {dump.columns} — a 2D dump, but the system is 3D: analyse it as a 2D "
                "system (--system of dimensions 2), or dump z too"
            )
        if dump.tilt is not None and any(t != 0.0 for t in dump.tilt):
            raise ReaderError(f"{path}: frame {k}: tilted (triclinic) box, tilts xy, xz, yz = {list(dump.tilt)}; glasscam "
                              "supports cubic boxes only")
        lengths = dump.bounds[:, 1] - dump.bounds[:, 0]
        L = box_length_of(path, k, [*lengths, 0, 0, 0], dimensions)
        open_axes = [a for a, flag in zip("xyz"[:dimensions], dump.boundary, strict=False) if flag != "pp"]
        if open_axes:
            raise ReaderError(
                f"{path}: frame {k}: not periodic along {', '.join(open_axes)} ({dump.header[len('ITEM: '):]}): glasscam's "
                "neighbour lists, voxel grids and energies assume a box periodic along every axis; simulate and dump with "
                "`boundary p p p`"
            )
        order = np.arange(len(dump.table))
        if "id" in dump.columns:
            ids = dump.column("id").astype(np.int64)
            order = np.argsort(ids, kind="stable")
            ids = ids[order]
            if len(np.unique(ids)) != len(ids):
                raise ReaderError(f"{path}: frame {k}: particle ids repeat (e.g. id {ids[np.flatnonzero(np.diff(ids) == 0)[0]]})")
            if ids0 is None:
                ids0 = ids
            elif len(ids) == len(ids0) and not np.array_equal(ids, ids0):
                raise ReaderError(f"{path}: frame {k}: the particle ids differ from frame 0's (same N, other particles); "
                                  "glasscam follows a fixed set of particles")
        elif len(frames) > 1 and unwrap == "auto":
            raise ReaderError(
                f"{path}: frame 1: no 'id' column ({dump.columns}): without ids the rows of one frame cannot be matched to the "
                "particles of another (LAMMPS writes them in processor order, which changes as particles migrate), so "
                "displacements would be wrong. Dump with `dump custom <ID> all custom <N> <file> id type xu yu zu` and "
                "`dump_modify <ID> sort id`, or read the frames as unrelated configurations (unwrap independent)"
            )
        labels = _species_column(path, k, dump, type_map, species)[order]
        names = sorted(set(labels.tolist()), key=lambda x: (len(x), x) if not x.lstrip("-").isdigit() else (0, int(x)))
        index = {name: i for i, name in enumerate(names)}
        typeid, types = map_types(path, k, names, np.array([index[x] for x in labels], dtype=np.int64), type_map, species)
        pos, images, unwrapped = _dump_coordinates(path, k, dump, dimensions)
        pos = pos[order]
        exact = unwrapped or images is not None
        images = np.zeros((len(pos), 3), dtype=np.int64) if images is None else images[order]
        pos, images = wrap_into_box(pos, images, L, dimensions)
        own_images.append(exact)
        n = len(pos)
        vel = np.zeros((n, 3))
        if all(c in dump.columns for c in ("vx", "vy", "vz")):
            vel = np.stack([dump.column(c).astype(np.float64) for c in ("vx", "vy", "vz")], axis=1)[order]
        mass = np.array([float((masses or {}).get(t, 1.0)) for t in types])[typeid]
        explicit.append(dump.time)
        steps.append(dump.step)
        states.append(State(pos, images, vel, typeid, types, mass, L, dimensions, step=dump.step))
    finish_frames(path, states, explicit, steps, own_images, options, rows_identified=ids0 is not None)
    return Trajectory(path, "lammps-dump", states, [{} for _ in states])


# ---------------------------------------------------------------------------------------------
# extended XYZ (ASE)


def read_ase(path, fmt: str, options: ReaderOptions | None = None) -> Trajectory:
    """An extended XYZ file through ASE (see the module docstring), read and checked as
    ``options`` says (:class:`glasscam.io.checks.ReaderOptions`)."""
    options = options or ReaderOptions()
    type_map, species, masses = options.type_map, options.species, options.masses
    dimensions = options.spatial_dimensions
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    unwrapped_input = False
    try:
        frames = ase.io.read(str(path), index=":", format="extxyz")
    except Exception as err:
        hint = ""
        if isinstance(err, KeyError):
            hint = (f"; ASE reads the species column of extended XYZ as chemical symbols, and {err} is not an "
                    "element: write element symbols (e.g. Ar, Ne) and map them with type_map (Ar=A,Ne=B), or a "
                    "'type' per-atom column, or use GSD")
        raise ReaderError(f"{path}: not a readable {fmt} file ({type(err).__name__}: {err}){hint}") from err
    if not frames:
        raise ReaderError(f"{path}: no frames")
    states, explicit, steps, own_images = [], [], [], []
    for k, atoms in enumerate(frames):
        open_axes = [a for a, p in zip("xyz"[:dimensions], atoms.pbc, strict=False) if not p]
        if open_axes:
            flags = " ".join("T" if p else "F" for p in atoms.pbc)
            raise ReaderError(
                f"{path}: frame {k}: not periodic along {', '.join(open_axes)} (pbc=\"{flags}\"): glasscam's neighbour lists, "
                "voxel grids and energies assume a box periodic along every axis; give a periodic configuration "
                "(pbc=\"T T T\" with its Lattice)"
            )
        cell = np.asarray(atoms.cell.array, dtype=np.float64)
        if not np.allclose(cell, np.diag(np.diag(cell)), atol=0):
            raise ReaderError(f"{path}: frame {k}: tilted (triclinic) cell {cell.tolist()}; glasscam supports cubic boxes only")
        lengths = np.diag(cell)
        L = box_length_of(path, k, [*lengths, 0, 0, 0], dimensions)
        if "type" in atoms.arrays:
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
        if np.any(images != 0):
            unwrapped_input = True  # coordinates outside the cell: the file holds unwrapped positions
        mass = np.array([float((masses or {}).get(t, 1.0)) for t in types])[typeid]
        vel = np.asarray(atoms.get_velocities(), dtype=np.float64) if atoms.has("momenta") else np.zeros((n, 3))
        info = atoms.info
        explicit.append(float(info["time"]) if "time" in info else None)
        step = info.get("timestep", info.get("step"))
        steps.append(int(step) if step is not None else None)
        states.append(State(pos, images, vel, typeid, types, mass, L, dimensions, step=int(step or 0)))
    own_images = [unwrapped_input] * len(states)
    finish_frames(path, states, explicit, steps, own_images, options, rows_identified=False)
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
        arrays = {}
        for key in (*NPZ_KEYS, "positions"):
            if key not in data.files:
                continue
            try:
                arrays[key] = np.asarray(data[key])
            except ValueError as err:  # object arrays need pickle, which is never enabled for foreign files
                raise ReaderError(
                    f"{path}: array {key!r} is an object array (a list of arrays of different shapes, saved with pickle; "
                    f"numpy: {err}): "
                    + ("samples need equal numbers of replicas — write one file per sample, or keep the same number of "
                       "replicas R for every sample, as a (S, R, N, d) float array" if key == "positions" else
                       "write it as one numeric array (every sample with the same N)")
                ) from err
        types = arrays["types"]
        initial = arrays["initial_positions"].astype(np.float64)
        ends = arrays["positions"].astype(np.float64) if "positions" in arrays else None
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
        s = int(np.argwhere(~np.isfinite(ends))[0][0])
        replicas = np.flatnonzero(~np.isfinite(ends[s]).all(axis=(1, 2))).tolist()
        raise ReaderError(
            f"{path}: array 'positions': sample {s} has non-finite end points in replicas {replicas} (NaN padding of a sample "
            f"with fewer replicas?): samples need equal numbers of replicas — write one file per sample, or drop the padded "
            "replicas so that every sample has the same R"
        )
    inferred = not box_length and bool(density)
    if inferred:
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
    return ReplicaSet(path, states, ends, box_inferred=inferred)


# ---------------------------------------------------------------------------------------------
# one entry point


def read_trajectory(path, fmt: str = "auto", options: ReaderOptions | Mapping | None = None, **kwargs) -> Trajectory:
    """Any supported file as a checked :class:`Trajectory` (npz: its initial configurations,
    one state per sample, time 0). How it is read: ``options``
    (:class:`glasscam.io.checks.ReaderOptions`, or a mapping such as a config's ``reader``
    section) and/or its fields as keyword arguments (``read_trajectory(path, dt=0.005)``);
    unknown names are refused by :meth:`ReaderOptions.from_mapping`."""
    options = ReaderOptions.from_mapping(options, **kwargs)
    fmt = detect_format(path, fmt)
    if fmt == "gsd":
        return read_gsd(path, options)
    if fmt == "npz":
        replicas = read_npz(path, options.box_length, options.spatial_dimensions, options.type_map, options.species,
                            options.masses, options.min_separation)
        return Trajectory(Path(path), "npz", replicas.states, [{} for _ in replicas.states])
    if fmt == "lammps-dump":
        return read_lammps_dump(path, options)
    return read_ase(path, fmt, options)
