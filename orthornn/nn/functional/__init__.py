"""Differentiable torch twins of the numeric layer, with the same names and conventions."""

from __future__ import annotations

from .rotation import rotate, rotation

__all__: list[str] = ["rotate", "rotation"]
