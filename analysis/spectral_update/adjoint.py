r"""The backward of the spectral-form memory, checked against autograd through ``so_power`` (issue 12).

The loss depends on the memories ``R_t`` only, never on the eigenvector basis that represents
them, so the backward never differentiates the eigen-update: it is the adjoint of the reference
recurrence ``R_t = f(R_{t−1}) · Rotation_t``, ``f(R) = R^λ``, with the Fréchet adjoint of ``f``
taken in the basis the forward already holds (Daleckii–Krein):

.. math::

    Df^*[G] = V\big(\bar F \circ (V^H G V)\big)V^H,\qquad
    F_{ij} = \frac{z_i^\lambda - z_j^\lambda}{z_i - z_j}
           = \lambda\, e^{i(\lambda-1)(\omega_i+\omega_j)/2}\,
             \frac{\sin(\lambda(\omega_i-\omega_j)/2)}{\lambda\sin((\omega_i-\omega_j)/2)},\qquad
    \frac{\partial L}{\partial\lambda} = \operatorname{Re}\sum_i \overline{(V^H \bar P V)_{ii}}\; i\omega_i z_i^\lambda,

``z = e^{iω}`` the memory's eigenvalues, ``P̄ = ∂L/∂R^λ``. ``F`` is a product of a phase and a
sinc ratio: finite at repeated eigenvalues (``R_0 = I``: ``F = λ``), so the deflated clusters
need nothing special. This script runs a memory of T steps through ``secular.update`` (forward)
and this adjoint (backward), and compares ``∂L/∂λ``, every ``∂L/∂θ_t`` and the tangent part of
``∂L/∂R_0`` with torch autograd through the ``so_power`` step path, in float64::

    python analysis/spectral_update/adjoint.py [--n 9] [--T 12] [--lam 0.5] [--seed 0]

Here ``V ᴴ G V`` is formed densely (O(n³), a check of the formula); the library keeps the adjoint
in the rotating basis, ``V_{t−1}ᴴ G V_{t−1} = X_t (V_tᴴ G V_t) X_tᴴ``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from secular import update

from orthornn.nn.functional import so_power


def rotation(a: np.ndarray, w: np.ndarray, th: float) -> np.ndarray:
    plane = np.outer(a, a) + np.outer(w, w)
    return np.eye(len(a)) + (np.cos(th) - 1) * plane + np.sin(th) * (np.outer(w, a) - np.outer(a, w))


def drotation(a: np.ndarray, w: np.ndarray, th: float) -> np.ndarray:
    """``∂ Rotation / ∂θ``."""
    return -np.sin(th) * (np.outer(a, a) + np.outer(w, w)) + np.cos(th) * (np.outer(w, a) - np.outer(a, w))


def divided(omega: np.ndarray, lam: float) -> np.ndarray:
    """``F_ij`` of ``z ↦ z^λ`` at ``z = e^{iω}``, stable at ``ω_i = ω_j``."""
    d = (omega[:, None] - omega[None, :]) / 2
    s = np.sin(d)
    small = np.abs(d) < 1e-8  # equal eigenvalues; d near ±π is the branch cut, left unclamped here
    near = lam * np.cos(lam * d) / np.where(small, np.cos(d), 1.0)  # the limit, to O(d²)
    ratio = np.where(small, near, np.sin(lam * d) / np.where(small, 1.0, s))
    return np.exp(1j * (lam - 1) * (omega[:, None] + omega[None, :]) / 2) * ratio


def spectral_grads(lam, thetas, A, W, G_direct, V0, om0):
    """Forward by ``secular.update``, backward by the adjoint above; returns (dλ, dθ, dR_0)."""
    T = len(thetas)
    Vs, oms = [V0], [om0]
    for t in range(T):
        Y = Vs[-1].conj().T @ np.stack([(A[t] - 1j * W[t]) / np.sqrt(2), (A[t] + 1j * W[t]) / np.sqrt(2)], 1)
        om, X = update(lam * oms[-1], Y, thetas[t])
        Vs.append(Vs[-1] @ X)
        oms.append(om)
    G = G_direct[T].copy()
    dlam, dth = 0.0, np.zeros(T)
    for t in range(T, 0, -1):  # R_t = P_t Rot_t, P_t = f(R_{t-1})
        V, om = Vs[t - 1], oms[t - 1]
        P = (V @ np.diag(np.exp(1j * lam * om)) @ V.conj().T).real
        Rot = rotation(A[t - 1], W[t - 1], thetas[t - 1])
        dth[t - 1] = np.sum((P.T @ G) * drotation(A[t - 1], W[t - 1], thetas[t - 1]))
        gP = G @ Rot.T
        C = V.conj().T @ gP @ V
        dlam += float(np.real(np.sum(np.conj(np.diag(C)) * 1j * om * np.exp(1j * lam * om))))
        G = (V @ (np.conj(divided(om, lam)) * C) @ V.conj().T).real + G_direct[t - 1]
    return dlam, dth, G


def reference_grads(lam, thetas, A, W, G_direct, R0):
    """Autograd through the reference step path ``R_t = so_power(R_{t−1}, λ) @ Rotation_t``."""
    lam_t = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    th_t = torch.tensor(thetas, dtype=torch.float64, requires_grad=True)
    R0_t = torch.tensor(R0, dtype=torch.float64, requires_grad=True)
    A_t, W_t = torch.tensor(A), torch.tensor(W)
    R, loss = R0_t, (torch.tensor(G_direct[0]) * R0_t).sum()
    for t in range(len(thetas)):
        a, w, th = A_t[t], W_t[t], th_t[t]
        plane = torch.outer(a, a) + torch.outer(w, w)
        skew = torch.outer(w, a) - torch.outer(a, w)
        Rot = torch.eye(len(a), dtype=torch.float64) + (torch.cos(th) - 1) * plane + torch.sin(th) * skew
        R = so_power(R, lam_t) @ Rot
        loss = loss + (torch.tensor(G_direct[t + 1]) * R).sum()
    loss.backward()
    return float(lam_t.grad), th_t.grad.numpy(), R0_t.grad.numpy()


def tangent(R: np.ndarray, G: np.ndarray) -> np.ndarray:
    """The part of a gradient ``G`` at ``R ∈ SO(n)`` along SO(n): ``R · skew(Rᵀ G)``."""
    S = R.T @ G
    return R @ (S - S.T) / 2


def case(n: int, T: int, lam: float, rng: np.random.Generator, start: str = "identity") -> dict[str, float]:
    A = rng.standard_normal((T, n))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    W = rng.standard_normal((T, n))
    W -= (W * A).sum(1, keepdims=True) * A
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    thetas = rng.uniform(0.1, np.pi - 0.1, T)
    G_direct = rng.standard_normal((T + 1, n, n))
    V0, om0 = np.eye(n, dtype=complex), np.zeros(n)
    if start == "haar":  # a generic R_0 away from −1, in spectral form
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        ang = rng.uniform(0.2, 2.5, n // 2)
        for k in range(n // 2):
            q1, q2 = Q[:, 2 * k], Q[:, 2 * k + 1]
            V0[:, 2 * k], V0[:, 2 * k + 1] = (q1 - 1j * q2) / np.sqrt(2), (q1 + 1j * q2) / np.sqrt(2)
            om0[2 * k], om0[2 * k + 1] = ang[k], -ang[k]
        if n % 2:
            V0[:, -1] = Q[:, -1]
    R0 = (V0 @ np.diag(np.exp(1j * om0)) @ V0.conj().T).real
    s_lam, s_th, s_R0 = spectral_grads(lam, thetas, A, W, G_direct, V0, om0)
    r_lam, r_th, r_R0 = reference_grads(lam, thetas, A, W, G_direct, R0)
    return {
        "dλ": abs(s_lam - r_lam) / max(1.0, abs(r_lam)),
        "dθ": float(np.abs(s_th - r_th).max() / max(1.0, np.abs(r_th).max())),
        "dR0 (tangent)": float(np.abs(tangent(R0, s_R0) - tangent(R0, r_R0)).max() / max(1.0, np.abs(r_R0).max())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=9)
    ap.add_argument("--T", type=int, default=12)
    ap.add_argument("--lam", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    for start in ("identity", "haar"):
        errs = case(args.n, args.T, args.lam, rng, start)
        shown = ", ".join(f"{k} {v:.1e}" for k, v in errs.items())
        print(f"n={args.n} T={args.T} λ={args.lam} R_0={start}: relative errors {shown}")


if __name__ == "__main__":
    main()
