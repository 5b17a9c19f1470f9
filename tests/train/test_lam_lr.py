"""A learned λ's own learning rate (``lam_lr``, ``orthornn train --lam-lr``): the step Adam takes
on λ, equality with the one-group optimiser when ``lam_lr == lr``, exact resume, the schedule on
both groups, and the configs that are refused."""

from __future__ import annotations

import pytest
import torch

from orthornn.cli import main
from orthornn.errors import OrthornnError
from orthornn.nn import RUM
from orthornn.train import TrainConfig, Trainer
from orthornn.train.optim import parameter_groups


def _cfg(**kw) -> TrainConfig:
    base = {"task": "recall", "model": "rum", "lam": 0.5, "learn_lam": True, "T": 4, "hidden": 6, "batch": 8,
            "steps": 4, "eval_every": 2, "checkpoint_every": 2, "optimizer": "adam", "lr": 1e-2, "dtype": "float64"}  # fmt: skip
    return TrainConfig(**{**base, **kw})


def _lam(trainer: Trainer) -> float:
    return float(trainer.model.core.cell.lam.detach())


@pytest.mark.parametrize("lam_lr", [1e-4, 3e-3])
def test_adams_first_step_moves_lambda_by_its_own_rate_and_the_weights_by_lr(lam_lr):
    # Adam's first step is lr · g/(|g| + ε) per coordinate: |Δ| = lr for every parameter whose
    # gradient is far above ε = 1e-8 (λ's is ~1e-2 here), less for the few near ε.
    tr = Trainer(_cfg(lam_lr=lam_lr, steps=1, eval_every=1))
    w0 = tr.model.core.cell.weight_h.detach().clone()
    tr.run()
    assert abs(_lam(tr) - 0.5) == pytest.approx(lam_lr, rel=1e-5)
    dw = (tr.model.core.cell.weight_h.detach() - w0).abs()
    assert float(dw.max()) == pytest.approx(1e-2, rel=1e-5) and float(dw.median()) == pytest.approx(1e-2, rel=1e-3)


def test_lam_lr_equal_to_lr_trains_what_one_group_trains():
    one, two = Trainer(_cfg()), Trainer(_cfg(lam_lr=1e-2))
    assert len(one.optimizer.param_groups) == 1 and len(two.optimizer.param_groups) == 2
    one.run()
    two.run()
    for a, b in zip(one.model.parameters(), two.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert _lam(one) != 0.5


def test_a_smaller_lam_lr_keeps_lambda_nearer_its_start():
    fast, slow = Trainer(_cfg(steps=6)), Trainer(_cfg(steps=6, lam_lr=1e-4))
    fast.run()
    slow.run()
    assert abs(_lam(slow) - 0.5) <= 6e-4 < abs(_lam(fast) - 0.5)


def test_a_run_with_lam_lr_resumes_bitwise():
    cfg = _cfg(lam_lr=1e-3)
    full, saved = Trainer(cfg), {}
    full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    assert [g["lr"] for g in saved[2]["optimizer"]["param_groups"]] == [1e-2, 1e-3]
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[2])
    resumed.run()
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_groups_are_the_models_parameters_with_lambda_apart():
    model = RUM(3, 5, lam=0.25, learn_lam=True)
    assert parameter_groups(model, None) == list(model.parameters())
    rest, lams = parameter_groups(model, 2e-4)
    assert lams == {"params": [model.cell.lam], "lr": 2e-4}
    assert {id(p) for p in rest["params"]} | {id(model.cell.lam)} == {id(p) for p in model.parameters()}
    with pytest.raises(OrthornnError, match="no learned λ"):
        parameter_groups(RUM(3, 5, lam=0.25), 2e-4)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"learn_lam": False, "lam_lr": 1e-4}, "lam_lr: acts only with learn_lam true"),
        ({"learn_lam": None, "lam_lr": 1e-4}, "lam_lr: acts only with learn_lam true"),
        ({"lam_lr": 0.0}, "lam_lr: must be a positive number"),
        ({"lam_lr": float("nan")}, "lam_lr: must be a positive number"),
        ({"lam_lr": True}, "lam_lr: must be a positive number"),
        ({"lam_lr": 1e7}, "lam_lr: must be at most 1e\\+06"),
        ({"model": "lstm", "lam": None, "learn_lam": None, "lam_lr": 1e-4}, "lam_lr: acts only with learn_lam"),
    ],
)
def test_bad_lam_lr_is_refused(kw, needle):
    with pytest.raises(OrthornnError, match=needle):
        _cfg(**kw)


def test_the_saved_config_of_earlier_runs_is_the_same_run():
    # A learned-λ run saved before lam_lr existed has no such field: it is the run with lam_lr None.
    cfg = _cfg()
    saved = {k: v for k, v in cfg.to_dict().items() if k != "lam_lr"}
    assert TrainConfig.from_dict(saved) == cfg and cfg.to_dict()["lam_lr"] is None
    fixed = _cfg(learn_lam=False).to_dict()  # where it cannot act, the saved config does not hold it
    assert "lam_lr" not in fixed and TrainConfig.from_dict(fixed) == _cfg(learn_lam=False)


def test_the_cli_takes_lam_lr_and_refuses_it_without_learn_lam(tmp_path, capsys):
    small = ["train", "recall", "--model", "rum", "--hidden", "4", "--T", "4", "--batch", "4", "--steps", "2",
             "--eval-every", "2", "--lam", "0.5", "--quiet"]  # fmt: skip
    assert main([*small, "--learn-lam", "--lam-lr", "1e-4", "--out", str(tmp_path / "ok")]) == 0
    capsys.readouterr()
    assert main([*small, "--lam-lr", "1e-4", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--lam-lr: acts only with learn_lam true" in err, repr(err)
