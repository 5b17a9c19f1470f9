"""Torch layer: differentiable twins of the numeric functions (:mod:`orthornn.nn.functional`)
and ``torch.nn.Module`` s. Device-agnostic: every function runs where its inputs live.

Importing this package imports torch; ``import orthornn`` alone does not.
"""

from __future__ import annotations

import torch  # noqa: F401  (this package is the torch layer)

from . import functional
from .baselines import GRU, LSTM
from .eunn import EUNN
from .eunnrnn import EUNNRNN, GORU
from .fsrum import FSRUM, FSState
from .lm import LanguageModel
from .lnlstm import LayerNormLSTMCell
from .ltrnn import LTRNN, L2PoolReadout
from .rum import RUM, RUMCell, RUMState

__all__ = [
    "EUNN",
    "EUNNRNN",
    "FSRUM",
    "GORU",
    "GRU",
    "LSTM",
    "LTRNN",
    "RUM",
    "FSState",
    "L2PoolReadout",
    "LanguageModel",
    "LayerNormLSTMCell",
    "RUMCell",
    "RUMState",
    "functional",
]
