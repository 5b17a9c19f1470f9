"""Checkpoints as plain dicts of tensors (the caller decides where to write them).

A checkpoint holds everything a run needs to continue to the result an uninterrupted run
would reach: the config, the step, the model and optimiser state, the best evaluation so far,
the evaluation history and the wall time spent. Batches need no saved state (they are a
function of ``(seed, step)``, see :mod:`orthornn.train.data`), and the per-step noise
(zoneout, penalty directions) is re-seeded from ``(seed, step)`` at every step.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import OrthornnError
from .config import TrainConfig

__all__ = ["FORMAT", "RESUMABLE_CHANGES", "check_format", "check_resumable", "to_cpu"]

#: Version of the checkpoint layout.
FORMAT = 1

#: Config fields a resumed run may change (everything else must match the checkpoint).
RESUMABLE_CHANGES = frozenset({"steps", "device", "eval_every", "checkpoint_every"})


def check_resumable(saved: TrainConfig, new: TrainConfig) -> None:
    """Raise :class:`OrthornnError` naming the first field that may not change on resume.

    >>> check_resumable(TrainConfig(steps=10), TrainConfig(steps=20))
    >>> check_resumable(TrainConfig(lr=1e-3), TrainConfig(lr=1e-2))
    Traceback (most recent call last):
    ...
    orthornn.errors.OrthornnError: lr: the checkpoint was trained with 0.001, cannot resume with 0.01
    """
    a, b = saved.to_dict(), new.to_dict()
    for name in a:
        if name not in RESUMABLE_CHANGES and a[name] != b[name]:
            raise OrthornnError(f"{name}: the checkpoint was trained with {a[name]!r}, cannot resume with {b[name]!r}")


def to_cpu(obj: Any) -> Any:
    """A copy of a nested dict/list of tensors with every tensor on the CPU (portable files)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def check_format(state: dict[str, Any]) -> None:
    """Raise :class:`OrthornnError` unless ``state`` is a checkpoint of this :data:`FORMAT`."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise OrthornnError(f"not an orthornn checkpoint of format {FORMAT}")
