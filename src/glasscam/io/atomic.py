"""Atomic outputs (a file appears only complete) and the damaged-output error."""

import contextlib
import os
from pathlib import Path

from glasscam.errors import DamagedFile


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 minus the process umask (0o644 under
    the usual umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The file that lands at ``path`` gets :func:`default_file_mode` whatever wrote it: libgsd
    creates its files 0o660 & ~umask (0o640 under umask 022) where every other writer gives
    0o644, so outputs of one run would otherwise differ in who may read them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        if tmp.is_file():
            os.chmod(tmp, default_file_mode())
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
