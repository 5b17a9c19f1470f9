"""Checkpoints as plain dicts of tensors (the caller decides where to write them).

A checkpoint holds everything a run needs to continue to the result an uninterrupted run
would reach: the config, the step, the model and optimiser state, the best evaluation so far,
the evaluation history and the wall time spent. Batches need no saved state (they are a
function of ``(seed, step)``, see :mod:`orthornn.train.data`), and the per-step noise
(zoneout, penalty directions) is re-seeded from ``(seed, step)`` at every step, so no RNG
state is stored either.

Everything in a checkpoint is a tensor, a number, a string, a bool, ``None`` or a list, tuple
or dict of those, so :func:`load_checkpoint` reads files with ``torch.load(weights_only=True)``:
a file whose unpickling would build any other object (and so could run code) is refused.
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import OrthornnError
from .config import TrainConfig

__all__ = [
    "FORMAT",
    "RESUMABLE_CHANGES",
    "CheckpointError",
    "check_checkpoint",
    "check_format",
    "check_resumable",
    "load_checkpoint",
    "to_cpu",
]

#: Version of the checkpoint layout.
FORMAT = 1

#: Config fields a resumed run may change (everything else must match the checkpoint); ``data``:
#: a moved data folder (a different vocabulary no longer fits the model's state); ``test_at``: a
#: run tested at its final parameters may go on to test its best validation's, chosen among the
#: evaluations after the resume (the checkpoint kept no earlier best parameters; ``best_since``).
RESUMABLE_CHANGES = frozenset({"steps", "device", "eval_every", "checkpoint_every", "data", "stop_accuracy", "test_at"})


class CheckpointError(OrthornnError):
    """A checkpoint that cannot be read or does not have the layout of :data:`FORMAT`."""


def check_resumable(saved: TrainConfig, new: TrainConfig) -> None:
    """Raise :class:`OrthornnError` naming the first field that may not change on resume.

    >>> check_resumable(TrainConfig(steps=10), TrainConfig(steps=20))
    >>> check_resumable(TrainConfig(lr=1e-3), TrainConfig(lr=1e-2))
    Traceback (most recent call last):
    ...
    orthornn.errors.OrthornnError: lr: the checkpoint was trained with 0.001, cannot resume with 0.01
    """
    a, b = saved.to_dict(), new.to_dict()
    for name in [*a, *(k for k in b if k not in a)]:
        if name not in RESUMABLE_CHANGES and a.get(name) != b.get(name):
            raise OrthornnError(
                f"{name}: the checkpoint was trained with {a.get(name)!r}, cannot resume with {b.get(name)!r}"
            )


def to_cpu(obj: Any) -> Any:
    """A copy of a nested dict/list of tensors with every tensor on the CPU (portable files)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def check_format(state: Any) -> None:
    """Raise :class:`CheckpointError` unless ``state`` is a checkpoint of this :data:`FORMAT`."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"not an orthornn checkpoint of format {FORMAT}")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def check_checkpoint(state: Any) -> TrainConfig:
    """Raise :class:`CheckpointError` naming the first entry of ``state`` that a checkpoint of
    :data:`FORMAT` cannot hold; return its config.

    >>> check_checkpoint({"format": 1, "config": {"steps": 0}})
    Traceback (most recent call last):
    ...
    orthornn.train.checkpoint.CheckpointError: its config: steps: must be a positive integer, got 0
    """
    check_format(state)
    try:
        config = TrainConfig.from_dict(state.get("config"))
    except OrthornnError as exc:
        raise CheckpointError(f"its config: {exc}") from None
    step = state.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise CheckpointError(f"its step must be a non-negative integer, got {step!r}")
    model = state.get("model")
    if not isinstance(model, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in model.items()):
        raise CheckpointError("its model state must map parameter names to tensors")
    opt = state.get("optimizer")
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)):
        raise CheckpointError("its optimizer state must hold 'state' (a dict) and 'param_groups' (a list)")
    best, evals = state.get("best"), state.get("evals")
    if best is not None and not (isinstance(best, dict) and _number(best.get("loss"))):
        raise CheckpointError("its best evaluation must be None or a record with a finite loss")
    if best is not None and config.best_by == "accuracy" and not _number(best.get("accuracy")):
        raise CheckpointError("its best evaluation must have an accuracy (the run keeps the best by accuracy)")
    since = state.get("best_since", 0)
    if not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= step:
        raise CheckpointError(f"its best_since must be an integer from 0 to its step {step}, got {since!r}")
    if not isinstance(evals, list) or not all(isinstance(e, dict) and _number(e.get("loss")) for e in evals):
        raise CheckpointError("its evaluations must be a list of records with a finite loss")
    if not (_number(state.get("elapsed")) and state["elapsed"] >= 0):
        raise CheckpointError(f"its elapsed time must be a non-negative number, got {state.get('elapsed')!r}")
    return config


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint file written with :func:`torch.save` of a :meth:`Trainer.state_dict`.

    Reads with ``weights_only=True``: only tensors and plain containers are built, never an
    arbitrary object (a crafted pickle cannot run code). Raises :class:`CheckpointError`,
    one line naming ``path``, when the file cannot be read, is refused or is not a checkpoint
    (:func:`check_checkpoint`).

    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "checkpoint.pt"
    >>> _ = bad.write_bytes(b"not a checkpoint")
    >>> try:
    ...     load_checkpoint(bad)
    ... except CheckpointError as exc:
    ...     print(str(exc).startswith(f"{bad}: "), len(str(exc).splitlines()))
    True 1
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it reads anyway
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" in text:
            why = text.split("WeightsUnpickler error:", 1)[-1] if "WeightsUnpickler error:" in text else ""
            why = _first_line(why).split(" was not an allowed global")[0] if why.strip() else _first_line(exc)
            if "Unsupported global" in why:
                raise CheckpointError(
                    f"{path}: refused: it holds more than tensors and plain containers, and loading it could run"
                    f" code ({why})"
                ) from None
            raise CheckpointError(
                f"{path}: refused by the safe loader (tensors and plain containers only): {why}"
            ) from None
        raise CheckpointError(f"{path}: cannot read it as a checkpoint ({_first_line(exc)})") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read it ({exc.strerror or _first_line(exc)})") from None
    except Exception as exc:  # torch.load raises many types (RuntimeError, EOFError, KeyError…) on a bad file
        why = f"{type(exc).__name__}: {_first_line(exc)}"
        raise CheckpointError(f"{path}: cannot read it as a checkpoint ({why})") from None
    try:
        check_checkpoint(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return state
