"""A throw-away single-node SLURM cluster on this machine, for tests/test_slurm.py.

`SlurmCluster.start()` installs slurm-wlm and munge with apt if they are missing, writes a
minimal slurm.conf (one node: this host, its real CPU count and memory; one default partition;
no accounting, no cgroups), creates a munge key if there is none, starts munged (as user
munge), slurmctld and slurmd, and waits until `sinfo` reports the node idle. `stop()` cancels
leftover jobs and stops exactly the daemons it started.

Why /etc/slurm/slurm.conf and not a private file named by $SLURM_CONF: the SLURM executor
plugin's job step drops every SLURM_* variable before it calls `srun` inside the job, so the
nested `srun` only finds the configuration at its compiled-in default path. The file carries
a marker line; an existing slurm.conf without it is never overwritten (the test skips).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MARKER = "# written by glasscam tests/slurm_cluster.py"
SLURM_CONF = Path("/etc/slurm/slurm.conf")
PARTITION = "glasscam"
PACKAGES = ["slurm-wlm", "munge"]
BINARIES = ["slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "srun", "munged", "munge"]


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be set up here (not root, no apt, foreign slurm.conf, …): skip."""


def _run(cmd, check=True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(cmd, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def install_packages() -> None:
    """apt-get install slurm-wlm and munge if any of their programs is missing."""
    if not _missing_binaries():
        return
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable(f"SLURM programs {_missing_binaries()} missing and no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    result = _run(cmd, check=False, env=env)
    if result.returncode != 0:  # stale or absent package lists on a fresh machine
        _run(["apt-get", "update"], check=False, env=env)
        result = _run(cmd, check=False, env=env)
    if result.returncode != 0 or _missing_binaries():
        raise ClusterUnavailable(
            f"could not install {PACKAGES} with apt-get (missing: {_missing_binaries()}):\n{result.stderr[-2000:]}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_hardware() -> dict[str, str]:
    """CPUs and RealMemory as slurmd itself detects them (`slurmd -C`), so the node registers."""
    out = _run(["slurmd", "-C"]).stdout.split("\n")[0]
    fields = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return {"CPUs": fields["CPUs"], "RealMemory": fields["RealMemory"]}


class SlurmCluster:
    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.node = socket.gethostname().split(".")[0]
        self.processes: dict[str, subprocess.Popen] = {}
        self.munged_pid: int | None = None
        self.wrote_conf = False
        self.partition = PARTITION

    # -- set-up ------------------------------------------------------------------------------
    def start(self) -> "SlurmCluster":
        if os.geteuid() != 0:
            raise ClusterUnavailable("needs root to install and start SLURM daemons")
        if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
            raise ClusterUnavailable(f"{SLURM_CONF} exists and was not written by this test; not touching it")
        install_packages()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._start_munge()
        self._write_conf()
        try:
            self._start_daemons()
            self.wait_idle()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_munge(self) -> None:
        if _run(["sh", "-c", "munge -n | unmunge"], check=False).returncode == 0:
            return  # a munged is already serving the default socket: use it, leave it running
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            if shutil.which("mungekey"):
                _run(["mungekey", "--create", "--keyfile", str(key)])
            else:
                key.write_bytes(os.urandom(1024))
        for path in (key.parent, Path("/var/lib/munge"), Path("/var/log/munge"), Path("/run/munge")):
            path.mkdir(parents=True, exist_ok=True)
            shutil.chown(path, "munge", "munge")
        os.chmod(key.parent, 0o700)
        shutil.chown(key, "munge", "munge")
        os.chmod(key, 0o400)
        _run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"])
        pidfile = Path("/run/munge/munged.pid")
        for _ in range(50):
            if _run(["sh", "-c", "munge -n | unmunge"], check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("munged did not start")
        if pidfile.exists():
            self.munged_pid = int(pidfile.read_text().split()[0])

    def _write_conf(self) -> None:
        hw = _node_hardware()
        d = self.state_dir
        for sub in ("ctld", "spool"):
            (d / sub).mkdir(exist_ok=True)
        conf = f"""{MARKER}
ClusterName=glasscamtest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={d}/ctld
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
ReturnToService=2
# finished jobs stay visible to squeue for 5 minutes: the executor's squeue status queries
MinJobAge=300
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={hw['CPUs']} RealMemory={hw['RealMemory']} State=UNKNOWN
PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(conf)
        self.wrote_conf = True

    def _start_daemons(self) -> None:
        for name in ("slurmctld", "slurmd"):
            log = open(self.state_dir / f"{name}.stdout", "w")
            self.processes[name] = subprocess.Popen(
                [name, "-D", "-f", str(SLURM_CONF)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            time.sleep(1)
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited at start:\n{self.logs()}")

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = _run(["sinfo", "-h", "-N", "-n", self.node, "-o", "%T"], check=False).stdout.strip()
            if state == "idle":
                return
            time.sleep(1)
        raise RuntimeError(f"node {self.node} not idle after {timeout} s (state {state!r}):\n{self.logs()}")

    def jobs(self, settle: float = 30) -> list[str]:
        """Jobs still pending, running or completing ("<id> <state> <name>"), after polling
        squeue every second for up to `settle` s for them to leave (cancellation is
        asynchronous: slurmd signals the job, waits for it to end, then runs the epilog; on a
        loaded machine that takes tens of seconds)."""
        deadline = time.monotonic() + settle
        while True:
            out = _run(["squeue", "-h", "-o", "%i %T %j"], check=False).stdout.split("\n")
            jobs = [line for line in out if line.strip()]
            if not jobs or time.monotonic() > deadline:
                return jobs
            time.sleep(1)

    # -- tear-down ---------------------------------------------------------------------------
    def stop(self) -> None:
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            _run(["scancel", "--full", "--partition", PARTITION], check=False)
            time.sleep(1)
        for name in ("slurmd", "slurmctld"):
            proc = self.processes.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.munged_pid is not None:
            try:
                os.kill(self.munged_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.munged_pid = None
        if self.wrote_conf and SLURM_CONF.exists() and MARKER in SLURM_CONF.read_text():
            SLURM_CONF.unlink()
            self.wrote_conf = False

    def logs(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "slurmctld.stdout", "slurmd.stdout"):
            path = self.state_dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text()[-3000:]}")
        return "\n".join(parts)
