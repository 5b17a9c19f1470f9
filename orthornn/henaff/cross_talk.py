r"""Cross-talk of the copy construction: how much the other symbols leak into a recall.

At the first recall step the symbol part of the state is
:math:`\tilde h = u_{i_1} + \sum_{j\ge2} Q^{1-j} u_{i_j}`, so the score of the right symbol is
:math:`1 + X` with the *cross-talk*

.. math:: X = u_{i_1}^\top \sum_{j=2}^{S} Q^{1-j} u_{i_j}.

Henaff et al. argue :math:`|X|^2 \sim (S-1)/d`. The exact mean, over uniform ``l_j``,
uniform unit ``u`` in :math:`\mathbb R^{2d}` and symbols uniform in K, is

.. math:: \mathbb E\,X^2 = (S-1)\Bigl[\frac{1}{K}\,\frac{1}{d+1} + \Bigl(1-\frac1K\Bigr)\frac{1}{2d}\Bigr]
    \qquad (2(S-1) < T+S):

a term with :math:`i_j \ne i_1` is the inner product of two independent uniform unit vectors
of :math:`\mathbb R^{2d}` (mean square :math:`1/(2d)`); a term with :math:`i_j = i_1` is
:math:`\sum_b r_b \cos(p\alpha_b)` with :math:`r \sim \mathrm{Dirichlet}(1,…,1)` the block
weights (:math:`\mathbb E r_b^2 = 2/(d(d+1))`) and :math:`\mathbb E\cos^2(p\alpha_b) = 1/2`
for :math:`0 < |p| < (T+S)/2`; distinct terms are uncorrelated (their phases differ). So
the paper's scaling is right and its constant about twice too large for ``K ≫ 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import OrthornnError
from ..tasks._params import RngLike, as_generator, check_int
from .copy import _recall_states_of, sample_clock

__all__ = ["Crosstalk", "crosstalk", "crosstalk_expectation"]

#: Trials per unit of the random stream: for each block of ``_CHUNK`` trials, ``rng`` gives the
#: clock integers ``(n, d)``, then the codes ``(n, K, 2d)`` (as :func:`sample_sphere_columns`),
#: then the symbols ``(n, S)``. Changing it changes the draws.
_CHUNK = 5000
#: Most normal deviates of one chunk's codes held at once (128 MiB); above it the codes are drawn
#: twice instead (once to reach the symbols, once keeping the ≤ S codes each trial uses).
_HELD = 1 << 24
#: Normal deviates drawn per call while streaming the codes (8 MiB).
_PIECE = 1 << 20
#: Entries of ``(trials, S, 2d)`` arrays per step of the cross-talk computation (8 MiB each).
_WORK = 1 << 20

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _stream_rows(gen: np.random.Generator, count: int, dim: int, wanted: IntArray) -> FloatArray:
    """Draw the next ``count × dim`` standard normals and return the rows ``wanted`` (sorted, unique).

    The generator advances exactly as by ``gen.standard_normal((count, dim))``, but at most
    ``_PIECE`` deviates (and the wanted rows) are held at a time.
    """
    out = np.empty((wanted.size, dim))
    per = max(1, min(count, _PIECE // dim))
    buf = np.empty((per, dim))
    for r0 in range(0, count, per):
        m = min(per, count - r0)
        gen.standard_normal(out=buf[:m])
        a, b = np.searchsorted(wanted, [r0, r0 + m])
        out[a:b] = buf[wanted[a:b] - r0]
    return out


def _crosstalk_chunk(
    gen: np.random.Generator, n: int, S: int, K: int, T: int, d: int, progress: Callable[[int], object] | None = None
) -> FloatArray:
    """``X²`` of ``n`` trials, drawing them from ``gen`` in the order of :data:`_CHUNK`
    (``progress(m)`` after each ``m`` trials done).

    Only the codes of the symbols a trial uses enter ``X``; they are normalised as
    :func:`sample_sphere_columns` normalises every code, so the values are those of the full draw.
    """
    dim = 2 * d
    l = sample_clock(d, T + S, gen, size=(n,))
    held = n * K * dim <= _HELD
    if held:
        rows = gen.standard_normal((n, K, dim))
        symbols = gen.integers(0, K, size=(n, S))
    else:
        start = gen.bit_generator.state
        _stream_rows(gen, n * K, dim, np.empty(0, dtype=np.int64))  # to reach the symbols
        symbols = gen.integers(0, K, size=(n, S))
        after = gen.bit_generator.state
        gen.bit_generator.state = start
    x2 = np.empty(n)
    step = max(1, _WORK // (S * dim))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        if held:
            picked = rows[np.arange(lo, hi)[:, None], symbols[lo:hi]]  # (m, S, 2d): u_{i_j}
        else:  # the codes of trials lo…hi−1 are the next (hi − lo)·K rows of the stream
            wanted, where = np.unique(np.arange(hi - lo)[:, None] * K + symbols[lo:hi], return_inverse=True)
            picked = _stream_rows(gen, (hi - lo) * K, dim, wanted)[where.reshape(hi - lo, S)]
        picked /= np.linalg.norm(picked, axis=-1, keepdims=True)
        h1 = _recall_states_of(l[lo:hi], picked, S, T, np.array([1]))[:, 0]  # (m, 2d)
        x2[lo:hi] = (np.sum(picked[:, 0] * h1, axis=1) - 1.0) ** 2
        if progress is not None:
            progress(hi - lo)
    if not held:
        gen.bit_generator.state = after
    return x2


def crosstalk_expectation(S: int, K: int, d: int, T: int) -> float:
    r"""Exact :math:`\mathbb E X^2` (module docstring); needs :math:`2(S-1) < T+S`.

    >>> crosstalk_expectation(S=1, K=8, d=128, T=500)
    0.0
    >>> round(crosstalk_expectation(S=10, K=8, d=128, T=500) / (9 / 128), 3)   # vs the paper's (S-1)/d
    0.562
    """
    S, K, d, T = check_int("S", S, 1), check_int("K", K, 2), check_int("d", d, 1), check_int("T", T, 1)
    if 2 * (S - 1) >= T + S:
        raise OrthornnError(f"the exact cross-talk mean needs 2(S-1) < T+S, got S={S}, T={T}")
    return (S - 1) * (1.0 / (K * (d + 1)) + (1.0 - 1.0 / K) / (2.0 * d))


@dataclass(frozen=True)
class Crosstalk:
    """Measured and predicted mean square cross-talk for one S."""

    S: int
    #: Monte-Carlo mean of X² over the trials.
    measured: float
    #: Its standard error.
    stderr: float
    #: The paper's order of magnitude, (S − 1)/d.
    paper: float
    #: The exact expectation (:func:`crosstalk_expectation`).
    exact: float
    trials: int


def crosstalk(
    S: int,
    K: int = 8,
    T: int = 500,
    d: int = 128,
    trials: int = 2000,
    rng: RngLike = None,
    *,
    progress: Callable[[int], object] | None = None,
) -> Crosstalk:
    r"""Measure :math:`\mathbb E X^2` over ``trials`` random constructions and sequences.

    ``progress``, if given, is called with the number of trials finished after each piece of
    work (the command line drives a progress bar from it; the library prints nothing).

    :math:`X` is read off the closed-form state at the first recall step (as in
    :func:`~orthornn.henaff.recall_scores`): the first symbol's score is
    :math:`u_{i_1}^\top \tilde h = 1 + X`.

    Memory is bounded for every K: only the ≤ S codes a trial uses are kept (``O(S·d)`` per
    trial, a few thousand trials at a time). The draws are those of the full construction,
    block by block of 5000 trials: the clock integers, the K codes of each trial (as
    :func:`~orthornn.henaff.sample_sphere_columns`), the symbols; when one block's codes would
    exceed 128 MiB they are streamed twice (once to reach the symbols, once to keep the used
    ones), so a seed gives the same numbers for every K and the time stays linear in K.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.1 (the argument after Figure 1).

    Examples
    --------
    >>> c = crosstalk(S=5, K=8, T=100, d=32, trials=4000, rng=0)
    >>> abs(c.measured - c.exact) < 4 * c.stderr
    True
    """
    S, K, T = check_int("S", S, 1), check_int("K", K, 2), check_int("T", T, 1)
    d, trials = check_int("d", d, 1), check_int("trials", trials, 2)
    exact = crosstalk_expectation(S, K, d, T)  # also checks the domain before any sampling
    gen = as_generator(rng)
    x2 = np.concatenate(
        [_crosstalk_chunk(gen, min(_CHUNK, trials - lo), S, K, T, d, progress) for lo in range(0, trials, _CHUNK)]
    )
    return Crosstalk(
        S=S,
        measured=float(x2.mean()),
        stderr=float(x2.std(ddof=1) / np.sqrt(trials)),
        paper=(S - 1) / d,
        exact=exact,
        trials=trials,
    )
