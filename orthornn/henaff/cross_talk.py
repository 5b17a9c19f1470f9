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

from dataclasses import dataclass

import numpy as np

from ..errors import OrthornnError
from ..tasks._params import RngLike, as_generator, check_int
from .copy import _recall_states, sample_clock, sample_sphere_columns

__all__ = ["Crosstalk", "crosstalk", "crosstalk_expectation"]

_CHUNK = 5000


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


def crosstalk(S: int, K: int = 8, T: int = 500, d: int = 128, trials: int = 2000, rng: RngLike = None) -> Crosstalk:
    r"""Measure :math:`\mathbb E X^2` over ``trials`` random constructions and sequences.

    :math:`X` is read off the closed-form state at the first recall step (as in
    :func:`~orthornn.henaff.recall_scores`): the first symbol's score is
    :math:`u_{i_1}^\top \tilde h = 1 + X`.

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
    x2 = np.empty(trials)
    for lo in range(0, trials, _CHUNK):  # bounded memory: each trial holds K codes of size 2d
        n = min(_CHUNK, trials - lo)
        l = sample_clock(d, T + S, gen, size=(n,))
        Ut = sample_sphere_columns(2 * d, K, gen, size=(n,))
        symbols = gen.integers(0, K, size=(n, S))
        h1 = _recall_states(l, Ut, symbols, S, T, np.array([1]))[:, 0]  # (n, 2d)
        u1 = np.swapaxes(Ut, -1, -2)[np.arange(n), symbols[:, 0]]  # (n, 2d): u_{i_1}
        x2[lo : lo + n] = (np.sum(u1 * h1, axis=1) - 1.0) ** 2
    return Crosstalk(
        S=S,
        measured=float(x2.mean()),
        stderr=float(x2.std(ddof=1) / np.sqrt(trials)),
        paper=(S - 1) / d,
        exact=exact,
        trials=trials,
    )
