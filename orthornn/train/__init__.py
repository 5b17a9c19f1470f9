"""Training: a frozen config, seeded resumable task streams, one loop, checkpoints as dicts.

The library returns a :class:`History` and hands checkpoints to callbacks; it never prints or
writes files (``orthornn train`` does, see :mod:`orthornn.cli.train`).

:mod:`orthornn.train.config` imports no torch (the command line reads it to build its
parser); every other name here is loaded, with torch, on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import MODEL_NAMES, OPTIMIZERS, TASK_NAMES, TrainConfig

_LAZY = {
    "CheckpointError": "checkpoint",
    "check_checkpoint": "checkpoint",
    "check_resumable": "checkpoint",
    "load_checkpoint": "checkpoint",
    "Batch": "data",
    "TaskStream": "data",
    "World": "distributed",
    "History": "loop",
    "Trainer": "loop",
    "resolve_device": "loop",
    "train": "loop",
    "task_loss": "metrics",
    "RMSpropTF": "optim",
    "build_optimizer": "optim",
    "parameter_groups": "optim",
    "MODELS": "registry",
    "TASKS": "registry",
    "SequenceModel": "registry",
    "build_model": "registry",
    "build_task": "registry",
    "count_parameters": "registry",
}

__all__ = ["MODEL_NAMES", "OPTIMIZERS", "TASK_NAMES", "TrainConfig", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
