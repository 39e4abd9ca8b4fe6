"""Reading the pipeline's own intermediate outputs — HDF5 datasets and Grad-CAM maps, JSON and CSV
tables — so that a damaged file fails with its path and what to do; and writing its tidy CSV
tables atomically.

Every stage writes through :func:`glasscam.trajectory.atomic_output`, so a killed job never leaves a
half-written output. These readers cover a file damaged afterwards (a copy cut short, a full disk, a
crashed file system): the error is a :class:`glasscam.trajectory.DamagedFile` that names the file
and says to delete it, after which the same ``snakemake`` command remakes it and everything
downstream. GSD trajectories have the same guarantee through :mod:`glasscam.trajectory` and
:mod:`glasscam.readers`; model checkpoints through :func:`glasscam.model.load_checkpoint`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path

import h5py

from .trajectory import atomic_output, damaged


def _raised_by_h5py(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None:
        if f"{os.sep}h5py{os.sep}" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


@contextlib.contextmanager
def open_h5(path):
    """Open an HDF5 output for reading (an ``h5py.File``, closed on exit).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DamagedFile
        The file cannot be opened as HDF5, or h5py fails to read data from it inside the block
        (truncated chunks); the message names the file and says to delete it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise damaged(path, "not a readable HDF5 file", err) from err
    try:
        yield h5
    except OSError as err:
        if _raised_by_h5py(err):
            raise damaged(path, "HDF5 data cannot be read", err) from err
        raise
    finally:
        h5.close()


def read_json(path):
    """The parsed content of a JSON output; a missing file raises ``FileNotFoundError``, a truncated
    or otherwise unparsable one a :class:`~glasscam.trajectory.DamagedFile` naming it."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise damaged(path, "not UTF-8 text", err) from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise damaged(path, "not valid JSON", err) from err


def write_table(path, rows: list[dict], columns: list[str]) -> None:
    """A tidy CSV table (header ``columns``, one line per row; csv's default dialect), written
    atomically (:func:`glasscam.trajectory.atomic_output`): a killed job leaves no partial table."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
