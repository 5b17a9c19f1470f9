"""so_log / so_power / so_exp against scipy.linalg.logm / fractional_matrix_power / expm.

Three tables, one run, one thread everywhere:

1. speed, n ∈ {8, 64, 256}, a single matrix and a batch of 64 (scipy loops over the batch):
   issue 3 asks so_log ≥ 4× faster than logm at n = 256 and ≥ 10× at n = 8;
2. accuracy on Haar-random rotations, angles π − 1e-6, π − 1e-10, exactly π, and RUM memories
   (products of many Rotations): reconstruction ‖exp(log R) − R‖_max (scipy expm of each
   method's log), skew defect ‖A + Aᵀ‖_max, and whether the output is real; and the
   orthogonality of so_exp against expm on random skew matrices;
3. torch so_power forward + backward, batch 128, n = 100, CPU (and CUDA when available).

    python benchmarks/lie.py [--quick]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg as sl  # noqa: E402
import torch  # noqa: E402

import orthornn  # noqa: E402
from orthornn.nn import functional as F  # noqa: E402


def haar(n: int, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> np.ndarray:
    z = rng.standard_normal((*batch, n, n))
    q, r = np.linalg.qr(z)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    flip = np.linalg.det(q) < 0
    q[flip, :, 0] *= -1
    return q


def best_of(f, reps: int) -> float:
    """Minimum wall time of ``reps`` calls (seconds)."""
    f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def blocks(phis, n: int) -> np.ndarray:
    R = np.eye(n)
    for j, p in enumerate(phis):
        R[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = [[np.cos(p), -np.sin(p)], [np.sin(p), np.cos(p)]]
    return R


def rum_memory(n: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    R = np.eye(n)
    for _ in range(steps):
        a, b = rng.standard_normal((2, n))
        R = R @ orthornn.rotation(a, b)
    return R


def speed_table(quick: bool) -> None:
    rng = np.random.default_rng(0)
    print("## speed (ms, best of k; scipy loops over the batch)\n")
    print(
        "| n | batch | so_log | logm | logm/so_log | so_power | frac_power | frac/so_power "
        "| so_exp | expm | expm/so_exp |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (8, 64, 256):
        for batch in (1, 64):
            if quick and n == 256 and batch == 64:
                continue
            R = haar(n, rng, (batch,))
            A = orthornn.so_log(R)
            reps = 5 if n < 256 else 2
            sreps = reps if batch * n < 64 * 64 else 1
            t_log = best_of(lambda R=R: orthornn.so_log(R), reps)
            t_logm = best_of(lambda R=R: [sl.logm(r) for r in R], sreps)
            t_pow = best_of(lambda R=R: orthornn.so_power(R, 0.37), reps)
            t_frac = best_of(lambda R=R: [sl.fractional_matrix_power(r, 0.37) for r in R], sreps)
            t_exp = best_of(lambda A=A: orthornn.so_exp(A), reps)
            t_expm = best_of(lambda A=A: [sl.expm(a) for a in A], reps)
            ms = 1e3
            print(
                f"| {n} | {batch} | {t_log * ms:.3g} | {t_logm * ms:.3g} | **{t_logm / t_log:.1f}×** "
                f"| {t_pow * ms:.3g} | {t_frac * ms:.3g} | {t_frac / t_pow:.1f}× "
                f"| {t_exp * ms:.3g} | {t_expm * ms:.3g} | {t_expm / t_exp:.1f}× |",
                flush=True,
            )


def accuracy_table() -> None:
    rng = np.random.default_rng(1)
    n = 64
    Q = haar(n, rng)
    cases = {
        "Haar n=64": haar(n, rng),
        "angle π − 1e-6": Q @ blocks([np.pi - 1e-6, 1.0], n) @ Q.T,
        "angle π − 1e-10": Q @ blocks([np.pi - 1e-10, 1.0], n) @ Q.T,
        "angle exactly π": Q @ blocks([np.pi, 1.0], n) @ Q.T,
        "two angles π (4-dim −1 space)": Q @ blocks([np.pi, np.pi, 0.5], n) @ Q.T,
        "RUM memory n=100, 3 Rotations": rum_memory(100, 3, rng),
        "RUM memory n=100, 500 Rotations": rum_memory(100, 500, rng),
    }
    print("\n## accuracy (float64): ‖expm(A) − R‖_max, ‖A + Aᵀ‖_max, real output\n")
    print("| case | method | reconstruction | /(1e-12·n) | skew defect | real output |")
    print("|---|---|---:|---:|---:|---|")
    for name, R in cases.items():
        m = R.shape[-1]
        for method in ("so_log", "scipy logm"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                A = orthornn.so_log(R) if method == "so_log" else sl.logm(R)
            real = not np.iscomplexobj(A) or bool(np.all(A.imag == 0))
            recon = np.abs(sl.expm(A) - R).max()
            if method == "so_log":
                recon = max(recon, np.abs(orthornn.so_exp(A) - R).max())
            skew = np.abs(A + A.T).max()
            print(
                f"| {name} | {method} | {recon:.1e} | {recon / (1e-12 * m):.1e} | {skew:.1e} "
                f"| {'yes' if real else f'no (max abs Im = {np.abs(A.imag).max():.1e})'} |",
                flush=True,
            )


def exp_orthogonality_table() -> None:
    """Orthogonality of so_exp against expm on random skew matrices of growing norm."""
    rng = np.random.default_rng(3)
    print("\n## exp of skew matrices: max ‖EᵀE − I‖_max / (n·max(1, ‖A‖₂)) over 200 matrices per row\n")
    print("| entries of A | so_exp | scipy expm |")
    print("|---|---:|---:|")
    for width in (0.1, 3.0, 30.0):
        worst = [0.0, 0.0]
        for _ in range(200):
            n = int(rng.integers(2, 25))
            B = rng.uniform(-width, width, (n, n))
            A = np.triu(B, 1) - np.triu(B, 1).T
            scale = n * max(1.0, np.linalg.norm(A, 2))
            for i, E in enumerate((orthornn.so_exp(A), sl.expm(A))):
                worst[i] = max(worst[i], np.abs(E.T @ E - np.eye(n)).max() / scale)
        print(f"| U(−{width}, {width}), n = 2..24 | {worst[0]:.1e} | {worst[1]:.1e} |", flush=True)


def torch_table() -> None:
    torch.set_num_threads(1)
    print("\n## torch so_power forward + backward (batch 128, n = 100, float64, 1 thread)\n")
    print("| device | input | forward (s) | forward + backward (s) |")
    print("|---|---|---:|---:|")
    rng = np.random.default_rng(2)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    inputs = {
        "Haar": haar(100, rng, (128,)),
        "RUM memory (3 Rotations)": np.stack([rum_memory(100, 3, rng) for _ in range(128)]),
    }
    for dev in devices:
        for name, R_np in inputs.items():
            R = torch.tensor(R_np, device=dev, requires_grad=True)
            lam = torch.full((128,), 0.7, dtype=torch.float64, device=dev, requires_grad=True)

            def fwd(R=R, lam=lam, dev=dev):
                with torch.no_grad():
                    F.so_power(R, lam)
                if dev == "cuda":
                    torch.cuda.synchronize()

            def fwd_bwd(R=R, lam=lam, dev=dev):
                P = F.so_power(R, lam)
                P.square().sum().backward()
                if dev == "cuda":
                    torch.cuda.synchronize()

            print(f"| {dev} | {name} | {best_of(fwd, 3):.3f} | {best_of(fwd_bwd, 3):.3f} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="skip the slowest row (n = 256, batch 64)")
    args = p.parse_args()
    speed_table(args.quick)
    accuracy_table()
    exp_orthogonality_table()
    torch_table()


if __name__ == "__main__":
    main()
