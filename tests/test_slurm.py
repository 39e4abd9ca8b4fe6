"""The SLURM profile (profiles/slurm) on a real single-node SLURM cluster started by the test.

Needs root: it installs slurm-wlm and munge with apt-get when missing, writes
/etc/slurm/slurm.conf and starts munged, slurmctld and slurmd (tests/slurm_cluster.py), and
stops them at the end. Elsewhere it skips.

One run of the tiny DAG (one system, one task, thermal inputs only, to keep the time down: every rule
but `inherent_structures` still runs) goes through sbatch with the profile, stopped with
Ctrl-C (SIGINT) after the dataset is built and started again. Checks:
  * every non-local job was submitted to SLURM (one SLURM job id and one kept SLURM log each);
  * the restarted run schedules exactly the jobs the first one had not finished;
  * datasets and per-particle results equal, bit for bit, those of a local `--cores 2` run;
  * a job that fails on its first attempt is resubmitted per the profile's `retries`, and the
    SLURM log of the failed attempt is kept.
The cluster has no accounting storage, so Snakemake gets `--slurm-status-command squeue`; and
`--slurm-init-seconds-before-status-checks 2` instead of the plugin's 40 s between status
checks after a job finished (the DAG is a chain of ~10 short stages).
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import gsd.hoomd
import h5py
import numpy as np
import pytest
from slurm_cluster import ClusterUnavailable, SlurmCluster
from test_workflow import CONFIGS, ROOT, copy_workflow

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root: installs slurm-wlm/munge with apt-get and starts slurmctld, slurmd and munged",
    ),
]

SYSTEM = "abm2d"
TEST_CONFIG = (f"run_systems: [{SYSTEM}]\n"
               "dataset: {inputs: [thermal], tasks: [{name: liquid_vs_glass, kind: liquid_vs_glass}]}\n")
CONFIGFILES = [*CONFIGS, "slurm_test.yaml"]
SLURM_ARGS = [
    "--workflow-profile", str(ROOT / "profiles" / "slurm"),
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "2",
]
TIMEOUT = 900  # seconds per Snakemake run
CANCEL_TIMEOUT = 180  # seconds for SLURM to let every job go after Ctrl-C (slurmd KillWait is 30 s)
SIGINT_TIMEOUT = 360  # seconds for Snakemake to exit after Ctrl-C: it cancels its jobs, drains its submission
# threads and runs the onerror hook (scancel by run name); on a loaded 2-core machine that took > 120 s

SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.$", re.M)
STARTED = re.compile(r"^(local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.M)
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$", re.M)


def _command(*args, slurm=True):
    cmd = [sys.executable, "-m", "snakemake"]
    if slurm:
        cmd += SLURM_ARGS
    else:
        cmd += ["--cores", "2"]
    return [*cmd, *args, "--configfile", *CONFIGFILES]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_"))}
    return {**env, **extra}


def _check(result: subprocess.CompletedProcess, what: str, cluster=None) -> str:
    text = result.stdout + result.stderr
    if result.returncode != 0:
        logs = cluster.logs() if cluster else ""
        raise AssertionError(f"{what} failed ({result.returncode}):\n{text[-6000:]}\n{logs}")
    return text


def _tail(path: Path, n=6000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def plan(workdir: Path) -> Counter:
    """Jobs per rule of a dry run with the SLURM profile (a dry run does not tell local ones)."""
    result = subprocess.run(_command("--dry-run"), cwd=workdir, capture_output=True, text=True, env=_env())
    text = _check(result, "dry run")
    return Counter(rule for _, rule, _ in STARTED.findall(text))


def result_files(workdir: Path) -> dict[Path, int]:
    """Modification times of the results (not the per-job logs and benchmarks)."""
    return {
        p: p.stat().st_mtime_ns
        for p in (workdir / "results").rglob("*")
        if p.is_file() and not {"logs", "benchmarks"} & set(p.parts)
    }


def started_jobs(log: str) -> dict[int, tuple[str, bool]]:
    """Snakemake job id → (rule, is local) for every job a run started."""
    return {int(jobid): (rule, bool(is_local)) for is_local, rule, jobid in STARTED.findall(log)}


def submissions(log: str) -> dict[int, tuple[str, Path]]:
    """Snakemake job id → (SLURM job id, SLURM log file) for every sbatch submission of a run."""
    return {int(job): (slurm_id, Path(path)) for job, slurm_id, path in SUBMITTED.findall(log)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    slurm = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
    except ClusterUnavailable as reason:
        pytest.skip(f"no SLURM test cluster: {reason}")
    yield slurm
    slurm.stop()


def _default_sigint() -> None:
    """In the child: SIGINT back to its default. A test run started in the background of a
    non-interactive shell inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler, so Snakemake would never see the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _runs_until(proc: subprocess.Popen, log: Path, pattern: re.Pattern, timeout: float) -> bool:
    """Wait until the log matches (True) or the process ends (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pattern.search(log.read_text(errors="replace")):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(1)
    proc.kill()
    raise AssertionError(f"no match for {pattern.pattern} after {timeout} s:\n{_tail(log)}")


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The tiny DAG through SLURM (stopped once, then completed) and, meanwhile, locally."""
    timings = {}
    start = time.monotonic()
    local_dir = copy_workflow(tmp_path_factory.mktemp("local") / "glasscam")
    slurm_dir = copy_workflow(tmp_path_factory.mktemp("slurm_run") / "glasscam")
    for workdir in (local_dir, slurm_dir):
        (workdir / "slurm_test.yaml").write_text(TEST_CONFIG)

    # The reference run shares the 2 cores with the SLURM jobs; it fills the gaps of the chain.
    local_log = local_dir / "snakemake.log"
    with open(local_log, "w") as out:
        local = subprocess.Popen(_command(slurm=False), cwd=local_dir, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_default_sigint, env=_env())
    try:
        planned = plan(slurm_dir)

        # First SLURM run, stopped with Ctrl-C once the dataset is built.
        log1 = slurm_dir / "snakemake_1.log"
        env = _env(SBATCH_PARTITION=cluster.partition)  # the profile's partition variable, set
        with open(log1, "w") as out:
            first = subprocess.Popen(_command(), cwd=slurm_dir, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_default_sigint, env=env)
        reached = _runs_until(first, log1, re.compile(r"^Finished jobid: \d+ \(Rule: build_dataset\)$", re.M), TIMEOUT)
        assert reached, f"the first SLURM run ended before building the dataset:\n{_tail(log1)}\n{cluster.logs()}"
        first.send_signal(signal.SIGINT)
        try:
            first.wait(timeout=SIGINT_TIMEOUT)
        except subprocess.TimeoutExpired:
            first.kill()
            raise AssertionError(f"Snakemake did not stop within {SIGINT_TIMEOUT} s of SIGINT:\n{_tail(log1)}")
        timings["first (stopped)"] = time.monotonic() - start
        log1_text = log1.read_text(errors="replace")
        # Cancellation is asynchronous: poll (bounded) until SLURM has let every job go. Jobs whose
        # sbatch was in flight at Ctrl-C are cancelled by the Snakefile's onerror hook.
        stopped = time.monotonic()
        left = cluster.jobs(settle=CANCEL_TIMEOUT)
        timings["cancelled after Ctrl-C"] = time.monotonic() - stopped
        assert not left, f"jobs left in SLURM {CANCEL_TIMEOUT} s after Ctrl-C: {left}\n{_tail(log1)}"

        replanned = plan(slurm_dir)
        kept = result_files(slurm_dir)

        # Second SLURM run, to the end (partition variable unset: the plugin's default partition).
        log2 = slurm_dir / "snakemake_2.log"
        with open(log2, "w") as out:
            second = subprocess.run(_command(), cwd=slurm_dir, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_default_sigint, env=_env(), timeout=TIMEOUT)
        assert second.returncode == 0, f"second SLURM run failed:\n{_tail(log2)}\n{cluster.logs()}"
        timings["second"] = time.monotonic() - start
        final_plan = plan(slurm_dir)
    except BaseException:
        local.kill()
        raise
    local.wait(timeout=TIMEOUT)
    assert local.returncode == 0, f"local run failed:\n{_tail(local_log)}"
    timings["local"] = time.monotonic() - start
    print("timings (s since start):", {k: round(v) for k, v in timings.items()})
    return {
        "slurm_dir": slurm_dir,
        "local_dir": local_dir,
        "planned": planned,
        "replanned": replanned,
        "final": final_plan,
        "kept": kept,
        "logs": [log1_text, log2.read_text(errors="replace")],
    }


def test_every_remote_job_goes_through_sbatch(runs):
    assert sum(runs["planned"].values()) > 20
    slurm_ids = []
    remote_jobs = 0
    for log in runs["logs"]:
        started, submitted = started_jobs(log), submissions(log)
        remote = {job for job, (_, is_local) in started.items() if not is_local}
        local = {rule for rule, is_local in started.values() if is_local}
        assert local <= {"all"} | {r for r in runs["planned"] if r.startswith(("fig_", "figure_"))}, local
        # a run resumed after Ctrl-C may have only local figure jobs left on a slow machine
        assert remote == set(submitted), "non-local jobs without an sbatch submission"
        remote_jobs += len(remote)
        finished = {int(job) for job, _ in FINISHED.findall(log)}
        for job, (slurm_id, slurm_log) in submitted.items():
            slurm_ids.append(slurm_id)
            # (a job cancelled by the stop before SLURM started it has no log)
            assert job not in finished or slurm_log.exists(), f"SLURM log {slurm_log} not kept"
    assert remote_jobs > 20
    assert len(slurm_ids) == len(set(slurm_ids))
    # the second run starts exactly the jobs its dry run planned, and leaves nothing to do
    started = started_jobs(runs["logs"][1])
    assert Counter(rule for rule, _ in started.values()) == runs["replanned"]
    assert runs["final"] == Counter(), "jobs left to do after the second run"


def test_restart_skips_finished_jobs(runs):
    first = runs["logs"][0]
    finished = Counter(rule for _, rule in FINISHED.findall(first))
    started = Counter(rule for rule, _ in started_jobs(first).values())
    assert finished["build_dataset"] >= 1 and finished["initialize"] == 3
    # jobs finished before the stop are not planned again; jobs never started still are (jobs
    # cancelled by the stop are rerun, unless SLURM finished them while Snakemake was stopping)
    replanned, planned = runs["replanned"], runs["planned"]
    assert planned - started <= replanned <= planned - finished, (planned, started, finished, replanned)
    assert "train_classifier" in replanned and "all" in replanned
    # and the results already there were not recomputed
    changed = [str(p) for p, mtime in runs["kept"].items() if not p.exists() or p.stat().st_mtime_ns != mtime]
    assert runs["kept"] and not changed, changed


def test_results_equal_local_run(runs):
    slurm, local = (runs[k] / "results" / SYSTEM for k in ("slurm_dir", "local_dir"))
    path = Path("dataset") / "liquid_vs_glass" / "thermal" / "dataset.h5"
    with h5py.File(slurm / path) as a, h5py.File(local / path) as b:
        for key in ("images", "labels", "split"):
            np.testing.assert_array_equal(a[key][()], b[key][()], err_msg=key)
    for name in ("gradcam/liquid_vs_glass/gradcam.gsd", "analysis/indicators.gsd", "analysis/mobility.gsd"):
        with gsd.hoomd.open(slurm / name) as a, gsd.hoomd.open(local / name) as b:
            assert len(a) == len(b) > 0
            for fa, fb in zip(a, b):
                keys = [k for k in fa.log if k.startswith("particles/")]
                assert keys and keys == [k for k in fb.log if k.startswith("particles/")]
                for key in keys:
                    np.testing.assert_array_equal(fa.log[key], fb.log[key], err_msg=f"{name} {key}")
    figures = sorted(p.name for p in (runs["slurm_dir"] / "results" / "figures" / SYSTEM).glob("*.png"))
    assert figures == sorted(p.name for p in (runs["local_dir"] / "results" / "figures" / SYSTEM).glob("*.png"))


FLAKY = """\
rule all:
    input:
        "flaky.txt",
    localrule: True


rule flaky:
    output:
        "flaky.txt",
    log:
        "flaky.log",
    resources:
        try_number=lambda wildcards, attempt: attempt,
    shell:
        "echo attempt {resources.try_number}; "
        "if [ {resources.try_number} -lt 2 ]; then echo failing on purpose; exit 3; fi; "
        "echo done > {output}"
"""


def test_failed_job_is_retried_and_its_log_kept(cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(FLAKY)
    cmd = [sys.executable, "-m", "snakemake", *SLURM_ARGS]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300)
    log = _check(result, "flaky workflow", cluster)
    assert (tmp_path / "flaky.txt").read_text() == "done\n"
    submitted = SUBMITTED.findall(log)
    assert len(submitted) == 2, log[-4000:]
    (_, failed_id, failed_log), (_, retry_id, retry_log) = submitted
    assert failed_id != retry_id
    assert f"SLURM-job '{failed_id}' failed" in log
    assert "attempt 1" in Path(failed_log).read_text() and "failing on purpose" in Path(failed_log).read_text()
    assert "attempt 2" in Path(retry_log).read_text()
