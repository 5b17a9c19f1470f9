"""The frozen configuration of one training run (logged beside its results as config.json)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import OrthornnError

__all__ = ["MODEL_NAMES", "OPTIMIZERS", "TASK_NAMES", "TrainConfig"]

#: Tasks ``orthornn train`` knows (see :mod:`orthornn.train.registry`).
TASK_NAMES = ("copy", "varcopy", "adding", "recall")
#: Models ``orthornn train`` knows.
MODEL_NAMES = ("rum", "ltrnn", "eunn", "goru", "lstm", "gru")
#: Optimisers (RMSProp with decay 0.9 as both papers; Adam).
OPTIMIZERS = ("rmsprop", "adam")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field is plain data, so the config round-trips through JSON.

    >>> cfg = TrainConfig(task="copy", model="rum", T=10, steps=5)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    task: str = "copy"  # copy | varcopy | adding | recall
    model: str = "rum"  # rum | ltrnn | eunn | goru | lstm | gru
    hidden: int = 64  # hidden size N
    T: int = 10  # task length: copy/varcopy delay, adding length, recall pairs length
    S: int = 10  # copy: number of symbols to remember
    K: int = 8  # copy: alphabet size
    lam: float = 0.0  # RUM associative power λ (0, 1 or any real: so_power)
    learn_lam: bool = False  # RUM: make λ a trainable parameter
    eta: float | None = None  # RUM time normalisation η (None: off)
    init: str = "orthogonal"  # LT-RNN transition init: orthogonal | haar | identity | torus
    activation: str = "auto"  # LT-RNN input nonlinearity; auto: identity on tokens, relu on adding
    pool: int | None = None  # LT-RNN l2-pooling size k of the readout (None: plain readout)
    act_clip: float | None = None  # LT-RNN activation clipping norm (Henaff used 1000)
    ortho_lr: float = 0.0  # LT-RNN soft orthogonality: SGD step size on ‖(VᵀV−I)z‖² per step
    steps: int = 1000  # optimiser steps in total
    batch: int = 128  # sequences per step
    lr: float = 1e-3  # learning rate
    optimizer: str = "rmsprop"  # rmsprop (decay 0.9) | adam
    clip: float | None = None  # gradient-norm clipping (None: off)
    seed: int = 0  # seeds the init, every batch (from (seed, step)) and per-step noise
    device: str = "cpu"  # cpu | cuda | cuda:N | auto (cuda if available)
    dtype: str = "float32"  # float32 | float64
    eval_every: int = 100  # evaluate on held-out batches every this many steps (and at the end)
    eval_batches: int = 4  # held-out batches per evaluation (a fixed set, disjoint stream)
    checkpoint_every: int = 100  # hand a checkpoint to the caller every this many steps

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`OrthornnError` naming the first bad field."""
        if self.task not in TASK_NAMES:
            raise OrthornnError(f"task: unknown {self.task!r}; choose one of {', '.join(TASK_NAMES)}")
        if self.model not in MODEL_NAMES:
            raise OrthornnError(f"model: unknown {self.model!r}; choose one of {', '.join(MODEL_NAMES)}")
        if self.optimizer not in OPTIMIZERS:
            raise OrthornnError(f"optimizer: unknown {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        for name in ("hidden", "T", "S", "steps", "batch", "eval_every", "eval_batches", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise OrthornnError(f"{name}: must be a positive integer, got {v!r}")
        if isinstance(self.K, bool) or not isinstance(self.K, int) or self.K < 2:
            raise OrthornnError(f"K: must be an integer >= 2, got {self.K!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise OrthornnError(f"seed: must be a non-negative integer, got {self.seed!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise OrthornnError(f"lr: must be a positive number, got {self.lr}")
        if not math.isfinite(self.lam):
            raise OrthornnError(f"lam: must be a finite real number, got {self.lam}")
        for name in ("eta", "clip", "act_clip"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise OrthornnError(f"{name}: must be a positive number or None, got {v}")
        if self.pool is not None and (self.pool < 1 or self.hidden % self.pool):
            raise OrthornnError(f"pool: must be a positive divisor of hidden={self.hidden}, got {self.pool}")
        if not (math.isfinite(self.ortho_lr) and self.ortho_lr >= 0):
            raise OrthornnError(f"ortho_lr: must be a non-negative number, got {self.ortho_lr}")
        if self.dtype not in ("float32", "float64"):
            raise OrthornnError(f"dtype: must be float32 or float64, got {self.dtype!r}")
        if not (self.device in ("cpu", "cuda", "auto") or self.device.startswith("cuda:")):
            raise OrthornnError(f"device: must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.task == "recall" and self.T % 2:
            raise OrthornnError(f"T: the recall task needs an even T (T/2 key-digit pairs), got {self.T}")
        if self.task == "adding" and self.T < 2:
            raise OrthornnError(f"T: the adding task needs T >= 2, got {self.T}")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise OrthornnError(f"unknown config fields: {', '.join(unknown)}")
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)
