"""A simulation job killed with SIGKILL resumes from its checkpoint to the trajectory of an
uninterrupted run: the same frames at the same steps and times, nothing missing or duplicated,
nothing half-written at the output path."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ENGINES

from glasscam.io.gsd import read_states, write_states
from glasscam.md import protocols
from glasscam.md.engines import create_engine
from glasscam.md.engines.base import Thermostat
from glasscam.stages import simulate

AGE_CALL = "from glasscam.stages import simulate; import json, sys; simulate.age(**json.load(open(sys.argv[1])))"


def small_spec(default_config):
    spec = json.loads(json.dumps(default_config["systems"]["ka3d"]))
    spec.pop("N")
    spec["composition"] = {"A": 240, "B": 60}
    return spec


def protocol(kind):
    return {
        "thermostat": {"kind": kind, "tau": 0.5},
        "aging": {"duration": 30.0, "frames_per_decade": 8, "replicas": 1},
        "checkpoint": {"interval": 1.0, "min_wall_seconds": 0.0},
    }


@pytest.fixture(scope="module")
def quenched(tmp_path_factory, default_config):
    """A melted KA configuration quenched to T = 0.3 (the aging runs' start)."""
    path = tmp_path_factory.mktemp("quench") / "quench.gsd"
    spec = small_spec(default_config)
    from glasscam.core.systems import system_from_config

    system = system_from_config("ka3d", spec)
    with create_engine("lammps", system) as engine:
        state = protocols.melt(engine, np.random.default_rng(0), 1.0, 2.0, Thermostat("nose_hoover", 1.0, 0.5))
    write_states(path, [state], {"stage": "quench", "run": 0})
    return path


def saved_frames(checkpoint) -> int:
    try:
        with open(checkpoint, "rb") as fh:
            return len(pickle.load(fh)["states"])
    except (OSError, EOFError, pickle.UnpicklingError):
        return 0


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("kind", ["nose_hoover", "bussi"])
def test_killed_aging_run_resumes_exactly(tmp_path, default_config, quenched, engine_name, kind):
    def arguments(output):
        return dict(
            system_name="ka3d", system_cfg=small_spec(default_config), protocol_cfg=protocol(kind), root_seed=7,
            run=0, replica=0, engine_name=engine_name, threads=1, quenched=str(quenched), output=str(output),
        )

    reference = tmp_path / "reference" / "aging.gsd"
    reference.parent.mkdir()
    simulate.age(**arguments(reference))

    output = tmp_path / "killed" / "aging.gsd"
    output.parent.mkdir()
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps(arguments(output)))
    checkpoint = output.with_name(f".{output.name}.checkpoint")
    job = subprocess.Popen([sys.executable, "-c", AGE_CALL, str(args_file)], env=os.environ.copy())
    n_frames = len(read_states(reference))
    deadline = time.monotonic() + 120
    while saved_frames(checkpoint) < n_frames - 4 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    # kill at a random moment among the late, widely spaced frames, where a wrong restart shows
    time.sleep(np.random.default_rng().uniform(0.0, 0.2))
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not output.exists(), "a killed job must leave no output for downstream rules"
    n_saved = saved_frames(checkpoint)
    assert n_saved > 0

    simulate.age(**arguments(output))
    assert not checkpoint.exists()

    ref, got = read_states(reference), read_states(output)
    assert [s.step for s in got] == [s.step for s in ref]
    assert [s.time for s in got] == [s.time for s in ref]
    for k in range(n_saved):  # frames restored from the checkpoint
        np.testing.assert_array_equal(got[k].positions, ref[k].positions)
    if n_saved < len(ref):  # the first frame integrated after the restart
        drift = np.abs(got[n_saved].unwrapped - ref[n_saved].unwrapped).max()
        assert drift < 1e-4, f"first frame after the checkpoint differs by {drift}"
