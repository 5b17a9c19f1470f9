r"""The copy task and the variable-length copy task (Arjovsky et al. 2016; Henaff et al. 2016).

Encoding (token ids, ``int64``): the ``K`` data symbols are ``0 … K−1``, the blank is ``K`` and
the delimiter is ``K + 1`` (``vocab_size = K + 2``). Targets never contain the delimiter, so
they take ``n_classes = K + 1`` values ``0 … K``. Both arrays have shape ``(batch, T + 2S)``.

In the drawings below ``-`` is the blank, ``:`` the delimiter and digits are data symbols.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OrthornnError, ShapeError
from ._params import RngLike, as_generator, check_int

__all__ = [
    "CopyAccuracy",
    "CopyTask",
    "VariableCopyTask",
    "copy_accuracy",
    "copy_task",
    "variable_copy_task",
]

IntArray = NDArray[np.int64]

_GLYPHS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _render(ids: ArrayLike, K: int) -> str:
    """A 1-D sequence of copy-task ids as text: data glyphs, ``-`` blank, ``:`` delimiter."""
    glyphs = (_GLYPHS[:K] if K <= len(_GLYPHS) else "#" * K) + "-:"
    return "".join(glyphs[int(i)] for i in np.asarray(ids).ravel())


@dataclass(frozen=True)
class CopyAccuracy:
    """Accuracies of predicted ids on copy-task targets (recalled symbols and blanks apart)."""

    #: Fraction of recall positions (target a data symbol) predicted correctly.
    recall: float
    #: Fraction of blank-target positions predicted blank.
    blank: float
    #: Fraction of sequences whose S recalled symbols are all correct.
    success: float


def copy_accuracy(predictions: ArrayLike, targets: ArrayLike, K: int) -> CopyAccuracy:
    r"""Recall accuracy, blank accuracy and success rate of predictions on copy targets.

    .. math:: \text{recall} = \frac{\#\{(b,t): y_{bt} < K,\ \hat y_{bt} = y_{bt}\}}{\#\{(b,t): y_{bt} < K\}},
        \qquad \text{success} = \frac{\#\{b: \hat y_{bt} = y_{bt}\ \forall t \text{ with } y_{bt} < K\}}{B}

    ``predictions`` are ids of the same shape as ``targets``, or scores with one more
    (trailing) axis, reduced by ``argmax``. Works for the fixed and the variable copy task.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.2: success of the explicit solution.

    Examples
    --------
    >>> y = np.array([[3, 3, 0, 1]])                     # K = 3: blank is 3
    >>> acc = copy_accuracy(np.array([[3, 2, 0, 2]]), y, K=3)
    >>> (acc.recall, acc.blank, acc.success)
    (0.5, 0.5, 0.0)
    """
    y = np.asarray(targets)
    p = np.asarray(predictions)
    if p.ndim == y.ndim + 1:
        p = p.argmax(axis=-1)
    if p.shape != y.shape or y.ndim != 2:
        raise ShapeError(
            f"predictions {np.asarray(predictions).shape} do not match targets {y.shape} "
            "(expected (batch, length) ids or (batch, length, classes) scores)"
        )
    recall = y < K
    correct = p == y
    n_recall = int(recall.sum())
    n_blank = int((~recall).sum())
    return CopyAccuracy(
        recall=float((correct & recall).sum() / n_recall) if n_recall else 1.0,
        blank=float((correct & ~recall).sum() / n_blank) if n_blank else 1.0,
        success=float(np.all(correct | ~recall, axis=1).mean()),
    )


class _CopyAlphabet:
    """Ids, sizes, accuracy and rendering shared by the fixed and the variable copy task."""

    T: int
    S: int
    K: int

    @property
    def blank(self) -> int:
        """Id of the blank symbol (``K``)."""
        return self.K

    @property
    def delimiter(self) -> int:
        """Id of the delimiter (``K + 1``)."""
        return self.K + 1

    @property
    def vocab_size(self) -> int:
        """Number of input ids (``K + 2``)."""
        return self.K + 2

    @property
    def n_classes(self) -> int:
        """Number of target ids (``K + 1``: data symbols and blank)."""
        return self.K + 1

    @property
    def length(self) -> int:
        """Sequence length ``T + 2S``."""
        return self.T + 2 * self.S

    def accuracy(self, predictions: ArrayLike, targets: ArrayLike) -> CopyAccuracy:
        """:func:`copy_accuracy` with this task's ``K``."""
        return copy_accuracy(predictions, targets, self.K)

    def render(self, ids: ArrayLike) -> str:
        """One sequence as text: data glyphs ``0-9a-z…``, ``-`` blank, ``:`` delimiter."""
        return _render(ids, self.K)


@dataclass(frozen=True)
class CopyTask(_CopyAlphabet):
    r"""The copy task: remember S symbols for T steps (Arjovsky et al. convention).

    Input (length ``T + 2S``): S data symbols drawn uniformly from K, ``T − 1`` blanks, the
    delimiter, S blanks. Target: ``T + S`` blanks, then the S data symbols in order. With
    ``T = 5, S = 3, K = 4``::

        Input:  213----:---
        Output: --------213

    The memoryless baseline (blank until step ``T + S``, then uniform over the K symbols)
    has cross-entropy

    .. math:: \mathcal L_0 = \frac{S \ln K}{T + 2S}.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1; Dangovski, Jing, Soljačić (2017), appendix A.

    Examples
    --------
    >>> task = CopyTask(T=5, S=3, K=4)
    >>> x, y = task.sample(2, rng=0)
    >>> x.shape, y.shape, task.vocab_size, task.n_classes
    ((2, 11), (2, 11), 6, 5)
    >>> bool(np.array_equal(y[:, -3:], x[:, :3]))          # the target is the delayed input
    True
    >>> task.render(x[0])[3:], task.render(y[0])[:8]
    ('----:---', '--------')
    """

    #: Delay: steps from the end of the data to the delimiter, inclusive (T − 1 blanks + 1).
    T: int
    #: Number of symbols to remember.
    S: int = 10
    #: Alphabet size (data symbols); the blank and the delimiter come on top.
    K: int = 8

    def __post_init__(self) -> None:
        check_int("T", self.T, 1)
        check_int("S", self.S, 1)
        check_int("K", self.K, 2)

    @property
    def baseline(self) -> float:
        r"""Cross-entropy (nats per step) of the memoryless predictor, :math:`S\ln K/(T+2S)`."""
        return self.S * math.log(self.K) / self.length

    def sample(self, batch: int, rng: RngLike = None) -> tuple[IntArray, IntArray]:
        """Draw ``(inputs, targets)``, both ``int64`` of shape ``(batch, T + 2S)``."""
        batch = check_int("batch", batch, 1)
        gen = as_generator(rng)
        return self.encode(gen.integers(0, self.K, size=(batch, self.S), dtype=np.int64))

    def encode(self, symbols: ArrayLike) -> tuple[IntArray, IntArray]:
        """``(inputs, targets)`` for given data symbols ``(batch, S)`` in ``0 … K−1``.

        >>> x, y = CopyTask(T=3, S=2, K=4).encode([[1, 3]])
        >>> CopyTask(T=3, S=2, K=4).render(x[0]), CopyTask(T=3, S=2, K=4).render(y[0])
        ('13--:--', '-----13')
        """
        data = np.asarray(symbols)
        if data.ndim != 2 or data.shape[1] != self.S or data.shape[0] < 1:
            raise ShapeError(f"symbols must be (batch, S) = (batch, {self.S}), got {data.shape}")
        if data.dtype.kind not in "iu" or data.min() < 0 or data.max() >= self.K:
            raise OrthornnError(f"symbols must be integers in 0 … {self.K - 1}")
        T, S, batch = self.T, self.S, data.shape[0]
        x = np.full((batch, self.length), self.blank, dtype=np.int64)
        y = np.full((batch, self.length), self.blank, dtype=np.int64)
        x[:, :S] = data
        x[:, S + T - 1] = self.delimiter
        y[:, T + S :] = data
        return x, y


@dataclass(frozen=True)
class VariableCopyTask(_CopyAlphabet):
    r"""The variable-length copy task: the delimiter comes at a random time.

    As :class:`CopyTask` (length ``T + 2S``), but the delimiter is at a position drawn
    uniformly from ``S+1 … S+T`` (1-based; :class:`CopyTask` is the case ``S + T``) and the S
    symbols are due in the S steps right after it; every other input is blank and every other
    target is blank. With ``T = 5, S = 3, K = 4`` and the delimiter at position 5::

        Input:  213-:------
        Output: -----213---

    Its baseline is the cross-entropy of the best predictor that sees only the time index
    ``t``: with :math:`q_t` the probability that step ``t`` is a recall step,

    .. math:: \mathcal L_0 = \frac{1}{T+2S}\sum_{t=1}^{T+2S}
        \bigl[-q_t\ln q_t - (1-q_t)\ln(1-q_t) + q_t \ln K\bigr].

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.3 and §4.3.

    Examples
    --------
    >>> task = VariableCopyTask(T=5, S=3, K=4)
    >>> x, y = task.sample(3, rng=1)
    >>> bool(((x == task.delimiter).sum(axis=1) == 1).all())
    True
    >>> CopyTask(T=5, S=3, K=4).baseline < task.baseline    # not knowing when costs more
    True
    """

    #: The delimiter is at a uniform position in S+1 … S+T (1-based).
    T: int
    #: Number of symbols to remember.
    S: int = 10
    #: Alphabet size (data symbols); the blank and the delimiter come on top.
    K: int = 8

    def __post_init__(self) -> None:
        check_int("T", self.T, 1)
        check_int("S", self.S, 1)
        check_int("K", self.K, 2)

    def recall_probability(self) -> NDArray[np.float64]:
        """:math:`q_t`, ``t = 1 … T + 2S``: the probability that step ``t`` is a recall step."""
        S, T = self.S, self.T
        t = np.arange(self.length)  # 0-based step; the delimiter's 0-based index D is in S … S+T−1
        lo = np.maximum(S, t - S)
        hi = np.minimum(S + T - 1, t - 1)
        return np.clip(hi - lo + 1, 0, None) / T

    @property
    def baseline(self) -> float:
        """Cross-entropy (nats per step) of the best predictor that sees only the time index."""
        q = self.recall_probability()
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(q > 0, q * np.log(q), 0.0) - np.where(q < 1, (1 - q) * np.log1p(-q), 0.0)
        return float(np.mean(h + q * math.log(self.K)))

    @property
    def delimiter_baseline(self) -> float:
        r"""Cross-entropy (nats per step) of a predictor that knows *when*, not *what*.

        It sees the inputs so far, so it knows where the delimiter was and which steps are
        recall steps, but remembers none of the symbols: a blank with certainty at every other
        step, uniform over the K symbols at the S recall steps. Its loss is that of the fixed
        copy task's memoryless predictor, :math:`S\ln K/(T+2S)`, with recalled-symbol accuracy
        :math:`1/K`. A model below :attr:`baseline` but not below this level has learnt the
        timing only (Henaff et al. 2016, §4.3: Figure 5's chance level).

        >>> task = VariableCopyTask(T=100, S=10, K=8)               # Figure 5's task
        >>> round(task.delimiter_baseline, 4), round(10 * math.log(8) / 120, 4), round(task.baseline, 4)
        (0.1733, 0.1733, 0.4484)
        """
        return CopyTask(self.T, self.S, self.K).baseline

    def sample(self, batch: int, rng: RngLike = None) -> tuple[IntArray, IntArray]:
        """Draw ``(inputs, targets)``, both ``int64`` of shape ``(batch, T + 2S)``."""
        batch = check_int("batch", batch, 1)
        gen = as_generator(rng)
        S = self.S
        data = gen.integers(0, self.K, size=(batch, S), dtype=np.int64)
        delim = gen.integers(S, S + self.T, size=batch)  # 0-based index of the delimiter
        x = np.full((batch, self.length), self.blank, dtype=np.int64)
        y = np.full((batch, self.length), self.blank, dtype=np.int64)
        rows = np.arange(batch)
        x[:, :S] = data
        x[rows, delim] = self.delimiter
        recall_steps = delim[:, None] + 1 + np.arange(S)
        y[rows[:, None], recall_steps] = data
        return x, y


def copy_task(batch: int, T: int, S: int = 10, K: int = 8, rng: RngLike = None) -> tuple[IntArray, IntArray]:
    """``CopyTask(T, S, K).sample(batch, rng)``: see :class:`CopyTask` for the convention.

    >>> x, y = copy_task(4, T=20, S=2, K=3, rng=0)
    >>> x.shape, int(x[0, 21])                            # delimiter (id K+1) at step T+S
    ((4, 24), 4)
    """
    return CopyTask(T, S, K).sample(batch, rng)


def variable_copy_task(batch: int, T: int, S: int = 10, K: int = 8, rng: RngLike = None) -> tuple[IntArray, IntArray]:
    """``VariableCopyTask(T, S, K).sample(batch, rng)``: see :class:`VariableCopyTask`.

    >>> x, y = variable_copy_task(4, T=20, S=2, K=3, rng=0)
    >>> bool(((y < 3).sum(axis=1) == 2).all())            # exactly S recall steps each
    True
    """
    return VariableCopyTask(T, S, K).sample(batch, rng)
