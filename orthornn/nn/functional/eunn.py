r"""Differentiable Givens-mesh application (the torch twin of :func:`orthornn.apply_mesh`).

Each layer is applied as an elementwise multiply plus a permutation, never as a dense matrix:

.. math:: \Lambda x = c \odot x + s \odot x_{\sigma},\qquad
          c_i = c_j = \cos\theta,\quad s_i = -\sin\theta,\quad s_j = \sin\theta,\quad \sigma = (i\ j)

for every pair :math:`(i, j)` of the layer (:math:`c = 1`, :math:`s = 0` on unpaired indices),
so a mesh of depth :math:`L` costs :math:`O(nL)` (Jing et al. 2017, §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ...errors import OrthornnError, ShapeError

__all__ = ["MeshTables", "givens_mesh", "mesh_tables"]


class MeshTables(NamedTuple):
    """Index tables of a layout, shape ``(L, n)`` each: the permutation swapping the pairs of each
    layer, the phase index read at each position, and the sign of the sine there (−1 at the first
    index of a pair, +1 at the second, 0 where unpaired)."""

    perm: torch.Tensor
    slot: torch.Tensor
    sgn: torch.Tensor


def mesh_tables(
    pairs: Sequence[np.ndarray | Sequence[Sequence[int]]],
    n: int,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> MeshTables:
    """Build :class:`MeshTables` for a layout given as pairs per layer (disjointness is checked).

    >>> t = mesh_tables([[(0, 1)], [(1, 2)]], 3)
    >>> t.perm.tolist(), t.sgn.tolist()
    ([[1, 0, 2], [0, 2, 1]], [[-1.0, 1.0, 0.0], [0.0, -1.0, 1.0]])
    """
    L = len(pairs)
    perm = np.tile(np.arange(n), (L, 1))
    slot = np.zeros((L, n), dtype=np.int64)
    sgn = np.zeros((L, n))
    start = 0
    for l, layer in enumerate(pairs):
        arr = np.asarray(layer, dtype=np.int64).reshape(-1, 2)
        if arr.size and (arr.min() < 0 or arr.max() >= n or len(np.unique(arr)) != arr.size):
            raise OrthornnError(f"layer {l}: pairs must be disjoint indices in 0..{n - 1}, got {arr.tolist()}")
        i, j = arr[:, 0], arr[:, 1]
        perm[l, i], perm[l, j] = j, i
        slot[l, i] = slot[l, j] = start + np.arange(len(arr))
        sgn[l, i], sgn[l, j] = -1.0, 1.0
        start += len(arr)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    return MeshTables(
        perm=torch.as_tensor(perm, device=device),
        slot=torch.as_tensor(slot, device=device),
        sgn=torch.as_tensor(sgn, device=device, dtype=dtype),
    )


def apply_tables(
    x: torch.Tensor,
    phases: torch.Tensor,
    tables: MeshTables,
    signs: torch.Tensor | None = None,
    *,
    transpose: bool = False,
) -> torch.Tensor:
    """:func:`givens_mesh` with prebuilt tables (what :class:`orthornn.nn.EUNN` calls)."""
    perm, slot, sgn = tables
    L = perm.shape[0]
    if L and phases.shape[-1]:
        th = phases[..., slot]  # (..., L, n)
        paired = sgn != 0
        c = torch.where(paired, torch.cos(th), torch.ones_like(th))
        s = sgn * torch.sin(th)
    else:
        c = s = None
    # unbind once: slicing c[..., l, :] per layer would make every slice's backward allocate (L, n)
    cl = c.unbind(-2) if c is not None else ()
    sl = s.unbind(-2) if s is not None else ()
    if transpose:
        if signs is not None:
            x = x * signs
        for l in reversed(range(len(cl))):
            x = torch.addcmul(x * cl[l], torch.index_select(x, -1, perm[l]), sl[l], value=-1.0)
        return x
    for l in range(len(cl)):
        x = torch.addcmul(x * cl[l], torch.index_select(x, -1, perm[l]), sl[l])
    if signs is not None:
        x = x * signs
    return x


def givens_mesh(
    x: torch.Tensor,
    phases: torch.Tensor,
    pairs: Sequence[np.ndarray | Sequence[Sequence[int]]],
    signs: torch.Tensor | None = None,
    *,
    transpose: bool = False,
) -> torch.Tensor:
    r"""Apply the Givens mesh :math:`U = D\,\Lambda_{L-1}\cdots\Lambda_0` to the last axis of ``x``.

    .. math:: y = U x,\qquad (G(i, j, \theta)x)_i = x_i\cos\theta - x_j\sin\theta,\quad
              (G(i, j, \theta)x)_j = x_i\sin\theta + x_j\cos\theta

    Differentiable in ``x`` and ``phases``; runs on their device. ``phases`` is ``(..., P)``
    (layer-major, batch dimensions broadcast with ``x``'s), ``signs`` the ±1 diagonal ``(n,)``.
    ``transpose=True`` applies :math:`U^\top = U^{-1}`.

    References
    ----------
    Jing et al. (2017), *Tunable EUNN*, §3; RUM (Dangovski, Jing, Soljačić 2017), §5.2.

    Examples
    --------
    >>> th = torch.tensor([0.3, -1.1, 0.7])
    >>> x = torch.tensor([[1.0, 2.0, 3.0]])
    >>> y = givens_mesh(x, th, [[(0, 1)], [(1, 2)], [(0, 1)]])
    >>> bool(torch.allclose(y.norm(), x.norm()))
    True
    >>> bool(torch.allclose(givens_mesh(y, th, [[(0, 1)], [(1, 2)], [(0, 1)]], transpose=True), x))
    True
    """
    n = x.shape[-1]
    tables = mesh_tables(pairs, n, device=x.device, dtype=phases.dtype)
    P = int((tables.sgn > 0).sum())
    if phases.shape[-1] != P:
        raise ShapeError(f"phases must have shape (..., {P}) for these pairs, got {tuple(phases.shape)}")
    return apply_tables(x, phases, tables, signs, transpose=transpose)
