"""orthornn.nn.rum.frame: the matrix-free Rotation against the general functional.rotate
(degenerate pairs included), time normalisation, and the first-order guard of every
hand-written backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rum_reference import PAIR_CASES, gradcheck_inputs, rotation_case
from scipy.stats import special_ortho_group

from orthornn.nn import functional as F_orth
from orthornn.nn.rum import fused_step0, fused_step1, memory_step
from orthornn.nn.rum.frame import rotate_step, time_normalize


@pytest.mark.parametrize("case", PAIR_CASES)
def test_rotate_step_agrees_with_the_general_rotation(case):
    """rotate_step equals functional.rotate, degenerate pairs included."""
    eps, tau, h, _R = rotation_case(case)
    torch.testing.assert_close(rotate_step(eps, tau, h), F_orth.rotate(eps, tau, h), atol=1e-11, rtol=0)


def test_gradcheck_rotate_step():
    eps, tau, h, _R, _u_pre = gradcheck_inputs()
    assert torch.autograd.gradcheck(rotate_step, (eps, tau, h))


def test_time_normalize_zero_vector_is_finite():
    h = torch.zeros(2, 3, requires_grad=True)
    out = time_normalize(h, 1.0)
    out.sum().backward()
    assert torch.equal(out, torch.zeros(2, 3)) and torch.isfinite(h.grad).all()
    torch.testing.assert_close(time_normalize(torch.tensor([[3.0, 4.0]]), 5.0), torch.tensor([[3.0, 4.0]]))


def test_fused_steps_refuse_a_second_derivative_with_a_clear_error():
    rng = np.random.default_rng(25)
    u_pre, eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 4))).requires_grad_() for _ in range(4))
    R = torch.as_tensor(special_ortho_group.rvs(4, size=2, random_state=rng)).requires_grad_()
    for out in (fused_step0(u_pre, tau, eps, h), fused_step1(u_pre, tau, eps, h, R)[0], memory_step(R, eps, tau, h)[1]):
        with pytest.raises(RuntimeError, match="second derivatives"):
            torch.autograd.grad(out.square().sum(), h, create_graph=True)
        assert torch.isfinite(torch.autograd.grad(out.square().sum(), h)[0]).all()  # first order works
