r"""Differentiable logarithm, exponential and real powers on SO(n) (torch twins of
:mod:`orthornn.numeric.lie`).

* :func:`so_exp` is ``torch.linalg.matrix_exp`` of the skew part; its autograd is stable at
  repeated eigenvalues.
* :func:`so_log` and :func:`so_power` are defined on a *neighbourhood* of SO(n) (so that
  ``gradcheck``'s off-manifold perturbations see a smooth function): they first take the
  orthogonal polar factor :math:`U = R(R^\top R)^{-1/2}` by three Newton–Schulz steps
  :math:`U \leftarrow \tfrac12 U(3I - U^\top U)` (pure matmuls, differentiated by autograd), then
  apply a custom autograd function to :math:`U`. Its forward diagonalises :math:`U` in float64,
  batched and on the input's device, through the **Cayley transform**

  .. math::

      A = (I + U)^{-1}(I - U),\qquad iA = V\,\mathrm{diag}(t)\,V^H,\qquad
      \Phi = 2\arctan t,\qquad U = V\,\mathrm{diag}(e^{i\Phi})\,V^H

  (one batched ``solve`` and one complex Hermitian ``eigh``; :math:`t_j = \tan(\varphi_j/2)` is
  injective on :math:`(-\pi, \pi)`, so repeated eigenvalues need no bookkeeping: any orthonormal
  basis of an eigenspace will do), and returns :math:`\operatorname{Re} V f(e^{i\Phi}) V^H`.
  The solve and ``eigh`` lose accuracy as :math:`|t| \to \infty` (:math:`\varphi \to \pi`),
  so matrices with an eigenphase within :data:`orthornn._conventions.CAYLEY_MARGIN` of π (this
  includes every ``det = −1`` input) are routed, per matrix, to the canonical form
  :math:`U = Z\,\mathrm{blockdiag}(M(\varphi_j), I)\,Z^\top` of :mod:`orthornn.numeric.lie`
  (LAPACK on the CPU: torch has no real Schur decomposition), which carries the branch
  convention and the errors; there :math:`V = ZB` (columns :math:`(x_j \mp i y_j)/\sqrt2`).
  The backward is the Daleckii–Krein formula in the unitary eigenbasis :math:`V`, on the
  input's device:

  .. math::

      \bar U = \operatorname{Re}\, V\bigl(\overline{F} \circ (V^H \bar L V)\bigr) V^H,\qquad
      F_{jk} = f[e^{i\Phi_j}, e^{i\Phi_k}].

  The divided differences are written without eigenvalue gaps (:math:`\sigma = (\Phi_j+\Phi_k)/2`,
  :math:`\delta = (\Phi_j - \Phi_k)/2`):

  .. math::

      \log:\ F_{jk} = e^{-i\sigma}\,\frac{\delta}{\sin\delta},\qquad
      z^\lambda:\ F_{jk} = e^{i(\lambda-1)\sigma}\,\frac{\sin\lambda\delta}{\sin\delta}
      = e^{i(\lambda-1)\sigma}\,\frac{\lambda\,\mathrm{sinc}(\lambda\delta/\pi)}{\mathrm{sinc}(\delta/\pi)},

  finite at :math:`\delta = 0` (value :math:`f'(e^{i\varphi})`) — repeated eigenvalues, e.g.
  :math:`R = I` or products of a few Rotations in large n, are ordinary points. They are unbounded
  only as :math:`|\delta| \to \pi`, i.e. a conjugate pair :math:`e^{\pm i\varphi}` approaching −1:
  the branch cut, where the logarithm is genuinely not differentiable. There
  :math:`\mathrm{sinc}(\delta/\pi)` is clamped below at ``eps(dtype)``, so gradients grow like
  :math:`1/(\pi - \varphi)` and stay finite (at most ``‖grad‖/eps``), never NaN.
  The gradient with respect to λ is :math:`\langle \bar P, (\log U)\,U^\lambda\rangle`.

The forward value agrees with the numpy functions to ``1e-12`` in float64 (both are accurate to
a few ``n·eps``; at an eigenvalue −1 both follow :data:`orthornn._conventions.LOG_BRANCH`).
Float32 inputs are factorised in float64 and returned in float32.

References
----------
Jing et al., "Rotational Unit of Memory" (RUM), section 5.2; Higham, *Functions of Matrices*
(2008), §3.2 (Daleckii–Krein) and §11.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..._conventions import CAYLEY_MARGIN, NEAR_GROUP_TOL
from ...errors import NotFiniteError, NotOrthogonalError, NotSkewError, ShapeError
from ...numeric.lie import SPECTRAL_MIN_N, _assemble, _canonical_batch, _spectral

__all__ = ["so_exp", "so_log", "so_power"]

#: Newton–Schulz steps taking the input to its orthogonal polar factor (defect d → ~(3/4)d²).
POLAR_STEPS = 3

#: Largest ``|t| = |tan(φ/2)|`` the Cayley route accepts (:data:`orthornn._conventions.CAYLEY_MARGIN`).
CAYLEY_MAX_TAN = math.tan(0.5 * (math.pi - CAYLEY_MARGIN))


def _check_square(x: Tensor, name: str) -> int:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2] or x.shape[-1] == 0:
        raise ShapeError(
            f"{name} must be a (batch of) square matrices (..., n, n) with n ≥ 1, got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a real floating tensor, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise NotFiniteError(f"{name} contains NaN or inf")
    return int(x.shape[-1])


def _polar(R: Tensor, name: str) -> Tensor:
    """Orthogonal polar factor by Newton–Schulz, after checking ``‖RᵀR − I‖_max ≤ NEAR_GROUP_TOL``."""
    n = _check_square(R, name)
    eye = torch.eye(n, dtype=R.dtype, device=R.device)
    with torch.no_grad():
        defect = float((R.mT @ R - eye).abs().amax()) if R.numel() else 0.0
    if defect > NEAR_GROUP_TOL:
        raise NotOrthogonalError(
            f"{name} is not (nearly) orthogonal: max ‖RᵀR − I‖_max = {defect:.3g} > tolerance "
            f"{NEAR_GROUP_TOL:.3g} (torch so_log/so_power differentiate log∘polar near SO(n))"
        )
    U = R
    for _ in range(POLAR_STEPS):
        U = 1.5 * U - 0.5 * U @ (U.mT @ U)
    return U


def _factor(U: Tensor, lam: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """Value (``log U`` or ``U^lam``) and canonical frames ``(Z, φ)`` of a batch, via LAPACK on the CPU.

    The same routes as :mod:`orthornn.numeric.lie` (the value is bit-for-bit the numpy one in
    float64): one real Schur form per matrix for small ``n``, the spectral route with cluster
    frames (:func:`~orthornn.numeric.lie._spectral_frames`) from ``SPECTRAL_MIN_N`` on.
    """
    U64 = U.detach().to("cpu", torch.float64).numpy()
    n = U64.shape[-1]
    dtype = np.dtype(np.float32) if U.dtype == torch.float32 else np.dtype(np.float64)
    lam_np = None if lam is None else lam.detach().to("cpu", torch.float64).numpy()
    if n >= SPECTRAL_MIN_N:
        value, Z, phi = _spectral(U64, "R", dtype, lam_np, frames=True)
    else:
        Z, phi = _canonical_batch(U64, dtype, "R")
        if lam_np is None:
            value = _assemble(Z, np.zeros_like(phi), phi, 0.0)
        else:
            t = lam_np[..., None] * phi
            value = _assemble(Z, np.cos(t), np.sin(t), 1.0)
    if lam_np is None:
        value = 0.5 * (value - np.swapaxes(value, -1, -2))
    as_t = lambda x: torch.as_tensor(x, device=U.device, dtype=U.dtype)  # noqa: E731
    return as_t(value), as_t(Z), as_t(phi)


def _cayley(U: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Unitary eigenbasis ``V``, eigenphases ``Φ`` and the accuracy mask of a float64 batch ``(B, n, n)``.

    ``A = (I + U)^{-1}(I − U)`` (one batched solve; the factors commute) is skew with eigenvalues
    ``−i tan(φ_j/2)``, so ``iA = V diag(t) Vᴴ`` (complex Hermitian ``eigh``) diagonalises ``U``
    with ``Φ = 2 atan t``. ``ok`` marks the matrices with every ``|t| ≤`` :data:`CAYLEY_MAX_TAN`
    and every ``|A_jk| ≤`` :data:`CAYLEY_MAX_TAN` (implied by the first for skew ``A``); the others
    — eigenphases near π, ``det U = −1`` — are left to :func:`_factor`, and their ``V, Φ`` are
    meaningless. The entry test is what catches ``det U = −1``: its real eigenvalue −1 makes the
    singular part of ``A`` *symmetric* (entries ~ 1/eps), invisible to ``eigh`` of the skew part.
    """
    n = U.shape[-1]
    eye = torch.eye(n, dtype=U.dtype, device=U.device)
    A, info = torch.linalg.solve_ex(eye + U, eye - U)
    big = A.abs().amax(dim=(-2, -1))  # NaN if any entry is NaN
    finite = (info == 0) & torch.isfinite(big)
    ok = finite & (big <= CAYLEY_MAX_TAN)
    A = torch.where(finite[..., None, None], 0.5 * (A - A.mT), 0.0)
    t, V = torch.linalg.eigh(torch.complex(torch.zeros_like(A), A))
    ok &= t.abs().amax(dim=-1) <= CAYLEY_MAX_TAN
    return V, 2.0 * torch.atan(t), ok


def _real_times_vh(X: Tensor, V: Tensor) -> Tensor:
    """``Re(X Vᴴ)`` by two real matmuls."""
    return X.real.contiguous() @ V.real.contiguous().mT + X.imag.contiguous() @ V.imag.contiguous().mT


def _spectral_apply(V: Tensor, d: Tensor) -> Tensor:
    """``Re(V diag(d) Vᴴ)``."""
    return _real_times_vh(V * d[..., None, :], V)


class _Route:
    """Factorisation of a flattened batch ``(B, n, n)``: rows ``fast`` by :func:`_cayley` (``V``,
    ``Φ``), rows ``slow`` by :func:`_factor` (``Z``, ``φ``), each with the value it computed."""

    def __init__(self, U: Tensor, lam: Tensor | None, cayley: bool) -> None:
        n = U.shape[-1]
        Uf = U.detach().reshape(-1, n, n)
        lamf = None if lam is None else lam.detach().reshape(-1)
        self.value = torch.empty_like(Uf)
        ctype = torch.complex128 if U.dtype == torch.float64 else torch.complex64
        if cayley and Uf.shape[0]:
            V, Phi, ok = _cayley(Uf.to(torch.float64))
            self.fast, self.slow = ok.nonzero()[:, 0], (~ok).nonzero()[:, 0]
            V, Phi = V[self.fast], Phi[self.fast]
            if lamf is None:
                L = _spectral_apply(V, torch.complex(torch.zeros_like(Phi), Phi))
                val = 0.5 * (L - L.mT)
            else:
                lam_phi = lamf[self.fast].to(Phi.dtype)[:, None] * Phi
                val = _spectral_apply(V, torch.polar(torch.ones_like(Phi), lam_phi))
            self.value[self.fast] = val.to(U.dtype)
            self.V, self.Phi = V.to(ctype), Phi.to(U.dtype)
        else:
            self.fast = torch.zeros(0, dtype=torch.long, device=U.device)
            self.slow = torch.arange(Uf.shape[0], device=U.device)
            self.V, self.Phi = Uf.new_zeros((0, n, n), dtype=ctype), Uf.new_zeros((0, n))
        if self.slow.numel():
            val, self.Z, self.phi = _factor(Uf[self.slow], None if lamf is None else lamf[self.slow])
            self.value[self.slow] = val
        else:
            self.Z, self.phi = Uf.new_zeros((0, n, n)), Uf.new_zeros((0, n // 2))
        self.value = self.value.reshape(U.shape)

    def saved(self) -> tuple[Tensor, ...]:
        return self.fast, self.V, self.Phi, self.slow, self.Z, self.phi


def _grad_U(saved: tuple[Tensor, ...], lam: Tensor | None, G: Tensor) -> Tensor:
    """Daleckii–Krein backward of both routes of :class:`_Route` (``lam=None``: the logarithm)."""
    fast, V, Phi, slow, Z, phi = saved
    n = G.shape[-1]
    Gf = G.reshape(-1, n, n)
    lamf = None if lam is None else lam.detach().to(G.dtype).reshape(-1)
    eps = float(torch.finfo(G.dtype).eps)
    out = torch.empty_like(Gf)
    if fast.numel():
        ph = Phi.to(G.dtype)
        F = _divided_pairs(ph, ph, None if lamf is None else lamf[fast], eps)
        out[fast] = _adjoint_eigen(V, F, Gf[fast]).to(G.dtype)
    if slow.numel():
        inner = _plane_adjoint(Z.mT @ Gf[slow] @ Z, phi, None if lamf is None else lamf[slow], eps)
        out[slow] = Z @ inner @ Z.mT
    return out.reshape(G.shape)


def _sinc_ratio(num: Tensor, den: Tensor, eps: float) -> Tensor:
    """``sinc(num/π) / sinc(den/π)`` with the denominator clamped at ``eps`` (the branch cut)."""
    return torch.sinc(num / torch.pi) / torch.sinc(den / torch.pi).clamp_min(eps)


def _plane_divided(phi: Tensor, lam: Tensor | None, eps: float) -> tuple[Tensor, Tensor]:
    r"""The divided differences (:func:`_divided_pairs`) that a real frame needs, ``m×m`` instead of ``n×n``.

    For the plane angles ``φ`` (``…, m``) of ``R = Z blockdiag(M(φ_j), [1]) Zᵀ``: ``F₊₊[j, k] =
    f[e^{iφ_j}, e^{iφ_k}]`` and ``F₊₋[j, k] = f[e^{iφ_j}, e^{−iφ_k}]`` (``lam=None``: log, else
    ``z^lam``); the other two quarters are their conjugates (``f[z̄, w̄] = conj f[z, w]`` for a real
    λ). Returned stacked, shape ``(…, 2, m, m)``; for odd ``n`` the axis needs ``f[e^{iφ_j}, 1]``,
    which is ``F₊₋`` with ``φ_k = 0`` and is computed by :func:`_plane_adjoint` from the same rule.
    """
    both = torch.cat([phi, -phi], dim=-1)
    m = phi.shape[-1]
    F = _divided_pairs(phi, both, lam, eps)
    return torch.stack([F[..., :m], F[..., m:]], dim=-3)


#: ``|δ|`` below which :func:`_divided_pairs` uses the Taylor series of ``sin(λδ)/sin δ`` (the
#: outer-product form loses ``eps/|δ|`` there; the series' first neglected term is ``O(δ⁶) < 1e-18``)
_SERIES_DELTA = 1e-3


def _sin_difference(a: Tensor, b: Tensor) -> Tensor:
    """``sin(a_j − b_k)`` for all pairs, as ``sin a_j cos b_k − cos a_j sin b_k``."""
    return (
        torch.sin(a)[..., :, None] * torch.cos(b)[..., None, :]
        - torch.cos(a)[..., :, None] * torch.sin(b)[..., None, :]
    )


def _divided_pairs(x: Tensor, y: Tensor, lam: Tensor | None, eps: float) -> Tensor:
    r"""Gap-free divided differences ``f[e^{i x_j}, e^{i y_k}]`` of log (``lam=None``) or ``z^lam`` for
    all pairs (the module docstring's ``F``), without a transcendental function per pair.

    With ``σ = (x_j + y_k)/2``, ``δ = (x_j − y_k)/2``: ``e^{i(λ−1)σ}`` (log: ``e^{−iσ}``) is the outer
    product of ``e^{i(λ−1)x_j/2}`` and ``e^{i(λ−1)y_k/2}``, and ``sin(λδ)``, ``sin δ`` are
    ``sin(a_j − b_k) = sin a_j cos b_k − cos a_j sin b_k``. For ``|δ| <`` :data:`_SERIES_DELTA`
    the ratio is the series ``λ(1 + (1 − λ²)δ²/6 + (7/360 − λ²/36 + λ⁴/120)δ⁴)`` (log:
    ``1 + δ²/6 + 7δ⁴/360``), and within :data:`_SERIES_DELTA` of the branch cut ``|δ| = π`` the
    entries are the sinc form of the module docstring, ``sinc(δ/π)`` clamped below at ``eps``.
    """
    xs, ys = x[..., :, None], y[..., None, :]
    lam_ = None if lam is None else lam[..., None, None]
    mu = -0.5 if lam is None else 0.5 * (lam[..., None] - 1.0)  # e^{iμ(x + y)} = e^{i(λ−1)σ}
    ex, ey = torch.polar(torch.ones_like(x), mu * x), torch.polar(torch.ones_like(y), mu * y)
    phase = ex[..., :, None] * ey[..., None, :]
    delta = 0.5 * (xs - ys)
    hx, hy = 0.5 * x, 0.5 * y
    den = _sin_difference(hx, hy)
    d2 = delta * delta
    if lam is None:
        num = delta
        series = 1.0 + d2 * (1.0 / 6.0 + d2 * (7.0 / 360.0))
    else:
        lx, ly = lam[..., None] * hx, lam[..., None] * hy
        num = _sin_difference(lx, ly)
        assert lam_ is not None
        l2 = lam_ * lam_
        series = lam_ * (1.0 + d2 * ((1.0 - l2) / 6.0 + d2 * (7.0 / 360.0 - l2 / 36.0 + l2 * l2 / 120.0)))
    small = delta.abs() < _SERIES_DELTA
    mod = torch.where(small, series, num / torch.where(small, 1.0, den))
    cut = (delta.abs() - torch.pi).abs() < _SERIES_DELTA
    if bool(cut.any()):  # the branch cut: the clamped sinc form, entry by entry
        dc = delta[cut]
        if lam is None:
            mod[cut] = 1.0 / torch.sinc(dc / torch.pi).clamp_min(eps)
        else:
            lc = lam_.expand_as(delta)[cut]
            mod[cut] = lc * _sinc_ratio(lc * dc, dc, eps)
    return phase * mod


def _plane_adjoint(W: Tensor, phi: Tensor, lam: Tensor | None, eps: float, *, inplace: bool = False) -> Tensor:
    r"""``Re B (conj(F) ∘ (Bᴴ W B)) Bᴴ`` in a real frame: the Daleckii–Krein adjoint of ``f`` at
    ``blockdiag(M(φ_j), [1])`` applied to ``W`` (``…, n, n``), in O(n²).

    ``B`` takes each plane ``(x_j, y_j)`` to ``((x_j − i y_j)/√2, (x_j + i y_j)/√2)`` (eigenvalues
    ``e^{±iφ_j}``). Blockwise, with the 2×2 block ``[[a, b], [c, d]]`` of planes ``(j, k)``,

    .. math::

        p = \tfrac12\bigl((a + d) + i(c - b)\bigr),\quad q = \tfrac12\bigl((a - d) + i(b + c)\bigr),\quad
        p' = \overline{F_{++}}\,p,\quad q' = \overline{F_{+-}}\,q,

        a' = \operatorname{Re}(p' + q'),\ b' = \operatorname{Im}(q' - p'),\
        c' = \operatorname{Im}(p' + q'),\ d' = \operatorname{Re}(p' - q');

    for odd ``n`` the axis column and row transform as ``x + iy ↦ conj(f[e^{iφ_j}, 1]) (x + iy)``
    (column ``(W_{xz}, W_{yz})``, row ``(W_{zx}, −W_{zy})``) and the corner by ``f'(1)``
    (λ, or 1 for log). ``lam=None``: the logarithm. ``inplace``: the result overwrites ``W``
    (every entry is read before it is written).
    """
    n = W.shape[-1]
    m = n // 2
    F = _plane_divided(phi, lam, eps).conj()
    x, y = slice(0, 2 * m, 2), slice(1, 2 * m, 2)
    a, b, c, d = W[..., x, x], W[..., x, y], W[..., y, x], W[..., y, y]
    p = F[..., 0, :, :] * torch.complex(0.5 * (a + d), 0.5 * (c - b))
    q = F[..., 1, :, :] * torch.complex(0.5 * (a - d), 0.5 * (b + c))
    if n % 2:
        zero = phi.new_zeros((*phi.shape[:-1], 1))
        Fz = _divided_pairs(phi, zero, lam, eps)[..., 0].conj()  # f[e^{iφ_j}, 1] = f[1, e^{iφ_j}]
        col = Fz * torch.complex(W[..., x, n - 1], W[..., y, n - 1])
        row = Fz * torch.complex(W[..., n - 1, x], -W[..., n - 1, y])
    out = W if inplace else torch.empty_like(W)
    out[..., x, x] = p.real + q.real
    out[..., x, y] = q.imag - p.imag
    out[..., y, x] = p.imag + q.imag
    out[..., y, y] = p.real - q.real
    if n % 2:
        out[..., x, n - 1], out[..., y, n - 1] = col.real, col.imag
        out[..., n - 1, x], out[..., n - 1, y] = row.real, -row.imag
        corner = 1.0 if lam is None else lam
        out[..., n - 1, n - 1] = corner * W[..., n - 1, n - 1]
    return out


def _adjoint_eigen(V: Tensor, F: Tensor, G: Tensor) -> Tensor:
    r"""``Re V (conj(F) ∘ (Vᴴ G V)) Vᴴ`` for a unitary ``V`` and real ``G`` (the Cayley route's basis).

    The same map as :func:`_plane_adjoint` between ``Zᵀ · Z`` (its special case ``V = Z B``, written blockwise).
    """
    Gc = G.to(V.real.dtype)
    H = F.conj().to(V.dtype) * (V.mH @ torch.complex(Gc @ V.real, Gc @ V.imag))
    return _real_times_vh(V @ H, V)


class _Log(torch.autograd.Function):
    """``log U`` for orthogonal ``U`` (forward: :class:`_Route`; backward: Daleckii–Krein).

    ``cayley=False`` forces the canonical-form route for every matrix (tests and benchmarks).
    """

    @staticmethod
    def forward(ctx, U: Tensor, cayley: bool) -> Tensor:  # type: ignore[override]
        route = _Route(U, None, cayley)
        ctx.save_for_backward(*route.saved())
        return route.value

    @staticmethod
    def backward(ctx, G: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        return _grad_U(ctx.saved_tensors, None, G), None


class _Power(torch.autograd.Function):
    """``U^λ`` for orthogonal ``U`` and per-matrix ``λ`` (shape ``U.shape[:-2]``); ``cayley`` as for :class:`_Log`."""

    @staticmethod
    def forward(ctx, U: Tensor, lam: Tensor, cayley: bool) -> Tensor:  # type: ignore[override]
        route = _Route(U, lam, cayley)
        ctx.save_for_backward(*route.saved(), lam, route.value)
        return route.value

    @staticmethod
    def backward(ctx, G: Tensor) -> tuple[Tensor | None, Tensor | None, None]:  # type: ignore[override]
        *saved, lam, P = ctx.saved_tensors
        fast, V, Phi, slow, Z, phi = saved
        grad_U = grad_lam = None
        if ctx.needs_input_grad[0]:
            grad_U = _grad_U(tuple(saved), lam, G)
        if ctx.needs_input_grad[1]:
            n = G.shape[-1]
            Gf, Pf = G.reshape(-1, n, n), P.reshape(-1, n, n)
            LP = torch.empty_like(Gf)  # (log U) U^λ
            if fast.numel():
                lam_f = lam.detach().reshape(-1)[fast].to(Phi.dtype)[:, None]
                d = torch.complex(torch.zeros_like(Phi), Phi) * torch.polar(torch.ones_like(Phi), lam_f * Phi)
                LP[fast] = _spectral_apply(V, d.to(V.dtype)).to(G.dtype)
            if slow.numel():
                m = n // 2
                X, Y = Z[..., :, 0 : 2 * m : 2], Z[..., :, 1 : 2 * m : 2]
                L = (Y * phi[..., None, :]) @ X.mT - (X * phi[..., None, :]) @ Y.mT
                LP[slow] = L @ Pf[slow]
            grad_lam = (Gf * LP).sum(dim=(-2, -1)).reshape(lam.shape).to(lam.dtype)
        return grad_U, grad_lam, None


def so_log(R: Tensor) -> Tensor:
    r"""Principal real logarithm on SO(n), differentiable (torch twin of :func:`orthornn.so_log`).

    .. math:: \log R = Z\,\operatorname{blockdiag}(\varphi_1 J, \dots, \varphi_k J, 0)\,Z^\top,
        \quad \varphi_j \in (-\pi, \pi],

    defined on a neighbourhood of SO(n) as :math:`\log\circ\operatorname{polar}` (module docstring).

    Parameters
    ----------
    R : Tensor, shape ``(..., n, n)``
        Rotations with ``‖RᵀR − I‖_max ≤`` :data:`orthornn._conventions.NEAR_GROUP_TOL`, on any
        device (everything runs there except the canonical-form fallback for eigenphases
        within :data:`orthornn._conventions.CAYLEY_MARGIN` of π, which runs on the CPU).

    Returns
    -------
    Tensor, shape ``(..., n, n)``
        Exactly skew-symmetric, same dtype and device as ``R``.

    Raises
    ------
    ShapeError, NotFiniteError, NotOrthogonalError, NoRealLogarithmError
        Not square, or ``n = 0`` (empty batches are fine); NaN/inf; too far from orthogonal; ``det R = −1``.

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2.

    Examples
    --------
    >>> import torch
    >>> from orthornn.nn.functional import rotation
    >>> R = rotation(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([1.0, 1.0, 0.0]))  # angle π/4
    >>> A = so_log(R)
    >>> bool(torch.equal(A, -A.mT)) and bool(torch.allclose(so_exp(A), R))
    True
    """
    return _Log.apply(_polar(R, "R"), True)


def so_power(R: Tensor, lam: Tensor | float) -> Tensor:
    r"""Real powers on SO(n), differentiable in ``R`` and ``lam`` (twin of :func:`orthornn.so_power`).

    .. math:: R^\lambda = \exp(\lambda\log R) = Z\,\operatorname{blockdiag}(M(\lambda\varphi_j), I)\,Z^\top,
        \qquad \frac{\partial R^\lambda}{\partial\lambda} = (\log R)\,R^\lambda.

    Parameters
    ----------
    R : Tensor, shape ``(..., n, n)``
        As for :func:`so_log`.
    lam : Tensor or float, shape broadcastable to ``R.shape[:-2]``
        Real exponents.

    Returns
    -------
    Tensor, shape ``(broadcast(R.shape[:-2], lam.shape), n, n)``

    Raises
    ------
    ShapeError, NotFiniteError, NotOrthogonalError, NoRealLogarithmError
        As for :func:`so_log`, or ``lam`` does not broadcast / is not finite.

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2: :math:`R_t = (R_{t-1})^\lambda\,
    \mathrm{Rotation}(\varepsilon_t, \tau_t)`.

    Examples
    --------
    >>> import torch
    >>> from orthornn.nn.functional import rotation
    >>> a, b = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]], dtype=torch.float64)
    >>> R = rotation(a, b)
    >>> half = so_power(R, 0.5)
    >>> bool(torch.allclose(half @ half, R)) and bool(torch.allclose(so_power(R, 1.0), R))
    True
    """
    U = _polar(R, "R")
    lam_t = torch.as_tensor(lam, dtype=R.dtype, device=R.device)
    if not bool(torch.isfinite(lam_t).all()):
        raise NotFiniteError("lam contains NaN or inf")
    try:
        batch = torch.broadcast_shapes(U.shape[:-2], lam_t.shape)
    except RuntimeError:
        raise ShapeError(
            f"lam of shape {tuple(lam_t.shape)} does not broadcast against the batch shape "
            f"{tuple(U.shape[:-2])} of R {tuple(R.shape)}"
        ) from None
    n = U.shape[-1]
    return _Power.apply(U.expand(*batch, n, n), lam_t.expand(batch), True)


def so_exp(A: Tensor) -> Tensor:
    r"""Exponential of skew-symmetric matrices, differentiable (twin of :func:`orthornn.so_exp`).

    .. math:: \exp\Bigl(\frac{A - A^\top}{2}\Bigr) \in SO(n)

    computed by ``torch.linalg.matrix_exp`` (stable autograd at repeated eigenvalues).

    Parameters
    ----------
    A : Tensor, shape ``(..., n, n)``
        Skew-symmetric within a relative defect ``‖A + Aᵀ‖_max / max(1, ‖A‖_max) ≤``
        :data:`orthornn._conventions.NEAR_GROUP_TOL` (loose, so ``gradcheck`` can perturb
        entries); the skew part is used.

    Returns
    -------
    Tensor, shape ``(..., n, n)``

    Raises
    ------
    ShapeError, NotFiniteError, NotSkewError
        Not square, or ``n = 0`` (as :func:`so_log`); NaN/inf; not skew (the defect is reported).

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2.

    Examples
    --------
    >>> import torch
    >>> A = torch.tensor([[0.0, -0.3, 0.1], [0.3, 0.0, -0.2], [-0.1, 0.2, 0.0]], dtype=torch.float64)
    >>> R = so_exp(A)
    >>> bool(torch.allclose(R.mT @ R, torch.eye(3, dtype=torch.float64))) and bool(torch.allclose(so_log(R), A))
    True
    """
    _check_square(A, "A")
    with torch.no_grad():
        scale = A.abs().amax(dim=(-2, -1)).clamp_min(1.0)
        defect = float(((A + A.mT).abs().amax(dim=(-2, -1)) / scale).max()) if A.numel() else 0.0
    if defect > NEAR_GROUP_TOL:
        raise NotSkewError(
            f"A is not skew-symmetric: max ‖A + Aᵀ‖_max/max(1, ‖A‖_max) = {defect:.3g} > tolerance {NEAR_GROUP_TOL:.3g}"
        )
    return torch.linalg.matrix_exp(0.5 * (A - A.mT))
