"""A one-node SLURM cluster on this machine, for the tests: munged, slurmctld and slurmd on
localhost with their own configuration, ports, sockets and state in a temporary folder.

:func:`cluster` starts it (or says why it cannot: :class:`Unavailable`) and stops the
daemons it started, by their process ids. It needs Debian's ``slurm-wlm`` (and ``munge``)
installed and root (slurmd runs jobs as their users); a clean CI machine has neither, and the
tests that use it skip there. There is no accounting database (no slurmdbd), so ``sacct``
answers nothing: Submitit then learns that a job ended from its result file, which every
job of a sweep writes (a run that fails returns its failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "scontrol", "sinfo")


class Unavailable(Exception):
    """Why no cluster can run here."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, cpus: int) -> str:
    return f"""\
ClusterName=orthornn-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost CPUs={cpus} State=UNKNOWN
SchedulerParameters=bf_interval=1
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def cluster(root: Path, *, cpus: int = 2, timeout: float = 30.0) -> Iterator[dict[str, str]]:
    """Start a one-node cluster in ``root``; yield the environment its clients need
    (``SLURM_CONF``); stop it afterwards. Raises :class:`Unavailable` when it cannot start."""
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        raise Unavailable(f"SLURM is not installed here (no {', '.join(missing)}; Debian: apt-get install slurm-wlm)")
    if os.geteuid() != 0:
        raise Unavailable("slurmd must run as root to start jobs, and these tests do not")
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(_config(root, cpus))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started: list[Path] = []
    try:
        munge = ["munged", f"--socket={root}/munge.socket", f"--pid-file={root}/munged.pid", "--force"]
        munge += [f"--log-file={root}/munged.log", f"--seed-file={root}/munge.seed"]
        for name, argv in (("munged", munge), ("slurmctld", ["slurmctld"]), ("slurmd", ["slurmd", "-N", "localhost"])):
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                raise Unavailable(f"{name} did not start: {(proc.stderr or proc.stdout).strip()[:300]}")
            started.append(root / f"{name}.pid")
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        else:
            log = (root / "slurmd.log").read_text()[-300:] if (root / "slurmd.log").exists() else ""
            raise Unavailable(f"the node did not come up (sinfo: {state!r}); slurmd.log: {log}")
        yield {"SLURM_CONF": str(conf)}
    finally:
        if started[1:]:  # the controller ran: cancel every job and wait for the node to be idle again
            subprocess.run(["scancel", "--full", "-u", "root"], env=env, capture_output=True)
            for _ in range(40):
                queue = subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout
                if not queue.strip():
                    break
                time.sleep(0.25)
        for pid_file in reversed(started):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        time.sleep(0.5)
