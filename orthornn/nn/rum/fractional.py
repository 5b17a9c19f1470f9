r"""Fractional associative memory: ``R_t = (R_{t−1})^λ · Rotation(ε_t, τ_t)`` for any real λ (RUM §5.2).

.. math::

    R_t = \exp\bigl(\lambda \log R_{t-1}\bigr)\,\operatorname{Rotation}(\varepsilon_t, \tau_t),\qquad
    h'_t = u_t \odot h_{t-1} + (1 - u_t) \odot \operatorname{ReLU}(\varepsilon_t + R_t h_{t-1})

The path of every λ but a fixed 0 or 1, and of a learned λ (``learn_lam=True``, also when it
starts at 1). The power goes through the differentiable :func:`orthornn.nn.functional.so_power`
(the principal logarithm, with the branch convention of docs/conventions.md at eigenphase π;
gradients in ``R`` and in λ), then the λ = 1 rank-2 update of the cell after the GEMM
(:func:`orthornn.nn.rum.stored.fused_step1`). The power costs a batched spectral decomposition
of ``R_{t−1}`` per step, against O(B·N²) for the update. :func:`fractional_step` is the one
entry point: "``R^λ``, then the rank-2 update" lives here and nowhere else.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (the memory ``R^λ``) and §5.2
(real λ).
"""

from __future__ import annotations

from torch import Tensor

from .. import functional as F_orth
from .stored import fused_step1

__all__ = ["fractional_step"]


def fractional_step(
    u_pre: Tensor, tau: Tensor, eps: Tensor, h: Tensor, R: Tensor, lam: Tensor | float
) -> tuple[Tensor, Tensor]:
    r"""One RUM step with a fractional memory, after the GEMM: ``R' = R^λ · Rotation(ε, τ)`` and the gate.

    .. math:: R' = R^\lambda\,\operatorname{Rotation}(\varepsilon, \tau),\quad
              h' = u \odot h + (1 - u) \odot \operatorname{ReLU}(\varepsilon + R' h),\quad
              u = \operatorname{sigmoid}(\tilde u)

    Parameters
    ----------
    u_pre, tau, eps, h : Tensor, shape (B, N)
        The gate pre-activation ``ũ``, the target ``τ``, the embedded input ``ε`` and ``h_{t−1}``.
    R : Tensor, shape (B, N, N)
        The memory ``R_{t−1}``, a rotation.
    lam : float or Tensor
        λ; a 0-d tensor (the learned parameter) receives a gradient.

    Returns
    -------
    ``(h', R')``, shapes (B, N) and (B, N, N).

    Examples
    --------
    ``R^0 = I`` gives the λ = 0 cell; the half power squares back to ``R``:

    >>> import torch
    >>> from orthornn.nn.rum import fused_step0
    >>> g = torch.Generator().manual_seed(5)
    >>> u_pre, tau, eps, h = torch.randn(4, 2, 5, generator=g, dtype=torch.float64)
    >>> A = torch.randn(2, 5, 5, generator=g, dtype=torch.float64)
    >>> R = F_orth.so_exp(A - A.mT)
    >>> out, _ = fractional_step(u_pre, tau, eps, h, R, 0.0)
    >>> bool(torch.allclose(out, fused_step0(u_pre, tau, eps, h)))
    True
    >>> half = fractional_step(u_pre, tau, eps, h, R, 0.5)[1] @ F_orth.rotation(eps, tau).mT
    >>> bool(torch.allclose(half @ half, R))
    True
    """
    return fused_step1(u_pre, tau, eps, h, F_orth.so_power(R, lam))
