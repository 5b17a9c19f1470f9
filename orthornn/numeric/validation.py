"""Input validation shared by the numeric layer: dtypes, finiteness, shapes, group membership.

Every public numeric function checks its inputs with these helpers, so error messages are
uniform: they name the argument, the offending shape or value, and the tolerance used.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._conventions import SKEW_TOL, orthogonality_tolerance
from ..errors import NotFiniteError, NotOrthogonalError, NotSkewError, ShapeError

__all__ = [
    "as_float_array",
    "broadcast_vectors",
    "check_orthogonal",
    "check_skew",
    "check_square",
    "host_values",
    "orthogonality_defect",
    "skew_defect",
]

FloatArray = NDArray[np.floating]


def host_values(x: Any) -> Any:
    """A torch tensor's values as a numpy array (detached, copied to the CPU; bfloat16, which numpy
    lacks, as float32), anything else as is.

    A tensor can only exist once torch is imported, so the numeric layer never imports it.

    >>> host_values([1, 2])
    [1, 2]
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(x, torch.Tensor):
        return x
    t = x.detach().cpu()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def as_float_array(x: ArrayLike, name: str, *, min_ndim: int = 0) -> FloatArray:
    """``x`` as a float32/float64 array (float32 stays float32; ints and bools become float64).

    Raises :class:`ShapeError` if it has fewer than ``min_ndim`` dimensions, ``TypeError`` for
    complex or non-numeric input, :class:`NotFiniteError` for NaN or inf.

    >>> as_float_array([1, 2], "a").dtype
    dtype('float64')
    >>> as_float_array([1.0, float("nan")], "a")
    Traceback (most recent call last):
    ...
    orthornn.errors.NotFiniteError: a contains NaN or inf (1 of 2 entries)

    A torch tensor is read by value (:func:`host_values`): on any device, also one that
    requires grad — the numeric layer returns numpy and carries no gradient.
    """
    arr = np.asarray(host_values(x))
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if arr.ndim < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise NotFiniteError(f"{name} contains NaN or inf ({int(bad.sum())} of {arr.size} entries)")
    return arr


def result_dtype(*arrays: FloatArray) -> np.dtype:
    """float32 if every input is float32, else float64."""
    return np.dtype(np.float32) if all(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def broadcast_vectors(arrays: Sequence[FloatArray], names: Sequence[str]) -> list[FloatArray]:
    """Broadcast batches of vectors ``(..., n)`` to a common batch shape and dtype.

    Raises :class:`ShapeError` naming every shape if the last dimensions differ or the
    leading (batch) dimensions do not broadcast.
    """
    desc = ", ".join(f"{nm} {a.shape}" for a, nm in zip(arrays, names, strict=True))
    for a, nm in zip(arrays, names, strict=True):
        if a.ndim < 1:
            raise ShapeError(f"{nm} must be a vector (..., n), got a scalar; shapes: {desc}")
    sizes = {a.shape[-1] for a in arrays}
    if len(sizes) != 1:
        raise ShapeError(f"vectors must have the same length n; got {desc}")
    try:
        batch = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    except ValueError:
        raise ShapeError(f"batch dimensions do not broadcast: {desc}") from None
    dtype = result_dtype(*arrays)
    n = sizes.pop()
    return [np.broadcast_to(a, (*batch, n)).astype(dtype, copy=False) for a in arrays]


def check_square(m: FloatArray, name: str) -> int:
    """Return ``n`` for a batch of square matrices ``(..., n, n)``; :class:`ShapeError` otherwise."""
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ShapeError(f"{name} must be a (batch of) square matrices (..., n, n), got shape {m.shape}")
    return int(m.shape[-1])


def orthogonality_defect(m: FloatArray) -> FloatArray:
    """``‖MᵀM − I‖_max`` per matrix of the batch ``(..., n, n)`` → ``(...)``."""
    n = m.shape[-1]
    gram = np.swapaxes(m, -1, -2) @ m
    return np.abs(gram - np.eye(n, dtype=m.dtype)).max(axis=(-2, -1), initial=0.0)


def check_orthogonal(m: FloatArray, name: str, *, tol: float | None = None) -> FloatArray:
    """Raise :class:`NotOrthogonalError` unless every matrix has defect ≤ ``tol``; return defects.

    The default ``tol`` is :func:`orthornn._conventions.orthogonality_tolerance` (``1e3·n·eps``).
    """
    n = check_square(m, name)
    tol = orthogonality_tolerance(n, m.dtype) if tol is None else tol
    defect = orthogonality_defect(m)
    worst = float(defect.max(initial=0.0))
    if worst > tol:
        raise NotOrthogonalError(
            f"{name} is not orthogonal: max ‖MᵀM − I‖_max = {worst:.3g} > tolerance {tol:.3g}"
        )
    return defect


def skew_defect(a: FloatArray) -> FloatArray:
    """``‖A + Aᵀ‖_max / max(1, ‖A‖_max)`` per matrix of the batch → ``(...)``."""
    scale = np.maximum(1.0, np.abs(a).max(axis=(-2, -1), initial=0.0))
    return np.abs(a + np.swapaxes(a, -1, -2)).max(axis=(-2, -1), initial=0.0) / scale


def check_skew(a: FloatArray, name: str, *, tol: float | None = None) -> FloatArray:
    """Raise :class:`NotSkewError` unless every matrix is skew-symmetric within ``tol``."""
    check_square(a, name)
    tol = float(SKEW_TOL * np.finfo(a.dtype).eps) if tol is None else tol
    defect = skew_defect(a)
    worst = float(defect.max(initial=0.0))
    if worst > tol:
        raise NotSkewError(
            f"{name} is not skew-symmetric: max ‖A + Aᵀ‖_max/max(1, ‖A‖_max) = {worst:.3g} > tolerance {tol:.3g}"
        )
    return defect
