"""Stress test of the secular eigen-update prototype (``secular.py``) against the dense reference.

Each case runs a RUM-like memory for T steps, ``R_t = R_{t−1}^λ · Rotation(a_t, b_t)``, kept in
spectral form by ``secular.update``. Per step the represented ``R_t`` is compared with the
reference step ``orthornn.numeric.lie.so_power(R_{t−1}, λ) @ rotation`` applied to the
represented ``R_{t−1}`` (so reference drift does not count), and the eigenvector basis's
loss of orthogonality is tracked over the run. Writes ``results_<form>.md``::

    python analysis/spectral_update/stress.py [--T 30] [--seed 0] [--form real|complex]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import real_schur
from secular import update

from orthornn.numeric.lie import so_power

HERE = Path(__file__).parent
THETA = {  # how the rotation angle of each step is drawn
    "uniform": lambda rng: rng.uniform(0.05, np.pi - 0.05),
    "near π": lambda rng: np.pi - 10.0 ** -rng.integers(3, 12),
    "π": lambda rng: np.pi,
    "tiny": lambda rng: 10.0 ** -rng.integers(3, 12),
}
START = {  # the spectrum of R_0 (conjugated by a Haar rotation unless the identity)
    "identity": None,
    "repeated 1.1": lambda m: np.full(m, 1.1),
    "two clusters": lambda m: np.r_[np.full(m // 2, 0.7), np.full(m - m // 2, 2.9)],
    "π − 1e-6": lambda m: np.full(m, np.pi - 1e-6),
}


def rotation(a: np.ndarray, w: np.ndarray, th: float) -> np.ndarray:
    n = len(a)
    plane = np.outer(a, a) + np.outer(w, w)
    return np.eye(n) + (np.cos(th) - 1) * plane + np.sin(th) * (np.outer(w, a) - np.outer(a, w))


def start(n: int, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    V, psi = np.eye(n, dtype=complex), np.zeros(n)
    if START[kind] is None:
        return V, psi
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    for k, ang in enumerate(START[kind](n // 2)):
        q1, q2 = Q[:, 2 * k], Q[:, 2 * k + 1]
        V[:, 2 * k], V[:, 2 * k + 1] = (q1 - 1j * q2) / np.sqrt(2), (q1 + 1j * q2) / np.sqrt(2)
        psi[2 * k], psi[2 * k + 1] = ang, -ang
    if n % 2:
        V[:, -1] = Q[:, -1]
    return V, psi


def plane(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random rotation plane: orthonormal ``(â, ŵ)``."""
    a = rng.standard_normal(n)
    a /= np.linalg.norm(a)
    w = rng.standard_normal(n)
    w -= (w @ a) * a
    return a, w / np.linalg.norm(w)


def start_real(n: int, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if START[kind] is None:
        return np.eye(n), np.zeros(n // 2)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q, START[kind](n // 2).astype(float)


def run_real(n: int, lam: float, theta: str, init: str, T: int, rng: np.random.Generator) -> tuple[float, float]:
    """As :func:`run`, with the memory in real Schur form (``real_schur.step``)."""
    Q, phi = start_real(n, init, rng)
    step_err = orth = 0.0
    for _ in range(T):
        a, w = plane(n, rng)
        th = THETA[theta](rng)
        R_prev = real_schur.matrix(Q, phi)
        Q, phi = real_schur.step(Q, phi, lam, a, w, th)
        ref = so_power(R_prev, lam) @ rotation(a, w, th)
        step_err = max(step_err, float(np.abs(real_schur.matrix(Q, phi) - ref).max()))
        orth = max(orth, float(np.abs(Q.T @ Q - np.eye(n)).max()))
    return step_err, orth


def run(n: int, lam: float, theta: str, init: str, T: int, rng: np.random.Generator) -> tuple[float, float]:
    V, psi = start(n, init, rng)
    step_err = orth = 0.0
    for _ in range(T):
        a, w = plane(n, rng)
        th = THETA[theta](rng)
        R_prev = (V @ np.diag(np.exp(1j * psi)) @ V.conj().T).real
        Y = V.conj().T @ np.stack([(a - 1j * w) / np.sqrt(2), (a + 1j * w) / np.sqrt(2)], 1)
        om, X = update(lam * psi, Y, th)
        V, psi = V @ X, om
        R = V @ np.diag(np.exp(1j * psi)) @ V.conj().T
        ref = so_power(R_prev, lam) @ rotation(a, w, th)
        step_err = max(step_err, float(np.abs(R - ref).max()))
        orth = max(orth, float(np.abs(V.conj().T @ V - np.eye(n)).max()))
    return step_err, orth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--form", choices=("complex", "real"), default="real",
                    help="the memory's spectral form: real Schur (real_schur.step) or complex (secular.update)")
    args = ap.parse_args()
    runner = run_real if args.form == "real" else run
    rng = np.random.default_rng(args.seed)
    lines = [
        f"# Secular eigen-update prototype, {args.form} form: stress results "
        f"(T = {args.T} steps a case, seed {args.seed})",
        "",
        "Command: `python analysis/spectral_update/stress.py "
        f"--T {args.T} --seed {args.seed} --form {args.form}` (float64).",
        "'step error': max over steps of |R_t − reference step|;",
        "'orth': max loss of orthogonality of the eigenvector basis over the run.",
        "ok: step error < 1e-9 and orth < 1e-10.",
        "",
        "| n | λ | θ | R_0 | step error | orth | status |",
        "|---|---|---|---|---|---|---|",
    ]
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    for n, lam, theta, init in itertools.product(
        (2, 3, 5, 8, 16, 33, 64), (0.5, 0.25, 0.75, -0.5, 1.5, 1.0), THETA, START
    ):
        if n < 4 and init != "identity":
            continue
        try:
            e, o = runner(n, lam, theta, init, args.T, rng)
            status = "ok" if e < 1e-9 and o < 1e-10 else "inaccurate"
            cell = f"{e:.1e} | {o:.1e}"
        except Exception as exc:  # a failure class to record, not to hide
            status, cell = f"error: {type(exc).__name__}", "— | —"
        counts[status] = counts.get(status, 0) + 1
        lines.append(f"| {n} | {lam:g} | {theta} | {init} | {cell} | {status} |")
        print(lines[-1], flush=True)
    totals = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    lines[7:7] = [f"Totals: {totals} ({time.perf_counter() - t0:.0f} s).", ""]
    (HERE / f"results_{args.form}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
