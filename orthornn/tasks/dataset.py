r"""Fixed data sets of a task: N sequences drawn once from a seed and cycled in epochs.

The RUM paper's recall experiments (and the official code, ``recall_task.py`` of
jingli9111/RUM-Tensorflow) train on a fixed set of 100,000 sequences, validate on 10,000 and
test on 20,000, instead of drawing fresh sequences every step. :class:`FixedSet` is such a set:

.. math:: \text{batch}_k = \bigl(s_{\pi_{e(p)}(p \bmod N)}\bigr)_{p = kB}^{kB + B - 1},
          \qquad e(p) = \lfloor p / N \rfloor

— position ``p`` of the endless stream of epochs is element ``π_e(p mod N)`` of the set, where
``π_e`` is the order of epoch ``e``: a permutation drawn from ``(seed, e)`` alone
(``shuffle=True``), or the identity (``shuffle=False``: the official ``next_batch``, which
cycles the set in its drawn order; a batch that runs past the end wraps to the start). The
sequences are a function of ``seed`` and the batch of step ``k`` a function of
``(seed, k, B)``, so a run resumed at any step sees exactly the batches of an uninterrupted one.

How many held-out sequences an accuracy needs: a measured accuracy ``p̂`` on ``n`` independent
sequences has the binomial standard error ``√(p(1−p)/n) ≤ 1/(2√n)``; for ``±h`` at ``z`` standard
errors ``n ≥ z²/(4h²)`` (:func:`sequences_for_accuracy`): 10,000 sequences for ±0.5 % at one
standard error (any ``p``), 38,416 for a 95 % interval (``z = 1.96``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._params import check_int

__all__ = ["FixedSet", "accuracy_standard_error", "sequences_for_accuracy"]


def accuracy_standard_error(n: int, p: float = 0.5) -> float:
    r"""Binomial standard error of an accuracy ``p`` measured on ``n`` independent sequences.

    .. math:: \operatorname{se}(\hat p) = \sqrt{p(1 - p)/n} \le \frac{1}{2\sqrt n}

    Examples
    --------
    >>> accuracy_standard_error(10_000), round(accuracy_standard_error(20_000), 5)
    (0.005, 0.00354)
    >>> accuracy_standard_error(512) > 0.022  # the 512 held-out sequences used before
    True
    """
    n = check_int("n", n, 1)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    return math.sqrt(p * (1.0 - p) / n)


def sequences_for_accuracy(halfwidth: float = 0.005, z: float = 1.0, p: float = 0.5) -> int:
    r"""Fewest independent sequences for which ``z`` standard errors of an accuracy ``p`` are
    at most ``halfwidth`` (``p = 0.5``: the worst case, so the answer holds for any accuracy).

    .. math:: n = \lceil z^2 p (1 - p) / h^2 \rceil

    Examples
    --------
    >>> sequences_for_accuracy(0.005), sequences_for_accuracy(0.005, z=1.96)
    (10000, 38416)
    """
    if not (halfwidth > 0 and z > 0 and 0.0 <= p <= 1.0):
        raise ValueError(f"need halfwidth > 0, z > 0 and p in [0, 1], got {halfwidth}, {z}, {p}")
    # round off the last ulp before the ceiling: 0.25 / 0.005**2 is 10000.000000000002 in floats
    return max(1, math.ceil(round(z * z * p * (1.0 - p) / (halfwidth * halfwidth), 9)))


class FixedSet:
    """``size`` sequences of ``task`` drawn once from ``seed``, served in epochs.

    Parameters
    ----------
    task
        Any task of :mod:`orthornn.tasks` (``.sample(batch, rng) -> (inputs, targets)``).
    size : int
        Number of sequences ``N``.
    seed : int or sequence of int
        Entropy of the set: the sequences come from ``numpy.random.default_rng([*seed, 0])``,
        the order of epoch ``e`` from ``default_rng([*seed, 1, e])``. Sets with different seeds
        are independent draws (e.g. training, validation and test sets of one run).
    shuffle : bool
        Permute the set anew in each epoch (a function of ``(seed, epoch)``), or cycle it in
        its drawn order (``False``, as the official RUM code).

    Examples
    --------
    >>> from orthornn.tasks import RecallTask
    >>> train = FixedSet(RecallTask(10), 5, seed=(0, 0), shuffle=False)
    >>> x, y = train.batch(1, 3)             # positions 3, 4, 5 → elements 3, 4, 0
    >>> bool((x == train.inputs[[3, 4, 0]]).all()) and bool((y == train.targets[[3, 4, 0]]).all())
    True
    >>> shuffled = FixedSet(RecallTask(10), 5, seed=(0, 0))
    >>> sorted(shuffled.order(7).tolist()), bool((shuffled.inputs == train.inputs).all())
    ([0, 1, 2, 3, 4], True)
    """

    def __init__(self, task: Any, size: int, seed: int | Sequence[int], *, shuffle: bool = True) -> None:
        self.task = task
        self.size = check_int("size", size, 1)
        self.seed: tuple[int, ...] = (int(seed),) if isinstance(seed, int | np.integer) else tuple(int(s) for s in seed)
        self.shuffle = bool(shuffle)
        self.inputs, self.targets = task.sample(self.size, np.random.default_rng([*self.seed, 0]))
        self._orders: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.size

    def order(self, epoch: int) -> np.ndarray:
        """The order ``π_e`` of epoch ``epoch``: a permutation of ``0 … N−1``."""
        epoch = check_int("epoch", epoch, 0)
        if not self.shuffle:
            return np.arange(self.size)
        if epoch not in self._orders:
            if len(self._orders) >= 2:  # a batch spans at most two epochs when B ≤ N; keep few
                self._orders.pop(next(iter(self._orders)))
            self._orders[epoch] = np.random.default_rng([*self.seed, 1, epoch]).permutation(self.size)
        return self._orders[epoch]

    def indices(self, step: int, batch: int) -> np.ndarray:
        """Set elements of batch ``step`` (0-based) of size ``batch``: positions ``step·batch …``."""
        step, batch = check_int("step", step, 0), check_int("batch", batch, 1)
        positions = step * batch + np.arange(batch)
        epochs, within = np.divmod(positions, self.size)
        out = np.empty(batch, dtype=np.int64)
        for e in np.unique(epochs):
            mask = epochs == e
            out[mask] = self.order(int(e))[within[mask]]
        return out

    def batch(self, step: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """``(inputs, targets)`` of batch ``step``: the elements :meth:`indices` names."""
        idx = self.indices(step, batch)
        return self.inputs[idx], self.targets[idx]

    def epoch(self, step: int, batch: int) -> float:
        """Epochs completed after ``step`` batches of ``batch``: ``step·batch/N``."""
        return step * batch / self.size

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The whole set once, in its drawn order, in chunks of at most ``size`` (evaluation)."""
        size = check_int("size", size, 1)
        for start in range(0, self.size, size):
            yield self.inputs[start : start + size], self.targets[start : start + size]
