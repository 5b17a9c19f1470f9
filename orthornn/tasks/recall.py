r"""Associative recall (Ba et al. 2016, in the RUM setting, Dangovski et al. 2017, appendix B).

Encoding (token ids, ``int64``): ``0`` is the question mark ``?``, the ``T/2`` keys
("characters") are ``1 … T/2`` and the ten digits are ``T/2 + 1 … T/2 + 10``, so
``vocab_size = T/2 + 11``. Inputs have shape ``(batch, T + 3)``; the target is the digit's
value ``0 … 9`` (``n_classes = 10``), one per sequence: shape ``(batch,)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from ..errors import OrthornnError
from ._params import RngLike, as_generator, check_int

__all__ = ["RecallTask", "expected_max_count", "recall_task"]

IntArray = NDArray[np.int64]

_KEY_GLYPHS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class RecallTask:
    r"""Associative recall: T/2 (key, digit) pairs, then ``??`` and a key; answer its digit.

    The T/2 keys are *all* the T/2 characters, in a uniformly random order (drawn without
    replacement); each digit is uniform in 0 … 9, independently; the query is one of the keys,
    uniformly. Total input length ``T + 3``. With ``T = 8``::

        Input:  c4a7d4b1??a
        Output: 7

    The memoryless baseline predicts the uniform distribution over the ten digits (the
    target digit is uniform whatever the sequence): cross-entropy and accuracy

    .. math:: \mathcal L_0 = \ln 10, \qquad \text{acc}_0 = \tfrac{1}{10}.

    References
    ----------
    Dangovski, Jing, Soljačić (2017), §4.2 and appendix B; Ba et al. (2016), §4.1.

    Examples
    --------
    >>> task = RecallTask(T=8)
    >>> x, y = task.sample(2, rng=0)
    >>> x.shape, y.shape, task.vocab_size
    ((2, 11), (2,), 15)
    >>> keys, digits = x[0, 0:8:2], x[0, 1:8:2]
    >>> int(digits[keys == x[0, -1]][0] - task.n_keys - 1) == int(y[0])   # the answer
    True
    """

    #: Length of the (key, digit) part; even, at least 2.
    T: int

    def __post_init__(self) -> None:
        check_int("T", self.T, 2)
        if self.T % 2:
            raise OrthornnError(f"T must be even (T/2 key-digit pairs), got {self.T}")

    @property
    def n_keys(self) -> int:
        """Number of keys ("characters"), ``T/2``."""
        return self.T // 2

    @property
    def vocab_size(self) -> int:
        """Number of input ids, ``T/2 + 11`` (``?``, keys, digits)."""
        return self.n_keys + 11

    @property
    def n_classes(self) -> int:
        """Number of target values (the ten digits)."""
        return 10

    @property
    def length(self) -> int:
        """Input length ``T + 3``."""
        return self.T + 3

    @property
    def baseline(self) -> float:
        r"""Cross-entropy of the memoryless predictor, :math:`\ln 10`."""
        return math.log(10.0)

    @property
    def baseline_accuracy(self) -> float:
        """Accuracy of a memoryless guess, 1/10."""
        return 0.1

    @property
    def key_blind_accuracy(self) -> float:
        r"""Best accuracy of a predictor that sees the digits but not which key holds which.

        Ignoring the query, the answer is the digit of a uniformly drawn pair: digit ``d`` with
        probability :math:`c_d/n`, where :math:`c` counts the digits of the :math:`n = T/2`
        pairs. The best guess is the most frequent digit, so

        .. math:: \text{acc}_{\text{blind}} = \frac{\mathbb E[\max_d c_d]}{n},
                  \qquad c \sim \text{Multinomial}(n; \tfrac{1}{10}, \dots, \tfrac{1}{10}),

        computed exactly (to rounding) by :func:`expected_max_count`: 0.2411 at ``T = 30``,
        0.2068 at ``T = 50``. A model on this plateau counts the digits and binds no key to its
        value; the LSTM rows of RUM Table 1 (25.6 %, 20.5 %) sit on it.
        """
        return expected_max_count(self.n_keys, self.n_classes) / self.n_keys

    @property
    def key_blind_loss(self) -> float:
        r"""Cross-entropy of the best key-blind predictor: the digits' mean empirical entropy.

        Its prediction is the empirical distribution :math:`c/n` of the digits, and

        .. math:: \mathcal L_{\text{blind}} = \mathbb E\,H(c/n)
                  = 10 \sum_{k=1}^{n} \binom{n}{k} 0.1^k\, 0.9^{n-k}
                    \left(-\frac{k}{n}\ln\frac{k}{n}\right),

        since each :math:`c_d` is :math:`\text{Binomial}(n, 1/10)`: 1.948 nats at ``T = 30``
        (the memoryless :math:`\ln 10 = 2.303`).
        """
        n = self.n_keys
        k = np.arange(1, n + 1)
        pmf = scipy.stats.binom.pmf(k, n, 1.0 / self.n_classes)
        return float(self.n_classes * np.sum(pmf * (-(k / n) * np.log(k / n))))

    def sample(self, batch: int, rng: RngLike = None) -> tuple[IntArray, IntArray]:
        """Draw ``(inputs, targets)``: ``int64`` arrays of shape ``(batch, T + 3)`` and ``(batch,)``."""
        batch = check_int("batch", batch, 1)
        gen = as_generator(rng)
        n = self.n_keys
        keys = gen.permuted(np.tile(np.arange(1, n + 1, dtype=np.int64), (batch, 1)), axis=1)
        digits = gen.integers(0, 10, size=(batch, n), dtype=np.int64)
        which = gen.integers(0, n, size=batch)
        rows = np.arange(batch)
        x = np.zeros((batch, self.length), dtype=np.int64)
        x[:, 0 : self.T : 2] = keys
        x[:, 1 : self.T : 2] = digits + n + 1
        x[:, -1] = keys[rows, which]
        return x, digits[rows, which]

    def render(self, ids: ArrayLike) -> str:
        """One input sequence as text: keys ``a-zA-Z``, digits ``0-9``, ``?``."""
        n = self.n_keys
        keys = _KEY_GLYPHS[:n] if n <= len(_KEY_GLYPHS) else "#" * n
        glyphs = "?" + keys + "0123456789"
        return "".join(glyphs[int(i)] for i in np.asarray(ids).ravel())


def recall_task(batch: int, T: int, rng: RngLike = None) -> tuple[IntArray, IntArray]:
    """``RecallTask(T).sample(batch, rng)``: see :class:`RecallTask` for the convention.

    >>> x, y = recall_task(3, T=30, rng=0)
    >>> x.shape, int(x.max()) < RecallTask(30).vocab_size
    ((3, 33), True)
    """
    return RecallTask(T).sample(batch, rng)


def expected_max_count(n: int, k: int) -> float:
    r"""Expected largest cell of ``n`` balls thrown uniformly into ``k`` cells.

    .. math:: \mathbb E[\max_d c_d] = \sum_{m=0}^{n-1} \bigl(1 - P(\max_d c_d \le m)\bigr),
              \qquad c \sim \text{Multinomial}(n; 1/k, \dots, 1/k).

    :math:`P(\max_d c_d \le m)` comes from the cells one at a time: given ``s`` balls left for
    ``j`` cells, the next cell holds :math:`\text{Binomial}(s, 1/j)` of them, so
    :math:`f_j(s) = \sum_{i \le m} \binom{s}{i} j^{-i} (1 - 1/j)^{s-i} f_{j-1}(s - i)`,
    :math:`f_1(s) = [s \le m]` — :math:`O(k\,n\,m)` per ``m``, summed until the tail is below
    1e-17. Used by :attr:`RecallTask.key_blind_accuracy`.

    >>> expected_max_count(1, 10), round(expected_max_count(2, 10), 12)
    (1.0, 1.1)
    """
    # checked before the cache: lru_cache would answer 2.0 from the entry of 2
    return _expected_max_count(check_int("n", n, 1), check_int("k", k, 1))


@functools.lru_cache(maxsize=64)
def _expected_max_count(n: int, k: int) -> float:
    """:func:`expected_max_count` for checked sizes, cached (T = 1000 takes seconds)."""
    s = np.arange(n + 1)
    columns: dict[tuple[int, int], NDArray[np.float64]] = {}

    def column(j: int, i: int) -> NDArray[np.float64]:
        # Binomial(s, 1/j) at i, for s = i … n
        if (j, i) not in columns:
            columns[j, i] = scipy.stats.binom.pmf(i, s[i:], 1.0 / j)
        return columns[j, i]

    m0 = -(-n // k)  # below ceil(n/k) some cell must hold more than m: P(max <= m) = 0
    expected = float(m0)
    for m in range(m0, n):
        f = (s <= m).astype(np.float64)
        for j in range(2, k + 1):
            g = np.zeros(n + 1)
            for i in range(m + 1):
                g[i:] += column(j, i) * f[: n + 1 - i]
            f = g
        tail = float(1.0 - f[n])
        expected += tail
        if tail < 1e-17:
            break
    return expected
