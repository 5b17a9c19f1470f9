"""RMSProp as TensorFlow 1 computes it (``rmsprop-tf``): against the formula in numpy, against
torch's RMSprop (where the two must differ and where they must agree), and in a resumed run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig, Trainer
from orthornn.train.optim import RMSpropTF, build_optimizer


def _tf_reference(theta0, grads, lr, rho=0.9, eps=1e-10):
    """tf.train.RMSPropOptimizer's dense update (momentum 0), written out in numpy."""
    theta, v = theta0.copy(), np.ones_like(theta0)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        theta = theta - lr * g / np.sqrt(v + eps)
    return theta


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12), lr=st.floats(1e-4, 1.0),
       scale=st.sampled_from([1e-6, 1e-2, 1.0, 30.0]))  # fmt: skip
def test_matches_the_tensorflow_formula(seed, steps, lr, scale):
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(7)
    grads = [scale * rng.standard_normal(7) for _ in range(steps)]
    p = torch.nn.Parameter(torch.tensor(theta0))
    opt = RMSpropTF([p], lr=lr)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), _tf_reference(theta0, grads, lr), rtol=1e-13, atol=1e-15)


def test_the_first_step_differs_from_torchs_rmsprop_as_the_accumulators_start():
    g = torch.tensor([1e-3, -2e-2, 0.5], dtype=torch.float64)
    a = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    tf, pt = build_optimizer("rmsprop-tf", [a], 1e-3), build_optimizer("rmsprop", [b], 1e-3)
    a.grad, b.grad = g.clone(), g.clone()
    tf.step()
    pt.step()
    # torch: v = 0.1 g², so a step of lr/√0.1 per coordinate whatever |g|; TF: v = 0.9 + 0.1 g²
    torch.testing.assert_close(b.detach(), -1e-3 * g / (g.abs() * 0.1**0.5 + 1e-8), rtol=1e-12, atol=0)
    torch.testing.assert_close(a.detach(), -1e-3 * g / torch.sqrt(0.9 + 0.1 * g * g + 1e-10), rtol=1e-12, atol=0)
    assert float(b.detach().abs().min()) > 3e-3 > 1e-3 > float(a.detach().abs().max())


def test_after_many_steps_with_a_fixed_gradient_both_rmsprops_agree():
    """With ρ^k gone, both accumulators hold g²: the steps agree (to the epsilons)."""
    g = torch.tensor([0.3, -2.0], dtype=torch.float64)
    a = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    tf, pt = build_optimizer("rmsprop-tf", [a], 1e-3), build_optimizer("rmsprop", [b], 1e-3)
    for _ in range(400):
        a.grad, b.grad = g.clone(), g.clone()
        tf.step()
        pt.step()
    before = a.detach().clone(), b.detach().clone()
    a.grad, b.grad = g.clone(), g.clone()
    tf.step()
    pt.step()
    torch.testing.assert_close(a.detach() - before[0], b.detach() - before[1], rtol=1e-7, atol=0)


def test_bad_hyperparameters_and_names_are_refused():
    p = [torch.nn.Parameter(torch.zeros(1))]
    for kw, field in (({"lr": 0.0}, "lr"), ({"decay": 1.0}, "decay"), ({"eps": -1.0}, "eps")):
        with pytest.raises(OrthornnError, match=rf"^{field}: must be"):
            RMSpropTF(p, **kw)
    with pytest.raises(OrthornnError, match=r"^optimizer: unknown 'sgd'; choose one of rmsprop, rmsprop-tf, adam$"):
        build_optimizer("sgd", p, 1e-3)
    with pytest.raises(OrthornnError, match=r"^optimizer: unknown 'sgd'"):
        TrainConfig(optimizer="sgd")


def test_a_run_with_rmsprop_tf_resumes_bitwise():
    cfg = TrainConfig(task="copy", model="rum", lam=1.0, T=4, S=2, K=3, hidden=6, batch=4, steps=6, eval_every=3,
                      checkpoint_every=3, optimizer="rmsprop-tf", dtype="float64")  # fmt: skip
    full = Trainer(cfg)
    saved = {}
    full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    assert isinstance(full.optimizer, RMSpropTF)
    assert all("rms" in s for s in saved[3]["optimizer"]["state"].values())
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[3])
    resumed.run()
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    other = Trainer(cfg.replace(optimizer="rmsprop"))
    other.run()
    assert not all(torch.equal(a, b) for a, b in zip(full.model.parameters(), other.model.parameters(), strict=True))
