r"""EUNN phase decomposition: any real orthogonal matrix as a Givens mesh (Clements or Reck).

The decomposition nulls the strict lower triangle of :math:`U` one entry at a time with
nearest-neighbour Givens rotations :math:`G(p, p+1, \theta)`, each chosen so that the nulled
entry's partner becomes :math:`\rho = \sqrt{a^2 + b^2} \ge 0`:

* **Reck** (triangular): column rotations only, row :math:`n-1` first, left to right:
  :math:`U R_1 \cdots R_M = D`, so :math:`U = D R_M^\top\cdots R_1^\top`; depth :math:`2n - 3`.
* **Clements** (rectangular): anti-diagonals alternately from the right (columns) and the left
  (rows): :math:`L_K\cdots L_1\,U\,R_1\cdots R_M = D`; the left rotations are moved through
  :math:`D` with :math:`G(\theta)^\top D = D\,G(-d_p d_{p+1}\theta)`. Depth :math:`n`: it is
  exactly the tunable-space EUNN layout with capacity :math:`n`.

Either way there are :math:`n(n-1)/2` rotations and an upper-triangular orthogonal remainder,
i.e. a diagonal :math:`D` of ±1. The signs are then normalised: for :math:`\det U = -1` row 0 is
flipped first, and the −1 entries of :math:`D` are paired and pushed into the mesh (a sign hops
across a rotation with :math:`\theta \to \pi - \theta`, a pair on one rotation is absorbed by
:math:`\theta \to \theta + \pi`), so the result always has :math:`D = \operatorname{diag}(\det U, 1, \ldots, 1)`:
a rotation matrix is *exactly* a product of EUNN layers, the phase-encoding of RUM §5.2.

Batches ``(..., n, n)`` are vectorised: the nulling sequence depends only on ``n``, so every
rotation step acts on the whole batch at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.blas import get_blas_funcs

from .._conventions import wrap_phase
from ..errors import NotOrthogonalError, OrthornnError, ShapeError
from .givens import GivensMesh, Pairs
from .validation import as_float_array, check_orthogonal, check_square

__all__ = ["MESHES", "Schedule", "givens_decompose", "rotation_phases", "schedule"]

FloatArray = NDArray[np.floating]

#: Decomposition meshes understood by :func:`givens_decompose`.
MESHES = ("clements", "reck")


@dataclass(frozen=True)
class Schedule:
    """The data-independent part of a decomposition: which entry each step nulls, and where
    its rotation lands in the mesh.

    ``ops[k] = (side, row, col, p)``: step ``k`` nulls ``U[row, col]`` with a rotation in the
    plane ``(p, p + 1)``, acting on columns (``side = 'R'``) or rows (``side = 'L'``).
    ``position[k]`` is the index of that rotation's phase in the mesh's layer-major phases.
    """

    n: int
    name: str
    ops: tuple[tuple[str, int, int, int], ...]
    layers: Pairs
    position: NDArray[np.intp]

    @property
    def left(self) -> NDArray[np.bool_]:
        """``left[k]``: step ``k`` is a row (left) rotation."""
        return np.array([op[0] == "L" for op in self.ops], dtype=bool)

    @property
    def plane(self) -> NDArray[np.intp]:
        """``plane[k] = p``: step ``k`` rotates in the plane ``(p, p + 1)``."""
        return np.array([op[3] for op in self.ops], dtype=np.intp)


def _nulling_ops(n: int, name: str) -> list[tuple[str, int, int, int]]:
    ops: list[tuple[str, int, int, int]] = []
    if name == "reck":
        for r in range(n - 1, 0, -1):
            ops.extend(("R", r, c, c) for c in range(r))
    else:  # clements
        for i in range(n - 1):
            if i % 2 == 0:
                ops.extend(("R", n - 1 - j, i - j, i - j) for j in range(i + 1))
            else:
                ops.extend(("L", n - 1 - i + j, j, n - 2 - i + j) for j in range(i + 1))
    return ops


@lru_cache(maxsize=64)
def schedule(n: int, name: str) -> Schedule:
    """The nulling order and mesh layout of a decomposition (cached per ``(n, name)``).

    Rotations are packed into layers as early as possible (a rotation goes one layer after the
    last one that touched either of its indices), which preserves the product.

    >>> s = schedule(4, "clements")
    >>> [p.tolist() for p in s.layers] == [[[0, 1], [2, 3]], [[1, 2]]] * 2
    True
    """
    if name not in MESHES:
        raise OrthornnError(f"unknown mesh {name!r}; valid meshes: {list(MESHES)}")
    ops = _nulling_ops(n, name)
    right = [k for k, op in enumerate(ops) if op[0] == "R"]
    left = [k for k, op in enumerate(ops) if op[0] == "L"]
    applied = right + left[::-1]  # U = D · L_1ᵀ…L_Kᵀ-moved · R_Mᵀ…R_1ᵀ: R_1ᵀ acts first
    last = [-1] * n
    where: list[tuple[int, int]] = [(0, 0)] * len(ops)
    for k in applied:
        p = ops[k][3]
        layer = max(last[p], last[p + 1]) + 1
        last[p] = last[p + 1] = layer
        where[k] = (layer, p)
    depth = max(last, default=-1) + 1
    if name == "clements":
        depth = n  # pad (n = 1, 2) so the layout is exactly the tunable one of capacity n
    per_layer: list[list[int]] = [[] for _ in range(depth)]
    for layer, p in where:
        per_layer[layer].append(p)
    layers = []
    offset, start = {}, 0
    for layer, ps in enumerate(per_layer):
        ps.sort()
        for m, p in enumerate(ps):
            offset[(layer, p)] = start + m
        start += len(ps)
        arr = np.array([[p, p + 1] for p in ps], dtype=np.intp).reshape(-1, 2)
        arr.setflags(write=False)
        layers.append(arr)
    position = np.array([offset[w] for w in where], dtype=np.intp)
    position.setflags(write=False)
    return Schedule(n=n, name=name, ops=tuple(ops), layers=tuple(layers), position=position)


def _null_all(a: FloatArray, sched: Schedule) -> FloatArray:
    """Run the nulling sequence in place on the batch ``a`` ``(B, n, n)``; return angles ``(B, P)``.

    A column rotation nulling ``a[r, c]`` only touches rows ``0..r`` (the rows below are already
    zero in both columns) and a row rotation nulling ``a[r, c]`` only columns ``c..n−1``.
    """
    if a.shape[0] == 1:
        return _null_one(a[0], sched)[None, :]
    theta = np.empty((a.shape[0], len(sched.ops)), dtype=a.dtype)
    for k, (side, r, c, p) in enumerate(sched.ops):
        if side == "R":  # a ← a G(p, p+1, t): null a[r, p] against a[r, p + 1]
            t = np.arctan2(-a[:, r, c], a[:, r, c + 1])
            blk = a[:, : r + 1, p : p + 2]
        else:  # a ← G(p, p+1, t) a: null a[p + 1, c] against a[p, c]
            t = np.arctan2(-a[:, r, c], a[:, r - 1, c])
            blk = np.swapaxes(a[:, p : p + 2, c:], -1, -2)
        cs, sn = np.cos(t), np.sin(t)
        g = np.empty((a.shape[0], 2, 2), dtype=a.dtype)  # blk ← blk @ g (columns of the pair)
        g[:, 0, 0] = g[:, 1, 1] = cs
        g[:, 1, 0] = sn if side == "R" else -sn
        g[:, 0, 1] = -g[:, 1, 0]
        blk[...] = blk @ g
        theta[:, k] = t
    return theta


def _null_one(a: FloatArray, sched: Schedule) -> FloatArray:
    """:func:`_null_all` for one C-contiguous matrix: scalar angles and one BLAS ``rot`` per rotation.

    ``rot(x, y, c, s, count, offx, incx, offy, incy, 1, 1)`` sets ``x ← c x + s y``,
    ``y ← c y − s x`` on strided slices of the flat buffer (positional arguments: f2py parses
    keywords noticeably slower), so no numpy view is created per rotation. A sequence of column rotations only (Reck)
    runs on the transpose, where they are contiguous row rotations.
    """
    n = a.shape[0]
    theta = np.empty(len(sched.ops), dtype=a.dtype)
    atan2, cos, sin = math.atan2, math.cos, math.sin
    if not sched.left.any():
        b = np.ascontiguousarray(a.T)
        flat = b.reshape(-1)
        (rot,) = get_blas_funcs(("rot",), (flat,))
        for k, (_, r, c, p) in enumerate(sched.ops):  # a[r, c] = b[c, r]; rows p, p + 1 of b, columns 0..r
            t = atan2(-flat[c * n + r], flat[(c + 1) * n + r])
            rot(flat, flat, cos(t), sin(t), r + 1, p * n, 1, (p + 1) * n, 1, 1, 1)
            theta[k] = t
        a[...] = b.T
        return theta
    flat = a.reshape(-1)
    (rot,) = get_blas_funcs(("rot",), (flat,))
    for k, (side, r, c, p) in enumerate(sched.ops):
        if side == "R":  # columns p, p + 1, rows 0..r
            t = atan2(-flat[r * n + c], flat[r * n + c + 1])
            rot(flat, flat, cos(t), sin(t), r + 1, p, n, p + 1, n, 1, 1)
        else:  # rows p, p + 1, columns c..n−1
            t = atan2(-flat[r * n + c], flat[(r - 1) * n + c])
            rot(flat, flat, cos(t), -sin(t), n - c, p * n + c, 1, (p + 1) * n + c, 1, 1, 1)
        theta[k] = t
    return theta


@lru_cache(maxsize=64)
def _partners(n: int, name: str) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """``partner[l, i]``: index paired with ``i`` in layer ``l`` (−1 if none); ``slot[l, i]``: its phase index."""
    layers = schedule(n, name).layers
    partner = np.full((len(layers), n), -1, dtype=np.intp)
    slot = np.full((len(layers), n), -1, dtype=np.intp)
    start = 0
    for l, pr in enumerate(layers):
        for m, (i, j) in enumerate(pr):
            partner[l, i], partner[l, j] = j, i
            slot[l, i] = slot[l, j] = start + m
        start += len(pr)
    return partner, slot


def _absorb_signs(n: int, name: str, phases: FloatArray, signs: FloatArray) -> bool:
    r"""Push the −1 entries of ``signs`` (an even number) into the mesh, in place on ``phases``.

    Walking from the output end, the −1s are paired in sorted order and each moves toward its
    partner: a sign at ``i`` crossing ``G(i, j, θ)`` either stays (``θ → −θ``) or hops to ``j``
    (``θ → π − θ``); two paired signs on one rotation cancel (``θ → θ + π``). In the alternating
    layouts each sign moves one index per layer after at most one idle layer, so every pair meets
    within the depth ``n`` of a Clements mesh. Returns whether all signs were absorbed.
    """
    partner, slot = _partners(n, name)
    tokens = [int(i) for i in np.flatnonzero(signs < 0)]
    for l in range(partner.shape[0] - 1, -1, -1):
        if not tokens:
            break
        tokens.sort()
        pair_of = {t: k // 2 for k, t in enumerate(tokens)}
        up = {t: k % 2 == 0 for k, t in enumerate(tokens)}
        moved: list[int] = []
        done: set[int] = set()
        for t in tokens:
            if t in done:
                continue
            q = int(partner[l, t])
            if q < 0:
                moved.append(t)
                continue
            s = int(slot[l, t])
            if q in pair_of:  # two signs on one rotation
                done.add(q)
                if pair_of[q] == pair_of[t]:
                    phases[s] += np.pi  # (−1)(−1) on the block: G(θ + π)
                else:
                    moved.extend((t, q))  # conjugation by −I_2 leaves G(θ) unchanged
                continue
            if (q > t) == up[t]:
                phases[s] = np.pi - phases[s]
                moved.append(q)
            else:
                phases[s] = -phases[s]
                moved.append(t)
        tokens = moved
    return not tokens


def givens_decompose(U: ArrayLike, mesh: str = "clements") -> GivensMesh:
    r"""Decompose real orthogonal matrices into a Givens mesh: :math:`U = D\,\Lambda_{L-1}\cdots\Lambda_0`.

    .. math:: U = \operatorname{diag}(\det U, 1, \ldots, 1)
              \prod_{l = L-1}^{0}\ \prod_{(p, p+1) \in l} G(p, p+1, \theta_{l,p})

    with :math:`n(n-1)/2` phases in :math:`(-\pi, \pi]`. ``mesh='clements'`` gives the
    rectangular mesh of depth ``n`` (the tunable EUNN layout, capacity ``n``); ``'reck'`` the
    triangular mesh of depth ``2n − 3``. ``U`` has shape ``(..., n, n)``, ``n ≥ 1``; batches are
    vectorised (one pass of the nulling sequence over the whole batch). Cost :math:`O(n^3)`.

    Parameters
    ----------
    U : array_like, shape (..., n, n)
        Real orthogonal matrices (float32 or float64; others become float64).
    mesh : {'clements', 'reck'}
        The mesh.

    Returns
    -------
    GivensMesh
        Phases ``(..., n(n−1)/2)`` and signs ``(..., n)``; ``givens_compose`` inverts it.

    Raises
    ------
    ShapeError
        ``U`` is not a (batch of) square matrices with ``n ≥ 1``.
    NotFiniteError
        NaN or inf in ``U``.
    NotOrthogonalError
        ``‖UᵀU − I‖_max`` exceeds the tolerance (the message reports it).

    References
    ----------
    Clements et al. (2016), *Optimal design for universal multiport interferometers*, Optica 3;
    Reck et al. (1994), PRL 73; RUM (Dangovski, Jing, Soljačić 2017), §5.2, eq. (2).

    Examples
    --------
    >>> from scipy.stats import ortho_group
    >>> U = ortho_group.rvs(5, random_state=1)
    >>> m = givens_decompose(U)
    >>> m.num_rotations, m.depth
    (10, 5)
    >>> from orthornn.numeric.givens import givens_compose
    >>> bool(np.abs(givens_compose(m) - U).max() < 1e-13)
    True
    """
    if mesh not in MESHES:
        raise OrthornnError(f"unknown mesh {mesh!r}; valid meshes: {list(MESHES)}")
    u = as_float_array(U, "U", min_ndim=2)
    n = check_square(u, "U")
    if n < 1:
        raise ShapeError(f"U must be at least 1×1, got shape {u.shape}")
    check_orthogonal(u, "U")
    batch = u.shape[:-2]
    a = u.reshape(-1, n, n).copy()
    det_sign = np.where(np.linalg.slogdet(a)[0] < 0, -1.0, 1.0).astype(a.dtype)
    a[:, 0, :] *= det_sign[:, None]
    sched = schedule(n, mesh)
    theta = _null_all(a, sched)
    d = np.where(np.diagonal(a, axis1=-2, axis2=-1) < 0, -1.0, 1.0).astype(a.dtype)
    phases = np.empty_like(theta)
    p = sched.plane
    flip = np.where(sched.left, -d[:, p] * d[:, p + 1], -1.0)  # Rᵀ = G(−θ); Lᵀ D = D G(−d_p d_{p+1} θ)
    phases[:, sched.position] = flip * theta
    for b in np.flatnonzero((d < 0).any(axis=-1)):
        if not _absorb_signs(n, mesh, phases[b], d[b]):  # pragma: no cover - see _absorb_signs
            raise OrthornnError(f"internal error: could not absorb the signs {d[b]} into the {mesh} mesh")
    signs = np.ones((a.shape[0], n), dtype=a.dtype)
    signs[:, 0] = det_sign
    return GivensMesh(
        n=n,
        layout=mesh,
        pairs=sched.layers,
        phases=wrap_phase(phases).reshape(*batch, len(sched.ops)),
        signs=signs.reshape(*batch, n),
    )


def rotation_phases(R: ArrayLike, mesh: str = "clements") -> FloatArray:
    r"""The EUNN phases of rotation matrices: :math:`\theta` with :math:`R = \prod_l U_l(\theta^l)` exactly.

    .. math:: R = \Lambda_{L-1}(\theta^{L-1})\cdots\Lambda_0(\theta^0),\qquad R \in SO(n)

    This is the *phase-encoding* view of a RUM rotation or memory matrix (RUM §5.2, eq. 2): for
    :math:`R \in SO(n)` the sign diagonal of :func:`givens_decompose` is the identity, so ``R``
    is exactly a product of EUNN layers. Phase ``k`` always refers to the same plane and layer
    (``givens_decompose(R, mesh).pairs``), so a sequence ``R_t`` of shape ``(T, n, n)`` gives a
    ``(T, n(n−1)/2)`` array whose columns can be plotted over time (``np.unwrap(…, axis=0)``
    removes the ±π jumps).

    The phases are a function of ``R`` (the decomposition's branch choices are fixed), not
    necessarily the phases ``R`` was built from: a mesh of nearest-neighbour rotations has
    discrete symmetries (``θ → θ + π`` on two rotations can cancel), and at ``θ = 0`` its
    differential has rank ``n − 1`` only (every generator is an adjacent-plane one), so a
    rotation close to ``I`` in general has phases of order 1, not close to 0.

    Parameters
    ----------
    R : array_like, shape (..., n, n)
        Rotation matrices (orthogonal, determinant +1).
    mesh : {'clements', 'reck'}
        The layout of the phases (Clements = the tunable EUNN layout of capacity ``n``).

    Returns
    -------
    ndarray, shape (..., n(n−1)/2)
        Phases in (−π, π], layer-major.

    Raises
    ------
    NotOrthogonalError
        ``R`` is not orthogonal, or has determinant −1 (not a rotation).

    References
    ----------
    Dangovski, Jing, Soljačić (2017), *Rotational Unit of Memory*, §5.2, eq. (2).

    Examples
    --------
    >>> from orthornn.numeric.givens import GivensMesh, givens_compose
    >>> R = givens_compose(GivensMesh.from_layout(4, "clements", [0.1, -0.4, 0.7, 0.2, -0.3, 0.5]))
    >>> phi = rotation_phases(R)
    >>> bool(np.allclose(givens_compose(GivensMesh.from_layout(4, "clements", phi)), R))
    True
    """
    r = as_float_array(R, "R", min_ndim=2)
    check_square(r, "R")
    m = givens_decompose(r, mesh)
    bad = m.signs[..., 0] < 0
    if np.any(bad):
        raise NotOrthogonalError(
            f"R must be a rotation (det +1); {int(np.sum(bad))} of {bad.size} matrices have det −1"
        )
    return np.array(m.phases)
