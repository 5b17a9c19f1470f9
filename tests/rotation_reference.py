"""Independent float64 reference for Rotation(a, b): RUM eq. (1) built densely, as the paper writes it.

Deliberately naive (arccos-free but otherwise textbook Gram–Schmidt), sharing no code with
orthornn: it is the oracle the numeric and torch layers are compared against away from the
degenerate cases, and the source of θ for tolerances.
"""

from __future__ import annotations

import numpy as np


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x / np.abs(x).max()  # so that x·x neither underflows nor overflows
    return x / np.linalg.norm(x)


def cos_sin(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(cos θ, sin θ) of the angle between a and b, in float64 from the given entries."""
    ah, bh = unit(a), unit(b)
    c = float(ah @ bh)
    w = bh - c * ah
    w -= (ah @ w) * ah
    return c, float(np.linalg.norm(w))


def eq1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RUM eq. (1): I − u_a u_aᵀ − u_b u_bᵀ + [u_a u_b] M(θ) [u_a u_b]ᵀ (non-collinear a, b)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    u_a = a / np.linalg.norm(a)
    v = b - (u_a @ b) * u_a
    u_b = v / np.linalg.norm(v)
    cos = (a @ b) / (np.linalg.norm(a) * np.linalg.norm(b))
    sin = np.linalg.norm(v) / np.linalg.norm(b)
    F = np.stack([u_a, u_b], axis=1)
    M = np.array([[cos, -sin], [sin, cos]])
    n = a.shape[0]
    return np.eye(n) - np.outer(u_a, u_a) - np.outer(u_b, u_b) + F @ M @ F.T


def canonical_antiparallel(a: np.ndarray) -> np.ndarray:
    """The documented θ = π convention: I − 2ââᵀ − 2ppᵀ, p ∥ e_k − â_k â, k = first argmin |a_k|."""
    ah = unit(a)
    k = int(np.argmin(np.abs(a)))
    p = -ah[k] * ah
    p[k] += 1
    p /= np.linalg.norm(p)
    return np.eye(ah.shape[0]) - 2 * np.outer(ah, ah) - 2 * np.outer(p, p)
