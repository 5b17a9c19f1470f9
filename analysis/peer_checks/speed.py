"""The module's own overhead (issue 16: "drawing 1,000 matrices of n = 64 in under 5 s"): wall
time for hypothesis to draw 1,000 examples (generate phase only) from each matrix strategy.

    OMP_NUM_THREADS=1 python analysis/peer_checks/speed.py > analysis/peer_checks/speed.md
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, Phase, given, settings

from orthornn.testing import (
    adversarial_orthogonal_matrices,
    givens_meshes,
    nearly_orthogonal_matrices,
    orthogonal_matrices,
    rotation_products,
)

N, COUNT = 64, 1000

if __name__ == "__main__":
    print(f"| strategy (n = {N}) | draws | wall time (s) |")
    print("|---|---|---|")
    for name, strategy in [
        ("orthogonal_matrices", orthogonal_matrices(N)),
        ("adversarial_orthogonal_matrices", adversarial_orthogonal_matrices(N)),
        ("nearly_orthogonal_matrices", nearly_orthogonal_matrices(N)),
        ("rotation_products(steps=10)", rotation_products(N, steps=10)),
        ("givens_meshes", givens_meshes(N)),
    ]:
        drawn = [0]

        @settings(
            max_examples=COUNT,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def draw(m):
            drawn[0] += 1  # noqa: B023 - run at once, in this iteration

        t0 = time.perf_counter()
        draw()
        print(f"| `{name}` | {drawn[0]} | {time.perf_counter() - t0:.2f} |", flush=True)
