r"""Assertions for test suites: orthogonal (or unitary), semi-orthogonal, skew — on numpy arrays
or torch tensors (``requires_grad``, any device, float16 and bfloat16 included), batched over
leading dimensions, with the defect reported in units of eps.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = [
    "ORTHOGONALITY_EPS_PER_SQRT_N",
    "assert_orthogonal",
    "assert_semi_orthogonal",
    "assert_skew",
    "orthogonality_tolerance",
]

#: Default tolerance of the assertions, in units of ``sqrt(n)·eps(dtype)``; see
#: :func:`orthogonality_tolerance` and docs/conventions.md for the measurements behind it.
ORTHOGONALITY_EPS_PER_SQRT_N = 32.0

#: Machine epsilon per dtype name (bfloat16 has 8 significand bits: eps = 2⁻⁷).
_EPS = {
    "float64": float(np.finfo(np.float64).eps),
    "float32": float(np.finfo(np.float32).eps),
    "float16": float(np.finfo(np.float16).eps),
    "bfloat16": 2.0**-7,
}


def _eps(dtype: Any) -> float:
    name = str(dtype).removeprefix("torch.")
    name = {"complex128": "float64", "complex64": "float32", "complex32": "float16"}.get(name, name)
    if name not in _EPS:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
        name = {"complex128": "float64", "complex64": "float32"}.get(name, name)
    if name not in _EPS:
        expected = "float16, bfloat16, float32 or float64 (or complex)"
        raise ValueError(f"no tolerance for dtype {dtype!r}: expected {expected}")
    return _EPS[name]


def orthogonality_tolerance(n: int, dtype: Any = np.float64, *, scale: float = 1.0) -> float:
    r"""Default tolerance of :func:`assert_orthogonal` for an ``n×n`` result of ``dtype``.

    .. math:: \mathrm{tol} = 32\,\sqrt{\max(n, 1)}\;\max(1, \text{scale})\;\varepsilon(\text{dtype})

    A matrix accurate to rounding has defect :math:`\lVert Q^\top Q - I\rVert_{\max} \le
    \varepsilon` whatever ``n``; backward-stable algorithms (QR, Cayley, products of a few
    reflections) stay within a few :math:`\sqrt n\,\varepsilon`. ``scale`` states how much work
    the result took where rounding grows with it: ``‖A‖₂`` for ``exp(A)`` by scaling and squaring,
    the number of factors for a product of rotations. ``dtype`` is a numpy or torch dtype or its
    name (float16 and bfloat16 included; a complex dtype uses its real part's eps).

    orthornn's numeric functions *accept* inputs up to the looser ``1e3·n·eps``
    (:func:`orthornn._conventions.orthogonality_tolerance`): how far a user's weights may drift
    is a different question from how accurate a computed result should be.

    >>> orthogonality_tolerance(64, np.float32)  # 32·8·eps(float32)
    3.0517578125e-05
    >>> orthogonality_tolerance(64, "float32", scale=10) / orthogonality_tolerance(64, "float32")
    10.0
    """
    if not scale >= 0:
        raise ValueError(f"scale must be ≥ 0, got {scale}")
    return float(ORTHOGONALITY_EPS_PER_SQRT_N * math.sqrt(max(int(n), 1)) * max(1.0, float(scale)) * _eps(dtype))


def _square(m: Any) -> tuple[np.ndarray, str, int]:
    """``m`` as an array of finite square matrices ``(..., n, n)``, its dtype's name and ``n``."""
    __tracebackhide__ = True
    a, name = _as_array(m)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise AssertionError(f"expected square matrices of shape (..., n, n), got shape {a.shape}")
    _check_finite(a)
    return a, name, a.shape[-1]


def _as_array(m: Any) -> tuple[np.ndarray, str]:
    """``m`` as a float64 or complex128 array, and the name of its original dtype."""
    torch = sys.modules.get("torch")  # a tensor can only exist if torch was imported already
    if torch is not None and isinstance(m, torch.Tensor):
        t = m.detach().resolve_conj().cpu()
        name = str(t.dtype).removeprefix("torch.")
        if t.is_complex():
            return t.to(torch.complex128).numpy(), name
        if t.is_floating_point():
            return t.to(torch.float64).numpy(), name
        return t.to(torch.float64).numpy(), "float64"
    a = np.asarray(m)
    if a.dtype.kind == "c":
        return a.astype(np.complex128), a.dtype.name
    if a.dtype.kind == "f":
        return a.astype(np.float64), a.dtype.name
    if a.dtype.kind in "iub":
        return a.astype(np.float64), "float64"
    raise TypeError(f"expected a numeric array or tensor, got dtype {a.dtype}")


def _where(index: tuple[int, ...]) -> str:
    return f" at batch index {index}" if index else ""


def _worst(defect: np.ndarray) -> tuple[float, tuple[int, ...]]:
    flat = int(np.argmax(defect))
    index = tuple(int(i) for i in np.unravel_index(flat, defect.shape))
    return float(defect[index]), index


def _check_finite(a: np.ndarray) -> None:
    __tracebackhide__ = True
    bad = ~np.isfinite(a)
    if bad.any():
        raise AssertionError(f"matrix contains NaN or inf ({int(bad.sum())} of {a.size} entries)")


def _tolerance(n: int, name: str, atol: float | None, scale: float) -> float:
    return orthogonality_tolerance(n, name, scale=scale) if atol is None else float(atol)


def _report(what: str, defect: float, tol: float, eps: float, index: tuple[int, ...], detail: str) -> str:
    return (
        f"{what} = {defect:.3g} ({defect / eps:.3g} eps) > atol = {tol:.3g} ({tol / eps:.3g} eps)"
        f"{_where(index)} ({detail})"
    )


def _gram_defect(a: np.ndarray, rows: bool) -> np.ndarray:
    """``‖MᴴM − I‖_max`` (or ``‖MMᴴ − I‖_max`` with ``rows``) per matrix; 0 for an empty batch."""
    h = np.conj(np.swapaxes(a, -1, -2))
    gram = a @ h if rows else h @ a
    k = gram.shape[-1]
    return np.abs(gram - np.eye(k)).max(axis=(-2, -1), initial=0.0)


def assert_orthogonal(m: Any, *, atol: float | None = None, scale: float = 1.0, special: bool = False) -> None:
    r"""Assert that ``m`` (an array or tensor ``(..., n, n)``) is orthogonal: :math:`\lVert M^\top M
    - I\rVert_{\max} \le` ``atol`` for every matrix of the batch; with ``special=True`` also
    :math:`\det M > 0` (a rotation, not a reflection). Complex input is checked for being
    *unitary* (:math:`\lVert M^H M - I\rVert_{\max}`).

    The defect is computed in float64 (complex128), so the check adds no rounding of its own. The
    default ``atol`` is :func:`orthogonality_tolerance` ``(n, dtype, scale=scale)``, ``32·√n·eps``:
    the eps of the input's dtype (float16 and bfloat16 tensors get theirs). An empty batch
    passes. Raises ``AssertionError`` naming the defect (also in eps), the tolerance, the worst
    batch index (for a batch) and the dtype.

    >>> assert_orthogonal(np.array([[0.0, -1.0], [1.0, 0.0]]), special=True)
    >>> assert_orthogonal(np.diag([1.0, -1.0]), special=True)
    Traceback (most recent call last):
    ...
    AssertionError: not a rotation: det M = -1 ≤ 0 (a reflection) (n = 2, float64)
    >>> assert_orthogonal(np.array([[1.0, 1e-6], [0.0, 1.0]]))
    Traceback (most recent call last):
    ...
    AssertionError: not orthogonal: ‖MᵀM − I‖_max = 1e-06 (4.5e+09 eps) > atol = 1e-14 (45.3 eps) (n = 2, float64)
    """
    __tracebackhide__ = True
    a, name, n = _square(m)
    complex_input = a.dtype.kind == "c"
    if complex_input and special:
        raise ValueError("special=True applies to real matrices (det > 0); for SU(n) check det M = 1 yourself")
    tol = _tolerance(n, name, atol, scale)
    defect = _gram_defect(a, rows=False)
    if defect.size == 0:
        return
    worst, index = _worst(defect)
    detail = f"n = {n}, {name}"
    if worst > tol:
        what = "not unitary: ‖MᴴM − I‖_max" if complex_input else "not orthogonal: ‖MᵀM − I‖_max"
        raise AssertionError(_report(what, worst, tol, _eps(name), index, detail))
    if special and n > 0:
        det = np.linalg.det(a)
        low = tuple(int(i) for i in np.unravel_index(int(np.argmin(det)), det.shape))
        if det[low] <= 0:
            raise AssertionError(f"not a rotation: det M = {det[low]:.6g} ≤ 0 (a reflection){_where(low)} ({detail})")


def assert_semi_orthogonal(m: Any, *, atol: float | None = None, scale: float = 1.0) -> None:
    r"""Assert that ``m`` ``(..., r, c)`` has orthonormal columns (:math:`M^\top M = I_c`, when
    ``r ≥ c``: a point of the Stiefel manifold) or orthonormal rows (:math:`MM^\top = I_r`, when
    ``r < c``) — the weight of a rectangular orthogonal layer, in either orientation.

    The default ``atol`` is :func:`orthogonality_tolerance` ``(max(r, c), dtype, scale=scale)``.
    Complex input is checked with :math:`M^H`.

    >>> Q = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 3)))[0]
    >>> assert_semi_orthogonal(Q); assert_semi_orthogonal(Q.T)
    >>> assert_semi_orthogonal(2 * Q.T)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: rows not orthonormal: ‖MMᵀ − I‖_max = 3 (1.35e+16 eps) > atol = 1.59e-14 ... (shape (3, 5), float64)
    """
    __tracebackhide__ = True
    a, name = _as_array(m)
    if a.ndim < 2:
        raise AssertionError(f"expected matrices of shape (..., r, c), got shape {a.shape}")
    _check_finite(a)
    r, c = a.shape[-2:]
    rows = r < c
    tol = _tolerance(max(r, c), name, atol, scale)
    defect = _gram_defect(a, rows=rows)
    if defect.size == 0:
        return
    worst, index = _worst(defect)
    if worst > tol:
        t = "ᴴ" if a.dtype.kind == "c" else "ᵀ"
        what = f"rows not orthonormal: ‖MM{t} − I‖_max" if rows else f"columns not orthonormal: ‖M{t}M − I‖_max"
        raise AssertionError(_report(what, worst, tol, _eps(name), index, f"shape {(r, c)}, {name}"))


def assert_skew(a: Any, *, atol: float | None = None, scale: float = 1.0) -> None:
    r"""Assert that ``a`` ``(..., n, n)`` is skew-symmetric: :math:`\lVert A + A^\top\rVert_{\max} /
    \max(1, \lVert A\rVert_{\max}) \le` ``atol`` (orthornn's relative skew defect), for every matrix.

    The default ``atol`` is :func:`orthogonality_tolerance` ``(n, dtype, scale=scale)``; an exactly
    skew input (``X − Xᵀ``) has defect 0. Complex input is checked for skew-Hermitian
    (:math:`A^H = -A`).

    >>> assert_skew(np.array([[0.0, 2.0], [-2.0, 0.0]]))
    >>> assert_skew(np.array([[0.0, 2.0], [-2.0, 1e-9]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: not skew: ‖A + Aᵀ‖_max / max(1, ‖A‖_max) = 1e-09 (4.5e+06 eps) > atol = ... (n = 2, float64)
    """
    __tracebackhide__ = True
    x, name, n = _square(a)
    tol = _tolerance(n, name, atol, scale)
    size = np.maximum(1.0, np.abs(x).max(axis=(-2, -1), initial=0.0))
    defect = np.abs(x + np.conj(np.swapaxes(x, -1, -2))).max(axis=(-2, -1), initial=0.0) / size
    if defect.size == 0:
        return
    worst, index = _worst(defect)
    if worst > tol:
        t = "ᴴ" if x.dtype.kind == "c" else "ᵀ"
        what = f"not skew: ‖A + A{t}‖_max / max(1, ‖A‖_max)"
        raise AssertionError(_report(what, worst, tol, _eps(name), index, f"n = {n}, {name}"))
