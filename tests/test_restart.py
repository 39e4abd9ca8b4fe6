"""A simulation job killed with SIGKILL at any moment resumes from its checkpoint to the
trajectory of an uninterrupted run, to the last bit: the same frames at the same steps and
times, nothing missing or duplicated, nothing half-written at the output path.

Why a sweep of chosen moments covers every moment: after a SIGKILL only the files remain, and
they change at a few moments only — a checkpoint replaced (atomic rename), the output written
(atomic rename), the checkpoint deleted. Between two such moments every kill leaves the same
files, so the resumed run is the same. The sweep kills the run once between every two
checkpoint writes (so it resumes from no checkpoint, then from each checkpoint in turn), at
moments of every kind (frame read, frame appended, write begun, write torn in the middle,
write done, output torn, output written), and requires every frame of the final output equal,
in double precision, to the uninterrupted run's. The engine-level test checks the property
the sweep rests on: a run resumed from a checkpoint taken between any two ``run`` calls
continues bit for bit, and taking a checkpoint does not change the run it was taken from.
"""

import itertools
import json
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ENGINES

from glasscam.core.systems import system_from_config
from glasscam.io.checkpoints import Checkpoint
from glasscam.io.gsd import read_states, write_states
from glasscam.md import protocols
from glasscam.md.engines import create_engine
from glasscam.md.engines.base import Thermostat

KILLABLE = Path(__file__).with_name("killable_age.py")
BEFORE_WRITE = ("frame-read", "frame-appended", "write-begin", "write-partial")  # files: the last checkpoint


def small_spec(default_config):
    spec = json.loads(json.dumps(default_config["systems"]["ka3d"]))
    spec.pop("N")
    spec["composition"] = {"A": 240, "B": 60}
    return spec


def protocol(kind, min_wall_seconds=0.0):
    """600 steps, 11 log-spaced frames (steps 0, 1, 2, 4, 8, 17, 35, 71, 145, 295, 600: odd and
    even), a checkpoint every 150 steps (off HOOMD's 200-step particle sorts) and at every frame:
    14 checkpoint writes."""
    return {
        "thermostat": {"kind": kind, "tau": 0.5},
        "aging": {"duration": 3.0, "frames_per_decade": 3, "replicas": 1},
        "checkpoint": {"interval": 0.75, "min_wall_seconds": min_wall_seconds},
    }


@pytest.fixture(scope="module")
def quenched(tmp_path_factory, default_config):
    """A melted KA configuration quenched to T = 0.3 (the aging runs' start)."""
    path = tmp_path_factory.mktemp("quench") / "quench.gsd"
    system = system_from_config("ka3d", small_spec(default_config))
    with create_engine("lammps", system) as engine:
        state = protocols.melt(engine, np.random.default_rng(0), 1.0, 2.0, Thermostat("nose_hoover", 1.0, 0.5))
    write_states(path, [state], {"stage": "quench", "run": 0})
    return path


SEGMENTS = [1, 1, 1, 2, 50, 51, 100, 25]  # steps between checkpoints: after 1, 2, 3, 5, 55, 106, 206, 231 steps


def segmented_run(engine_name, system, quenched, kind, take_checkpoints):
    """Aging at T = 0.3 from the quenched configuration in runs of :data:`SEGMENTS` steps: the
    state after each run, and (if ``take_checkpoints``) a checkpoint taken after each."""
    start = read_states(quenched)[0]
    start.velocities = protocols.maxwell_boltzmann(start.masses, 0.3, 3, np.random.default_rng(1))
    states, checkpoints = [], []
    with create_engine(engine_name, system) as engine:
        engine.set_thermostat(Thermostat(kind, 0.3, 0.5, seed=2024))
        engine.load(start)
        for steps in SEGMENTS:
            engine.run(steps)
            states.append(engine.state())
            if take_checkpoints:
                checkpoints.append(engine.checkpoint())
    return states, checkpoints


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_engine_resumes_bit_for_bit_from_a_checkpoint_between_any_two_runs(default_config, quenched, engine_name,
                                                                           kind):
    """Checkpoints after odd and even numbers of steps (LAMMPS' Bussi generator caches every
    second Gaussian, which its restart files do not hold), early and late: each, restored into a
    fresh engine, continues exactly as the run it was taken from."""
    system = system_from_config("ka3d", small_spec(default_config))
    states, checkpoints = segmented_run(engine_name, system, quenched, kind, take_checkpoints=True)
    for k in range(len(SEGMENTS) - 1):
        with create_engine(engine_name, system) as engine:
            engine.restore(checkpoints[k])
            engine.run(SEGMENTS[k + 1])
            got, want = engine.state(), states[k + 1]
        assert (got.step, got.time) == (want.step, want.time)
        np.testing.assert_array_equal(got.unwrapped, want.unwrapped,
                                      err_msg=f"resumed from step {states[k].step}: positions at step {want.step}")
        np.testing.assert_array_equal(got.velocities, want.velocities,
                                      err_msg=f"resumed from step {states[k].step}: velocities at step {want.step}")


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_taking_a_checkpoint_does_not_change_the_run(default_config, quenched, engine_name, kind):
    """Checkpoints are written only when ``min_wall_seconds`` have passed, so whether one is taken
    at a boundary depends on the machine's load: a run that takes them must be the run that does
    not, bit for bit (LAMMPS' write_restart re-sorts atoms)."""
    system = system_from_config("ka3d", small_spec(default_config))
    checked, _ = segmented_run(engine_name, system, quenched, kind, take_checkpoints=True)
    plain, _ = segmented_run(engine_name, system, quenched, kind, take_checkpoints=False)
    for a, b in zip(plain, checked, strict=True):
        assert a.step == b.step
        np.testing.assert_array_equal(a.unwrapped, b.unwrapped, err_msg=f"positions at step {a.step}")
        np.testing.assert_array_equal(a.velocities, b.velocities, err_msg=f"velocities at step {a.step}")


class KillableAging:
    """Aging jobs in child processes (``killable_age.py``) on one output path."""

    def __init__(self, directory: Path, arguments: dict):
        self.directory = directory
        self.output = directory / "aging.gsd"
        self.checkpoint = directory / ".aging.gsd.checkpoint"
        self.args_file = directory / "args.json"
        self.args_file.write_text(json.dumps({**arguments, "output": str(self.output)}))
        self.runs = 0

    def run(self, kill_kind: str | None = None, kill_n: int = 0) -> tuple[int, list[dict]]:
        """Return code and the moments the job went through."""
        self.runs += 1
        events = self.directory / f"events-{self.runs}.jsonl"
        command = [sys.executable, str(KILLABLE), str(self.args_file), str(events)]
        if kill_kind is not None:
            command += [kill_kind, str(kill_n)]
        job = subprocess.run(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, timeout=600)
        moments = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
        assert job.returncode in (0, -signal.SIGKILL), job.stderr[-3000:]
        return job.returncode, moments

    def exact(self) -> dict:
        with np.load(f"{self.output}.exact.npz") as data:
            return dict(data)


def kill_plan(moments: list[dict]) -> list[int]:
    """Indices into the uninterrupted run's ``moments`` at which to kill, in order: one kill
    between every two checkpoint writes (and before the first), cycling through the kinds of
    :data:`BEFORE_WRITE`, so the chain of jobs resumes from no checkpoint and from each checkpoint
    once; a kill right after every third write; and, after the last frame, kills while the output
    is torn and once it is written (the checkpoint not yet deleted)."""
    writes = [i for i, m in enumerate(moments) if m["event"] == "write-end"]
    bounds = [-1, *writes]
    plan, kinds = [], itertools.cycle(BEFORE_WRITE)
    for j, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        window = [i for i in range(lo + 1, hi) if moments[i]["event"] in BEFORE_WRITE]
        kind = next(kinds)
        plan.append(next((i for i in window if moments[i]["event"] == kind), window[-1]))
        if j % 3 == 2:
            plan.append(hi)
    plan += [i for i in range(writes[-1] + 1, len(moments)) if moments[i]["event"] in ("output-partial", "output-end")]
    return plan


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_aging_run_killed_at_every_checkpoint_resumes_exactly(tmp_path, default_config, quenched, engine_name, kind):
    arguments = dict(system_name="ka3d", system_cfg=small_spec(default_config), protocol_cfg=protocol(kind),
                     root_seed=7, run=0, replica=0, engine_name=engine_name, threads=1, quenched=str(quenched))
    (tmp_path / "reference").mkdir()
    reference = KillableAging(tmp_path / "reference", arguments)
    code, moments = reference.run()
    assert code == 0
    writes = [m for m in moments if m["event"] == "write-end"]
    assert len(writes) == 14 and {m["step"] % 2 for m in writes} == {0, 1}  # checkpoints after odd and even steps
    want = reference.exact()

    (tmp_path / "killed").mkdir()
    job = KillableAging(tmp_path / "killed", arguments)
    resumed_from = []  # checkpoint writes held on disk when each job was killed
    done = -1  # index in `moments` of the last checkpoint write on disk
    plan = kill_plan(moments)
    for target in plan:
        kind_at = moments[target]["event"]
        n = sum(m["event"] == kind_at for m in moments[done + 1:target + 1])
        code, seen = job.run(kind_at, n)
        assert code == -signal.SIGKILL, f"the job was not killed at {kind_at} #{n}"
        assert seen == moments[done + 1:target + 1], "a resumed job went through other moments than the uninterrupted one"
        done = max([i for i in range(target + 1) if moments[i]["event"] == "write-end"], default=-1)
        resumed_from.append(sum(m["event"] == "write-end" for m in moments[:done + 1]))
        assert job.output.exists() == (kind_at == "output-end"), f"output after a kill at {kind_at}"
    code, seen = job.run()
    assert code == 0 and seen == moments[done + 1:]
    assert not job.checkpoint.exists()

    assert set(resumed_from) == set(range(len(writes) + 1)), "a checkpoint the sweep never resumed from"
    assert {moments[t]["event"] for t in plan} == {*BEFORE_WRITE, "write-end", "output-partial", "output-end"}
    got = job.exact()
    for key in ("step", "time", "positions", "velocities", "images", "potential_energy"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{key} after {len(plan)} kills")
    ref_frames, got_frames = read_states(reference.output), read_states(job.output)
    assert [s.step for s in got_frames] == [s.step for s in ref_frames]
    for a, b in zip(got_frames, ref_frames, strict=True):
        np.testing.assert_array_equal(a.positions, b.positions)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_trajectory_does_not_depend_on_when_checkpoints_are_written(tmp_path, default_config, quenched, engine_name,
                                                                    kind):
    """Checkpoints are written once ``min_wall_seconds`` of wall time have passed, so which of
    them a run writes depends on the machine's load; the trajectory must not. A run that writes
    all 14 checkpoints and one that writes none give the same frames to the last bit."""
    exact = []
    for wall in (0.0, 1.0e9):
        (tmp_path / f"wall-{wall:g}").mkdir()
        job = KillableAging(tmp_path / f"wall-{wall:g}", dict(
            system_name="ka3d", system_cfg=small_spec(default_config), protocol_cfg=protocol(kind, wall), root_seed=7,
            run=0, replica=0, engine_name=engine_name, threads=1, quenched=str(quenched)))
        code, moments = job.run()
        assert code == 0
        assert sum(m["event"] == "write-end" for m in moments) == (14 if wall == 0 else 0)
        exact.append(job.exact())
    for key in ("step", "time", "positions", "velocities", "images", "potential_energy"):
        np.testing.assert_array_equal(exact[0][key], exact[1][key], err_msg=key)


def test_checkpoint_of_another_configuration_format_or_torn_is_ignored(tmp_path):
    """Only a whole checkpoint of this job's configuration and of this checkpoint format is
    resumed from (format 1 held LAMMPS' Bussi generator, which resumes inexactly)."""

    class Engine:
        def checkpoint(self):
            return {"engine": "stub"}

    checkpoint = Checkpoint(tmp_path / "aging.gsd", "this job", every_steps=10, min_wall_seconds=0.0)
    checkpoint.save(Engine(), [], [], 0)
    assert checkpoint.load()["engine"] == {"engine": "stub"}
    assert Checkpoint(tmp_path / "aging.gsd", "another job", 10).load() is None
    payload = pickle.loads(checkpoint.path.read_bytes())
    checkpoint.path.write_bytes(pickle.dumps({**payload, "format": 1}))
    assert checkpoint.load() is None
    whole = pickle.dumps(payload)
    checkpoint.path.write_bytes(whole[: len(whole) // 2])
    assert checkpoint.load() is None
    checkpoint.path.write_bytes(whole)
    assert checkpoint.load() is not None
