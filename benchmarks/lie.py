"""so_log / so_power / so_exp against scipy.linalg.logm / fractional_matrix_power / expm.

Three tables, one run, one thread everywhere:

1. speed, n ∈ {8, 64, 256}, a single matrix and a batch of 64 (scipy loops over the batch):
   issue 3 asks so_log ≥ 4× faster than logm at n = 256 and ≥ 10× at n = 8;
2. accuracy on Haar-random rotations, angles π − 1e-6, π − 1e-10, exactly π, and RUM memories
   (products of many Rotations): reconstruction ‖exp(log R) − R‖_max (scipy expm of each
   method's log), skew defect ‖A + Aᵀ‖_max, and whether the output is real; and the
   orthogonality of so_exp against expm on random skew matrices;
3. torch so_power forward + backward, batch 128, n = 100, CPU (and CUDA when available);
4. the Cayley route's accuracy against the canonical route as an eigenphase approaches π (the
   CAYLEY_MARGIN threshold ignored); torch so_power forward + backward, batch 128,
   n ∈ {16, 50, 100}: the Cayley route (default)
   against the canonical-form route (``cayley=False``), Haar and RUM-memory inputs; and one RUM
   λ = 0.5 training step (n = 50, T = 23, batch 128) with each route.

    python benchmarks/lie.py [--quick] [--only-torch]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402
import warnings  # noqa: E402
from unittest import mock  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg as sl  # noqa: E402
import torch  # noqa: E402

import orthornn  # noqa: E402
import orthornn.nn  # noqa: E402
from orthornn.nn import functional as F  # noqa: E402
from orthornn.nn.functional import lie as FL  # noqa: E402


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


def best_of_pair(f, g, reps: int) -> tuple[float, float]:
    """Minimum wall times of ``f`` and ``g`` over ``reps`` interleaved calls (shared machine: load
    drifts, so the two are timed alternately rather than one after the other)."""
    f()
    g()
    tf, tg = [], []
    for _ in range(reps):
        for fn, ts in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return min(tf), min(tg)


def rum_half_memory(n: int, batch: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """RUM λ = 0.5 memories ``R_t = R_{t−1}^{1/2} Rotation(a_t, b_t)`` (numpy, canonical-form route)."""
    R = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    for _ in range(steps):
        a, b = rng.standard_normal((2, batch, n))
        R = orthornn.so_power(R, 0.5) @ orthornn.rotation(a, b)
    return R


def route_table(quick: bool) -> None:
    """torch so_power forward + backward: Cayley route against the canonical-form route."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    print("\n## torch so_power routes: forward + backward (s), batch 128, float64, 1 thread, CPU\n")
    print("| n | input | Cayley rows | Cayley route | canonical route | canonical/Cayley |")
    print("|---:|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(4)
    for n in (16, 50) if quick else (16, 50, 100):
        inputs = {
            "Haar": haar(n, rng, (128,)),
            "3 Rotations": np.stack([rum_memory(n, 3, rng) for _ in range(128)]),
            "RUM λ=0.5, 23 steps": rum_half_memory(n, 128, 23, rng),
        }
        for name, R_np in inputs.items():
            R = torch.tensor(R_np, requires_grad=True)
            lam = torch.full((128,), 0.5, dtype=torch.float64)
            fast = int(FL._cayley(FL._polar(R.detach(), "R"))[2].sum())

            def fwd_bwd(cayley: bool, R=R, lam=lam) -> None:
                P = FL._Power.apply(FL._polar(R, "R"), lam, cayley)
                P.square().sum().backward()

            times = best_of_pair(lambda: fwd_bwd(True), lambda: fwd_bwd(False), 5)
            print(
                f"| {n} | {name} | {fast}/128 | {times[0]:.3f} | {times[1]:.3f} | **{times[1] / times[0]:.2f}×** |",
                flush=True,
            )


def cayley_accuracy_table() -> None:
    """Accuracy of the Cayley route, threshold ignored, as one eigenphase approaches π."""
    rng = np.random.default_rng(5)
    print("\n## Cayley route without its threshold: max |U^λ − canonical U^λ| (float64, λ ∈ {0.5, −1.7})\n")
    print("| π − φ_max | max tan(φ/2) | n = 10 | n = 50 | n = 100 |")
    print("|---:|---:|---:|---:|---:|")
    for gap in (0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3):
        row = []
        for n in (10, 50, 100):
            Q = haar(n, rng)
            R = torch.tensor(Q @ blocks([np.pi - gap, *rng.uniform(-3.0, 3.0, n // 2 - 1)], n) @ Q.T)[None]
            V, Phi, _ = FL._cayley(R)
            err = 0.0
            for lam in (0.5, -1.7):
                P = FL._spectral_apply(V, torch.polar(torch.ones_like(Phi), lam * Phi))
                ref = FL._factor(R, torch.tensor([lam], dtype=torch.float64))[0]
                err = max(err, float((P - ref).abs().max()))
            row.append(f"{err:.1e}")
        print(f"| {gap:g} | {np.tan((np.pi - gap) / 2):.3g} | {' | '.join(row)} |", flush=True)


def eigh_cost_table() -> None:
    """Complex Hermitian eigh (the Cayley route) against real symmetric eigh of the same size."""
    torch.set_num_threads(1)
    print("\n## torch.linalg.eigh, batch 128, float64 / complex128, 1 thread (ms)\n")
    print("| n | complex Hermitian | real symmetric | ratio |")
    print("|---:|---:|---:|---:|")
    g = torch.Generator().manual_seed(0)
    for n in (16, 50, 100):
        A = torch.randn(128, n, n, generator=g, dtype=torch.float64)
        A = A - A.mT
        H, S = torch.complex(torch.zeros_like(A), A), A @ A.mT
        t_c, t_r = best_of_pair(lambda H=H: torch.linalg.eigh(H), lambda S=S: torch.linalg.eigh(S), 5)
        print(f"| {n} | {t_c * 1e3:.3g} | {t_r * 1e3:.3g} | {t_c / t_r:.2f}× |", flush=True)


def rum_step_table() -> None:
    """One RUM λ = 0.5 training step (forward + backward), each so_power route."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    model = orthornn.nn.RUM(31, 50, lam=0.5, eta=1.0)
    x = torch.randn(128, 23, 31)

    def step() -> None:
        model.zero_grad()
        y = model(x)
        y = y[0] if isinstance(y, tuple) else y
        y.square().mean().backward()

    apply = FL._Power.apply

    def step_old() -> None:
        with mock.patch.object(FL._Power, "apply", lambda U, lam, cayley: apply(U, lam, False)):
            step()

    t_new, t_old = best_of_pair(step, step_old, 5)
    dtype = next(model.parameters()).dtype
    print(f"\n## RUM(31, 50, lam=0.5, eta=1.0) training step, x (128, 23, 31), {dtype}, 1 thread\n")
    print("| so_power route | step (s) |")
    print("|---|---:|")
    print(f"| canonical form | {t_old:.3f} |")
    print(f"| Cayley | {t_new:.3f} |")
    print(f"| ratio | **{t_old / t_new:.2f}×** |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="skip the slowest rows (n = 256, batch 64; n = 100 routes)")
    p.add_argument("--only-torch", action="store_true", help="only tables 3 and 4 (the torch functions)")
    args = p.parse_args()
    if not args.only_torch:
        speed_table(args.quick)
        accuracy_table()
        exp_orthogonality_table()
    torch_table()
    cayley_accuracy_table()
    route_table(args.quick)
    eigh_cost_table()
    rum_step_table()


if __name__ == "__main__":
    main()
