"""Sweeps: every (panel, run, seed) of an analysis config, each an :mod:`orthornn.train` run,
launched through Submitit on this machine's cores or as a SLURM job array.

* :mod:`~orthornn.sweep.plan` — the config read and checked, and expanded into its runs;
* :mod:`~orthornn.sweep.state` — where each run stands, read from its folder;
* :mod:`~orthornn.sweep.job` — one run as a checkpointable Submitit job;
* :mod:`~orthornn.sweep.launch` — the executors and the loop that drives them;
* :mod:`~orthornn.sweep.events` — what the loop tells its caller (the library never prints);
* :mod:`~orthornn.sweep.aggregate` — the results over seeds: the summary table (at the end, or at
  an equal step budget) and the figure.

``orthornn sweep`` (:mod:`orthornn.cli.sweep`) is the command line; docs/sweep.md the guide.
Names are loaded on first use (:mod:`~orthornn.sweep.plan` imports no torch and no Submitit).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Run": "plan",
    "Spec": "plan",
    "SweepError": "plan",
    "load_spec": "plan",
    "expand": "plan",
    "RunStatus": "state",
    "read_record": "state",
    "run_status": "state",
    "Outcome": "job",
    "RunJob": "job",
    "Counts": "events",
    "Event": "events",
    "LAUNCHERS": "launch",
    "Launch": "launch",
    "SweepResult": "launch",
    "run_sweep": "launch",
    "collect": "aggregate",
    "figure": "aggregate",
    "summary_markdown": "aggregate",
    "eval_at": "aggregate",
    "summary_at_markdown": "aggregate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
