"""orthornn — the theory of orthogonal recurrent networks, proved, computed and trained.

Layers (the same object has the same name in each):

* :mod:`orthornn.symbolic` — sympy: exact objects and machine-checked theorems;
* top level (numpy/scipy) — batched numerics, re-exported here;
* :mod:`orthornn.nn` — torch twins and modules (imported only on demand: ``import orthornn``
  never imports torch);
* :mod:`orthornn.testing` — hypothesis strategies and assertions for your own layers.
"""

from __future__ import annotations

from .errors import (
    NoRealLogarithmError,
    NotFiniteError,
    NotOrthogonalError,
    NotSkewError,
    OrthornnError,
    ShapeError,
)
from .numeric.eunn import givens_decompose, rotation_phases
from .numeric.givens import GivensMesh, apply_mesh, givens_compose
from .numeric.lie import so_exp, so_log, so_power
from .numeric.rotation import rotate, rotation

__version__ = "0.1.0"

__all__ = [
    "GivensMesh",
    "NoRealLogarithmError",
    "NotFiniteError",
    "NotOrthogonalError",
    "NotSkewError",
    "OrthornnError",
    "ShapeError",
    "__version__",
    "apply_mesh",
    "givens_compose",
    "givens_decompose",
    "rotate",
    "rotation",
    "rotation_phases",
    "so_exp",
    "so_log",
    "so_power",
]
