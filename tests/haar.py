"""Seeded Haar-distributed rotations for tests (QR of a Gaussian with the sign convention that
makes the distribution Haar, det fixed to +1), shared by the numpy and torch Lie tests."""

from __future__ import annotations

import numpy as np


def haar(n: int, seed: int) -> np.ndarray:
    """A Haar rotation in SO(n) from ``seed`` (float64)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q
