r"""The Recurrent Unit of Memory (RUM): a gated cell whose kernel is a learned Rotation.

.. math::

    (\tilde u_t, \tau_t) &= W_{xh} x_t + W_{hh} h_{t-1} + b_t, \qquad
    u_t = \operatorname{sigmoid}(\tilde u_t), \qquad \varepsilon_t = W_{xe} x_t + b_e \\
    R_t &= (R_{t-1})^\lambda \cdot \operatorname{Rotation}(\varepsilon_t, \tau_t), \qquad R_0 = I \\
    \tilde h_t &= \operatorname{ReLU}(\varepsilon_t + R_t h_{t-1}), \qquad
    h'_t = u_t \odot h_{t-1} + (1 - u_t) \odot \tilde h_t, \qquad
    h_t = \eta\, h'_t / \lVert h'_t \rVert

The rotation is never formed as a matrix:

* ``λ = 0``: ``R_t h = Rotation(ε_t, τ_t) h`` is applied matrix-free (O(B·N) per step,
  :func:`rotate_step`);
* ``λ = 1``: ``R_t = R_{t−1} · Rotation(ε_t, τ_t)`` is a rank-2 update
  (:func:`memory_update`), O(B·N²) per step, not a dense ``N×N×N`` product; on CPU a whole
  sequence runs as one node in the native kernel (:func:`sequence1`), which keeps no ``R_t``;
* any other real ``λ`` (fixed or learnable): ``(R_{t−1})^λ`` through the differentiable
  :func:`orthornn.nn.functional.so_power`, then the same rank-2 row update.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (cell), §5.2 (real λ),
appendix D (layer norm, zoneout).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from ...errors import OrthornnError, ShapeError
from .. import functional as F_orth
from .. import kernels
from ..workspace import SEQUENCE_WORKSPACE

__all__ = [
    "FAST_PATH_MIN_1PC",
    "RUM",
    "SEQ0_CHUNK_ROWS",
    "MemoryTape",
    "RUMCell",
    "RUMState",
    "fused_step0",
    "fused_step1",
    "memory_step",
    "memory_step_recompute",
    "memory_update",
    "rotate_step",
    "sequence0",
    "sequence1",
    "time_normalize",
]


class RUMState(NamedTuple):
    """Recurrent state of a RUM: hidden ``h`` of shape ``(B, N)`` and memory ``R`` of shape
    ``(B, N, N)`` (``None`` when ``λ = 0``: the memory is then one Rotation per step)."""

    h: Tensor
    R: Tensor | None


def time_normalize(h: Tensor, eta: float) -> Tensor:
    r"""Time normalisation :math:`h \mapsto \eta\, h / \lVert h\rVert` over the last axis (RUM §3.2).

    A zero vector (no direction to keep) maps to zero, with zero (finite) gradient.

    >>> h = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    >>> time_normalize(h, 2.0).tolist()
    [[1.2, 1.6], [0.0, 0.0]]
    """
    ss = (h * h).sum(-1, keepdim=True)
    positive = ss > 0
    safe = torch.where(positive, ss, torch.ones_like(ss))
    return torch.where(positive, h * (eta / torch.sqrt(safe)), torch.zeros_like(h))


#: ``1 + â·b̂`` below which the fused RUM step hands a batch to the general
#: :func:`orthornn.nn.functional.rotate` (antiparallel conventions); zero vectors likewise.
FAST_PATH_MIN_1PC = 1e-3

#: Rows (steps × batch) of one chunk of the λ = 0 sequence backward: the weight gradients are one
#: GEMM per chunk over this many rows (enough for full GEMM speed), and the chunk's ∂(ũ, τ, ε)
#: buffer is reused from chunk to chunk.
SEQ0_CHUNK_ROWS = 4096


class _Frame(NamedTuple):
    ahat: Tensor  # ε/‖ε‖, (B, N)
    w: Tensor  # τ̂ − c ε̂ = sin θ · u_b, (B, N)
    c: Tensor  # cos θ, (B, 1)


def _frame(eps: Tensor, tau: Tensor) -> _Frame | None:
    """The rotation frame of ``(ε, τ)``, or None if some pair is zero or nearly antiparallel."""
    ahat, bhat, c, _, _, bad = _frame_parts(eps, tau)
    return None if bad else _Frame(ahat, bhat - c * ahat, c)


def rotate_step(eps: Tensor, tau: Tensor, h: Tensor) -> Tensor:
    r"""``Rotation(ε, τ) h`` for batches (B, N): the fused RUM form of :func:`orthornn.nn.functional.rotate`.

    .. math::

        R h = h + w\Big(p - \frac{q}{1 + c}\Big) - \hat a\big(q + (1 - c)\,p\big),\qquad
        w = \hat b - c\,\hat a,\ p = \hat a\cdot h,\ q = w\cdot h,\ c = \hat a\cdot\hat b

    (from ``R = I + K + K²/(1 + c)`` with ``K = w âᵀ − â wᵀ``, ``K h = w p − â q`` and
    ``K² h = −w q − (1 − c²) â p``). About fifteen elementwise operations instead of the
    general function's branch-safe sequence; when a pair is zero or ``1 + c`` <
    :data:`FAST_PATH_MIN_1PC` the whole batch goes to the general function, so the library's
    conventions (identity for zero vectors, the canonical plane for antiparallel pairs) hold.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(1)
    >>> eps, tau, h = torch.randn(3, 4, 6, generator=g, dtype=torch.float64)
    >>> bool(torch.allclose(rotate_step(eps, tau, h), F_orth.rotate(eps, tau, h)))
    True
    >>> bool(torch.allclose(rotate_step(-tau, tau, h), F_orth.rotate(-tau, tau, h)))  # antiparallel
    True
    """
    f = _frame(eps, tau)
    if f is None:
        return F_orth.rotate(eps, tau, h)
    p = (f.ahat * h).sum(-1, keepdim=True)
    q = (f.w * h).sum(-1, keepdim=True)
    return h + f.w * (p - q / (1 + f.c)) - f.ahat * (q + (1 - f.c) * p)


def _first_order_only() -> None:
    """Refuse ``create_graph=True``: the hand-written backwards save intermediates without a graph,
    so a second derivative through them would silently miss terms."""
    if torch.is_grad_enabled():
        raise RuntimeError(
            "the fused RUM steps have hand-written first-order backwards; second derivatives "
            "(create_graph=True) are not supported"
        )


def _frame_parts(eps: Tensor, tau: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, bool]:
    """``â, b̂, c = â·b̂, 1/‖ε‖, 1/‖τ‖`` and whether some pair is zero or nearly antiparallel
    (``1 + c <`` :data:`FAST_PATH_MIN_1PC`); differentiable, so :func:`_frame` is built on it."""
    se, st = (eps * eps).sum(-1, keepdim=True), (tau * tau).sum(-1, keepdim=True)
    ie = torch.rsqrt(torch.where(se > 0, se, 1.0))
    it = torch.rsqrt(torch.where(st > 0, st, 1.0))
    ahat, bhat = eps * ie, tau * it
    c = (ahat * bhat).sum(-1, keepdim=True)
    bad = bool(((se == 0) | (st == 0) | (1 + c < FAST_PATH_MIN_1PC)).any())
    return ahat, bhat, c, ie, it, bad


def _frame_backward(
    ahat: Tensor, bhat: Tensor, c: Tensor, ie: Tensor, it: Tensor, ga: Tensor, gw: Tensor, gc: Tensor
) -> tuple[Tensor, Tensor]:
    """``(∂ε, ∂τ)`` from the gradients ``ga, gw, gc`` of ``â``, ``w = b̂ − c â`` and ``c = â·b̂`` (each direct)."""
    gc = gc - (gw * ahat).sum(-1, keepdim=True)  # w = b̂ − c â
    ga = ga - c * gw + gc * bhat  # and c = â·b̂
    gb = gw + gc * ahat
    geps = ie * (ga - ahat * (ahat * ga).sum(-1, keepdim=True))  # â = ε/‖ε‖
    gtau = it * (gb - bhat * (bhat * gb).sum(-1, keepdim=True))
    return geps, gtau


class _FusedStep0(torch.autograd.Function):
    """The λ = 0 cell after the GEMM, ``(u_pre, τ, ε, h) ↦ h'``, with a hand-derived backward."""

    @staticmethod
    def forward(ctx: Any, u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor) -> Any:
        u = torch.sigmoid(u_pre)
        ahat, bhat, c, ie, it, bad = _frame_parts(eps, tau)
        w = bhat - c * ahat
        p, q = (ahat * h).sum(-1, keepdim=True), (w * h).sum(-1, keepdim=True)
        k = 1 / (1 + c)
        A, Bc = p - k * q, q + (1 - c) * p
        z = eps + h + A * w - Bc * ahat
        cand = torch.relu(z)
        out = cand + u * (h - cand)
        ctx.save_for_backward(u, ahat, bhat, w, c, p, q, k, A, Bc, h, z, ie, it)
        return out, bad

    @staticmethod
    def backward(ctx: Any, G: Tensor, _: Any) -> Any:
        _first_order_only()
        u, ahat, bhat, w, c, p, q, k, A, Bc, h, z, ie, it = ctx.saved_tensors
        cand = torch.relu(z)
        gu_pre = G * (h - cand) * u * (1 - u)
        gz = torch.where(z > 0, G * (1 - u), 0.0)
        geps = gz.clone()
        # r = h + A w − Bc â
        gA, gBc = (gz * w).sum(-1, keepdim=True), -(gz * ahat).sum(-1, keepdim=True)
        gp = gA + (1 - c) * gBc  # A = p − k q, Bc = q + (1 − c) p
        gq = gBc - k * gA
        gc = k * k * q * gA - p * gBc
        gw = A * gz + gq * h
        gh = G * u + gz + gp * ahat + gq * w
        geps_frame, gtau = _frame_backward(ahat, bhat, c, ie, it, gp * h - Bc * gz, gw, gc)
        return gu_pre, gtau, geps + geps_frame, gh


def fused_step0(u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor) -> Tensor:
    r"""The whole λ = 0 RUM update after the GEMM, with a hand-written backward.

    .. math:: h' = u \odot h + (1 - u) \odot \operatorname{ReLU}(\varepsilon + R h),\quad
              R = \operatorname{Rotation}(\varepsilon, \tau),\quad u = \operatorname{sigmoid}(\tilde u)

    The same values as the composition of :func:`rotate_step` and the gate (one operation
    node for autograd instead of ~35). Batches with a zero or nearly antiparallel pair
    (``1 + c <`` :data:`FAST_PATH_MIN_1PC`) are recomputed through :func:`rotate_step`'s
    general path, so the conventions are the library's.

    >>> g = torch.Generator().manual_seed(2)
    >>> u_pre, tau, eps, h = torch.randn(4, 3, 5, generator=g, dtype=torch.float64)
    >>> ref = torch.relu(eps + rotate_step(eps, tau, h))
    >>> ref = ref + torch.sigmoid(u_pre) * (h - ref)
    >>> bool(torch.allclose(fused_step0(u_pre, tau, eps, h), ref))
    True
    """
    out, bad = _FusedStep0.apply(u_pre, tau, eps, h)
    if bad:
        cand = torch.relu(eps + rotate_step(eps, tau, h))
        out = cand + torch.sigmoid(u_pre) * (h - cand)
    return out


def _dot(x: Tensor, y: Tensor) -> Tensor:
    """Row-wise inner products of (B, N) batches, shape (B, 1)."""
    return torch.linalg.vecdot(x, y).unsqueeze(-1)


def _seq0_step(g: Tensor, h: Tensor, a: Tensor, eps: Tensor, eta: float | None, out: Tensor, sc: Tensor) -> None:
    r"""One forward step of :class:`_Sequence0` after the GEMM ``g = (ũ, τ)``: writes ``h_t`` to ``out``,
    the scalars ``(p, s, 1/‖τ‖, c, γ, δ, r)`` to ``sc`` (B, 7) and ``u = sigmoid(ũ)`` over ``ũ``.

    The torch implementation; ``orthornn/nn/kernels/rum0_step.h`` is the same step fused in C (used on
    CPU when it can be built)."""
    n = h.shape[-1]
    tau = g[:, n:]
    u = g[:, :n].sigmoid_()  # kept in place of ũ for the backward
    inv = torch.rsqrt(_dot(tau, tau))  # ‖τ‖ = 0 gives inf: reported as degenerate
    c = _dot(a, tau) * inv
    p, s = _dot(a, h), _dot(tau, h)
    gam = (p + s * inv) / (1 + c)  # γ = (â + b̂)·h / (1 + c)
    dl = (2 * p - gam) * inv  # δ = (2 â·h − γ)/‖τ‖
    cand = torch.relu((eps + h).addcmul_(a, gam, value=-1).addcmul_(tau, dl))
    if eta is None:
        torch.lerp(cand, h, u, out=out)
        r = torch.ones_like(p)
    else:  # h_t = r h' with r = η/‖h'‖ (0 for h' = 0)
        hp = torch.lerp(cand, h, u)
        ss = _dot(hp, hp)
        r = torch.where(ss > 0, eta * torch.rsqrt(torch.where(ss > 0, ss, 1.0)), 0.0)
        torch.mul(hp, r, out=out)
    torch.cat([p, s, inv, c, gam, dl, r], -1, out=sc)


def _seq0_step_backward(
    G: Tensor,
    h: Tensor,
    a: Tensor,
    ie: Tensor,
    eps: Tensor,
    g: Tensor,
    sc: Tensor,
    ht: Tensor,
    eta: float | None,
    out: Tensor,
) -> Tensor:
    r"""Adjoint of :func:`_seq0_step` from ``G = ∂L/∂h_t``: writes ``∂(ũ, τ, ε)`` to ``out`` (B, 3N) and
    returns the direct part of ``∂L/∂h_{t−1}`` (the caller adds the GEMM term ``∂g W_{hh}``).

    ``g`` holds ``(u, τ)`` (the forward stored ``u`` over ``ũ``); ``ReLU(z)`` is recomputed from
    the scalars (one pass over (B, N) instead of storing another (T, B, N) tensor)."""
    n = h.shape[-1]
    tau = g[:, n:]
    p, s, inv, c, gam, dl, r = sc.split(1, -1)
    if eta is not None:  # ∂h' = r (G − h_t (h_t·G)/η²)
        G = G.addcmul(ht, _dot(ht, G), value=-1 / (eta * eta)).mul_(r)
    u = g[:, :n]
    cand = torch.relu((eps + h).addcmul_(a, gam, value=-1).addcmul_(tau, dl))
    Gu = G * u
    gz = torch.ops.aten.threshold_backward(G - Gu, cand, 0)
    gdl, gga = _dot(gz, tau), _dot(gz, a)  # ∂δ and −∂γ (direct)
    km = (gga + inv * gdl) / (1 + c)  # −∂γ in total (γ enters δ), times k = 1/(1 + c)
    gp = 2 * inv * gdl - km  # ∂p, through δ and γ
    gs = -inv * km
    d = c / inv  # â·τ
    gd = inv * gam * km  # c = (â·τ)/‖τ‖
    ginv = (dl / inv) * gdl - s * km + d * gd / inv
    a_ga = p * gp + d * gd - gam * gga  # â·∂â, removed by the normalisation â = ε/‖ε‖
    out[:, :n] = torch.ops.aten.sigmoid_backward((h - cand).mul_(G), u)
    torch.mul(gz, dl, out=out[:, n : 2 * n]).addcmul_(h, gs).addcmul_(a, gd).addcmul_(tau, -(inv**3) * ginv)
    torch.mul(gz, 1 - ie * gam, out=out[:, 2 * n :]).addcmul_(h, ie * gp).addcmul_(tau, ie * gd).addcmul_(
        a, ie * a_ga, value=-1
    )
    return (gz + Gu).addcmul_(a, gp).addcmul_(tau, gs)


class _Sequence0(torch.autograd.Function):
    r"""The whole λ = 0 RUM over a sequence, input projection included; forward and backward loops
    written out by hand.

    The input projections ``P_t = W_x x_t + b`` of every step are one GEMM into a time-major
    ``(T, B, 3N)`` buffer; per step (rows are batch elements) the recurrent GEMM accumulates into
    its ``(ũ, τ)`` block in place, so the buffer ends up holding the ``(u, τ, ε)`` the backward needs:

    .. math::

        g &= P_t + h W_{hh}^T = (\tilde u, \tau),\quad u = \operatorname{sigmoid}(\tilde u),\quad
        b = \tau/\lVert\tau\rVert,\quad c = \hat a\cdot b,\quad p = \hat a\cdot h,\quad s = \tau\cdot h \\
        R h &= h - \gamma(\hat a + b) + 2 p\, b,\quad \gamma = \frac{p + s/\lVert\tau\rVert}{1 + c}
        \qquad (R = I - \tfrac{(\hat a + b)(\hat a + b)^T}{1 + c} + 2 b \hat a^T) \\
        h' &= \operatorname{lerp}\bigl(\operatorname{ReLU}(\varepsilon + R h),\, h,\, u\bigr)
        \quad [\,\cdot\,\eta/\lVert\cdot\rVert]

    — five row dot products and about ten elementwise operations on ``(B, N)`` besides the GEMM
    (:func:`_seq0_step`). On CPU in float32/float64 that work runs as one fused C loop per step
    (:func:`orthornn.nn.kernels.rum0`, forward and adjoint), otherwise as torch operations. The
    backward runs the adjoint loop (:func:`_seq0_step_backward` and one GEMM ``∂g W_{hh}`` per
    step, accumulated in place into ``∂L/∂h_{t−1}``) and forms ``∂W_{hh} = Σ_t ∂g_tᵀ h_{t−1}`` and
    ``[∂W_x, ∂b] = Σ_t ∂P_tᵀ [x_t, 1]`` as one GEMM each per chunk of :data:`SEQ0_CHUNK_ROWS`
    rows (:class:`_WeightGrads`); autograd sees one node for the whole sequence. Time-major
    buffers keep every per-step slice a block of rows. If a step has a zero ``ε`` or ``τ`` or
    ``1 + c <`` :data:`FAST_PATH_MIN_1PC`, the forward reports it and :class:`RUM` reruns the
    sequence step by step through the general path (the library's conventions for degenerate
    pairs).
    """

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, weight_x: Tensor, bias: Tensor, weight_h: Tensor, h0: Tensor, eta: float | None
    ) -> Any:
        B, T, _ = x.shape
        n = h0.shape[-1]
        Wt = weight_h.detach().t()
        # every step's input projection P_t = W_x x_t + b in one GEMM, time-major (T, B, 3N); the
        # recurrent GEMM then accumulates into its (ũ, τ) block in place, which keeps (u, τ, ε)
        X, PB = _project_sequence(ctx, x, weight_x, bias, n)
        H = h0.new_empty(T + 1, B, n)
        H[0] = h0.detach()
        S = h0.new_empty(T, B, 7)
        kern = kernels.rum0()
        kern = kern if kern is not None and kern.supports(H, PB, Wt) else None
        # per-step views made once (indexing inside the loop costs more than the step's elementwise work)
        Gs, Es, Hs, Ss = PB[..., : 2 * n].unbind(0), PB[..., 2 * n :].unbind(0), H.unbind(0), S.unbind(0)
        bad = False
        for t in range(T):
            g = Gs[t].addmm_(Hs[t], Wt)
            if kern is not None:  # the fused C step (counts its degenerate rows)
                bad |= kern.forward(g, Hs[t], Es[t], Hs[t + 1], Ss[t], eta, FAST_PATH_MIN_1PC) > 0
            else:
                a, _, zero = _seq0_direction(Es[t])
                bad |= bool(zero)
                _seq0_step(g, Hs[t], a, Es[t], eta, Hs[t + 1], Ss[t])
        if kern is None:  # zero τ or 1 + c too small, from the saved scalars (the C step counted them)
            bad |= bool((~torch.isfinite(S[..., 2]) | (1 + S[..., 3] < FAST_PATH_MIN_1PC)).any())
        ctx.save_for_backward(weight_h, weight_x, H, PB, S, X)
        ctx.eta, ctx.kern = eta, kern
        return H[1:], bad

    @staticmethod
    def backward(ctx: Any, grad_H: Tensor, _: Any) -> Any:
        _first_order_only()
        W, Wx, H, PB, S, X = ctx.saved_tensors
        T, B, n = grad_H.shape
        kern = ctx.kern
        if kern is not None and grad_H.stride(-1) != 1:
            grad_H = grad_H.contiguous()  # the C kernel takes row strides, not element strides
        # ∂(ũ, τ, ε) of a chunk of steps; the weight gradients are accumulated one GEMM per chunk, so
        # this buffer is reused instead of a (T, B, 3N) one allocated (and page-faulted) per pass
        tc = max(1, min(T, SEQ0_CHUNK_ROWS // B))
        dPc = SEQUENCE_WORKSPACE.take((tc, B, 3 * n), W.dtype, W.device, ctx)
        grads_w = _WeightGrads(W, X, ctx.needs_input_grad[0])
        carry = W.new_empty(B, n)  # ∂L/∂h_{t−1}: step adjoint, then + ∂g W_hh in place
        Gs, Es, Hs, Ss = PB[..., : 2 * n].unbind(0), PB[..., 2 * n :].unbind(0), H.unbind(0), S.unbind(0)
        dGs, dPs, grads = dPc[..., : 2 * n].unbind(0), dPc.unbind(0), grad_H.unbind(0)
        for t1 in range(T, 0, -tc):
            t0 = max(0, t1 - tc)
            for t in range(t1 - 1, t0 - 1, -1):
                j = t - t0
                if kern is not None:
                    args = (Es[t], Gs[t], Ss[t], Hs[t + 1], ctx.eta, dPs[j], carry)
                    kern.backward(grads[t], t < T - 1, Hs[t], *args)
                else:
                    G = grads[t] + carry if t < T - 1 else grads[t]
                    a, ie, _ = _seq0_direction(Es[t])
                    args = (G, Hs[t], a, ie, Es[t], Gs[t], Ss[t], Hs[t + 1], ctx.eta, dPs[j])
                    carry = _seq0_step_backward(*args)  # a fresh tensor: no copy into the buffer
                carry.addmm_(dGs[j], W)
            grads_w.add(dPc[: t1 - t0], H, X, Wx, t0, t1)
        return (*grads_w.result(), carry, None)


def _check_sequence_args(
    name: str, x: Tensor, weight_x: Tensor, bias: Tensor, weight_h: Tensor, h0: Tensor, extra: dict
) -> None:
    """Shapes, dtypes and devices of a sequence node's arguments (``extra``: name → (tensor, shape))."""
    n = h0.shape[-1]
    tensors = {"x": x, "weight_x": weight_x, "bias": bias, "weight_h": weight_h, "h0": h0}
    tensors.update({k: v[0] for k, v in extra.items()})
    want = [(3 * n, x.shape[-1]), (3 * n,), (2 * n, n), (x.shape[0], n), *[v[1] for v in extra.values()]]
    got = [t.shape for t in list(tensors.values())[1:]]
    if x.dim() != 3 or any(tuple(g) != w for g, w in zip(got, want, strict=True)):
        shapes = ", ".join(f"{k} {tuple(t.shape)}" for k, t in tensors.items())
        need = "x (B, T, N_x), weight_x (3N, N_x), bias (3N,), weight_h (2N, N), h0 (B, N)"
        need += "".join(f", {k} (B, N, N)" for k in extra)
        raise ShapeError(f"{name} needs {need}; got {shapes}")
    if len({(t.dtype, t.device) for t in tensors.values()}) > 1:
        got_t = ", ".join(f"{k} {t.dtype} on {t.device}" for k, t in tensors.items())
        raise OrthornnError(f"{name} needs one dtype and device for all its tensors; got {got_t}")


def _project_sequence(ctx: Any, x: Tensor, weight_x: Tensor, bias: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """``X = [x_t, 1]`` time-major (T, B, N_x + 1) and the projections ``P = X [W_x, b]ᵀ`` (T, B, 3N).

    The bias rides in the GEMM (no broadcast copy; the backward's ``∂W_x`` and ``∂b`` are then one
    GEMM); ``P`` is lent by :data:`SEQUENCE_WORKSPACE` to ``ctx`` until the node is gone, so the next
    pass reuses already mapped memory."""
    B, T, nx = x.shape
    X = x.new_empty(T, B, nx + 1)
    X[..., :-1] = x.detach().transpose(0, 1)
    X[..., -1] = 1.0
    Wxb = torch.cat([weight_x.detach(), bias.detach()[:, None]], 1)  # [W_x, b]
    PB = SEQUENCE_WORKSPACE.take((T, B, 3 * n), x.dtype, x.device, ctx)
    torch.mm(X.view(T * B, -1), Wxb.t(), out=PB.view(T * B, 3 * n))
    return X, PB


class _WeightGrads:
    """The parameter and input gradients of a sequence node from its ``∂P_t = ∂(ũ, τ, ε)``,
    accumulated over blocks of steps with one GEMM each per block:
    ``∂W_{hh} = Σ_t ∂g_tᵀ h_{t−1}``, ``[∂W_x, ∂b]ᵀ = Σ_t [x_t, 1]ᵀ ∂P_t`` (``X`` of
    :func:`_project_sequence`) and ``∂x_t = ∂P_t W_x`` (when ``need_x``)."""

    def __init__(self, W: Tensor, X: Tensor, need_x: bool) -> None:
        T, B, nx1 = X.shape
        self.gW = torch.zeros_like(W)
        self.gWxb_t = X.new_zeros(nx1, 3 * W.shape[-1])
        self.gx = X.new_empty(T, B, nx1 - 1) if need_x else None

    def add(self, dP: Tensor, H: Tensor, X: Tensor, Wx: Tensor, t0: int, t1: int) -> None:
        """Steps ``t0 … t1 − 1``: ``dP`` (t1 − t0, B, 3N), ``H`` all states ``h_0 … h_T``, ``X`` all ``[x_t, 1]``."""
        flat = dP.reshape(-1, dP.shape[-1])
        n = H.shape[-1]
        self.gW.addmm_(flat[:, : 2 * n].t(), H[t0:t1].reshape(-1, n))
        self.gWxb_t.addmm_(X[t0:t1].reshape(-1, X.shape[-1]).t(), flat)
        if self.gx is not None:
            torch.mm(flat, Wx, out=self.gx[t0:t1].view(flat.shape[0], -1))

    def result(self) -> tuple[Tensor | None, Tensor, Tensor, Tensor]:
        """``(∂x, ∂W_x, ∂b, ∂W_{hh})``, ``∂x`` batch-first like ``x`` (None unless asked for)."""
        gx = None if self.gx is None else self.gx.transpose(0, 1)
        return gx, self.gWxb_t[:-1].t(), self.gWxb_t[-1], self.gW


def _seq0_direction(eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``â = ε/‖ε‖``, ``1/‖ε‖`` (1 for ε = 0) and whether some row of ``ε`` is zero."""
    se = _dot(eps, eps)
    zero = se == 0
    ie = torch.rsqrt(torch.where(zero, 1.0, se))
    return eps * ie, ie, zero.any()


def sequence0(
    x: Tensor, weight_x: Tensor, bias: Tensor, weight_h: Tensor, h0: Tensor, eta: float | None = None
) -> Tensor | None:
    r"""All hidden states of a λ = 0 RUM over a sequence, as one autograd node (:class:`_Sequence0`).

    .. math:: h_t = \operatorname{lerp}\bigl(\operatorname{ReLU}(\varepsilon_t +
              \operatorname{Rotation}(\varepsilon_t, \tau_t) h_{t-1}),\ h_{t-1},\ u_t\bigr)
              \ [\,\eta\text{-normalised}\,],\qquad
              (\tilde u_t, \tau_t, \varepsilon_t) = W_x x_t + b + (W_{hh} h_{t-1}, 0)

    Parameters
    ----------
    x : Tensor, shape (B, T, N_x)
    weight_x : Tensor, shape (3N, N_x)
        ``[W_xh; W_xe]`` (:attr:`RUMCell.weight_x`).
    bias : Tensor, shape (3N,)
        ``[b; b_e]``.
    weight_h : Tensor, shape (2N, N)
        ``W_hh``.
    h0 : Tensor, shape (B, N)
    eta : float or None

    Returns
    -------
    Tensor of shape (T, B, N) (time-major: ``h_1 … h_T``), or None when some step has a zero or
    nearly antiparallel pair ``(ε_t, τ_t)``; the caller then runs the steps through the general
    path.

    Raises
    ------
    ShapeError
        Shapes that do not fit together (``h0`` of shape (B, N) fixes ``N``).
    OrthornnError
        Tensors of different dtypes or devices.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> cell = RUMCell(3, 4, dtype=torch.float64)
    >>> x = torch.randn(2, 5, 3, dtype=torch.float64)
    >>> h = torch.zeros(2, 4, dtype=torch.float64)
    >>> hs = sequence0(x, cell.weight_x, torch.cat([cell.bias, cell.bias_e]), cell.weight_h, h)
    >>> steps = [h := cell(x[:, t], RUMState(h, None)).h for t in range(5)]
    >>> bool(torch.allclose(hs, torch.stack(steps)))
    True
    """
    _check_sequence_args("sequence0", x, weight_x, bias, weight_h, h0, {})
    out, bad = _Sequence0.apply(x, weight_x, bias, weight_h, h0, eta)
    return None if bad else out


class _Sequence1(torch.autograd.Function):
    r"""The whole λ = 1 RUM over a sequence as one autograd node, run by the native kernel
    (``orthornn/nn/kernels/rum1_step.h``) batch-outer and time-inner.

    Per batch element and step (the equations of :func:`memory_step` and :func:`fused_step1`):
    ``(ũ, τ) = P_t + W_{hh} h``, the frame of ``(ε, τ)``, ``R_t = R_{t−1} + (R_{t−1} x) âᵀ +
    (R_{t−1} y) wᵀ``, ``h_t = lerp(ReLU(ε + R_t h), h, u)`` [η-normalised]. One element's memory
    (``N×N``), its gradient and ``W_{hh}`` stay in cache for the whole sequence, so no ``B×N×N``
    pass goes through main memory per step. The graph keeps ``(u, τ, ε)`` and ``h_t`` per step
    and the final ``R_T`` only: the backward rebuilds ``R_{t−1} = R_t · Rotation(ε_t, τ_t)ᵀ`` in a
    copy of ``R_T`` (memory flat in T, and a second backward works). ``∂W_{hh}``, ``[∂W_x, ∂b]``
    and ``∂x`` are one GEMM each after the kernel.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight_x: Tensor,
        bias: Tensor,
        weight_h: Tensor,
        h0: Tensor,
        R0: Tensor,
        eta: float | None,
        kern: Any,
    ) -> Any:
        B, T, _ = x.shape
        n = h0.shape[-1]
        X, PB = _project_sequence(ctx, x, weight_x, bias, n)
        H = h0.new_empty(T + 1, B, n)
        H[0] = h0.detach()
        R = R0.detach().clone(memory_format=torch.contiguous_format)
        Sr = h0.new_empty(T, B)
        W = weight_h.detach().contiguous()
        bad = kern.forward(PB, W.t().contiguous(), H, R, Sr, eta, FAST_PATH_MIN_1PC) > 0
        ctx.save_for_backward(W, weight_x, H, PB, Sr, X, R)
        ctx.eta, ctx.kern = eta, kern
        ctx.set_materialize_grads(False)
        return H[1:], R, bad

    @staticmethod
    def backward(ctx: Any, grad_H: Tensor | None, grad_R: Tensor | None, _: Any) -> Any:
        _first_order_only()
        W, Wx, H, PB, Sr, X, R_T = ctx.saved_tensors
        T, B, n = H.shape[0] - 1, H.shape[1], H.shape[2]
        gH = H.new_zeros(T, B, n) if grad_H is None else grad_H.contiguous()
        G = torch.zeros_like(R_T) if grad_R is None else grad_R.clone(memory_format=torch.contiguous_format)
        dPB = SEQUENCE_WORKSPACE.take((T, B, 3 * n), H.dtype, H.device, ctx)
        gh0 = H.new_empty(B, n)
        ctx.kern.backward(PB, W, H, Sr, gH, R_T.clone(), G, ctx.eta, dPB, gh0)
        grads_w = _WeightGrads(W, X, ctx.needs_input_grad[0])
        grads_w.add(dPB, H, X, Wx, 0, T)
        return (*grads_w.result(), gh0, G, None, None)


def sequence1(
    x: Tensor, weight_x: Tensor, bias: Tensor, weight_h: Tensor, h0: Tensor, R0: Tensor, eta: float | None = None
) -> tuple[Tensor, Tensor] | None:
    r"""All hidden states and the final memory of a λ = 1 RUM over a sequence, as one autograd node
    (:class:`_Sequence1`, the native kernel).

    .. math:: R_t = R_{t-1}\operatorname{Rotation}(\varepsilon_t, \tau_t),\quad
              h_t = \operatorname{lerp}\bigl(\operatorname{ReLU}(\varepsilon_t + R_t h_{t-1}),\
              h_{t-1},\ u_t\bigr)\ [\,\eta\text{-normalised}\,]

    Parameters
    ----------
    x : Tensor, shape (B, T, N_x)
    weight_x : Tensor, shape (3N, N_x)
    bias : Tensor, shape (3N,)
    weight_h : Tensor, shape (2N, N)
    h0 : Tensor, shape (B, N)
    R0 : Tensor, shape (B, N, N)
    eta : float or None

    Returns
    -------
    ``(hs, R_T)`` with ``hs`` of shape (T, B, N) (time-major) and ``R_T`` (B, N, N); or None when
    the native kernel is not available for these tensors (no compiler, ``ORTHORNN_NATIVE=0``, not
    CPU float32/float64) or some step has a zero or nearly antiparallel pair ``(ε_t, τ_t)``: the
    caller then runs the step path.

    Raises
    ------
    ShapeError
        Shapes that do not fit together.
    OrthornnError
        Tensors of different dtypes or devices.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> rum = RUM(3, 4, lam=1.0, dtype=torch.float64)
    >>> x = torch.randn(2, 5, 3, dtype=torch.float64)
    >>> h0, R0 = rum.cell.initial_state(2, like=x)
    >>> out = sequence1(x, rum.cell.weight_x, rum.cell.projection_bias(), rum.cell.weight_h, h0, R0)
    >>> steps = [s := rum.cell(x[:, t], s if t else RUMState(h0, R0)) for t in range(5)]
    >>> out is None or bool(torch.allclose(out[0], torch.stack([s.h for s in steps])))
    True
    """
    _check_sequence_args(
        "sequence1", x, weight_x, bias, weight_h, h0, {"R0": (R0, (h0.shape[0], h0.shape[-1], h0.shape[-1]))}
    )
    kern = kernels.rum1()
    if kern is None or not kern.supports(x, weight_x, bias, weight_h, h0, R0):
        return None
    hs, R_T, bad = _Sequence1.apply(x, weight_x, bias, weight_h, h0, R0, eta, kern)
    return None if bad else (hs, R_T)


def _memory_factors(f: _Frame) -> tuple[Tensor, Tensor]:
    """``x, y`` of ``Rotation = I + x âᵀ + y wᵀ`` in the frame ``f``."""
    return f.w - (1 - f.c) * f.ahat, -(f.ahat + f.w / (1 + f.c))


def memory_update(R: Tensor, eps: Tensor, tau: Tensor) -> Tensor:
    r"""The associative-memory step :math:`R \cdot \operatorname{Rotation}(\varepsilon, \tau)` as a rank-2 update.

    .. math::

        \operatorname{Rotation}(\varepsilon, \tau) = I + x \hat a^T + y w^T,\quad
        x = w - (1 - c)\hat a,\ y = -\Big(\hat a + \frac{w}{1 + c}\Big)
        \;\Longrightarrow\;
        R \cdot \operatorname{Rotation}(\varepsilon, \tau) = R + (R x)\, \hat a^T + (R y)\, w^T

    with the frame of :func:`rotate_step`. Cost O(B·N²): one pass over ``R`` for the two
    matrix-vector products and one for the rank-2 update (``baddbmm``); the ``N×N``
    Rotation is never formed. Zero or nearly antiparallel pairs use the general
    :func:`orthornn.nn.functional.rotate` on the rows of ``R`` (row ``i`` of
    ``R·Rotation(ε, τ)`` is ``Rotation(τ, ε) r_i``).

    Parameters
    ----------
    R : Tensor, shape (B, N, N)
    eps, tau : Tensor, shape (B, N)

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> R = torch.linalg.qr(torch.randn(2, 5, 5, generator=g, dtype=torch.float64))[0]
    >>> eps, tau = torch.randn(2, 2, 5, generator=g, dtype=torch.float64)
    >>> dense = R @ F_orth.rotation(eps, tau)
    >>> bool(torch.allclose(memory_update(R, eps, tau), dense))
    True
    """
    f = _frame(eps, tau)
    if f is None:
        return F_orth.rotate(tau.unsqueeze(-2), eps.unsqueeze(-2), R)
    x, y = _memory_factors(f)
    P = torch.bmm(R, torch.stack([x, y], -1))
    return torch.baddbmm(R, P, torch.stack([f.ahat, f.w], -2))


def memory_step(R: Tensor, eps: Tensor, tau: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    r"""``R' = R · Rotation(ε, τ)`` and ``R' h`` with one pass over ``R`` for the products.

    .. math:: R' h = R h + (R x)(\hat a\cdot h) + (R y)(w\cdot h)

    ``[Rx, Ry, Rh]`` come from one batched product with three columns (measured here 2–3×
    faster fwd+bwd than three broadcast multiply-sums at B = 128, N = 100), the update from
    one ``baddbmm``; the backward of that core is hand-written (``_MemoryStep``: five passes
    over ``B×N×N``, one autograd node).

    >>> g = torch.Generator().manual_seed(0)
    >>> R = torch.linalg.qr(torch.randn(2, 5, 5, generator=g, dtype=torch.float64))[0]
    >>> eps, tau, h = torch.randn(3, 2, 5, generator=g, dtype=torch.float64)
    >>> R1, Rh = memory_step(R, eps, tau, h)
    >>> bool(torch.allclose(R1, memory_update(R, eps, tau))) and bool(torch.allclose(Rh, (R1 @ h[..., None])[..., 0]))
    True
    """
    f = _frame(eps, tau)
    if f is None:
        R_new = F_orth.rotate(tau.unsqueeze(-2), eps.unsqueeze(-2), R)
        return R_new, (R_new * h.unsqueeze(-2)).sum(-1)
    x, y = _memory_factors(f)
    return _MemoryStep.apply(R, x, y, h, f.ahat, f.w)


def _core_forward(R: Tensor, x: Tensor, y: Tensor, h: Tensor, ahat: Tensor, w: Tensor) -> tuple[Tensor, Tensor, tuple]:
    """``R' = R + (R x) âᵀ + (R y) wᵀ`` and ``R' h``, with what :func:`_core_backward` needs."""
    # row-stacked (B, k, N) operands, used transposed: no strided interleaving copies
    C = torch.stack([x, y, h], -2)  # rows x, y, h
    Pt = torch.bmm(C, R.transpose(-1, -2))  # rows R x, R y, R h
    AW = torch.stack([ahat, w], -2)  # rows â, w
    R_new = torch.baddbmm(R, Pt[:, :2].transpose(-1, -2), AW)
    pa = (ahat * h).sum(-1, keepdim=True)
    pw = (w * h).sum(-1, keepdim=True)
    return R_new, Pt[:, 2] + Pt[:, 0] * pa + Pt[:, 1] * pw, (R, C, Pt, AW, pa, pw)


def _core_backward(
    saved: tuple, G: Tensor | None, g: Tensor, need_R: bool, need_xyh: bool, inplace: bool = False
) -> tuple:
    """``(∂R, ∂x, ∂y, ∂h, ∂â, ∂w)`` of :func:`_core_forward` from ``G = ∂L/∂R'`` (None: 0), ``g = ∂L/∂(R'h)``;
    ``inplace``: ``∂R`` overwrites ``G``.

    Passes over ``B×N×N``: ``G [â, w]``, ``[R x, R y]ᵀ G``, ``Rᵀ ∂P`` and ``G + ∂P [x, y, h]ᵀ``.
    """
    R, C, Pt, AW, pa, pw = saved
    h, ahat, w = C[:, 2], AW[:, 0], AW[:, 1]
    # ∂P (rows): from R' = R + P₀ âᵀ + P₁ wᵀ and R'h = P₂ + P₀ pa + P₁ pw
    dPt = torch.stack([g * pa, g * pw, g], -2)
    if G is not None:
        dPt[:, :2] += torch.bmm(AW, G.transpose(-1, -2))  # rows (G â)ᵀ, (G w)ᵀ
        dAW = torch.bmm(Pt[:, :2], G)  # rows P₀ᵀ G, P₁ᵀ G
        da, dw = dAW[:, 0], dAW[:, 1]
    else:
        da, dw = torch.zeros_like(ahat), torch.zeros_like(w)
    dpa = (g * Pt[:, 0]).sum(-1, keepdim=True)
    dpw = (g * Pt[:, 1]).sum(-1, keepdim=True)
    da = da + dpa * h
    dw = dw + dpw * h
    dR = dx = dy = dh = None
    if need_R:  # ∂R = G + ∂P [x, y, h]ᵀ
        dPc = dPt.transpose(-1, -2)
        if G is None:
            dR = torch.bmm(dPc, C)
        else:
            dR = G.baddbmm_(dPc, C) if inplace else torch.baddbmm(G, dPc, C)
    if need_xyh:
        dC = torch.bmm(dPt, R)  # rows of (Rᵀ ∂P)ᵀ
        dx, dy = dC[:, 0], dC[:, 1]
        dh = dC[:, 2] + dpa * ahat + dpw * w
    return dR, dx, dy, dh, da, dw


class _MemoryStep(torch.autograd.Function):
    """``(R, x, y, h, â, w) ↦ (R + (R x) âᵀ + (R y) wᵀ, R' h)`` with a hand-written backward.

    Forward: one 3-column product and one ``baddbmm`` (three passes over ``B×N×N``). Backward:
    five passes (:func:`_core_backward`), instead of autograd's per-operation nodes, copies
    and accumulations.
    """

    @staticmethod
    def forward(ctx: Any, R: Tensor, x: Tensor, y: Tensor, h: Tensor, ahat: Tensor, w: Tensor) -> Any:
        R_new, rh, saved = _core_forward(R, x, y, h, ahat, w)
        ctx.save_for_backward(*saved)
        ctx.set_materialize_grads(False)
        return R_new, rh

    @staticmethod
    def backward(ctx: Any, G: Tensor | None, g: Tensor | None) -> Any:
        _first_order_only()
        saved = ctx.saved_tensors
        g = torch.zeros_like(saved[1][:, 2]) if g is None else g
        return _core_backward(saved, G, g, ctx.needs_input_grad[0], any(ctx.needs_input_grad[1:4]))


class _FusedStep1(torch.autograd.Function):
    """The λ ≠ 0 cell after the GEMM and the power, ``(ũ, τ, ε, h, R) ↦ (h', R')``, hand-derived backward."""

    @staticmethod
    def forward(ctx: Any, u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor) -> Any:
        ahat, bhat, c, ie, it, bad = _frame_parts(eps, tau)
        if bad:  # the caller recomputes this step through the general path
            return torch.empty_like(h), torch.empty_like(R), True
        u = torch.sigmoid(u_pre)
        w = bhat - c * ahat
        k = 1 / (1 + c)
        x, y = w - (1 - c) * ahat, -(ahat + k * w)  # Rotation = I + x âᵀ + y wᵀ
        R_new, rh, saved = _core_forward(R, x, y, h, ahat, w)
        z = eps + rh
        cand = torch.relu(z)
        out = cand + u * (h - cand)
        ctx.save_for_backward(u, bhat, c, ie, it, k, z, *saved)
        ctx.set_materialize_grads(False)
        return out, R_new, False

    @staticmethod
    def backward(ctx: Any, G: Tensor | None, GR: Tensor | None, _: Any) -> Any:
        _first_order_only()
        u, bhat, c, ie, it, k, z, *saved = ctx.saved_tensors
        return _step1_backward((u, bhat, c, ie, it, k, z), tuple(saved), G, GR, ctx.needs_input_grad[4])


def _step1_backward(
    cell: tuple, saved: tuple, G: Tensor | None, GR: Tensor | None, need_R: bool, inplace: bool = False
) -> tuple:
    """``(∂ũ, ∂τ, ∂ε, ∂h, ∂R)`` of the λ ≠ 0 cell from ``G = ∂L/∂h'`` and ``GR = ∂L/∂R'``
    (``inplace``: ``∂R`` overwrites ``GR``)."""
    u, bhat, c, ie, it, k, z = cell
    C, AW = saved[1], saved[3]
    h, ahat, w = C[:, 2], AW[:, 0], AW[:, 1]
    if G is None:
        G = torch.zeros_like(h)
    cand = torch.relu(z)
    gu_pre = G * (h - cand) * u * (1 - u)
    gz = torch.where(z > 0, G * (1 - u), 0.0)  # z = ε + R'h
    dR, dx, dy, dh, da, dw = _core_backward(saved, GR, gz, need_R, True, inplace)
    gh = G * u + dh
    # x = w − (1 − c) â,  y = −(â + k w) with k = 1/(1 + c)
    ga = da - (1 - c) * dx - dy
    gw = dw + dx - k * dy
    gc = (ahat * dx).sum(-1, keepdim=True) + k * k * (w * dy).sum(-1, keepdim=True)
    geps_frame, gtau = _frame_backward(ahat, bhat, c, ie, it, ga, gw, gc)
    return gu_pre, gtau, gz + geps_frame, gh, dR


class _FusedStep1Recompute(torch.autograd.Function):
    """:class:`_FusedStep1` (λ = 1) whose backward rebuilds ``R_{t−1} = R_t · Rotationᵀ`` from the tape.

    Saves only the step's inputs ``ũ, τ`` (views of the gate GEMM's output) and ``h`` (which that
    GEMM saves anyway), ``â = ε/‖ε‖`` and ``1/‖ε‖``: four ``(B, N)`` vectors per step (``ε``
    itself is a view of the whole input projection). The backward recomputes the gate, the
    frame, ``R_t [â, w, h]`` (one 3-column pass over ``R_t``) and from those ``R_{t−1}`` (in
    place) and ``R_{t−1} [x, y, h]`` without another pass.
    """

    @staticmethod
    def forward(
        ctx: Any, u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor, tape: MemoryTape, t: int
    ) -> Any:
        # R is updated in place when the previous step of this pass produced it (nothing else
        # holds it: this node saves no B×N×N tensor), else written to fresh memory.
        ahat, bhat, c, ie, _it, bad = _frame_parts(eps, tau)
        if bad:  # the caller takes the general path for this step; R is untouched
            return torch.empty_like(h), torch.empty_like(R), True
        w = bhat - c * ahat
        x, y = w - (1 - c) * ahat, -(ahat + w / (1 + c))
        Pt = torch.bmm(torch.stack([x, y, h], -2), R.transpose(-1, -2))  # rows R x, R y, R h: one pass
        AW = torch.stack([ahat, w], -2)
        if R is tape.owned():
            R_new = R.baddbmm_(Pt[:, :2].transpose(-1, -2), AW)
            ctx.mark_dirty(R)
        else:
            R_new = torch.baddbmm(R, Pt[:, :2].transpose(-1, -2), AW)
        pa = (ahat * h).sum(-1, keepdim=True)
        pw = (w * h).sum(-1, keepdim=True)
        cand = torch.relu(eps + Pt[:, 2] + Pt[:, 0] * pa + Pt[:, 1] * pw)
        out = cand + torch.sigmoid(u_pre) * (h - cand)
        # ε is a view of the whole input projection: keep â (computed anyway) and 1/‖ε‖ instead;
        # the backward recomputes the rest (R_t h differs from the R h + … above by rounding only)
        ctx.save_for_backward(u_pre, tau, h, ahat, ie)
        ctx.tape, ctx.t = tape, t
        ctx.set_materialize_grads(False)
        return out, R_new, False

    @staticmethod
    def backward(ctx: Any, G: Tensor | None, GR: Tensor | None, _: Any) -> Any:
        _first_order_only()
        u_pre, tau, h, ahat, ie = ctx.saved_tensors
        R_t = ctx.tape.R.pop(ctx.t, None)
        if R_t is None:
            raise RuntimeError(
                "memory-efficient RUM: R_t is no longer on the tape (a second backward through the same "
                "forward pass?); use memory_efficient=False for that"
            )
        st = (tau * tau).sum(-1, keepdim=True)
        it = torch.rsqrt(st)  # τ ≠ 0: the forward took this path
        bhat = tau * it
        c = (ahat * bhat).sum(-1, keepdim=True)
        w = bhat - c * ahat
        k = 1 / (1 + c)
        x, y = w - (1 - c) * ahat, -(ahat + k * w)
        C = torch.stack([x, y, h], -2)
        AW = torch.stack([ahat, w], -2)
        Q = torch.bmm(torch.cat([AW, h.unsqueeze(-2)], -2), R_t.transpose(-1, -2))  # rows R_t â, R_t w, R_t h
        Ra, Rw, Rh = Q.unbind(-2)
        z = ahat / ie + Rh  # ε + R_t h
        xh = (x * h).sum(-1, keepdim=True)
        yh = (y * h).sum(-1, keepdim=True)
        # Rotationᵀ = I + â xᵀ + w yᵀ, so R_{t−1} = R_t + (R_t â) xᵀ + (R_t w) yᵀ, in place (the tape's
        # R_t serves this step only), and with x·x = 2(1 − c), x·y = 0, y·y = 2k:
        # R_{t−1} x = R_t (w + (1 − c) â),  R_{t−1} y = R_t (k w − â),  R_{t−1} h = R_t (h + (x·h) â + (y·h) w)
        Pt = torch.stack([Rw + (1 - c) * Ra, k * Rw - Ra, Rh + xh * Ra + yh * Rw], -2)
        R_prev = R_t.baddbmm_(Q[:, :2].transpose(-1, -2), C[:, :2])
        ctx.tape.R.setdefault(ctx.t - 1, R_prev)
        pa = (ahat * h).sum(-1, keepdim=True)
        pw = (w * h).sum(-1, keepdim=True)
        saved = (R_prev, C, Pt, AW, pa, pw)
        # ∂L/∂R_t in place when it is the buffer the step after returned (nobody else reads it)
        own = GR is not None and ctx.tape.grad_ptr == GR.data_ptr() and GR.is_contiguous()
        cell = (torch.sigmoid(u_pre), bhat, c, ie, it, k, z)
        grads = _step1_backward(cell, saved, G, GR, ctx.needs_input_grad[4], own)
        ctx.tape.grad_ptr = None if grads[4] is None else grads[4].data_ptr()
        return (*grads, None, None)


def fused_step1(u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor) -> tuple[Tensor, Tensor]:
    r"""The whole λ ≠ 0 RUM update after the GEMM (and after the power of ``R``), hand-written backward.

    .. math:: R' = R\,\operatorname{Rotation}(\varepsilon, \tau),\quad
              h' = u \odot h + (1 - u) \odot \operatorname{ReLU}(\varepsilon + R' h),\quad
              u = \operatorname{sigmoid}(\tilde u)

    The same values as :func:`memory_step` followed by the gate, as one autograd node.
    Batches with a zero or nearly antiparallel pair (``1 + c <`` :data:`FAST_PATH_MIN_1PC`)
    go through :func:`memory_step`'s general path, so the conventions are the library's.

    >>> g = torch.Generator().manual_seed(3)
    >>> u_pre, tau, eps, h = torch.randn(4, 2, 5, generator=g, dtype=torch.float64)
    >>> R = torch.linalg.qr(torch.randn(2, 5, 5, generator=g, dtype=torch.float64))[0]
    >>> R1, rh = memory_step(R, eps, tau, h)
    >>> ref = torch.relu(eps + rh); ref = ref + torch.sigmoid(u_pre) * (h - ref)
    >>> out, R_new = fused_step1(u_pre, tau, eps, h, R)
    >>> bool(torch.allclose(out, ref)) and bool(torch.allclose(R_new, R1))
    True
    """
    out, R_new, bad = _FusedStep1.apply(u_pre, tau, eps, h, R)
    return _general_step1(u_pre, tau, eps, h, R) if bad else (out, R_new)


def _general_step1(u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor) -> tuple[Tensor, Tensor]:
    """The λ ≠ 0 cell through :func:`memory_step`'s general path (zero or nearly antiparallel pairs)."""
    R_new, rh = memory_step(R, eps, tau, h)
    cand = torch.relu(eps + rh)
    return cand + torch.sigmoid(u_pre) * (h - cand), R_new


def _dead_ref() -> None:
    """A weak reference that is always dead (no memory owned)."""
    return None


class MemoryTape:
    """Memories ``R_t`` handed backwards between the steps of a memory-efficient RUM pass.

    The forward pass leaves the final ``R_T`` (and, at steps that took the general path, the
    ``R_{t−1}`` autograd keeps anyway); each backward step pops ``R_t``, reconstructs
    ``R_{t−1} = R_t · Rotation(ε_t, τ_t)ᵀ`` and leaves it for the step before. One backward
    per forward pass.
    """

    def __init__(self) -> None:
        self.R: dict[int, Tensor] = {}
        #: the memory the last fused step wrote (the next one may update it in place), held weakly:
        #: a strong reference from the tape (which the graph's nodes hold) to a graph output
        #: would make a reference cycle through autograd that keeps every pass's graph alive
        self.owned: Any = _dead_ref
        #: ``data_ptr`` of the ``∂L/∂R`` buffer the last backward step returned
        self.grad_ptr: int | None = None


class _MemoryStepRecompute(torch.autograd.Function):
    """``memory_step`` whose backward recomputes ``R_{t−1}`` from ``R_t`` instead of storing it."""

    @staticmethod
    def forward(ctx: Any, R: Tensor, eps: Tensor, tau: Tensor, h: Tensor, tape: MemoryTape, t: int) -> Any:
        f = _frame(eps, tau)
        assert f is not None  # the caller checked
        x, y = _memory_factors(f)
        # one pass over R for R·[x, y, h, â, w]
        Rx, Ry, Rh, Ra, Rw = torch.bmm(R, torch.stack([x, y, h, f.ahat, f.w], -1)).unbind(-1)
        R_new = torch.baddbmm(R, torch.stack([Rx, Ry], -1), torch.stack([f.ahat, f.w], -2))
        pa = (f.ahat * h).sum(-1, keepdim=True)
        pw = (f.w * h).sum(-1, keepdim=True)
        s2 = (f.w * f.w).sum(-1, keepdim=True)
        # R_t â = R â + R x and R_t w = R w + s² R y (â·â = 1, â·w = 0, w·w = s²): enough to undo the step
        ctx.save_for_backward(eps, tau, h, Rx, Ry, Ra + Rx, Rw + s2 * Ry)
        ctx.tape, ctx.t = tape, t
        return R_new, Rh + Rx * pa + Ry * pw

    @staticmethod
    def backward(ctx: Any, gR: Tensor | None, grh: Tensor | None) -> Any:
        eps, tau, h, Rx, Ry, Rta, Rtw = ctx.saved_tensors
        R_t = ctx.tape.R.pop(ctx.t, None)
        if R_t is None:
            raise RuntimeError(
                "memory-efficient RUM: R_t is no longer on the tape (a second backward through the same "
                "forward pass?); use memory_efficient=False for that"
            )
        with torch.enable_grad():
            e, ta = eps.detach().requires_grad_(), tau.detach().requires_grad_()
            f = _frame(e, ta)
            assert f is not None
            x, y = _memory_factors(f)
        ahat, w, xd, yd = f.ahat.detach(), f.w.detach(), x.detach(), y.detach()
        XY = torch.stack([xd, yd], -2)  # (B, 2, N)
        # R_{t−1} = R_t · Rotationᵀ = R_t + (R_t â) xᵀ + (R_t w) yᵀ   (Rotationᵀ = I + â xᵀ + w yᵀ)
        R_prev = torch.baddbmm(R_t, torch.stack([Rta, Rtw], -1), XY)
        ctx.tape.R.setdefault(ctx.t - 1, R_prev)
        if gR is None:
            gR = torch.zeros_like(R_t)
        if grh is None:
            grh = torch.zeros_like(h)
        # G = ∂L/∂R_t = gR + grh hᵀ, never formed.  R_t = R_{t−1} + (R_{t−1} x) âᵀ + (R_{t−1} y) wᵀ:
        hAW = torch.stack([(h * ahat).sum(-1), (h * w).sum(-1)], -1)  # (B, 2)
        GA = torch.bmm(gR, torch.stack([ahat, w], -1)) + grh.unsqueeze(-1) * hAW.unsqueeze(-2)  # G â, G w
        RP = torch.stack([Rx, Ry], -1)  # R_{t−1} x, R_{t−1} y
        gaw = torch.bmm(gR.transpose(-1, -2), RP) + h.unsqueeze(-1) * (grh.unsqueeze(-1) * RP).sum(-2).unsqueeze(-2)
        cols = torch.cat([GA, grh.unsqueeze(-1)], -1)  # (B, N, 3)
        Q = torch.bmm(R_prev.transpose(-1, -2), cols)  # ∂x, ∂y, R_{t−1}ᵀ grh
        v = Q[..., 2]
        gh = v + ahat * (xd * v).sum(-1, keepdim=True) + w * (yd * v).sum(-1, keepdim=True)  # R_tᵀ grh
        ge, gt = torch.autograd.grad(
            [x, y, f.ahat, f.w], [e, ta], [Q[..., 0], Q[..., 1], gaw[..., 0], gaw[..., 1]], allow_unused=True
        )
        gR_prev = None
        if ctx.needs_input_grad[0]:  # G Rotationᵀ = gR + grh hᵀ + (G â) xᵀ + (G w) yᵀ
            gR_prev = torch.baddbmm(gR, cols, torch.cat([XY, h.unsqueeze(-2)], -2))
        return gR_prev, ge, gt, gh, None, None


def memory_step_recompute(
    R: Tensor, eps: Tensor, tau: Tensor, h: Tensor, tape: MemoryTape, t: int
) -> tuple[Tensor, Tensor]:
    r""":func:`memory_step` whose backward recomputes ``R_{t−1}`` instead of storing it.

    .. math:: R_{t-1} = R_t\,\operatorname{Rotation}(\varepsilon_t, \tau_t)^T

    Autograd keeps only ``ε_t, τ_t, h`` per step (O(B·N)), not ``R_{t−1}`` (O(B·N²)), so the
    memory of a λ = 1 RUM is flat in the sequence length. ``t`` indexes the step on ``tape``;
    after the last step put the final memory on the tape (``tape.R[T] = R_T.detach()``), as
    :class:`RUM` does (its cell runs the same reconstruction fused with the gate). Steps
    whose pair is degenerate must take :func:`memory_step` and put their input ``R_{t−1}``
    on the tape.

    >>> g = torch.Generator().manual_seed(0)
    >>> R0 = torch.eye(4, dtype=torch.float64).expand(2, 4, 4)
    >>> eps, tau, h = (torch.randn(2, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
    >>> tape = MemoryTape()
    >>> R1, Rh = memory_step_recompute(R0, eps, tau, h, tape, 1); tape.R[1] = R1.detach()
    >>> ga = torch.autograd.grad(Rh.sum() + R1.sum(), [eps, tau, h])
    >>> gb = torch.autograd.grad(sum(t.sum() for t in memory_step(R0, eps, tau, h)), [eps, tau, h])
    >>> all(torch.allclose(a, b) for a, b in zip(ga, gb))
    True
    """
    return _MemoryStepRecompute.apply(R, eps, tau, h, tape, t)


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if not math.isfinite(lam):
        raise OrthornnError(f"lam must be a finite real number, got {lam}")
    return lam


class RUMCell(nn.Module):
    r"""One step of the RUM recurrence (RUM §3.2).

    .. math::

        (\tilde u, \tau) = W_{xh} x + W_{hh} h + b,\quad \varepsilon = W_{xe} x + b_e,\quad
        R' = R^\lambda\,\operatorname{Rotation}(\varepsilon, \tau),\quad
        h' = u \odot h + (1-u) \odot \operatorname{ReLU}(\varepsilon + R' h)

    followed by time normalisation to norm ``η`` (``eta=None``: off) and, in training mode,
    hidden-state zoneout.

    Parameters
    ----------
    input_size, hidden_size : int
        ``N_x`` and ``N``.
    lam : float
        Associative power λ. ``0`` (no memory beyond one Rotation, O(B·N) per step), ``1``
        (the paper's associative memory) or any real number (through ``so_power``).
    learn_lam : bool
        Make λ a trainable parameter (initialised at ``lam``); always uses ``so_power``.
    eta : float or None
        Time-normalisation norm η (``None``: off).
    embed_bias : bool
        Include the embedding bias ``b_e`` (the paper's; the official TF code dropped it).
    layer_norm : bool
        Layer-normalise the pre-activations of the update gate and of the target τ
        (RUM appendix D).
    memory_efficient : bool
        λ = 1 only: the backward pass recomputes ``R_{t−1} = R_t · Rotation(ε_t, τ_t)ᵀ`` instead
        of storing every ``R_t`` (the reconstruction of :func:`memory_step_recompute`, run
        inside one hand-written node per step that saves four ``(B, N)`` vectors and
        recomputes the rest), so training memory is nearly flat in the sequence length; ``R``,
        its reconstruction and ``∂L/∂R`` are updated in place (no ``B×N×N`` copy per step).
        One backward per forward pass. This selects between the two torch step paths; where the
        native λ = 1 kernel runs (:func:`sequence1`: CPU, no layer norm or zoneout) both settings
        use it, and it never stores ``R_t`` either.
    zoneout : float
        Hidden-state zoneout probability (Krueger et al. 2016, RUM appendix D): in training
        each unit keeps its previous value with this probability; in evaluation the
        expectation ``p·h_{t−1} + (1−p)·h_t`` is used.
    device, dtype
        Where and in which precision the parameters live.

    Notes
    -----
    Initialisation: the kernels are Glorot-uniform; the gate and target biases ``b`` are 1
    (RUM §3.2: a gate bias of 1 starts the cell remembering); ``b_e`` starts at 0.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 and appendix D.

    Examples
    --------
    >>> torch.manual_seed(0) is not None
    True
    >>> cell = RUMCell(3, 5, lam=1.0, eta=2.0, dtype=torch.float64)
    >>> h, R = cell(torch.randn(4, 3, dtype=torch.float64))
    >>> bool(torch.allclose(h.norm(dim=-1), torch.full((4,), 2.0, dtype=torch.float64)))
    True
    >>> eye = torch.eye(5, dtype=torch.float64).expand(4, 5, 5)
    >>> bool(torch.allclose(R @ R.transpose(-1, -2), eye))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        lam: float = 0.0,
        learn_lam: bool = False,
        eta: float | None = None,
        embed_bias: bool = True,
        layer_norm: bool = False,
        zoneout: float = 0.0,
        memory_efficient: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if memory_efficient and (learn_lam or float(lam) != 1.0):
            raise OrthornnError("memory_efficient needs a fixed lam = 1 (it inverts R_t = R_{t-1} Rotation)")
        self.memory_efficient = bool(memory_efficient)
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise OrthornnError(f"input_size and hidden_size must be positive, got {input_size}, {hidden_size}")
        if eta is not None and not (math.isfinite(eta) and eta > 0):
            raise OrthornnError(f"eta must be a positive number or None, got {eta}")
        if not 0.0 <= zoneout < 1.0:
            raise OrthornnError(f"zoneout must be in [0, 1), got {zoneout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.eta = None if eta is None else float(eta)
        self.zoneout = float(zoneout)
        n, nx = self.hidden_size, self.input_size
        kw = {"device": device, "dtype": dtype}
        #: ``[W_xh; W_xe]`` stacked, shape (3N, N_x): one GEMM projects every input.
        self.weight_x = nn.Parameter(torch.empty(3 * n, nx, **kw))
        #: ``W_hh``, shape (2N, N).
        self.weight_h = nn.Parameter(torch.empty(2 * n, n, **kw))
        #: ``b = (b_u, b_τ)``, shape (2N,).
        self.bias = nn.Parameter(torch.ones(2 * n, **kw))
        #: ``b_e``, shape (N,), or None.
        self.bias_e = nn.Parameter(torch.zeros(n, **kw)) if embed_bias else None
        lam = _check_lam(lam)
        if learn_lam:
            self.lam: Tensor | float = nn.Parameter(torch.tensor(lam, **kw))
        else:
            self.lam = lam
        self.ln_u = nn.LayerNorm(n, **kw) if layer_norm else None
        self.ln_tau = nn.LayerNorm(n, **kw) if layer_norm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform kernels, gate/target biases 1, embedding bias 0."""
        n, nx = self.hidden_size, self.input_size
        with torch.no_grad():
            bx = math.sqrt(6.0 / (nx + 2 * n))
            self.weight_x[: 2 * n].uniform_(-bx, bx)
            be = math.sqrt(6.0 / (nx + n))
            self.weight_x[2 * n :].uniform_(-be, be)
            bh = math.sqrt(6.0 / (3 * n))
            self.weight_h.uniform_(-bh, bh)
            self.bias.fill_(1.0)
            if self.bias_e is not None:
                self.bias_e.zero_()

    @property
    def has_memory(self) -> bool:
        """Whether the state carries the matrix ``R`` (every λ except a fixed 0)."""
        return isinstance(self.lam, Tensor) or self.lam != 0.0

    def extra_repr(self) -> str:
        lam = "learnable" if isinstance(self.lam, Tensor) else self.lam
        return f"{self.input_size}, {self.hidden_size}, lam={lam}, eta={self.eta}"

    def projection_bias(self) -> Tensor:
        """``[b, b_e]`` (``b_e = 0`` without the embedding bias), shape (3N,)."""
        be = self.bias_e if self.bias_e is not None else self.bias.new_zeros(self.hidden_size)
        return torch.cat([self.bias, be])

    def input_projection(self, x: Tensor) -> Tensor:
        r"""``[W_xh x + b, W_xe x + b_e]`` over any leading axes: shape (..., 3N)."""
        return torch.nn.functional.linear(x, self.weight_x, self.projection_bias())

    def initial_state(self, batch: int, *, like: Tensor) -> RUMState:
        """``h_0 = 0`` and ``R_0 = I`` (``None`` when λ = 0), on ``like``'s device and dtype."""
        h = like.new_zeros(batch, self.hidden_size)
        R = None
        if self.has_memory:
            R = torch.eye(self.hidden_size, dtype=like.dtype, device=like.device)
            R = R.expand(batch, -1, -1)
        return RUMState(h, R)

    def step(self, proj: Tensor, state: RUMState, tape: MemoryTape | None = None, t: int = 0) -> RUMState:
        """One step from a precomputed :meth:`input_projection` ``proj`` of shape (B, 3N).

        ``tape``/``t``: the memory-efficient pass of :class:`RUM` (step ``t`` of the tape)."""
        n = self.hidden_size
        h, R = state
        g = torch.addmm(proj[:, : 2 * n], h, self.weight_h.t())
        u_pre, tau = g[:, :n], g[:, n:]
        eps = proj[:, 2 * n :]
        if self.ln_u is not None and self.ln_tau is not None:
            u_pre, tau = self.ln_u(u_pre), self.ln_tau(tau)
        if not self.has_memory:
            h_new, R_new = fused_step0(u_pre, tau, eps, h), None
        else:
            if R is None:
                raise ShapeError("this RUM carries a memory R (lam != 0): the state needs R")
            if isinstance(self.lam, Tensor) or self.lam != 1.0:
                R = F_orth.so_power(R, self.lam)
            if tape is None:
                h_new, R_new = fused_step1(u_pre, tau, eps, h, R)
            else:
                h_new, R_new, bad = _FusedStep1Recompute.apply(u_pre, tau, eps, h, R, tape, t)
                tape.owned = _dead_ref if bad else weakref.ref(R_new)
                if bad:  # general path: autograd keeps R_{t−1}; the step before needs it
                    tape.R[t - 1] = R.detach()
                    h_new, R_new = _general_step1(u_pre, tau, eps, h, R)
        if self.eta is not None:
            h_new = time_normalize(h_new, self.eta)
        if self.zoneout > 0.0:
            if self.training:
                keep = torch.rand_like(h_new) < self.zoneout
                h_new = torch.where(keep, h, h_new)
            else:
                h_new = self.zoneout * h + (1.0 - self.zoneout) * h_new
        return RUMState(h_new, R_new)

    def forward(self, x: Tensor, state: RUMState | None = None) -> RUMState:
        """One step: ``x`` of shape (B, N_x); returns the new :class:`RUMState`."""
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ShapeError(f"RUMCell input must be (B, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.initial_state(x.shape[0], like=x)
        return self.step(self.input_projection(x), state)


class RUM(nn.Module):
    r"""A RUM layer over whole sequences, ``batch_first`` like ``torch.nn.RNN(batch_first=True)``.

    .. math:: h_t, R_t = \operatorname{RUMCell}(x_t, (h_{t-1}, R_{t-1})), \qquad t = 1, \dots, T

    ``forward(x, state=None) -> (output, state)`` with ``x`` of shape (B, T, N_x), ``output``
    the hidden states (B, T, N) and ``state`` the final :class:`RUMState` ``(h, R)``. Passing the
    state back in continues the sequence exactly, so chunked/truncated BPTT keeps the
    associative memory across chunks. Keyword arguments are those of :class:`RUMCell`.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2.

    Examples
    --------
    Two chunks with the carried state give the one-shot result:

    >>> _ = torch.manual_seed(0)
    >>> rum = RUM(2, 4, lam=1.0, dtype=torch.float64)
    >>> x = torch.randn(3, 6, 2, dtype=torch.float64)
    >>> y, (h, R) = rum(x)
    >>> y1, s1 = rum(x[:, :4]); y2, (h2, R2) = rum(x[:, 4:], s1)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y)) and bool(torch.allclose(R2, R))
    True
    """

    def __init__(self, input_size: int, hidden_size: int, **cell_kwargs: object) -> None:
        super().__init__()
        self.cell = RUMCell(input_size, hidden_size, **cell_kwargs)  # type: ignore[arg-type]
        self.input_size, self.hidden_size = self.cell.input_size, self.cell.hidden_size

    def forward(self, x: Tensor, state: RUMState | None = None) -> tuple[Tensor, RUMState]:
        """Run the cell over ``x`` (B, T, N_x); return outputs (B, T, N) and the final state."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(f"RUM input must be (B, T, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.cell.initial_state(x.shape[0], like=x)
        else:
            state = RUMState(*state)
        cell = self.cell
        if cell.ln_u is None and cell.zoneout == 0.0:
            if not cell.has_memory:
                hs = sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, state.h, cell.eta)
                if hs is not None:  # one autograd node for the whole sequence
                    return hs.transpose(0, 1), RUMState(hs[-1], None)
            elif not isinstance(cell.lam, Tensor) and cell.lam == 1.0 and state.R is not None:
                out = sequence1(x, cell.weight_x, cell.projection_bias(), cell.weight_h, state.h, state.R, cell.eta)
                if out is not None:  # the native λ = 1 sequence kernel
                    return out[0].transpose(0, 1), RUMState(out[0][-1], out[1])
        tape = MemoryTape() if self.cell.memory_efficient and torch.is_grad_enabled() else None
        if tape is None:
            # one GEMM for every time step, sliced once (indexing proj[:, t] in the loop makes
            # backward O(T²))
            projs: Iterable[Tensor] = cell.input_projection(x).unbind(1)
        else:
            # one small GEMM per step: its gradient goes straight into ∂W_x instead of waiting in
            # a (B, T, 3N) buffer for the whole backward (memory flat in T)
            bias = cell.projection_bias()
            projs = (torch.nn.functional.linear(x_t, cell.weight_x, bias) for x_t in x.unbind(1))
        outputs = []
        for t, proj_t in enumerate(projs, start=1):
            state = self.cell.step(proj_t, state, tape, t)
            outputs.append(state.h)
        if tape is not None and state.R is not None:  # a copy: the backward rebuilds R_{t−1} in it
            tape.R[x.shape[1]] = state.R.detach().clone()
        return torch.stack(outputs, 1), state
