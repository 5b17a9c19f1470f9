r"""Deterministic constructors behind the strategies: every matrix a strategy draws is one call
of a function here, with plain arguments (sizes, seeds, angle tuples), and hypothesis prints a
falsifying example as that call, e.g. ``haar_orthogonal(3, 0)``, which rebuilds it exactly.

Each takes ``dtype`` (``'float64'`` default, ``'float32'``, ``'float16'``; ``'bfloat16'`` only
as a tensor) and ``device``: ``None`` returns a numpy array, a device string (``'cpu'``,
``'cuda'``) a torch tensor there (torch is imported then, never before). Everything is computed
in float64 and rounded once to ``dtype`` at the end.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DTYPE_NAMES",
    "dtype_name",
    "givens_mesh",
    "haar_orthogonal",
    "haar_rotation",
    "mesh_phases",
    "mesh_size",
    "nearly_orthogonal",
    "nearly_skew",
    "orthogonal_with_angles",
    "rotation_product",
    "rotation_with_generator_norm",
    "to_torch",
]

#: dtype names the constructors accept (``'bfloat16'`` only with a torch ``device``).
DTYPE_NAMES: tuple[str, ...] = ("float64", "float32", "float16", "bfloat16")

Shape = tuple[int, ...]


def dtype_name(dtype: Any) -> str:
    """The name of a numpy or torch floating dtype: ``'float64'``, ``'float32'``, ``'float16'``, ``'bfloat16'``.

    >>> dtype_name(np.float32), dtype_name("float64")
    ('float32', 'float64')
    """
    text = str(dtype).removeprefix("torch.")
    name = text if text == "bfloat16" else None
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = text
    if name not in DTYPE_NAMES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_NAMES)}, got {dtype!r}")
    return name


def _finish(x: NDArray[np.float64], dtype: str, device: str | None) -> Any:
    name = dtype_name(dtype)
    if device is None:
        if name == "bfloat16":
            raise ValueError("dtype 'bfloat16' needs a torch device (numpy has no bfloat16)")
        return x.astype(name)
    return to_torch(x, dtype=name, device=device)


def to_torch(x: ArrayLike, *, dtype: Any = None, device: str = "cpu") -> Any:
    """``x`` as a torch tensor of ``dtype`` (default: the array's own) on ``device``; imports torch.

    >>> to_torch(np.eye(2), dtype="float32").dtype
    torch.float32
    """
    import torch

    a = np.asarray(x)
    name = dtype_name(a.dtype if dtype is None else dtype)
    return torch.as_tensor(a.astype(np.float64)).to(dtype=getattr(torch, name), device=device)


def _shape(batch_shape: Sequence[int]) -> Shape:
    shape = tuple(int(b) for b in batch_shape)
    if any(b < 0 for b in shape):
        raise ValueError(f"batch_shape must have non-negative sizes, got {batch_shape}")
    return shape


def _haar(rng: np.random.Generator, shape: Shape, n: int) -> NDArray[np.float64]:
    z = rng.standard_normal((*shape, n, n))
    q, r = np.linalg.qr(z)
    return q * np.where(np.diagonal(r, axis1=-2, axis2=-1) < 0, -1.0, 1.0)[..., None, :]


def _check_n(n: int, min_value: int = 1) -> int:
    if int(n) != n or n < min_value:
        raise ValueError(f"n must be an integer ≥ {min_value}, got {n}")
    return int(n)


def haar_orthogonal(
    n: int, seed: int, *, batch_shape: Sequence[int] = (), dtype: Any = "float64", device: str | None = None
) -> Any:
    r"""A Haar-distributed element of O(n) (a batch of them with ``batch_shape``), from ``seed``.

    Built as :math:`Q\,\operatorname{sign}(\operatorname{diag} R)` from the QR decomposition of a
    standard Gaussian matrix drawn by ``numpy.random.default_rng(seed)`` (Mezzadri 2007), so its
    determinant is +1 or −1 with probability 1/2 each.

    >>> Q = haar_orthogonal(3, 0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(3))), haar_orthogonal(2, 7, batch_shape=(4,)).shape
    (True, (4, 2, 2))
    """
    n = _check_n(n)
    return _finish(_haar(np.random.default_rng(seed), _shape(batch_shape), n), dtype, device)


def _special(q: NDArray[np.float64]) -> NDArray[np.float64]:
    q = q.copy()
    flip = np.linalg.det(q) < 0
    q[..., :, 0] = np.where(flip[..., None], -q[..., :, 0], q[..., :, 0])
    return q


def haar_rotation(
    n: int, seed: int, *, batch_shape: Sequence[int] = (), dtype: Any = "float64", device: str | None = None
) -> Any:
    """A Haar-distributed rotation in SO(n): :func:`haar_orthogonal` with its first column negated
    where the determinant is −1 (right multiplication by a fixed reflection preserves Haar measure).

    >>> round(float(np.linalg.det(haar_rotation(4, 1))), 12)
    1.0
    """
    n = _check_n(n)
    return _finish(_special(_haar(np.random.default_rng(seed), _shape(batch_shape), n)), dtype, device)


def _planes(n: int, k: int, det: int) -> int:
    """Coordinates left after ``k`` planes; checks that an n×n matrix has room for the spectrum."""
    rest = n - 2 * k
    if rest < 0 or (det == -1 and rest < 1):
        need, extra = 2 * k + (det == -1), " and an eigenvalue −1" if det == -1 else ""
        raise ValueError(f"{k} rotation planes{extra} need n ≥ {need}, got n = {n}")
    return rest


def orthogonal_with_angles(
    angles: ArrayLike,
    seed: int | None,
    *,
    n: int | None = None,
    det: int = 1,
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""The orthogonal matrix :math:`V\,B\,V^\top` with prescribed eigen-angles, conjugated by a Haar ``V``.

    .. math:: B = M(\varphi_1) \oplus \cdots \oplus M(\varphi_k) \oplus \operatorname{diag}(1, \ldots, 1, \det),
              \quad M(\varphi) = \begin{pmatrix}\cos\varphi & -\sin\varphi\\ \sin\varphi & \cos\varphi\end{pmatrix}

    so the eigenvalues are :math:`e^{\pm i\varphi_j}`, then ``n − 2k`` eigenvalues 1, the last of
    them replaced by −1 when ``det = −1`` (a reflection, in O(n) \ SO(n)).

    Parameters
    ----------
    angles : array_like, shape ``(..., k)``
        The plane angles :math:`\varphi_j`; leading dimensions make a batch.
    seed : int or None
        Seed of the Haar ``V`` (:func:`haar_orthogonal`, one per batch element); ``None``: ``V = I``
        (axis-aligned blocks: exactly −I₂ for an angle ±π, exactly I₂ for 0).
    n : int, optional
        Size, at least ``2k + (det == −1)`` (the default).
    det : {1, −1}
        The determinant.

    Notes
    -----
    The product is formed in float64, so after conjugation an angle given as exactly π (or 0) is
    π (or 0) to a few eps, as any orthogonal matrix computed in floating point; exact only with
    ``seed=None``.

    >>> R = orthogonal_with_angles([np.pi, 0.5], seed=3)
    >>> np.round(np.sort(np.abs(np.angle(np.linalg.eigvals(R)))), 6)
    array([0.5     , 0.5     , 3.141593, 3.141593])
    >>> round(float(np.linalg.det(orthogonal_with_angles([0.3], 0, n=4, det=-1))), 12)
    -1.0
    """
    phi = np.asarray(angles, dtype=np.float64)
    if phi.ndim == 0:
        phi = phi[None]
    if not np.isfinite(phi).all():
        raise ValueError("angles must be finite")
    if det not in (1, -1):
        raise ValueError(f"det must be 1 or −1, got {det}")
    k = phi.shape[-1]
    n = 2 * k + (det == -1) if n is None else _check_n(n)
    if n < 1:
        raise ValueError("an empty spectrum needs n ≥ 1 (pass n=)")
    _planes(n, k, det)
    shape = phi.shape[:-1]
    b = np.zeros((*shape, n, n))
    c, s = np.cos(phi), np.sin(phi)
    pi = np.abs(phi) == np.pi  # the block of an angle given as exactly ±π is exactly −I₂ (sin π ≠ 0 in floats)
    c, s = np.where(pi, -1.0, c), np.where(pi, 0.0, s)
    i = 2 * np.arange(k)
    b[..., i, i], b[..., i, i + 1], b[..., i + 1, i], b[..., i + 1, i + 1] = c, -s, s, c
    tail = np.arange(2 * k, n)
    b[..., tail, tail] = 1.0
    if det == -1:
        b[..., n - 1, n - 1] = -1.0
    if seed is not None:
        v = _haar(np.random.default_rng(seed), shape, n)
        b = v @ b @ np.swapaxes(v, -1, -2)
    return _finish(b, dtype, device)


def rotation_with_generator_norm(
    norm: ArrayLike,
    seed: int | None,
    *,
    n: int,
    det: int = 1,
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""A one-plane rotation whose generator :math:`A = \log R` has a prescribed 1-norm.

    It is ``orthogonal_with_angles((phi,), seed, n=n, det=det)`` with
    :math:`\varphi = \mathrm{norm} / c`, capped at π, where
    :math:`c = \lVert V J V^\top\rVert_1`, ``V`` is the Haar draw of ``seed`` and ``J`` the unit
    generator of the first plane.

    The 1-norm (largest column sum) is what scaling-and-squaring exponentials test to choose
    their degree and number of squarings (``scipy.linalg.expm``, ``torch.linalg.matrix_exp``), so
    this puts that norm where it is wanted whatever the conjugation; leading dimensions of
    ``norm`` make a batch.

    >>> R = rotation_with_generator_norm(0.5, seed=4, n=5)
    >>> import orthornn
    >>> round(float(np.abs(orthornn.so_log(R)).sum(0).max()), 12)
    0.5
    """
    target = np.asarray(norm, dtype=np.float64)
    if not np.isfinite(target).all() or (target < 0).any():
        raise ValueError("norm must be finite and ≥ 0")
    n = _check_n(n, 2 + (det == -1))
    J = np.zeros((n, n))
    J[1, 0], J[0, 1] = 1.0, -1.0
    if seed is not None:
        v = _haar(np.random.default_rng(seed), target.shape, n)
        J = v @ J @ np.swapaxes(v, -1, -2)
    c = np.abs(J).sum(-2).max(-1)
    phi = np.minimum(target / c, np.pi)
    return orthogonal_with_angles(phi[..., None], seed, n=n, det=det, dtype=dtype, device=device)


def nearly_orthogonal(
    n: int,
    seed: int,
    defect: float,
    *,
    batch_shape: Sequence[int] = (),
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""A matrix ``M`` at a prescribed distance from O(n): :math:`\lVert M^\top M - I\rVert_{\max} =` ``defect``.

    :math:`M = Q\,U \operatorname{diag}(\sqrt{1 + d_i})\,U^\top` with ``Q``, ``U`` Haar and the
    vector ``d`` scaled so that :math:`\lVert U\operatorname{diag}(d)U^\top\rVert_{\max}` is the
    defect exactly (up to the rounding of M and MᵀM, a few float64 eps). Rounding to float32 moves the defect by up
    to ~1e-7, so float32 draws control it only above that. Needs ``0 ≤ defect ≤ 1/(2n)`` (so every
    singular value of ``M`` is at least :math:`1/\sqrt 2`).

    >>> M = nearly_orthogonal(5, 0, 1e-6)
    >>> round(float(np.abs(M.T @ M - np.eye(5)).max()) / 1e-6, 6)
    1.0
    """
    n = _check_n(n)
    if not 0 <= defect <= 0.5 / n:
        raise ValueError(f"defect must be in [0, 1/(2n)] = [0, {0.5 / n:.3g}], got {defect}")
    rng = np.random.default_rng(seed)
    shape = _shape(batch_shape)
    q, u = _haar(rng, shape, n), _haar(rng, shape, n)
    d = rng.uniform(-1.0, 1.0, (*shape, n))
    gram = (u * d[..., None, :]) @ np.swapaxes(u, -1, -2)  # U diag(d) Uᵀ
    scale = defect / np.abs(gram).max(axis=(-2, -1), keepdims=True)[..., 0]
    d = d * scale
    m = q @ (u * np.sqrt(1.0 + d)[..., None, :]) @ np.swapaxes(u, -1, -2)
    return _finish(m, dtype, device)


def nearly_skew(
    n: int,
    seed: int,
    defect: float,
    *,
    max_abs: float = 4.0,
    batch_shape: Sequence[int] = (),
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""A matrix ``A = K + tE`` at a prescribed relative distance from so(n):
    :math:`\lVert A + A^\top\rVert_{\max} / \max(1, \lVert A\rVert_{\max}) =` ``defect`` (orthornn's
    skew defect, docs/conventions.md).

    ``K`` is skew with entries uniform in [−max_abs, max_abs], ``E`` a dense symmetric matrix with
    :math:`\lVert E\rVert_{\max} = 1`, and ``t`` solves :math:`t = \tfrac{\text{defect}}{2}\max(1,
    \lVert K + tE\rVert_{\max})` (a contraction: fixed-point iteration). Needs ``0 ≤ defect ≤ 1``.

    >>> A = nearly_skew(4, 0, 1e-9)
    >>> round(float(np.abs(A + A.T).max() / max(1.0, np.abs(A).max())) / 1e-9, 6)
    1.0
    """
    n = _check_n(n)
    if not 0 <= defect <= 1:
        raise ValueError(f"defect must be in [0, 1], got {defect}")
    rng = np.random.default_rng(seed)
    shape = _shape(batch_shape)
    x = rng.uniform(-max_abs, max_abs, (*shape, n, n))
    k = np.triu(x, 1) - np.swapaxes(np.triu(x, 1), -1, -2)
    y = rng.uniform(-1.0, 1.0, (*shape, n, n))
    e = np.triu(y) + np.swapaxes(np.triu(y, 1), -1, -2)
    e /= np.abs(e).max(axis=(-2, -1), keepdims=True)
    t = np.zeros((*shape, 1, 1))
    for _ in range(200):
        t_new = 0.5 * defect * np.maximum(1.0, np.abs(k + t * e).max(axis=(-2, -1), keepdims=True))
        if np.array_equal(t_new, t):
            break
        t = t_new
    return _finish(k + t * e, dtype, device)


#: Kinds of step in :func:`rotation_product`, with their probabilities.
_STEP_KINDS = {"generic": 0.6, "nearly_antiparallel": 0.15, "antiparallel": 0.1, "nearly_parallel": 0.1, "zero": 0.05}


def rotation_product(
    n: int,
    seed: int,
    steps: int,
    *,
    batch_shape: Sequence[int] = (),
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""A RUM memory after ``steps`` updates: :math:`R = R(a_T, b_T) \cdots R(a_1, b_1)` (RUM eq. 1).

    The pairs come from ``default_rng(seed)``: Gaussian pairs (60 %), nearly antiparallel
    (``b = −a + 10⁻⁸·noise``, 15 %), exactly antiparallel (``b = −2a``, 10 %), nearly parallel
    (10 %) and a zero vector (``R = I``, 5 %), so the product exercises orthornn's θ = π and
    zero-vector conventions. Each factor is :func:`orthornn.rotation`, the product is formed in
    float64. ``n ≥ 2``.

    >>> R = rotation_product(4, 0, 50)
    >>> bool(np.allclose(R.T @ R, np.eye(4))), round(float(np.linalg.det(R)), 12)
    (True, 1.0)
    """
    from ..numeric.rotation import rotation

    n = _check_n(n, 2)
    if steps < 0:
        raise ValueError(f"steps must be ≥ 0, got {steps}")
    rng = np.random.default_rng(seed)
    shape = _shape(batch_shape)
    a = rng.standard_normal((*shape, steps, n))
    b = rng.standard_normal((*shape, steps, n))
    kind = rng.choice(len(_STEP_KINDS), size=(*shape, steps), p=list(_STEP_KINDS.values()))
    b = np.where((kind == 1)[..., None], -a + 1e-8 * b, b)
    b = np.where((kind == 2)[..., None], -2.0 * a, b)
    b = np.where((kind == 3)[..., None], 3.0 * a + 1e-8 * b, b)
    a = np.where((kind == 4)[..., None], 0.0, a)
    r = np.broadcast_to(np.eye(n), (*shape, n, n)).copy()
    if steps:
        factors = rotation(a, b)
        for t in range(steps):
            r = factors[..., t, :, :] @ r
    return _finish(r, dtype, device)


def givens_mesh(
    n: int,
    phases: ArrayLike,
    *,
    layout: str = "clements",
    det: int = 1,
    dtype: Any = "float64",
    device: str | None = None,
) -> Any:
    r"""The matrix of a Givens mesh :math:`U = D\,\Lambda_{L-1}\cdots\Lambda_0` (EUNN; :func:`orthornn.givens_compose`).

    ``phases`` has shape ``(..., P)`` with ``P`` the number of rotations of ``layout``
    (``n(n−1)/2`` for ``'clements'`` and ``'reck'``); ``D = diag(det, 1, …, 1)``.

    >>> U = givens_mesh(3, [np.pi, 0.0, 0.0], det=-1)  # G(0, 1, π) = diag(−1, −1, 1), then D
    >>> np.round(U, 12) + 0.0
    array([[ 1.,  0.,  0.],
           [ 0., -1.,  0.],
           [ 0.,  0.,  1.]])
    """
    from ..numeric.givens import _ROT_COMPOSE_MIN_N, GivensMesh, _apply_inplace, givens_compose

    n = _check_n(n)
    if det not in (1, -1):
        raise ValueError(f"det must be 1 or −1, got {det}")
    phi = np.asarray(phases, dtype=np.float64)
    signs = np.ones(n)
    signs[0] = det
    template = _mesh_template(n, layout)
    if phi.ndim == 1 and phi.shape[0] == template.phases.shape[0] and n < _ROT_COMPOSE_MIN_N and np.isfinite(phi).all():
        # givens_compose's own layer-wise route on a cached mesh of this layout (building and
        # validating a GivensMesh for n = 64 costs more than composing it): the same matrix
        y = np.eye(n)
        _apply_inplace(template, y, phi[None, :], signs[None, :], False)
        return _finish(y.T.copy(), dtype, device)
    mesh = GivensMesh.from_layout(n, layout, phases=phi, signs=signs)
    return _finish(np.asarray(givens_compose(mesh), dtype=np.float64), dtype, device)


@functools.lru_cache(maxsize=64)
def _mesh_template(n: int, layout: str) -> Any:
    """A validated mesh of ``layout`` on ``n`` coordinates (phases 0), its layer plan computed."""
    from ..numeric.givens import GivensMesh

    mesh = GivensMesh.from_layout(n, layout, phases=np.zeros(mesh_size(n, layout)))
    _ = mesh.offsets, mesh._layer_specs  # cached properties: the plan every draw reuses
    return mesh


#: The phases :func:`mesh_phases` puts at special points: 0 and π (a rotation that is ±I on its
#: plane, where decompositions lose uniqueness) and ±π/2.
MESH_SPECIAL_PHASES: tuple[float, ...] = (0.0, float(np.pi), float(np.pi / 2), float(-np.pi / 2))


def mesh_phases(n: int, seed: int, *, special: float = 0.5, layout: str = "clements") -> NDArray[np.float64]:
    r"""The ``P`` phases of a Givens mesh of ``layout`` on ``n`` coordinates, from ``seed``.

    Each phase is, independently with probability ``special``, one of
    :data:`MESH_SPECIAL_PHASES` (0, π, ±π/2, equally likely), otherwise uniform in (−π, π]
    (``numpy.random.default_rng(seed)``). :func:`givens_meshes` draws large meshes as
    ``givens_mesh(n, mesh_phases(n, seed, special=…))``: one call that rebuilds the matrix,
    instead of thousands of phases drawn (and printed) one by one.

    >>> p = mesh_phases(4, 0, special=1.0)
    >>> p.shape, bool(np.isin(p, MESH_SPECIAL_PHASES).all())
    ((6,), True)
    """
    n = _check_n(n)
    if not 0 <= special <= 1:
        raise ValueError(f"special must be in [0, 1], got {special}")
    size = mesh_size(n, layout)
    rng = np.random.default_rng(seed)
    uniform = -rng.uniform(-np.pi, np.pi, size)  # [−π, π) negated: (−π, π]
    picks = np.asarray(MESH_SPECIAL_PHASES)[rng.integers(0, len(MESH_SPECIAL_PHASES), size)]
    return np.where(rng.random(size) < special, picks, uniform)


def mesh_size(n: int, layout: str = "clements") -> int:
    """Number of phases ``P`` of a mesh of ``layout`` on ``n`` coordinates.

    >>> mesh_size(4), mesh_size(4, "reck")
    (6, 6)
    """
    return _mesh_size(int(n), layout)


@functools.lru_cache(maxsize=256)
def _mesh_size(n: int, layout: str) -> int:
    from ..numeric.givens import layout_pairs

    return sum(len(p) for p in layout_pairs(n, layout))
