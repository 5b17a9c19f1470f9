r"""λ = 1 over a whole sequence as one autograd node in the native kernel (RUM §3.2, λ = 1).

.. math::

    R_t = R_{t-1}\operatorname{Rotation}(\varepsilon_t, \tau_t),\qquad
    h_t = \operatorname{lerp}\bigl(\operatorname{ReLU}(\varepsilon_t + R_t h_{t-1}),\ h_{t-1},\ u_t\bigr)
    \ [\,\eta\text{-normalised}\,]

with the rank-2 update of :mod:`orthornn.nn.rum.stored`, run batch-outer and time-inner in C
(``orthornn/nn/kernels/rum1_step.h``, :func:`orthornn.nn.kernels.rum1`): one element's memory,
its gradient and ``W_hh`` stay in cache for the whole sequence. The backward rebuilds
``R_{t−1} = R_t · Rotation(ε_t, τ_t)ᵀ`` (the reconstruction of
:mod:`orthornn.nn.rum.recompute`) in a copy of ``R_T``, so no ``R_t`` is kept either way. There
is no torch twin of this node: without the kernel (no compiler, ``ORTHORNN_NATIVE=0``, not CPU
float32/float64) :func:`sequence1` declines and :class:`~orthornn.nn.rum.RUM` runs the torch
step path, which the kernel is tested against (``tests/nn/test_kernels.py``).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import kernels
from ..workspace import SEQUENCE_WORKSPACE
from .frame import FAST_PATH_MIN_1PC, _first_order_only
from .sequence_node import _check_sequence_args, _project_sequence, _WeightGrads

__all__ = ["sequence1"]


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
    >>> from orthornn.nn.rum import RUM, RUMState
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
