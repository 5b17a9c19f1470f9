"""Parameter checks and random generators shared by the task generators.

Every task validates its integer parameters the same way, so a bad parameter always raises
:class:`~orthornn.errors.OrthornnError` with a message that names it.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import OrthornnError

__all__ = ["RngLike", "as_generator", "check_int"]

#: What every generator accepts as ``rng``: a Generator (used as is), a seed, or None (fresh).
RngLike = np.random.Generator | int | None


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, or :class:`OrthornnError` naming ``name`` if it is not an integer ≥ ``minimum``.

    >>> check_int("T", 5, 1)
    5
    >>> check_int("T", 0, 1)
    Traceback (most recent call last):
    ...
    orthornn.errors.OrthornnError: T must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OrthornnError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise OrthornnError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def as_generator(rng: RngLike) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator, an integer seed or ``None``.

    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise OrthornnError(f"rng must be a numpy Generator, an integer seed or None, got {type(rng).__name__}")
