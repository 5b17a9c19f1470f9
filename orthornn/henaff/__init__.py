"""Henaff, Szlam & LeCun (2016): explicit LT-RNN solutions of the long-memory tasks (numpy).

* :func:`copy_solution` — the clock construction that copies S symbols over T steps;
* :func:`adding_solution` — the one-unit ReLU LT-RNN that solves the adding problem exactly,
  and its LSTM reading (paper eq. 7);
* :func:`ltrnn_forward` — the step-by-step LT-RNN forward pass (with optional l2 pooling);
* :func:`figure1` — the success rate of the copy construction over a grid of (K, S), vectorised;
* :func:`crosstalk` — the interference term against the paper's (S − 1)/d and its exact mean.

See ``docs/henaff.md``.
"""

from __future__ import annotations

from .adding import (
    ADDING_LSTM_GATES,
    AddingSolution,
    LSTMGates,
    adding_lstm,
    adding_lstm_gates,
    adding_solution,
    lstm_forward,
)
from .copy import (
    CopySolution,
    clock_matrix,
    copy_solution,
    copy_solution_from,
    recall_scores,
    sample_clock,
    sample_sphere_columns,
)
from .cross_talk import Crosstalk, crosstalk, crosstalk_expectation
from .ltrnn import ACTIVATIONS, LTRNNOutput, l2_pool, ltrnn_forward
from .success_grid import Figure1, cell_seed, figure1
from .trials import CopyTrials, copy_trials, copy_trials_forward

__all__ = [
    "ACTIVATIONS",
    "ADDING_LSTM_GATES",
    "AddingSolution",
    "CopySolution",
    "CopyTrials",
    "Crosstalk",
    "Figure1",
    "LSTMGates",
    "LTRNNOutput",
    "adding_lstm",
    "adding_lstm_gates",
    "adding_solution",
    "cell_seed",
    "clock_matrix",
    "copy_solution",
    "copy_solution_from",
    "copy_trials",
    "copy_trials_forward",
    "crosstalk",
    "crosstalk_expectation",
    "figure1",
    "l2_pool",
    "lstm_forward",
    "ltrnn_forward",
    "recall_scores",
    "sample_clock",
    "sample_sphere_columns",
]
