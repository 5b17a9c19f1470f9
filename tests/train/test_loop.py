"""The training loop: exact resumption, non-finite stop, evaluation, parameter counts, and
CI smoke runs that must beat the memoryless baseline."""

from __future__ import annotations

import pytest
import torch

from orthornn.errors import OrthornnError
from orthornn.nn import GRU, LSTM, LTRNN, RUM
from orthornn.train import TrainConfig, Trainer, count_parameters
from orthornn.train.data import Batch


def _params(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(
            task="copy",
            model="rum",
            lam=1.0,
            eta=1.0,
            T=4,
            S=2,
            K=3,
            hidden=6,
            batch=4,
            steps=6,
            eval_every=2,
            checkpoint_every=3,
            clip=1.0,
        ),
        TrainConfig(
            task="adding",
            model="ltrnn",
            T=6,
            hidden=4,
            batch=4,
            steps=6,
            optimizer="adam",
            eval_every=2,
            checkpoint_every=3,
            ortho_lr=1e-2,
            pool=2,
        ),
        TrainConfig(task="recall", model="lstm", T=4, hidden=5, batch=4, steps=6, eval_every=3, checkpoint_every=3),
    ],
    ids=["rum-copy", "ltrnn-adding", "lstm-recall"],
)
def test_resume_from_a_checkpoint_reproduces_the_uninterrupted_run_bitwise(cfg):
    full = Trainer(cfg)
    saved = {}
    hist = full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    assert sorted(saved) == [3, 6]
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[3])
    hist2 = resumed.run()
    a, b = _params(full), _params(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r["loss"] for r in hist.train[3:]] == [r["loss"] for r in hist2.train]
    assert hist.summary["best"] == hist2.summary["best"] and hist.evals == hist2.evals
    # and a fresh run from scratch is the same run (seeded init, data and noise)
    again = Trainer(cfg)
    again.run()
    assert all(torch.equal(a[k], v) for k, v in _params(again).items())


def test_a_paused_run_hands_out_its_checkpoint_skips_the_test_and_resumes_to_the_unpaused_end():
    cfg = TrainConfig(
        task="recall", model="lstm", T=4, hidden=5, batch=4, steps=8, eval_every=3, checkpoint_every=3, test_size=8
    )
    full = Trainer(cfg)
    whole = full.run()
    assert whole.paused is None and whole.test is not None
    saved = {}
    paused = Trainer(cfg)
    hist = paused.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd), until=5)
    assert hist.paused == 5 and paused.step == 5 and sorted(saved) == [3, 5]  # a checkpoint at the pause
    assert hist.test is None and [e["step"] for e in hist.evals] == [3]
    assert paused.run(until=5).paused == 5 and paused.step == 5  # at the pause already: no step
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[5])
    rest = resumed.run(until=100)  # a budget past the config's steps: it finishes
    assert rest.paused is None and rest.test == whole.test
    assert [r["loss"] for r in whole.train[5:]] == [r["loss"] for r in rest.train]
    a, b = _params(full), _params(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(OrthornnError, match=r"^until: must be an integer >= 1"):
            Trainer(cfg).run(until=bad)


def test_resume_refuses_a_changed_config_and_allows_more_steps():
    cfg = TrainConfig(task="copy", model="gru", T=3, S=2, K=3, hidden=4, batch=2, steps=2, eval_every=2)
    first = Trainer(cfg)
    first.run()
    state = first.state_dict()
    assert state["step"] == 2
    with pytest.raises(OrthornnError, match=r"^lr:"):
        Trainer(cfg.replace(lr=0.1)).load_state_dict(state)
    longer = Trainer(cfg.replace(steps=5))
    longer.load_state_dict(state)
    assert longer.run().summary["steps"] == 5


def test_non_finite_loss_stops_the_run_before_updating(monkeypatch):
    cfg = TrainConfig(task="adding", model="ltrnn", T=5, hidden=4, batch=3, steps=10, eval_every=1, checkpoint_every=1)
    tr = Trainer(cfg)
    good = tr.stream.batch

    def poisoned(index: int, split: str = "train") -> Batch:
        b = good(index, split)
        return Batch(b.x * float("nan"), b.y) if (split == "train" and index == 3) else b

    monkeypatch.setattr(tr.stream, "batch", poisoned)
    checkpoints = []
    hist = tr.run(on_checkpoint=checkpoints.append)
    assert hist.stopped is not None and "non-finite loss at step 4" in hist.stopped
    assert tr.step == 3 and [c["step"] for c in checkpoints] == [1, 2, 3] and len(hist.train) == 3
    assert all(torch.equal(v, checkpoints[-1]["model"][k]) for k, v in tr.model.state_dict().items())
    assert hist.summary["stopped"] == hist.stopped


def test_evaluation_reports_the_baseline():
    cfg = TrainConfig(task="recall", model="rum", T=6, hidden=4, batch=8, steps=1, eval_every=1, eval_batches=2)
    ev = Trainer(cfg).evaluate()
    assert ev["baseline"] == pytest.approx(2.302585092994046) and ev["baseline_accuracy"] == 0.1
    assert ev["beats_baseline"] == (ev["loss"] < ev["baseline"])


def test_parameter_counts_come_from_the_modules():
    n, nx = 7, 3
    assert count_parameters(RUM(nx, n)) == 3 * n * nx + 2 * n * n + 2 * n + n
    assert count_parameters(RUM(nx, n, embed_bias=False, learn_lam=True)) == 3 * n * nx + 2 * n * n + 2 * n + 1
    assert count_parameters(LTRNN(nx, n)) == n * nx + n + n * n
    assert count_parameters(LSTM(nx, n)) == 4 * n * (nx + n) + 8 * n
    assert count_parameters(GRU(nx, n)) == 3 * n * (nx + n) + 6 * n


@pytest.mark.parametrize("model", ["eunn", "goru"])
def test_eunn_models_train(model):
    cfg = TrainConfig(task="copy", model=model, T=4, S=2, K=3, hidden=6, batch=4, steps=3, eval_every=3)
    hist = Trainer(cfg).run()
    assert hist.summary["steps"] == 3 and hist.stopped is None and hist.summary["parameters"] > 0


@pytest.mark.slow
def test_smoke_ltrnn_orthogonal_learns_copy_t20():
    cfg = TrainConfig(
        task="copy", model="ltrnn", init="orthogonal", T=20, hidden=80, batch=32, steps=150, lr=1e-3, eval_every=150
    )
    final = Trainer(cfg).run().summary["final"]
    assert final["loss"] < 0.5 * final["baseline"] and final["accuracy"] > 0.8


@pytest.mark.slow
def test_smoke_rum_beats_the_copy_baseline():
    """RUM λ = 0, N = 64 on copy T = 10: below the memoryless loss, recall accuracy above chance."""
    cfg = TrainConfig(task="copy", model="rum", lam=0.0, T=10, hidden=64, batch=32, steps=150, lr=1e-2, eval_every=150)
    final = Trainer(cfg).run().summary["final"]
    assert final["beats_baseline"] and final["accuracy"] > 1.6 * final["baseline_accuracy"]


@pytest.mark.slow
def test_smoke_lstm_beats_the_adding_baseline():
    """The torch.nn.LSTM baseline through the same loop: adding T = 10 below the MSE of predicting 1."""
    cfg = TrainConfig(
        task="adding", model="lstm", T=10, hidden=32, batch=32, steps=200, lr=1e-2, optimizer="adam", eval_every=200
    )
    final = Trainer(cfg).run().summary["final"]
    assert final["loss"] < 0.8 * final["baseline"]


@pytest.mark.parametrize(("lam", "learn", "efficient"), [(1.0, False, True), (1.0, True, False), (0.5, False, False)])
def test_training_uses_the_recomputing_memory_for_a_fixed_lambda_one(lam, learn, efficient):
    cfg = TrainConfig(task="copy", model="rum", lam=lam, learn_lam=learn, T=3, S=2, K=3, hidden=4, batch=2, steps=1)
    assert Trainer(cfg).model.core.cell.memory_efficient is efficient


def test_learned_fractional_lambda_trains_and_moves():
    """Real λ through so_power in a training loop: finite losses and λ leaves its start."""
    cfg = TrainConfig(
        task="recall",
        model="rum",
        lam=0.5,
        learn_lam=True,
        eta=1.0,
        T=4,
        hidden=6,
        batch=8,
        steps=3,
        eval_every=3,
        lr=1e-2,
    )
    tr = Trainer(cfg)
    hist = tr.run()
    lam = tr.model.core.cell.lam
    assert hist.stopped is None and all(r["loss"] == r["loss"] for r in hist.train)
    assert lam.requires_grad and float(lam.detach()) != 0.5
