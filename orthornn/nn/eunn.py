r"""The EUNN layer: a trainable orthogonal map parametrised by Givens-mesh phases (RUM §5.2)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import OrthornnError, ShapeError
from ..numeric.givens import GivensMesh, layout_pairs
from .functional.eunn import MeshTables, apply_tables, mesh_tables

__all__ = ["EUNN"]


class EUNN(nn.Module):
    r"""Efficient Unitary (here: orthogonal) Neural Network layer, applied to the last dimension.

    .. math:: y = U x,\qquad U = D\,\Lambda_{L-1}(\theta^{L-1})\cdots\Lambda_0(\theta^0),\qquad
              \Lambda_l(\theta^l) = \prod_{(i, j) \in \text{layer } l} G(i, j, \theta^l_{ij})

    Each layer is an elementwise multiply and a permutation (:mod:`orthornn.nn.functional.eunn`),
    so a forward pass costs :math:`O(nL)` and never forms :math:`U`. :math:`U` is orthogonal for
    every value of the phases, so the layer stays exactly orthogonal under any optimiser.

    Parameters
    ----------
    n : int
        Size of the last dimension.
    capacity : int, optional
        Number of layers ``L``. Tunable layout: any ``L ≥ 0`` (default ``n``, which reaches every
        matrix of SO(n)); fft layout: ``log2(n)`` (the default, the only value).
    layout : {'tunable', 'fft'}
        ``'tunable'``: layers alternate the pairings ``(0,1)(2,3)…`` and ``(1,2)(3,4)…``; for odd
        ``n`` the unpaired unit passes through each layer. ``'fft'``: layer ``k`` pairs
        ``(i, i + 2^k)``, ``k < log2 n``; needs ``n`` a power of two (else :class:`OrthornnError`).
    device, dtype
        Of the phases (default CPU, ``torch.get_default_dtype()``).
    pairs : sequence of ``(k_l, 2)`` index pairs, optional
        An explicit layout (disjoint pairs per layer) instead of ``layout``/``capacity``;
        ``layout`` is then only its label (used by :meth:`from_mesh` for Reck or custom meshes).

    Attributes
    ----------
    phases : nn.Parameter, shape ``(P,)``
        Layer-major phases, initialised uniform on (−π, π].
    signs : buffer, shape ``(n,)``
        The ±1 diagonal ``D`` (ones unless built with :meth:`from_mesh`); not trained.

    References
    ----------
    Jing et al. (2017), *Tunable Efficient Unitary Neural Networks (EUNN) and their application
    to RNNs*, ICML; Dangovski, Jing, Soljačić (2017), *Rotational Unit of Memory*, §5.2.

    Examples
    --------
    >>> layer = EUNN(5, capacity=3, dtype=torch.float64)
    >>> x = torch.randn(4, 5, dtype=torch.float64)
    >>> bool(torch.allclose(layer(x).norm(dim=-1), x.norm(dim=-1)))
    True
    >>> U = layer.matrix()
    >>> bool(torch.allclose(U.T @ U, torch.eye(5, dtype=torch.float64)))
    True
    """

    perm: torch.Tensor
    slot: torch.Tensor
    sgn: torch.Tensor
    signs: torch.Tensor

    def __init__(
        self,
        n: int,
        capacity: int | None = None,
        layout: str = "tunable",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        pairs: Sequence[np.ndarray | Sequence[Sequence[int]]] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise OrthornnError(f"n must be a positive integer, got {n!r}")
        if pairs is None:
            if layout not in ("tunable", "fft"):
                raise OrthornnError(f"unknown EUNN layout {layout!r}; valid layouts: ['fft', 'tunable']")
            pairs = layout_pairs(n, layout, capacity)
        elif capacity is not None and capacity != len(pairs):
            raise OrthornnError(f"capacity {capacity} disagrees with the {len(pairs)} layers of the given pairs")
        self.n, self.layout = n, layout
        self.pairs = tuple(np.asarray(p, dtype=np.int64).reshape(-1, 2) for p in pairs)
        dtype = torch.get_default_dtype() if dtype is None else dtype
        tables = mesh_tables(self.pairs, n, device=device, dtype=dtype)
        self.register_buffer("perm", tables.perm, persistent=False)
        self.register_buffer("slot", tables.slot, persistent=False)
        self.register_buffer("sgn", tables.sgn, persistent=False)
        self.register_buffer("signs", torch.ones(n, device=device, dtype=dtype))
        P = sum(len(p) for p in self.pairs)
        self.phases = nn.Parameter(torch.empty(P, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Phases uniform on (−π, π] (every 2×2 block Haar on SO(2))."""
        with torch.no_grad():
            self.phases.uniform_(-math.pi, math.pi)

    @property
    def capacity(self) -> int:
        """Number of layers ``L``."""
        return len(self.pairs)

    @classmethod
    def from_mesh(
        cls,
        mesh: GivensMesh,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> EUNN:
        r"""The layer computing exactly the matrix of ``mesh`` (e.g. ``givens_decompose(U)``).

        A Clements mesh has the tunable layout with capacity ``n``, so
        ``EUNN.from_mesh(givens_decompose(U))`` is a tunable EUNN reproducing ``U`` (sign
        diagonal included); any other layout (Reck, fft, custom) is kept as is.

        >>> from scipy.stats import ortho_group
        >>> import orthornn
        >>> U = ortho_group.rvs(6, random_state=0)
        >>> layer = EUNN.from_mesh(orthornn.givens_decompose(U), dtype=torch.float64)
        >>> layer.layout, float((layer.matrix().detach() - torch.from_numpy(U)).abs().max()) < 1e-13
        ('tunable', True)
        """
        if mesh.batch_shape:
            raise ShapeError(f"from_mesh needs a single mesh, got batch shape {mesh.batch_shape}")
        layout = "tunable" if mesh.layout == "clements" else mesh.layout
        layer = cls(mesh.n, layout=layout, device=device, dtype=dtype, pairs=mesh.pairs)
        with torch.no_grad():
            layer.phases.copy_(torch.tensor(np.array(mesh.phases), dtype=layer.phases.dtype))
            layer.signs.copy_(torch.tensor(np.array(mesh.signs), dtype=layer.signs.dtype))
        return layer

    def to_mesh(self) -> GivensMesh:
        """The layer as a numpy :class:`~orthornn.GivensMesh` (phases and signs copied to the CPU)."""
        return GivensMesh(
            n=self.n,
            layout=self.layout,
            pairs=self.pairs,
            phases=self.phases.detach().cpu().numpy(),
            signs=self.signs.detach().cpu().numpy(),
        )

    def forward(self, x: torch.Tensor, *, transpose: bool = False) -> torch.Tensor:
        """``U x`` on the last dimension of ``x`` (``Uᵀ x`` with ``transpose=True``)."""
        if x.shape[-1] != self.n:
            raise ShapeError(f"EUNN({self.n}) needs input (..., {self.n}), got {tuple(x.shape)}")
        return apply_tables(x, self.phases, MeshTables(self.perm, self.slot, self.sgn), self.signs, transpose=transpose)

    def matrix(self) -> torch.Tensor:
        """The dense ``U`` (``n × n``), by applying the layer to the identity; differentiable."""
        eye = torch.eye(self.n, device=self.phases.device, dtype=self.phases.dtype)
        return self(eye).T

    def extra_repr(self) -> str:
        return f"n={self.n}, capacity={self.capacity}, layout={self.layout!r}, phases={self.phases.numel()}"
