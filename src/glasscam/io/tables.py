"""Reading the pipeline's own intermediate outputs — HDF5 datasets and Grad-CAM maps, JSON and CSV
tables — so that a damaged file fails with its path and what to do; and writing its tidy CSV
tables atomically.

Every stage writes through :func:`glasscam.io.atomic.atomic_output`, so a killed job never leaves a
half-written output. These readers cover a file damaged afterwards (a copy cut short, a full disk, a
crashed file system): the error is a :class:`glasscam.errors.DamagedFile` that names the file
and says to delete it, after which the same ``snakemake`` command remakes it and everything
downstream. GSD trajectories have the same guarantee through :mod:`glasscam.io.gsd` and
:mod:`glasscam.io.foreign`; model checkpoints through :func:`glasscam.stages.models.load_checkpoint`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
from pathlib import Path

import h5py

from glasscam.io.atomic import atomic_output, damaged


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


def read_split_counts(dataset_h5) -> tuple[list[str], dict[str, dict[str, int]]]:
    """(class names, {split: {class: samples}}) of a dataset file, from its attributes only (no
    image is read); a dataset file without ``class_counts`` raises ``KeyError`` naming it."""
    with open_h5(dataset_h5) as h5:
        if "class_counts" not in h5.attrs or "class_names" not in h5.attrs:
            raise KeyError(f"{dataset_h5}: no 'class_counts' / 'class_names' attribute (not a dataset file?)")
        names = [str(c) for c in h5.attrs["class_names"]]
        counts = json.loads(h5.attrs["class_counts"])
    return names, {split: {c: int(by_class.get(c, 0)) for c in names} for split, by_class in counts.items()}


def read_json(path):
    """The parsed content of a JSON output; a missing file raises ``FileNotFoundError``, a truncated
    or otherwise unparsable one a :class:`~glasscam.errors.DamagedFile` naming it."""
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
    atomically (:func:`glasscam.io.atomic.atomic_output`): a killed job leaves no partial table."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)


#: columns kept as text by :func:`read_table` (a hex hash such as 12e45… would parse as a float)
TEXT_COLUMNS = ("settings_hash",)


def read_table(path) -> list[dict]:
    """Rows of a tidy CSV (as :func:`correlate` writes it), numeric cells converted to float.

    Raises ``FileNotFoundError`` for a missing file and :class:`~glasscam.errors.DamagedFile`
    (naming the file and the row) for a row with more or fewer cells than the header — a file cut
    short or overwritten."""
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (csv.Error, UnicodeDecodeError) as err:
        raise damaged(path, "not a readable CSV table", err) from err
    if not reader.fieldnames:
        raise damaged(path, "empty CSV table (no header)")
    for k, row in enumerate(rows):
        extra, missing = row.pop(None, []), sum(v is None for v in row.values())
        if extra or missing:
            cells = len(reader.fieldnames) + len(extra) - missing
            raise damaged(path, f"line {k + 2} has {cells} cells, the header {len(reader.fieldnames)}")
        for key, value in row.items():
            if key in TEXT_COLUMNS:
                continue
            try:
                row[key] = float(value)
            except (TypeError, ValueError):
                pass
    return rows


def write_text(path, text: str) -> None:
    """``text`` written atomically (:func:`glasscam.io.atomic.atomic_output`) as UTF-8."""
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_json(path, record, **dumps) -> None:
    """``json.dumps(record, **dumps)`` written atomically; ``dumps`` are :func:`json.dumps`
    options (``indent``, ``default``, ``allow_nan`` …), kept per output so files stay
    byte-identical across versions."""
    write_text(path, json.dumps(record, **dumps))


def file_sha256(path) -> str:
    """SHA-256 hex digest of a file's content (e.g. to fingerprint an input configuration)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
