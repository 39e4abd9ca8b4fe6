"""Atomic outputs (a file appears only complete) and the damaged-output error."""

import contextlib
import os
from pathlib import Path

from glasscam.errors import DamagedFile


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def damaged(path, what: str, err: BaseException | None = None) -> DamagedFile:
    """A :class:`DamagedFile` error for a damaged file that says what to do: delete it and rerun
    with ``--forcerun <path>``, which remakes it and every job downstream of it. (Deleting alone is
    not enough for an intermediate file: when the final results exist, Snakemake does not remake a
    missing intermediate.)"""
    detail = f" ({err})" if err is not None else ""
    return DamagedFile(
        f"{path}: {what}{detail}. The file is damaged: delete it (rm '{path}') and run the same "
        f"snakemake command with --forcerun '{path}' added; Snakemake remakes it and everything that "
        f"depends on it"
    )
