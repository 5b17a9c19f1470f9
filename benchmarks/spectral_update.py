"""Time the native eigen-update ``Bd(d)·G = W·Bd(φ)·Wᵀ`` (``orthornn.nn.kernels.spectral_update``)
against, in the same run, the dense batched decomposition it replaces and one batched GEMM.

Batch 128, float64, one thread, a dense spectrum (angles uniform in (0, π): no deflation, as after
many steps of a recurrence from the identity)::

    python benchmarks/spectral_update.py [--B 128] [--sizes 50 100] [--reps 15] [--decayed K]

``--decayed K`` makes K of each matrix's N/2 angles a decayed cluster, ``10⁻² · 2⁻ʲ`` for
j = 0 … K − 1 (with a relative jitter of 10 %), as a fractional power leaves them in a recall
run at λ = 0.5 (its angles halve each step until they fall to 0 and fold): a cluster of close
roots whose eigenvectors the kernel re-orthogonalises together, the case that dominates there.

Prints the median ms per batch of each, the ratios, the kernel's reconstruction/orthogonality error
on the batch and its average number of secular-function evaluations per root.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
import torch

from orthornn.nn import kernels


def _median_ms(fn, reps: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def _inputs(B: int, n: int, rng: np.random.Generator, decayed: int = 0):
    d = rng.uniform(0, np.pi, (B, n // 2))
    k = min(decayed, n // 2)
    d[:, :k] = 1e-2 * 0.5 ** np.arange(k) * rng.uniform(0.9, 1.1, (B, k))
    a = rng.standard_normal((B, n))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    w = rng.standard_normal((B, n))
    w -= np.sum(w * a, axis=1, keepdims=True) * a
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    th = rng.uniform(0.05, np.pi - 0.05, B)
    return d, a, w, th


def _blocks(phi: np.ndarray, n: int) -> np.ndarray:
    """``Bd(φ)`` for a batch of angles (B, n//2)."""
    k = np.arange(phi.shape[1])
    Bd = np.tile(np.eye(n), (phi.shape[0], 1, 1))
    c, s = np.cos(phi), np.sin(phi)
    Bd[:, 2 * k, 2 * k], Bd[:, 2 * k + 1, 2 * k + 1] = c, c
    Bd[:, 2 * k + 1, 2 * k], Bd[:, 2 * k, 2 * k + 1] = s, -s
    return Bd


def _dense(d, a, w, th) -> np.ndarray:
    n = a.shape[1]
    Bd = _blocks(d, n)
    P = a[:, :, None] * a[:, None, :] + w[:, :, None] * w[:, None, :]
    K = w[:, :, None] * a[:, None, :] - a[:, :, None] * w[:, None, :]
    G = np.eye(n) + (np.cos(th) - 1)[:, None, None] * P + np.sin(th)[:, None, None] * K
    return Bd @ G


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=128)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--decayed", type=int, default=0, metavar="K", help="K angles in a decayed cluster (docstring)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    k = kernels.spectral_update()
    if k is None:
        raise SystemExit("the native spectral_update kernel is not available (native off or no compiler)")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        d, a, w, th = _inputs(args.B, n, rng, args.decayed)
        td, ta, tw, tt = (torch.tensor(x) for x in (d, a, w, th))
        A = _dense(d, a, w, th)
        H = torch.tensor(1j * (A - A.transpose(0, 2, 1)) / 2)  # the complex Hermitian eigh a dense step pays
        X = torch.tensor(A)
        t_kernel = _median_ms(functools.partial(k, td, ta, tw, tt), args.reps)
        evals, roots = k.last_stats
        t_eigh = _median_ms(functools.partial(torch.linalg.eigh, H), max(3, args.reps // 3))
        t_gemm = _median_ms(functools.partial(torch.bmm, X, X), args.reps)
        W, phi, status = k(td, ta, tw, tt)
        Wn = W.numpy()
        ok = status.numpy() == 0
        rec = np.abs(Wn @ _blocks(phi.numpy(), n) @ Wn.transpose(0, 2, 1) - A)[ok].max()
        orth = np.abs(Wn.transpose(0, 2, 1) @ Wn - np.eye(n))[ok].max()
        label = f"B={args.B} N={n}" + (f" decayed {args.decayed}" if args.decayed else "")
        print(
            f"{label}: kernel {t_kernel:.2f} ms, complex eigh {t_eigh:.1f} ms, bmm {t_gemm:.2f} ms | "
            f"kernel/bmm {t_kernel / t_gemm:.2f}x, eigh/kernel {t_eigh / t_kernel:.1f}x | "
            f"status 0: {int(ok.sum())}/{args.B}, max |W Bd Wᵀ − A| {rec:.1e}, max |WᵀW − I| {orth:.1e}, "
            f"{evals / max(roots, 1):.2f} evaluations per root (of N/2)"
        )


if __name__ == "__main__":
    main()
