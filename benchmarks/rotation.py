"""Benchmark: matrix-free ``rotate(a, b, h)`` against forming ``R = rotation(a, b)`` and ``R @ h``.

Also measures the orthogonality error ``max ‖RᵀR − I‖_max`` of ``rotation`` over a large random
sample with nearly collinear, nearly antiparallel and exactly (anti)parallel pairs, float64 and
float32, numpy and torch, next to the textbook eq. (1) with ``sin θ = sqrt(1 − cos²θ)``.

Run (one thread, as printed in docs/rotation.md)::

    python benchmarks/rotation.py            # N ∈ {64, 256, 1024}, batch 128
    python benchmarks/rotation.py --quick    # smaller sample, for a smoke run
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import orthornn  # noqa: E402
from orthornn.nn import functional as F  # noqa: E402

torch.set_num_threads(1)


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up call), in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed_table(sizes: list[int], batch: int, repeats: int) -> None:
    print(f"matrix-free rotate vs R = rotation(a, b); R @ h   (batch {batch}, float64, 1 thread)")
    print(f"{'backend':8} {'N':>5} {'rotate':>11} {'R @ h':>11} {'ratio':>8} {'N/8':>6}")
    rng = np.random.default_rng(0)
    for n in sizes:
        a, b, h = rng.standard_normal((3, batch, n))
        for name, (free, dense) in _cases(a, b, h).items():
            r = 3 if n >= 1024 else repeats
            t_free, t_dense = best_time(free, repeats), best_time(dense, r)
            print(f"{name:8} {n:5d} {t_free * 1e3:9.3f}ms {t_dense * 1e3:9.2f}ms {t_dense / t_free:7.0f}x {n / 8:6.0f}")


def _cases(a: np.ndarray, b: np.ndarray, h: np.ndarray) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """(matrix-free, dense) callables per backend."""
    ta, tb, th = (torch.from_numpy(x) for x in (a, b, h))
    return {
        "numpy": (lambda: orthornn.rotate(a, b, h), lambda: np.matmul(orthornn.rotation(a, b), h[..., None])),
        "torch": (lambda: F.rotate(ta, tb, th), lambda: torch.matmul(F.rotation(ta, tb), th[..., None])),
    }


def sample_pairs(n: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of six kinds (generic, nearly ±collinear with θ or π − θ down to 1e-12, exact ±
    multiples, independent), with magnitudes 10^±30, in float64."""
    a = rng.standard_normal((count, n))
    d = rng.standard_normal((count, n))
    ahat = a / np.linalg.norm(a, axis=-1, keepdims=True)
    u = d - (d * ahat).sum(-1, keepdims=True) * ahat
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    kind = rng.integers(0, 6, count)
    theta = np.where(kind == 0, rng.uniform(0, np.pi, count), 10.0 ** rng.uniform(-12, -1, count))
    theta = np.where(kind == 2, np.pi - theta, theta)
    b = np.cos(theta)[:, None] * ahat + np.sin(theta)[:, None] * u
    b = np.where((kind == 3)[:, None], 2.7 * a, b)
    b = np.where((kind == 4)[:, None], -2.7 * a, b)
    b = np.where((kind == 5)[:, None], d, b)
    scale = 10.0 ** rng.uniform(-30, 30, (2, count, 1))
    return a * scale[0], b * scale[1]


def naive_eq1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Textbook eq. (1): cos = â·b̂, sin = sqrt(1 − cos²), u_b = v/‖v‖ (in the input dtype)."""
    with np.errstate(all="ignore"):
        u_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
        cos = (u_a * b).sum(-1) / np.linalg.norm(b, axis=-1)
        sin = np.sqrt(1 - cos * cos)
        v = b - (u_a * b).sum(-1, keepdims=True) * u_a
        u_b = v / np.linalg.norm(v, axis=-1, keepdims=True)
        n = a.shape[-1]
        P = u_a[..., :, None] * u_a[..., None, :] + u_b[..., :, None] * u_b[..., None, :]
        G = u_b[..., :, None] * u_a[..., None, :] - u_a[..., :, None] * u_b[..., None, :]
        return np.eye(n, dtype=a.dtype) + sin[..., None, None] * G + (cos - 1)[..., None, None] * P


def defect(R: np.ndarray) -> np.ndarray:
    R = R.astype(np.float64)
    n = R.shape[-1]
    return np.abs(np.swapaxes(R, -1, -2) @ R - np.eye(n)).max(axis=(-2, -1))


def orthogonality_table(dims: list[int], count: int) -> None:
    print(f"\northogonality error max ‖RᵀR − I‖_max over {count} pairs per N (1/6 each kind; magnitudes 10^±30)")
    print(f"{'N':>4} {'dtype':8} {'numpy':>9} {'torch':>9} {'/N (f64)':>9} {'min det':>9} {'naive eq.(1)':>24}")
    rng = np.random.default_rng(1)
    for n in dims:
        a64, b64 = sample_pairs(n, count, rng)
        for dtype in (np.float64, np.float32):
            a, b = a64.astype(dtype), b64.astype(dtype)
            R = orthornn.rotation(a, b)
            Rt = F.rotation(torch.from_numpy(a), torch.from_numpy(b)).numpy()
            e_np, e_t = defect(R).max(), defect(Rt).max()
            det = np.linalg.det(R.astype(np.float64)).min()
            # the naive formula needs ‖a‖² to exist: give it unit-scale inputs (its best case)
            an = (a64 / np.abs(a64).max(-1, keepdims=True)).astype(dtype)
            bn = (b64 / np.abs(b64).max(-1, keepdims=True)).astype(dtype)
            Rn = naive_eq1(an, bn)
            bad = ~np.isfinite(Rn).all(axis=(-2, -1))
            e_n = defect(Rn[~bad]).max() if (~bad).any() else float("nan")
            per_n = f"{max(e_np, e_t) / n:9.1e}" if dtype == np.float64 else f"{'':9}"
            naive = f"{bad.sum():5d} NaN, max {e_n:.1e}"
            print(f"{n:4d} {np.dtype(dtype).name:8} {e_np:9.1e} {e_t:9.1e} {per_n} {det:9.6f} {naive:>24}")


def snap_table(dims: list[int], count: int) -> None:
    """sin θ that rounding leaves in exact multiples b = βa (β < 0): what ANTIPARALLEL_SIN_EPS must exceed."""
    from orthornn._conventions import ANTIPARALLEL_SIN_EPS
    from orthornn.numeric.rotation import _dot, _unit

    print(f"\nexact multiples b = βa, β = −10^U(−6, 6), |a| = 10^U(−5, 5): max sin θ / eps over {count} pairs")
    print(f"(pairs with sin θ ≤ {ANTIPARALLEL_SIN_EPS:g}·eps take the canonical half turn)")
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        worst = []
        for n in dims:
            a = (rng.standard_normal((count, n)) * 10.0 ** rng.uniform(-5, 5, (count, 1))).astype(dtype)
            b = (-(10.0 ** rng.uniform(-6, 6, (count, 1))) * a).astype(dtype)
            ahat, bhat = _unit(a)[0], _unit(b)[0]
            w = bhat - _dot(ahat, bhat)[..., None] * ahat
            w -= _dot(ahat, w)[..., None] * ahat
            worst.append(np.sqrt(_dot(w, w)).max() / np.finfo(dtype).eps)
        cells = "  ".join(f"N={n}: {x:.2f}" for n, x in zip(dims, worst, strict=True))
        print(f"{np.dtype(dtype).name:8} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and samples")
    args = parser.parse_args()
    sizes = [64, 256] if args.quick else [64, 256, 1024]
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads: torch {torch.get_num_threads()}")
    speed_table(sizes, batch=128, repeats=5 if args.quick else 20)
    orthogonality_table([2, 3, 16, 64], count=2000 if args.quick else 20000)
    snap_table([2, 3, 8, 64, 1024], count=2000 if args.quick else 20000)


if __name__ == "__main__":
    main()
