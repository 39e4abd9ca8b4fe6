"""Atomic outputs (a file appears only complete) and the damaged-file error, whose advice depends
on who wrote the file: the pipeline's own outputs (under the results folder) may be deleted and
remade; anything else is the user's, and no message tells them to delete it."""

import contextlib
import os
from pathlib import Path

from glasscam.errors import DamagedFile, ReaderError, TrajectoryError

RESULTS_ENV = "GLASSCAM_RESULTS"  # where `results:` is not the default ./results


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


def results_dir() -> Path:
    """The folder the pipeline writes its outputs into: ``results`` in the working directory (the
    default ``results:``, Snakemake running from the project root), or ``$GLASSCAM_RESULTS``
    where the configuration puts them elsewhere. A file outside it is treated as the user's: the
    safe side, since the advice for it never deletes anything."""
    return Path(os.environ.get(RESULTS_ENV, "results")).resolve()


def is_pipeline_output(path) -> bool:
    """Whether ``path`` lies under :func:`results_dir`, i.e. is a file Snakemake makes and can remake."""
    return Path(path).resolve().is_relative_to(results_dir())


def damaged(path, what: str, err: BaseException | None = None) -> TrajectoryError:
    """The error for a file that exists but cannot be read. For the pipeline's own outputs
    (:func:`is_pipeline_output`) a :class:`DamagedFile` that says what to do: delete it and rerun
    with ``--forcerun <path>``, which remakes it and every job downstream of it (deleting alone is
    not enough for an intermediate file: when the final results exist, Snakemake does not remake a
    missing intermediate). For any other file — an input glasscam did not write — a
    :class:`ReaderError` that never tells the user to delete it."""
    detail = f" ({err})" if err is not None else ""
    if not is_pipeline_output(path):
        return ReaderError(
            f"{path}: {what}{detail}. This file is not one of the pipeline's outputs (it is outside {results_dir()}), "
            "so glasscam leaves it as it is: check that it was written completely and is the kind of file its name says "
            "(give --format where the suffix misleads), and write it again if it was cut short"
        )
    return DamagedFile(
        f"{path}: {what}{detail}. The file is damaged: delete it (rm '{path}') and run the same "
        f"snakemake command with --forcerun '{path}' added; Snakemake remakes it and everything that "
        f"depends on it"
    )
