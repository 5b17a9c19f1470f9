"""check_orthogonal_layer on geotorch (its ``orthogonal`` constraint: the Stiefel manifold, square
and rectangular in either orientation; and its ``SO`` manifold, registered as a parametrization),
with each trivialization: what passes, what fails and how, the float32 drift. Prints Markdown.

    .venv/bin/pip install geotorch   # the test extra: pip install -e .[test]
    OMP_NUM_THREADS=1 python analysis/peer_checks/geotorch_layers.py > analysis/peer_checks/geotorch.md
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geotorch
import torch
from torch.nn.utils import parametrize

from orthornn.testing import check_orthogonal_layer, dimensions

torch.set_num_threads(1)


def constrained(triv: str, extra: int = 0) -> Callable[[int, Any], Any]:
    """``geotorch.orthogonal`` on ``Linear(n, n + extra)``: weight ``(n + extra)×n``."""

    def make(n: int, dtype: Any) -> Any:
        layer = torch.nn.Linear(n, n + extra, bias=False, dtype=dtype)
        geotorch.orthogonal(layer, "weight", triv=triv)
        return layer

    return make


def special(triv: str) -> Callable[[int, Any], Any]:
    """``geotorch.SO`` registered on the weight of ``Linear(n, n)`` (set to I first: geotorch's
    ``right_inverse`` refuses a weight outside SO(n), and ``nn.Linear``'s init is not in it)."""

    def make(n: int, dtype: Any) -> Any:
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        with torch.no_grad():  # register_parametrization checks the weight is in SO(n)
            layer.weight.copy_(torch.eye(n, dtype=dtype))
        parametrize.register_parametrization(layer, "weight", geotorch.SO((n, n), triv=triv).to(dtype))
        return layer

    return make


LAYERS: list[tuple[str, Callable[[int, Any], Any], bool]] = [
    *[(f"`geotorch.orthogonal(Linear(n, n), triv={t!r})`", constrained(t), False) for t in ("expm", "cayley")],
    ("`geotorch.orthogonal(Linear(n, n + 2))` (tall weight)", constrained("expm", 2), False),
    ("`geotorch.orthogonal(Linear(n + 1, n))` (wide weight)", lambda n, dt: constrained("expm", -1)(n + 1, dt), False),
    *[
        (f"`register_parametrization(Linear(n, n), 'weight', geotorch.SO(triv={t!r}))`, special", special(t), True)
        for t in ("expm", "cayley")
    ],
]

if __name__ == "__main__":
    print(
        f"geotorch {geotorch.__version__}, torch {torch.__version__}; sizes 2…6, float64 and float32, "
        "SGD (momentum, decay) and AdamW (decay), 20 examples\n"
    )
    print("| layer | result | skipped | float32 drift after 300 AdamW steps, n = 16 (eps) |")
    print("|---|---|---|---|")
    for label, make, is_special in LAYERS:
        try:
            report = check_orthogonal_layer(make, sizes=dimensions(2, 6), special=is_special, max_examples=20)
            result, drift = "passes: " + ", ".join(report.checks), f"{report.float32_drift:.1f}"
            skipped = "; ".join(report.skipped) or "—"
        except AssertionError as err:
            result, drift, skipped = "fails: " + str(err).splitlines()[0], "—", "—"
        print(f"| {label} | {result} | {skipped} | {drift} |", flush=True)
