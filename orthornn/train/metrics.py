r"""Losses and accuracies of the tasks.

* copy / variable copy: cross-entropy averaged over **all** time steps (as RUM and Arjovsky
  et al.; the baseline :math:`S\ln K/(T+2S)` is on that scale); accuracy = recalled-symbol
  accuracy (positions whose target is a data symbol), plus blank accuracy and success rate;
* recall: cross-entropy of the last step's scores; accuracy of its argmax;
* bAbI: the same, of the scores at each sequence's own last token (``last``; the rest of a
  padded batch is blanks after it), so a question scores alike in any batch;
* adding: mean squared error of the last step's output (baseline 1/6); no accuracy;
* ptb: cross-entropy of the next character averaged over every position of the window, its bits
  per character :math:`\mathcal L/\ln 2` (``bpc``) and the accuracy of the argmax.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

__all__ = ["task_loss"]


def task_loss(
    task_name: str, task: Any, scores: Tensor, y: Tensor, last: Tensor | None = None
) -> tuple[Tensor, dict[str, float]]:
    """The training loss of ``scores`` (B, L, C) against targets, and detached metrics
    (``last``: bAbI's last positions, see :class:`~orthornn.train.data.Batch`).

    >>> import math
    >>> from orthornn.tasks import RecallTask
    >>> loss, m = task_loss("recall", RecallTask(4), torch.zeros(2, 7, 10), torch.tensor([3, 4]))
    >>> math.isclose(float(loss), math.log(10), rel_tol=1e-6), m["accuracy"]
    (True, 0.0)
    """
    if task_name in ("copy", "varcopy"):
        # classes in dimension 1: the same mean as over (B·T, C), without the slow trailing-class
        # log-softmax (≈ 10 ms of a 30 ms LT-RNN iteration, benchmarks/models.py --flat-loss)
        loss = torch.nn.functional.cross_entropy(scores.transpose(1, 2), y)
        with torch.no_grad():
            pred = scores.argmax(-1)
            data = y < task.K
            correct = pred == y
            n_data = max(int(data.sum()), 1)
            metrics = {
                "accuracy": float((correct & data).sum()) / n_data,
                "blank_accuracy": float((correct & ~data).sum()) / max(int((~data).sum()), 1),
                "success": float((correct | ~data).all(1).float().mean()),
            }
    elif task_name in ("recall", "babi"):
        if task_name == "babi":
            if last is None:
                raise ValueError("task babi needs the last positions of its sequences")
            final = scores[torch.arange(scores.shape[0], device=scores.device), last]
        else:
            final = scores[:, -1]
        loss = torch.nn.functional.cross_entropy(final, y)
        with torch.no_grad():
            metrics = {"accuracy": float((final.argmax(-1) == y).float().mean())}
    elif task_name == "ptb":
        loss = torch.nn.functional.cross_entropy(scores.transpose(1, 2), y)
        with torch.no_grad():
            metrics = {
                "bpc": float(loss.detach()) / math.log(2),
                "accuracy": float((scores.argmax(-1) == y).float().mean()),
            }
    elif task_name == "adding":
        loss = torch.nn.functional.mse_loss(scores[:, -1, 0], y)
        metrics = {}
    else:  # pragma: no cover - the config validates the name
        raise KeyError(task_name)
    metrics["loss"] = float(loss.detach())
    return loss, metrics
