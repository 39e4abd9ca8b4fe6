"""Cluster execution helpers used by the Snakefile's hooks."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

RUN_ID = re.compile(r"SLURM run ID: (\S+)")


def cancel_slurm_run(logfile) -> list[str]:
    """``scancel --name <run ID>`` for every SLURM run ID logged in ``logfile`` (a path, a list of
    paths, or None); returns the run IDs cancelled. No-op where ``scancel`` is absent.

    The SLURM executor plugin cancels on Ctrl-C only the jobs it has registered as active. A
    job whose sbatch is in flight (submissions run in a thread pool that the executor drains
    *after* cancelling) starts anyway and runs on unmanaged. Every job of one Snakemake run
    carries the run ID as its SLURM job name, so cancelling by name catches them all; the
    Snakefile calls this from ``onerror``, after the executor has shut down.
    """
    if not logfile or shutil.which("scancel") is None:
        return []
    paths = logfile if isinstance(logfile, (list, tuple)) else [logfile]
    ids: set[str] = set()
    for path in paths:
        if path and Path(path).is_file():
            ids |= set(RUN_ID.findall(Path(path).read_text(errors="replace")))
    for run_id in sorted(ids):
        subprocess.run(["scancel", "--name", run_id], check=False, timeout=120)
    return sorted(ids)
