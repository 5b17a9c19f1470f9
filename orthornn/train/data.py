r"""Task batches as torch tensors, each a pure function of ``(seed, split, index)``.

Batch ``k`` of the training stream is drawn from ``numpy.random.default_rng([seed, 0, k])``
and held-out batch ``i`` from ``default_rng([seed, 1, i])``, so a run resumed at step ``k``
sees exactly the batches an uninterrupted run would, and evaluation data never overlap
training data (different streams of the same seed sequence).

Token inputs (copy, variable copy, recall) are one-hot encoded, as in both papers; the adding
task's ``(value, marker)`` pairs are fed as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .config import TrainConfig
from .registry import build_task

__all__ = ["Batch", "TaskStream"]

_SPLITS = {"train": 0, "eval": 1}


@dataclass(frozen=True)
class Batch:
    """Inputs ``x`` (B, L, input_size) and targets ``y``: class ids (B, L) for copy tasks,
    (B,) for recall, values (B,) for adding."""

    x: Tensor
    y: Tensor


class TaskStream:
    """Seeded, resumable stream of batches of ``config.task`` on ``device``.

    Examples
    --------
    >>> s = TaskStream(TrainConfig(task="copy", T=5, S=3, K=4, batch=2), device="cpu", dtype=torch.float64)
    >>> b = s.batch(7)
    >>> tuple(b.x.shape), tuple(b.y.shape), s.input_size, s.output_size
    ((2, 11, 6), (2, 11), 6, 5)
    >>> bool(torch.equal(b.x, s.batch(7).x)) and not torch.equal(b.x, s.batch(7, "eval").x)
    True
    """

    def __init__(self, config: TrainConfig, *, device: torch.device | str, dtype: torch.dtype) -> None:
        self.config, self.device, self.dtype = config, torch.device(device), dtype
        self.task: Any = build_task(config)
        self.tokens = config.task != "adding"
        self.input_size = int(self.task.vocab_size) if self.tokens else 2
        self.output_size = int(self.task.n_classes) if self.tokens else 1

    @property
    def baseline(self) -> float:
        """The task's memoryless baseline loss (cross-entropy in nats, or MSE for adding)."""
        return float(self.task.baseline)

    @property
    def baseline_accuracy(self) -> float | None:
        """Accuracy of the memoryless predictor: 1/K on copy recall positions, 1/10 on recall."""
        if self.config.task in ("copy", "varcopy"):
            return 1.0 / self.config.K
        if self.config.task == "recall":
            return float(self.task.baseline_accuracy)
        return None

    def batch(self, index: int, split: str = "train") -> Batch:
        """Batch ``index`` of the ``train`` or ``eval`` stream."""
        rng = np.random.default_rng([self.config.seed, _SPLITS[split], int(index)])
        x, y = self.task.sample(self.config.batch, rng)
        if self.tokens:
            xt = torch.nn.functional.one_hot(torch.as_tensor(x), self.input_size)
            yt = torch.as_tensor(y, dtype=torch.int64)
        else:
            xt = torch.as_tensor(x)
            yt = torch.as_tensor(y)
        return Batch(
            xt.to(device=self.device, dtype=self.dtype),
            yt.to(device=self.device, dtype=torch.int64 if self.tokens else self.dtype),
        )
