"""Torch twins so_log / so_exp / so_power: agreement with numpy, gradcheck (generic and
degenerate spectra), the branch cut, errors, devices.

gradcheck runs in float64 on log∘polar (the torch functions are defined on a neighbourhood
of SO(n); see orthornn/nn/functional/lie.py), so its off-manifold perturbations are legal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from haar import haar as haar_so
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import ATOL
from torch.autograd import gradcheck

import orthornn
from orthornn import NoRealLogarithmError, NotFiniteError, NotOrthogonalError, NotSkewError, ShapeError
from orthornn.nn.functional import rotation, so_exp, so_log, so_power
from orthornn.testing import dimensions, special_orthogonal_matrices


def haar(n: int, seed: int) -> torch.Tensor:
    """A seeded Haar rotation (tests/haar.py) as a float64 tensor."""
    return torch.tensor(haar_so(n, seed))


def rotation_product(n: int, k: int, seed: int) -> torch.Tensor:
    """Product of k Rotations in R^n: eigenvalue 1 with multiplicity ≥ n − 2k (RUM λ = 1 memory)."""
    g = torch.Generator().manual_seed(seed)
    R = torch.eye(n, dtype=torch.float64)
    for _ in range(k):
        a, b = torch.randn(2, n, generator=g, dtype=torch.float64)
        R = R @ rotation(a, b)
    return R


def blocks(phis, n: int) -> torch.Tensor:
    R = torch.eye(n, dtype=torch.float64)
    for j, p in enumerate(phis):
        c, s = np.cos(p), np.sin(p)
        R[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = torch.tensor([[c, -s], [s, c]])
    return R


# ----------------------------------------------------------------------------------------------
# agreement with numpy (issue 3: 1e-12 in float64)
# ----------------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(R=special_orthogonal_matrices(dimensions(1, 40)), lam=st.floats(-2.0, 2.0))
def test_agrees_with_numpy(R, lam):
    Rt = torch.tensor(R)
    A = so_log(Rt)
    assert torch.equal(A, -A.mT)
    np.testing.assert_allclose(A.numpy(), orthornn.so_log(R), rtol=0, atol=ATOL["float64"])
    np.testing.assert_allclose(so_power(Rt, lam).numpy(), orthornn.so_power(R, lam), rtol=0, atol=ATOL["float64"])
    np.testing.assert_allclose(so_exp(A).numpy(), orthornn.so_exp(A.numpy()), rtol=0, atol=ATOL["float64"])


@pytest.mark.parametrize("phi", [np.pi, np.pi - 1e-10, np.pi - 1e-6])
@pytest.mark.parametrize("n", [4, 40])
def test_agrees_with_numpy_at_the_branch_cut(phi, n):
    Q = haar(n, n)
    R = Q @ blocks([phi, 0.5], n) @ Q.T
    np.testing.assert_allclose(so_log(R).numpy(), orthornn.so_log(R.numpy()), rtol=0, atol=ATOL["float64"])
    np.testing.assert_allclose(so_exp(so_log(R)).numpy(), R.numpy(), rtol=0, atol=1e-12 * n)


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize(("n", "delta"), [(128, 1e-12), (200, 1e-12), (200, 1e-13), (6, 1e-13)])
def test_near_pi_is_the_principal_log_in_every_dimension(n, delta, sign):
    """Issue 15: the shared snap rule took ±(π − 1e-12) to π from n = 128 on (log off by 0.5)."""
    Q = haar(n, 7)
    phis = [sign * (np.pi - delta), 0.8]
    R = Q @ blocks(phis, n) @ Q.T
    L = torch.zeros(n, n, dtype=torch.float64)
    for j, p in enumerate(phis):
        L[2 * j + 1, 2 * j], L[2 * j, 2 * j + 1] = p, -p
    torch.testing.assert_close(so_log(R), Q @ L @ Q.T, rtol=0, atol=ATOL["float64"])
    np.testing.assert_allclose(so_log(R).numpy(), orthornn.so_log(R.numpy()), rtol=0, atol=ATOL["float64"])
    half = Q @ blocks([0.5 * p for p in phis], n) @ Q.T
    torch.testing.assert_close(so_power(R, 0.5), half, rtol=0, atol=ATOL["float64"])
    Rg = R.clone().requires_grad_()
    (g,) = torch.autograd.grad(so_power(Rg, 0.5).square().sum(), Rg)
    assert torch.isfinite(g).all()


def test_batch_and_lam_broadcasting():
    Rb = torch.stack([haar(5, s) for s in range(3)])
    lam = torch.tensor([0.1, 0.5, -1.2])
    P = so_power(Rb, lam)
    for i in range(3):
        torch.testing.assert_close(P[i], so_power(Rb[i], lam[i]), rtol=0, atol=1e-14)
    assert so_power(Rb[0], lam).shape == (3, 5, 5)
    assert so_power(Rb, 0.5).shape == (3, 5, 5)


# ----------------------------------------------------------------------------------------------
# gradients
# ----------------------------------------------------------------------------------------------


def _lam(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize(
    "R",
    [
        pytest.param(haar(5, 1), id="generic-5"),
        pytest.param(torch.eye(6, dtype=torch.float64), id="identity-6"),
        pytest.param(torch.eye(1, dtype=torch.float64), id="identity-1"),
        pytest.param(rotation_product(10, 2, seed=4), id="rotation-product-10"),
        pytest.param(rotation_product(24, 3, seed=0), id="rotation-product-24"),
        pytest.param(blocks([0.4, 0.4, 0.4], 7), id="repeated-angle-7"),
        # n ≥ SPECTRAL_MIN_N: value and frames from the spectral route (cluster frames)
        pytest.param(rotation_product(40, 3, seed=5), id="rotation-product-40"),
        pytest.param(haar(36, 6), id="generic-36"),
        pytest.param(haar(34, 7) @ blocks([0.4, 0.4, 0.4, 2.9, 2.9], 34) @ haar(34, 7).T, id="repeated-angles-34"),
    ],
)
def test_gradcheck_log_and_power(R):
    R = R.clone().requires_grad_()
    fast = R.shape[-1] > 12  # fast_mode checks random projections uᵀJv of the full Jacobian
    assert gradcheck(so_log, (R,), fast_mode=fast)
    assert gradcheck(lambda R, lam: so_power(R, lam), (R, _lam(0.37)), fast_mode=fast)
    assert gradcheck(lambda R, lam: so_power(R, lam), (R, _lam(-1.6)), fast_mode=fast)


def test_gradcheck_batched_power_with_per_matrix_lam():
    Rb = torch.stack([haar(4, 2), rotation_product(4, 1, seed=3)]).requires_grad_()
    lam = torch.tensor([0.3, 1.0], requires_grad=True)
    assert gradcheck(so_power, (Rb, lam))
    assert gradcheck(lambda R, l0: so_power(R, l0), (Rb, _lam(0.8)))  # one λ broadcast to the batch


@pytest.mark.parametrize(
    "A",
    [
        pytest.param(torch.zeros(5, 5, dtype=torch.float64), id="zero"),
        pytest.param(so_log(haar(6, 4)), id="generic-6"),
        pytest.param(so_log(rotation_product(20, 2, seed=1)), id="rank-4-in-20"),
    ],
)
def test_gradcheck_exp(A):
    assert gradcheck(so_exp, (A.clone().requires_grad_(),), fast_mode=A.shape[-1] > 12)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_backward_adjoint_equals_the_dense_complex_eigenbasis_formula(n):
    # the O(n²) change of basis in _plane_adjoint against Re V (conj(F) ∘ (Vᴴ G V)) Vᴴ with V built densely
    from orthornn.nn.functional import lie as fl

    g = torch.Generator().manual_seed(n)
    Z = haar(n, n) if n > 1 else torch.eye(1, dtype=torch.float64)
    phi = torch.rand(n // 2, generator=g, dtype=torch.float64) * 6 - 3
    G = torch.randn(n, n, generator=g, dtype=torch.float64)
    m = n // 2
    X, Y = Z[:, 0 : 2 * m : 2], Z[:, 1 : 2 * m : 2]
    cols = [torch.complex(X, -Y) / 2**0.5, torch.complex(X, Y) / 2**0.5]
    if n % 2:
        cols.append(torch.complex(Z[:, -1:], torch.zeros_like(Z[:, -1:])))
    V = torch.cat(cols, dim=-1)
    torch.testing.assert_close(V.mH @ V, torch.eye(n, dtype=V.dtype), rtol=0, atol=1e-14)
    for lam in (None, torch.tensor(0.3, dtype=torch.float64)):
        phases = torch.cat([phi, -phi] + ([phi.new_zeros(1)] if n % 2 else []))  # the columns of V
        F = fl._divided_pairs(phases, phases, lam, 1e-16)
        dense = (V @ (F.conj() * (V.mH @ G.to(V.dtype) @ V)) @ V.mH).real
        blockwise = Z @ fl._plane_adjoint(Z.mT @ G @ Z, phi, lam, 1e-16) @ Z.mT
        torch.testing.assert_close(blockwise, dense, rtol=0, atol=1e-13)
        # the Cayley route's adjoint takes the complex basis V itself: the same map
        torch.testing.assert_close(fl._adjoint_eigen(V, F, G), dense, rtol=0, atol=1e-13)


def _sinc_divided(x, y, lam, eps):
    """The module docstring's closed form of f[e^{ix}, e^{iy}], written independently."""
    sigma, delta = 0.5 * (x[..., :, None] + y[..., None, :]), 0.5 * (x[..., :, None] - y[..., None, :])
    den = torch.sinc(delta / torch.pi).clamp_min(eps)
    if lam is None:
        return torch.polar(1.0 / den, -sigma)
    lam_ = lam[..., None, None]
    return torch.polar(lam_ * torch.sinc(lam_ * delta / torch.pi) / den, (lam_ - 1.0) * sigma)


@pytest.mark.parametrize("kind", ["generic", "clustered", "near_zero", "near_pi"])
def test_divided_differences_equal_the_closed_form(kind):
    # the outer-product form with its series near equal angles and the clamp at the branch cut
    from orthornn.nn.functional import lie as fl

    g = torch.Generator().manual_seed(3)
    m = 6
    x = {
        "generic": (torch.rand(3, m, generator=g, dtype=torch.float64) * 2 - 1) * math.pi,
        "clustered": 0.7 + 1e-5 * torch.randn(3, m, generator=g, dtype=torch.float64),
        "near_zero": 1e-4 * torch.randn(3, m, generator=g, dtype=torch.float64),
        "near_pi": math.pi - 1e-6 * torch.rand(3, m, generator=g, dtype=torch.float64),
    }[kind]
    y = torch.cat([x, -x], -1)
    for lam in (None, torch.rand(3, generator=g, dtype=torch.float64) * 4 - 2):
        got, want = fl._divided_pairs(x, y, lam, 2.2e-16), _sinc_divided(x, y, lam, 2.2e-16)
        assert float(((got - want).abs() / want.abs().clamp_min(1)).max()) < 1e-12


def test_lam_gradient_is_log_times_power():
    R = haar(6, 11)
    lam = _lam(0.7)
    P = so_power(R, lam)
    G = torch.randn(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    (grad,) = torch.autograd.grad((G * P).sum(), lam)
    expected = (G * (so_log(R) @ so_power(R, 0.7))).sum()
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gap", [1e-1, 1e-3, 1e-6, 1e-10, 0.0])
def test_gradients_finite_near_the_branch_cut(gap):
    Q = haar(6, 9)
    R = (Q @ blocks([np.pi - gap, 1.0], 6) @ Q.T).requires_grad_()
    for out in (so_log(R), so_power(R, 0.5)):
        (g,) = torch.autograd.grad(out.square().sum(), R)
        assert torch.isfinite(g).all()


def test_float32_sweep_towards_pi_has_no_nan():
    Q = haar(8, 5)
    for k in range(1, 12):
        R = (Q @ blocks([np.pi - 10.0**-k, 0.3], 8) @ Q.T).float().requires_grad_()
        L = so_log(R)
        P = so_power(R, torch.tensor(0.5))
        (g,) = torch.autograd.grad(L.sum() + P.sum(), R)
        assert L.dtype == P.dtype == g.dtype == torch.float32
        assert torch.isfinite(L).all() and torch.isfinite(P).all() and torch.isfinite(g).all()


# ----------------------------------------------------------------------------------------------
# errors and devices
# ----------------------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(ShapeError, match="square"):
        so_log(torch.zeros(2, 3))
    with pytest.raises(NotFiniteError):
        so_log(torch.full((3, 3), float("nan")))
    with pytest.raises(NotOrthogonalError, match="> tolerance"):
        so_log(2 * torch.eye(3))
    with pytest.raises(NoRealLogarithmError, match="determinant −1"):
        so_log(torch.diag(torch.tensor([1.0, -1.0, 1.0])))
    with pytest.raises(NoRealLogarithmError):
        so_power(torch.diag(torch.tensor([1.0, -1.0, 1.0])), 0.5)
    with pytest.raises(ShapeError, match="does not broadcast"):
        so_power(torch.eye(3).expand(2, 3, 3), torch.ones(3))
    with pytest.raises(NotFiniteError, match="lam"):
        so_power(torch.eye(3), float("inf"))
    with pytest.raises(NotSkewError, match="> tolerance"):
        so_exp(torch.eye(3))


@pytest.mark.parametrize("f", [so_log, so_exp, lambda R: so_power(R, 0.5)])
def test_one_rule_for_n_zero_and_empty_batches(f):
    """As the numpy functions: n = 0 refused, an empty batch of n×n matrices accepted."""
    for shape in [(0, 0), (3, 0, 0)]:
        with pytest.raises(ShapeError, match="n ≥ 1"):
            f(torch.empty(shape))
    assert f(torch.empty(0, 4, 4)).shape == (0, 4, 4)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    R = rotation_product(16, 3, seed=2)
    Rc = R.cuda().requires_grad_()
    lam = torch.tensor(0.4, device="cuda", requires_grad=True)
    P = so_power(Rc, lam)
    assert P.device.type == "cuda"
    P.square().sum().backward()
    torch.testing.assert_close(P.cpu(), so_power(R, 0.4), rtol=0, atol=1e-12)
    assert Rc.grad.device.type == "cuda" and torch.isfinite(Rc.grad).all()
    torch.testing.assert_close(so_log(R.cuda()).cpu(), so_log(R), rtol=0, atol=1e-12)
