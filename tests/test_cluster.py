"""The onerror hook that cancels the SLURM jobs of an interrupted run (fake scancel)."""

import os
import stat

from glasscam.support.cluster import cancel_slurm_run


def test_cancel_slurm_run_cancels_by_run_id(tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    scancel = tmp_path / "bin" / "scancel"
    scancel.parent.mkdir()
    scancel.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    scancel.chmod(scancel.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{scancel.parent}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "snakemake.log"
    log.write_text("Building DAG of jobs...\nSLURM run ID: 5f0c-abc\nJob 3 has been submitted with SLURM jobid 12\n")
    assert cancel_slurm_run(str(log)) == ["5f0c-abc"]
    assert calls.read_text().split("\n")[0] == "--name 5f0c-abc"
    # a local run (no SLURM run ID) and no log cancel nothing
    calls.unlink()
    (tmp_path / "local.log").write_text("Building DAG of jobs...\n")
    assert cancel_slurm_run([str(tmp_path / "local.log")]) == [] and cancel_slurm_run(None) == []
    assert not calls.exists()
