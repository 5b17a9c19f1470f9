"""The per-step primitives that bound a fractional-λ RUM step, side by side (one thread).

A fractional-λ memory step either diagonalises ``R_{t−1}`` (today's ``so_power`` path: a
batched complex ``eigh``) or, on the spectral route (analysis/spectral_update/), updates an
eigenbasis with one batched GEMM and O(N²) work. This prints the batched GEMM, real and complex
``eigh``, a batched matrix-vector product and one elementwise pass over (B, n, n), in ms, and
their ratio to the GEMM::

    OMP_NUM_THREADS=1 python benchmarks/spectral_floor.py [--batch 128] [--n 100] [--reps 5]

``--slices`` instead times the one GEMM of a folded step, ``Q[:, :, :ns] ← Q[:, :, :ns] W``
(:mod:`orthornn.nn.rum.spectral`, forward; ``Wᵀ`` in the backward), in two orientations on the
same strided slice, interleaved, best of ``--reps``: the slice as the left operand (what the
spectral node does) and ``(Wᵀ Q_sᵀ)ᵀ`` (what it did before), with their ratio.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch


def ms(f, reps: int) -> float:
    f()
    t = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - t) / reps * 1e3


def best_us(fns: dict, reps: int) -> dict:
    """Best wall time of each callable in µs, the callables interleaved rep by rep."""
    best = dict.fromkeys(fns, float("inf"))
    for f in fns.values():
        f()
    for _ in range(reps):
        for name, f in fns.items():
            t = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t)
    return {k: v * 1e6 for k, v in best.items()}


def slices(batch: int, n: int, reps: int) -> None:
    """The folded step's slice GEMM in two orientations (module docstring)."""
    g = torch.Generator().manual_seed(0)
    print(f"batch {batch}, n {n}, float32, one thread: Q[:, :, :ns] <- Q[:, :, :ns] W (µs, best of {reps})")
    print(f"  {'ns':>4} {'left operand':>13} {'(Wᵀ Q_sᵀ)ᵀ':>13} {'ratio':>7}")
    for ns in sorted({max(2, n // 4), n // 2, (3 * n) // 4, n}):
        Q = torch.randn(batch, n, n, generator=g)
        W = torch.randn(batch, ns, ns, generator=g)

        def left() -> None:
            Q[:, :, :ns] = torch.bmm(Q[:, :, :ns], W)  # noqa: B023

        def transposed() -> None:
            Q[:, :, :ns] = torch.bmm(W.mT, Q[:, :, :ns].mT).mT  # noqa: B023

        t = best_us({"left": left, "transposed": transposed}, reps)
        print(f"  {ns:>4} {t['left']:>13.0f} {t['transposed']:>13.0f} {t['transposed'] / t['left']:>6.2f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--slices", action="store_true", help="the folded step's slice GEMM in two orientations")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.slices:
        slices(args.batch, args.n, max(args.reps, 20))
        return
    g = torch.Generator().manual_seed(0)
    print(f"batch {args.batch}, n {args.n}, one thread (ms; ratio to the batched GEMM)")
    for dt, cdt in ((torch.float32, torch.complex64), (torch.float64, torch.complex128)):
        A = torch.randn(args.batch, args.n, args.n, dtype=dt, generator=g)
        S = A + A.mT
        C = torch.randn(args.batch, args.n, args.n, dtype=cdt, generator=g)
        H = C + C.mH
        v = A[:, :, :2].clone()
        rows = {
            "GEMM (B, n, n) @ (B, n, n)": ms(lambda: A @ A, args.reps),  # noqa: B023
            "matvec (B, n, n) @ (B, n, 2)": ms(lambda: A @ v, args.reps),  # noqa: B023
            "elementwise pass A * A": ms(lambda: A * A, args.reps),  # noqa: B023
            "eigh real symmetric": ms(lambda: torch.linalg.eigh(S), args.reps),  # noqa: B023
            "eigh complex Hermitian": ms(lambda: torch.linalg.eigh(H), max(1, args.reps // 2)),  # noqa: B023
        }
        gemm = rows["GEMM (B, n, n) @ (B, n, n)"]
        print(str(dt).replace("torch.", ""))
        for name, t in rows.items():
            print(f"  {name:<30} {t:8.2f} ms  {t / gemm:6.2f}×")


if __name__ == "__main__":
    main()
