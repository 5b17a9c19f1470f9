r"""The adding problem (Hochreiter & Schmidhuber 1997; Henaff et al. 2016, §3.2).

Encoding: inputs are ``float64`` of shape ``(batch, T, 2)``: channel 0 holds the values,
uniform in ``[0, 1)``, channel 1 the markers (0 or 1, exactly two ones). Targets are ``float64``
of shape ``(batch,)``: the sum of the two marked values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._params import RngLike, as_generator, check_int

__all__ = ["AddingTask", "adding_task"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class AddingTask:
    r"""The adding problem: add the two marked values of a length-T sequence.

    Marker convention (Arjovsky et al. 2016): one marker in each half. With
    :math:`h = \lfloor T/2 \rfloor`, the first marker is at a uniform 0-based step in
    ``0 … h−1`` and the second at a uniform step in ``h … T−1``. With ``T = 6``::

        values:  .31 .82 .05 .47 .93 .12
        markers:  0   1   0   0   1   0
        target:  .82 + .93 = 1.75

    The memoryless baseline predicts the mean target 1; its mean squared error is the
    variance of a sum of two independent U[0, 1] values:

    .. math:: \mathcal L_0 = \operatorname{Var}(v_1 + v_2) = \frac{2}{12} = \frac16 .

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.2; Arjovsky, Shah, Bengio (2016), §4.2.

    Examples
    --------
    >>> x, y = AddingTask(T=6).sample(3, rng=0)
    >>> x.shape, y.shape
    ((3, 6, 2), (3,))
    >>> bool(np.allclose((x[..., 0] * x[..., 1]).sum(axis=1), y))   # sum of marked values
    True
    """

    #: Sequence length (at least 2: one marker in each half).
    T: int

    def __post_init__(self) -> None:
        check_int("T", self.T, 2)

    @property
    def baseline(self) -> float:
        """Mean squared error of the constant prediction 1: exactly 1/6."""
        return 1.0 / 6.0

    def sample(self, batch: int, rng: RngLike = None) -> tuple[FloatArray, FloatArray]:
        """Draw ``(inputs, targets)``: ``(batch, T, 2)`` and ``(batch,)``, ``float64``."""
        batch = check_int("batch", batch, 1)
        gen = as_generator(rng)
        half = self.T // 2
        values = gen.random((batch, self.T))
        first = gen.integers(0, half, size=batch)
        second = gen.integers(half, self.T, size=batch)
        markers = np.zeros((batch, self.T))
        rows = np.arange(batch)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        targets = values[rows, first] + values[rows, second]
        return np.stack([values, markers], axis=-1), targets


def adding_task(batch: int, T: int, rng: RngLike = None) -> tuple[FloatArray, FloatArray]:
    """``AddingTask(T).sample(batch, rng)``: see :class:`AddingTask` for the convention.

    >>> x, y = adding_task(5, T=10, rng=0)
    >>> bool((x[..., 1].sum(axis=1) == 2).all())
    True
    """
    return AddingTask(T).sample(batch, rng)
