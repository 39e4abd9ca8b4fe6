"""GSD trajectory I/O: round trips, atomic writes, and clear errors for bad files."""

import numpy as np
import pytest
from conftest import jittered_lattice, small_system

from glasscam.core.periodic import wrap
from glasscam.errors import TrajectoryError
from glasscam.io.atomic import atomic_output
from glasscam.io.gsd import read_provenance, read_state, read_states, write_states


@pytest.fixture(autouse=True)
def _files_are_pipeline_outputs(tmp_path, monkeypatch):
    """The files these tests damage stand for the pipeline's own outputs: under the results
    folder (files elsewhere are the user's, and no message tells them to delete those:
    tests/test_foreign_inputs.py)."""
    monkeypatch.setenv("GLASSCAM_RESULTS", str(tmp_path))


@pytest.fixture
def states(default_config):
    system = small_system(default_config, "ka3d", 300)
    first = jittered_lattice(system, np.random.default_rng(0))
    second = first.copy()
    second.positions, shift = wrap(first.positions + 0.6 * system.box_length, system.box_length, 3)
    second.images = first.images + shift
    second.step, second.time = 200, 1.0
    return [first, second]


def test_round_trip_keeps_unwrapped_positions_and_provenance(tmp_path, states):
    path = tmp_path / "t.gsd"
    write_states(path, states, {"seed": 3, "engine": "lammps"})
    back = read_states(path)
    for a, b in zip(states, back):
        np.testing.assert_allclose(b.unwrapped, a.unwrapped, atol=1e-5)
        assert (b.step, b.time) == (a.step, a.time)
    assert read_provenance(path) == {"seed": 3, "engine": "lammps"}


def test_truncated_file_is_named(tmp_path, states):
    path = tmp_path / "t.gsd"
    write_states(path, states, {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TrajectoryError, match=str(path)) as err:
        read_states(path)
    assert f"delete it (rm '{path}') and run the same snakemake command with --forcerun '{path}' added" in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not a gsd file at all" * 10])
def test_unreadable_file_is_named(tmp_path, content):
    path = tmp_path / "bad.gsd"
    path.write_bytes(content)
    with pytest.raises(TrajectoryError, match="bad.gsd") as err:
        read_state(path)
    assert "delete it" in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(TrajectoryError, match="missing.gsd: no such trajectory"):
        read_state(tmp_path / "missing.gsd")


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.gsd"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half written")
            raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []
