"""The Cayley route of torch so_log / so_power against the canonical-form route (``_factor``).

Every comparison runs both routes on the same orthogonal polar factor: ``_Route(U, lam, True)``
(Cayley transform + complex ``eigh``, per-matrix fallback near π) and ``_factor`` /
``_Power.apply(U, lam, False)`` (one real Schur form or the spectral route per matrix). Each test
also asserts which rows took which route, so a comparison cannot pass by both sides taking the
same path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from haar import haar as haar_so
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import ATOL
from torch.autograd import gradcheck

import orthornn
from orthornn import NoRealLogarithmError
from orthornn._conventions import CAYLEY_MARGIN
from orthornn.nn.functional import lie as fl
from orthornn.nn.functional import rotation, so_log, so_power
from orthornn.testing import dimensions, special_orthogonal_matrices

F64 = torch.float64


def haar(n: int, seed: int) -> torch.Tensor:
    """A seeded Haar rotation (tests/haar.py) as a float64 tensor."""
    return torch.tensor(haar_so(n, seed))


def conjugated_blocks(phis, n: int, seed: int) -> torch.Tensor:
    """``Q blockdiag(M(φ_1), …, I) Qᵀ`` for a Haar ``Q``."""
    R = torch.eye(n, dtype=F64)
    for j, p in enumerate(phis):
        c, s = np.cos(p), np.sin(p)
        R[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = torch.tensor([[c, -s], [s, c]])
    Q = haar(n, seed)
    return Q @ R @ Q.T


def rum_memory(n: int, steps: int, seed: int, lam: float = 1.0) -> torch.Tensor:
    """``R_t = R_{t−1}^lam · Rotation(a_t, b_t)`` (RUM §5.2; lam = 1: a product of Rotations, with
    eigenvalue 1 of multiplicity ≥ n − 2·steps). The powers use the canonical-form route."""
    g = torch.Generator().manual_seed(seed)
    R = torch.eye(n, dtype=F64)
    for _ in range(steps):
        a, b = torch.randn(2, n, generator=g, dtype=F64)
        if lam != 1.0:
            R = fl._Power.apply(R, torch.tensor(lam, dtype=F64), False)
        R = R @ rotation(a, b)
    return R


def routes(U: torch.Tensor, lam: torch.Tensor | None):
    """(Cayley route, old-route value) for a batch ``(B, n, n)``."""
    new = fl._Route(U, lam, True)
    old = fl._factor(U, lam)[0]
    return new, old


def assert_same(a: torch.Tensor, b: torch.Tensor, atol: float = ATOL["float64"]) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=atol)


# ----------------------------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(data=st.data())
def test_haar_mixed_batch_matches_the_canonical_route(data):
    # [R, R^s]: R Haar (eigenphases anywhere, often within CAYLEY_MARGIN of π for large n),
    # R^s with s ≤ 0.99 (eigenphases ≤ 0.99π: always the Cayley route)
    n = data.draw(dimensions(2, 64), label="n")
    R = torch.tensor(data.draw(special_orthogonal_matrices(n), label="R"))
    s = data.draw(st.floats(0.0, 0.99), label="s")
    lam = data.draw(st.floats(-2.0, 2.0), label="lam")
    U = torch.stack([R, torch.tensor(orthornn.so_power(R.numpy(), s))])
    for lam_t in (None, torch.tensor([lam, lam], dtype=F64)):
        new, old = routes(U, lam_t)
        assert 1 in new.fast.tolist()
        assert_same(new.value, old)
    L = fl._Route(U, None, True).value
    assert torch.equal(L, -L.mT)  # exactly skew on both routes


@pytest.mark.parametrize("n", [10, 50])
@pytest.mark.parametrize("lam", [1.0, 0.5])
def test_rum_memories_match_the_canonical_route(n, lam):
    # eigenvalue 1 of multiplicity ≥ n − 2·steps: any orthonormal basis of it is a valid V
    U = torch.stack([rum_memory(n, steps, seed=10 * n + steps, lam=lam) for steps in (1, 2, 3, 5, 12)])
    for lam_t in (None, torch.full((5,), 0.37, dtype=F64), torch.full((5,), -1.6, dtype=F64)):
        new, old = routes(U, lam_t)
        assert new.fast.numel() >= 3
        assert_same(new.value, old)


def test_identity_and_small_n():
    for n in (1, 2, 3, 7):
        U = torch.eye(n, dtype=F64)[None]
        new, old = routes(U, torch.tensor([0.3], dtype=F64))
        assert new.fast.tolist() == [0]
        assert torch.equal(old, U)
        assert_same(new.value, U, atol=1e-15)


@pytest.mark.parametrize("n", [6, 40])
def test_mixed_batch_routes_per_matrix(n):
    near = np.pi - 0.3 * CAYLEY_MARGIN  # inside the margin: fallback
    ok = np.pi - 3.0 * CAYLEY_MARGIN  # outside: Cayley
    U = torch.stack(
        [
            conjugated_blocks([2.0, -1.0], n, 1),
            conjugated_blocks([np.pi, 0.5], n, 2),  # eigenvalue −1: the branch convention
            conjugated_blocks([ok, 1.0], n, 3),
            conjugated_blocks([near, 0.2], n, 4),
            torch.eye(n, dtype=F64),
            torch.diag(torch.tensor([-1.0, -1.0] + [1.0] * (n - 2), dtype=F64)),  # I + U exactly singular
        ]
    )
    lam = torch.tensor([0.5, 0.5, -1.2, 1.7, 0.4, 0.5], dtype=F64)
    for lam_t in (None, lam):
        new, old = routes(U, lam_t)
        assert new.fast.tolist() == [0, 2, 4] and new.slow.tolist() == [1, 3, 5]
        assert torch.equal(new.value[new.slow], old[new.slow])  # the fallback is the old route, bit for bit
        assert_same(new.value, old)
    # the public functions take the same routes
    assert_same(so_power(U, lam), fl._factor(U, lam)[0])
    assert torch.equal(so_log(U)[1], fl._factor(fl._polar(U, "R")[1:2], None)[0][0])


@pytest.mark.parametrize("n", [3, 4, 33])
def test_det_minus_one_goes_to_the_fallback_and_raises(n):
    D = torch.eye(n, dtype=F64)
    D[0, 0] = -1.0
    flipped = haar(n, 5) @ D  # det −1, eigenvalue −1
    U = torch.stack([conjugated_blocks([1.0], n, 6), flipped])
    _, _, ok = fl._cayley(U)
    assert ok.tolist() == [True, False]
    with pytest.raises(NoRealLogarithmError, match="determinant −1"):
        so_log(U)
    with pytest.raises(NoRealLogarithmError, match="determinant −1"):
        so_power(U, 0.5)


def test_float32_is_factorised_in_float64():
    U = torch.stack([rum_memory(12, 3, seed=1), conjugated_blocks([np.pi - 1e-3, 0.5], 12, 2)])
    P = so_power(U.float(), torch.tensor(0.5))
    assert P.dtype == torch.float32
    assert_same(P, fl._factor(U, torch.tensor([0.5, 0.5], dtype=F64))[0].float(), atol=ATOL["float32"])


# ----------------------------------------------------------------------------------------------
# gradients
# ----------------------------------------------------------------------------------------------


def _fast(R: torch.Tensor) -> bool:
    return bool(fl._cayley(R.detach().reshape(-1, R.shape[-1], R.shape[-1]))[2].all())


def _lam(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=F64, requires_grad=True)


@pytest.mark.parametrize(
    "R",
    [
        pytest.param(conjugated_blocks([2.5, -1.0], 5, 1), id="generic-5"),
        pytest.param(torch.eye(6, dtype=F64), id="identity-6"),
        pytest.param(torch.eye(1, dtype=F64), id="identity-1"),
        pytest.param(rum_memory(10, 2, seed=4), id="rotation-product-10"),
        pytest.param(rum_memory(10, 6, seed=3, lam=0.5), id="rum-half-10"),
        pytest.param(conjugated_blocks([0.4, 0.4, 0.4], 7, 2), id="repeated-angle-7"),
    ],
)
def test_gradcheck_through_the_cayley_route(R):
    assert _fast(R)
    R = R.clone().requires_grad_()
    assert gradcheck(so_log, (R,))
    assert gradcheck(lambda R, lam: so_power(R, lam), (R, _lam(0.37)))
    assert gradcheck(lambda R, lam: so_power(R, lam), (R, _lam(-1.6)))


def test_gradcheck_mixed_batch():
    Rb = torch.stack([conjugated_blocks([1.0], 4, 1), conjugated_blocks([np.pi - 0.5 * CAYLEY_MARGIN], 4, 2)])
    assert fl._cayley(Rb)[2].tolist() == [True, False]
    Rb.requires_grad_()
    lam = torch.tensor([0.3, -0.7], dtype=F64, requires_grad=True)
    assert gradcheck(so_power, (Rb, lam))
    assert gradcheck(so_log, (Rb,))


@pytest.mark.parametrize(
    "R",
    [
        pytest.param(haar(16, 1), id="haar-16"),
        pytest.param(torch.stack([rum_memory(50, k, seed=k) for k in (1, 3, 8)]), id="rotation-products-50"),
        pytest.param(torch.stack([rum_memory(50, 20, seed=k, lam=0.5) for k in (1, 2)]), id="rum-half-50"),
        pytest.param(torch.stack([haar(40, 3), conjugated_blocks([np.pi - 1e-4, 2.0], 40, 4)]), id="mixed-40"),
    ],
)
def test_gradients_agree_with_the_canonical_route(R):
    n = R.shape[-1]
    g = torch.Generator().manual_seed(n)
    G = torch.randn(R.shape, generator=g, dtype=F64)
    lam = torch.full(R.shape[:-2], 0.5, dtype=F64)
    grads = []
    for cayley in (True, False):
        U = R.clone().requires_grad_()
        lam_ = lam.clone().requires_grad_()
        out = (G * fl._Power.apply(U, lam_, cayley)).sum() + (G * fl._Log.apply(U, cayley)).sum()
        grads.append(torch.autograd.grad(out, (U, lam_)))
    scale = float(grads[1][0].abs().max())
    assert_same(grads[0][0], grads[1][0], atol=1e-12 * max(1.0, scale))
    # grad λ = ⟨G, (log U) U^λ⟩: entrywise agreement δ of (log U) U^λ allows δ·Σ|G| (δ = 1e-14;
    # the values agree to a few 1e-15)
    lam_tol = 1e-14 * G.abs().sum(dim=(-2, -1))
    assert bool(((grads[0][1] - grads[1][1]).abs() <= lam_tol).all())
