"""Time of one prototype step against the dense reference step at n = 100 (one thread, numpy).

    OMP_NUM_THREADS=1 python analysis/spectral_update/timing.py [--n 100] [--lam 0.5] [--steps 40] \
        [--solver newton|bisect]

The prototype is not written for speed (Python loops over clusters, bisection to the last
bit); this measures how far it is from the dense ``so_power`` step, the number the library
implementation has to turn around.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import real_schur
import secular
import stress

from orthornn.numeric.lie import so_power


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--lam", type=float, default=0.5)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--solver", choices=("newton", "bisect"), default="newton")
    args = ap.parse_args()
    real_schur.update = lambda psi, Y, th: secular.update(psi, Y, th, solver=args.solver)
    rng = np.random.default_rng(0)
    n = args.n
    Q, phi = np.eye(n), np.zeros(n // 2)
    proto, dense = [], []
    secular.STATS["hist"] = []  # evaluation rounds each root took
    for _ in range(args.steps):
        a, w = stress.plane(n, rng)
        th = rng.uniform(0.05, 3.0)
        R_prev = real_schur.matrix(Q, phi)
        t0 = time.perf_counter()
        Q, phi = real_schur.step(Q, phi, args.lam, a, w, th)
        proto.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        so_power(R_prev, args.lam) @ stress.rotation(a, w, th)
        dense.append(time.perf_counter() - t0)
    skip = min(10, args.steps // 4)  # the first steps from R_0 = I are cheap (few roots)
    p, d = 1e3 * np.median(proto[skip:]), 1e3 * np.median(dense[skip:])
    print(f"n = {n}, λ = {args.lam}, {args.solver}: prototype step {p:.1f} ms, "
          f"dense so_power step {d:.1f} ms (medians)")
    h = np.array(secular.STATS["hist"])
    if h.size:  # the Newton solver records the rounds each root took
        print(f"root finder: evaluations per root median {np.median(h):.0f}, "
              f"90th percentile {np.percentile(h, 90):.0f}, max {h.max()} ({h.size} roots)")
    else:  # bisection runs all roots in lockstep
        st = secular.STATS
        print(f"root finder: {st['evaluations'] / st['roots']:.0f} evaluations per root on average")

if __name__ == "__main__":
    main()
