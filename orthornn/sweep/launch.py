"""Run a sweep's runs through Submitit: on this machine's cores, or as a SLURM job array.

One Submitit job per run (:class:`~orthornn.sweep.job.RunJob`). The *local* launcher starts
at most ``workers`` of them at a time as processes of this machine (Submitit's
``LocalExecutor``); the *slurm* launcher submits them all as one job array, of which SLURM runs
at most ``workers`` at a time (``--array=…%workers``), each with its own time limit, GPUs and
partition. Submitit writes the jobs' pickles and logs into ``OUT/jobs/`` (and the local jobs'
controllers their stderr into ``OUT/jobs/controllers.err``).

What :func:`run_sweep` does with each run, every time it is called on the same folder:

* a run whose folder says ``finished`` is skipped (an event ``skip``); any other is submitted,
  and its job continues it from its checkpoint when it has one;
* a job that returns ``failed`` is recorded as failed with its message, the others go on;
* a job that dies without returning (killed, out of memory, a lost node, timed out more often
  than SLURM may requeue it) is submitted again, up to ``retries`` times, and continues from
  its checkpoint; after that it is ``interrupted``, and the next sweep on the folder continues it
  (on a SLURM cluster without accounting, where ``sacct`` answers nothing, such a job is known
  to have ended when ``squeue`` no longer lists it);
* a preempted or timed-out SLURM job checkpoints and requeues itself (Submitit's protocol, see
  :mod:`orthornn.sweep.job`) without the sweep noticing.

The sweep holds a lock on ``OUT`` (a second sweep into the same folder is refused) and cancels
the jobs still running when it stops early (an exception, Ctrl-C): stopping the sweep stops its
runs, and starting it again continues them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import state
from .events import Counts, Event
from .job import Outcome, RunJob
from .plan import Run, SweepError

__all__ = ["LAUNCHERS", "Launch", "SweepResult", "make_executor", "run_sweep"]

#: Launchers: ``local`` (processes of this machine) and ``slurm`` (a SLURM job array).
LAUNCHERS = ("local", "slurm")
#: A local job's time limit: none, in effect (Submitit's local default is 2 minutes).
LOCAL_TIMEOUT_MIN = 60 * 24 * 365
#: The file in ``OUT/jobs/`` that local jobs' controllers write their stderr to.
CONTROLLERS_LOG = "controllers.err"
#: How long a SLURM job that left the queue without a result file is given for one to show.
RESULT_GRACE_S = 15.0
#: SLURM job states in which a job is running (not queued).
RUNNING_STATES = ("RUNNING", "COMPLETING")
#: The command-line flag of each integer option of :class:`Launch` (how its errors name it).
_FLAGS = {
    "workers": "--workers",
    "partition": "--slurm-partition",
    "gpus_per_run": "--slurm-gpus-per-run",
    "time_min": "--slurm-time",
    "threads": "threads",
    "max_timeouts": "max_timeouts",
    "until_step": "--until-step",
}
#: Options of the slurm launcher only.
_SLURM_ONLY = ("partition", "gpus_per_run", "time_min")


@dataclass(frozen=True)
class Launch:
    """How a sweep's runs are launched. Options of one launcher are refused with the other."""

    launcher: str = "local"  # local | slurm
    workers: int | None = None  # runs at a time (local: default 1; slurm: default no limit)
    partition: str | None = None  # slurm: the partition (default: the cluster's)
    gpus_per_run: int | None = None  # slurm: GPUs of each run's job
    time_min: int | None = None  # slurm: time limit of each job in minutes (default 60); requeued past it
    threads: int = 1  # CPU threads (and SLURM cpus-per-task) of each run
    retries: int = 1  # how often a run whose job died is submitted again
    checkpoint_seconds: float = 300.0  # a run also checkpoints this often (what a preemption may lose)
    max_timeouts: int = 20  # slurm: how often a run's job may time out and be requeued
    cluster: str | None = None  # Submitit's executor instead of the launcher's: "debug" runs jobs in-process
    poll_seconds: float | None = None  # how often job states are read (default: 0.1 s local, 2 s slurm)
    until_step: int | None = None  # train each run to this step at most, this time: it pauses there, resumable

    def __post_init__(self) -> None:
        if self.launcher not in LAUNCHERS:
            raise SweepError(f"--launcher: unknown {self.launcher!r}; choose one of {', '.join(LAUNCHERS)}")
        for name, flag in _FLAGS.items():
            if name == "partition":
                continue
            v = getattr(self, name)
            least = 0 if name == "gpus_per_run" else 1
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < least):
                raise SweepError(f"{flag}: must be an integer >= {least}, got {v!r}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise SweepError(f"retries: must be an integer >= 0, got {self.retries!r}")
        if self.launcher == "local":
            given = [_FLAGS[name] for name in _SLURM_ONLY if getattr(self, name) is not None]
            if given:
                raise SweepError(f"{given[0]}: applies with --launcher slurm only")
        if self.partition is not None and (not self.partition or not self.partition.isprintable()):
            raise SweepError(f"--slurm-partition: not a partition name: {self.partition!r}")

    @property
    def executor(self) -> str:
        """The Submitit executor: ``local``, ``slurm`` or the ``cluster`` given instead."""
        return self.cluster or self.launcher

    @property
    def capacity(self) -> int:
        """How many runs are submitted at once (SLURM limits how many of them run)."""
        if self.executor == "debug":
            return 1
        if self.executor == "slurm":
            return 1 << 30
        return self.workers or 1


@dataclass
class SweepResult:
    """What became of each run of a sweep."""

    runs: list[Run]  # the runs, in the plan's order
    status: dict[str, str] = field(default_factory=dict)  # run name -> finished | paused | failed | interrupted
    messages: dict[str, str] = field(default_factory=dict)  # run name -> why it failed or was interrupted
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # run name -> what its last job returned
    seconds: float = 0.0  # wall time of the sweep

    @property
    def ok(self) -> bool:
        """Whether every run finished."""
        return all(self.status.get(r.name) == "finished" for r in self.runs)

    def unfinished(self) -> list[tuple[Run, str, str]]:
        """``(run, status, message)`` of every run that did not finish."""
        status = {r.name: self.status.get(r.name, "interrupted") for r in self.runs}
        return [(r, status[r.name], self.messages.get(r.name, "")) for r in self.runs if status[r.name] != "finished"]


def make_executor(folder: Path, launch: Launch) -> Any:
    """The Submitit executor of ``launch``, writing its jobs' files into ``folder``."""
    import submitit

    if launch.executor == "slurm" and shutil.which("sbatch") is None:
        raise SweepError("--launcher slurm: no sbatch on this machine's PATH (run the sweep on a SLURM login node)")
    executor = submitit.AutoExecutor(
        folder,
        cluster=launch.executor,
        slurm_max_num_timeout=launch.max_timeouts,
        local_max_num_timeout=launch.max_timeouts,
    )
    params: dict[str, Any] = {"name": "orthornn-sweep", "cpus_per_task": launch.threads}
    if launch.launcher == "slurm":
        params["timeout_min"] = launch.time_min or 60
        if launch.gpus_per_run:
            params["gpus_per_node"] = launch.gpus_per_run
        if launch.partition:
            params["slurm_partition"] = launch.partition
        if launch.workers:
            params["slurm_array_parallelism"] = launch.workers
    else:
        params["timeout_min"] = LOCAL_TIMEOUT_MIN
    executor.update_parameters(**params)
    return executor


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold ``OUT/.sweep.lock`` (a second sweep into ``out`` is refused while this one runs)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    path = out / ".sweep.lock"
    with path.open("a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            raise SweepError(
                f"--out {out}: another sweep is running there ({f.read().strip() or 'pid unknown'})"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass
class _Active:
    run: Run
    job: Any
    attempt: int
    started: bool
    submitted: float = field(default_factory=time.monotonic)
    gone_since: float | None = None  # when squeue was first seen not to list it (no accounting)


class _Queue:
    """Which SLURM jobs ``squeue`` still lists, read at most every ``every`` seconds.

    Submitit learns job states from ``sacct``; on a cluster without accounting that answers
    nothing (state ``UNKNOWN``), and a job that died without writing its result (killed, a lost
    node) would never be seen to end. A job in that state that the queue no longer lists, and
    that was submitted before the last reading, has ended.
    """

    def __init__(self, every: float) -> None:
        self.every, self.read_at, self.listed = every, -float("inf"), frozenset[str]()

    def ended(self, a: _Active) -> bool:
        if a.job.state != "UNKNOWN":  # sacct knows the job: Submitit's done() decides
            return False
        now = time.monotonic()
        if now - self.read_at >= self.every:
            try:
                out = subprocess.run(["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                return False
            if out.returncode != 0:
                return False
            self.read_at, self.listed = now, frozenset(out.stdout.split())
        return a.submitted < self.read_at and str(a.job.job_id) not in self.listed


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def run_sweep(
    runs: Sequence[Run],
    out: str | os.PathLike[str],
    launch: Launch | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
) -> SweepResult:
    """Train every run of ``runs`` into ``OUT/runs/<name>/``, as ``launch`` says.

    Parameters
    ----------
    runs : sequence of Run
        From :func:`~orthornn.sweep.plan.expand`.
    out : path
        The sweep's folder (created).
    launch : Launch, optional
        Default: the local launcher, one run at a time.
    on_event : callable, optional
        Called with each :class:`~orthornn.sweep.events.Event`, in the sweep's thread.

    Returns
    -------
    SweepResult
        ``ok`` is whether every run finished.
    """
    launch = launch or Launch()
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = SweepResult(list(runs))
    with _locked(out):
        _drive(result, out, launch, on_event or (lambda event: None))
    result.seconds = time.perf_counter() - t0
    return result


def _drive(result: SweepResult, out: Path, launch: Launch, emit_to: Callable[[Event], None]) -> None:
    runs = result.runs
    if len({r.name for r in runs}) != len(runs):
        raise SweepError("two runs of the sweep share a folder name (labels that differ only in punctuation)")
    active: dict[str, _Active] = {}
    attempts: dict[str, int] = {}

    def counts() -> Counts:
        values = list(result.status.values())
        finished, paused = values.count("finished"), values.count("paused")
        return Counts(len(runs), finished, len(values) - finished - paused, len(active), paused)

    def emit(kind: str, run: Run, **kw: Any) -> None:
        emit_to(Event(kind, run, counts(), **kw))

    todo: deque[Run] = deque()
    for run in runs:
        st = state.run_status(out / "runs" / run.name, run.config)
        if st.kind in ("finished", "legacy"):
            result.status[run.name] = "finished"
            emit("skip", run)
        elif st.at(launch.until_step):
            result.status[run.name] = "paused"
            result.messages[run.name] = f"at step {st.step}"
            emit("skip", run, message=f"at step {st.step}, not before --until-step {launch.until_step}")
        else:
            todo.append(run)
    if not todo:
        return
    executor = make_executor(out / "jobs", launch)
    poll = launch.poll_seconds if launch.poll_seconds is not None else (2.0 if launch.executor == "slurm" else 0.1)
    shows_start = launch.executor != "slurm"  # a local or debug job runs once submitted; a SLURM one may queue
    queue = _Queue(every=max(poll, 5.0)) if launch.executor == "slurm" else None
    try:
        while todo or active:
            batch = []
            while todo and len(active) + len(batch) < launch.capacity:
                batch.append(todo.popleft())
            if batch:
                with _controllers_stderr(out / "jobs" / CONTROLLERS_LOG, launch):
                    jobs = _submit(executor, [_job(run, out, launch) for run in batch])
                for run, job in zip(batch, jobs, strict=True):
                    if launch.executor != "slurm":  # a result pickle is on a local disk: no wait for it to show
                        job._results_timeout_s = 0
                    attempts[run.name] = attempts.get(run.name, 0) + 1
                    active[run.name] = _Active(run, job, attempts[run.name], started=shows_start)
                    if shows_start:
                        emit("start", run, attempt=attempts[run.name])
            progressed = False
            for name, a in list(active.items()):
                if not a.started and a.job.state in RUNNING_STATES:
                    a.started = True
                    emit("start", a.run, attempt=a.attempt)
                lost = False
                if not a.job.done():
                    if queue is None or not queue.ended(a):
                        continue
                    a.gone_since = a.gone_since or time.monotonic()
                    if time.monotonic() - a.gone_since < RESULT_GRACE_S:  # its result may still show (NFS)
                        continue
                    lost = True
                progressed = True
                del active[name]
                if not a.started:
                    emit("start", a.run, attempt=a.attempt)
                _collect(a, out, launch, result, todo, emit, lost=lost)
            if active and not progressed:
                time.sleep(poll)
    finally:
        for a in active.values():  # stopped early: the jobs stop too (their checkpoints stay)
            with contextlib.suppress(Exception):
                a.job.cancel(check=False)


def _job(run: Run, out: Path, launch: Launch) -> RunJob:
    return RunJob(
        run,
        out / "runs" / run.name,
        threads=launch.threads,
        checkpoint_seconds=launch.checkpoint_seconds,
        until_step=launch.until_step,
    )


@contextlib.contextmanager
def _controllers_stderr(path: Path, launch: Launch) -> Iterator[None]:
    """Local jobs started inside this context write their controllers' stderr to ``path``.

    Each local job is a Submitit controller process (``python -m submitit.local._local``) that
    starts the job's worker and inherits this process's file descriptor 2 when it starts. When
    the sweep stops early it cancels the job with SIGINT, and the controller, which has no
    handler for it, prints a ``KeyboardInterrupt`` traceback (after which it stops the worker, as
    it should). Started with descriptor 2 pointing at ``path`` (appended to), the controllers
    leave the sweep's own stderr to the sweep: its one line saying how to continue. The workers'
    output goes to their own logs in ``OUT/jobs/`` either way. SLURM jobs start no local process.
    """
    if launch.executor != "local":
        yield
        return
    import sys

    sys.stderr.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _submit(executor: Any, jobs: list[RunJob]) -> list[Any]:
    """Submit ``jobs`` (several at once as one SLURM job array)."""
    if len(jobs) == 1:
        return [executor.submit(jobs[0])]
    with executor.batch():
        handles = [executor.submit(job) for job in jobs]
    return handles


def _collect(
    a: _Active, out: Path, launch: Launch, result: SweepResult, todo: deque[Run], emit: Callable, *, lost: bool
) -> None:
    """Record what ``a``'s job returned, or resubmit its run if the job died (``lost``: it left
    the SLURM queue without a result, on a cluster without accounting)."""
    run = a.run
    try:
        if lost:
            raise RuntimeError(f"job {a.job.job_id} left the queue without writing a result")
        outcome: Outcome = a.job.result()
    except Exception as exc:  # the job died without returning: killed, lost, timed out too often
        if state.run_status(out / "runs" / run.name, run.config).kind == "finished":  # died after its summary
            result.status[run.name] = "finished"
            emit("end", run)
            return
        why = f"its job ended without a result ({_first_line(exc)[:300]})"
        if a.attempt <= launch.retries:
            todo.appendleft(run)
            emit("retry", run, message=why, attempt=a.attempt + 1)
        else:
            result.status[run.name], result.messages[run.name] = "interrupted", why
            emit("interrupted", run, message=why)
        return
    result.outcomes[run.name] = outcome
    if outcome.status in ("finished", "skipped"):
        result.status[run.name] = "finished"
        emit("end", run, outcome=outcome)
    elif outcome.status == "paused":
        result.status[run.name], result.messages[run.name] = "paused", outcome.message or "paused"
        emit("pause", run, message=outcome.message, outcome=outcome)
    else:
        result.status[run.name], result.messages[run.name] = "failed", outcome.message or "failed"
        emit("fail", run, message=outcome.message, outcome=outcome)
