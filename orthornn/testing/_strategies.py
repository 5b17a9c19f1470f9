r"""Hypothesis strategies: vectors and pairs (RUM's Rotation inputs), Haar matrices, and the
matrices where orthogonal code breaks — prescribed and adversarial spectra, nearly orthogonal and
nearly skew matrices, products of Rotations, Givens meshes. Matrix strategies build each draw with
one call of a public constructor (:mod:`orthornn.testing._draws`), which is how hypothesis prints
a falsifying example.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import DTypeLike, NDArray

from .._conventions import wrap_phase
from ._asserts import assert_orthogonal  # noqa: F401  (the examples use it)
from ._draws import (
    dtype_name,
    givens_mesh,
    haar_orthogonal,
    haar_rotation,
    mesh_phases,
    mesh_size,
    nearly_orthogonal,
    nearly_skew,
    orthogonal_with_angles,
    rotation_product,
    rotation_with_generator_norm,
    to_torch,
)

__all__ = [
    "EXPM_DEGREE_SWITCHES",
    "MESH_PHASES_DRAWN_SINGLY",
    "PAIR_KINDS",
    "SPECTRUM_KINDS",
    "SPECTRUM_PLANES_DRAWN_SINGLY",
    "PairKind",
    "SpectrumKind",
    "adversarial_orthogonal_matrices",
    "adversarial_rotations",
    "angles",
    "as_torch",
    "dimensions",
    "givens_meshes",
    "nearly_orthogonal_matrices",
    "nearly_skew_matrices",
    "orthogonal_matrices",
    "orthogonal_matrices_with_angles",
    "rotation_products",
    "skew_symmetric_matrices",
    "special_orthogonal_matrices",
    "spectra",
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


Shape = tuple[int, ...]
DTypes = Any  # a dtype (numpy, torch, or its name) or a strategy of them
Shapes = Sequence[int] | st.SearchStrategy[tuple[int, ...]]
Make = Callable[[st.SearchStrategy[str] | None, str | None], st.SearchStrategy[Any]]


def _dtypes(dtype: DTypes) -> st.SearchStrategy[str]:
    """``dtype`` (or each dtype a strategy draws) as its name; a fixed bad dtype fails at once."""
    if isinstance(dtype, st.SearchStrategy):
        return dtype.map(dtype_name)
    return st.just(dtype_name(dtype))


def _shapes(batch_shape: Shapes) -> st.SearchStrategy[Shape] | Shape:
    """A strategy of batch shapes, or the fixed shape as a tuple."""
    if isinstance(batch_shape, st.SearchStrategy):
        return batch_shape.map(lambda b: tuple(int(x) for x in b))
    return tuple(int(x) for x in batch_shape)


def _strategy(x: Any) -> st.SearchStrategy[Any]:
    return x if isinstance(x, st.SearchStrategy) else st.just(x)


def _builds(func: Callable[..., Any], *args: st.SearchStrategy[Any], **kwargs: Any) -> st.SearchStrategy[Any]:
    """``st.builds(func, ...)``; keywords given as plain values at their default (``batch_shape=()``,
    ``device=None``) are left out, so a falsifying example prints as a short call."""
    defaults = {"batch_shape": (), "device": None}
    kept = {k: _strategy(v) for k, v in kwargs.items() if not (k in defaults and v == defaults[k])}
    return st.builds(func, *args, **kept)


def _rebuildable(make: Make) -> st.SearchStrategy[Any]:
    """The strategy ``make(None, None)`` (numpy draws), remembering how to redraw it as tensors."""
    strategy = make(None, None)
    strategy._orthornn_make = make  # type: ignore[attr-defined]  # read by as_torch
    return strategy


def orthogonal_matrices(
    n: Dim, *, dtype: DTypes = np.float64, batch_shape: Shapes = ()
) -> st.SearchStrategy[FloatArray]:
    """Haar-random ``n×n`` orthogonal matrices (det ±1): draws of :func:`haar_orthogonal`.

    Built as ``Q·sign(diag R)`` from the QR decomposition of a standard Gaussian matrix
    (Mezzadri 2007), in float64, then rounded to ``dtype`` (which may be a strategy, e.g.
    ``st.sampled_from([np.float32, np.float64])``). A falsifying draw prints as
    ``haar_orthogonal(n, seed, dtype=...)``. Haar matrices almost never have an eigenvalue near
    −1 or +1; for those use :func:`adversarial_orthogonal_matrices`.

    >>> from hypothesis import given
    >>> @given(orthogonal_matrices(5, batch_shape=(2,)))
    ... def check(q): assert q.shape == (2, 5, 5); assert_orthogonal(q)
    >>> check()
    """
    return _haar(haar_orthogonal, n, dtype, batch_shape)


def special_orthogonal_matrices(
    n: Dim, *, dtype: DTypes = np.float64, batch_shape: Shapes = ()
) -> st.SearchStrategy[FloatArray]:
    """Haar-random rotations in SO(n): draws of :func:`haar_rotation` (a Haar O(n) matrix with its
    first column negated when its determinant is −1; right multiplication by a fixed reflection
    preserves Haar measure).

    >>> from hypothesis import given
    >>> @given(special_orthogonal_matrices(4))
    ... def check(q): assert_orthogonal(q, special=True)
    >>> check()
    """
    return _haar(haar_rotation, n, dtype, batch_shape)


def _haar(draw: Any, n: Dim, dtype: DTypes, batch_shape: Shapes) -> st.SearchStrategy[FloatArray]:
    """Draws of the public constructor ``draw(n, seed, …)`` (``haar_orthogonal`` or ``haar_rotation``)."""
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        return _builds(draw, _dims(n), _SEEDS, batch_shape=shapes, dtype=dts if dt is None else dt, device=device)

    return _rebuildable(make)


def _float32_bound(x: float) -> float:
    """The float32 nearest ``x`` towards zero (hypothesis wants bounds exact in the width)."""
    y = np.float32(x)
    if abs(float(y)) > abs(x):
        y = np.nextafter(y, np.float32(0))
    return float(y)


def skew_symmetric_matrices(
    n: Dim, *, dtype: DTypes = np.float64, max_abs: float = 4.0, batch_shape: Shapes = ()
) -> st.SearchStrategy[FloatArray]:
    """Exactly skew-symmetric ``n×n`` matrices ``A = −Aᵀ`` with entries in [−max_abs, max_abs].

    In float32 the bound is the float32 nearest ``max_abs`` towards zero (so ``max_abs=0.1``
    works and is never exceeded).

    >>> from hypothesis import given
    >>> @given(skew_symmetric_matrices(3, dtype=np.float32, max_abs=0.1))
    ... def check(A): assert np.array_equal(A, -A.T) and np.abs(A).max() <= 0.1
    >>> check()
    """
    if not max_abs >= 0:
        raise ValueError(f"max_abs must be ≥ 0, got {max_abs}")
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)

    def skew(m: int, shape: Shape, name: str) -> st.SearchStrategy[FloatArray]:
        if name not in ("float32", "float64"):
            raise ValueError(f"skew_symmetric_matrices draws float32 or float64, got {name}")
        width = 32 if name == "float32" else 64
        bound = _float32_bound(max_abs) if width == 32 else float(max_abs)
        elements = st.floats(-bound, bound, width=width, allow_subnormal=False)

        rows, cols = np.triu_indices(m, 1)

        def antisym(upper: FloatArray) -> FloatArray:  # only the m(m−1)/2 free entries are drawn
            a = np.zeros((*shape, m, m), dtype=upper.dtype)
            a[..., rows, cols] = upper
            a[..., cols, rows] = -upper
            return a

        return hnp.arrays(np.dtype(name), (*shape, len(rows)), elements=elements).map(antisym)

    return st.tuples(_dims(n), _strategy(shapes), dts).flatmap(lambda t: skew(*t))


SpectrumKind = Literal[
    "zero", "pi", "near_pi", "near_zero", "repeated", "clustered", "mixed", "small", "expm", "generic", "any"
]
#: The kinds of :func:`spectra`, simplest first (``"any"`` shrinks towards the earlier ones).
SPECTRUM_KINDS: tuple[str, ...] = get_args(SpectrumKind)

_GENERIC = st.floats(-math.pi, math.pi, exclude_min=True, allow_nan=False)
_NEAR_ZERO = st.integers(1, 15).map(lambda k: 10.0**-k)
_NEAR_PI = st.integers(1, 15).map(lambda k: math.pi - 10.0**-k)
#: ``c·10⁻ᵏ``, k = 1…9, c ∈ [1, 10): small and moderate angles spread over every decade of
#: (10⁻⁹, 1), not only at its powers of ten — where a truncated series of ``exp`` (or a Padé or
#: scaling-and-squaring rule) changes its degree with the norm. Shrinks towards 0.1.
_SMALL_STEPS = 1000  # mantissas per decade: c = 1 + 9·j/1000


def _small_angle(i: int) -> float:
    """The ``i``-th point of the grid ``c·10⁻ᵏ`` (k = 1…9, c = 1, 1.009, …, 9.991)."""
    k, j = divmod(i, _SMALL_STEPS)
    return (1.0 + 9.0 * j / _SMALL_STEPS) * 10.0 ** -(k + 1)


# one integer choice per angle (cheap to draw for 32 planes), shrinking to 0.1 (or to 0)
_SMALL = st.integers(0, 9 * _SMALL_STEPS - 1).map(_small_angle)
_SMALL_OR_ZERO = st.integers(0, 9 * _SMALL_STEPS).map(lambda i: _small_angle(i - 1) if i else 0.0)
_ANY_ANGLE = st.one_of(st.just(0.0), st.just(math.pi), _NEAR_PI, _NEAR_ZERO, _SMALL, _GENERIC)

#: The norms ‖A‖₁ ≤ π at which the standard scaling-and-squaring exponentials change their degree
#: (sorted): Higham's Padé rule (2005, Table 2.3: θ₃, θ₅, θ₇, θ₉; scipy.linalg.expm) and the
#: Taylor rule of Bader, Blanes and Casas (2019; torch.linalg.matrix_exp) for float64 (degrees 2,
#: 4, 8, 12, 18, and 2θ₁₈ where the first squaring starts) and float32 (2, 4, 8, 12, 18). Just
#: below one of them the lower degree (or one squaring fewer) runs at its limit.
_PADE = (1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1, 2.097847961257068)
_TAYLOR64 = (2.580956802971767e-8, 3.397168839976962e-4, 4.991228871115323e-2, 2.996158913811580e-1, 1.090863719290036)
_TAYLOR32 = (5.978858893805233e-4, 5.116619363445086e-2, 5.800524627688768e-1, 1.461661507209034, 3.010066362817634)
EXPM_DEGREE_SWITCHES: tuple[float, ...] = tuple(sorted((*_PADE, *_TAYLOR64, 2 * _TAYLOR64[-1], *_TAYLOR32)))
_EXPM_STEPS = 1000  # points per band: θ·(1 − u), u uniform in [0, 0.3]


def _expm_angle(i: int) -> float:
    """The ``i``-th point of the bands: switch ``i // 1000`` times ``1 − 0.3·j/999``
    (j = i mod 1000): the 30 % below it, where the lower degree's error grows towards its limit
    (torch float32: ‖MᵀM − I‖ above 5e-6 for angles in [0.42, 0.58] below the switch 0.58;
    float64: above 1e-12 in [0.017, 0.050] below 0.0499). ``j = 0`` is the switch itself."""
    b, j = divmod(i, _EXPM_STEPS)
    return min(EXPM_DEGREE_SWITCHES[b] * (1.0 - 0.3 * j / (_EXPM_STEPS - 1)), math.pi)


# the switch and the point below it drawn apart (one integer over all bands would favour the
# first switches: hypothesis draws small integers more often), shrinking to the smallest switch
_EXPM = st.tuples(st.sampled_from(range(len(EXPM_DEGREE_SWITCHES))), st.integers(0, _EXPM_STEPS - 1)).map(
    lambda t: _expm_angle(t[0] * _EXPM_STEPS + t[1])
)


def _clustered(k: int) -> st.SearchStrategy[tuple[float, ...]]:
    def spread(c: float, e: int) -> tuple[float, ...]:
        return tuple(float(wrap_phase(c + j * 10.0**-e)) for j in range(k))

    return st.builds(spread, _GENERIC, st.integers(3, 15))


#: Planes of a spectrum drawn one by one (each shrinks on its own); beyond them (n > 9) the
#: remaining planes of the kinds "pi", "near_pi", "near_zero", "small", "mixed" and "generic" come
#: from one seed (:func:`_rest_angles`): the same kinds of angle, without hypothesis drawing (and
#: the shrinker walking) 32 angles one by one at n = 64, which cost 4 of every 5 ms of a draw.
SPECTRUM_PLANES_DRAWN_SINGLY = 4


def _rest_angles(kind: str, m: int, seed: int) -> tuple[float, ...]:
    """``m`` plane angles of ``kind`` from ``default_rng(seed)``, as :func:`_spectrum` draws its
    other planes: "pi" π or uniform, "near_pi" π − 10⁻ᵏ or uniform, "near_zero" 10⁻ᵏ (k = 1…15),
    "small" 0 or ``c·10⁻ᵏ`` (k = 1…9), "mixed" any of 0, π, π − 10⁻ᵏ, 10⁻ᵏ, ``c·10⁻ᵏ``, uniform,
    "generic" uniform in (−π, π]."""
    rng = np.random.default_rng(seed)
    uniform = -rng.uniform(-math.pi, math.pi, m)  # (−π, π]
    near = 10.0 ** -rng.integers(1, 16, m).astype(float)
    small = (1.0 + 9.0 * rng.integers(0, _SMALL_STEPS, m) / _SMALL_STEPS) * 10.0 ** -rng.integers(1, 10, m).astype(
        float
    )
    coin = rng.random(m) < 0.5
    pick = {
        "pi": np.where(coin, math.pi, uniform),
        "near_pi": np.where(coin, math.pi - near, uniform),
        "near_zero": near,
        "small": np.where(coin, 0.0, small),
        "expm": np.where(
            coin, 0.0, [_expm_angle(int(i)) for i in rng.integers(0, len(EXPM_DEGREE_SWITCHES) * _EXPM_STEPS, m)]
        ),
        "generic": uniform,
    }
    if kind == "mixed":
        choices = np.stack([np.zeros(m), np.full(m, math.pi), math.pi - near, near, small, uniform])
        angles_ = choices[rng.integers(0, len(choices), m), np.arange(m)]
    else:
        angles_ = pick[kind]
    return tuple(float(a) for a in angles_)


@functools.lru_cache(maxsize=512)  # a strategy validates once, not at every draw
def _spectrum(k: int, kind: str) -> st.SearchStrategy[tuple[float, ...]]:
    if k == 0:
        return st.just(())
    if kind == "zero":
        return st.just((0.0,) * k)
    if kind == "repeated":
        return angles().map(lambda a: (a,) * k)
    if kind == "clustered":
        return _clustered(k)
    if kind == "any":
        return st.one_of(*(_spectrum(k, kd) for kd in SPECTRUM_KINDS if kd != "any"))
    single = min(k, SPECTRUM_PLANES_DRAWN_SINGLY)
    head = _head(single, kind)
    if k == single:
        return head
    rest = _SEEDS.map(functools.partial(_rest_angles, kind, k - single))
    return st.tuples(head, rest).map(lambda t: t[0] + t[1])


def _head(k: int, kind: str) -> st.SearchStrategy[tuple[float, ...]]:
    """The first ``k`` planes of a spectrum of ``kind``, each angle a hypothesis draw."""
    rest = k - 1
    if kind == "pi":  # at least one plane at π (a double eigenvalue −1), the others π or generic
        return st.tuples(st.just(math.pi), *[st.one_of(st.just(math.pi), _GENERIC)] * rest)
    if kind == "near_pi":
        return st.tuples(_NEAR_PI, *[st.one_of(_NEAR_PI, _GENERIC)] * rest)
    if kind == "near_zero":
        return st.tuples(*[_NEAR_ZERO] * k)
    if kind == "small":  # one plane sets the norm; the others 0 (shrinking there) or small too
        return st.tuples(_SMALL, *[_SMALL_OR_ZERO] * rest)
    if kind == "expm":  # one plane just below a degree switch; the others 0 (shrinking there) or such
        return st.tuples(_EXPM, *[st.one_of(st.just(0.0), _EXPM)] * rest)
    if kind == "mixed":
        return st.tuples(*[_ANY_ANGLE] * k)
    if kind == "generic":
        return st.tuples(*[_GENERIC] * k)
    raise ValueError(f"unknown spectrum kind {kind!r}")


def _planes(n: int, det: int) -> int:
    return n // 2 if det == 1 else (n - 1) // 2


def spectra(n: int, kind: SpectrumKind = "any", *, det: int = 1) -> st.SearchStrategy[tuple[float, ...]]:
    r"""Eigen-angles for an ``n×n`` orthogonal matrix of determinant ``det``: tuples of
    ``⌊n/2⌋`` plane angles (``⌊(n−1)/2⌋`` when ``det = −1``), for :func:`orthogonal_with_angles`.

    ``kind`` (:data:`SPECTRUM_KINDS`, simplest first):

    * ``"zero"``: every angle exactly 0 (the identity; a reflection with ``det = −1``);
    * ``"pi"``: one angle exactly π, the others π or generic (eigenvalue −1, where the real
      logarithm is not unique and a complex ``logm`` returns ``iπ``);
    * ``"near_pi"``: one angle ``π − 10⁻ᵏ`` (k = 1…15), the others such or generic;
    * ``"near_zero"``: every angle ``10⁻ᵏ`` (identity-like: the RUM memory at t = 0);
    * ``"repeated"``: one angle (from :func:`angles`, which favours 0, ±π/2, π) in every plane;
    * ``"clustered"``: ``c, c + 10⁻ᵉ, c + 2·10⁻ᵉ, …`` (e = 3…15), a tight cluster;
    * ``"mixed"``: each angle 0, π, ``π − 10⁻ᵏ``, ``10⁻ᵏ``, ``c·10⁻ᵏ`` or generic, independently;
    * ``"small"``: one angle ``c·10⁻ᵏ``, k = 1…9, c ∈ [1, 10), the others 0 or such (small
      and moderate norms set by one plane, every decade of (10⁻⁹, 1) covered;
      ``torch.linalg.matrix_exp`` loses accuracy at ‖A‖ ≈ 0.02–0.06 in float64 and ≈ 0.4–0.6 in
      float32, between powers of ten);
    * ``"expm"``: one angle up to 30 % below one of :data:`EXPM_DEGREE_SWITCHES`, the
      norms where Padé (scipy) and Taylor (torch) scaling-and-squaring exponentials change their
      degree, the others 0 or such: the lower degree then runs at its limit, where its
      truncation error is largest (:func:`adversarial_orthogonal_matrices` of this kind place
      the generator's 1-norm there instead of the angle: :func:`rotation_with_generator_norm`);
    * ``"generic"``: uniform in (−π, π];
    * ``"any"``: one of the above; a failure shrinks towards the earliest kind that shows it.

    The first :data:`SPECTRUM_PLANES_DRAWN_SINGLY` (4) planes are drawn one by one; the planes
    beyond them (n > 9) are the same kinds of angle from one drawn seed, so a draw at n = 64 costs
    a few choices, not 32.

    >>> from hypothesis import find
    >>> find(spectra(5, "pi"), lambda a: True)  # shrinks to the simplest: −I₄ ⊕ 1
    (3.141592653589793, 3.141592653589793)
    """
    if kind not in SPECTRUM_KINDS:
        raise ValueError(f"unknown spectrum kind {kind!r}; valid kinds: {', '.join(SPECTRUM_KINDS)}")
    if det not in (1, -1):
        raise ValueError(f"det must be 1 or −1, got {det}")
    return _spectrum(_planes(int(n), det), kind)


def _spectrum_batch(shape: Shape, element: st.SearchStrategy[tuple[float, ...]]) -> st.SearchStrategy[Any]:
    if shape == ():
        return element
    count = int(np.prod(shape))
    return st.tuples(*[element] * count).map(lambda rows: np.array(rows, dtype=float).reshape(*shape, -1).tolist())


def _per_size(
    n: Dim,
    det: int | st.SearchStrategy[int],
    dtype: DTypes,
    batch_shape: Shapes,
    draw: Callable[[int, int, Shape, dict[str, Any]], st.SearchStrategy[Any]],
) -> st.SearchStrategy[FloatArray]:
    """Matrices drawn size by size: ``draw(n, det, shape, kw)`` gives the strategy of one size,
    determinant and batch shape (``kw``: the constructor's keywords ``n, det, dtype[, device]``
    as strategies), cached so that each validates once."""
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)
    dets = det if isinstance(det, st.SearchStrategy) else st.just(det)

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        @functools.lru_cache(maxsize=256)
        def build(t: tuple[int, int, Shape, str]) -> st.SearchStrategy[Any]:
            m, d, shape, name = t
            kw: dict[str, Any] = {"n": st.just(m), "det": st.just(d), "dtype": st.just(name)}
            if device is not None:
                kw["device"] = st.just(device)
            return draw(m, d, shape, kw)

        return st.tuples(_dims(n), dets, _strategy(shapes), dts if dt is None else dt).flatmap(build)

    return _rebuildable(make)


def _with_spectrum(
    n: Dim,
    spectrum: Callable[[int, int], st.SearchStrategy[tuple[float, ...]]],
    det: int | st.SearchStrategy[int],
    dtype: DTypes,
    batch_shape: Shapes,
) -> st.SearchStrategy[FloatArray]:
    def draw(m: int, d: int, shape: Shape, kw: dict[str, Any]) -> st.SearchStrategy[Any]:
        return st.builds(orthogonal_with_angles, _spectrum_batch(shape, spectrum(m, d)), _SEEDS, **kw)

    return _per_size(n, det, dtype, batch_shape, draw)


def orthogonal_matrices_with_angles(
    n: Dim | None,
    angles: Sequence[float] | st.SearchStrategy[Any],
    *,
    det: int = 1,
    dtype: DTypes = np.float64,
    batch_shape: Shapes = (),
) -> st.SearchStrategy[FloatArray]:
    r"""Orthogonal matrices with a prescribed spectrum, conjugated by a Haar draw: draws of
    :func:`orthogonal_with_angles` ``(angles, seed, n=, det=)``.

    ``angles`` is a list of plane angles (the spectrum :math:`e^{\pm i\varphi_j}`; planes beyond
    it have angle 0, eigenvalues +1), or a strategy: of floats (each of the ``⌊n/2⌋`` planes,
    ``⌊(n−1)/2⌋`` with ``det = −1``, draws its own angle — e.g. :func:`angles`) or of sequences
    (a whole spectrum at once, such as :func:`spectra`). ``n=None`` with a list: the smallest
    ``n`` that holds it.

    >>> from hypothesis import given
    >>> @given(orthogonal_matrices_with_angles(4, [math.pi, math.pi]))
    ... def check(R): assert np.allclose(R, -np.eye(4))
    >>> check()
    """
    if det not in (1, -1):
        raise ValueError(f"det must be 1 or −1, got {det}")
    if isinstance(angles, st.SearchStrategy):
        if n is None:
            raise ValueError("n is needed when angles is a strategy")

        per_plane = angles

        def spectrum(m: int, d: int) -> st.SearchStrategy[tuple[float, ...]]:
            k = _planes(m, d)

            def complete(v: Any) -> st.SearchStrategy[tuple[float, ...]]:
                if isinstance(v, Sequence | np.ndarray):  # a whole spectrum
                    return st.just(tuple(float(x) for x in v))
                return st.tuples(st.just(float(v)), *[per_plane.map(float)] * (k - 1))

            return per_plane.flatmap(complete) if k else st.just(())

        return _with_spectrum(n, spectrum, det, dtype, batch_shape)
    fixed = tuple(float(a) for a in angles)
    if n is None:
        n = 2 * len(fixed) + (det == -1) or 1

    def padded(m: int, d: int) -> st.SearchStrategy[tuple[float, ...]]:
        k = _planes(m, d)
        if len(fixed) > k:
            raise ValueError(f"{len(fixed)} angles need n ≥ {2 * len(fixed) + (d == -1)}, got n = {m}")
        return st.just(fixed + (0.0,) * (k - len(fixed)))

    return _with_spectrum(n, padded, det, dtype, batch_shape)


def adversarial_orthogonal_matrices(
    n: Dim,
    kind: SpectrumKind = "any",
    *,
    det: int | None = None,
    dtype: DTypes = np.float64,
    batch_shape: Shapes = (),
) -> st.SearchStrategy[FloatArray]:
    r"""Orthogonal matrices with the spectra where orthogonal code breaks (:func:`spectra`), each
    conjugated by a Haar draw so that the structure is not axis-aligned.

    ``det=None`` draws both determinants (a reflection has an eigenvalue −1 that no real
    logarithm, Cayley map or exponential reaches); ``det=1`` gives rotations
    (:func:`adversarial_rotations`). Shrinks towards ``det = 1`` and the simplest kind, so a
    failing test reports e.g. ``orthogonal_with_angles((3.141592653589793,), 0, n=2, det=1,
    dtype='float64')``.

    >>> from hypothesis import find
    >>> R = find(adversarial_orthogonal_matrices(3), lambda R: np.linalg.det(R) < 0)
    >>> bool(np.isclose(np.linalg.det(R), -1))
    True
    """
    if det not in (None, 1, -1):
        raise ValueError(f"det must be None, 1 or −1, got {det}")
    if kind not in SPECTRUM_KINDS:
        raise ValueError(f"unknown spectrum kind {kind!r}; valid kinds: {', '.join(SPECTRUM_KINDS)}")
    dets: int | st.SearchStrategy[int] = st.sampled_from([1, -1]) if det is None else det
    if kind == "expm":
        return _with_generator_norm(n, dets, dtype, batch_shape)
    return _with_spectrum(n, lambda m, d: _spectrum(_planes(m, d), kind), dets, dtype, batch_shape)


#: Two draws in three axis-aligned (seed None): there ‖A‖₂ = ‖A‖₁, the largest angle a degree is
#: used for. torch float32 loses 1e-5 of orthogonality at angles 0.42–0.58 below its switch 0.58,
#: which a Haar conjugation (‖A‖₁/‖A‖₂ up to ~2 at n = 8) mostly moves away from.
_EXPM_SEEDS = st.integers(0, 2).flatmap(lambda i: _SEEDS if i == 2 else st.none())


def _with_generator_norm(
    n: Dim, det: int | st.SearchStrategy[int], dtype: DTypes, batch_shape: Shapes
) -> st.SearchStrategy[FloatArray]:
    """The "expm" kind as matrices: one plane whose generator's 1-norm (not its angle) is drawn
    from the bands below :data:`EXPM_DEGREE_SWITCHES` (:func:`rotation_with_generator_norm`), so
    the Haar conjugation does not push it across a switch."""

    def draw(m: int, d: int, shape: Shape, kw: dict[str, Any]) -> st.SearchStrategy[Any]:
        if _planes(m, d) == 0:  # no plane (n = 2 with det = −1): the reflection alone
            return st.builds(orthogonal_with_angles, st.just(np.zeros((*shape, 0)).tolist()), _SEEDS, **kw)
        count = int(np.prod(shape)) if shape else 0
        norms = _EXPM if not shape else st.tuples(*[_EXPM] * count).map(lambda v: np.reshape(v, shape).tolist())
        return st.builds(rotation_with_generator_norm, norms, _EXPM_SEEDS, **kw)

    return _per_size(n, det, dtype, batch_shape, draw)


def adversarial_rotations(
    n: Dim, kind: SpectrumKind = "any", *, dtype: DTypes = np.float64, batch_shape: Shapes = ()
) -> st.SearchStrategy[FloatArray]:
    r"""Rotations in SO(n) with adversarial spectra: :func:`adversarial_orthogonal_matrices` with ``det=1``.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(adversarial_rotations(4, "pi"))
    ... def check(R):  # an eigenvalue −1 (angle π), to rounding
    ...     assert np.abs(np.linalg.eigvals(R) + 1).min() < 1e-7
    >>> check()
    """
    return adversarial_orthogonal_matrices(n, kind, det=1, dtype=dtype, batch_shape=batch_shape)


def _defects(default_exponents: tuple[int, int]) -> st.SearchStrategy[float]:
    return st.integers(*default_exponents).map(lambda k: 10.0**-k)


def nearly_orthogonal_matrices(
    n: Dim,
    defect: float | st.SearchStrategy[float] | None = None,
    *,
    dtype: DTypes = np.float64,
    batch_shape: Shapes = (),
) -> st.SearchStrategy[FloatArray]:
    r"""Matrices at a controlled distance from O(n) (:func:`nearly_orthogonal`):
    :math:`\lVert M^\top M - I\rVert_{\max}` equals ``defect`` — what a float32 layer drifts to
    after many optimiser steps, for testing validation and tolerances.

    ``defect`` is a float or a strategy; the default draws ``10⁻ᵏ``, k = 2…14, kept above
    ``100·eps(dtype)`` (below that rounding, not the draw, sets the defect) and capped at
    ``1/(2n)``.

    >>> from hypothesis import given
    >>> @given(nearly_orthogonal_matrices(6, 1e-3))
    ... def check(M): assert abs(np.abs(M.T @ M - np.eye(6)).max() - 1e-3) < 1e-12
    >>> check()
    """
    defects = _defects((2, 14)) if defect is None else defect
    defects = defects if isinstance(defects, st.SearchStrategy) else st.just(float(defects))
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)
    capped = defect is None

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        @functools.lru_cache(maxsize=256)  # one strategy per size, shape and dtype, validated once
        def build(t: tuple[int, Shape, str]) -> st.SearchStrategy[Any]:
            m, shape, name = t
            floor = 100 * float(np.finfo(name).eps)
            ds = defects.map(lambda d: min(max(d, floor), 0.5 / m)) if capped else defects
            return _builds(nearly_orthogonal, st.just(m), _SEEDS, ds, batch_shape=shape, dtype=name, device=device)

        return st.tuples(_dims(n), _strategy(shapes), dts if dt is None else dt).flatmap(build)

    return _rebuildable(make)


def nearly_skew_matrices(
    n: Dim,
    defect: float | st.SearchStrategy[float] | None = None,
    *,
    max_abs: float = 4.0,
    dtype: DTypes = np.float64,
    batch_shape: Shapes = (),
) -> st.SearchStrategy[FloatArray]:
    r"""Matrices at a controlled relative distance from so(n) (:func:`nearly_skew`):
    :math:`\lVert A + A^\top\rVert_{\max}/\max(1, \lVert A\rVert_{\max})` equals ``defect``
    (default ``10⁻ᵏ``, k = 2…14; rounding to float32 adds up to ~1e-7).

    >>> from hypothesis import given
    >>> @given(nearly_skew_matrices(3, 1e-6))
    ... def check(A): assert abs(np.abs(A + A.T).max() / max(1, np.abs(A).max()) - 1e-6) < 1e-15
    >>> check()
    """
    defects = _defects((2, 14)) if defect is None else defect
    defects = defects if isinstance(defects, st.SearchStrategy) else st.just(float(defects))
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        @functools.lru_cache(maxsize=256)  # one strategy per size, shape and dtype, validated once
        def build(t: tuple[int, Shape, str]) -> st.SearchStrategy[Any]:
            m, shape, name = t
            return _builds(
                nearly_skew, st.just(m), _SEEDS, defects, max_abs=max_abs, batch_shape=shape, dtype=name, device=device
            )

        return st.tuples(_dims(n), _strategy(shapes), dts if dt is None else dt).flatmap(build)

    return _rebuildable(make)


def rotation_products(
    n: Dim,
    steps: int | st.SearchStrategy[int] | None = None,
    *,
    dtype: DTypes = np.float64,
    batch_shape: Shapes = (),
) -> st.SearchStrategy[FloatArray]:
    r"""RUM memories: products of ``steps`` Rotations (:func:`rotation_product`), with exactly
    and nearly antiparallel pairs and zero vectors among the factors. ``steps`` defaults to
    1…100; ``n ≥ 2``.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(rotation_products(5, steps=200))
    ... def check(R): assert_orthogonal(R, special=True, scale=200)  # rounding grows with the steps
    >>> check()
    """
    counts = st.integers(1, 100) if steps is None else steps
    counts = counts if isinstance(counts, st.SearchStrategy) else st.just(int(counts))
    dts, shapes = _dtypes(dtype), _shapes(batch_shape)

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        return _builds(
            rotation_product,
            _dims(n, min_value=2),
            _SEEDS,
            counts,
            batch_shape=shapes,
            dtype=dts if dt is None else dt,
            device=device,
        )

    return _rebuildable(make)


#: Phases of :func:`givens_meshes` by default: 0 and π (where a rotation is ±I on its plane and
#: decompositions lose their uniqueness), π/2, and any angle.
_MESH_PHASES = st.one_of(st.just(0.0), st.just(math.pi), st.just(math.pi / 2), angles())

#: Meshes of at most this many phases (n ≤ 8 for 'clements') draw each phase with hypothesis (it
#: shrinks them one by one); larger ones draw a seed and a fraction of special phases for
#: :func:`mesh_phases` (drawing and printing 2,016 phases one by one, n = 64, cost more than the
#: matrix and read as nothing).
MESH_PHASES_DRAWN_SINGLY = 28

#: Fractions of special phases (0, π, ±π/2) of a large default mesh, simplest first.
_MESH_SPECIAL = st.sampled_from([1.0, 0.5, 0.9, 0.1, 0.0])


def givens_meshes(
    n: Dim,
    *,
    layout: str = "clements",
    phases: st.SearchStrategy[float] | None = None,
    det: int | None = None,
    dtype: DTypes = np.float64,
) -> st.SearchStrategy[FloatArray]:
    r"""Matrices of Givens meshes (EUNN): draws of :func:`givens_mesh` ``(n, phases, layout=, det=)``.

    Each phase is drawn from ``phases``, by default 0 and π (a rotation that is ±I on its plane)
    as often as π/2 and :func:`angles` — the phases at which decompositions lose uniqueness;
    ``det=None`` draws both signs of ``D = diag(det, 1, …, 1)``. With the default ``phases``, a
    mesh of more than :data:`MESH_PHASES_DRAWN_SINGLY` phases (n > 8) takes them from
    :func:`mesh_phases` ``(n, seed, special=f)``, ``f`` the fraction at 0, π, ±π/2 (1, 0.5, 0.9,
    0.1 or 0), and prints as ``givens_mesh(64, mesh_phases(64, seed, special=0.5), …)``.

    >>> from hypothesis import given
    >>> @given(givens_meshes(4, det=1))
    ... def check(U): assert_orthogonal(U, special=True)
    >>> check()
    """
    if det not in (None, 1, -1):
        raise ValueError(f"det must be None, 1 or −1, got {det}")
    each = _MESH_PHASES if phases is None else phases
    dets = st.sampled_from([1, -1]) if det is None else st.just(det)
    dts = _dtypes(dtype)

    def make(dt: st.SearchStrategy[str] | None, device: str | None) -> st.SearchStrategy[Any]:
        @functools.lru_cache(maxsize=256)
        def build(t: tuple[int, int, str]) -> st.SearchStrategy[Any]:
            m, d, name = t
            size = mesh_size(m, layout)
            if phases is None and size > MESH_PHASES_DRAWN_SINGLY:
                drawn = st.builds(mesh_phases, st.just(m), _SEEDS, special=_MESH_SPECIAL, layout=st.just(layout))
            else:
                drawn = hnp.arrays(np.float64, size, elements=each).map(lambda p: tuple(p.tolist()))
            return st.builds(
                givens_mesh,
                st.just(m),
                drawn,
                layout=st.just(layout),
                det=st.just(d),
                dtype=st.just(name),
                **({} if device is None else {"device": st.just(device)}),
            )

        return st.tuples(_dims(n), dets, dts if dt is None else dt).flatmap(build)

    return _rebuildable(make)


def as_torch(strategy: st.SearchStrategy[Any], *, dtype: Any = None, device: str = "cpu") -> st.SearchStrategy[Any]:
    """The draws of ``strategy`` as torch tensors of ``dtype`` (default: the draw's own) on ``device``.

    A matrix strategy of this module is redrawn by the same constructor with ``device=`` (so a
    falsifying example still prints as a call that rebuilds it, e.g. ``haar_orthogonal(3, 0,
    dtype='float32', device='cpu')``); any other strategy of arrays, or tuples of arrays (such as
    :func:`vector_pairs`), is converted with :func:`to_torch`. ``dtype`` may be a torch dtype,
    its name, or a strategy of them (``'bfloat16'`` and ``'float16'`` included). torch is
    imported at the first draw, not before.

    >>> from hypothesis import given
    >>> @given(as_torch(special_orthogonal_matrices(3), dtype="float32"))
    ... def check(R): assert str(R.dtype) == "torch.float32"; assert_orthogonal(R, special=True)
    >>> check()
    """
    dts = None if dtype is None else _dtypes(dtype)
    make = getattr(strategy, "_orthornn_make", None)
    if make is not None:
        return make(dts, device)

    def convert(x: Any, name: str | None) -> Any:
        if isinstance(x, tuple):
            return tuple(convert(y, name) for y in x)
        return to_torch(x, dtype=name, device=device)

    if dts is None:
        return strategy.map(lambda x: convert(x, None))
    return st.tuples(strategy, dts).map(lambda t: convert(*t))
