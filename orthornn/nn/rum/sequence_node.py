r"""What the two whole-sequence nodes share: the λ = 0 node (:mod:`orthornn.nn.rum.lambda0`) and
the native λ = 1 node (:mod:`orthornn.nn.rum.native`).

.. math::

    P_t = [W_x,\ b]\,[x_t;\ 1],\qquad
    \partial W_{hh} = \sum_t \partial g_t\, h_{t-1}^T,\qquad
    [\partial W_x,\ \partial b] = \sum_t \partial P_t\,[x_t;\ 1]^T,\qquad
    \partial x_t = W_x^T\, \partial P_t

with ``P_t`` the input projection of step ``t``, and ``∂P_t = ∂(ũ_t, τ_t, ε_t)``,
``∂g_t = ∂(ũ_t, τ_t)`` what the node's adjoint loop leaves. Here: the checks of the arguments
(:func:`_check_sequence_args`), the projections of all steps as one GEMM into a time-major
buffer lent by :data:`orthornn.nn.workspace.SEQUENCE_WORKSPACE` (:func:`_project_sequence`), and
the parameter and input gradients as one GEMM each per block of steps (:class:`_WeightGrads`).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (the cell both nodes run).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...errors import OrthornnError, ShapeError
from ..workspace import SEQUENCE_WORKSPACE

__all__: list[str] = []


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
