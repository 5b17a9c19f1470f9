"""Where each run of a sweep stands, read from its folder: the folder is the record.

A run's folder ``OUT/runs/<name>/`` is an ``orthornn train --out`` folder (so ``orthornn train
--resume`` continues it too):

* ``config.json`` — the :class:`~orthornn.train.TrainConfig` it trains;
* ``metrics.jsonl`` — one line per training step and per evaluation;
* ``checkpoint.pt`` — the last checkpoint (replaced atomically);
* ``summary.json`` — written last, when the run finished;
* ``failed.json`` — the error of a run that failed (removed when it is tried again);
* ``worker.json`` — the host, process and job that trains it now (or last did).

From these, :func:`run_status` says what a sweep does with a run: skip it (``finished``: a
``summary.json`` beside a ``config.json`` equal to the run's), continue it (``resumable``: a
checkpoint of a config it may continue, :data:`~orthornn.train.checkpoint.RESUMABLE_CHANGES`),
try it again (``failed``), or train it afresh (``new``, or ``stale``: the folder holds another
config's run, which is replaced). A flat ``OUT/runs/<name>.json`` record of the one-process
``run_experiment.py`` with the same config counts as finished too (``legacy``).

Writing is atomic: a file is written beside its target, synced and renamed over it, so a kill
leaves the old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OrthornnError
from ..train.atomic import replace
from ..train.config import TrainConfig

__all__ = [
    "STATUS_KINDS",
    "RunStatus",
    "read_json",
    "read_metrics",
    "read_record",
    "run_status",
    "write_json",
]

#: What :func:`run_status` can say of a run.
STATUS_KINDS = ("new", "finished", "legacy", "resumable", "failed", "stale")

CONFIG, METRICS, CHECKPOINT, SUMMARY, FAILED, WORKER = (
    "config.json",
    "metrics.jsonl",
    "checkpoint.pt",
    "summary.json",
    "failed.json",
    "worker.json",
)


@dataclass(frozen=True)
class RunStatus:
    """Where a run stands (see the module docstring for the kinds)."""

    kind: str  # one of STATUS_KINDS
    step: int = 0  # resumable: the checkpoint's step
    message: str | None = None  # failed: the error; stale: what differs

    def at(self, until: int | None) -> bool:
        """Whether a resumable run's checkpoint is at step ``until`` or past it (``--until-step``)."""
        return until is not None and self.kind == "resumable" and self.step >= until


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as strict JSON (no NaN) to ``path``, atomically."""
    replace(path, (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode())


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is absent or not JSON (a file being replaced)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _same_config(saved: Any, config: TrainConfig) -> bool:
    if not isinstance(saved, dict):
        return False
    try:
        return TrainConfig.from_dict(saved).to_dict() == json.loads(json.dumps(config.to_dict()))
    except (OrthornnError, TypeError):
        return False


def _differs(saved: Any, config: TrainConfig) -> str:
    """What differs between a saved config and ``config``, in a few words."""
    try:
        a = TrainConfig.from_dict(saved).to_dict()
    except (OrthornnError, TypeError):
        return "its config.json is not a training config"
    b = json.loads(json.dumps(config.to_dict()))
    names = [k for k in [*a, *(k for k in b if k not in a)] if a.get(k) != b.get(k)]
    return ", ".join(f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in names[:3]) or "nothing"


def legacy_record(folder: Path) -> Path:
    """Where ``run_experiment.py`` kept the run of ``folder``: ``runs/<name>.json``."""
    return folder.with_name(folder.name + ".json")


def run_status(folder: Path, config: TrainConfig) -> RunStatus:
    """Where the run of ``config`` in ``folder`` stands (see the module docstring).

    Reads the checkpoint (on the CPU, with the safe loader) only to learn its step and config.
    """
    saved = read_json(folder / CONFIG)
    summary = folder / SUMMARY
    if summary.is_file() and _same_config(saved, config) and read_json(summary) is not None:
        return RunStatus("finished")
    if not folder.exists():
        legacy = read_json(legacy_record(folder))
        if isinstance(legacy, dict) and _same_config(legacy.get("config"), config) and "summary" in legacy:
            return RunStatus("legacy")
        return RunStatus("new")
    ckpt = folder / CHECKPOINT
    if ckpt.is_file():
        from ..train.checkpoint import CheckpointError, check_resumable, load_checkpoint

        try:
            state = load_checkpoint(ckpt)
            check_resumable(TrainConfig.from_dict(state["config"]), config)
            if state["step"] > config.steps:
                raise OrthornnError(f"steps: the checkpoint is at step {state['step']}, beyond {config.steps}")
        except CheckpointError as exc:
            return RunStatus("stale", message=f"unreadable checkpoint ({str(exc).splitlines()[0]})")
        except OrthornnError as exc:
            return RunStatus("stale", message=str(exc).splitlines()[0])
        failed = read_json(folder / FAILED)
        if isinstance(failed, dict):
            return RunStatus("failed", step=int(state["step"]), message=str(failed.get("error")))
        return RunStatus("resumable", step=int(state["step"]))
    failed = read_json(folder / FAILED)
    if isinstance(failed, dict):
        return RunStatus("failed", message=str(failed.get("error")))
    if saved is not None and not _same_config(saved, config):
        return RunStatus("stale", message=_differs(saved, config))
    return RunStatus("new")


def read_metrics(path: Path, upto: int | None = None) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl``, those at steps ``<= upto`` when given (a torn last
    line, from a kill mid-write, is dropped)."""
    out: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and (upto is None or rec.get("step", 0) <= upto):
            out.append(rec)
    return out


def read_record(folder: Path) -> dict[str, Any]:
    """A finished run as one record: ``config``, ``train_loss`` (per step), ``evals``,
    ``summary`` and, for a learned λ, ``learned_lam`` (``[(step, λ), ...]`` at the evaluations;
    the train records of ``metrics.jsonl`` also carry it, after each step).

    The same record ``run_experiment.py`` wrote to ``runs/<name>.json``, which is read instead
    where the folder does not exist (a ``legacy`` run).
    """
    if not folder.exists():
        rec = read_json(legacy_record(folder))
        if not isinstance(rec, dict):
            raise OrthornnError(f"{folder}: no run there")
        return rec
    metrics = read_metrics(folder / METRICS)
    evals = [{k: v for k, v in r.items() if k not in ("kind", "learned_lam")} for r in metrics if r["kind"] == "eval"]
    rec: dict[str, Any] = {
        "config": read_json(folder / CONFIG),
        "train_loss": [r["loss"] for r in metrics if r["kind"] == "train"],
        "evals": evals,
        "summary": read_json(folder / SUMMARY),
    }
    lam = [(r["step"], r["learned_lam"]) for r in metrics if r["kind"] == "eval" and "learned_lam" in r]
    if lam:
        rec["learned_lam"] = lam
    return rec
