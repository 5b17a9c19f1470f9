"""Fixed training, validation and test sets in the trainer: the batches, the refusals, exact
resume across epochs, and evaluation on whole sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orthornn.errors import OrthornnError
from orthornn.tasks import FixedSet, RecallTask
from orthornn.train import TrainConfig, Trainer
from orthornn.train.data import EVAL_CHUNK, TaskStream


def _cfg(**kw) -> TrainConfig:
    base = {"task": "recall", "model": "lstm", "T": 6, "hidden": 5, "batch": 4, "steps": 8, "eval_every": 4}
    return TrainConfig(**{**base, **kw})


def test_training_batches_cycle_the_fixed_set_in_epochs():
    cfg = _cfg(train_size=10, train_order="cycle", seed=3)
    s = TaskStream(cfg, device="cpu", dtype=torch.float32)
    ref = FixedSet(RecallTask(6), 10, (3, 2), shuffle=False)
    assert np.array_equal(s.train_set.inputs, ref.inputs)
    for k in range(6):  # 6 batches of 4 over a set of 10: wraps at steps 2 and 4
        x, y = ref.batch(k, 4)
        b = s.batch(k)
        assert torch.equal(b.x.argmax(-1), torch.as_tensor(x)) and torch.equal(b.y, torch.as_tensor(y))
    shuffled = TaskStream(_cfg(train_size=10, seed=3), device="cpu", dtype=torch.float32)
    assert shuffled.config.train_order == "shuffle"
    assert np.array_equal(shuffled.train_set.order(1), np.random.default_rng([3, 2, 1, 1]).permutation(10))
    # the streamed default is unchanged: batch k from default_rng([seed, 0, k])
    x, _ = RecallTask(6).sample(4, np.random.default_rng([3, 0, 5]))
    assert torch.equal(
        TaskStream(_cfg(seed=3), device="cpu", dtype=torch.float32).batch(5).x.argmax(-1), torch.as_tensor(x)
    )


def test_validation_and_test_sets_are_separate_seeded_draws():
    s = TaskStream(_cfg(train_size=7, valid_size=2 * EVAL_CHUNK + 5, test_size=9), device="cpu", dtype=torch.float32)
    sizes = [len(b.y) for b in s.held_out("valid")]
    assert sizes == [EVAL_CHUNK, EVAL_CHUNK, 5]
    assert [len(b.y) for b in s.held_out("test")] == [9]
    assert np.array_equal(s.test_set.inputs, FixedSet(RecallTask(6), 9, (0, 4)).inputs)
    assert not np.array_equal(s.valid_set.inputs[:7], s.train_set.inputs)
    assert [len(b.y) for b in TaskStream(_cfg(), device="cpu", dtype=torch.float32).held_out()] == [4] * 4
    with pytest.raises(ValueError, match="no test set"):
        next(TaskStream(_cfg(), device="cpu", dtype=torch.float32).held_out("test"))


def test_options_that_need_another_are_refused_without_it_and_saved_only_where_they_act():
    with pytest.raises(OrthornnError, match=r"^train_order: applies with train_size only$"):
        _cfg(train_order="cycle")
    with pytest.raises(OrthornnError, match=r"^eval_batches: applies without valid_size only$"):
        _cfg(valid_size=100, eval_batches=2)
    cfg = _cfg(valid_size=100)
    assert cfg.eval_batches is None and "eval_batches" not in cfg.to_dict() and "train_order" not in cfg.to_dict()
    assert _cfg().eval_batches == 4 and _cfg(train_size=5).to_dict()["train_order"] == "shuffle"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict({**cfg.to_dict(), "eval_batches": 4}) == cfg  # a default that never acted
    assert cfg.replace(valid_size=None).eval_batches == 4
    assert _cfg(train_size=5, train_order="cycle").replace(train_size=None).train_order is None
    for field in ("train_size", "valid_size", "test_size"):
        with pytest.raises(OrthornnError, match=rf"^{field}: must be a positive integer, got 0$"):
            _cfg(**{field: 0})
    with pytest.raises(OrthornnError, match=r"^train_order: unknown 'random'; choose one of shuffle, cycle$"):
        _cfg(train_size=5, train_order="random")


@pytest.mark.parametrize("order", ["shuffle", "cycle"])
def test_resume_across_epochs_is_bitwise(order):
    cfg = _cfg(model="rum", lam=1.0, train_size=10, train_order=order, valid_size=6, test_size=5, checkpoint_every=3,
               rum_init="orthogonal", readout_init="glorot-io", optimizer="adam")  # fmt: skip
    full = Trainer(cfg)
    saved = {}
    hist = full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[3])  # mid-epoch (3 · 4 = 12 sequences: epoch 1)
    hist2 = resumed.run()
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert hist.summary["test"] == hist2.summary["test"] and hist.summary["test"]["sequences"] == 5
    assert [e["loss"] for e in hist.evals] == [e["loss"] for e in resumed.history.evals]


def test_evaluation_on_a_fixed_set_weights_chunks_by_their_size(monkeypatch):
    import orthornn.train.data as data

    monkeypatch.setattr(data, "EVAL_CHUNK", 7)  # chunks of 7, 7, 3
    tr = Trainer(_cfg(valid_size=17, dtype="float64"))
    ev = tr.evaluate()
    monkeypatch.setattr(data, "EVAL_CHUNK", 17)  # one chunk
    one = tr.evaluate()
    assert ev["sequences"] == one["sequences"] == 17
    assert abs(ev["loss"] - one["loss"]) < 1e-12 and abs(ev["accuracy"] - one["accuracy"]) < 1e-12
    assert "test" not in tr.run().summary or tr.run().summary["test"] is None


@pytest.mark.parametrize("name", ["rum_table1_recall_official", "rum_fig2_copy_official"])
def test_the_official_reproduction_configs_are_valid_train_configs(name):
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parents[2] / "analysis" / "configs" / f"{name}.json").read_text())
    for panel in doc["panels"]:
        for run in doc["runs"]:
            fields = {**doc["base"], **panel, **{k: v for k, v in run.items() if k != "label"}}
            cfg = TrainConfig(**fields)
            assert cfg.readout_init == "glorot-io" and cfg.valid_size is not None and cfg.test_size is not None
            assert cfg.rum_init == ("orthogonal" if cfg.model == "rum" else None)
            if cfg.task == "recall":
                assert (cfg.train_size, cfg.train_order, cfg.valid_size, cfg.test_size) == (
                    100000,
                    "cycle",
                    10000,
                    20000,
                )
                assert (cfg.optimizer, cfg.lr, cfg.steps, cfg.batch, cfg.hidden, cfg.eval_every) == (
                    "adam",
                    1e-3,
                    100000,
                    128,
                    50,
                    1000,
                )
                assert cfg.stop_accuracy == 1.0  # up to 100,000 iterations or until validation is 100 %
            else:
                # tf.train.RMSPropOptimizer(1e-3, decay=0.9), as the copy script trains
                assert (cfg.optimizer, cfg.lr, cfg.T in (200, 500), cfg.train_size) == ("rmsprop-tf", 1e-3, True, None)
