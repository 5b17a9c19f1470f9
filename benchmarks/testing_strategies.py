"""Benchmark: the overhead of orthornn.testing's strategies (issue 16: "drawing 1,000 matrices of
n = 64 in under 5 s"). For each matrix strategy, the wall and CPU time for hypothesis to draw
``--count`` examples of size ``--n`` (generate phase only, no database, derandomized: the same
draws on every run), and the CPU time per draw. One thread, as the rest of benchmarks/; on a
machine shared with other jobs the wall time includes their share, the CPU time does not.

    python benchmarks/testing_strategies.py              # n = 64, 1,000 draws each
    python benchmarks/testing_strategies.py --count 100  # a smoke run
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from orthornn.testing import (  # noqa: E402
    adversarial_orthogonal_matrices,
    adversarial_rotations,
    givens_meshes,
    nearly_orthogonal_matrices,
    nearly_skew_matrices,
    orthogonal_matrices,
    rotation_products,
    skew_symmetric_matrices,
    special_orthogonal_matrices,
)

#: name → strategy of n×n matrices.
STRATEGIES: dict[str, Callable[[int], st.SearchStrategy[Any]]] = {
    "orthogonal_matrices": orthogonal_matrices,
    "special_orthogonal_matrices": special_orthogonal_matrices,
    "adversarial_orthogonal_matrices": adversarial_orthogonal_matrices,
    'adversarial_rotations(kind="small")': lambda n: adversarial_rotations(n, "small"),
    "nearly_orthogonal_matrices": nearly_orthogonal_matrices,
    "nearly_skew_matrices": nearly_skew_matrices,
    "skew_symmetric_matrices": skew_symmetric_matrices,
    "rotation_products(steps=10)": lambda n: rotation_products(n, steps=10),
    "givens_meshes": givens_meshes,
}


def time_draws(strategy: st.SearchStrategy[Any], count: int) -> tuple[int, float, float]:
    """(draws made, wall seconds, CPU seconds of this process) for hypothesis to draw ``count``
    examples of ``strategy``; on a shared machine the CPU time is the overhead itself."""
    drawn = [0]

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(m: Any) -> None:
        drawn[0] += 1

    t0, c0 = time.perf_counter(), time.process_time()
    draw()
    return drawn[0], time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--only", nargs="*", default=None, help="strategy names (default: all)")
    args = p.parse_args(argv)
    print(f"hypothesis {hypothesis.__version__}, Python {platform.python_version()}, one thread\n")
    print(f"| strategy (n = {args.n}) | draws | wall time (s) | CPU time (s) | CPU per draw (ms) |")
    print("|---|---|---|---|---|")
    for name, make in STRATEGIES.items():
        if args.only and name not in args.only:
            continue
        count, wall, cpu = time_draws(make(args.n), args.count)
        print(f"| `{name}` | {count} | {wall:.2f} | {cpu:.2f} | {1e3 * cpu / max(count, 1):.2f} |", flush=True)


if __name__ == "__main__":
    main()
