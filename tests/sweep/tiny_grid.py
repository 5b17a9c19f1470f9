"""Shared pieces of the sweep tests: a tiny grid and helpers (the ``reference`` fixture, the
uninterrupted sweep of it, is in conftest.py).

The grid: copy T = 5 with an LT-RNN of 8 units (orthogonal initialisation) × two seeds, 300
steps each (about a second of training, long enough to kill
a worker mid-run), a checkpoint every 25 steps. :func:`reference` sweeps it once per session,
uninterrupted, with two local workers; the other tests compare their results with it.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from orthornn.sweep.state import read_metrics, read_record

TINY: dict[str, Any] = {
    "name": "tiny",
    "paper": "A tiny grid of the sweep tests.",
    "base": {
        "task": "copy",
        "model": "ltrnn",
        "T": 5,
        "S": 2,
        "K": 3,
        "hidden": 8,
        "batch": 4,
        "steps": 300,
        "eval_every": 50,
        "eval_batches": 1,
        "checkpoint_every": 25,
    },
    "panels": [{"T": 5}],
    "runs": [{"label": "orth", "init": "orthogonal"}],
    "seeds": [0, 1],
}


def tiny(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`TINY` with top-level keys replaced."""
    spec = copy.deepcopy(TINY)
    spec.update(changes)
    return spec


def comparable(rec: dict[str, Any]) -> dict[str, Any]:
    """A run's record without what depends on the machine's speed (times)."""
    summary = {k: v for k, v in rec["summary"].items() if k != "wall_seconds"}
    return {"config": rec["config"], "train_loss": rec["train_loss"], "evals": rec["evals"], "summary": summary}


def results(out: Path, runs: list) -> dict[str, dict[str, Any]]:
    return {r.name: comparable(read_record(out / "runs" / r.name)) for r in runs}


def steps_done(folder: Path) -> int:
    """Training steps in a run folder's metrics.jsonl so far."""
    return sum(r.get("kind") == "train" for r in read_metrics(folder / "metrics.jsonl"))


def signal_worker_when(folder: Path, sig: int, *, after_step: int, timeout: float = 60.0) -> threading.Thread:
    """A thread that sends ``sig`` once to the process training ``folder`` (its worker.json)
    once that run has passed ``after_step`` steps (and a checkpoint after step 0)."""

    def go() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = folder / "worker.json"
            if worker.is_file() and steps_done(folder) > after_step:
                os.kill(json.loads(worker.read_text())["pid"], sig)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


KILL, PREEMPT = signal.SIGKILL, signal.SIGUSR2
