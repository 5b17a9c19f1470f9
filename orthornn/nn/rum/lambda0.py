r"""λ = 0: the memory is one Rotation per step, applied matrix-free in O(B·N) (RUM §3.2, λ = 0).

.. math::

    R h &= h + w\Big(p - \frac{q}{1 + c}\Big) - \hat a\big(q + (1 - c)\,p\big),\qquad
        R = \operatorname{Rotation}(\varepsilon, \tau),\quad p = \hat a\cdot h,\ q = w\cdot h \\
    h' &= u \odot h + (1 - u) \odot \operatorname{ReLU}(\varepsilon + R h),\qquad u = \operatorname{sigmoid}(\tilde u)

(the frame ``â, w, c`` of :mod:`orthornn.nn.rum.frame`). Two paths:

* the step, :func:`fused_step0`: the update after the GEMM as one autograd node with a
  hand-derived backward (:class:`_FusedStep0`); :class:`~orthornn.nn.rum.RUMCell` runs it, and
  :class:`~orthornn.nn.rum.RUM` with layer norm or zoneout, or after the sequence node declined;
* the sequence node, :func:`sequence0`: the whole sequence, input projection included, as one
  node (:class:`_Sequence0`), in the equivalent form
  ``R = I − (â + b̂)(â + b̂)ᵀ/(1 + c) + 2 b̂ âᵀ``. Its per-step work runs as one fused C loop
  per step and direction (:func:`orthornn.nn.kernels.rum0`, ``kernels/rum0_step.h``) on CPU in
  float32/float64, otherwise as torch operations (:func:`_seq0_step`,
  :func:`_seq0_step_backward`, the reference the C step is tested against).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.1 (eq. 1) and §3.2.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import kernels
from ..workspace import SEQUENCE_WORKSPACE
from .frame import FAST_PATH_MIN_1PC, _first_order_only, _frame_backward, _frame_parts, rotate_step
from .sequence_node import _check_sequence_args, _project_sequence, _WeightGrads

__all__ = ["SEQ0_CHUNK_ROWS", "fused_step0", "sequence0"]


#: Rows (steps × batch) of one chunk of the λ = 0 sequence backward: the weight gradients are one
#: GEMM per chunk over this many rows (enough for full GEMM speed), and the chunk's ∂(ũ, τ, ε)
#: buffer is reused from chunk to chunk.
SEQ0_CHUNK_ROWS = 4096


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
    >>> from orthornn.nn.rum import RUMCell, RUMState
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
