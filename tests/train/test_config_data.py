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
        ({"task": "babi", "babi_set": "fr"}, "babi_set"),
        ({"task": "babi", "babi_split": "page"}, "babi_split"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(OrthornnError, match=rf"^{field}:"):
        TrainConfig(**changes)


def test_config_round_trip_and_unknown_fields():
    cfg = TrainConfig(task="recall", model="rum", T=30, eta=1.0, clip=1.0)
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


# -- options that act on some models or tasks only --------------------------------------------
from orthornn.train import Trainer  # noqa: E402
from orthornn.train.config import MODEL_NAMES, MODEL_OPTIONS, TASK_NAMES, TASK_OPTIONS  # noqa: E402

#: a value of every model/task option that differs from its default and visibly acts
ACTING = {
    "lam": 0.5,
    "learn_lam": True,
    "eta": 0.5,
    "init": "identity",
    "activation": "tanh",
    "pool": 2,
    "act_clip": 0.05,
    "ortho_lr": 0.5,
    "rum_init": "orthogonal",
    "lstm_init": "tf",
    "readout_init": "glorot-io",
    "S": 3,
    "K": 4,
}


def test_acting_values_cover_every_option():
    assert set(ACTING) == set(MODEL_OPTIONS) | set(TASK_OPTIONS)


def _base(model: str, task: str = "copy", **kw) -> TrainConfig:
    return TrainConfig(task=task, model=model, T=4, hidden=4, batch=3, steps=2, eval_every=2, dtype="float64", **kw)


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("name", sorted(MODEL_OPTIONS))
def test_a_model_option_is_refused_where_it_does_not_act(model, name):
    owners, default = MODEL_OPTIONS[name]
    if model in owners:
        cfg = _base(model, **{name: ACTING[name]})
        assert getattr(cfg, name) == ACTING[name] and cfg.to_dict()[name] == ACTING[name]
        assert getattr(_base(model), name) == default and name in _base(model).to_dict()
    else:
        kind = f"model {owners[0]}" if len(owners) == 1 else f"models {', '.join(owners)}"
        with pytest.raises(OrthornnError, match=rf"^{name}: applies to {kind} only, not '{model}'$"):
            _base(model, **{name: ACTING[name]})
        cfg = _base(model)
        assert getattr(cfg, name) is None and name not in cfg.to_dict()  # the saved config holds what acted


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("name", sorted(TASK_OPTIONS))
def test_a_task_option_is_refused_where_it_does_not_act(task, name):
    owners, default = TASK_OPTIONS[name]
    if task in owners:
        assert getattr(_base("gru", task, **{name: ACTING[name]}), name) == ACTING[name]
        assert _base("gru", task).to_dict()[name] == default
    else:
        with pytest.raises(OrthornnError, match=rf"^{name}: applies to tasks copy, varcopy only, not '{task}'$"):
            _base("gru", task, **{name: ACTING[name]})
        assert name not in _base("gru", task).to_dict()


def _fingerprint(cfg: TrainConfig) -> list:
    """What two steps of training produce: losses, parameter shapes and values."""
    tr = Trainer(cfg)
    hist = tr.run()
    params = [(k, tuple(v.shape), v.flatten().tolist()) for k, v in tr.model.state_dict().items()]
    return [[r["loss"] for r in hist.train], params]


@pytest.mark.parametrize(
    ("model", "task", "name"),
    [(m, "copy", n) for n, (owners, _) in MODEL_OPTIONS.items() for m in owners]
    + [("gru", t, n) for n, (owners, _) in TASK_OPTIONS.items() for t in owners],
)
def test_every_accepted_option_acts(model, task, name):
    """Where an option is accepted, changing it changes the run (nothing is silently ignored)."""
    assert _fingerprint(_base(model, task, **{name: ACTING[name]})) != _fingerprint(_base(model, task))


def test_configs_written_before_options_were_refused_still_load():
    legacy = {**_base("rum", "recall").to_dict(), "S": 10, "K": 8, "init": "orthogonal", "activation": "auto",
              "pool": None, "act_clip": None, "ortho_lr": 0.0}  # fmt: skip
    cfg = TrainConfig.from_dict(legacy)
    assert cfg == _base("rum", "recall") and "init" not in cfg.to_dict()
    with pytest.raises(OrthornnError, match=r"^init: applies to model ltrnn only"):  # a value that never acted
        TrainConfig.from_dict({**legacy, "init": "identity"})


def test_replace_drops_the_options_of_the_old_model_and_refuses_given_ones():
    lt = _base("ltrnn", init="identity", pool=2)
    assert lt.replace(model="rum") == _base("rum")
    assert lt.replace(task="recall", T=4).S is None and lt.replace(task="recall", T=4).init == "identity"
    with pytest.raises(OrthornnError, match=r"^pool: applies to model ltrnn only"):
        lt.replace(model="rum", pool=2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lr": "fast"}, "lr"),
        ({"lr": None}, "lr"),
        ({"lam": "x"}, "lam"),
        ({"lam": 10**400}, "lam"),
        ({"hidden": 4.0}, "hidden"),
        ({"hidden": True}, "hidden"),
        ({"learn_lam": 1}, "learn_lam"),
        ({"device": 3}, "device"),
        ({"device": "cuda:x"}, "device"),
        ({"dtype": ["float32"]}, "dtype"),
        ({"model": "ltrnn", "init": "henaff"}, "init"),
        ({"model": "ltrnn", "activation": "gelu"}, "activation"),
        ({"model": "ltrnn", "pool": 2.0}, "pool"),
        ({"model": "ltrnn", "ortho_lr": -1.0}, "ortho_lr"),
        ({"S": 0}, "S"),
    ],
)
def test_values_of_the_wrong_type_name_the_field(changes, field):
    """A hand-edited config.json can hold anything: never a TypeError, always the field."""
    with pytest.raises(OrthornnError, match=rf"^{field}:"):
        TrainConfig(**changes)


def test_integers_given_for_real_fields_are_stored_as_floats():
    cfg = TrainConfig(model="rum", lam=1, lr=1, clip=2)
    assert (type(cfg.lam), type(cfg.lr), type(cfg.clip)) == (float, float, float)
