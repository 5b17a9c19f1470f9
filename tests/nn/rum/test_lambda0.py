"""orthornn.nn.rum.lambda0: the λ = 0 step (fused_step0) against the autograd composition of
rotate_step and the gate, and the sequence node (sequence0, torch implementation) against the
per-step path in values and every gradient."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from rum_reference import PAIR_CASES, gradcheck_inputs, pairs, stepwise
from tolerances import ATOL

from orthornn.errors import ShapeError
from orthornn.nn.rum import RUM, RUMCell, RUMState, rotate_step
from orthornn.nn.rum.lambda0 import fused_step0, sequence0


@pytest.mark.parametrize("case", PAIR_CASES)
def test_fused_lambda0_step_values_and_gradients_equal_the_autograd_composition(case):
    rng = np.random.default_rng(14)
    eps, tau = pairs(6, rng)[case]
    u_pre, h = (torch.as_tensor(rng.normal(size=(3, 6))) for _ in range(2))
    args = [t.clone().requires_grad_() for t in (u_pre, tau, eps, h)]
    ref_args = [t.clone().requires_grad_() for t in (u_pre, tau, eps, h)]
    out = fused_step0(*args)
    u_, ta_, e_, h_ = ref_args
    cand = torch.relu(e_ + rotate_step(e_, ta_, h_))
    ref = cand + torch.sigmoid(u_) * (h_ - cand)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    weights = torch.as_tensor(rng.normal(size=(3, 6)))
    g = torch.autograd.grad((out * weights).sum(), args)
    g_ref = torch.autograd.grad((ref * weights).sum(), ref_args)
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_gradcheck_fused_step0():
    eps, tau, h, _R, u_pre = gradcheck_inputs()
    assert torch.autograd.gradcheck(fused_step0, (u_pre, tau, eps, h))


@pytest.mark.parametrize("eta", [None, 0.7])
@pytest.mark.parametrize("embed_bias", [True, False])
def test_lambda0_sequence_node_equals_the_stepwise_path_values_and_all_gradients(eta, embed_bias):
    torch.manual_seed(3)
    rum = RUM(3, 7, eta=eta, embed_bias=embed_bias)
    with torch.no_grad():
        rum.cell.bias.normal_()
    x = torch.randn(5, 11, 3, requires_grad=True)
    h0 = torch.randn(5, 7, requires_grad=True)
    y, (hT, R) = rum(x, RUMState(h0, None))
    assert R is None and torch.equal(hT, y[:, -1])
    ref = stepwise(rum.cell, x, h0)
    torch.testing.assert_close(y, ref, atol=ATOL["float64"], rtol=0)
    w = torch.randn_like(ref)
    inputs = [x, h0, *rum.parameters()]
    got = torch.autograd.grad((y * w).sum() + hT.square().sum(), inputs)
    want = torch.autograd.grad((ref * w).sum() + ref[:, -1].square().sum(), inputs)
    for g, r in zip(got, want, strict=True):
        torch.testing.assert_close(g, r, atol=1e-12, rtol=0)


@pytest.mark.parametrize("eta", [None, 1.1])
def test_gradcheck_lambda0_sequence_node(eta):
    torch.manual_seed(4)
    cell = RUMCell(2, 4)
    args = (
        torch.randn(3, 5, 2),
        cell.weight_x.detach(),
        torch.randn(12),
        cell.weight_h.detach(),
        torch.randn(3, 4),
    )
    args = tuple(a.clone().requires_grad_() for a in args)
    assert torch.autograd.gradcheck(lambda *a: sequence0(*a, eta), args)


def test_lambda0_sequence_hands_degenerate_steps_to_the_general_path():
    """A zero ε (x_t = 0, b_e = 0) or an antiparallel (ε, τ): the node reports it, RUM runs the steps."""
    torch.manual_seed(5)
    rum = RUM(3, 4, embed_bias=False)
    x = torch.randn(2, 6, 3)
    x[1, 2] = 0.0  # ε_3 = 0 in the second sequence
    h0 = torch.randn(2, 4)
    bias = rum.cell.projection_bias()
    assert sequence0(x, rum.cell.weight_x, bias, rum.cell.weight_h, h0) is None
    y, _ = rum(x, RUMState(h0, None))
    torch.testing.assert_close(y, stepwise(rum.cell, x, h0), atol=ATOL["float64"], rtol=0)
    assert torch.isfinite(torch.autograd.grad(y.sum(), rum.cell.weight_h)[0]).all()
    # antiparallel: τ_1 = −ε_1 exactly (W_hh h_0 = 0, W_xh x = −W_xe x, biases 0)
    cell = RUMCell(2, 2, embed_bias=True)
    with torch.no_grad():
        cell.weight_x.copy_(torch.tensor([[0.0, 0.0], [0.0, 0.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0], [0.0, 1.0]]))
        cell.bias.zero_()
    x = torch.tensor([[[1.0, 2.0]]])
    assert sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, torch.zeros(1, 2)) is None
    layer = RUM(2, 2)
    layer.cell = cell
    y, _ = layer(x)
    torch.testing.assert_close(y, stepwise(cell, x, torch.zeros(1, 2)), atol=ATOL["float64"], rtol=0)


def test_lambda0_sequence_node_refuses_mismatched_shapes():
    cell = RUMCell(3, 4)
    x, h0, bias = torch.randn(2, 5, 3), torch.zeros(2, 4), cell.projection_bias()
    args = {"x": x, "weight_x": cell.weight_x, "bias": bias, "weight_h": cell.weight_h, "h0": h0}
    bad = {"x": x[0], "weight_x": cell.weight_x[:, :2], "bias": bias[:-1], "weight_h": cell.weight_h.t(), "h0": h0[:1]}
    for name, value in bad.items():
        with pytest.raises(ShapeError, match=re.escape(f"{name} {tuple(value.shape)}")):
            sequence0(**{**args, name: value})


def test_lambda0_sequence_node_refuses_a_second_derivative():
    torch.manual_seed(6)
    rum = RUM(2, 3)
    x = torch.randn(2, 4, 2, requires_grad=True)
    y, _ = rum(x)
    with pytest.raises(RuntimeError, match="second derivatives"):
        torch.autograd.grad(y.square().sum(), x, create_graph=True)
