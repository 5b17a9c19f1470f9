"""One run of a sweep as a Submitit job: trains (or continues) a run into its folder.

:class:`RunJob` is what a launcher submits, one per (panel, run, seed). It is a
:class:`submitit.helpers.Checkpointable`: when the scheduler preempts it or its time runs out,
Submitit's signal handler calls :meth:`RunJob.checkpoint`, which resubmits a fresh job for
the same run, and requeues it; the requeued job continues from the run's last checkpoint on
disk. The training loop hands out consistent checkpoints only between steps (an evaluation
belongs to its step), so the job writes one

* every ``config.checkpoint_every`` steps (the loop's own), and
* at the first step boundary after ``checkpoint_seconds`` of training since the last one
  (never at an evaluation's step, never of non-finite parameters),

and a preempted job loses at most that much work; a resumed run reaches exactly the result
an uninterrupted one does (:mod:`orthornn.train.loop`).

A run that raises (a bad data folder, a device that is not there, a bug) is recorded in
``failed.json`` and returned as ``failed`` with its message: the job itself succeeds, so one
bad run never stops a sweep (and Submitit's debug executor never opens a debugger).
The job writes into the run's folder only, holding a lock on it (a second job of the same run,
say from a second sweep, returns ``failed`` at once); it never prints.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit
from submitit.core.utils import UncompletedJobError

from . import state
from .plan import Run

__all__ = ["Outcome", "RunJob"]


@dataclass(frozen=True)
class Outcome:
    """What a :class:`RunJob` returns (pickled back to the sweep)."""

    status: str  # finished | failed | skipped (finished before this job) | paused (at until_step)
    message: str | None = None  # failed: the error, one line
    summary: dict[str, Any] | None = field(default=None, hash=False)  # finished: summary.json
    resumed_from: int | None = None  # the checkpoint's step it continued from (None: from scratch)
    seconds: float = 0.0  # wall time of this job


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class RunJob(submitit.helpers.Checkpointable):
    """Train ``run`` into ``folder``; a callable Submitit job.

    Parameters
    ----------
    run : Run
    folder : Path
        The run's folder (``OUT/runs/<name>``).
    threads : int
        Torch's CPU threads in this job.
    checkpoint_seconds : float
        Also checkpoint at the first step boundary this long after the last checkpoint.
    until_step : int, optional
        Train to this step at most (below the config's ``steps``): the run pauses there with a
        checkpoint and no summary, and the job returns ``paused``; a run whose checkpoint is
        already there trains nothing. A later job without it (or with a later one) continues.

    Examples
    --------
    >>> import tempfile
    >>> from orthornn.sweep.plan import expand, load_spec
    >>> spec = load_spec({"name": "x", "base": {"task": "adding", "model": "ltrnn", "T": 4, "hidden": 4,
    ...                   "batch": 4, "steps": 3, "eval_every": 3}, "runs": [{"label": "a"}], "seeds": [0]})
    >>> (run,) = expand(spec)
    >>> folder = Path(tempfile.mkdtemp()) / run.name
    >>> RunJob(run, folder)().status, RunJob(run, folder)().status
    ('finished', 'skipped')
    """

    def __init__(
        self,
        run: Run,
        folder: Path,
        *,
        threads: int = 1,
        checkpoint_seconds: float = 300.0,
        until_step: int | None = None,
    ) -> None:
        self.run = run
        self.folder = Path(folder)
        self.threads = threads
        self.checkpoint_seconds = checkpoint_seconds
        self.until_step = until_step

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        """Submitit's checkpointing protocol: requeue a fresh job for this run, which continues
        from the last checkpoint on disk (the one in memory may be mid-step)."""
        return submitit.helpers.DelayedSubmission(copy.copy(self))  # the same run and options

    def __call__(self) -> Outcome:
        import torch

        t0 = time.perf_counter()
        status = state.run_status(self.folder, self.run.config)
        if status.kind in ("finished", "legacy"):
            return Outcome("skipped", summary=state.read_json(self.folder / state.SUMMARY))
        if status.at(self.until_step):
            return Outcome("paused", message=f"at step {status.step}", resumed_from=status.step)
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder) as mine:
            if not mine:
                worker = state.read_json(self.folder / state.WORKER) or {}
                who = f"{worker.get('host')} pid {worker.get('pid')}" if worker else "another process"
                return Outcome("failed", message=f"another job is training this run now ({who})")
            status = state.run_status(self.folder, self.run.config)  # again: another job may have just ended
            if status.kind == "finished":
                return Outcome("skipped", summary=state.read_json(self.folder / state.SUMMARY))
            return self._guarded(status, torch, t0)

    def _guarded(self, status: state.RunStatus, torch: Any, t0: float) -> Outcome:
        threads, denormal = torch.get_num_threads(), _flushing_denormals(torch)
        torch.set_num_threads(self.threads)
        torch.set_flush_denormal(True)  # as `orthornn train` (denormals slow RUM's CPU steps, docs/training.md)
        try:
            return self._train(status, torch, t0)
        except UncompletedJobError:  # Submitit's own: timed out too many times; the checkpoint stays
            raise
        except Exception as exc:
            message = _first_line(exc)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                state.write_json(self.folder / state.FAILED, {"error": message, "traceback": traceback.format_exc()})
            except OSError:
                pass
            return Outcome("failed", message=message, seconds=time.perf_counter() - t0)
        finally:
            torch.set_num_threads(threads)
            torch.set_flush_denormal(denormal)

    def _train(self, status: state.RunStatus, torch: Any, t0: float) -> Outcome:
        from ..train import Trainer
        from ..train.checkpoint import load_checkpoint

        folder, config = self.folder, self.run.config
        folder.mkdir(parents=True, exist_ok=True)
        for name in (state.FAILED, state.SUMMARY):
            (folder / name).unlink(missing_ok=True)
        resume = status.kind in ("resumable", "failed") and (folder / state.CHECKPOINT).is_file()
        if status.kind == "stale" or not resume:
            for name in (state.CHECKPOINT, state.METRICS):
                (folder / name).unlink(missing_ok=True)
        worker = {"host": socket.gethostname(), "pid": os.getpid(), "job_id": _job_id()}
        state.write_json(folder / state.WORKER, worker)
        state.write_json(folder / state.CONFIG, config.to_dict())
        trainer = Trainer(config)
        old: list[dict[str, Any]] = []
        if resume:
            ckpt = load_checkpoint(folder / state.CHECKPOINT)
            trainer.load_state_dict(ckpt)
            old = state.read_metrics(folder / state.METRICS, upto=trainer.step)
        resumed_from = trainer.step if resume else None
        metrics = _Metrics(folder / state.METRICS, old)

        def save(sd: dict[str, Any]) -> None:
            metrics.flush(sync=True)  # the metrics on disk always cover the checkpoint's step
            path = folder / state.CHECKPOINT
            torch.save(sd, path.with_name(path.name + ".tmp"))
            state.replace(path)
            last["time"] = time.monotonic()

        last = {"time": time.monotonic()}
        if not resume:
            save(trainer.state_dict())  # step 0: a run folder always holds a checkpoint

        def on_record(rec: dict[str, Any]) -> None:  # a learned λ is in the records (Trainer.learned_lam)
            metrics.write({"kind": "train", **rec})
            k = rec["step"]
            boundary = k % config.eval_every and k % config.checkpoint_every and k != config.steps
            if boundary and time.monotonic() - last["time"] >= self.checkpoint_seconds and trainer.parameters_finite():
                save(trainer.state_dict())

        def on_eval(rec: dict[str, Any]) -> None:
            metrics.write({"kind": "eval", **rec})

        try:
            hist = trainer.run(on_record=on_record, on_eval=on_eval, on_checkpoint=save, until=self.until_step)
        finally:
            metrics.close()
        if hist.paused is not None:  # its checkpoint is at the pause: resumable, no summary
            message = f"paused at step {hist.paused}"
            return Outcome("paused", message=message, resumed_from=resumed_from, seconds=time.perf_counter() - t0)
        state.write_json(folder / state.SUMMARY, hist.summary)
        return Outcome("finished", summary=hist.summary, resumed_from=resumed_from, seconds=time.perf_counter() - t0)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[bool]:
    """Hold ``folder/.lock`` while the run trains; yields False when another job holds it (a
    second sweep, or a worker left running by a killed one), so two jobs never write one run."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield True
        return
    with (folder / ".lock").open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _job_id() -> str | None:
    """The scheduler's id of this job (None outside a Submitit job)."""
    try:
        return str(submitit.JobEnvironment().job_id)
    except RuntimeError:
        return None


def _flushing_denormals(torch: Any) -> bool:
    return bool((torch.tensor([1e-310], dtype=torch.float64) * 1.0).item() == 0.0)


class _Metrics:
    """``metrics.jsonl``: rewritten with ``lines`` (those the checkpoint covers), then appended to."""

    def __init__(self, path: Path, lines: list[dict[str, Any]]) -> None:
        state.replace(path, "".join(json.dumps(r, allow_nan=False) + "\n" for r in lines).encode())
        self.file = path.open("a", encoding="utf-8")

    def write(self, rec: dict[str, Any]) -> None:
        self.file.write(json.dumps(rec, allow_nan=False) + "\n")

    def flush(self, *, sync: bool = False) -> None:
        self.file.flush()
        if sync:
            os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()
