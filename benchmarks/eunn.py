"""Givens meshes: decomposition, composition, matrix-free application and the torch EUNN layer.

Run: ``python benchmarks/eunn.py`` (one thread; a few minutes). Prints four tables:

1. ``givens_decompose`` (Clements and Reck) for n in {64, 128, 256, 512}: time, error
   ‖compose(decompose(U)) − U‖_max, and the ratio against a naive numpy implementation of the
   same nulling sequence (one full-length row/column update per rotation, no BLAS ``rot``, no
   range restriction), and for n ≤ 128 against a dense baseline (each rotation an n×n matmul).
   Reference from the issue (not re-measured here, OpenFermion not installed): OpenFermion's
   Givens decomposition takes 1.65 s at n = 256 on this machine class.
2. ``givens_compose`` vs multiplying the dense layer matrices, n in {64, 256, 1024}.
3. ``apply_mesh`` on a batch of 64 vectors vs ``x @ U.T`` with the dense U, n in {64, 256, 1024}.
4. torch ``EUNN`` forward+backward vs a dense orthogonal matmul (weight gradient included),
   batch 64, capacity n and capacity 16.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time

import numpy as np
import torch
from scipy.stats import ortho_group

from orthornn import GivensMesh, apply_mesh, givens_compose, givens_decompose
from orthornn.nn import EUNN
from orthornn.numeric.eunn import schedule
from orthornn.numeric.givens import tunable_layout

torch.set_num_threads(1)


def best_of(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_decompose(u: np.ndarray, name: str) -> float:
    """The same nulling sequence with one full-length numpy update per rotation; returns the
    remainder's off-diagonal max (to check it did the work)."""
    a = u.copy()
    for side, r, c, p in schedule(u.shape[0], name).ops:
        if side == "R":
            t = np.arctan2(-a[r, c], a[r, c + 1])
            x, y = a[:, p].copy(), a[:, p + 1].copy()
            a[:, p], a[:, p + 1] = np.cos(t) * x + np.sin(t) * y, -np.sin(t) * x + np.cos(t) * y
        else:
            t = np.arctan2(-a[r, c], a[r - 1, c])
            x, y = a[p].copy(), a[p + 1].copy()
            a[p], a[p + 1] = np.cos(t) * x - np.sin(t) * y, np.sin(t) * x + np.cos(t) * y
    return float(np.abs(a - np.diag(np.diag(a))).max())


def dense_decompose(u: np.ndarray, name: str) -> None:
    """Each rotation as an explicit n×n Givens matrix multiplied in (O(n^4))."""
    n = u.shape[0]
    a = u.copy()
    for side, r, c, p in schedule(n, name).ops:
        g = np.eye(n)
        if side == "R":
            t = np.arctan2(-a[r, c], a[r, c + 1])
            g[p, p] = g[p + 1, p + 1] = np.cos(t)
            g[p + 1, p], g[p, p + 1] = np.sin(t), -np.sin(t)
            a = a @ g
        else:
            t = np.arctan2(-a[r, c], a[r - 1, c])
            g[p, p] = g[p + 1, p + 1] = np.cos(t)
            g[p + 1, p], g[p, p + 1] = np.sin(t), -np.sin(t)
            a = g @ a


def dense_layers(mesh: GivensMesh) -> list[np.ndarray]:
    out = []
    k = 0
    for pairs in mesh.pairs:
        g = np.eye(mesh.n)
        for i, j in pairs:
            c, s = np.cos(mesh.phases[k]), np.sin(mesh.phases[k])
            g[i, i] = g[j, j] = c
            g[j, i], g[i, j] = s, -s
            k += 1
        out.append(g)
    return out


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def bench_decompose() -> None:
    rows = []
    for n in (64, 128, 256, 512):
        u = ortho_group.rvs(n, random_state=n)
        for name in ("clements", "reck"):
            givens_decompose(u, name)  # warm the schedule cache
            reps = 3 if n <= 256 else 1
            t = best_of(lambda u=u, name=name: givens_decompose(u, name), reps)
            err = float(np.abs(givens_compose(givens_decompose(u, name)) - u).max())
            t_naive = best_of(lambda u=u, name=name: naive_decompose(u, name), 1)
            dense = "—"
            if n <= 128:
                t_dense = best_of(lambda u=u, name=name: dense_decompose(u, name), 1)
                dense = f"{t_dense:.3f} s ({t_dense / t:.0f}×)"
            rows.append(
                [
                    str(n),
                    name,
                    f"{t:.3f} s",
                    f"{err:.1e}",
                    f"{err / n:.1e}",
                    f"{t_naive:.3f} s ({t_naive / t:.1f}×)",
                    dense,
                ]
            )
    table(
        "givens_decompose (Haar U)",
        ["n", "mesh", "time", "‖compose − U‖_max", "error / n", "naive numpy (ratio)", "dense matmuls (ratio)"],
        rows,
    )
    print("\nReference (issue 4): OpenFermion n = 256: 1.65 s, error 1.4e-11; Strawberry Fields n = 128: 4.2 s.")


def random_mesh(n: int, depth: int, rng: np.random.Generator) -> GivensMesh:
    """A tunable mesh (= the Clements layout when depth = n) with uniform phases."""
    P = sum(len(p) for p in tunable_layout(n, depth))
    return GivensMesh.from_layout(n, "tunable", rng.uniform(-np.pi, np.pi, P), capacity=depth)


def bench_compose_apply() -> None:
    rng = np.random.default_rng(0)
    rows_c, rows_a = [], []
    for n, depth in ((64, 64), (256, 256), (1024, 64), (1024, 1024)):
        mesh = random_mesh(n, depth, rng)
        reps = 3 if n * depth <= 256 * 256 else 1
        t_c = best_of(lambda mesh=mesh: givens_compose(mesh), reps)
        u = givens_compose(mesh)
        if depth <= 256:
            layers = dense_layers(mesh)

            def dense_product(layers=layers, n=n):
                out = np.eye(n)
                for g in layers:
                    out = g @ out
                return out

            t_d = best_of(dense_product, reps)
            err = float(np.abs(dense_product() - u).max())
            rows_c.append(
                [str(n), str(depth), f"{t_c * 1e3:.1f} ms", f"{t_d * 1e3:.1f} ms", f"{t_d / t_c:.1f}×", f"{err:.1e}"]
            )
        else:
            rows_c.append([str(n), str(depth), f"{t_c * 1e3:.1f} ms", "(not run: n⁴)", "—", "—"])
        for cap in sorted({depth, 16}, reverse=True):
            m = mesh if cap == depth else random_mesh(n, cap, rng)
            uc = u if cap == depth else givens_compose(m)
            x = rng.normal(size=(64, n))
            t_a = best_of(lambda m=m, x=x: apply_mesh(m, x), 3)
            t_m = best_of(lambda x=x, uc=uc: x @ uc.T, 5)
            err = float(np.abs(apply_mesh(m, x) - x @ uc.T).max())
            row = [str(n), str(cap), f"{t_a * 1e3:.2f} ms", f"{t_m * 1e3:.3f} ms", f"{t_m / t_a:.2f}×", f"{err:.1e}"]
            if row[:2] not in [r[:2] for r in rows_a]:
                rows_a.append(row)
    table(
        "givens_compose vs product of the dense layer matrices",
        ["n", "depth", "givens_compose", "dense layers", "speed-up", "max diff"],
        rows_c,
    )
    table(
        "apply_mesh (64 vectors) vs dense x @ U.T (U given)",
        ["n", "depth", "apply_mesh", "dense matmul", "speed-up (<1: dense faster)", "max diff"],
        rows_a,
    )


def bench_torch() -> None:
    torch.manual_seed(0)
    rows = []
    for n in (64, 256, 1024):
        for capacity in (n, 16):
            layer = EUNN(n, capacity=capacity, dtype=torch.float64)
            w = torch.nn.Parameter(torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))[0])
            x = torch.randn(64, n, dtype=torch.float64)

            def eunn_step(layer=layer, x=x):
                layer.zero_grad()
                layer(x).square().sum().backward()

            def dense_step(w=w, x=x):
                w.grad = None
                (x @ w.T).square().sum().backward()

            reps = 3 if n <= 256 else 2
            t_e = best_of(eunn_step, reps)
            t_d = best_of(dense_step, 5)
            rows.append([str(n), str(capacity), f"{t_e * 1e3:.2f} ms", f"{t_d * 1e3:.2f} ms", f"{t_d / t_e:.2f}×"])
    table(
        "torch EUNN forward+backward vs dense orthogonal matmul (batch 64, float64, 1 thread)",
        ["n", "capacity", "EUNN", "dense", "speed-up (<1: dense faster)"],
        rows,
    )


if __name__ == "__main__":
    print(f"numpy {np.__version__}, torch {torch.__version__}, threads: torch {torch.get_num_threads()}, OMP 1")
    bench_decompose()
    bench_compose_apply()
    bench_torch()
