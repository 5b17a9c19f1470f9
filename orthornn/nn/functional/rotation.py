r"""The Rotation operation of RUM (eq. 1) in torch: differentiable, batched, device-agnostic.

The twin of :mod:`orthornn.numeric.rotation`, with the same conventions and the same algorithm:
``R = I + α(v âᵀ − â vᵀ) − β â âᵀ − γ v vᵀ`` with the division-free form for ``c > 0``, the orthonormal-frame form
for ``c ≤ 0`` and the canonical plane for exactly antiparallel pairs (see that module and
``docs/rotation.md``). Every branch is evaluated on *safe* arguments (``torch.where`` selects
a harmless value before any ``sqrt`` or division), so the branch that is not taken never
produces NaN or inf, in the forward pass or in the backward pass.

Inputs are not checked for NaN/inf (that would force a device synchronisation on every
call); a non-finite input gives a non-finite output, never a finite wrong one.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1,
eq. (1); ``docs/rotation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from ...errors import ShapeError
from ...numeric.rotation import check_rotatable, plane_coefficients

__all__ = ["rotate", "rotation"]


class _Plane(NamedTuple):
    """``R = I + α(v âᵀ − â vᵀ) − β â âᵀ − γ v vᵀ`` for a batch; ``α, β, γ`` have shape ``(..., 1)``.

    As in :class:`orthornn.numeric.rotation._Plane`; ``antiparallel`` marks the θ = π rows.
    """

    ahat: Tensor
    v: Tensor
    alpha: Tensor
    beta: Tensor
    gamma: Tensor
    antiparallel: Tensor


def _dot(p: Tensor, q: Tensor) -> Tensor:
    return (p * q).sum(-1)


def _unit(z: Tensor) -> tuple[Tensor, Tensor]:
    """``z/‖z‖`` scaled by ``max|z|`` first, and the mask ``z == 0``.

    The scale is detached: ``R`` is invariant under positive scaling, so its derivatives through
    the scale vanish identically, at every order. (``max|z|`` is taken as ``max(max z, −min z)``:
    float64 ``abs`` is several times slower than two reductions on CPU.)
    """
    zd = z.detach()
    big = torch.maximum(zd.amax(-1, keepdim=True), -zd.amin(-1, keepdim=True))
    zero = big == 0
    y = z / torch.where(zero, 1, big)
    norm = torch.sqrt(torch.where(zero, 1, (y * y).sum(-1, keepdim=True)))
    return y * (1 / norm), zero[..., 0]


def _canonical_partner(a: Tensor, ahat: Tensor) -> Tensor:
    """Unit vector along ``e_k − â_k â``, ``k = argmin |a_k|`` (first on ties); 0 if ``n = 1``."""
    n = ahat.shape[-1]
    k = _first_argmin(a.detach().abs())
    e_k = (torch.arange(n, device=ahat.device) == k).to(ahat.dtype)
    p = e_k - torch.gather(ahat, -1, k) * ahat
    n2 = (p * p).sum(-1, keepdim=True)
    return p / torch.sqrt(torch.where(n2 > 0, n2, 1))


def _first_argmin(z: Tensor) -> Tensor:
    """Index of the first smallest entry along the last axis, shape ``(..., 1)``.

    ``torch.argmin`` does not promise the first index on ties (CUDA may return another).
    """
    n = z.shape[-1]
    idx = torch.arange(n, device=z.device).expand_as(z)
    is_min = z == z.amin(-1, keepdim=True)
    return torch.where(is_min, idx, n).amin(-1, keepdim=True).clamp(max=n - 1)  # NaN rows: n - 1


def _needed(mask: Tensor) -> bool:
    """Whether a branch must be evaluated: ``mask.any()`` on CPU (free), always elsewhere (no sync).

    Under transforms without data-dependent control flow (``torch.func.vmap``) it is always.
    """
    if mask.device.type != "cpu":
        return True
    try:
        return bool(mask.any())
    except RuntimeError:  # vmap: a batched tensor has no single truth value
        return True


def _plane(a: Tensor, b: Tensor) -> _Plane:
    """Branch decisions and plane of ``R(a, b)`` for broadcast batches ``(..., n)``.

    The branch logic is :func:`orthornn.numeric.rotation.plane_coefficients`, run on torch.
    """
    ahat, a_zero = _unit(a)
    bhat, b_zero = _unit(b)
    valid = ~(a_zero | b_zero)
    v, alpha, beta, gamma, antiparallel = plane_coefficients(ahat, bhat, valid, torch)
    if _needed(antiparallel):
        v = torch.where(antiparallel[..., None], _canonical_partner(a, ahat), v)
    alpha, beta, gamma = (torch.where(valid, t, 0)[..., None] for t in (alpha, beta, gamma))
    return _Plane(ahat, v, alpha, beta, gamma, antiparallel)


def _vectors(tensors: Sequence[Tensor], names: Sequence[str]) -> list[Tensor]:
    """Broadcast ``(..., n)`` tensors to a common batch shape and floating dtype."""
    for t, nm in zip(tensors, names, strict=True):
        if not isinstance(t, Tensor):
            raise TypeError(f"{nm} must be a torch.Tensor, got {type(t).__name__}")
        if t.is_complex():
            raise TypeError(f"{nm} must be real, got dtype {t.dtype}")
    desc = ", ".join(f"{nm} {tuple(t.shape)}" for t, nm in zip(tensors, names, strict=True))
    if any(t.ndim < 1 for t in tensors):
        raise ShapeError(f"vectors must have shape (..., n), got a scalar; shapes: {desc}")
    sizes = {t.shape[-1] for t in tensors}
    if len(sizes) != 1:
        raise ShapeError(f"vectors must have the same length n; got {desc}")
    n = sizes.pop()
    if n == 0:
        raise ShapeError(f"vectors must have length n ≥ 1; got {desc}")
    try:
        batch = torch.broadcast_shapes(*(t.shape[:-1] for t in tensors))
    except RuntimeError:
        raise ShapeError(f"batch dimensions do not broadcast: {desc}") from None
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    return [t.to(dtype).expand(*batch, n) for t in tensors]


def _checked_plane(a: Tensor, b: Tensor) -> _Plane:
    f = _plane(a, b)
    check_rotatable(a.shape[-1], f.antiparallel)  # synchronises, but only for n = 1
    return f


def rotation(a: Tensor, b: Tensor) -> Tensor:
    r"""Rotation in span(a, b) taking :math:`a/\lVert a\rVert` to :math:`b/\lVert b\rVert` (RUM eq. 1).

    .. math::

        R = I + K + \frac{K^2}{1 + c},\quad K = \hat b\hat a^\top - \hat a\hat b^\top,
        \quad c = \hat a\cdot\hat b

    The differentiable twin of :func:`orthornn.rotation`, with the same conventions: ``a = 0``,
    ``b = 0`` or ``b = βa`` (β > 0) give the identity, ``b = βa`` (β < 0) the rotation by π in
    span(â, p) with ``p`` the canonical partner of â. Gradients are finite everywhere (exactly
    parallel pairs included); across the antiparallel point ``R`` is discontinuous, as any
    choice must be.

    Parameters
    ----------
    a, b : Tensor, shape ``(..., n)``
        Batches of vectors on the same device; leading dimensions broadcast; dtypes promote
        (integer inputs become the default floating dtype).

    Returns
    -------
    Tensor, shape ``(..., n, n)``
        Orthogonal, determinant +1, on the device of the inputs.

    Raises
    ------
    ShapeError
        If the last dimensions differ, the batch dimensions do not broadcast, or ``n = 0``.
    OrthornnError
        If ``n = 1`` and ``a, b`` have opposite signs.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1, eq. (1).

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> b = torch.tensor([0.0, 3.0, -4.0], dtype=torch.float64)
    >>> R = rotation(a, b)
    >>> bool(torch.allclose(R.T @ R, torch.eye(3, dtype=torch.float64)))
    True
    >>> bool(torch.allclose(R @ (a / 3), b / 5))
    True
    >>> R.sum().backward(); bool(torch.isfinite(a.grad).all())
    True
    """
    a_, b_ = _vectors([a, b], ["a", "b"])
    f = _checked_plane(a_, b_)
    n = a_.shape[-1]
    x = f.alpha * f.v - f.beta * f.ahat  # R = I + x âᵀ + y vᵀ
    y = -(f.alpha * f.ahat + f.gamma * f.v)
    eye = torch.eye(n, dtype=a_.dtype, device=a_.device)
    return eye + x[..., :, None] * f.ahat[..., None, :] + y[..., :, None] * f.v[..., None, :]


def rotate(a: Tensor, b: Tensor, h: Tensor) -> Tensor:
    r"""Apply :func:`rotation` ``(a, b)`` to ``h`` in O(n) per vector, without forming the matrix.

    .. math::

        R h = h + K h + \frac{K^2 h}{1 + c}
            = h + \sin\theta\,\bigl(u_b (u_a\cdot h) - u_a (u_b\cdot h)\bigr)
              + (\cos\theta - 1)\bigl(u_a (u_a\cdot h) + u_b (u_b\cdot h)\bigr)

    Parameters
    ----------
    a, b, h : Tensor, shape ``(..., n)``
        Leading dimensions broadcast against each other.

    Returns
    -------
    Tensor, shape ``(..., n)``
        ``rotation(a, b) @ h`` up to rounding; differentiable in ``a``, ``b`` and ``h``.

    Raises
    ------
    ShapeError, OrthornnError
        As for :func:`rotation`.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1, eq. (1).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> a, b, h = torch.randn(3, 5, 8, generator=g, dtype=torch.float64)
    >>> Rh = rotate(a, b, h)
    >>> bool(torch.allclose(Rh, (rotation(a, b) @ h[..., None])[..., 0]))
    True
    >>> bool(torch.allclose(Rh.norm(dim=-1), h.norm(dim=-1)))
    True
    """
    a_, b_, h_ = _vectors([a, b, h], ["a", "b", "h"])
    f = _checked_plane(a_, b_)
    p, q = _dot(f.ahat, h_)[..., None], _dot(f.v, h_)[..., None]
    return h_ + f.ahat * (-f.beta * p - f.alpha * q) + f.v * (f.alpha * p - f.gamma * q)
