"""GSD trajectories: the particle format every stage reads and writes.

Conventions (HOOMD-compatible, readable by OVITO):

* ``particles.position`` wrapped into [−L/2, L/2), ``particles.image`` the periodic images, so
  unwrapped r = position + image · L; 2D frames have ``configuration.dimensions = 2``, Lz = 0.
* ``log/glasscam/provenance`` (frame 0): JSON record as uint8 bytes (see :mod:`.provenance`).
* ``log/glasscam/time`` simulation time in τ; ``log/glasscam/temperature_target``;
  ``log/glasscam/kinetic_temperature``; ``log/glasscam/potential_energy`` (total, ε);
  ``log/glasscam/pressure``.
* per-particle results as ``log/particles/glasscam/<name>`` arrays of length N
  (OVITO shows them as particle properties).

Writes are atomic: a trajectory appears at its final path only when complete.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import gsd.hoomd
import numpy as np

from .provenance import decode_json, encode_json

PROVENANCE_KEY = "glasscam/provenance"
TIME_KEY = "glasscam/time"


class TrajectoryError(RuntimeError):
    """A GSD file that cannot be used, with the file named in the message."""


class DamagedFile(TrajectoryError):
    """An output file that exists but cannot be read (truncated, corrupt); the message names it and
    says to delete it so that Snakemake remakes it."""


@dataclass
class State:
    """An instantaneous configuration in engine-independent form (float64)."""

    positions: np.ndarray  # (N, 3), wrapped into [−L/2, L/2)
    images: np.ndarray  # (N, 3) int
    velocities: np.ndarray  # (N, 3)
    typeid: np.ndarray  # (N,) int
    types: list[str]
    masses: np.ndarray  # (N,)
    box_length: float
    dimensions: int
    step: int = 0
    time: float = 0.0

    @property
    def unwrapped(self) -> np.ndarray:
        return self.positions + self.images * self.box_length

    def copy(self) -> "State":
        return State(
            self.positions.copy(),
            self.images.copy(),
            self.velocities.copy(),
            self.typeid.copy(),
            list(self.types),
            self.masses.copy(),
            self.box_length,
            self.dimensions,
            self.step,
            self.time,
        )


def wrap(positions: np.ndarray, box_length: float, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into wrapped coordinates in [−L/2, L/2) and integer images."""
    images = np.zeros(positions.shape, dtype=np.int32)
    images[:, :dimensions] = np.floor(positions[:, :dimensions] / box_length + 0.5).astype(np.int32)
    wrapped = positions - images * box_length
    return wrapped, images


def frame_from_state(state: State, log: dict | None = None) -> gsd.hoomd.Frame:
    frame = gsd.hoomd.Frame()
    frame.configuration.step = int(state.step)
    frame.configuration.dimensions = state.dimensions
    L = state.box_length
    frame.configuration.box = [L, L, L if state.dimensions == 3 else 0.0, 0, 0, 0]
    frame.particles.N = len(state.positions)
    frame.particles.types = list(state.types)
    frame.particles.typeid = state.typeid.astype(np.uint32)
    frame.particles.mass = state.masses.astype(np.float32)
    frame.particles.position = state.positions.astype(np.float32)
    frame.particles.image = state.images.astype(np.int32)
    frame.particles.velocity = state.velocities.astype(np.float32)
    frame.log[TIME_KEY] = np.array([state.time], dtype=np.float64)
    for key, value in (log or {}).items():
        frame.log[key] = np.asarray(value)
    return frame


def state_from_frame(frame: gsd.hoomd.Frame, source: str = "GSD frame") -> State:
    """The frame as a :class:`State`; a box that is not cubic (square in 2D) or is tilted raises
    :class:`TrajectoryError` (``source`` names file and frame in the message): a State has one
    box length, so such a box is refused rather than read as L × L."""
    box = [float(b) for b in frame.configuration.box]
    dims = int(frame.configuration.dimensions)
    if any(t != 0.0 for t in box[3:]) or not np.allclose(box[:dims], box[0], rtol=1e-6, atol=0):
        shape = " × ".join(f"{x:g}" for x in box[:dims])
        raise TrajectoryError(
            f"{source}: box {shape} (tilts {box[3:]}) is not {'square' if dims == 2 else 'cubic'}; glasscam supports "
            "one box length L only"
        )
    n = frame.particles.N
    time = frame.log.get(TIME_KEY)
    return State(
        positions=np.asarray(frame.particles.position, dtype=np.float64),
        images=np.asarray(frame.particles.image, dtype=np.int64),
        velocities=np.asarray(frame.particles.velocity, dtype=np.float64),
        typeid=np.asarray(frame.particles.typeid, dtype=np.int64),
        types=list(frame.particles.types),
        masses=np.asarray(frame.particles.mass, dtype=np.float64) if frame.particles.mass is not None else np.ones(n),
        box_length=float(box[0]),
        dimensions=dims,
        step=int(frame.configuration.step),
        time=float(time[0]) if time is not None else 0.0,
    )


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def damaged(path, what: str, err: BaseException | None = None) -> DamagedFile:
    """A :class:`DamagedFile` error for a damaged file that says what to do: delete it and rerun
    with ``--forcerun <path>``, which remakes it and every job downstream of it. (Deleting alone is
    not enough for an intermediate file: when the final results exist, Snakemake does not remake a
    missing intermediate.)"""
    detail = f" ({err})" if err is not None else ""
    return DamagedFile(
        f"{path}: {what}{detail}. The file is damaged: delete it (rm '{path}') and run the same "
        f"snakemake command with --forcerun '{path}' added; Snakemake remakes it and everything that "
        f"depends on it"
    )


@contextlib.contextmanager
def open_trajectory(path: str | os.PathLike):
    """Open a GSD trajectory for reading; a missing, unreadable or truncated file raises
    :class:`TrajectoryError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise TrajectoryError(f"{path}: no such trajectory file")
    try:
        traj = gsd.hoomd.open(str(path), mode="r")
        n = len(traj)
    except Exception as err:  # gsd raises RuntimeError/OSError subclasses for corrupt files
        raise damaged(path, "not a readable GSD file", err) from err
    if n == 0:
        traj.close()
        raise damaged(path, "GSD file has no frames")
    try:
        yield traj
    finally:
        traj.close()


def read_state(path, frame: int = -1) -> State:
    """One frame, through the checks of :func:`glasscam.readers.read_gsd_frame` (cubic box, fixed
    particle number, known types, no coincident particles; images unwrapped where a frame lacks
    them)."""
    from .readers import read_gsd_frame

    return read_gsd_frame(path, frame)


def read_states(path) -> list[State]:
    """Every frame, through :func:`glasscam.readers.read_gsd`: the checks every file passes
    (cubic box, fixed particle number, known types, no coincident particles, frame times from
    ``log/glasscam/time``), images unwrapped by the minimum image where frames lack them, or
    :class:`TrajectoryError` naming the file and frame."""
    from .readers import read_gsd

    return read_gsd(path).states


def read_logs(path) -> list[dict]:
    """Per-frame log chunks, ``{key: array}`` without the ``log/`` prefix (one dict per frame)."""
    with open_trajectory(path) as traj:
        try:
            return [{key: np.asarray(value) for key, value in f.log.items()} for f in traj]
        except Exception as err:
            raise damaged(path, "truncated or corrupt frame", err) from err


def read_provenance(path) -> dict:
    with open_trajectory(path) as traj:
        chunk = traj[0].log.get(PROVENANCE_KEY)
    if chunk is None:
        raise TrajectoryError(f"{path}: no {PROVENANCE_KEY} record")
    return decode_json(chunk)


def write_states(path, states: list[State], provenance: dict, logs: list[dict] | None = None) -> None:
    """Write frames atomically; ``logs[k]`` holds extra log chunks for frame k."""
    logs = logs or [{} for _ in states]
    with atomic_output(path) as tmp:
        with gsd.hoomd.open(str(tmp), mode="w") as traj:
            for k, (state, log) in enumerate(zip(states, logs, strict=True)):
                extra = dict(log)
                if k == 0:
                    extra[PROVENANCE_KEY] = encode_json(provenance)
                traj.append(frame_from_state(state, extra))


def per_particle_key(name: str) -> str:
    """GSD log key of a per-particle array (OVITO reads ``log/particles/...`` as properties)."""
    return f"particles/glasscam/{name}"
