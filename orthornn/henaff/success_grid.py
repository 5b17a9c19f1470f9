r"""Figure 1 of Henaff et al.: how often the random copy construction succeeds, over (K, S).

One *trial* draws a fresh construction (clock integers ``l``, symbol codes ``Ũ``) and a fresh
sequence of S symbols uniform in K, and reads the S outputs at the recall steps
``T+S+1 … T+2S`` (closed form, :func:`~orthornn.henaff.copy_trials`). The trial is a
**success** when all S recalled symbols are the argmax over the ``K + 2`` output rows.
Blank steps need no sampling: the counter makes them correct before the delimiter for every
draw (``proofs/henaff.py``); the delimiter step itself is never blank (see ``docs/henaff.md``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..tasks._params import check_int
from .trials import copy_trials

__all__ = ["Figure1", "cell_seed", "figure1"]


@dataclass(frozen=True)
class Figure1:
    """The success-rate grid of the copy construction (rows: K, columns: S)."""

    K_values: tuple[int, ...]
    S_values: tuple[int, ...]
    #: ``success[a, b]``: fraction of trials with all symbols recalled, for K_values[a], S_values[b].
    success: NDArray[np.float64]
    #: ``recall[a, b]``: fraction of recalled symbols that are correct.
    recall: NDArray[np.float64]
    T: int
    d: int
    trials: int
    seed: int
    #: Wall time of the computation, seconds.
    seconds: float
    #: CPU time of this process during the computation, seconds (all threads; on a shared
    #: machine this is the better measure of the work done).
    cpu_seconds: float


def cell_seed(seed: int, K: int, S: int) -> np.random.SeedSequence:
    """The random stream of the Figure 1 cell (K, S): ``SeedSequence(seed, spawn_key=(K, S))``.

    It depends only on ``(seed, K, S)``, so a cell is reproducible on its own (and shares its
    draws across T and d, which the construction takes from the same stream).

    >>> from orthornn.henaff import copy_trials
    >>> r = copy_trials(4, 10, T=100, d=32, trials=50, rng=np.random.default_rng(cell_seed(0, 4, 10)))
    >>> bool(r.success == figure1([8, 4], [2, 10], T=100, d=32, trials=50, seed=0).success[1, 1])
    True
    """
    return np.random.SeedSequence(check_int("seed", seed, 0), spawn_key=(check_int("K", K, 2), check_int("S", S, 1)))


def figure1(
    K_values: Sequence[int],
    S_values: Sequence[int],
    T: int = 500,
    d: int = 128,
    trials: int = 500,
    seed: int = 0,
) -> Figure1:
    r"""Success rate of the explicit copy solution over a grid of alphabet sizes and lengths.

    .. math:: \text{success}(K, S) = \Pr\bigl[\arg\max_c\, y_{T+S+k, c} = i_k \ \ \forall k = 1…S\bigr]

    estimated over ``trials`` independent constructions per cell. Each cell draws from its own
    stream, :func:`cell_seed` ``(seed, K, S)``, which depends on nothing else in the grid: a
    cell has the same value in every grid that contains it, whatever its shape or order, and
    is :func:`~orthornn.henaff.copy_trials` on that stream.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.2 and Figure 1 (T = 500, d = 128, 500 trials).

    Examples
    --------
    >>> f = figure1([2, 16], [2, 30], T=100, d=32, trials=200, seed=0)
    >>> f.success.shape, bool(f.success[0, 0] >= f.success[1, 1])   # harder with K and S
    ((2, 2), True)
    >>> bool(figure1([16], [30], T=100, d=32, trials=200, seed=0).success[0, 0] == f.success[1, 1])
    True
    """
    Ks = tuple(check_int("K", k, 2) for k in K_values)
    Ss = tuple(check_int("S", s, 1) for s in S_values)
    seed = check_int("seed", seed, 0)
    start, cpu_start = time.perf_counter(), time.process_time()
    success = np.empty((len(Ks), len(Ss)))
    recall = np.empty((len(Ks), len(Ss)))
    for a, K in enumerate(Ks):
        for b, S in enumerate(Ss):
            r = copy_trials(K, S, T, d, trials, np.random.default_rng(cell_seed(seed, K, S)))
            success[a, b], recall[a, b] = r.success, r.recall
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Figure1(Ks, Ss, success, recall, T, d, trials, seed, wall, cpu)
