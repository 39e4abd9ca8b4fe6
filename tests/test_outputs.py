"""A damaged intermediate output — HDF5 dataset, model checkpoint, JSON or CSV table — fails the
stage that reads it with the file's path and the advice to delete it (Snakemake then remakes it and
everything downstream), never with a bare library error or a silently short table."""

import json
import os
import stat

import h5py
import numpy as np
import pytest
from test_training import write_blob_dataset

from glasscam.errors import DamagedFile
from glasscam.io.datasets import load_dataset
from glasscam.io.tables import open_h5, read_json, read_table
from glasscam.learn.model import build_model
from glasscam.plots.learning import plot_training_curves
from glasscam.stages.models import load_checkpoint, save_checkpoint


@pytest.fixture(autouse=True)
def _files_are_pipeline_outputs(tmp_path, monkeypatch):
    """The files these tests damage stand for the pipeline's own outputs: under the results
    folder (files elsewhere are the user's, and no message tells them to delete those:
    tests/test_foreign_inputs.py)."""
    monkeypatch.setenv("GLASSCAM_RESULTS", str(tmp_path))


def advice(path) -> str:
    return f"delete it (rm '{path}') and run the same snakemake command with --forcerun '{path}' added"


def cut(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def test_truncated_dataset_is_named_with_advice(tmp_path):
    path = tmp_path / "dataset.h5"
    write_blob_dataset(path, n_per_class=12)
    assert len(load_dataset(path)["labels"]) == 24
    cut(path)
    with pytest.raises(DamagedFile) as err:
        load_dataset(path)
    assert advice(path) in str(err.value)


def test_corrupt_chunk_inside_an_intact_hdf5_file_is_named(tmp_path):
    """The file opens (header and size intact) but a compressed chunk is garbage: the failure comes
    while reading inside the block and is still reported as this damaged file."""
    path = tmp_path / "maps.h5"
    values = np.random.default_rng(0).random((64, 64))
    with h5py.File(path, "w") as h5:
        h5.create_dataset("maps", data=values, chunks=(64, 64), compression="gzip")
    with open_h5(path) as h5:
        np.testing.assert_array_equal(h5["maps"][()], values)
        offset = h5["maps"].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    data[offset + 16: offset + 4016] = b"\xff" * 4000
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedFile) as err:
        with open_h5(path) as h5:
            h5["maps"][()]
    assert advice(path) in str(err.value)


def test_errors_of_other_files_inside_the_block_are_not_blamed_on_the_hdf5_file(tmp_path):
    path = tmp_path / "ok.h5"
    with h5py.File(path, "w") as h5:
        h5["x"] = np.arange(3)
    with pytest.raises(FileNotFoundError):
        with open_h5(path):
            open(tmp_path / "absent.txt").read()


def test_truncated_checkpoint_is_named_with_advice(tmp_path):
    path = tmp_path / "model.pt"
    model_cfg = {"channels": [4], "kernel_size": 3}
    save_checkpoint(path, build_model(model_cfg, 2, 1), model_cfg, 1, 2, ["liquid", "glass"], {})
    load_checkpoint(path)
    cut(path)
    with pytest.raises(DamagedFile) as err:
        load_checkpoint(path)
    assert advice(path) in str(err.value)


def test_truncated_json_is_named_with_advice_in_the_stage_that_reads_it(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"curves": {"epoch": [1, 2]}, "best_epoch": 1}, indent=1))
    assert read_json(path)["best_epoch"] == 1
    cut(path, 0.6)
    with pytest.raises(DamagedFile) as err:
        plot_training_curves(path, tmp_path / "curves.png")
    assert advice(path) in str(err.value)
    assert not (tmp_path / "curves.png").exists()


@pytest.mark.parametrize("tail", ["0.5,0.1\n", "0.5,0.1,0.2,9\n"])
def test_csv_row_with_the_wrong_number_of_cells_is_named(tmp_path, tail):
    """A table cut short in its last row (or with a row overwritten) is refused, naming the line,
    instead of yielding a row with missing values."""
    path = tmp_path / "correlations.csv"
    path.write_text("spearman,pearson,t_w\n0.25,0.2,all\n")
    assert read_table(path) == [{"spearman": 0.25, "pearson": 0.2, "t_w": "all"}]
    path.write_text(path.read_text() + tail)
    with pytest.raises(DamagedFile, match="line 3 has") as err:
        read_table(path)
    assert advice(path) in str(err.value)


def test_missing_outputs_are_named(tmp_path):
    for reader in (read_json, read_table, load_dataset):
        with pytest.raises(FileNotFoundError, match="absent"):
            reader(tmp_path / "absent")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_every_writer_gives_its_output_the_mode_of_the_umask(tmp_path, umask):
    """libgsd creates files 0o660 & ~umask (0o640 under 022) where open() gives 0o666 & ~umask:
    outputs of one run had different modes. Every writer through atomic_output now lands at
    0o666 & ~umask — the GSD trajectory, an HDF5 file, a JSON record, a CSV table, a text page."""
    from glasscam.core.state import State
    from glasscam.io.datasets import dataset_writer
    from glasscam.io.gsd import write_states
    from glasscam.io.tables import write_json, write_table, write_text

    rng = np.random.default_rng(0)
    n = 4
    state = State(positions=rng.uniform(-1, 1, (n, 3)), images=np.zeros((n, 3), int), velocities=np.zeros((n, 3)),
                  typeid=np.zeros(n, int), types=["A"], masses=np.ones(n), box_length=3.0, dimensions=3)
    old = os.umask(umask)
    try:
        write_states(tmp_path / "traj.gsd", [state], {"stage": "test"})
        write_json(tmp_path / "record.json", {"a": 1})
        write_table(tmp_path / "table.csv", [{"a": 1, "b": 2.0}], ["a", "b"])
        write_text(tmp_path / "page.rst", "text")
        with dataset_writer(tmp_path / "dataset.h5", (1, 1, 2, 2)) as (images, finish):
            images[0] = np.ones((1, 2, 2))
            finish({"label": [0]}, {"stage": "test"})
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {name: expected for name in modes}, {k: oct(v) for k, v in modes.items()}
