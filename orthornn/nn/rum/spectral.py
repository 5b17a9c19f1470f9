r"""Fractional λ over a whole sequence with the memory in spectral form (RUM §5.2, issue 12).

.. math::

    R_t = Q_t\,\operatorname{blockdiag}\bigl(M(\varphi_{t,1}), \dots, M(\varphi_{t,m}), [1]\bigr)\,Q_t^T,
    \qquad R_t = R_{t-1}^\lambda\,\operatorname{Rotation}(\varepsilon_t, \tau_t)

The memory is kept as an orthogonal basis ``Q_t`` and ``m = ⌊N/2⌋`` plane angles ``φ_t ∈ [0, π]``.
Then ``R_{t−1}^λ`` is free — the angles ``λφ`` in the same basis (wrapped into ``(−π, π]``; a
negative angle is made positive by flipping the plane's second column, ``Q' = Q S``) — and in
that basis the next memory is a small structured matrix,

.. math::

    Q'^T R_t\,Q' = A_t = D\,\bigl(I + \xi\alpha^T + \eta\omega^T\bigr),\qquad D = \operatorname{blockdiag}(M(d_k)),

with ``α = Q'ᵀâ``, ``ω = Q'ᵀw``, ``ξ = Q'ᵀx``, ``η = Q'ᵀy`` the frame of
:mod:`orthornn.nn.rum.stored` (``Rotation = I + x âᵀ + y wᵀ``). An *eigen-update* gives the real
Schur form ``A_t = W_t blockdiag(M(φ_t)) W_tᵀ`` and ``Q_t = Q' W_t`` is one batched GEMM. The
eigen-update runs in the native kernel where it builds (``orthornn.nn.kernels.spectral_update``:
a secular equation, O(N²) per matrix) and otherwise by LAPACK's real Schur form of ``A_t``
(:func:`_dense_update`, O(N³), the reference the kernel is tested against). A matrix whose new
spectrum reaches −1 (within the branch window of docs/conventions.md) is decomposed in the
coordinates of ``R_t`` itself, where the convention's canonical planes of the −1 eigenspace are
defined (:func:`orthornn.numeric.lie._canonical_batch`, as :func:`~orthornn.nn.functional.so_power` does).

**The backward never differentiates the eigen-solver.** The loss depends on the memories, not
on the basis representing them, so the adjoint is that of the reference recurrence
(:func:`~orthornn.nn.rum.fractional.fractional_step`), carried in the rotating basis:
``Ĝ_t = Q_tᵀ (∂L/∂R_t) Q_t``. A step back is

.. math::

    K &= W_t\,\hat G_t\,W_t^T + \hat g\,\hat h^T
        \quad(\partial L/\partial A_t;\ \hat g = Q'^T\partial z,\ \hat h = Q'^T h_{t-1}),\\
    \partial D &= K\,(I + \xi\alpha^T + \eta\omega^T)^T,\qquad
    \partial(I + \xi\alpha^T + \eta\omega^T) = D^T K,\\
    \hat G_{t-1} &= S\,\mathcal L^*_\lambda(\partial D)\,S,\qquad
    \frac{\partial L}{\partial\lambda} \mathrel{+}=
        \sum_k \varphi_k \bigl\langle \partial D_{kk}, M'(\lambda\varphi_k)\bigr\rangle

with ``𝓛*_λ`` the Daleckii–Krein adjoint of ``X ↦ X^λ`` at ``blockdiag(M(φ_{t−1}))``, elementwise
in the plane basis (:func:`orthornn.nn.functional.lie._plane_adjoint`, O(N²)); ``∂α, ∂ξ, …`` go to
``∂ε, ∂τ`` through ``Q'`` (matrix–vector products) and the frame's adjoint. The basis itself is
rebuilt, ``Q' = Q_t W_tᵀ``, from the eigen-update recomputed from its O(N) inputs, so a step keeps
O(B·N) numbers (``α, β = Q'ᵀŵ, θ, d``, the flips, ``φ_{t−1}``, ``z``, the frame's ``â, b̂`` and
the projections), never an ``N×N`` matrix — memory flat in T, as for λ = 1 (a matrix decomposed
in ``R_t``'s coordinates keeps its ``Q'``). Per step: one GEMM forward, three backward, and two eigen-updates. When the
memory is the identity on a trailing block of columns (a fractional power forgets: with
``|λ| < 1`` old angles fall to 0), that block is folded into one plane by two reflectors
(:mod:`orthornn.nn.rum.deflation`) and the eigen-update and the GEMMs act on the rest only. The
first steps' ``W_t`` are kept for the backward while they fit in :data:`STORE_BYTES`, and those
steps solve nothing there. The carried ``Ĝ`` is projected onto
the tangent space at each ``R_{t−1}`` (as the reference's polar step does: its normal part, which
no loss sees, grows otherwise).

The gradient with respect to ``R_0`` is the unprojected Daleckii–Krein one, ``Q_0 Ĝ_0 Q_0ᵀ``;
:func:`spectral_sequence` feeds the node ``R_0``'s Newton–Schulz polar factor through autograd
exactly as :func:`~orthornn.nn.functional.so_power` does, so the gradients equal the step path's.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (cell) and §5.2 (real λ);
Higham, *Functions of Matrices* (2008), §3.2 (Daleckii–Krein).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...errors import NotFiniteError
from ...numeric.lie import _branch_tols, _canonical_batch
from .. import kernels
from ..functional.lie import _plane_adjoint, _polar
from .deflation import Deflation, active_columns
from .frame import _first_order_only, _frame_backward, _frame_parts
from .sequence_node import _check_sequence_args, _project_sequence, _WeightGrads

__all__ = ["STORE_BYTES", "spectral_sequence"]

#: Bytes of ``W_t`` (each ``B·(k+2)²·itemsize``, ``k + 2`` the step's folded size) that
#: :func:`spectral_sequence` keeps for the backward, the first steps first, instead of solving
#: their eigen-updates again. The other steps are rebuilt from O(N) data each, so memory is flat
#: in T beyond this budget.
STORE_BYTES = 256 * 2**20

#: ``(d, α, β, θ, pi_tol) ↦ (W, φ, status)`` on float64 CPU tensors: the eigen-update of
#: ``blockdiag(M(d)) · G(α, β, θ)`` (status 0: done; otherwise the caller decomposes that matrix).
Solver = Callable[[Tensor, Tensor, Tensor, Tensor, float], tuple[Tensor, Tensor, Tensor]]


def _planes(X: Tensor, cos: Tensor, sin: Tensor, dim: int = -1) -> Tensor:
    """The plane rotations ``(x₀, x₁) ↦ (c x₀ − s x₁, s x₀ + c x₁)`` on the coordinate pairs
    ``(2k, 2k+1)`` of ``dim`` (a trailing odd coordinate unchanged); ``cos, sin`` broadcast against
    one of the pair's halves. Along the last axis of a vector this is ``blockdiag(M(d_k), [1]) v``
    (``sin → −sin``: ``Dᵀ v``); along rows of a matrix ``D X``; along its columns with ``−sin``,
    ``X D``."""
    assert dim in (-1, -2)
    m = cos.shape[dim]
    first, second = slice(0, 2 * m, 2), slice(1, 2 * m, 2)
    at = (lambda k: (..., k)) if dim == -1 else (lambda k: (..., k, slice(None)))
    x0, x1 = X[at(first)], X[at(second)]
    out = X.clone()
    out[at(first)] = cos * x0 - sin * x1
    out[at(second)] = sin * x0 + cos * x1
    return out


def _block_matrix(d: Tensor, n: int) -> Tensor:
    """``blockdiag(M(d_k), [1])``, shape (B, N, N)."""
    B, m = d.shape
    D = torch.eye(n, dtype=d.dtype, device=d.device).repeat(B, 1, 1)
    i = torch.arange(m, device=d.device)
    c, s = torch.cos(d), torch.sin(d)
    D[:, 2 * i, 2 * i], D[:, 2 * i + 1, 2 * i + 1] = c, c
    D[:, 2 * i + 1, 2 * i], D[:, 2 * i, 2 * i + 1] = s, -s
    return D


def _small_matrix(d: Tensor, a: Tensor, w: Tensor, theta: Tensor) -> Tensor:
    """``A = blockdiag(M(d)) · G``, ``G = I + (cos θ − 1)(a aᵀ + w wᵀ) + sin θ (w aᵀ − a wᵀ)`` (float64)."""
    n = a.shape[-1]
    c, s = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    aa = a[:, :, None] * a[:, None, :] + w[:, :, None] * w[:, None, :]
    wa = w[:, :, None] * a[:, None, :]
    G = torch.eye(n, dtype=a.dtype) + (c - 1) * aa + s * (wa - wa.mT)
    return torch.bmm(_block_matrix(d, n), G)


def _dense_update(d: Tensor, a: Tensor, w: Tensor, theta: Tensor, pi_tol: float) -> tuple[Tensor, Tensor, Tensor]:
    """The eigen-update by LAPACK: the real Schur form of the small matrix ``A`` (the reference solver)."""
    A = _small_matrix(d, a, w, theta).numpy()
    Z, phi = _nonnegative(*_canonical_batch(A, np.dtype(np.float64), "R"))
    status = ((math.pi - phi) <= pi_tol).any(-1).astype(np.int32)
    return torch.from_numpy(Z), torch.from_numpy(phi), torch.from_numpy(status)


def _nonnegative(Z: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same form with every angle in ``[0, π]``: ``M(−φ)`` on ``(x, y)`` is ``M(φ)`` on ``(x, −y)``."""
    m = phi.shape[-1]
    neg = phi < 0
    Z = Z.copy()
    Z[..., :, 1 : 2 * m : 2] *= np.where(neg, -1.0, 1.0)[..., None, :]
    return Z, np.abs(phi)


def _solver() -> Solver:
    """The native eigen-update where it builds, else :func:`_dense_update`, whatever the model's
    device: the eigen-update always runs on the host, on float64 CPU tensors (``α, β, θ, d`` are
    O(B·N) and ``W_t`` goes back to the device), so on a GPU too the O(N²) secular-equation kernel
    beats LAPACK's O(N³) real Schur form (``benchmarks/spectral_update.py``)."""
    kern = kernels.spectral_update()
    return _dense_update if kern is None else kern


def _orthonormal(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``a``, ``b`` made orthonormal in float64 (Gram–Schmidt): in float32 ``Q'ᵀâ, Q'ᵀŵ`` are so only
    to ~1e-7, and the eigen-update's ``G`` must be a rotation to working precision. Rows with
    ``b = 0`` (θ = 0, no update) keep ``b = 0``."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b - a * (a * b).sum(-1, keepdim=True)
    nb = b.norm(dim=-1, keepdim=True)
    return a, torch.where(nb > 0, b / torch.where(nb > 0, nb, 1.0), 0.0)


def _tangent(G: Tensor, phi: Tensor) -> Tensor:
    """The part of ``G`` tangent to SO(n) at ``R = blockdiag(M(φ))``: ``(G − R Gᵀ R)/2``."""
    c, s = torch.cos(phi), torch.sin(phi)
    RGt = _planes(G.mT, c[..., :, None], s[..., :, None], dim=-2)  # R Gᵀ
    return 0.5 * (G - _planes(RGt, c[..., None, :], -s[..., None, :]))  # (R Gᵀ) R


def _cast(W: Tensor, buf: Tensor) -> Tensor:
    """``W`` in ``buf``'s dtype and device, copied into ``buf`` (no fresh ``B×N×N`` allocation a step)."""
    return W if W.dtype == buf.dtype and W.device == buf.device else buf.copy_(W)


def _powered(phi: Tensor, lam: Tensor) -> tuple[Tensor, Tensor]:
    """``(d, flip)``: the angles ``λφ`` wrapped into ``[0, π]`` and which planes' orientation flips."""
    psi = lam * phi
    d = torch.remainder(psi + math.pi, 2 * math.pi) - math.pi
    d = torch.where((d == -math.pi) | (psi.abs() == math.pi), math.pi, d)  # ±π stays +π (the convention's plane)
    flip = d < 0
    return d.abs(), flip


def _signs(flip: Tensor, n: int) -> Tensor:
    """The column signs ``S`` (B, N) of ``Q' = Q S``: −1 on the second column of a flipped plane."""
    S = flip.new_ones((flip.shape[0], n), dtype=torch.float64)
    S[:, 1 : 2 * flip.shape[1] : 2] = torch.where(flip, -1.0, 1.0)
    return S


def _flip_columns(Q: Tensor, flip: Tensor) -> Tensor:
    """``Q S`` in place (an involution: also ``Q' ↦ Q``), nothing done when no plane flips."""
    if bool(flip.any()):
        Q.mul_(_signs(flip, Q.shape[-1]).to(Q.device, Q.dtype)[:, None, :])
    return Q


class _Step:
    """One step's frame and its coordinates in ``Q'``: computed by the forward, which keeps its
    ``â, b̂`` and scalars (:meth:`kept`, O(B·N)) for the backward to restore it from (``parts``)."""

    def __init__(self, g: Tensor, eps: Tensor, n: int, parts: tuple[Tensor, Tensor, Tensor] | None = None) -> None:
        self.u_pre, self.tau, self.eps = g[:, :n], g[:, n:], eps
        if parts is not None:  # the forward's: â, b̂ (B, n) and (c, 1/|ε|, 1/|τ|, s) (B, 4)
            self.ahat, self.bhat, sc = parts
            self.c, self.ie, self.it, self.s = sc.split(1, dim=-1)
            self.k, self.moved, self.bad = 1 / (1 + self.c), (self.s > 0)[:, 0], False
            return
        self.ahat, self.bhat, self.c, self.ie, self.it, self.bad = _frame_parts(eps, self.tau)
        self.w = self.bhat - self.c * self.ahat
        self.s = self.w.norm(dim=-1, keepdim=True)
        self.k = 1 / (1 + self.c)
        self.moved = (self.s > 0)[:, 0]  # θ = 0: the Rotation is I and so is W
        self.what = torch.where(self.s > 0, self.w / torch.where(self.s > 0, self.s, 1.0), 0.0)
        self.theta = torch.atan2(self.s[:, 0], self.c[:, 0])

    def kept(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(â, b̂, (c, 1/|ε|, 1/|τ|, s))``: what the backward restores this step from."""
        return self.ahat, self.bhat, torch.cat([self.c, self.ie, self.it, self.s], -1)

    def coordinates(self, alpha: Tensor, beta: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``α, ω = s β, ξ = ω − (1 − c) α, η = −(α + k ω)`` in the model dtype: returns ``(ω, ξ, η)``."""
        om = self.s * beta
        return om, om - (1 - self.c) * alpha, -(alpha + self.k * om)


def _update(
    solve: Solver,
    d: Tensor,
    alpha: Tensor,
    beta: Tensor,
    theta: Tensor,
    moved: Tensor,
    pi_tol: float,
    out: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(W, φ, status)`` in float64 on the CPU: ``W = I``, ``φ = d`` where θ = 0, the solver elsewhere
    (into ``out`` when the solver takes one and every row moves)."""
    B, n = alpha.shape
    if bool(moved.all()):
        if out is not None and getattr(solve, "takes_out", False):
            return solve(d, alpha, beta, theta, pi_tol, out=out)  # type: ignore[call-arg]
        return solve(d, alpha, beta, theta, pi_tol)
    W = torch.eye(n, dtype=torch.float64).repeat(B, 1, 1)
    phi, status = d.clone(), torch.zeros(B, dtype=torch.int32)
    idx = moved.nonzero()[:, 0]
    if idx.numel():
        parts = (d[idx].contiguous(), alpha[idx].contiguous(), beta[idx].contiguous(), theta[idx].contiguous())
        Wm, pm, sm = solve(*parts, pi_tol)
        W[idx], phi[idx], status[idx] = Wm, pm, sm
    return W, phi, status


def _middle(
    K: Tensor, Qp: Tensor, vecs: tuple[Tensor, ...], cd: Tensor, sd: Tensor, c: Tensor, k: Tensor
) -> tuple[Tensor, Tensor]:
    """The O(N²) middle of a backward step in torch (the reference of the native
    ``spectral_step.h``): ``K`` (``W Ĝ Wᵀ``) becomes ``∂D`` in place; returns the rows
    ``Q'[Dᵀĝ + α(ξ·Dᵀĝ) + ω(η·Dᵀĝ), ∂α̂, ∂ŵ]`` (B, 3, N) and ``∂c`` (B, 1)."""
    h, gz, alpha, om, xi, et = vecs
    hh, gg = torch.bmm(torch.stack([h, gz], -2), Qp).unbind(-2)  # Q'ᵀ h, Q'ᵀ ∂z
    # ∂L/∂A = K + ĝ ĥᵀ, never formed: its products with α, ω, Dξ, Dη corrected by the rank-1 term
    Kv = torch.bmm(torch.stack([alpha, om], -2), K.mT)  # rows K α, K ω
    Kv = Kv + gg[:, None, :] * torch.stack([(hh * alpha).sum(-1), (hh * om).sum(-1)], -1)[..., None]
    Dxe = torch.stack([_planes(xi, cd, sd), _planes(et, cd, sd)], -2)
    KtD = torch.bmm(Dxe, K)  # rows Kᵀ D ξ, Kᵀ D η
    d_al, d_om = (KtD + hh[:, None, :] * (Dxe * gg[:, None, :]).sum(-1)[..., None]).unbind(-2)
    d_xi = _planes(Kv[:, 0], cd, -sd)  # Dᵀ K α
    d_et = _planes(Kv[:, 1], cd, -sd)  # Dᵀ K ω
    ga_hat = d_al - (1 - c) * d_xi - d_et
    gw_hat = d_om + d_xi - k * d_et
    gc = (alpha * d_xi).sum(-1, keepdim=True) + k * k * (om * d_et).sum(-1, keepdim=True)
    dv = _planes(gg, cd, -sd)  # Dᵀ ĝ, then the rotation's transpose
    dv = dv + alpha * (xi * dv).sum(-1, keepdim=True) + om * (et * dv).sum(-1, keepdim=True)
    back = torch.bmm(torch.stack([dv, ga_hat, gw_hat], -2), Qp.mT)  # rows Q' (·)
    # ∂D = ∂L/∂A (I + ξαᵀ + ηωᵀ)ᵀ = K + ĝ ĥᵀ + (∂L/∂A α) ξᵀ + (∂L/∂A ω) ηᵀ: one rank-3 update
    K.baddbmm_(torch.cat([gg[:, None, :], Kv], -2).mT, torch.stack([hh, xi, et], -2))
    return back, gc


def _step_back(
    K: Tensor,
    Qp: Tensor,
    vecs: tuple[Tensor, ...],
    cd: Tensor,
    sd: Tensor,
    st: _Step,
    fold: Deflation | None,
    flip: Tensor,
    phi64: Tensor,
    lam64: Tensor,
    eps_dt: float,
    middle: Any,
    adjoint: Any,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """A backward step's three parts one after another (the reference of the fused native
    ``spectral_backward.h``): the middle (native ``spectral_step.h`` or :func:`_middle`), the
    fold's way back from ``Q''`` to ``Q'``, then the flips, ∂λ, ``𝓛*_λ`` and the tangent
    projection (native ``spectral_adjoint.h``, or torch).
    ``K`` becomes ``Ĝ_{t−1}`` and ``Qp`` ``Q_{t−1}``, in place; returns ``(Ĝ_{t−1}, Q_{t−1}, back, ∂c, ∂λ)``."""
    B, n = K.shape[0], K.shape[-1]
    dt, dev = K.dtype, K.device
    if middle is not None:  # K becomes ∂D in place
        back, gc = middle.backward(K, Qp, vecs, cd, sd, st.c[:, 0], st.k[:, 0])
        gc = gc[:, None]
    else:
        back, gc = _middle(K, Qp, vecs, cd, sd, st.c, st.k)
    dD = K
    if fold is not None:  # from Q'' back to Q' (in which the last step's W was computed)
        fold.conjugate(dD)
        fold.undo_columns(Qp)
    if adjoint is not None:  # the flips, ∂λ, 𝓛*_λ and the projection in one native pass
        dlam = adjoint(dD, phi64, lam64.expand(B), flip, eps_dt).sum().to(dt)
        return dD, _flip_columns(Qp, flip), back, gc, dlam
    if bool(flip.any()):  # to Q_{t−1}'s planes
        S = _signs(flip, n).to(dev, dt)
        dD.mul_(S[:, :, None] * S[:, None, :])
    _flip_columns(Qp, flip)
    phi = phi64.to(dev, dt)
    lam_b = lam64.to(dev, dt).expand(B)
    psi = lam_b[:, None] * phi
    m2 = 2 * (n // 2)
    diag = [dD[:, i::2, j::2].diagonal(dim1=-2, dim2=-1)[:, : m2 // 2] for i in (0, 1) for j in (0, 1)]
    dlam = (phi * (torch.cos(psi) * (diag[2] - diag[1]) - torch.sin(psi) * (diag[0] + diag[3]))).sum()
    return _tangent(_plane_adjoint(dD, phi, lam_b, eps_dt, inplace=True), phi), Qp, back, gc, dlam


class _SequenceFractional(torch.autograd.Function):
    """The whole fractional-λ RUM over a sequence as one node, the memory in spectral form (module docstring)."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight_x: Tensor,
        bias: Tensor,
        weight_h: Tensor,
        h0: Tensor,
        U0: Tensor,
        lam: Tensor,
        eta: float | None,
        solve: Solver,
        budget: int,
    ) -> Any:
        B, T, _ = x.shape
        n = h0.shape[-1]
        m = n // 2
        dt, dev = h0.dtype, h0.device
        np_dt = np.dtype(np.float32) if dt == torch.float32 else np.dtype(np.float64)  # whose branch window
        _, pi_tol = _branch_tols(n, np_dt)
        X, PB = _project_sequence(ctx, x, weight_x, bias, n)
        Wh = weight_h.detach()
        lam64 = lam.detach().to("cpu", torch.float64)
        Q, phi = _initial_frame(U0.detach(), np_dt)
        zero_tol = 1e-2 * float(torch.finfo(dt).eps)  # an angle below it is 0: the block folds sooner
        Q0 = Q.clone()  # kept: the backward's last steps use it instead of the rebuilt basis
        spare = torch.empty_like(Q)  # Q_t and Q_{t−1} alternate between two buffers
        wbuf = torch.empty_like(Q)  # W_t in the model's dtype and device
        w64 = torch.empty(Q.shape, dtype=torch.float64)  # the eigen-update's output (CPU)
        Ws: list[Tensor | None] = []  # W_t kept for the backward, while they fit in ``budget`` bytes
        H = h0.new_empty(T + 1, B, n)
        H[0] = h0.detach()
        Zs, Sr = h0.new_empty(T, B, n), h0.new_ones(T, B)
        AL, BE = torch.empty(T, B, n, dtype=torch.float64), torch.empty(T, B, n, dtype=torch.float64)
        TH, D = torch.empty(T, B, dtype=torch.float64), torch.empty(T, B, m, dtype=torch.float64)
        PHI = torch.empty(T + 1, B, m, dtype=torch.float64)
        FL = torch.empty(T, B, m, dtype=torch.bool)
        AH, BH, SC = h0.new_empty(T, B, n), h0.new_empty(T, B, n), h0.new_empty(T, B, 4)  # each step's frame
        folds: list[Deflation | None] = []  # each step's reflectors (O(B·N)), or None: solved whole
        kept: dict[int, tuple[Tensor, Tensor]] = {}
        for t in range(T):
            h = H[t]
            g = torch.addmm(PB[t, :, : 2 * n], h, Wh.t())
            PB[t, :, : 2 * n] = g  # (ũ, τ) replace the projections, as in the λ = 1 node
            st = _Step(g, PB[t, :, 2 * n :], n)
            if st.bad:
                return h0.new_empty(0), h0.new_empty(0), True
            AH[t], BH[t], SC[t] = st.kept()
            phi = torch.where(phi < zero_tol, 0.0, phi)  # (float32: below 1.2e-9, a hundredth of R's rounding)
            PHI[t] = phi
            d, flip = _powered(phi, lam64)
            _flip_columns(Q, flip)  # Q' = Q S, in place: Q_{t−1} is not needed again
            Qp = Q
            rows = torch.bmm(torch.stack([st.ahat, st.what, h], -2), Qp)  # (Q'ᵀ â, Q'ᵀ ŵ, Q'ᵀ h)
            a64, b64 = _orthonormal(rows[:, 0].to("cpu", torch.float64), rows[:, 1].to("cpu", torch.float64))
            k = active_columns(phi, n)
            fold = None
            if k < n:  # the angle-0 block folded into one plane: Q'' = Q' diag(I, H), in place
                fold, a64, b64 = Deflation.fold(a64, b64, k)
                fold.vectors(rows)
                fold.columns(Qp)
            folds.append(fold)
            ns = n if fold is None else fold.size
            alpha, beta, hh = rows.unbind(-2)
            th64 = st.theta.to("cpu", torch.float64)
            om, xi, et = st.coordinates(alpha, beta)
            v = hh + xi * (alpha * hh).sum(-1, keepdim=True) + et * (om * hh).sum(-1, keepdim=True)
            cd, sd = torch.cos(d).to(dev, dt), torch.sin(d).to(dev, dt)
            z = st.eps + torch.bmm(_planes(v, cd, sd)[:, None, :], Qp.mT)[:, 0]  # ε + R_t h (before Q' changes)
            out = w64 if ns == n else None
            W, phi_s, status = _update(
                solve, d[:, : ns // 2], a64[:, :ns], b64[:, :ns], th64, st.moved.cpu(), pi_tol, out
            )
            AL[t], BE[t], TH[t], D[t], FL[t] = a64, b64, th64, d, flip
            if budget >= W.numel() * H.element_size():  # kept for the backward while they fit
                budget -= W.numel() * H.element_size()
                Ws.append(W.to(dev, dt, copy=True))  # (W may be the reused float64 buffer)
                Wt = Ws[-1]
            else:
                Ws.append(None)
                Wt = _cast(W, wbuf) if ns == n else W.to(dev, dt)
            bad_rows = status.nonzero()[:, 0]
            if bad_rows.numel():  # −1 reached: those rows are decomposed in R_t's own coordinates below
                kept[t] = (bad_rows, Qp[bad_rows.to(dev)].clone())
            if ns == n:
                Q = torch.bmm(Qp, Wt, out=spare)  # Q_t = Q' W_t
                spare = Qp
                phi = phi_s
            else:  # Q_t = Q'' (W_s ⊕ I), in place: only the first ns columns change
                # the slice as the left operand, untransposed: faster than (Wᵀ Q_sᵀ)ᵀ on this strided
                # slice (`python benchmarks/spectral_floor.py --slices --n 50`)
                Q[:, :, :ns] = torch.bmm(Q[:, :, :ns], Wt)
                phi = torch.zeros_like(phi)
                phi[:, : ns // 2] = phi_s
            if bad_rows.numel():
                phi = _canonical_rows(Q, phi, kept[t][1], d, a64, b64, th64, bad_rows, np_dt)
            cand = torch.relu(z)
            hn = cand + torch.sigmoid(st.u_pre) * (h - cand)
            if eta is not None:
                norm = hn.norm(dim=-1)
                Sr[t] = torch.where(norm > 0, eta / torch.where(norm > 0, norm, 1.0), 0.0)
                hn = hn * Sr[t][:, None]
            Zs[t] = z
            H[t + 1] = hn
        PHI[T] = phi
        phi_dev = phi.to(dev, dt)
        Qc = _planes(Q, torch.cos(phi_dev)[:, None, :], -torch.sin(phi_dev)[:, None, :])  # Q blockdiag(M(φ))
        R_T = torch.bmm(Qc, Q.mT)  # Q blockdiag(M(φ)) Qᵀ
        ctx.save_for_backward(Wh, weight_x, H, PB, X, Zs, Sr, Q, Q0, AL, BE, TH, D, PHI, FL, lam.detach(), AH, BH, SC)
        ctx.kept, ctx.eta, ctx.solve, ctx.pi_tol, ctx.Ws, ctx.folds = kept, eta, solve, pi_tol, Ws, folds
        ctx.set_materialize_grads(False)
        return H[1:], R_T, False

    @staticmethod
    def backward(ctx: Any, grad_H: Tensor | None, grad_R: Tensor | None, _: Any) -> Any:
        _first_order_only()
        Wh, Wx, H, PB, X, Zs, Sr, Q, Q0, AL, BE, TH, D, PHI, FL, lam, AH, BH, SC = ctx.saved_tensors
        T, B, n = H.shape[0] - 1, H.shape[1], H.shape[2]
        dt, dev = H.dtype, H.device
        eps_dt = float(torch.finfo(dt).eps)
        lam64 = lam.to("cpu", torch.float64)
        adj = kernels.spectral_adjoint() if dev.type == "cpu" else None
        adjoint = adj if adj is not None and adj.supports(Q) else None
        mid = kernels.spectral_step() if dev.type == "cpu" else None
        middle = mid if mid is not None and mid.supports(Q) else None
        fus = kernels.spectral_backward() if dev.type == "cpu" else None
        fused = fus if fus is not None and fus.supports(Q) else None
        Q = Q.clone()
        spare, tmp = torch.empty_like(Q), torch.empty_like(Q)  # Q' alternates with Q; W Ĝ
        wbuf = torch.empty_like(Q)
        w64 = torch.empty(Q.shape, dtype=torch.float64)
        # Ĝ_t, then in place ∂L/∂A_t, ∂D and Ĝ_{t−1}: one buffer for the whole backward
        Gh = torch.zeros_like(Q) if grad_R is None else Q.mT @ grad_R @ Q
        gh = H.new_zeros(B, n)
        glam = H.new_zeros(())
        dPB = H.new_empty(T, B, 3 * n)
        for t in range(T - 1, -1, -1):
            if grad_H is not None:
                gh = gh + grad_H[t]
            h, z = H[t], Zs[t]
            st = _Step(PB[t, :, : 2 * n], PB[t, :, 2 * n :], n, (AH[t], BH[t], SC[t]))  # as the forward had it
            d, flip = D[t], FL[t]
            fold = ctx.folds[t]
            ns = n if fold is None else fold.size
            W = None if ctx.Ws is None else ctx.Ws[t]  # kept by the forward: no second eigen-update
            if W is None:  # rebuilt from the step's O(N) inputs (memory flat in T)
                out = w64 if ns == n else None
                W, _, _ = _update(
                    ctx.solve, d[:, : ns // 2], AL[t][:, :ns], BE[t][:, :ns], TH[t], st.moved.cpu(), ctx.pi_tol, out
                )
                W = _cast(W, wbuf) if ns == n else W.to(dev, dt)
            if t in ctx.kept:  # rows decomposed in R_t's own coordinates: their whole W, from Q_t
                rows, Qp_rows = ctx.kept[t]
                rows = rows.to(dev)
                G_rows, W_rows = Gh[rows].clone(), Qp_rows.mT @ Q[rows]
            if t == 0:  # the first basis, as the forward had it (a rebuilt one carries T steps of rounding
                # into the gradient of R_0, which near the branch cut amplifies it by 1/(π − φ))
                Qp = _flip_columns(spare.copy_(Q0), flip)
                if fold is not None:
                    fold.columns(Qp)
            elif ns == n:
                Qp = torch.bmm(Q, W.mT, out=spare)  # Q' = Q_t W_tᵀ
            else:  # Q'' = Q_t (W_s ⊕ I)ᵀ, in place
                Q[:, :, :ns] = torch.bmm(Q[:, :, :ns], W.mT)  # (orientation: as in the forward)
                Qp = Q
            if ns == n:
                K = torch.bmm(torch.bmm(W, Gh, out=tmp), W.mT, out=Gh)  # W Ĝ Wᵀ: ∂L/∂R_t in Q'
            else:  # (W_s ⊕ I) Ĝ (W_s ⊕ I)ᵀ: ∂L/∂R_t in Q''
                K = Gh
                K[:, :ns, :] = torch.bmm(W, K[:, :ns, :])
                K[:, :, :ns] = torch.bmm(K[:, :, :ns], W.mT)
            if t in ctx.kept:
                K[rows] = W_rows @ G_rows @ W_rows.mT
                Qp[rows] = Qp_rows
            if ctx.eta is not None:  # h_t = η h'/‖h'‖
                r = Sr[t][:, None]
                unit = H[t + 1] * torch.where(r > 0, 1 / torch.where(r > 0, r, 1.0), 0.0)  # h'
                nrm2 = (unit * unit).sum(-1, keepdim=True)
                gh = r * (gh - unit * (unit * gh).sum(-1, keepdim=True) / torch.where(nrm2 > 0, nrm2, 1.0))
            u = torch.sigmoid(st.u_pre)
            cand = torch.relu(z)
            gu_pre = gh * (h - cand) * u * (1 - u)
            gz = torch.where(z > 0, gh * (1 - u), 0.0)
            gh_prev = gh * u
            alpha, beta = AL[t].to(dev, dt), BE[t].to(dev, dt)
            om, xi, et = st.coordinates(alpha, beta)
            cd, sd = torch.cos(d).to(dev, dt), torch.sin(d).to(dev, dt)
            vecs = (h, gz, alpha, om, xi, et)
            # Ĝ_{t−1} is kept tangent to SO(n) at R_{t−1} (as the reference's polar step does): the normal
            # part, which no loss sees, otherwise grows from step to step until its rounding swamps
            # the gradient (measured: ∂λ off by 1e4 after 49 steps of the copy task)
            if fused is not None:  # the three parts below in one native pass, each matrix in cache
                wy = None if fold is None else (fold.k, *fold.wy(K))
                lam_rows = lam64.expand(B)
                back, gc, gl = fused(K, Qp, vecs, cd, sd, st.c[:, 0], st.k[:, 0], wy, PHI[t], lam_rows, flip, eps_dt)
                gc, glam, Gh = gc[:, None], glam + gl.sum().to(dt), K
                _flip_columns(Qp, flip)
            else:
                Gh, Qp, back, gc, dlam = _step_back(
                    K, Qp, vecs, cd, sd, st, fold, flip, PHI[t], lam64, eps_dt, middle, adjoint
                )
                glam = glam + dlam
            gh_prev = gh_prev + back[:, 0]
            geps_f, gtau = _frame_backward(st.ahat, st.bhat, st.c, st.ie, st.it, back[:, 1], back[:, 2], gc)
            if Qp is not Q:  # Q_{t−1}
                spare, Q = Q, Qp
            dg = torch.cat([gu_pre, gtau], -1)
            gh = gh_prev + dg @ Wh
            dPB[t, :, : 2 * n] = dg
            dPB[t, :, 2 * n :] = gz + geps_f
        grads_w = _WeightGrads(Wh, X, ctx.needs_input_grad[0])
        grads_w.add(dPB, H, X, Wx, 0, T)
        # in Q_0 as the forward had it: the basis the loop ends with is Q_0 only to rounding (a fold undone)
        gU0 = Q0 @ Gh @ Q0.mT if ctx.needs_input_grad[5] else None
        glam_out = glam.to(lam.dtype).reshape(lam.shape) if ctx.needs_input_grad[6] else None
        ctx.Ws = None  # one backward per forward pass when W_t were kept: free them now
        return (*grads_w.result(), gh, gU0, glam_out, None, None, None)


def _initial_frame(U0: Tensor, np_dt: np.dtype) -> tuple[Tensor, Tensor]:
    """``(Q_0, φ_0)`` of ``R_0`` (the identity without a decomposition), ``φ_0`` float64 on the CPU;
    ``np_dt``: the dtype whose branch window snaps angles to π."""
    B, n = U0.shape[0], U0.shape[-1]
    eye = torch.eye(n, dtype=U0.dtype, device=U0.device)
    if bool((U0 == eye).all()):
        return eye.repeat(B, 1, 1), torch.zeros(B, n // 2, dtype=torch.float64)
    Z, phi = _nonnegative(*_canonical_batch(U0.to("cpu", torch.float64).numpy(), np_dt, "R"))
    return torch.as_tensor(Z, dtype=U0.dtype, device=U0.device).contiguous(), torch.from_numpy(phi)


def _canonical_rows(
    Q: Tensor, phi: Tensor, Qp_rows: Tensor, d: Tensor, a: Tensor, b: Tensor, theta: Tensor, rows: Tensor, np_dt: Any
) -> Tensor:
    """Rows whose new spectrum reaches −1: ``R_t = Q' A Q'ᵀ`` (``Qp_rows``: those rows of ``Q'``)
    decomposed with the convention's planes (written into those rows of ``Q``; returns the new angles)."""
    A = _small_matrix(d[rows], a[rows], b[rows], theta[rows])
    Qr = Qp_rows.to("cpu", torch.float64)
    R = Qr @ A @ Qr.mT
    Z, ph = _nonnegative(*_canonical_batch(R.numpy(), np_dt, "R"))
    Q[rows.to(Q.device)] = torch.as_tensor(Z, dtype=Q.dtype, device=Q.device)
    phi = phi.clone()
    phi[rows] = torch.from_numpy(ph)
    return phi


def spectral_sequence(
    x: Tensor,
    weight_x: Tensor,
    bias: Tensor,
    weight_h: Tensor,
    h0: Tensor,
    R0: Tensor,
    lam: Tensor | float,
    eta: float | None = None,
    *,
    solver: Solver | None = None,
    store_bytes: int | None = None,
) -> tuple[Tensor, Tensor] | None:
    r"""All hidden states and the final memory of a fractional-λ RUM over a sequence, as one node
    with the memory in spectral form (module docstring).

    .. math:: R_t = R_{t-1}^\lambda\,\operatorname{Rotation}(\varepsilon_t, \tau_t),\quad
              h_t = \operatorname{lerp}\bigl(\operatorname{ReLU}(\varepsilon_t + R_t h_{t-1}),\
              h_{t-1},\ u_t\bigr)\ [\,\eta\text{-normalised}\,]

    The same values and gradients (in ``x``, ``h0``, ``R0``, every parameter and a learned λ) as
    the step path :func:`~orthornn.nn.rum.fractional.fractional_step` (``so_power`` each step), at
    the cost of an eigen-update instead of a dense decomposition per step and memory flat in T.

    Parameters
    ----------
    x : Tensor, shape (B, T, N_x)
    weight_x, bias, weight_h : Tensor
        Shapes (3N, N_x), (3N,), (2N, N).
    h0 : Tensor, shape (B, N)
    R0 : Tensor, shape (B, N, N)
        Rotations (within ``NEAR_GROUP_TOL`` of orthogonal, det +1).
    lam : float or 0-d Tensor
        λ; a tensor that requires grad receives ``∂L/∂λ``.
    eta : float or None
    solver : callable, optional
        The eigen-update (``(d, α, β, θ, pi_tol) ↦ (W, φ, status)``); default the native kernel on
        CPU where it builds, else LAPACK (:func:`_dense_update`).
    store_bytes : int, optional
        Keep the first steps' ``W_t`` for the backward (no second eigen-update there) while they
        take at most this many bytes in all; rebuild the others (memory flat in T beyond it).
        Default :data:`STORE_BYTES`; ``0``: always rebuild.

    Returns
    -------
    ``(hs, R_T)``, ``hs`` time-major (T, B, N); or None when some step's pair ``(ε_t, τ_t)`` is zero
    or nearly antiparallel (the caller runs the step path).

    Raises
    ------
    ShapeError, OrthornnError
        Shapes that do not fit; mixed dtypes or devices.
    NotOrthogonalError, NoRealLogarithmError, NotFiniteError
        ``R0`` not a rotation (as ``so_power``).

    Examples
    --------
    >>> from orthornn.nn.rum import RUM, RUMState
    >>> _ = torch.manual_seed(0)
    >>> rum = RUM(3, 4, lam=0.5, dtype=torch.float64)
    >>> x = torch.randn(2, 5, 3, dtype=torch.float64)
    >>> h0, R0 = rum.cell.initial_state(2, like=x)
    >>> hs, R_T = spectral_sequence(x, rum.cell.weight_x, rum.cell.projection_bias(), rum.cell.weight_h, h0, R0, 0.5)
    >>> s = RUMState(h0, R0)
    >>> steps = [s := rum.cell(x[:, t], s) for t in range(5)]
    >>> bool(torch.allclose(hs, torch.stack([s.h for s in steps]))) and bool(torch.allclose(R_T, steps[-1].R))
    True
    """
    n = h0.shape[-1]
    _check_sequence_args("spectral_sequence", x, weight_x, bias, weight_h, h0, {"R0": (R0, (h0.shape[0], n, n))})
    lam_t = lam if isinstance(lam, Tensor) else torch.tensor(float(lam), dtype=h0.dtype, device=h0.device)
    if not bool(torch.isfinite(lam_t).all()):
        raise NotFiniteError("lam contains NaN or inf")
    U0 = _polar(R0, "R0")  # the Newton–Schulz polar factor, through autograd, as so_power
    solve = _solver() if solver is None else solver
    limit = STORE_BYTES if store_bytes is None else store_bytes
    budget = limit if torch.is_grad_enabled() else 0
    hs, R_T, bad = _SequenceFractional.apply(x, weight_x, bias, weight_h, h0, U0, lam_t, eta, solve, budget)
    return None if bad else (hs, R_T)
