"""orthornn.nn.rum.stored: the λ = 1 rank-2 update (memory_update, memory_step, fused_step1) against
the dense product of eq. (1), the general rotation (degenerate pairs included) and autograd's
composition, and the memory's orthogonality over long sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rum_reference import PAIR_CASES, dense_rotation, gradcheck_inputs, memory_step_autograd, pairs, rotation_case
from scipy.stats import special_ortho_group
from tolerances import ATOL

from orthornn.nn import functional as F_orth
from orthornn.nn.rum import RUM
from orthornn.nn.rum.stored import fused_step1, memory_step, memory_update


def test_rank2_row_update_is_the_dense_product():
    """The rank-2 memory update equals R_{t−1} @ Rotation(ε, τ) built densely from eq. (1)."""
    rng = np.random.default_rng(3)
    B, n = 5, 7
    R = torch.as_tensor(special_ortho_group.rvs(n, size=B, random_state=rng))
    eps, tau = torch.as_tensor(rng.normal(size=(2, B, n)))
    updated = memory_update(R, eps, tau)
    torch.testing.assert_close(updated, R @ dense_rotation(eps, tau), atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("case", PAIR_CASES)
def test_memory_update_and_memory_step_agree_with_the_general_rotation(case):
    """memory_update / memory_step equal R @ functional.rotation, degenerate pairs included."""
    eps, tau, h, R = rotation_case(case)
    dense = R @ F_orth.rotation(eps, tau)
    torch.testing.assert_close(memory_update(R, eps, tau), dense, atol=1e-11, rtol=0)
    R1, Rh = memory_step(R, eps, tau, h)
    torch.testing.assert_close(R1, dense, atol=1e-11, rtol=0)
    torch.testing.assert_close(Rh, (dense @ h.unsqueeze(-1)).squeeze(-1), atol=1e-11, rtol=0)


def test_gradcheck_memory_update_and_memory_step():
    eps, tau, h, R, _u_pre = gradcheck_inputs()
    assert torch.autograd.gradcheck(memory_update, (R, eps, tau))
    assert torch.autograd.gradcheck(memory_step, (R, eps, tau, h))


def test_memory_stays_orthogonal_over_long_sequences():
    torch.manual_seed(2)
    rum = RUM(2, 8, lam=1.0)
    _, (_, R) = rum(torch.randn(3, 300, 2))
    eye = torch.eye(8).expand(3, 8, 8)
    assert (R @ R.transpose(-1, -2) - eye).abs().max() < 300 * ATOL["float64"]
    assert torch.allclose(torch.linalg.det(R), torch.ones(3))


@pytest.mark.parametrize("used", ["both", "memory only", "readout only", "R constant"])
def test_memory_step_hand_written_backward_equals_the_autograd_composition(used):
    rng = np.random.default_rng(21)
    B, n = 3, 6
    R = torch.as_tensor(special_ortho_group.rvs(n, size=B, random_state=rng)).requires_grad_(used != "R constant")
    eps, tau, h = (torch.as_tensor(rng.normal(size=(B, n))).requires_grad_() for _ in range(3))
    wR, wh = torch.as_tensor(rng.normal(size=(B, n, n))), torch.as_tensor(rng.normal(size=(B, n)))

    def loss(R_new, rh):
        return (0 if used == "readout only" else (R_new * wR).sum()) + (0 if used == "memory only" else (rh * wh).sum())

    inputs = [eps, tau, h] + ([R] if R.requires_grad else [])
    out, ref = memory_step(R, eps, tau, h), memory_step_autograd(R, eps, tau, h)
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a, b, atol=ATOL["float64"], rtol=0)
    got = torch.autograd.grad(loss(*out), inputs)
    want = torch.autograd.grad(loss(*ref), inputs)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=ATOL["float64"], rtol=0)


def test_gradcheck_memory_step_single_outputs():
    rng = np.random.default_rng(22)
    eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 4))).requires_grad_() for _ in range(3))
    R = torch.as_tensor(special_ortho_group.rvs(4, size=2, random_state=rng)).requires_grad_()
    assert torch.autograd.gradcheck(lambda *a: memory_step(*a)[0], (R, eps, tau, h))
    assert torch.autograd.gradcheck(lambda *a: memory_step(*a)[1], (R, eps, tau, h))


@pytest.mark.parametrize("case", PAIR_CASES)
def test_fused_memory_step_values_and_gradients_equal_the_autograd_composition(case):
    """fused_step1 (one node for the λ ≠ 0 cell after the GEMM) against memory_step + the gate
    (degenerate pairs included), and in the generic case against the all-autograd composition."""
    rng = np.random.default_rng(23)
    eps, tau = pairs(6, rng)[case]
    u_pre, h = (torch.as_tensor(rng.normal(size=(3, 6))) for _ in range(2))
    R = torch.as_tensor(special_ortho_group.rvs(6, size=3, random_state=rng))
    wh, wR = torch.as_tensor(rng.normal(size=(3, 6))), torch.as_tensor(rng.normal(size=(3, 6, 6)))

    def run(step):
        args = [t.clone().requires_grad_() for t in (u_pre, tau, eps, h, R)]
        out, R_new = step(*args)
        return out, R_new, torch.autograd.grad((out * wh).sum() + (R_new * wR).sum(), args)

    def composed(memory):
        def step(u_, ta_, e_, h_, R_):
            R_new, rh = memory(R_, e_, ta_, h_)
            cand = torch.relu(e_ + rh)
            return cand + torch.sigmoid(u_) * (h_ - cand), R_new

        return step

    got = run(fused_step1)
    refs = [run(composed(memory_step))] + ([run(composed(memory_step_autograd))] if case == "generic" else [])
    for ref in refs:
        torch.testing.assert_close(got[0], ref[0], atol=ATOL["float64"], rtol=0)
        torch.testing.assert_close(got[1], ref[1], atol=ATOL["float64"], rtol=0)
        for a, b in zip(got[2], ref[2], strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_gradcheck_fused_memory_step():
    rng = np.random.default_rng(24)
    u_pre, eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 4))).requires_grad_() for _ in range(4))
    R = torch.as_tensor(special_ortho_group.rvs(4, size=2, random_state=rng)).requires_grad_()
    assert torch.autograd.gradcheck(fused_step1, (u_pre, tau, eps, h, R))
