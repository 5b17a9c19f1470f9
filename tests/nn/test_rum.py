"""RUM cell and layer: against a dense reference built here from RUM eq. (1) and §3.2."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.stats import special_ortho_group
from tolerances import ATOL

from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn import functional as F_orth
from orthornn.nn import kernels
from orthornn.nn.rum import (
    FAST_PATH_MIN_1PC,
    RUM,
    MemoryTape,
    RUMCell,
    RUMState,
    fused_step0,
    fused_step1,
    memory_step,
    memory_update,
    rotate_step,
    sequence0,
    time_normalize,
)

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(autouse=True)
def _torch_implementation():
    """These tests check the torch implementation, the reference; tests/nn/test_kernels.py compares
    the native kernels (used by default on CPU) with it."""
    with kernels.native(False):
        yield


def dense_rotation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """RUM eq. (1), built densely: I − u_a u_aᵀ − u_b u_bᵀ + [u_a u_b] M(θ) [u_a u_b]ᵀ."""
    ua = a / a.norm(dim=-1, keepdim=True)
    v = b - (ua * b).sum(-1, keepdim=True) * ua
    ub = v / v.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    theta = torch.arccos(cos)
    M = torch.stack(
        [torch.stack([torch.cos(theta), -torch.sin(theta)], -1), torch.stack([torch.sin(theta), torch.cos(theta)], -1)],
        -2,
    )
    F = torch.stack([ua, ub], -1)  # (B, N, 2)
    n = a.shape[-1]
    eye = torch.eye(n, dtype=a.dtype, device=a.device)
    return eye - F @ F.transpose(-1, -2) + F @ M @ F.transpose(-1, -2)


def reference_rum(cell: RUMCell, x: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The §3.2 equations written out with separate W_xh, W_hh, W_xe and a dense R_t."""
    n = cell.hidden_size
    W_xh, W_xe = cell.weight_x[: 2 * n], cell.weight_x[2 * n :]
    W_hh, b = cell.weight_h, cell.bias
    b_e = cell.bias_e if cell.bias_e is not None else torch.zeros(n, dtype=x.dtype)
    B, T, _ = x.shape
    h = torch.zeros(B, n, dtype=x.dtype)
    R = torch.eye(n, dtype=x.dtype).expand(B, n, n)
    hs = []
    for t in range(T):
        g = x[:, t] @ W_xh.T + h @ W_hh.T + b
        u_pre, tau = g[:, :n], g[:, n:]
        if cell.ln_u is not None:
            u_pre, tau = cell.ln_u(u_pre), cell.ln_tau(tau)
        u = torch.sigmoid(u_pre)
        eps = x[:, t] @ W_xe.T + b_e
        Rot = dense_rotation(eps, tau)
        if lam not in (0, 1):  # independent: scipy's Schur–Padé fractional power
            R = torch.stack(
                [torch.as_tensor(scipy.linalg.fractional_matrix_power(r.detach().numpy(), lam).real) for r in R]
            )
        R = Rot if lam == 0 else R @ Rot
        cand = torch.relu(eps + (R @ h.unsqueeze(-1)).squeeze(-1))
        hp = u * h + (1 - u) * cand
        h = hp if cell.eta is None else cell.eta * hp / hp.norm(dim=-1, keepdim=True)
        hs.append(h)
    return torch.stack(hs, 1), R


@pytest.mark.parametrize("lam", [0.0, 1.0])
@pytest.mark.parametrize("eta", [None, 1.3])
@pytest.mark.parametrize("embed_bias", [True, False])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_rum_matches_dense_reference(lam, eta, embed_bias, layer_norm):
    torch.manual_seed(1)
    rum = RUM(3, 6, lam=lam, eta=eta, embed_bias=embed_bias, layer_norm=layer_norm)
    with torch.no_grad():  # generic biases (the init has b = 1, b_e = 0)
        rum.cell.bias.normal_()
        if rum.cell.bias_e is not None:
            rum.cell.bias_e.normal_()
    x = torch.randn(4, 9, 3)
    y, (h, R) = rum(x)
    y_ref, R_ref = reference_rum(rum.cell, x, lam)
    torch.testing.assert_close(y, y_ref, atol=ATOL["float64"], rtol=0)
    assert torch.equal(h, y[:, -1])
    if lam == 0:
        assert R is None
    else:
        torch.testing.assert_close(R, R_ref, atol=ATOL["float64"], rtol=0)


def test_rank2_row_update_is_the_dense_product():
    """The rank-2 memory update equals R_{t−1} @ Rotation(ε, τ) built densely from eq. (1)."""
    rng = np.random.default_rng(3)
    B, n = 5, 7
    R = torch.as_tensor(special_ortho_group.rvs(n, size=B, random_state=rng))
    eps, tau = torch.as_tensor(rng.normal(size=(2, B, n)))
    updated = memory_update(R, eps, tau)
    torch.testing.assert_close(updated, R @ dense_rotation(eps, tau), atol=ATOL["float64"], rtol=0)


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


#: the (ε, τ) cases of :func:`_pairs`
PAIR_CASES = [
    "generic",
    "parallel",
    "antiparallel",
    "zero",
    "near-antiparallel, fast side",
    "near-antiparallel, general side",
]


def _pairs(n: int, rng: np.random.Generator) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    a = torch.as_tensor(rng.normal(size=(3, n)))
    b = torch.as_tensor(rng.normal(size=(3, n)))
    perp = b - (a * b).sum(-1, keepdim=True) / (a * a).sum(-1, keepdim=True) * a
    near = lambda d: -a + d * perp / perp.norm(dim=-1, keepdim=True) * a.norm(dim=-1, keepdim=True)  # noqa: E731
    zero = a.clone()
    zero[1] = 0
    return {
        "generic": (a, b),
        "parallel": (a, 2.5 * a),
        "antiparallel": (a, -0.5 * a),
        "zero": (zero, b),
        "near-antiparallel, fast side": (a, near(0.1)),
        "near-antiparallel, general side": (a, near(0.01)),  # 1 + c ≈ 5e-5 < FAST_PATH_MIN_1PC
    }


@pytest.mark.parametrize(
    "case",
    PAIR_CASES,
)
def test_fused_steps_agree_with_the_general_rotation(case):
    """rotate_step / memory_update equal functional.rotate / R @ rotation, degenerate pairs included."""
    rng = np.random.default_rng(8)
    eps, tau = _pairs(6, rng)[case]
    if case.startswith("near"):
        one_plus_c = 1 + torch.nn.functional.cosine_similarity(eps, tau)
        assert bool(((one_plus_c < FAST_PATH_MIN_1PC) == case.endswith("general side")).all())
    h = torch.as_tensor(rng.normal(size=(3, 6)))
    R = torch.as_tensor(special_ortho_group.rvs(6, size=3, random_state=rng))
    torch.testing.assert_close(rotate_step(eps, tau, h), F_orth.rotate(eps, tau, h), atol=1e-11, rtol=0)
    dense = R @ F_orth.rotation(eps, tau)
    torch.testing.assert_close(memory_update(R, eps, tau), dense, atol=1e-11, rtol=0)
    R1, Rh = memory_step(R, eps, tau, h)
    torch.testing.assert_close(R1, dense, atol=1e-11, rtol=0)
    torch.testing.assert_close(Rh, (dense @ h.unsqueeze(-1)).squeeze(-1), atol=1e-11, rtol=0)


@pytest.mark.parametrize(
    "case",
    PAIR_CASES,
)
def test_fused_lambda0_step_values_and_gradients_equal_the_autograd_composition(case):
    rng = np.random.default_rng(14)
    eps, tau = _pairs(6, rng)[case]
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


def test_gradcheck_fused_steps():
    rng = np.random.default_rng(9)
    eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 5))).requires_grad_() for _ in range(3))
    R = torch.as_tensor(special_ortho_group.rvs(5, size=2, random_state=rng)).requires_grad_()
    assert torch.autograd.gradcheck(rotate_step, (eps, tau, h))
    u_pre = torch.as_tensor(rng.normal(size=(2, 5))).requires_grad_()
    assert torch.autograd.gradcheck(fused_step0, (u_pre, tau, eps, h))
    assert torch.autograd.gradcheck(memory_update, (R, eps, tau))
    assert torch.autograd.gradcheck(memory_step, (R, eps, tau, h))


def test_initialisation_and_state_shapes():
    cell = RUMCell(3, 5, lam=1.0)
    assert torch.equal(cell.bias, torch.ones(10))  # gate and target biases start at 1
    assert torch.equal(cell.bias_e, torch.zeros(5))
    rum = RUM(3, 5, lam=1.0)
    y, (h, R) = rum(torch.randn(2, 4, 3))
    assert y.shape == (2, 4, 5) and h.shape == (2, 5) and R.shape == (2, 5, 5)
    _y0, (h0, R0) = RUM(3, 5, lam=0.0)(torch.randn(2, 4, 3))
    assert R0 is None and h0.shape == (2, 5)
    assert RUMCell(3, 5, embed_bias=False).bias_e is None


def test_memory_stays_orthogonal_over_long_sequences():
    torch.manual_seed(2)
    rum = RUM(2, 8, lam=1.0)
    _, (_, R) = rum(torch.randn(3, 300, 2))
    eye = torch.eye(8).expand(3, 8, 8)
    assert (R @ R.transpose(-1, -2) - eye).abs().max() < 300 * ATOL["float64"]
    assert torch.allclose(torch.linalg.det(R), torch.ones(3))


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_chunked_forward_with_carried_state_equals_one_shot(lam):
    torch.manual_seed(4)
    rum = RUM(3, 5, lam=lam, eta=2.0)
    x = torch.randn(2, 12, 3)
    y, (h, R) = rum(x)
    parts, state = [], None
    for chunk in x.split([5, 1, 6], dim=1):
        yc, state = rum(chunk, state)
        parts.append(yc)
    torch.testing.assert_close(torch.cat(parts, 1), y, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(state.h, h, atol=ATOL["float64"], rtol=0)
    if lam:
        torch.testing.assert_close(state.R, R, atol=ATOL["float64"], rtol=0)
    # gradients through the carried state are those of the one-shot run
    g1 = torch.autograd.grad(y.square().sum(), rum.cell.weight_h)[0]
    g2 = torch.autograd.grad(torch.cat(parts, 1).square().sum(), rum.cell.weight_h)[0]
    torch.testing.assert_close(g1, g2, atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("lam", [0.0, 1.0])
@pytest.mark.parametrize("eta", [None, 0.7])
def test_gradcheck_tiny_rum(lam, eta):
    torch.manual_seed(5)
    rum = RUM(2, 3, lam=lam, eta=eta)
    names = [n for n, _ in rum.named_parameters()]
    x = torch.randn(2, 4, 2, requires_grad=True)

    def f(x, *params):
        out, state = torch.func.functional_call(rum, dict(zip(names, params, strict=True)), (x,))
        return out if state.R is None else (out, state.R)

    params = [p.detach().clone().requires_grad_() for p in rum.parameters()]
    assert torch.autograd.gradcheck(f, (x, *params))


def test_time_normalize_zero_vector_is_finite():
    h = torch.zeros(2, 3, requires_grad=True)
    out = time_normalize(h, 1.0)
    out.sum().backward()
    assert torch.equal(out, torch.zeros(2, 3)) and torch.isfinite(h.grad).all()
    torch.testing.assert_close(time_normalize(torch.tensor([[3.0, 4.0]]), 5.0), torch.tensor([[3.0, 4.0]]))


def test_zoneout_train_keeps_or_updates_each_unit_and_eval_uses_expectation():
    torch.manual_seed(6)
    cell = RUMCell(3, 50, zoneout=0.5)
    x, state = torch.randn(4, 3), RUMState(torch.randn(4, 50), None)
    cell.eval()
    plain = RUMCell(3, 50)
    plain.load_state_dict(cell.state_dict())
    new = plain(x, state).h
    torch.testing.assert_close(cell(x, state).h, 0.5 * state.h + 0.5 * new)
    cell.train()
    out = cell(x, state).h
    kept, updated = out == state.h, out == new
    assert bool((kept | updated).all()) and bool(kept.any()) and bool(updated.any())


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(OrthornnError, match="eta"):
        RUMCell(2, 3, eta=0.0)
    with pytest.raises(OrthornnError, match="lam"):
        RUMCell(2, 3, lam=float("nan"))
    with pytest.raises(OrthornnError, match="zoneout"):
        RUMCell(2, 3, zoneout=1.0)
    with pytest.raises(ShapeError, match=r"\(B, T, 2\)"):
        RUM(2, 3)(torch.randn(4, 3))
    rum = RUM(2, 3, lam=1.0)
    with pytest.raises(ShapeError, match="needs R"):
        rum(torch.randn(1, 2, 2), RUMState(torch.zeros(1, 3), None))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_runs_on_device_and_dtype(device, dtype):
    torch.manual_seed(7)
    rum = RUM(3, 4, lam=1.0, eta=1.0, device=device, dtype=dtype)
    x = torch.randn(2, 5, 3, device=device, dtype=dtype)
    y, (_h, R) = rum(x)
    assert y.device.type == device and y.dtype == dtype and R.device.type == device
    y.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in rum.parameters())


@pytest.mark.parametrize("eta", [None, 1.0])
def test_memory_efficient_gradients_match_the_stored_version(eta):
    """The recomputing backward (R_{t−1} = R_t Rotationᵀ) gives the stored-activation gradients
    to 1e-10 (float64), across chunks with a carried state."""
    torch.manual_seed(12)
    stored = RUM(3, 6, lam=1.0, eta=eta)
    flat = RUM(3, 6, lam=1.0, eta=eta, memory_efficient=True)
    flat.load_state_dict(stored.state_dict())
    x = torch.randn(4, 30, 3)
    grads = []
    for model in (stored, flat):
        xx = x.clone().requires_grad_()
        y1, s1 = model(xx[:, :17])
        y2, (_, R) = model(xx[:, 17:], s1)
        loss = y1.square().sum() + (y2 * torch.linspace(-1, 1, 6)).sum() + R[:, 0].sum()
        grads.append(torch.autograd.grad(loss, [xx, *model.parameters()]))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(b, a, atol=1e-10, rtol=0)


def _run_cell_with_an_antiparallel_step(cell, x, h0, R0, tape):
    """``RUM.forward``'s loop over ``cell`` (and its tape protocol), with τ_5 = −0.7 ε_5 (the general path)."""
    n, state, outs = cell.hidden_size, RUMState(h0, R0), []
    for t, proj in enumerate(cell.input_projection(x).unbind(1), start=1):
        if t == 5:
            eps = proj[:, 2 * n :]
            tau_now = torch.addmm(proj[:, n : 2 * n], state.h, cell.weight_h[n:].t())
            proj = torch.cat([proj[:, :n], proj[:, n : 2 * n] - tau_now - 0.7 * eps, eps], 1)
        state = cell.step(proj, state, tape, t)
        outs.append(state.h)
    if tape is not None:
        tape.R[len(outs)] = state.R.detach().clone()
    return torch.stack(outs, 1), state.R


def test_memory_efficient_in_place_buffers_equal_the_stored_version():
    """The memory-efficient pass updates R_t, rebuilds R_{t−1} and accumulates ∂L/∂R in place; around
    a general-path (antiparallel) step it falls back to fresh memory. Values equal the stored version
    to 1e-12 and gradients to 1e-10 (float64); the caller's initial R is left untouched."""
    torch.manual_seed(21)
    n = 5
    stored = RUMCell(3, n, lam=1.0)
    flat = RUMCell(3, n, lam=1.0, memory_efficient=True)
    flat.load_state_dict(stored.state_dict())
    x, h0 = torch.randn(4, 9, 3), torch.randn(4, n)
    R0 = torch.linalg.qr(torch.randn(4, n, n))[0]
    results = []
    for cell, tape in ((stored, None), (flat, MemoryTape())):
        xx, r0 = x.clone().requires_grad_(), R0.clone().requires_grad_()
        y, R = _run_cell_with_an_antiparallel_step(cell, xx, h0, r0, tape)
        # R.sum(): its gradient is an expanded tensor of ones, which must not be written in place
        loss = (y * torch.linspace(-1, 2, n)).sum() + R.sum()
        grads = torch.autograd.grad(loss, [xx, r0, *cell.parameters()])
        torch.testing.assert_close(r0.detach(), R0, atol=0, rtol=0)
        results.append((y.detach(), R.detach(), grads))
    (y_a, R_a, g_a), (y_b, R_b, g_b) = results
    torch.testing.assert_close(y_b, y_a, atol=1e-12, rtol=0)
    torch.testing.assert_close(R_b, R_a, atol=1e-12, rtol=0)
    for a, b in zip(g_a, g_b, strict=True):
        torch.testing.assert_close(b, a, atol=1e-10, rtol=0)


def test_memory_efficient_backward_leaves_the_returned_state_intact():
    """The backward rebuilds R_{t−1} in a copy of R_T, not in the returned final memory."""
    torch.manual_seed(22)
    rum = RUM(3, 5, lam=1.0, memory_efficient=True)
    R0 = torch.linalg.qr(torch.randn(2, 5, 5))[0]
    R_init = R0.clone()
    y, (_h, R) = rum(torch.randn(2, 7, 3), RUMState(torch.zeros(2, 5), R_init))
    R_before = R.detach().clone()
    y.square().sum().backward()
    torch.testing.assert_close(R.detach(), R_before, atol=0, rtol=0)
    torch.testing.assert_close(R_init, R0, atol=0, rtol=0)


def test_memory_efficient_tape_protocol_with_a_degenerate_step():
    """A step on the general path (antiparallel pair) hands its R_{t−1} to the tape."""
    from orthornn.nn.rum import MemoryTape, memory_step_recompute

    rng = np.random.default_rng(13)
    eps, tau, hs = (torch.as_tensor(rng.normal(size=(5, 2, 4))).requires_grad_() for _ in range(3))

    def run(efficient: bool) -> torch.Tensor:
        tau_used = torch.cat([tau[:2], -eps[2:3] * 0.7, tau[3:]])  # step 3 antiparallel
        tape, R, out = MemoryTape(), torch.eye(4).expand(2, 4, 4), 0
        for t in range(5):
            if efficient and t != 2:
                R, rh = memory_step_recompute(R, eps[t], tau_used[t], hs[t], tape, t + 1)
            else:
                tape.R[t] = R.detach()
                R, rh = memory_step(R, eps[t], tau_used[t], hs[t])
            out = out + (rh * (t + 1)).sum()
        tape.R[5] = R.detach()
        return out + R.sum()

    ga = torch.autograd.grad(run(False), [eps, tau, hs])
    gb = torch.autograd.grad(run(True), [eps, tau, hs])
    for a, b in zip(ga, gb, strict=True):
        torch.testing.assert_close(b, a, atol=1e-10, rtol=0)


def test_memory_efficient_errors():
    with pytest.raises(OrthornnError, match="lam = 1"):
        RUM(2, 3, lam=0.5, memory_efficient=True)
    rum = RUM(2, 3, lam=1.0, memory_efficient=True)
    y, _ = rum(torch.randn(1, 4, 2))
    y.sum().backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="no longer on the tape"):
        y.sum().backward()


def _memory_step_autograd(R, eps, tau, h):
    """Reference: the λ = 1 rank-2 step as autograd's composition of bmm / baddbmm."""
    ua = eps / eps.norm(dim=-1, keepdim=True)
    ub = tau / tau.norm(dim=-1, keepdim=True)
    c = (ua * ub).sum(-1, keepdim=True)
    w = ub - c * ua
    x, y = w - (1 - c) * ua, -(ua + w / (1 + c))
    P = torch.bmm(R, torch.stack([x, y, h], -1))
    R_new = torch.baddbmm(R, P[..., :2], torch.stack([ua, w], -2))
    return R_new, P[..., 2] + P[..., 0] * (ua * h).sum(-1, keepdim=True) + P[..., 1] * (w * h).sum(-1, keepdim=True)


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
    out, ref = memory_step(R, eps, tau, h), _memory_step_autograd(R, eps, tau, h)
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


@pytest.mark.parametrize(
    "case",
    PAIR_CASES,
)
def test_fused_memory_step_values_and_gradients_equal_the_autograd_composition(case):
    """fused_step1 (one node for the λ ≠ 0 cell after the GEMM) against memory_step + the gate
    (degenerate pairs included), and in the generic case against the all-autograd composition."""
    rng = np.random.default_rng(23)
    eps, tau = _pairs(6, rng)[case]
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
    refs = [run(composed(memory_step))] + ([run(composed(_memory_step_autograd))] if case == "generic" else [])
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


def test_fused_steps_refuse_a_second_derivative_with_a_clear_error():
    rng = np.random.default_rng(25)
    u_pre, eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 4))).requires_grad_() for _ in range(4))
    R = torch.as_tensor(special_ortho_group.rvs(4, size=2, random_state=rng)).requires_grad_()
    for out in (fused_step0(u_pre, tau, eps, h), fused_step1(u_pre, tau, eps, h, R)[0], memory_step(R, eps, tau, h)[1]):
        with pytest.raises(RuntimeError, match="second derivatives"):
            torch.autograd.grad(out.square().sum(), h, create_graph=True)
        assert torch.isfinite(torch.autograd.grad(out.square().sum(), h)[0]).all()  # first order works


def _stepwise(cell: RUMCell, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """The per-step path (one autograd node per step): the alternative to :func:`sequence0`."""
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = cell(x[:, t], RUMState(h, None)).h
        hs.append(h)
    return torch.stack(hs, 1)


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
    ref = _stepwise(rum.cell, x, h0)
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
    torch.testing.assert_close(y, _stepwise(rum.cell, x, h0), atol=ATOL["float64"], rtol=0)
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
    torch.testing.assert_close(y, _stepwise(cell, x, torch.zeros(1, 2)), atol=ATOL["float64"], rtol=0)


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


class _Packed:
    """A tensor autograd saved, held detached (a saved output would otherwise hold its own node: a cycle)."""

    __slots__ = ("__weakref__", "t")

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t.detach()


def _bytes_kept_by_the_graph(model: RUM, x: torch.Tensor) -> int:
    """Bytes of the distinct storages the autograd graph of ``model(x)`` still holds after the forward."""
    import gc
    import weakref

    refs = []

    def pack(t: torch.Tensor) -> _Packed:
        p = _Packed(t)
        refs.append(weakref.ref(p))
        return p

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda p: p.t):
        y, state = model(x)
    gc.collect()
    storages = {}
    for r in refs:
        if (p := r()) is not None:
            s = p.t.untyped_storage()
            storages[s.data_ptr()] = s.nbytes()
    del y, state
    return sum(storages.values())


def test_memory_efficient_graph_grows_by_at_most_four_vectors_per_step():
    """The memory-efficient graph keeps per step only ``ũ, τ`` (the gate GEMM's output), ``h_{t−1}``,
    ``â = ε/‖ε‖`` and ``1/‖ε‖`` (besides the input ``x_t`` itself): at most ``4·B·N + B + B·N_x``
    elements, measured as the growth of the saved storages from T to 2T. The stored version
    grows by at least one ``B×N×N`` memory per step (the counter sees it)."""
    torch.manual_seed(30)
    B, N, nx, T = 4, 12, 3, 10
    x = torch.randn(B, 2 * T, nx)
    item = x.element_size()
    growth = {}
    for efficient in (False, True):
        model = RUM(nx, N, lam=1.0, memory_efficient=efficient)
        small, large = (_bytes_kept_by_the_graph(model, x[:, :n]) for n in (T, 2 * T))
        growth[efficient] = (large - small) / (T * item)  # elements per step
    assert growth[False] >= B * N * N
    assert 0 < growth[True] <= 4 * B * N + B + B * nx


@pytest.mark.parametrize("memory_efficient", [False, True])
def test_a_finished_pass_frees_its_graph_and_memories(memory_efficient):
    """No reference cycle keeps a pass alive: after backward and ``del`` the final memory and an
    intermediate output are freed by reference counting alone (no ``gc.collect``). A cycle
    through the memory tape leaked ≈ 0.9 MiB per training iteration (B = 32, N = 50, T = 30)."""
    import gc
    import weakref

    torch.manual_seed(30)
    rum = RUM(3, 5, lam=1.0, memory_efficient=memory_efficient)
    gc.disable()
    try:
        y, state = rum(torch.randn(2, 6, 3))
        y.square().sum().backward()
        refs = [weakref.ref(state.R), weakref.ref(y)]
        del y, state
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
