"""Checks every file read passes (box, particle number, types, coincident particles, times, rows
that follow the same particles, unwrapping), and the checks of a file against the configured
system it is analysed as (box against the pair cutoff, pairs closer than the potential allows)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import mannwhitneyu

from glasscam.core.keys import TIME_KEY
from glasscam.core.neighbors import ball_query, freud_system, nearest_neighbor
from glasscam.core.options import Options
from glasscam.core.state import State
from glasscam.core.systems import System
from glasscam.errors import ReaderError

UNWRAP_MODES = ("auto", "independent")


MAX_UNWRAP_FRACTION = 0.25


MIN_SEPARATION = 1e-4  # σ: closer particles are called coincident


BOX_RTOL = 1e-6


@dataclass(frozen=True)
class ReaderOptions(Options):
    """How a trajectory file is read and checked — one object for every reader
    (:func:`glasscam.io.gsd.read_gsd`, :func:`glasscam.io.foreign.read_lammps_dump`,
    :func:`glasscam.io.foreign.read_ase`, :func:`glasscam.io.foreign.read_npz`).

    ``type_map``: file species label → configured species (``{"1": "A", "2": "B"}``); ``species``:
    the configured species in order (type ids follow it); ``dt`` (τ): converts step numbers into
    times where the file stores none; ``dimensions``: 2 or 3 (None: 3, or the file's own for GSD);
    ``unwrap``: ``"auto"`` (stored images, else the minimum image between frames, refused when a
    particle moves more than ``max_unwrap_fraction`` · L between two frames) or ``"independent"``
    (the frames are unrelated configurations); ``min_separation`` (σ): closer pairs are
    coincident particles and refused; ``require_time``: refuse files without times (single
    frames excepted); ``masses``: species → mass where the file has none (default 1);
    ``box_length`` (σ): the box of layouts that store none (npz), else L = (N/ρ)^{1/d}.

    Raises :class:`glasscam.errors.ReaderError` for a value out of range, and
    :meth:`from_mapping` for an unknown key (a ``reader`` section of the config, an
    ``external`` entry or keyword arguments), naming it.
    """

    SECTION = "reader"
    ERROR = ReaderError

    type_map: Mapping[str, str] | None = None
    species: tuple[str, ...] | None = None
    dt: float | None = None
    dimensions: int | None = None
    unwrap: str = "auto"
    max_unwrap_fraction: float = MAX_UNWRAP_FRACTION
    min_separation: float = MIN_SEPARATION
    require_time: bool = True
    masses: Mapping[str, float] | None = None
    box_length: float | None = None

    def __post_init__(self):
        if self.species is not None:
            object.__setattr__(self, "species", tuple(self.species))
        if self.unwrap not in UNWRAP_MODES:
            self.refuse("unwrap", f"expected one of {UNWRAP_MODES}")
        if self.dt is not None and not float(self.dt) > 0:
            self.refuse("dt", "expected a positive time step (τ)")
        if self.dimensions not in (None, 2, 3):
            self.refuse("dimensions", "expected 2 or 3")
        if not 0 < float(self.max_unwrap_fraction) <= 0.5:
            self.refuse("max_unwrap_fraction", "expected 0 < f ≤ 0.5 (beyond half a box the minimum image is ambiguous)")
        self.require_nonnegative("min_separation")
        if self.box_length is not None:
            self.require_positive("box_length")

    @classmethod
    def from_mapping(cls, reader: "Mapping | ReaderOptions | None" = None, **overrides) -> "ReaderOptions":
        """Options from a mapping or options (and keyword ``overrides``); unknown keys refused by
        name (:meth:`Options.from_config`)."""
        values = reader.as_dict() if isinstance(reader, ReaderOptions) else dict(reader or {})
        return cls.from_config({**values, **overrides})

    @property
    def spatial_dimensions(self) -> int:
        """``dimensions``, 3 when unset (files without their own: dumps, XYZ, npz)."""
        return 3 if self.dimensions is None else int(self.dimensions)


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
    box_inferred: bool = False  # L not given but (N/ρ)^(1/d) from the configured density


def box_length_of(path, frame: int, box, dimensions: int) -> float:
    """The single box length L (σ) of a GSD-style box [Lx, Ly, Lz, xy, xz, yz] of ``path``, frame
    ``frame``; anything else refused (:func:`cubic_box_length`)."""
    return cubic_box_length(box, dimensions, f"{path}: frame {frame}")


def cubic_box_length(box, dimensions: int, where: str) -> float:
    """The one box length L (σ) of a box [Lx, Ly, Lz, xy, xz, yz]; a tilted (triclinic), non-cubic
    (non-square in 2D), non-finite or non-positive box raises :class:`ReaderError` prefixed with
    ``where`` (file and frame): glasscam's states, voxel grids and analyses have one L."""
    box = [float(b) for b in np.ravel(box)]
    if len(box) != 6:
        raise ReaderError(f"{where}: box {box} is not [Lx, Ly, Lz, xy, xz, yz]")
    lengths = box[:dimensions]
    if any(t != 0.0 for t in box[3:]):
        raise ReaderError(
            f"{where}: tilted (triclinic) box with tilts xy, xz, yz = {box[3:]}; glasscam supports cubic "
            "(square in 2D) boxes only"
        )
    if not all(np.isfinite(lengths)) or min(lengths) <= 0:
        raise ReaderError(f"{where}: box lengths {lengths} are not positive")
    if not np.allclose(lengths, lengths[0], rtol=BOX_RTOL, atol=0):
        shape = " × ".join(f"{x:g}" for x in lengths)
        raise ReaderError(
            f"{where}: box {shape} is not {'square' if dimensions == 2 else 'cubic'}; glasscam's states, "
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
                f"{path}: frame {frame}: unknown type {names[t]!r}{hint}; the system's species are {list(species)}: give "
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


def check_times_increase(path, times: list[float], steps: list[int | None]) -> None:
    """Refuse a file whose frame times repeat or go back, naming both frames, their steps and
    the likely cause (a restart appended to the file, concatenated runs, ``reset_timestep``):
    one file is one continuous trajectory, never several."""
    for k in range(1, len(times)):
        if times[k] > times[k - 1]:
            continue

        def at(j):
            return f"frame {j} (" + (f"step {steps[j]}, " if steps[j] is not None else "") + f"t = {times[j]:g})"

        if times[k] == times[k - 1]:
            cause = (f"frame {k} repeats the time of frame {k - 1} (the last frame of one run and the first of the next, "
                     "files concatenated, or one frame written twice): keep one of the two")
        elif times[k] <= times[0]:
            cause = (f"the times start again at frame {k} (reset_timestep, or a second run appended to the same file): "
                     f"frames 0–{k - 1} and {k}–{len(times) - 1} are two trajectories, put them in two files")
        else:
            first = next(j for j in range(k) if times[j] >= times[k])
            cause = (f"a run restarted from t = {times[k]:g} appended to the same file (LAMMPS dump_modify append yes, a "
                     f"resumed HOOMD run): frames {first}–{k - 1} are the ones the restart superseded, so the trajectory "
                     f"is frames 0–{first - 1} followed by {k}–{len(times) - 1}")
        raise ReaderError(
            f"{path}: {at(k)} follows {at(k - 1)}: times do not increase — {cause}. glasscam reads a file as one "
            "continuous trajectory (never as several), so write a copy that holds one"
        )


REORDER_MOVED_FRACTION = 0.25  # rows that moved more than half a particle spacing…
REORDER_MATCH_RATIO = 0.3  # …while the point set barely changed (median match / decorrelated reference)


def _in_box(points: np.ndarray, box_length: float) -> np.ndarray:
    """Points of [−L/2, L/2) shifted into [0, L) for a periodic k-d tree."""
    out = np.mod(points + box_length / 2, box_length)
    return np.where(out >= box_length, 0.0, out)


def check_rows_follow(path, states: list[State]) -> None:
    """Refuse frames whose rows are listed in another particle order than the frame before
    (files without particle ids; images do not help, since row i's image belongs to another
    particle). Frame k is taken as reordered when a quarter of its rows or more moved (minimum
    image) more than half the mean particle spacing a since frame k−1 while the configuration as
    a point set barely changed: the median distance from those rows to the nearest particle of
    frame k−1 is below 0.3 × its value for a decorrelated configuration (frame k shifted by an
    irrational fraction of L). A genuine trajectory cannot do both: where particles moved by more
    than a, the point set decorrelates with them. Frames far apart in time (both medians alike)
    cannot be told from reordered ones by positions alone and are not refused."""
    offset = np.array([0.5, 0.381966, 0.236068])
    for k in range(1, len(states)):
        prev, cur = states[k - 1], states[k]
        d, L, n = cur.dimensions, cur.box_length, len(cur.positions)
        spacing = (L**d / n) ** (1.0 / d)
        step = cur.positions[:, :d] - prev.positions[:, :d]
        step -= L * np.round(step / L)
        movers = np.linalg.norm(step, axis=1) > 0.5 * spacing
        if movers.mean() < REORDER_MOVED_FRACTION:
            continue
        tree = cKDTree(_in_box(prev.positions[:, :d], L), boxsize=L)
        nearest = tree.query(_in_box(cur.positions[movers, :d], L))[0]
        reference = tree.query(_in_box(cur.positions[:, :d] + offset[:d] * L, L))[0]
        match, decorrelated = float(np.median(nearest)), float(np.median(reference))
        if match < REORDER_MATCH_RATIO * decorrelated:
            raise ReaderError(
                f"{path}: frame {k}: rows appear reordered since frame {k - 1}: {movers.mean():.0%} of the rows moved more "
                f"than half a particle spacing ({0.5 * spacing:.2g} σ) while the particles of frame {k} sit within "
                f"{match:.2g} σ (median) of frame {k - 1}'s ({decorrelated:.2g} σ for an unrelated configuration): the same "
                "configuration with its rows in another order, so row i is not one particle in both frames and every "
                "displacement would be wrong (images stored in the file do not help). Write the frames in one particle "
                "order (HOOMD keeps tag order; LAMMPS: dump_modify sort id, or an id column), or, if the frames are "
                "unrelated configurations, read them with unwrap='independent'"
            )


SEAM_P = 1e-6  # two-sided Mann–Whitney p-value below which the two sides differ…
SEAM_MIN_SHIFT = 0.03  # …by at least this many σ_ab in the median
SEAM_MIN_PARTICLES = 8


def seam_shift(state: State, system: System) -> dict:
    """Nearest neighbours across the box faces against nearest neighbours inside: every
    particle's nearest neighbour distance in units of the pair's σ_ab, split by whether the
    minimum image crosses a face. In a box of the right length the two samples come from one
    distribution (the configuration is translation invariant, and the nearest-neighbour distance
    barely depends on orientation); a box shorter than the configuration's own pushes the pairs
    across the faces closer by the difference. Returns the sizes and medians of the two samples
    and the one-sided Mann–Whitney p-value that the pairs across sit closer."""
    _, points = freud_system(state)
    nearest = nearest_neighbor(state)
    i, j, r, vec = nearest.query_point_indices, nearest.point_indices, nearest.distances, nearest.vectors
    sigma = np.ones(len(r))
    for ia, a in enumerate(state.types):
        for ib, b in enumerate(state.types):
            if a in system.types and b in system.types:
                sigma[(state.typeid[i] == ia) & (state.typeid[j] == ib)] = system.pair(a, b).sigma
    x = r / sigma
    across = np.any(np.abs(points[j] - points[i] - vec) > 0.5 * state.box_length, axis=1)
    out = {"n_across": int(across.sum()), "n_inside": int((~across).sum()), "across": float("nan"), "inside": float("nan"),
           "p": 1.0, "closest_across": float(r[across].min()) if across.any() else float("nan")}
    if out["n_across"] >= SEAM_MIN_PARTICLES and out["n_inside"] >= SEAM_MIN_PARTICLES:
        out.update(across=float(np.median(x[across])), inside=float(np.median(x[~across])),
                   p=float(mannwhitneyu(x[across], x[~across], alternative="less").pvalue))
    return out


def check_against_system(path, frame: int, state: State, system: System, box_inferred: bool = False) -> None:
    """Refuse a configuration that contradicts the system it is analysed as: a box no larger than
    twice the largest pair cutoff (minimum-image energies would miss periodic images); and, where
    the file stores no box and L was inferred from the configured density (``box_inferred``), a
    configuration whose nearest neighbours across the box faces sit closer than inside
    (:func:`seam_shift`: one-sided Mann–Whitney p < 10⁻⁶ and medians 0.03 σ_ab apart) — the
    file is at a lower density than configured, and its box length must be given. Not caught: a
    file denser than configured (a gap at the faces, which nearest neighbours rarely cross) and
    coordinates stored unwrapped (folded with the wrong L everywhere, not only at the faces)."""
    L, d, n = state.box_length, state.dimensions, len(state.positions)
    cutoff = system.max_cutoff()
    if L <= 2 * cutoff:
        n_min = n / L**d * (2 * cutoff) ** d
        raise ReaderError(
            f"{path}: frame {frame}: box L = {L:.4g} is not larger than twice the largest pair cutoff of system "
            f"{system.name} (2 × {cutoff:g} = {2 * cutoff:g}): minimum-image energies U_i would miss periodic images. "
            f"Analyse a larger box: N > {n_min:.4g} particles at this density"
        )
    if not box_inferred:
        return
    seam = seam_shift(state, system)
    shift = seam["across"] - seam["inside"]
    if seam["p"] < SEAM_P and shift < -SEAM_MIN_SHIFT:
        raise ReaderError(
            f"{path}: frame {frame}: the box L = {L:.6g} is not in the file but inferred from the configured density "
            f"{system.density:g} of system {system.name} (N = {n}), and the configuration contradicts it: nearest neighbours "
            f"across the box faces sit closer than inside (median r/σ_ab {seam['across']:.3f} "
            f"for {seam['n_across']} particles, {seam['inside']:.3f} for {seam['n_inside']}; Mann–Whitney p = {seam['p']:.1g}; "
            f"closest pair across {seam['closest_across']:.3g} σ) — the file holds a configuration at another density: give "
            "its box length (--box-length L on the command line, box_length: L in the external entry)"
        )


def _finish(path, states: list[State], own_images: list[bool], unwrap: str, max_unwrap_fraction: float, min_separation: float,
            *, steps: list[int | None] | None = None, order_times: bool = False, rows_identified: bool = True) -> None:
    """The checks every reader ends with: consistency across frames, each frame's state, times
    that increase (``order_times``), rows that follow the same particles (files without particle
    ids, ``rows_identified`` False) and minimum-image unwrapping (``unwrap="auto"``)."""
    if unwrap not in UNWRAP_MODES:
        raise ReaderError(f"{path}: unwrap = {unwrap!r}; expected one of {UNWRAP_MODES}")
    check_consistent(path, states)
    for k, s in enumerate(states):
        check_state(path, k, s, min_separation)
    if order_times and len(states) > 1:
        check_times_increase(path, [s.time for s in states], steps or [None] * len(states))
    if unwrap == "auto" and not rows_identified:
        check_rows_follow(path, states)
    if unwrap == "auto":
        unwrap_by_minimum_image(path, states, own_images, max_unwrap_fraction)


def finish_frames(path, states: list[State], explicit: list[float | None], steps: list[int | None],
                  own_images: list[bool], options: ReaderOptions, *, rows_identified: bool,
                  order_times: bool = True) -> None:
    """The tail every reader shares: frame times (``explicit`` where every frame has one, else
    step × ``options.dt``; :func:`_times`) set on ``states``, then :func:`_finish` — whose time
    order check runs only where the times are known and ``order_times`` (glasscam's own GSD
    files are written in order) and the file is read as a trajectory."""
    times, known = _times(path, explicit, steps, options.dt, options.require_time)
    for state, time in zip(states, times, strict=True):
        state.time = time
    _finish(path, states, own_images, options.unwrap, options.max_unwrap_fraction, options.min_separation,
            steps=steps, order_times=known and order_times and (options.require_time or options.unwrap == "auto"),
            rows_identified=rows_identified)


def _times(path, explicit: list[float | None], steps: list[int | None], dt: float | None, require: bool) -> tuple[list[float], bool]:
    """Frame times and whether they are known: explicit values where every frame has one, else
    step × dt; refusal otherwise (a single frame or ``require=False`` without any time gives 0,
    not known)."""
    have = [t is not None for t in explicit]
    if all(have):
        return [float(t) for t in explicit], True
    if any(have):
        first = have.index(False)
        raise ReaderError(f"{path}: frame {first}: no time log ({TIME_KEY}) although frame {have.index(True)} has one")
    if dt is not None:
        if not dt > 0:
            raise ReaderError(f"{path}: dt = {dt!r}; expected a positive time step (τ)")
        missing = [k for k, s in enumerate(steps) if s is None]
        if missing:
            raise ReaderError(f"{path}: frame {missing[0]}: no step number to multiply by dt = {dt:g}")
        return [float(s) * float(dt) for s in steps], True
    if len(explicit) == 1 or not require:
        return [0.0] * len(explicit), False
    raise ReaderError(
        f"{path}: frame 0: no time log ({TIME_KEY}) and no dt given to convert configuration/step into time; give dt "
        f"(e.g. dt: 0.005 in the external entry, --dt on the command line) — frames would otherwise all sit at t = 0 "
        "(if the frames are unrelated configurations, not a trajectory: unwrap independent, --unwrap independent)"
    )
