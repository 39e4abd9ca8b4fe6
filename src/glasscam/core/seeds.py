"""Deterministic seeds: every random choice derives from the config's root seed and a label path.

seed(root, "ka3d", "run", 3, "velocities") is stable across processes and machines (SHA-256 of
the labels, not Python's salted ``hash``), so any job can be rerun alone with the same noise.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(root: int, *labels) -> int:
    """A 31-bit seed from the root seed and labels (engines such as LAMMPS want 1 ≤ seed < 2^31)."""
    digest = hashlib.sha256(":".join([str(int(root)), *map(str, labels)]).encode()).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 2) + 1


def rng(root: int, *labels) -> np.random.Generator:
    return np.random.default_rng(derive_seed(root, *labels))
