r"""The rotation frame of a pair ``(ε, τ)`` and what every RUM memory path shares (RUM §3.1, §3.2).

.. math::

    \hat a = \frac{\varepsilon}{\lVert\varepsilon\rVert},\quad \hat b = \frac{\tau}{\lVert\tau\rVert},\quad
    c = \hat a\cdot\hat b = \cos\theta,\quad w = \hat b - c\,\hat a,\qquad
    \operatorname{Rotation}(\varepsilon, \tau) = I + K + \frac{K^2}{1 + c},\quad K = w\hat a^T - \hat a w^T

Every path computes the frame ``(â, w, c)`` of its step (:func:`_frame`, :func:`_frame_parts`;
the adjoint :func:`_frame_backward`) and sends a batch in which some pair is zero or
``1 + c <`` :data:`FAST_PATH_MIN_1PC` to the general :func:`orthornn.nn.functional.rotate`
(identity for zero vectors, the canonical plane for antiparallel pairs: docs/conventions.md).
Also shared: the matrix-free ``Rotation(ε, τ) h`` (:func:`rotate_step`), the time normalisation
of §3.2 (:func:`time_normalize`) and the guard that keeps second derivatives out of the
hand-written backwards (:func:`_first_order_only`).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.1 (the Rotation, eq. 1) and
§3.2 (time normalisation).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .. import functional as F_orth

__all__ = ["FAST_PATH_MIN_1PC", "rotate_step", "time_normalize"]


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
