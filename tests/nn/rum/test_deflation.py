"""The angle-0 block folded by two reflectors (``orthornn.nn.rum.deflation``): the reflectors
against dense matrices, and the folded sequence node against the unfolded one and the step path."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orthornn.nn import kernels
from orthornn.nn.rum import RUM, RUMState, spectral_sequence
from orthornn.nn.rum import deflation as deflation_module
from orthornn.nn.rum import spectral as spectral_module
from orthornn.nn.rum.deflation import Deflation, active_columns

F64 = torch.float64


def _dense_h(fold: Deflation, n: int) -> torch.Tensor:
    """``diag(I_k, H₁H₂)`` as a dense (B, N, N) matrix."""
    k = fold.k
    B = fold.v1.shape[0]
    out = torch.eye(n, dtype=F64).repeat(B, 1, 1)
    for v in (fold.v1, fold.v2):
        Hv = torch.eye(n - k, dtype=F64) - 2 * v[:, :, None] * v[:, None, :]
        out[:, :, k:] = out[:, :, k:] @ Hv
    return out


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 14), k2=st.integers(0, 6), B=st.integers(1, 4), seed=st.integers(0, 2**16), zero=st.booleans())
def test_the_reflectors_equal_their_dense_matrices(n, k2, B, seed, zero):
    k = min(2 * k2, n - 3)
    k -= k % 2
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(B, n, generator=g, dtype=F64)
    b = torch.randn(B, n, generator=g, dtype=F64)
    if zero and k > 0:  # a row whose folded part vanishes (θ = 0 rows have b = 0; â may lie in the active part)
        a[0, k:] = 0
        b[0] = 0
    a = a / a.norm(dim=-1, keepdim=True)
    b = b - a * (a * b).sum(-1, keepdim=True)
    nb = b.norm(dim=-1, keepdim=True)
    b = torch.where(nb > 0, b / torch.where(nb > 0, nb, 1.0), 0.0)
    fold, fa, fb = Deflation.fold(a, b, k)
    Hd = _dense_h(fold, n)
    eye = torch.eye(n, dtype=F64).expand(B, n, n)
    torch.testing.assert_close(Hd @ Hd.mT, eye, rtol=0, atol=1e-14)
    # Hᵀ a and Hᵀ b, exactly zero beyond column k + 2
    torch.testing.assert_close(fa, (Hd.mT @ a[..., None])[..., 0], rtol=0, atol=1e-14)
    torch.testing.assert_close(fb, (Hd.mT @ b[..., None])[..., 0], rtol=0, atol=1e-14)
    assert bool((fa[:, k + 1 :] == 0).all()) and bool((fb[:, k + 2 :] == 0).all())
    for native in (True, False):  # the native fold_wy.h and its torch reference
        with kernels.native(native):
            for dtype, tol in ((F64, 1e-13), (torch.float32, 1e-5)):
                X = torch.randn(B, 3, n, generator=g, dtype=F64)
                ref = (Hd.mT @ X.mT).mT
                X = X.to(dtype)
                fold.vectors(X)
                torch.testing.assert_close(X, ref.to(dtype), rtol=0, atol=tol)
                Q = torch.randn(B, n, n, generator=g, dtype=F64)
                ref = Q @ Hd
                Q2 = Q.to(dtype)
                fold.columns(Q2)
                torch.testing.assert_close(Q2, ref.to(dtype), rtol=0, atol=tol)
                fold.undo_columns(Q2)
                torch.testing.assert_close(Q2, Q.to(dtype), rtol=0, atol=tol)
                G = torch.randn(B, n, n, generator=g, dtype=F64)
                ref = Hd @ G @ Hd.mT
                G = G.to(dtype)
                fold.conjugate(G)
                torch.testing.assert_close(G, ref.to(dtype), rtol=0, atol=tol)


def test_active_columns():
    phi = torch.zeros(2, 6, dtype=F64)
    assert active_columns(phi, 12) == 0
    phi[1, 2] = 1e-300  # nonzero is nonzero: only the eigen-update's deflation makes an angle 0
    assert active_columns(phi, 12) == 6
    assert active_columns(phi, 13) == 6
    phi[0, 4] = 0.3
    assert active_columns(phi, 12) == 12  # 2 columns left: not folded
    assert active_columns(phi, 13) == 10  # 3 columns left (the odd one among them)
    assert active_columns(torch.zeros(1, 1, dtype=F64), 2) == 2


def _run(rum, x, h0, R0, gH, gR, *, solver=None, step_path=False):
    """Values and gradients of ``Σ⟨gH, h_t⟩ + ⟨gR, R_T⟩`` by the node, or by the step path."""
    c = rum.cell
    wrt = [x, h0, R0, c.weight_x, c.weight_h, c.bias, c.lam]
    if step_path:
        s, outs = RUMState(h0, R0), []
        for t in range(x.shape[1]):
            s = c(x[:, t], s)
            outs.append(s.h)
        hs, RT = torch.stack(outs), s.R
    else:
        hs, RT = spectral_sequence(x, c.weight_x, c.projection_bias(), c.weight_h, h0, R0, c.lam, c.eta, solver=solver)
    return hs, RT, torch.autograd.grad((hs * gH).sum() + (RT * gR).sum(), wrt)


def _partial_memories(B: int, n: int, g: torch.Generator) -> torch.Tensor:
    """Rows with different numbers of active planes (the batch's k is the largest), one near −1."""
    m = n // 2
    out = []
    for r in range(B):
        phi = torch.zeros(m, dtype=F64)
        j = 1 + r % max(1, m - 2)
        phi[:j] = torch.rand(j, generator=g, dtype=F64) * math.pi
        phi[0] = math.pi - 1e-4
        D = spectral_module._block_matrix(phi[None], n)[0]
        Z, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))
        Z[:, 0] *= torch.det(Z).sign()
        out.append(Z @ D @ Z.T)
    return torch.stack(out)


@pytest.mark.parametrize("store", [True, False], ids=["kept W", "rebuilt W"])
@pytest.mark.parametrize(("n", "lam", "start"), [(16, 0.1, "identity"), (21, 0.05, "partial"), (26, -0.03, "partial")])
def test_folded_and_unfolded_nodes_agree_with_the_step_path(monkeypatch, n, lam, start, store):
    g = torch.Generator().manual_seed(n)
    torch.manual_seed(n)
    B, T = 5, 30
    rum = RUM(3, n, lam=lam, learn_lam=True, dtype=F64)
    x = torch.randn(B, T, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(B, n, generator=g, dtype=F64, requires_grad=True)
    R0 = (
        torch.eye(n, dtype=F64).repeat(B, 1, 1) if start == "identity" else _partial_memories(B, n, g)
    ).requires_grad_()
    gH, gR = torch.randn(T, B, n, generator=g, dtype=F64), torch.randn(B, n, n, generator=g, dtype=F64)
    monkeypatch.setattr(spectral_module, "STORE_BYTES", 2**40 if store else 0)
    sizes: list[int] = []
    fold = deflation_module.Deflation.fold.__func__

    def counting(cls, a, b, k):
        sizes.append(k)
        return fold(cls, a, b, k)

    monkeypatch.setattr(deflation_module.Deflation, "fold", classmethod(counting))
    folded = _run(rum, x, h0, R0, gH, gR)
    assert len(sizes) >= 6 and min(sizes) < n - 4  # the route under test did run, on a real block
    monkeypatch.setattr(spectral_module, "active_columns", lambda phi, n: n)
    whole = _run(rum, x, h0, R0, gH, gR)
    step = _run(rum, x, h0, R0, gH, gR, step_path=True)
    for other, tol in ((whole, 1e-11), (step, 1e-9)):
        torch.testing.assert_close(folded[0], other[0], rtol=0, atol=tol)
        torch.testing.assert_close(folded[1], other[1], rtol=0, atol=tol)
        for u, v in zip(folded[2], other[2], strict=True):
            torch.testing.assert_close(u, v, rtol=0, atol=tol * max(1.0, float(v.abs().max())))


def test_rows_decomposed_whole_beside_a_folded_block(monkeypatch):
    # a solver that hands every other row back (status 1, as for an eigenvalue −1): those rows are
    # decomposed in R_t's own coordinates (spectral._canonical_rows, with their whole W in the
    # backward) while the rest of the batch is solved folded
    def half(d, a, w, theta, pi_tol):
        W, phi, status = spectral_module._dense_update(d, a, w, theta, pi_tol)
        status[::2] = 1
        return W, phi, status

    n, B, T = 24, 4, 5
    g = torch.Generator().manual_seed(5)
    torch.manual_seed(5)
    rum = RUM(3, n, lam=0.05, learn_lam=True, eta=2.0, dtype=F64)
    x = torch.randn(B, T, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(B, n, generator=g, dtype=F64, requires_grad=True)
    R0 = _partial_memories(B, n, g).requires_grad_()
    gH, gR = torch.randn(T, B, n, generator=g, dtype=F64), torch.randn(B, n, n, generator=g, dtype=F64)
    folds = []
    fold = deflation_module.Deflation.fold.__func__
    monkeypatch.setattr(
        deflation_module.Deflation, "fold", classmethod(lambda c, a, b, k: folds.append(k) or fold(c, a, b, k))
    )
    folded = _run(rum, x, h0, R0, gH, gR, solver=half)
    assert folds  # the folded route ran beside the decomposed rows
    monkeypatch.setattr(spectral_module, "active_columns", lambda phi, n: n)
    for other in (_run(rum, x, h0, R0, gH, gR, solver=half), _run(rum, x, h0, R0, gH, gR, step_path=True)):
        torch.testing.assert_close(folded[0], other[0], rtol=0, atol=1e-10)
        torch.testing.assert_close(folded[1], other[1], rtol=0, atol=1e-10)
        for u, v in zip(folded[2], other[2], strict=True):
            torch.testing.assert_close(u, v, rtol=0, atol=1e-9 * max(1.0, float(v.abs().max())))


@pytest.mark.skipif(kernels.spectral_backward() is None, reason="needs the native kernels")
@pytest.mark.parametrize(("dtype", "tol"), [(F64, 1e-12), (torch.float32, 2e-5)])
def test_the_fused_backward_step_equals_its_three_parts(monkeypatch, dtype, tol):
    # spectral_backward.h against spectral_step.h, fold_wy.h and spectral_adjoint.h called one after
    # another: a folded memory (λ < 0: flips too), float64 and float32
    n, B, T = 21, 4, 16
    g = torch.Generator().manual_seed(2)
    torch.manual_seed(2)
    rum = RUM(3, n, lam=-0.05, learn_lam=True, dtype=dtype)
    x = torch.randn(B, T, 3, generator=g, dtype=F64).to(dtype).requires_grad_()
    h0 = torch.randn(B, n, generator=g, dtype=F64).to(dtype).requires_grad_()
    R0 = _partial_memories(B, n, g).to(dtype).requires_grad_()
    gH, gR = torch.randn(T, B, n, generator=g, dtype=dtype), torch.randn(B, n, n, generator=g, dtype=dtype)
    fused = _run(rum, x, h0, R0, gH, gR)
    monkeypatch.setattr(kernels, "spectral_backward", lambda: None)
    parts = _run(rum, x, h0, R0, gH, gR)
    for u, v in zip(fused[2], parts[2], strict=True):
        torch.testing.assert_close(u, v, rtol=0, atol=tol * max(1.0, float(v.abs().max())))
