"""Orthogonality defects ‖QᵀQ − I‖_max of matrices computed by accurate and less accurate code,
in units of eps(dtype): the measurements behind the default tolerance of orthornn.testing
(``32·√n·max(1, scale)·eps``, docs/conventions.md). Prints a Markdown table; ~1 minute on 2 cores.

    OMP_NUM_THREADS=1 python analysis/peer_checks/tolerances.py > analysis/peer_checks/tolerances.md
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import torch
from hypothesis import HealthCheck, given, settings

import orthornn
from orthornn.testing import adversarial_rotations, dimensions, haar_orthogonal, rotation_product, vector_pairs

torch.set_num_threads(1)
SIZES = (4, 16, 64, 256)
BATCH = 20


def defect(m) -> np.ndarray:
    a = np.asarray(m, dtype=np.float64)
    return np.abs(np.swapaxes(a, -1, -2) @ a - np.eye(a.shape[-1])).max(axis=(-2, -1))


def skew(n: int, norm: float, seed: int) -> np.ndarray:
    """A batch of skew matrices with spectral norm ``norm``."""
    a = np.random.default_rng(seed).standard_normal((BATCH, n, n))
    a = (a - np.swapaxes(a, -1, -2)) / 2
    return a / np.linalg.norm(a, 2, axis=(-2, -1))[:, None, None] * norm


def float32_rows() -> dict[str, list[float]]:
    eps = float(np.finfo(np.float32).eps)
    rows: dict[str, list[float]] = {}
    for n in SIZES:
        out = {
            "Haar (float64) rounded to float32": defect(haar_orthogonal(n, 0, batch_shape=(BATCH,)).astype(np.float32)),
            "numpy float32 QR of a Gaussian": defect(
                np.linalg.qr(np.random.default_rng(1).standard_normal((BATCH, n, n)).astype(np.float32))[0]
            ),
        }
        a = skew(n, 1.0, 2).astype(np.float32)
        eye = np.eye(n, dtype=np.float32)
        out["float32 Cayley (I − A/2)⁻¹(I + A/2), ‖A‖₂ = 1"] = defect(np.linalg.solve(eye - a / 2, eye + a / 2))
        for norm in (1.0, 10.0, 100.0):
            a = skew(n, norm, 2)
            out[f"scipy.linalg.expm float32, ‖A‖₂ = {norm:g}"] = defect(scipy.linalg.expm(a.astype(np.float32)))
            out[f"torch.linalg.matrix_exp float32, ‖A‖₂ = {norm:g}"] = defect(
                torch.linalg.matrix_exp(torch.tensor(a, dtype=torch.float32)).numpy()
            )
        for name, d in out.items():
            rows.setdefault(name, []).append(float(d.max()) / eps)
    return rows


def float64_rows() -> dict[str, float]:
    """Worst defect / (√n·eps) of orthornn's own float64 results over hypothesis draws, n = 2…64."""
    eps = float(np.finfo(np.float64).eps)
    worst: dict[str, float] = {}

    def record(name: str, m: np.ndarray) -> None:
        worst[name] = max(worst.get(name, 0.0), float(defect(m)) / (math.sqrt(m.shape[-1]) * eps))

    quiet = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))

    @quiet
    @given(vector_pairs(dimensions(2, 64)))
    def rotations(pair):
        record("orthornn.rotation (every pair kind)", orthornn.rotation(*pair))

    @quiet
    @given(adversarial_rotations(dimensions(2, 64)))
    def lie(R):
        record("orthornn.so_exp(so_log(R)), adversarial R", orthornn.so_exp(orthornn.so_log(R)))
        record("orthornn.so_power(R, 0.3), adversarial R", orthornn.so_power(R, 0.3))
        record("the adversarial R themselves (V·B·Vᵀ)", R)

    for test in (rotations, lie):
        test()
    for steps in (10, 100):
        d = max(float(defect(rotation_product(16, s, steps))) for s in range(20))
        worst[f"rotation_product(16, seed, {steps}) / steps"] = d / (4 * eps) / steps
    return worst


if __name__ == "__main__":
    print("## float32 results: max ‖QᵀQ − I‖_max over 20 matrices, in eps(float32)\n")
    print("| computation | " + " | ".join(f"n = {n}" for n in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    for name, values in float32_rows().items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
    print("\nDefault tolerance 32·√n·eps: " + ", ".join(f"{32 * math.sqrt(n):.0f}" for n in SIZES) + " eps;")
    print("old default 1e3·n·eps: " + ", ".join(f"{1e3 * n:.0f}" for n in SIZES) + " eps.\n")
    print("## float64 results of orthornn: worst ‖QᵀQ − I‖_max / (√n·eps) over hypothesis draws (n = 2…64)\n")
    print("| computation | worst defect / (√n·eps) |")
    print("|---|---|")
    for name, v in float64_rows().items():
        print(f"| {name} | {v:.2f} |")
