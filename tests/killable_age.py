"""``python killable_age.py ARGS.json EVENTS.jsonl [KIND N]``: one aging job
(:func:`glasscam.stages.simulate.age` with the keyword arguments in ARGS.json) that logs every moment
at which its files or its in-memory frames change, and kills itself with SIGKILL at the N-th
moment of KIND, if given. Used by ``test_restart.py`` to kill a run at chosen moments instead of
random ones.

Moments (one JSON line each in EVENTS.jsonl, with the engine step and frames recorded so far):

* ``frame-read``      a frame was taken from the engine, not yet appended
* ``frame-appended``  the frame is appended and its log computed, not yet checkpointed
* ``write-begin``     a checkpoint write starts (nothing of it on disk)
* ``write-partial``   the checkpoint is in its temporary file, not yet renamed; a kill here first
                      truncates that file to half its bytes (a write torn in the middle)
* ``write-end``       the checkpoint file has been replaced
* ``output-begin``, ``output-partial``, ``output-end``   the same for the output trajectory

Next to the output, ``<output>.exact.npz`` receives the written frames in double precision
(the GSD file holds float32), so the test can compare trajectories to the last bit.
"""

import contextlib
import json
import os
import signal
import sys

import numpy as np

from glasscam.io import checkpoints, gsd
from glasscam.md import protocols
from glasscam.stages import simulate

args = json.loads(open(sys.argv[1]).read())
events_path = sys.argv[2]
kill_kind, kill_n = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else (None, 0)
counts: dict[str, int] = {}
where = {"step": None, "frames": None}


def moment(kind: str, partial=None) -> None:
    counts[kind] = counts.get(kind, 0) + 1
    with open(events_path, "a") as fh:  # closed at once: the line survives a SIGKILL
        fh.write(json.dumps({"event": kind, **where}) + "\n")
    if kind == kill_kind and counts[kind] == kill_n:
        if partial is not None:
            with open(partial, "r+b") as fh:
                fh.truncate(os.path.getsize(partial) // 2)
        os.kill(os.getpid(), signal.SIGKILL)


def watched(atomic_output, prefix):
    @contextlib.contextmanager
    def atomic(path):
        with atomic_output(path) as tmp:
            moment(f"{prefix}-begin")
            yield tmp
            moment(f"{prefix}-partial", partial=tmp)
        moment(f"{prefix}-end")

    return atomic


def save(self, engine, states, logs, start, force=False):
    where.update(step=engine.current_step(), frames=len(states))
    return checkpoint_save(self, engine, states, logs, start, force)


def check_engine_state(engine, state, label):
    where.update(step=int(state.step), frames=None)
    moment("frame-read")
    return protocols_check_state(engine, state, label)


def thermo_log(engine, state, temperature):
    log = protocols_thermo_log(engine, state, temperature)
    moment("frame-appended")
    return log


def write_states(path, states, provenance, logs=None):
    np.savez(f"{path}.exact.npz", step=[s.step for s in states], time=[s.time for s in states],
             positions=[s.positions for s in states], images=[s.images for s in states],
             velocities=[s.velocities for s in states],
             potential_energy=[float(log["glasscam/potential_energy"][0]) for log in logs])
    where.update(step=int(states[-1].step), frames=len(states))
    return trajectory_write_states(path, states, provenance, logs)


checkpoint_save, trajectory_write_states = checkpoints.Checkpoint.save, simulate.write_states
protocols_check_state, protocols_thermo_log = protocols.check_engine_state, protocols.thermo_log
checkpoints.Checkpoint.save = save
protocols.check_engine_state, protocols.thermo_log = check_engine_state, thermo_log
checkpoints.atomic_output = watched(checkpoints.atomic_output, "write")
gsd.atomic_output = watched(gsd.atomic_output, "output")
simulate.write_states = write_states

simulate.age(**args)
