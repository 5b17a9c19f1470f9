r"""Givens meshes: orthogonal matrices as layers of disjoint plane rotations and a sign diagonal.

A *mesh* on :math:`\mathbb R^n` is a list of layers; layer :math:`l` is a set of disjoint index
pairs :math:`(i, j)`, :math:`i < j`, each carrying a phase :math:`\theta`. It represents

.. math:: U = D\,\Lambda_{L-1}\cdots\Lambda_1\Lambda_0,\qquad
          \Lambda_l = \prod_{(i, j)\in\text{layer } l} G(i, j, \theta_{ij}),\qquad D = \operatorname{diag}(\pm 1),

where :math:`G(i, j, \theta)` rotates :math:`e_i` toward :math:`e_j` (``G[j, i] = sin θ``; see
``docs/conventions.md``). Layer 0 acts on a vector first, the sign diagonal last. The rotations of
one layer commute (disjoint planes), so a layer costs :math:`O(n)` to apply and the whole mesh
:math:`O(nL)`, without forming :math:`U`.

The *layout* (the pairs of each layer) is data that depends only on ``n`` and the layout name;
phases and signs carry the batch dimensions, so a batch of matrices shares one layout and its
phases stack into an array ``(..., P)`` with the same meaning for every matrix of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.blas import get_blas_funcs

from ..errors import OrthornnError, ShapeError
from .validation import as_float_array

__all__ = [
    "LAYOUTS",
    "GivensMesh",
    "apply_mesh",
    "fft_layout",
    "givens_compose",
    "layout_pairs",
    "tunable_layout",
]

FloatArray = NDArray[np.floating]
Pairs = tuple[NDArray[np.intp], ...]


def _frozen(a: NDArray) -> NDArray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=256)
def tunable_layout(n: int, capacity: int | None = None, first: int = 0) -> Pairs:
    r"""Pairs of the tunable-space EUNN layout (Jing et al. 2017): alternating adjacent pairings.

    Layer :math:`l` pairs :math:`(k, k+1)` for every :math:`k \equiv l + \text{first} \pmod 2`
    with :math:`k + 1 < n`, i.e. :math:`(0,1)(2,3)\ldots` and :math:`(1,2)(3,4)\ldots` in turn.
    An index left without a partner (odd ``n``, or index 0 and ``n − 1`` in the shifted pairing)
    passes through the layer unchanged. ``capacity`` (number of layers) defaults to ``n``.

    >>> [p.tolist() for p in tunable_layout(4, 2)]
    [[[0, 1], [2, 3]], [[1, 2]]]
    """
    n, capacity = _check_n(n), n if capacity is None else int(capacity)
    if capacity < 0:
        raise OrthornnError(f"capacity must be ≥ 0, got {capacity}")
    layers = []
    for layer in range(capacity):
        start = (layer + first) % 2
        i = np.arange(start, n - 1, 2, dtype=np.intp)
        layers.append(_frozen(np.stack([i, i + 1], axis=-1).reshape(-1, 2)))
    return tuple(layers)


@lru_cache(maxsize=256)
def fft_layout(n: int) -> Pairs:
    r"""Pairs of the FFT-style EUNN layout (Jing et al. 2017): :math:`\log_2 n` layers, strides :math:`2^k`.

    Layer :math:`k` pairs :math:`(i, i + 2^k)` for every :math:`i` whose bit :math:`k` is 0, so
    every index is rotated in every layer and the :math:`\log_2 n` layers connect every input to
    every output. Defined for ``n`` a power of two (``n = 1``: no layers); other ``n`` raise
    :class:`OrthornnError` (use the tunable layout, which handles every ``n``).

    >>> [p.tolist() for p in fft_layout(4)]
    [[[0, 1], [2, 3]], [[0, 2], [1, 3]]]
    """
    n = _check_n(n)
    if n & (n - 1):
        raise OrthornnError(f"the fft layout needs n a power of two, got n = {n}; use layout='tunable' for any n")
    layers = []
    for k in range(n.bit_length() - 1):
        i = np.array([m for m in range(n) if not (m >> k) & 1], dtype=np.intp)
        layers.append(_frozen(np.stack([i, i + (1 << k)], axis=-1)))
    return tuple(layers)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OrthornnError(f"n must be a positive integer, got {n!r}")
    return int(n)


def _decomposition_layout(name: str) -> Callable[[int], Pairs]:
    def layout(n: int, capacity: int | None = None) -> Pairs:
        from .eunn import schedule  # the decomposition's own layout (import cycle otherwise)

        if capacity is not None:
            raise OrthornnError(f"the {name!r} layout has a fixed depth; capacity applies to 'tunable' only")
        return schedule(_check_n(n), name).layers

    return layout


#: Layout registry: name → ``f(n, capacity=None) -> pairs per layer``.
LAYOUTS: dict[str, Callable[..., Pairs]] = {
    "tunable": tunable_layout,
    "fft": lambda n, capacity=None: fft_layout(n) if capacity is None else _fft_capacity(n, capacity),
    "clements": _decomposition_layout("clements"),
    "reck": _decomposition_layout("reck"),
}


def _fft_capacity(n: int, capacity: int) -> Pairs:
    layers = fft_layout(n)
    if capacity != len(layers):
        raise OrthornnError(
            f"the fft layout of n = {n} has exactly log2(n) = {len(layers)} layers, got capacity {capacity}"
        )
    return layers


def layout_pairs(n: int, layout: str, capacity: int | None = None) -> Pairs:
    """Pairs of each layer of a named layout (``'tunable'``, ``'fft'``, ``'clements'``, ``'reck'``).

    >>> sum(len(p) for p in layout_pairs(5, "clements")) == 5 * 4 // 2
    True
    """
    try:
        make = LAYOUTS[layout]
    except KeyError:
        raise OrthornnError(f"unknown layout {layout!r}; valid layouts: {sorted(LAYOUTS)}") from None
    return make(n, capacity)


@dataclass(frozen=True, eq=False)
class GivensMesh:
    r"""A (batch of) orthogonal matrices as a Givens mesh :math:`U = D\,\Lambda_{L-1}\cdots\Lambda_0`.

    .. math:: \Lambda_l = \prod_{(i, j) \in \text{pairs}[l]} G(i, j, \theta),\qquad
              G(i,j,\theta)\,e_i = \cos\theta\, e_i + \sin\theta\, e_j

    Immutable: the arrays are read-only copies.

    Attributes
    ----------
    n : int
        Dimension.
    layout : str
        Name of the layout (``'clements'``, ``'reck'``, ``'tunable'``, ``'fft'``) or ``'custom'``.
    pairs : tuple of int arrays ``(k_l, 2)``
        Layer ``l`` rotates in the planes ``(pairs[l][m, 0], pairs[l][m, 1])``, disjoint within a layer.
    phases : float array ``(..., P)``
        The phases, layer-major: layer 0's ``k_0`` phases first. ``P = Σ k_l``.
    signs : float array ``(..., n)``
        The diagonal of :math:`D`, entries ±1.

    References
    ----------
    Dangovski, Jing, Soljačić (2017), *Rotational Unit of Memory*, §5.2, eq. (2);
    Jing et al. (2017), *Tunable Efficient Unitary Neural Networks (EUNN)*.

    Examples
    --------
    >>> m = GivensMesh.from_layout(3, "tunable", phases=[0.3, -0.2, 0.5])
    >>> U = givens_compose(m)
    >>> bool(np.allclose(U.T @ U, np.eye(3)))
    True
    """

    n: int
    layout: str
    pairs: Pairs
    phases: FloatArray
    signs: FloatArray

    def __post_init__(self) -> None:
        n = _check_n(self.n)
        pairs = tuple(_frozen(np.asarray(p, dtype=np.intp).reshape(-1, 2)) for p in self.pairs)
        for l, p in enumerate(pairs):
            if p.size and (p.min() < 0 or p.max() >= n or np.any(p[:, 0] == p[:, 1])):
                raise OrthornnError(f"layer {l} has a pair outside 0..{n - 1} or a pair (i, i): {p.tolist()}")
            if len(np.unique(p)) != p.size:
                raise OrthornnError(f"layer {l} pairs are not disjoint: {p.tolist()}")
        phases = as_float_array(self.phases, "phases", min_ndim=1)
        P = sum(len(p) for p in pairs)
        if phases.shape[-1] != P:
            raise ShapeError(f"phases must have shape (..., {P}) for this layout, got {phases.shape}")
        signs = as_float_array(self.signs, "signs", min_ndim=1).astype(phases.dtype, copy=False)
        if signs.shape[-1] != n:
            raise ShapeError(f"signs must have shape (..., {n}), got {signs.shape}")
        if not np.all(np.abs(signs) == 1):
            raise OrthornnError("signs must be ±1")
        try:
            np.broadcast_shapes(phases.shape[:-1], signs.shape[:-1])
        except ValueError:
            raise ShapeError(
                f"batch shapes of phases {phases.shape} and signs {signs.shape} do not broadcast"
            ) from None
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "phases", _frozen(phases))
        object.__setattr__(self, "signs", _frozen(signs))

    @classmethod
    def from_layout(
        cls,
        n: int,
        layout: str,
        phases: ArrayLike,
        signs: ArrayLike | None = None,
        *,
        capacity: int | None = None,
    ) -> GivensMesh:
        """A mesh of a named layout from its phases (``(..., P)``) and signs (default: all +1)."""
        pairs = layout_pairs(n, layout, capacity)
        phases = as_float_array(phases, "phases", min_ndim=1)
        if signs is None:
            signs = np.ones(n, dtype=phases.dtype)
        return cls(n=n, layout=layout, pairs=pairs, phases=phases, signs=np.asarray(signs))

    @property
    def depth(self) -> int:
        """Number of layers ``L``."""
        return len(self.pairs)

    @property
    def num_rotations(self) -> int:
        """Number of phases ``P`` (rotations) per matrix."""
        return sum(len(p) for p in self.pairs)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading (batch) shape shared by phases and signs."""
        return tuple(np.broadcast_shapes(self.phases.shape[:-1], self.signs.shape[:-1]))

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Start of each layer's phases in :attr:`phases` (length ``L + 1``; last is ``P``)."""
        return tuple(int(v) for v in np.cumsum([0, *(len(p) for p in self.pairs)]))

    @cached_property
    def _layer_specs(self) -> tuple[LayerSpec, ...]:
        return tuple(_layer_spec(p, self.n) if len(p) else ("slice", 0, 0) for p in self.pairs)

    def layer_phases(self, l: int) -> FloatArray:
        """Phases of layer ``l``: ``(..., k_l)``."""
        o = self.offsets
        return self.phases[..., o[l] : o[l + 1]]

    def __repr__(self) -> str:
        return (
            f"GivensMesh(n={self.n}, layout={self.layout!r}, depth={self.depth}, "
            f"rotations={self.num_rotations}, batch_shape={self.batch_shape}, dtype={self.phases.dtype})"
        )


#: How a layer is addressed: ("slice", start, k) — pairs (start + 2m, start + 2m + 1);
#: ("fft", d) — pairs (i, i + d) for i // d even covering all n; ("index", i, j) — anything else.
LayerSpec = tuple


def _layer_spec(pairs: NDArray[np.intp], n: int) -> LayerSpec:
    i, j, k = pairs[:, 0], pairs[:, 1], len(pairs)
    if np.array_equal(j, i + 1) and np.array_equal(i, i[0] + 2 * np.arange(k)):
        return ("slice", int(i[0]), k)
    d = int(j[0] - i[0])
    if d > 0 and 2 * k == n and n % (2 * d) == 0 and np.array_equal(i, fft_pattern(n, d)) and np.array_equal(j, i + d):
        return ("fft", d)
    return ("index", i, j)


@lru_cache(maxsize=256)
def fft_pattern(n: int, d: int) -> NDArray[np.intp]:
    """Indices ``i`` with ``i // d`` even: the first members of the stride-``d`` pairs."""
    m = np.arange(n, dtype=np.intp)
    out = m[(m // d) % 2 == 0]
    out.setflags(write=False)
    return out


def _rotate_layer(x: FloatArray, spec: LayerSpec, c: FloatArray, s: FloatArray) -> None:
    """In place on the last axis: ``x_i ← c x_i − s x_j``, ``x_j ← s x_i + c x_j`` for the layer's pairs."""
    if spec[0] == "index":
        i, j = spec[1], spec[2]
        xi, xj = x[..., i], x[..., j]
        x[..., i] = c * xi - s * xj
        x[..., j] = s * xi + c * xj
        return
    if spec[0] == "slice":
        start, k = spec[1], spec[2]
        xi, xj = x[..., start : start + 2 * k : 2], x[..., start + 1 : start + 2 * k : 2]
    else:
        d = spec[1]
        n = x.shape[-1]
        blocks = x.reshape(*x.shape[:-1], n // (2 * d), 2, d)
        xi, xj = blocks[..., 0, :], blocks[..., 1, :]
        c, s = c.reshape(*c.shape[:-1], n // (2 * d), d), s.reshape(*s.shape[:-1], n // (2 * d), d)
    xi_old = xi.copy()
    xi *= c
    xi -= s * xj
    xj *= c
    xj += s * xi_old


def apply_mesh(mesh: GivensMesh, x: ArrayLike, *, transpose: bool = False) -> FloatArray:
    r"""Apply the mesh to vectors without forming :math:`U`: :math:`y = Ux` (or :math:`U^\top x`).

    .. math:: U x = D\,\Lambda_{L-1}(\cdots\Lambda_0 x),\qquad
              (G(i, j, \theta)x)_i = x_i\cos\theta - x_j \sin\theta,\quad
              (G(i, j, \theta)x)_j = x_i\sin\theta + x_j\cos\theta

    :math:`O(n)` per layer. ``x`` has shape ``(..., n)``; its batch dimensions broadcast with the
    mesh's. ``transpose=True`` applies :math:`U^\top = U^{-1} = \Lambda_0^\top\cdots\Lambda_{L-1}^\top D`.

    References
    ----------
    Jing et al. (2017), *Tunable EUNN*, §3 (layer-wise application).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = GivensMesh.from_layout(4, "tunable", rng.normal(size=6))
    >>> x = rng.normal(size=(5, 4))
    >>> bool(np.allclose(apply_mesh(m, x), x @ givens_compose(m).T))
    True
    >>> bool(np.allclose(apply_mesh(m, apply_mesh(m, x), transpose=True), x))
    True
    """
    x = as_float_array(x, "x", min_ndim=1)
    if x.shape[-1] != mesh.n:
        raise ShapeError(f"x must have shape (..., {mesh.n}) to match the mesh, got {x.shape}")
    dtype = np.result_type(x.dtype, mesh.phases.dtype)
    try:
        batch = np.broadcast_shapes(x.shape[:-1], mesh.batch_shape)
    except ValueError:
        raise ShapeError(
            f"x batch shape {x.shape[:-1]} does not broadcast with the mesh's {mesh.batch_shape}"
        ) from None
    y = np.array(np.broadcast_to(x, (*batch, mesh.n)), dtype=dtype)
    _apply_inplace(mesh, y, mesh.phases.astype(dtype, copy=False), mesh.signs.astype(dtype, copy=False), transpose)
    return y


def _apply_inplace(mesh: GivensMesh, y: FloatArray, phases: FloatArray, signs: FloatArray, transpose: bool) -> None:
    """``y ← U y`` (or ``Uᵀ y``) in place; ``phases``/``signs`` already broadcast against ``y``."""
    offsets = mesh.offsets
    specs = mesh._layer_specs
    cos, sin = np.cos(phases), np.sin(phases)
    if transpose:
        sin = -sin
        y *= signs
    layers: Sequence[int] = reversed(range(mesh.depth)) if transpose else range(mesh.depth)
    for l in layers:
        if offsets[l + 1] > offsets[l]:
            sl = slice(offsets[l], offsets[l + 1])
            _rotate_layer(y, specs[l], cos[..., sl], sin[..., sl])
    if not transpose:
        y *= signs


def givens_compose(mesh: GivensMesh) -> FloatArray:
    r"""The matrix of a mesh: :math:`U = D\,\Lambda_{L-1}\cdots\Lambda_0`, shape ``(..., n, n)``.

    A batch is computed by applying the mesh to the rows of :math:`I` as vectors (:math:`O(n^2)`
    per layer); a single matrix (``n ≥ 512``) by left-multiplying the rotations into :math:`I`
    with one BLAS ``rot`` each, restricted to the columns where the two rows can be non-zero.
    Inverse of :func:`orthornn.givens_decompose` (``givens_compose(givens_decompose(U)) == U``).

    References
    ----------
    Clements et al. (2016), *Optimal design for universal multiport interferometers*; RUM §5.2.

    Examples
    --------
    >>> m = GivensMesh.from_layout(2, "tunable", [np.pi / 2], signs=[1, -1])
    >>> givens_compose(m).round(12) + 0.0
    array([[ 0., -1.],
           [-1.,  0.]])
    """
    batch, n = mesh.batch_shape, mesh.n
    if not batch and n >= _ROT_COMPOSE_MIN_N:
        return _compose_one(mesh)
    # Row k of Y is (U e_k)ᵀ, so Y = Uᵀ; the identity's row axis sits between batch and vector axes.
    y = np.array(np.broadcast_to(np.eye(n, dtype=mesh.phases.dtype), (*batch, n, n)))
    _apply_inplace(mesh, y, mesh.phases[..., None, :], mesh.signs[..., None, :], False)
    return np.swapaxes(y, -1, -2).copy()


#: From this n on a single mesh is composed by BLAS row rotations (faster than layer-wise numpy).
_ROT_COMPOSE_MIN_N = 512


def _compose_one(mesh: GivensMesh) -> FloatArray:
    """``D Λ_{L−1}⋯Λ_0`` for one mesh: ``M ← G(i, j, θ) M`` row rotations on ``M = I``, each over the
    union of the two rows' current column supports (a banded start for nearest-neighbour layouts)."""
    n = mesh.n
    m = np.eye(n, dtype=mesh.phases.dtype)
    flat = m.reshape(-1)
    (rot,) = get_blas_funcs(("rot",), (flat,))
    lo, hi = list(range(n)), list(range(n))
    cos, sin = np.cos(mesh.phases).tolist(), np.sin(mesh.phases).tolist()
    k = 0
    for pairs in mesh.pairs:
        for i, j in pairs.tolist():
            a, b = min(lo[i], lo[j]), max(hi[i], hi[j])
            lo[i] = lo[j] = a
            hi[i] = hi[j] = b
            # row_i ← c row_i − s row_j, row_j ← s row_i + c row_j
            rot(flat, flat, cos[k], -sin[k], b - a + 1, i * n + a, 1, j * n + a, 1, 1, 1)
            k += 1
    m *= mesh.signs[:, None]
    return m
