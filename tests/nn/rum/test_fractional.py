"""orthornn.nn.rum.fractional: RUM with a real λ (R^λ, then the rank-2 update) against the dense
§3.2 reference with scipy's independent fractional matrix powers, and a learned λ."""

from __future__ import annotations

import pytest
import torch
from rum_reference import reference_rum

from orthornn.nn.rum import RUM


@pytest.mark.parametrize("lam", [0.5, -0.3, 1.7])
def test_real_lam_matches_dense_reference_with_scipy_powers(lam):
    torch.manual_seed(10)
    rum = RUM(3, 5, lam=lam, eta=1.0)
    x = torch.randn(2, 6, 3)
    y, (_, R) = rum(x)
    y_ref, R_ref = reference_rum(rum.cell, x, lam)
    torch.testing.assert_close(y, y_ref.detach(), atol=1e-10, rtol=0)
    torch.testing.assert_close(R, R_ref.detach(), atol=1e-10, rtol=0)


def test_learnable_lam_at_one_is_the_fixed_memory_and_has_a_finite_gradient():
    torch.manual_seed(11)
    fixed = RUM(3, 5, lam=1.0)
    learn = RUM(3, 5, lam=1.0, learn_lam=True)
    learn.load_state_dict(fixed.state_dict(), strict=False)
    x = torch.randn(2, 7, 3)
    y_f, _ = fixed(x)
    y_l, _ = learn(x)
    torch.testing.assert_close(y_l, y_f, atol=1e-10, rtol=0)
    y_l.square().sum().backward()
    assert learn.cell.lam.grad is not None and torch.isfinite(learn.cell.lam.grad)
    assert "cell.lam" in dict(learn.named_parameters())
