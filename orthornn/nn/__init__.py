"""Torch layer: differentiable twins of the numeric functions (:mod:`orthornn.nn.functional`)
and ``torch.nn.Module`` s. Device-agnostic: every function runs where its inputs live.

Importing this package imports torch; ``import orthornn`` alone does not.
"""

from __future__ import annotations

import torch  # noqa: F401  (this package is the torch layer)

from . import functional

__all__ = ["functional"]
