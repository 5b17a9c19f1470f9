"""orthornn.nn.rum.recompute: the memory-efficient λ = 1 pass (R_{t−1} rebuilt from R_t) against the
stored version in values and gradients, its tape protocol and in-place buffers, and the bound on
what its graph keeps per step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orthornn.errors import OrthornnError
from orthornn.nn.rum import RUM, RUMCell, RUMState, memory_step
from orthornn.nn.rum.recompute import MemoryTape, memory_step_recompute


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
