r"""The spectral memory in real Schur form: one real GEMM a step, the convention's planes at −1.

State: ``Q`` (n×n orthogonal) and ``φ`` (n//2 angles in [0, π]): ``R = Q blockdiag(M(φ_k), [1]) Qᵀ``,
plane k spanned by ``(q_{2k}, q_{2k+1})`` with ``R q_{2k} = cos φ_k q_{2k} + sin φ_k q_{2k+1}``, and
for odd n the last column the axis (eigenvalue 1). A step ``R ← R^λ · Rotation`` (``â``, ``ŵ``
orthonormal, angle θ):

1. ``R^λ`` is free: angles ``λφ_k`` wrapped to (−π, π], a negative one made positive by flipping
   ``q_{2k+1}``; planes at exactly π are stored in the canonical orientation of
   docs/conventions.md, so ``M(λπ)`` there is the reference ``so_power``'s choice;
2. complex coordinates ``v_k± = (q_{2k} ∓ i q_{2k+1})/√2`` (poles ``±λφ_k``): ``Ỹ`` from the two
   real matvecs ``Qᵀâ``, ``Qᵀŵ`` in O(n) more; ``secular.update`` gives the new spectrum;
3. back to real: each root in the upper half-circle gives a plane ``(√2 Re Fx, −√2 Im Fx)``
   (its conjugate root is dropped, so the real structure is exact), the eigenvalue-1 vectors
   pair into planes at 0 (odd n: one is the axis), the −1 eigenspace gets the canonical planes
   (pivoted Gram–Schmidt, ``orthornn.numeric.lie``); ``W`` is re-orthonormalised and
   ``Q ← Q W``: one real GEMM.
"""

from __future__ import annotations

import numpy as np
from secular import update

from orthornn.numeric.lie import _pi_planes

SQ2 = np.sqrt(2.0)


def to_complex(Q: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V, ω)`` with ``R = V diag(e^{iω}) Vᴴ`` (complex coordinates of the planes)."""
    n, m = Q.shape[0], phi.shape[0]
    V = np.zeros((n, n), complex)
    om = np.zeros(n)
    V[:, 0 : 2 * m : 2] = (Q[:, 0 : 2 * m : 2] - 1j * Q[:, 1 : 2 * m : 2]) / SQ2
    V[:, 1 : 2 * m : 2] = (Q[:, 0 : 2 * m : 2] + 1j * Q[:, 1 : 2 * m : 2]) / SQ2
    om[0 : 2 * m : 2], om[1 : 2 * m : 2] = phi, -phi
    if n % 2:
        V[:, -1] = Q[:, -1]
    return V, om


def matrix(Q: np.ndarray, phi: np.ndarray) -> np.ndarray:
    n, m = Q.shape[0], phi.shape[0]
    B = np.eye(n)
    c, s = np.cos(phi), np.sin(phi)
    i = np.arange(m)
    B[2 * i, 2 * i], B[2 * i + 1, 2 * i + 1], B[2 * i + 1, 2 * i], B[2 * i, 2 * i + 1] = c, c, s, -s
    return Q @ B @ Q.T


def step(Q: np.ndarray, phi: np.ndarray, lam: float, a: np.ndarray, w: np.ndarray, theta: float,
         pi_tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """``(Q', φ')`` of ``R^λ · Rotation(θ; â → ŵ)`` from ``(Q, φ)`` of ``R``."""
    n, m = Q.shape[0], phi.shape[0]
    Q = Q.copy()
    d = np.mod(lam * phi + np.pi, 2 * np.pi) - np.pi
    d[np.abs(lam * phi) == np.pi] = np.pi  # λφ = ±π exactly stays +π
    neg = d < 0
    Q[:, 1 : 2 * m : 2][:, neg] *= -1
    d = np.abs(d)
    al, be = Q.T @ a, Q.T @ w
    a1, a2, b1, b2 = al[0 : 2 * m : 2], al[1 : 2 * m : 2], be[0 : 2 * m : 2], be[1 : 2 * m : 2]
    Y = np.zeros((n, 2), complex)
    A = ((a1 + b2) + 1j * (a2 - b1)) / 2  # v_k+ᴴ y+
    B = ((a1 - b2) + 1j * (a2 + b1)) / 2  # v_k+ᴴ y−
    Y[0 : 2 * m : 2, 0], Y[0 : 2 * m : 2, 1] = A, B
    Y[1 : 2 * m : 2, 0], Y[1 : 2 * m : 2, 1] = B.conj(), A.conj()
    psi = np.zeros(n)
    psi[0 : 2 * m : 2], psi[1 : 2 * m : 2] = d, -d
    if n % 2:
        Y[-1] = ((al[-1] - 1j * be[-1]) / SQ2, (al[-1] + 1j * be[-1]) / SQ2)
    om, X = update(psi, Y, theta)
    # F x: complex coordinates -> real coordinates of the old Q
    FX = np.zeros((n, n), complex)
    FX[0 : 2 * m : 2] = (X[0 : 2 * m : 2] + X[1 : 2 * m : 2]) / SQ2
    FX[1 : 2 * m : 2] = -1j * (X[0 : 2 * m : 2] - X[1 : 2 * m : 2]) / SQ2
    if n % 2:
        FX[-1] = X[-1]
    at_minus = np.abs(om) >= np.pi - pi_tol
    at_one = np.abs(om) <= pi_tol
    upper = (om > pi_tol) & ~at_minus
    cols, angles = [], []
    for j in np.nonzero(upper)[0]:
        cols += [SQ2 * FX[:, j].real, -SQ2 * FX[:, j].imag]
        angles.append(om[j])
    if at_minus.any():  # −1: the canonical planes of the −1 eigenspace, in the new real coordinates
        E = _real_basis(FX[:, at_minus])
        Wm = _pi_planes(Q @ E)  # canonical in the coordinates of R itself
        Em = Q.T @ Wm
        cols += list(Em.T)
        angles += [np.pi] * (Em.shape[1] // 2)
    if at_one.any():
        E1 = _real_basis(FX[:, at_one])
        cols += list(E1.T)
        angles += [0.0] * (E1.shape[1] // 2)
    W = np.stack(cols, 1)
    if W.shape[1] != n:
        raise ArithmeticError(f"real Schur pairing found {W.shape[1]} of {n} vectors")
    w_, V_ = np.linalg.eigh(W.T @ W)
    W = W @ (V_ * (1 / np.sqrt(w_))) @ V_.T
    return Q @ W, np.array(angles)


def _real_basis(Z: np.ndarray) -> np.ndarray:
    """Orthonormal real basis of the real subspace spanned by a conjugation-invariant set of
    complex vectors ``Z`` (as many vectors as columns)."""
    k = Z.shape[1]
    U, _, _ = np.linalg.svd(np.concatenate([Z.real, Z.imag], 1), full_matrices=False)
    return U[:, :k]
