"""The non-finite-loss guard's fixture, shared by the data-task tests: a trainer a few steps in
whose readout bias is then made NaN, so that its next loss is not finite."""

from __future__ import annotations

import torch


def poison_head(trainer, steps: int = 2) -> dict[str, torch.Tensor]:
    """Take ``steps`` training steps, fill ``trainer.model.head.bias`` with NaN, and return a copy
    of the model's state as it is then (what the guard must leave untouched)."""
    for _ in range(steps):
        trainer.train_step()
    with torch.no_grad():
        trainer.model.head.bias.fill_(float("nan"))
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}
