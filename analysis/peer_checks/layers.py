"""check_orthogonal_layer on torch.nn.utils.parametrizations.orthogonal with each orthogonal_map
(and use_trivialization on and off): what passes, what fails and how, the float32 drift. Prints
Markdown.

    OMP_NUM_THREADS=1 python analysis/peer_checks/layers.py > analysis/peer_checks/layers.md
"""

from __future__ import annotations

import torch
from torch.nn.utils.parametrizations import orthogonal

from orthornn.testing import check_orthogonal_layer, dimensions

torch.set_num_threads(1)

if __name__ == "__main__":
    print(
        f"torch {torch.__version__}; sizes 2…6, float64 and float32, SGD (momentum, decay) and AdamW (decay), "
        "20 examples\n"
    )
    print("| layer | result | float32 drift after 300 AdamW steps, n = 16 (eps) |")
    print("|---|---|---|")
    for triv in (True, False):
        for name in ("matrix_exp", "cayley", "householder"):

            def make(n, dtype, name=name, triv=triv):
                layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
                return orthogonal(layer, orthogonal_map=name, use_trivialization=triv)

            label = f"`orthogonal(Linear, orthogonal_map={name!r}, use_trivialization={triv})`"
            try:
                report = check_orthogonal_layer(make, sizes=dimensions(2, 6), max_examples=20)
                result, drift = "passes: " + ", ".join(report.checks), f"{report.float32_drift:.1f}"
            except AssertionError as err:
                result, drift = "fails: " + str(err).splitlines()[0], "—"
            print(f"| {label} | {result} | {drift} |", flush=True)
