"""TrainConfig validation and the seeded, resumable task streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orthornn.errors import OrthornnError
from orthornn.tasks import AddingTask, CopyTask, RecallTask
from orthornn.train import TaskStream, TrainConfig


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"task": "sort"}, "task"),
        ({"model": "transformer"}, "model"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"hidden": 0}, "hidden"),
        ({"steps": -1}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"lam": float("inf")}, "lam"),
        ({"eta": -1.0}, "eta"),
        ({"clip": 0.0}, "clip"),
        ({"pool": 3, "hidden": 8}, "pool"),
        ({"device": "tpu"}, "device"),
        ({"task": "recall", "T": 7}, "T"),
        ({"K": 1}, "K"),
        ({"seed": -2}, "seed"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(OrthornnError, match=rf"^{field}:"):
        TrainConfig(**changes)


def test_config_round_trip_and_unknown_fields():
    cfg = TrainConfig(task="recall", model="lstm", T=30, eta=1.0, clip=1.0)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(OrthornnError, match="unknown config fields: colour"):
        TrainConfig.from_dict({**cfg.to_dict(), "colour": 1})


def test_batches_are_a_function_of_seed_split_and_index():
    s = TaskStream(TrainConfig(task="copy", T=6, S=3, K=4, batch=5, seed=3), device="cpu", dtype=torch.float64)
    a, b = s.batch(11), s.batch(11)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(s.batch(12).x, a.x)
    assert not torch.equal(s.batch(11, "eval").x, a.x)
    other = TaskStream(TrainConfig(task="copy", T=6, S=3, K=4, batch=5, seed=4), device="cpu", dtype=torch.float64)
    assert not torch.equal(other.batch(11).x, a.x)


def test_copy_batches_are_one_hot_task_samples():
    cfg = TrainConfig(task="copy", T=6, S=3, K=4, batch=5, seed=3)
    s = TaskStream(cfg, device="cpu", dtype=torch.float64)
    b = s.batch(2)
    x, y = CopyTask(6, 3, 4).sample(5, np.random.default_rng([3, 0, 2]))
    assert torch.equal(b.x.argmax(-1), torch.as_tensor(x)) and torch.equal(b.x.sum(-1), torch.ones(5, 12))
    assert torch.equal(b.y, torch.as_tensor(y))
    assert s.baseline == CopyTask(6, 3, 4).baseline and s.baseline_accuracy == 0.25


def test_recall_and_adding_streams():
    r = TaskStream(TrainConfig(task="recall", T=8, batch=4), device="cpu", dtype=torch.float32)
    b = r.batch(0)
    assert b.x.shape == (4, 11, RecallTask(8).vocab_size) and b.y.shape == (4,) and r.output_size == 10
    a = TaskStream(TrainConfig(task="adding", T=9, batch=4), device="cpu", dtype=torch.float32)
    b = a.batch(0)
    assert b.x.shape == (4, 9, 2) and b.y.dtype == torch.float32 and a.baseline == AddingTask(9).baseline
    assert a.baseline_accuracy is None
