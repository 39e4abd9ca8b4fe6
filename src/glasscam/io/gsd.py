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
from pathlib import Path

import gsd.hoomd
import numpy as np

from glasscam.core.keys import PROVENANCE_KEY, TIME_KEY
from glasscam.core.periodic import wrap_into_box
from glasscam.core.state import State
from glasscam.errors import ReaderError, TrajectoryError
from glasscam.io.atomic import atomic_output, damaged
from glasscam.io.checks import (
    ReaderOptions,
    Trajectory,
    box_length_of,
    check_state,
    cubic_box_length,
    finish_frames,
    map_types,
)
from glasscam.io.provenance import decode_json, encode_json


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
    :class:`~glasscam.errors.ReaderError` (``source`` names file and frame in the message;
    :func:`glasscam.io.checks.cubic_box_length`): a State has one box length, so such a box is
    refused rather than read as L × L."""
    box = [float(b) for b in frame.configuration.box]
    dims = int(frame.configuration.dimensions)
    cubic_box_length(box, dims, source)
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
    """One frame, through the checks of :func:`glasscam.io.gsd.read_gsd_frame` (cubic box, fixed
    particle number, known types, no coincident particles; images unwrapped where a frame lacks
    them)."""

    return read_gsd_frame(path, frame)


def read_states(path) -> list[State]:
    """Every frame, through :func:`glasscam.io.gsd.read_gsd`: the checks every file passes
    (cubic box, fixed particle number, known types, no coincident particles, frame times from
    ``log/glasscam/time``), images unwrapped by the minimum image where frames lack them, or
    :class:`TrajectoryError` naming the file and frame."""

    return read_gsd(path).states


def read_logs(path) -> list[dict]:
    """Per-frame log chunks, ``{key: array}`` without the ``log/`` prefix (one dict per frame)."""
    with open_trajectory(path) as traj:
        try:
            return [{key: np.asarray(value) for key, value in f.log.items()} for f in traj]
        except Exception as err:
            raise damaged(path, "truncated or corrupt frame", err) from err


def read_provenance(path, missing_ok: bool = False) -> dict:
    """The provenance record of a GSD file glasscam wrote (frame 0); a file without one raises
    :class:`TrajectoryError`, or gives ``{}`` with ``missing_ok``."""
    with open_trajectory(path) as traj:
        chunk = traj[0].log.get(PROVENANCE_KEY)
    if chunk is None:
        if missing_ok:
            return {}
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




def read_gsd(path, options: ReaderOptions | None = None) -> Trajectory:
    """Every frame of a GSD file as checked states (see the module docstring), with its logs;
    how it is read and checked: ``options`` (:class:`glasscam.io.checks.ReaderOptions`; the
    file's own dimensions are used, ``options.dimensions`` is not read)."""
    options = options or ReaderOptions()
    type_map, species, masses = options.type_map, options.species, options.masses


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
    finish_frames(path, states, explicit, steps, own_images, options, rows_identified=own_writer,
                  order_times=not own_writer)
    return Trajectory(path, "gsd", states, logs)


def read_gsd_frame(path, frame: int = -1, require_time: bool = True) -> State:
    """One frame of a GSD file, checked; frames without their own images are unwrapped from the
    frames before them (so the whole file is read then)."""

    path = Path(path)
    with open_trajectory(path) as traj:
        n_frames = len(traj)
        index = frame + n_frames if frame < 0 else frame
        if not 0 <= index < n_frames:
            raise ReaderError(f"{path}: frame {frame} out of range ({n_frames} frames)")
        own_writer = traj.file.chunk_exists(frame=0, name="log/" + PROVENANCE_KEY)
        fast = index == 0 or own_writer or traj.file.chunk_exists(frame=index, name="particles/image")
    if not fast:
        return read_gsd(path, ReaderOptions(require_time=require_time)).states[index]
    with open_trajectory(path) as traj:
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
        raise ReaderError(f"{path}: frame {index}: no time log ({TIME_KEY}); read the file with glasscam.io.gsd.read_gsd(path, ReaderOptions(dt=...))")
    state.positions, state.images = wrap_into_box(state.positions, state.images, state.box_length, state.dimensions)
    check_state(path, index, state)
    return state


def per_frame_scalars(log: dict) -> dict:
    """Log chunks of one frame to carry into a derived file: everything except per-particle
    arrays and the provenance record (the derived file writes its own)."""
    return {k: v for k, v in log.items() if not k.startswith("particles/") and k != PROVENANCE_KEY}
