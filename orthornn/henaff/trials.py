r"""Trials of the random copy construction: closed form (fast) and step by step (the reference).

One *trial* draws a fresh construction and a fresh sequence, in this order from ``rng``: the
clock integers ``l`` ``(trials, d)``, the codes ``Ũ`` ``(trials, 2d, K)``, the symbols
``(trials, S)``. Both functions below make the same draws, so with the same seed they judge
the same trials (the tests check that they agree exactly). A trial is a **success** when all
S outputs at the recall steps ``T+S+1 … T+2S`` are the right symbol (argmax over the ``K + 2``
output rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..tasks import CopyTask
from ..tasks._params import RngLike, as_generator, check_int
from .copy import copy_solution_from, recall_scores, sample_clock, sample_sphere_columns
from .ltrnn import ltrnn_forward

__all__ = ["CopyTrials", "copy_trials", "copy_trials_forward"]


@dataclass(frozen=True)
class CopyTrials:
    """Outcome of ``trials`` independent constructions on one (K, S, T, d)."""

    #: Fraction of trials with all S symbols recalled.
    success: float
    #: Fraction of recalled symbols that are correct (over all trials and recall steps).
    recall: float
    #: Number of trials.
    trials: int
    #: Step by step only: fraction of the steps before the delimiter (targets blank) output blank.
    blank_before_delimiter: float | None = None
    #: Step by step only: fraction of trials whose output at the delimiter step is blank.
    blank_at_delimiter: float | None = None


def _draw(
    K: int, S: int, T: int, d: int, trials: int, gen: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    l = sample_clock(d, T + S, gen, size=(trials,))
    Ut = sample_sphere_columns(2 * d, K, gen, size=(trials,))
    symbols = gen.integers(0, K, size=(trials, S), dtype=np.int64)
    return l, Ut, symbols


def _check(K: int, S: int, T: int, d: int, trials: int) -> tuple[int, int, int, int, int]:
    return (
        check_int("K", K, 2),
        check_int("S", S, 1),
        check_int("T", T, 1),
        check_int("d", d, 1),
        check_int("trials", trials, 1),
    )


def copy_trials(K: int, S: int, T: int, d: int, trials: int, rng: RngLike = None) -> CopyTrials:
    """Success rate and recall accuracy of ``trials`` random constructions, in closed form.

    Uses :func:`~orthornn.henaff.recall_scores` (no time loop).

    >>> r = copy_trials(K=4, S=3, T=50, d=64, trials=100, rng=0)
    >>> r.success == 1.0 and r.recall == 1.0                  # short sequences, large d: exact
    True
    """
    K, S, T, d, trials = _check(K, S, T, d, trials)
    l, Ut, symbols = _draw(K, S, T, d, trials, as_generator(rng))
    correct = recall_scores(l, Ut, symbols, S, T).argmax(axis=-1) == symbols
    return CopyTrials(success=float(correct.all(axis=1).mean()), recall=float(correct.mean()), trials=trials)


def copy_trials_forward(
    K: int,
    S: int,
    T: int,
    d: int,
    trials: int,
    rng: RngLike = None,
    *,
    chunk: int = 50,
    progress: Callable[[int], object] | None = None,
) -> CopyTrials:
    """The same trials as :func:`copy_trials`, run step by step through :func:`ltrnn_forward`.

    Also reports the blank steps: before the delimiter the output is blank for every draw,
    and at the delimiter step it never is (the counter has already flipped; ``docs/henaff.md``).
    ``chunk`` trials run at once (memory ``chunk · (2d+1)²`` floats); ``progress``, if given, is
    called with the number of trials finished after each chunk (the library prints nothing).

    >>> r = copy_trials_forward(K=4, S=3, T=20, d=32, trials=10, rng=0)
    >>> r.recall, r.blank_before_delimiter, r.blank_at_delimiter
    (1.0, 1.0, 0.0)
    >>> r == copy_trials_forward(K=4, S=3, T=20, d=32, trials=10, rng=0, chunk=3)
    True
    """
    K, S, T, d, trials = _check(K, S, T, d, trials)
    chunk = check_int("chunk", chunk, 1)
    l, Ut, symbols = _draw(K, S, T, d, trials, as_generator(rng))
    task = CopyTask(T, S, K)
    correct = np.empty((trials, S), dtype=bool)
    before = np.empty(trials)
    at_delim = np.empty(trials, dtype=bool)
    for lo in range(0, trials, chunk):
        sl = slice(lo, min(lo + chunk, trials))
        sol = copy_solution_from(l[sl], Ut[sl], S, T)
        x, y = task.encode(symbols[sl])
        pred = ltrnn_forward(x, sol.U, sol.V, sol.W).outputs.argmax(axis=-1)
        correct[sl] = pred[:, T + S :] == y[:, T + S :]
        before[sl] = (pred[:, : T + S - 1] == task.blank).mean(axis=1)
        at_delim[sl] = pred[:, T + S - 1] == task.blank
        if progress is not None:
            progress(sl.stop - lo)
    return CopyTrials(
        success=float(correct.all(axis=1).mean()),
        recall=float(correct.mean()),
        trials=trials,
        blank_before_delimiter=float(before.mean()),
        blank_at_delimiter=float(at_delim.mean()),
    )
