"""LAMMPS text output: what a file is by its first lines (whatever its suffix), and the text dump
(``dump custom``/``dump atom``) parsed section by section.

Why not ASE here: ASE's ``lammps-dump-text`` reader drops the image flags ``ix iy iz`` (so a dump
of wrapped ``x y z`` with exact images could only be unwrapped by the minimum image), fails on
type labels (``typelabel`` column, or labels in ``type``: LAMMPS ≥ 2023 ``labelmap``), needs a
``z`` column (2D dumps written with ``x y`` only fail) and does not expose the boundary flags it
parses. The dump text format is a fixed sequence of ``ITEM:`` sections (LAMMPS manual, ``dump``
command), read here into columns; interpreting the columns is :mod:`glasscam.io.foreign`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glasscam.errors import ReaderError

GSD_MAGIC = bytes.fromhex("df65df65df65df65")
ZIP_MAGIC = b"PK\x03\x04"
_DUMP_XYZ_COMMENT = re.compile(r"^\s*Atoms\.\s+Timestep:\s*(-?\d+)")


def sniff(path) -> tuple[str | None, str]:
    """(format, evidence) from the first bytes of ``path``: ``gsd`` (GSD magic number), ``npz``
    (zip archive), ``lammps-dump`` (first line ``ITEM: TIMESTEP``), ``lammps-xyz`` (LAMMPS
    ``dump xyz``: a count, then the comment ``Atoms. Timestep: N``), ``extxyz`` (a count, then a
    comment with ``Lattice=``), or ``None`` where the content says nothing definite."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None, ""
    if head.startswith(GSD_MAGIC):
        return "gsd", "GSD magic number"
    if head.startswith(ZIP_MAGIC):
        return "npz", "zip archive"
    lines = head.decode("utf-8", errors="replace").splitlines()[:2]
    if not lines:
        return None, ""
    if lines[0].strip().startswith("ITEM:"):
        return "lammps-dump", f"'{lines[0].strip()}'"
    if len(lines) == 2 and lines[0].strip().isdigit():
        match = _DUMP_XYZ_COMMENT.match(lines[1])
        if match:
            return "lammps-xyz", f"'Atoms. Timestep: {match.group(1)}'"
        if "Lattice=" in lines[1]:
            return "extxyz", "'Lattice=' in the comment line"
    return None, ""


@dataclass
class DumpFrame:
    """One frame of a LAMMPS text dump: ``step``; ``time`` (``ITEM: TIME`` where written);
    ``bounds`` (3, 2) lo/hi; ``tilt`` (xy, xz, yz) or None; ``boundary`` per axis (``pp``,
    ``ff``, ``ss``, ``fm``, …); ``columns`` and ``table`` (N, columns) as text."""

    step: int
    time: float | None
    bounds: np.ndarray
    tilt: tuple[float, float, float] | None
    boundary: list[str]
    header: str
    columns: list[str]
    table: np.ndarray

    def column(self, name: str) -> np.ndarray:
        return self.table[:, self.columns.index(name)]


def _box(path, frame: int, header: str, lines: list[str]) -> tuple[np.ndarray, tuple | None, list[str]]:
    words = header.split()[3:]
    if words and words[0] == "abc":
        raise ReaderError(f"{path}: frame {frame}: general triclinic box ({header.strip()!r}); glasscam supports cubic boxes only")
    tilted = len(words) >= 3 and words[:3] == ["xy", "xz", "yz"]
    flags = words[3:6] if tilted else words[:3]
    try:
        values = np.array([[float(v) for v in line.split()] for line in lines])
    except ValueError as err:
        raise ReaderError(f"{path}: frame {frame}: box bounds {lines} are not numbers ({err})") from err
    if values.shape != ((3, 3) if tilted else (3, 2)):
        raise ReaderError(f"{path}: frame {frame}: box bounds {lines} do not match {header.strip()!r}")
    return values[:, :2], (tuple(values[:, 2]) if tilted else None), (flags + ["pp"] * 3)[:3]


def read_dump_frames(path) -> list[DumpFrame]:
    """Every frame of a LAMMPS text dump, its sections checked; a file that breaks the format is
    refused naming the line and frame."""
    path = Path(path)
    with open(path) as fh:
        lines = fh.read().splitlines()
    frames: list[DumpFrame] = []
    i, n_lines = 0, len(lines)

    def expect(i, item):
        if i >= n_lines or not lines[i].startswith(item):
            found = repr(lines[i][:60]) if i < n_lines else "the end of the file"
            raise ReaderError(f"{path}: line {i + 1} (frame {len(frames)}): expected '{item}', found {found}")

    while i < n_lines:
        if not lines[i].strip():
            i += 1
            continue
        while lines[i].startswith("ITEM: UNITS"):
            i += 2
        expect(i, "ITEM: TIMESTEP")
        try:
            step = int(lines[i + 1].split()[0])
        except (IndexError, ValueError) as err:
            raise ReaderError(f"{path}: line {i + 2} (frame {len(frames)}): TIMESTEP {lines[i + 1:i + 2]} is not an integer") from err
        i += 2
        time = None
        if i < n_lines and lines[i].startswith("ITEM: TIME"):
            time = float(lines[i + 1].split()[0])
            i += 2
        expect(i, "ITEM: NUMBER OF ATOMS")
        n = int(lines[i + 1].split()[0])
        i += 2
        expect(i, "ITEM: BOX BOUNDS")
        bounds, tilt, boundary = _box(path, len(frames), lines[i], lines[i + 1:i + 4])
        header = lines[i].strip()
        i += 4
        expect(i, "ITEM: ATOMS")
        columns = lines[i].split()[2:]
        block = lines[i + 1:i + 1 + n]
        if len(block) < n:
            raise ReaderError(f"{path}: frame {len(frames)}: {len(block)} atom lines for NUMBER OF ATOMS = {n} (file cut short?)")
        rows = [line.split() for line in block]
        short = next((k for k, r in enumerate(rows) if len(r) != len(columns)), None)
        if short is not None:
            raise ReaderError(
                f"{path}: line {i + 2 + short} (frame {len(frames)}): {len(rows[short])} values for the {len(columns)} columns {columns}"
            )
        table = np.array(rows, dtype=str).reshape(n, len(columns))
        frames.append(DumpFrame(step, time, bounds, tilt, boundary, header, columns, table))
        i += 1 + n
    if not frames:
        raise ReaderError(f"{path}: no frames (an empty LAMMPS dump)")
    return frames


def count_dump_frames(path) -> int:
    """Frames of a LAMMPS text dump (``ITEM: TIMESTEP`` lines), without parsing them."""
    with open(path) as fh:
        return sum(1 for line in fh if line.startswith("ITEM: TIMESTEP"))
