"""Differentiable torch twins of the numeric layer, with the same names and conventions."""

from __future__ import annotations

from .eunn import givens_mesh
from .lie import so_exp, so_log, so_power
from .rotation import rotate, rotation

__all__: list[str] = ["givens_mesh", "rotate", "rotation", "so_exp", "so_log", "so_power"]
