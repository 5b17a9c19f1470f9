"""Exceptions raised by orthornn.

Every error the library raises on bad input derives from :class:`OrthornnError`, which is a
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do not care about
the distinction.
"""

from __future__ import annotations

__all__ = [
    "NoRealLogarithmError",
    "NotFiniteError",
    "NotOrthogonalError",
    "NotSkewError",
    "OrthornnError",
    "ShapeError",
]


class OrthornnError(ValueError):
    """Base class of every orthornn input error."""


class ShapeError(OrthornnError):
    """An array has the wrong number of dimensions, wrong size, or shapes that do not broadcast."""


class NotFiniteError(OrthornnError):
    """An input contains NaN or infinity."""


class NotOrthogonalError(OrthornnError):
    """A matrix required to be orthogonal (or in SO(n)) is not, beyond the stated tolerance."""


class NotSkewError(OrthornnError):
    """A matrix required to be skew-symmetric is not, beyond the stated tolerance."""


class NoRealLogarithmError(OrthornnError):
    """A real logarithm was requested for a matrix with determinant -1."""
