r"""Hypothesis strategies and assertions for testing orthogonal layers — yours and ours.

Every strategy draws numpy arrays (float64 unless ``dtype=np.float32`` is asked for); a
dimension argument ``n`` may be an ``int`` or a strategy of ints such as :func:`dimensions`.
This module imports neither torch nor anything from :mod:`orthornn.nn`;
:func:`assert_orthogonal` accepts torch tensors all the same.

>>> from hypothesis import given
>>> import orthornn
>>> @given(vector_pairs(dimensions(2, 8), kind="nearly_antiparallel"))
... def test_rotation_is_orthogonal(pair):
...     assert_orthogonal(orthornn.rotation(*pair), special=True)
>>> test_rotation_is_orthogonal()

Strategies: :func:`dimensions`, :func:`angles`, :func:`vectors`, :func:`unit_vectors`,
:func:`vector_pairs` (kinds :data:`PAIR_KINDS`), :func:`orthogonal_matrices` (Haar on O(n)),
:func:`special_orthogonal_matrices` (Haar on SO(n)), :func:`skew_symmetric_matrices`.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Literal, get_args

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import DTypeLike, NDArray

from ._conventions import orthogonality_tolerance
from .numeric.validation import orthogonality_defect

__all__ = [
    "PAIR_KINDS",
    "PairKind",
    "angles",
    "assert_orthogonal",
    "dimensions",
    "orthogonal_matrices",
    "skew_symmetric_matrices",
    "special_orthogonal_matrices",
    "unit_vectors",
    "vector_pairs",
    "vectors",
]

FloatArray = NDArray[np.floating]
Dim = int | st.SearchStrategy[int]

PairKind = Literal["any", "generic", "nearly_collinear", "nearly_antiparallel", "parallel", "antiparallel"]
#: The kinds of :func:`vector_pairs`.
PAIR_KINDS: tuple[str, ...] = get_args(PairKind)

_SEEDS = st.integers(0, 2**32 - 1)


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _dims(n: Dim, *, min_value: int = 1) -> st.SearchStrategy[int]:
    if isinstance(n, st.SearchStrategy):
        return n
    if int(n) < min_value:
        raise ValueError(f"n must be ≥ {min_value}, got {n}")
    return st.just(int(n))


def dimensions(min_value: int = 2, max_value: int = 64) -> st.SearchStrategy[int]:
    """Dimensions ``n`` with ``min_value ≤ n ≤ max_value`` (shrinking towards ``min_value``).

    >>> from hypothesis import given
    >>> @given(dimensions(2, 5))
    ... def check(n): assert 2 <= n <= 5
    >>> check()
    """
    return st.integers(min_value, max_value)


def angles(
    min_value: float = -math.pi, max_value: float = math.pi, *, exclude_min: bool = True
) -> st.SearchStrategy[float]:
    r"""Angles in ``[min_value, max_value]`` (default the principal interval :math:`(-\pi, \pi]`).

    Besides uniform-ish floats it favours the points where formulas break: 0, ±π/2, ±π and
    their neighbours at distance 1e-8.

    >>> from hypothesis import given
    >>> @given(angles())
    ... def check(t): assert -math.pi < t <= math.pi
    >>> check()
    """
    special = (0.0, 1e-8, -1e-8, math.pi / 2, -math.pi / 2, math.pi, -math.pi, math.pi - 1e-8, 1e-8 - math.pi)
    inside = [t for t in special if (min_value < t if exclude_min else min_value <= t) and t <= max_value]
    uniform = st.floats(min_value, max_value, exclude_min=exclude_min, allow_nan=False)
    return st.one_of(st.sampled_from(inside), uniform) if inside else uniform


@st.composite
def _vector(draw: st.DrawFn, n: int, dtype: np.dtype, nonzero: bool, max_exponent: int) -> FloatArray:
    width = 32 if dtype == np.float32 else 64
    x = draw(hnp.arrays(dtype, n, elements=st.floats(-1, 1, width=width, allow_subnormal=False))).copy()
    if nonzero:  # one entry of magnitude in [1/2, 1], so max|x| ≥ 1/2 without a filter
        i = draw(st.integers(0, n - 1))
        x[i] = draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.5, 1, width=width))
    k = draw(st.integers(-max_exponent, max_exponent))
    return np.ldexp(x, k).astype(dtype)  # an exact power-of-two scale


def vectors(
    n: Dim, *, dtype: DTypeLike = np.float64, nonzero: bool = True, max_exponent: int = 20
) -> st.SearchStrategy[FloatArray]:
    """Vectors of shape ``(n,)``: entries in [−1, 1] (with many exact 0s, ±1s and ties) times an
    exact power of two ``2^k``, ``|k| ≤ max_exponent``; ``max|x| ≥ 2^(k−1)`` if ``nonzero``.

    >>> from hypothesis import given
    >>> @given(vectors(3, dtype=np.float32))
    ... def check(x): assert x.shape == (3,) and x.dtype == np.float32 and np.abs(x).max() > 0
    >>> check()
    """
    dt = _float_dtype(dtype)
    return _dims(n).flatmap(lambda m: _vector(m, dt, nonzero, max_exponent))


def unit_vectors(n: Dim, *, dtype: DTypeLike = np.float64) -> st.SearchStrategy[FloatArray]:
    """Unit vectors of shape ``(n,)`` (normalised in float64, then rounded to ``dtype``).

    >>> from hypothesis import given
    >>> @given(unit_vectors(4))
    ... def check(u): assert abs(np.linalg.norm(u) - 1) < 1e-15
    >>> check()
    """
    dt = _float_dtype(dtype)
    return vectors(n, max_exponent=0).map(lambda x: (x / np.linalg.norm(x)).astype(dt))


def _orthonormal_partner(ahat: FloatArray, d: FloatArray) -> FloatArray:
    """A unit vector ⟂ ``ahat``: ``d`` orthogonalised (twice), or ``e_k`` if ``d`` is too close."""
    u = d - (ahat @ d) * ahat
    u -= (ahat @ u) * ahat
    if np.linalg.norm(u) < 1e-3 * np.linalg.norm(d):
        k = int(np.argmin(np.abs(ahat)))
        u = -ahat[k] * ahat
        u[k] += 1
    return u / np.linalg.norm(u)


@st.composite
def _angled_pair(
    draw: st.DrawFn, n: int, dtype: np.dtype, theta: st.SearchStrategy[float]
) -> tuple[FloatArray, FloatArray]:
    if n < 2:
        raise ValueError(f"pairs at a prescribed angle need n ≥ 2, got n = {n}")
    a = draw(vectors(n))
    ahat = a / np.linalg.norm(a)
    u = _orthonormal_partner(ahat, draw(vectors(n, max_exponent=0)))
    t = draw(theta)
    rb = draw(st.floats(0.5, 1)) * 2.0 ** draw(st.integers(-20, 20))
    b = rb * (math.cos(t) * ahat + math.sin(t) * u)
    return a.astype(dtype), b.astype(dtype)


@st.composite
def _multiple_pair(draw: st.DrawFn, n: int, dtype: np.dtype, sign: float) -> tuple[FloatArray, FloatArray]:
    a = draw(vectors(n, dtype=dtype))
    beta = draw(st.one_of(st.integers(-20, 20).map(lambda k: 2.0**k), st.floats(1e-3, 1e3)))
    return a, (sign * beta * a).astype(dtype)


def _log_uniform(lo_exp: float, hi_exp: float) -> st.SearchStrategy[float]:
    return st.floats(lo_exp, hi_exp).map(lambda e: 10.0**e)


def _pairs(n: int, kind: str, dtype: np.dtype) -> st.SearchStrategy[tuple[FloatArray, FloatArray]]:
    if kind == "generic":
        return _angled_pair(n, dtype, st.floats(0.1, math.pi - 0.1))
    if kind == "nearly_collinear":  # θ ∈ [1e-8, 0.1]: 1 − c from 5e-17 to 5e-3
        return _angled_pair(n, dtype, _log_uniform(-8, -1))
    if kind == "nearly_antiparallel":
        return _angled_pair(n, dtype, _log_uniform(-8, -1).map(lambda e: math.pi - e))
    if kind == "parallel":
        return _multiple_pair(n, dtype, 1.0)
    if kind == "antiparallel":
        return _multiple_pair(n, dtype, -1.0)
    independent = st.tuples(vectors(n, dtype=dtype), vectors(n, dtype=dtype))
    kinds = [k for k in PAIR_KINDS if k != "any" and (n >= 2 or ("nearly" not in k and k != "generic"))]
    return st.one_of(independent, *(_pairs(n, k, dtype) for k in kinds))


def vector_pairs(
    n: Dim, kind: PairKind = "any", *, dtype: DTypeLike = np.float64
) -> st.SearchStrategy[tuple[FloatArray, FloatArray]]:
    r"""Pairs ``(a, b)`` of nonzero vectors of shape ``(n,)`` with a prescribed relation.

    ``kind``:

    * ``"generic"``: angle θ between them in [0.1, π − 0.1];
    * ``"nearly_collinear"``: θ log-uniform in [1e-8, 0.1], so :math:`1 - \hat a\cdot\hat b`
      reaches down to ~5e-17;
    * ``"nearly_antiparallel"``: π − θ log-uniform in [1e-8, 0.1];
    * ``"parallel"`` / ``"antiparallel"``: ``b = ±βa`` computed in ``dtype`` (β > 0 an exact
      power of two or a float in [1e-3, 1e3]), parallel to working precision;
    * ``"any"``: any of these, or two independent :func:`vectors` (which may be collinear too).

    The prescribed-angle kinds need ``n ≥ 2``; lengths of ``a`` and ``b`` vary by up to 2^±20.

    >>> from hypothesis import given
    >>> @given(vector_pairs(3, kind="nearly_collinear"))
    ... def check(pair):
    ...     a, b = pair
    ...     assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.99
    >>> check()
    """
    if kind not in PAIR_KINDS:
        raise ValueError(f"unknown pair kind {kind!r}; valid kinds: {', '.join(PAIR_KINDS)}")
    dt = _float_dtype(dtype)
    return _dims(n).flatmap(lambda m: _pairs(m, kind, dt))


def _haar_orthogonal(n: int, seed: int) -> NDArray[np.float64]:
    """Haar-distributed element of O(n): QR of a Gaussian, columns signed so diag(R) > 0."""
    z = np.random.default_rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(z)
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def orthogonal_matrices(n: Dim, *, dtype: DTypeLike = np.float64) -> st.SearchStrategy[FloatArray]:
    """Haar-random ``n×n`` orthogonal matrices (det ±1), from a seed hypothesis draws.

    Built as ``Q·sign(diag R)`` from the QR decomposition of a standard Gaussian matrix
    (Mezzadri 2007), in float64, then rounded to ``dtype``.

    >>> from hypothesis import given
    >>> @given(orthogonal_matrices(5))
    ... def check(q): assert_orthogonal(q)
    >>> check()
    """
    dt = _float_dtype(dtype)
    return st.tuples(_dims(n), _SEEDS).map(lambda ns: _haar_orthogonal(*ns).astype(dt))


def _to_special(q: NDArray[np.float64]) -> NDArray[np.float64]:
    if np.linalg.det(q) < 0:
        q = q.copy()
        q[:, 0] = -q[:, 0]
    return q


def special_orthogonal_matrices(n: Dim, *, dtype: DTypeLike = np.float64) -> st.SearchStrategy[FloatArray]:
    """Haar-random rotations in SO(n): a Haar O(n) matrix with its first column negated when
    its determinant is −1 (right multiplication by a fixed reflection preserves Haar measure).

    >>> from hypothesis import given
    >>> @given(special_orthogonal_matrices(4))
    ... def check(q): assert_orthogonal(q, special=True)
    >>> check()
    """
    dt = _float_dtype(dtype)
    return st.tuples(_dims(n), _SEEDS).map(lambda ns: _to_special(_haar_orthogonal(*ns)).astype(dt))


def skew_symmetric_matrices(
    n: Dim, *, dtype: DTypeLike = np.float64, max_abs: float = 4.0
) -> st.SearchStrategy[FloatArray]:
    """Exactly skew-symmetric ``n×n`` matrices ``A = −Aᵀ`` with entries in [−max_abs, max_abs].

    >>> from hypothesis import given
    >>> @given(skew_symmetric_matrices(3))
    ... def check(A): assert np.array_equal(A, -A.T)
    >>> check()
    """
    dt = _float_dtype(dtype)
    width = 32 if dt == np.float32 else 64
    elements = st.floats(-max_abs, max_abs, width=width, allow_subnormal=False)

    def skew(m: int) -> st.SearchStrategy[FloatArray]:
        return hnp.arrays(dt, (m, m), elements=elements).map(lambda x: np.triu(x, 1) - np.triu(x, 1).T)

    return _dims(n).flatmap(skew)


def _as_numpy(m: Any) -> np.ndarray:
    torch = sys.modules.get("torch")  # a tensor can only exist if torch was imported already
    if torch is not None and isinstance(m, torch.Tensor):
        t = m.detach().cpu()
        return np.asarray(t if t.dtype in (torch.float32, torch.float64) else t.double())
    return np.asarray(m)


def assert_orthogonal(m: Any, *, atol: float | None = None, special: bool = False) -> None:
    r"""Assert that ``m`` (an array or tensor ``(..., n, n)``) is orthogonal: :math:`\lVert M^\top M
    - I\rVert_{\max} \le` ``atol`` for every matrix of the batch, and with ``special=True``
    also :math:`\det M > 0` (a rotation, not a reflection).

    The defect is computed in float64. The default ``atol`` is
    :func:`orthornn._conventions.orthogonality_tolerance` ``(n, dtype)`` (``1e3·n·eps``).
    Raises ``AssertionError`` naming the defect (or determinant), the tolerance and the worst
    batch index.

    >>> assert_orthogonal(np.array([[0.0, -1.0], [1.0, 0.0]]), special=True)
    >>> assert_orthogonal(np.diag([1.0, -1.0]), special=True)
    Traceback (most recent call last):
    ...
    AssertionError: not a rotation: det M = -1 ≤ 0 (a reflection) at batch index ()
    """
    a = _as_numpy(m)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise AssertionError(f"expected square matrices of shape (..., n, n), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise AssertionError(f"matrix contains NaN or inf ({int((~np.isfinite(a)).sum())} entries)")
    n = a.shape[-1]
    dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    tol = orthogonality_tolerance(n, dtype) if atol is None else float(atol)
    a64 = a.astype(np.float64)
    defect = orthogonality_defect(a64)
    worst = np.unravel_index(np.argmax(defect), defect.shape)
    if defect[worst] > tol:
        raise AssertionError(
            f"not orthogonal: ‖MᵀM − I‖_max = {defect[worst]:.3g} > atol = {tol:.3g} "
            f"at batch index {tuple(int(i) for i in worst)} (n = {n})"
        )
    if special and n > 0:
        det = np.linalg.det(a64)
        low = np.unravel_index(np.argmin(det), det.shape)
        if det[low] <= 0:
            raise AssertionError(
                f"not a rotation: det M = {det[low]:.6g} ≤ 0 (a reflection) at batch index {tuple(int(i) for i in low)}"
            )
