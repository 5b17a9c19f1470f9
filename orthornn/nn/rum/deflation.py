r"""The memory's angle-0 block folded into one plane, so that a step solves only its active part (issue 12).

A fractional power forgets. ``R ↦ R^λ`` multiplies every angle by λ, so with ``|λ| < 1`` the
angles of old rotations fall geometrically towards 0. The eigen-update's deflation then snaps
them to exactly 0. From then on, the memory ``R_t = Q_t blockdiag(M(φ_t)) Q_tᵀ`` (RUM §5.2) is the
identity on a block ``Z`` of trailing columns of ``Q_t``. In the copy benchmark at λ = 0.5 and
N = 100, about 40 of the 50 planes are in that block after a few steps. On ``Z`` we have ``D = I``,
and every orthonormal basis of ``Z`` is an eigenbasis. Two Householder reflectors
``H = H₁H₂`` acting on ``Z`` carry ``Z``'s part of ``α = Q'ᵀâ`` and ``β = Q'ᵀŵ`` onto its first two
columns:

.. math::

    H^T \alpha_Z = (r_{11}, 0, \dots, 0),\qquad H^T \beta_Z = (r_{12}, r_{22}, 0, \dots, 0),

so in the basis ``Q'' = Q' diag(I_k, H)`` the step's matrix splits, ``A_t = A_s ⊕ I``, with ``A_s``
of size ``k + 2``. Here k is the number of leading columns that hold a nonzero angle in some row
of the batch. The eigen-update runs on ``A_s``, and ``Q_t = Q'' (W_s ⊕ I)``. The step's GEMMs then
cost ``N(k+2)²`` instead of ``N³``, and the reflectors ``O(N·(N − k))``. The exact arithmetic is
unchanged: ``A_t`` is the same matrix, written in another eigenbasis of ``R_{t−1}^λ``.

The backward (:mod:`orthornn.nn.rum.spectral`) works in ``Q''`` and maps the result back by
``Ĝ' = diag(I, H) Ĝ'' diag(I, H)ᵀ`` and ``Q' = Q'' diag(I, Hᵀ)``. ``Q'`` must come back exactly,
because the previous step's ``W`` was computed in it. A block of fewer than three columns is
not worth folding (:func:`active_columns`).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §5.2; Golub & Van Loan, *Matrix
Computations* (4th ed.), §5.1 (Householder reflections) and §8.5.3 (deflation of an eigen-update).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import kernels

__all__ = ["Deflation", "active_columns"]


def active_columns(phi: Tensor, n: int) -> int:
    """The k leading columns that hold every nonzero angle of the batch (even), or ``n`` when the
    trailing angle-0 block has fewer than three columns (nothing worth folding).

    Parameters
    ----------
    phi : Tensor, shape (B, N//2)
        The memory's plane angles (float64); a plane is in the block when its angle is exactly 0
        (the eigen-update's deflation puts it there).
    n : int
        N.
    """
    nonzero = (phi != 0).any(0).nonzero()
    k = 0 if nonzero.numel() == 0 else 2 * (int(nonzero.max()) + 1)
    return k if n - k >= 3 else n


def _reflector(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(v, r)`` with ``(I − 2vvᵀ) x = r e₁`` for each row of ``x`` (B, p): ``v`` a unit vector,
    or 0 where ``x = 0`` (the reflector is then ``I``). The sign is chosen against cancellation."""
    nx = x.norm(dim=-1)
    s = torch.where(x[:, 0] >= 0, 1.0, -1.0).to(x.dtype)
    v = x.clone()
    v[:, 0] += s * nx
    nv = v.norm(dim=-1, keepdim=True)
    v = torch.where(nv > 0, v / torch.where(nv > 0, nv, 1.0), 0.0)
    return v, torch.where(nx > 0, -s * nx, 0.0)


class Deflation:
    """The reflectors ``H = H₁H₂`` of one step, on the columns ``k:`` (module docstring), applied in
    the compact WY form ``H = I − V S Vᵀ``, ``V = [v₁, v₂]``, ``S = [[2, −4 v₁·v₂], [0, 2]]``: one
    rank-2 update per product instead of two rank-1 ones (Golub & Van Loan §5.1.7).

    Build it with :meth:`fold`, which also returns the folded ``Hᵀα``, ``Hᵀβ``; :attr:`size` is
    ``k + 2``, the eigen-update's size.
    """

    def __init__(self, k: int, v1: Tensor, v2: Tensor) -> None:
        self.k, self.v1, self.v2 = k, v1, v2
        self.size = k + 2
        self._cast: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}

    @classmethod
    def fold(cls, a: Tensor, b: Tensor, k: int) -> tuple[Deflation, Tensor, Tensor]:
        """The reflectors for the orthonormal rows ``a``, ``b`` (B, N) float64 and ``(H, Hᵀa, Hᵀb)``."""
        v1, r1 = _reflector(a[:, k:])
        bz = b[:, k:]
        bz = bz - 2 * v1 * (v1 * bz).sum(-1, keepdim=True)  # H₁ b_Z
        w, r2 = _reflector(bz[:, 1:])
        v2 = torch.cat([torch.zeros_like(w[:, :1]), w], -1)
        fa, fb = torch.zeros_like(a), torch.zeros_like(b)
        fa[:, :k], fb[:, :k] = a[:, :k], b[:, :k]
        fa[:, k], fb[:, k], fb[:, k + 1] = r1, bz[:, 0], r2  # exactly zero beyond: A = A_s ⊕ I
        return cls(k, v1, v2), fa, fb

    def wy(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(V, S)`` in ``like``'s dtype and device: (B, 2, N − k) and (B, 2, 2), contiguous."""
        key = (like.dtype, like.device)
        if key not in self._cast:
            V = torch.stack([self.v1, self.v2], -2)
            S = torch.zeros(V.shape[0], 2, 2, dtype=V.dtype)
            S[:, 0, 0] = S[:, 1, 1] = 2
            S[:, 0, 1] = -4 * (self.v1 * self.v2).sum(-1)
            self._cast[key] = (V.to(like.device, like.dtype).contiguous(), S.to(like.device, like.dtype))
        return self._cast[key]

    def _native(self, X: Tensor) -> kernels.FoldKernel | None:
        k = kernels.fold() if X.device.type == "cpu" else None
        return k if k is not None and k.supports(X) else None

    def _right(self, X: Tensor, transpose: bool) -> None:
        """``X_Z ← X_Z H`` (or ``X_Z Hᵀ``) on the columns ``k:`` of ``X`` (B, r, N), in place."""
        V, S = self.wy(X)
        native = self._native(X)
        if native is not None:
            native.right(X, V, S, self.k, transpose)
            return
        Zt = X[:, :, self.k :].mT  # (products in this orientation run 2× faster on a column slice)
        P = torch.bmm(S if transpose else S.mT, torch.bmm(V, Zt))  # (Z V S)ᵀ, or (Z V Sᵀ)ᵀ
        Zt.baddbmm_(V.mT, P, alpha=-1)

    def vectors(self, X: Tensor) -> None:
        """Rows of coordinates in ``Q'`` made coordinates in ``Q''``: ``x_Z ← Hᵀ x_Z`` (as rows,
        ``x_Z H``) for ``X`` (B, r, N), in place."""
        self._right(X, False)

    def columns(self, Q: Tensor) -> None:
        """``Q'' = Q' diag(I, H)``: ``Q_Z ← Q_Z H`` for ``Q`` (B, N, N), in place."""
        self._right(Q, False)

    def undo_columns(self, Q: Tensor) -> None:
        """``Q' = Q'' diag(I, Hᵀ)``: ``Q_Z ← Q_Z Hᵀ``, in place."""
        self._right(Q, True)

    def conjugate(self, G: Tensor) -> None:
        """A matrix in ``Q''`` coordinates to ``Q'``: ``G ← diag(I, H) G diag(I, H)ᵀ``, in place."""
        V, S = self.wy(G)
        native = self._native(G)
        if native is not None:
            native.conjugate(G, V, S, self.k)
            return
        rows = G[:, self.k :, :]
        rows.baddbmm_(torch.bmm(V.mT, S), torch.bmm(V, rows), alpha=-1)  # H G_Z = G_Z − V S (Vᵀ G_Z)
        self._right(G, True)
