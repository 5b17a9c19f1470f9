r"""λ = 1 with every ``R_t`` kept for autograd: the associative memory as a rank-2 update (RUM §3.2).

.. math::

    \operatorname{Rotation}(\varepsilon, \tau) &= I + x\hat a^T + y w^T,\qquad
        x = w - (1 - c)\,\hat a,\quad y = -\Big(\hat a + \frac{w}{1 + c}\Big) \\
    R_t &= R_{t-1} + (R_{t-1} x)\,\hat a^T + (R_{t-1} y)\, w^T,\qquad
    R_t h = R_{t-1} h + (R_{t-1} x)(\hat a\cdot h) + (R_{t-1} y)(w\cdot h)

(the frame ``â, w, c`` of :mod:`orthornn.nn.rum.frame`): O(B·N²) per step, the ``N×N`` Rotation
never formed. :func:`memory_update` gives ``R_t`` alone, :func:`memory_step` ``R_t`` and
``R_t h`` with one 3-column pass over ``R_{t−1}`` (a hand-written node, :class:`_MemoryStep`),
:func:`fused_step1` the whole cell after the GEMM as one node (:class:`_FusedStep1`). A batch
with a zero or nearly antiparallel pair goes through :func:`orthornn.nn.functional.rotate` on
the rows of ``R`` (:func:`_general_step1`). The fractional path
(:mod:`orthornn.nn.rum.fractional`) runs :func:`fused_step1` after ``R^λ``; the memory-efficient
one (:mod:`orthornn.nn.rum.recompute`) shares its backward (:func:`_step1_backward`).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (the associative memory).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import functional as F_orth
from .frame import _first_order_only, _Frame, _frame, _frame_backward, _frame_parts

__all__ = ["fused_step1", "memory_step", "memory_update"]


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
