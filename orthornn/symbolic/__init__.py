"""Exact layer (sympy only): decision procedures, the theorem machinery, exact objects.

Nothing here imports numpy-based numerics or torch; this is the specification the numeric
and torch layers are tested against.
"""

from __future__ import annotations

from .decide import Status, combine, decide_true, decide_zero
from .discover import DiscoveryError, default_theorems, discover, load_theorems, shipped_theorems
from .frame import FrameOperator, FrameVector, frame_inner, frame_rotation, gram_schmidt
from .report import to_json, to_markdown
from .theorem import Check, Derivation, Step, Theorem, TheoremResult, theorem

__all__ = [
    "Check",
    "Derivation",
    "DiscoveryError",
    "FrameOperator",
    "FrameVector",
    "Status",
    "Step",
    "Theorem",
    "TheoremResult",
    "combine",
    "decide_true",
    "decide_zero",
    "default_theorems",
    "discover",
    "frame_inner",
    "frame_rotation",
    "gram_schmidt",
    "load_theorems",
    "shipped_theorems",
    "theorem",
    "to_json",
    "to_markdown",
]
