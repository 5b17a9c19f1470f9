r"""λ = 1, memory-efficient: the backward rebuilds ``R_{t−1}`` from ``R_t`` instead of storing it.

.. math::

    R_{t-1} = R_t\,\operatorname{Rotation}(\varepsilon_t, \tau_t)^T
            = R_t + (R_t \hat a)\, x^T + (R_t w)\, y^T

(``Rotation`` is orthogonal; ``x, y`` and the frame as in :mod:`orthornn.nn.rum.stored`), so a
pass of RUM §3.2's associative memory trains with memory flat in the sequence length. The
:class:`MemoryTape` hands the memories backwards between the steps of one pass (one backward
per forward pass): :func:`fused_step1_recompute` is the whole cell after the GEMM as one node
(:class:`_FusedStep1Recompute`, four ``(B, N)`` vectors saved per step, ``R`` and its
reconstruction updated in place), what :class:`~orthornn.nn.rum.RUM` runs with
``memory_efficient=True``; :func:`memory_step_recompute` is the memory step alone. Degenerate
steps take the stored general path and put their ``R_{t−1}`` on the tape.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (the memory whose
orthogonality the reconstruction uses).
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import Tensor

from .frame import _first_order_only, _frame, _frame_parts
from .stored import _general_step1, _memory_factors, _step1_backward

__all__ = ["MemoryTape", "fused_step1_recompute", "memory_step_recompute"]


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

    >>> from orthornn.nn.rum import memory_step
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


def fused_step1_recompute(
    u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor, tape: MemoryTape, t: int
) -> tuple[Tensor, Tensor]:
    r"""Step ``t`` of a memory-efficient pass: :func:`~orthornn.nn.rum.stored.fused_step1` whose backward
    rebuilds ``R_{t−1}`` from the ``R_t`` on ``tape`` instead of storing it.

    .. math:: R_t = R_{t-1}\operatorname{Rotation}(\varepsilon_t, \tau_t),\quad
              h' = u \odot h + (1 - u) \odot \operatorname{ReLU}(\varepsilon + R_t h),\qquad
              R_{t-1} = R_t\operatorname{Rotation}(\varepsilon_t, \tau_t)^T \text{ (backward)}

    Steps ``t = 1 … T`` of one pass share ``tape``; after the last put a copy of the final memory on
    it (``tape.R[T] = R_T.detach().clone()``: the backward rebuilds the memories in it), as
    :class:`~orthornn.nn.rum.RUM` does. ``R`` is updated in place when the previous step of the
    pass wrote it (never the caller's initial memory). A batch with a zero or nearly
    antiparallel pair takes the general path (:func:`~orthornn.nn.rum.stored.memory_step`), whose
    node keeps ``R_{t−1}``, and hands that to the tape for the step before.

    >>> from orthornn.nn.rum import fused_step1
    >>> g = torch.Generator().manual_seed(4)
    >>> u_pre, tau, eps, h = (torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(4))
    >>> R0 = torch.eye(4, dtype=torch.float64).expand(3, 4, 4)
    >>> tape = MemoryTape()
    >>> out, R1 = fused_step1_recompute(u_pre, tau, eps, h, R0, tape, 1); tape.R[1] = R1.detach().clone()
    >>> ga = torch.autograd.grad(out.sum() + R1.sum(), [u_pre, tau, eps, h])
    >>> gb = torch.autograd.grad(sum(t.sum() for t in fused_step1(u_pre, tau, eps, h, R0)), [u_pre, tau, eps, h])
    >>> all(torch.allclose(a, b) for a, b in zip(ga, gb))
    True
    """
    h_new, R_new, bad = _FusedStep1Recompute.apply(u_pre, tau, eps, h, R, tape, t)
    tape.owned = _dead_ref if bad else weakref.ref(R_new)
    if bad:  # general path: autograd keeps R_{t−1}; the step before needs it
        tape.R[t - 1] = R.detach()
        h_new, R_new = _general_step1(u_pre, tau, eps, h, R)
    return h_new, R_new
