"""Tests of the torch twins orthornn.nn.functional.rotation / rotate.

Oracles: the numpy layer (float64, 1e-12), autograd.gradcheck / gradgradcheck (finite
differences) at generic, nearly collinear and exactly parallel pairs, and the group identities.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rotation_reference import canonical_antiparallel, cos_sin
from tolerances import ATOL, ORTHO_PER_N, near_pi_atol

import orthornn
from orthornn import OrthornnError, ShapeError
from orthornn.nn.functional import rotate, rotation
from orthornn.testing import assert_orthogonal, dimensions, vector_pairs, vectors

DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
dtypes = pytest.mark.parametrize("dt", list(DTYPES))
devices = pytest.mark.parametrize("device", DEVICES)


@dtypes
@given(data=st.data())
def test_matches_numpy(dt, data):
    a, b = data.draw(vector_pairs(dimensions(2, 64), dtype=DTYPES[dt][0]))
    h = data.draw(vectors(a.size, dtype=DTYPES[dt][0], max_exponent=0))
    ta, tb, th = (torch.from_numpy(x) for x in (a, b, h))
    R = rotation(ta, tb)
    assert R.dtype == DTYPES[dt][1]
    c, s = cos_sin(a, b)
    atol = near_pi_atol(dt, c, s)  # both layers run one algorithm, summing in different orders
    np.testing.assert_allclose(R.numpy(), orthornn.rotation(a, b), rtol=0, atol=atol)
    np.testing.assert_allclose(rotate(ta, tb, th).numpy(), orthornn.rotate(a, b, h), rtol=0, atol=atol)
    np.testing.assert_allclose(rotate(ta, tb, th).numpy(), (R @ th).numpy(), rtol=0, atol=ATOL[dt])
    assert_orthogonal(R, atol=ORTHO_PER_N[dt] * (a.size if dt == "float64" else 1), special=True)


def _pair(kind: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a, d = torch.randn(2, 3, n, generator=g, dtype=torch.float64)
    if kind == "generic":
        return a, d
    if kind == "nearly_collinear":  # 1 − c ≈ 1e-8
        d = d - (d * a).sum(-1, keepdim=True) / (a * a).sum(-1, keepdim=True) * a
        d = d / d.norm(dim=-1, keepdim=True) * a.norm(dim=-1, keepdim=True)
        return a, 3.0 * (a + 1.4e-4 * d)
    if kind == "parallel":
        return a, 2.5 * a
    if kind == "same":
        return a, a.clone()
    if kind == "obtuse":
        return a, -a + 0.5 * d
    raise ValueError(kind)


GRAD_KINDS = ["generic", "nearly_collinear", "parallel", "same", "obtuse"]


@pytest.mark.parametrize("kind", GRAD_KINDS)
@pytest.mark.parametrize("n", [2, 5])
def test_gradcheck_rotation(kind, n):
    a, b = _pair(kind, n, seed=n)
    if kind == "nearly_collinear":
        c, _ = cos_sin(a[0].numpy(), b[0].numpy())
        assert 1e-9 < 1 - c < 1e-7
    a.requires_grad_(True)
    b.requires_grad_(True)
    assert torch.autograd.gradcheck(rotation, (a, b))
    assert torch.autograd.gradgradcheck(rotation, (a, b))


@pytest.mark.parametrize("kind", GRAD_KINDS)
def test_gradcheck_rotate(kind):
    a, b = _pair(kind, 4, seed=7)
    h = torch.randn(3, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    args = tuple(x.requires_grad_(True) for x in (a, b, h))
    assert torch.autograd.gradcheck(rotate, args)
    assert torch.autograd.gradgradcheck(rotate, args)


def _finite_grads(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    a = a.detach().requires_grad_(True)
    b = b.detach().requires_grad_(True)
    R = rotation(a, b)
    weights = torch.randn(R.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(R)
    ga, gb = torch.autograd.grad((R * weights).sum(), (a, b))
    return R, ga, gb


@pytest.mark.parametrize("exponent", [-1, -3, -5, -7, -9, -12])
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["nearly_collinear", "nearly_antiparallel"])
def test_float32_sweep_has_no_nan_or_inf(exponent, sign):
    g = torch.Generator().manual_seed(abs(exponent))
    a, d = torch.randn(2, 500, 16, generator=g, dtype=torch.float32)
    b = sign * 2.0 * a + 10.0**exponent * d
    R, ga, gb = _finite_grads(a, b)
    assert torch.isfinite(R).all() and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    assert_orthogonal(R, atol=ORTHO_PER_N["float32"], special=True)


def test_degenerate_points_have_finite_gradients():
    a = torch.tensor([[1.0, -2.0, 0.5], [1.0, -2.0, 0.5], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = torch.tensor([[2.0, -4.0, 1.0], [-1.0, 2.0, -0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for f, args in ((rotation, (a, b)), (rotate, (a, b, torch.ones(5, 3)))):
        leaves = [x.clone().requires_grad_(True) for x in args]
        out = f(*leaves)
        grads = torch.autograd.grad(out.sum(), leaves)
        assert all(torch.isfinite(gr).all() for gr in grads)
    R = rotation(a, b)
    eye = torch.eye(3)
    torch.testing.assert_close(R[0], eye, rtol=0, atol=ATOL["float64"])  # parallel
    torch.testing.assert_close(
        R[1], torch.from_numpy(canonical_antiparallel(a[1].numpy())), rtol=0, atol=ATOL["float64"]
    )
    for i in (2, 3, 4):  # a zero vector: the identity, never a projection
        assert torch.equal(R[i], eye)
    assert_orthogonal(R, special=True)


def test_gradient_at_parallel_is_the_generator_derivative():
    # d/dt R(a, a + t d) at t = 0 is (d̂⊥ âᵀ − â d̂⊥ᵀ)·|d⊥|/|a| (K to first order): not zero
    a = torch.tensor([3.0, 0.0, 0.0])
    d = torch.tensor([0.0, 1.0, 0.0])
    t = torch.zeros((), requires_grad=True)
    R = rotation(a, a + t * d)
    (dR,) = torch.autograd.grad(R[1, 0], t)
    torch.testing.assert_close(dR, torch.tensor(1.0 / 3.0), rtol=0, atol=ATOL["float64"])


@devices
@dtypes
def test_device_batched_and_broadcast(device, dt):
    g = torch.Generator().manual_seed(3)
    a = torch.randn(4, 1, 6, generator=g, dtype=DTYPES[dt][1]).to(device)
    b = torch.randn(3, 6, generator=g, dtype=DTYPES[dt][1]).to(device)
    h = torch.randn(6, generator=g, dtype=DTYPES[dt][1]).to(device)
    R = rotation(a, b)
    assert R.shape == (4, 3, 6, 6) and R.device.type == device and R.dtype == DTYPES[dt][1]
    Rh = rotate(a, b, h)
    assert Rh.shape == (4, 3, 6) and Rh.device.type == device
    torch.testing.assert_close(Rh, (R @ h[:, None])[..., 0], rtol=0, atol=ATOL[dt])
    want = orthornn.rotation(a.cpu().numpy(), b.cpu().numpy())
    np.testing.assert_allclose(R.cpu().numpy(), want, rtol=0, atol=ATOL[dt])
    assert_orthogonal(R, atol=ORTHO_PER_N[dt] * (6 if dt == "float64" else 1), special=True)


@devices
def test_device_gradients_and_degenerate_cases(device):
    a = torch.tensor([[1.0, 2.0, 2.0], [1.0, 2.0, 2.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0]], device=device)
    b = torch.tensor([[0.0, 3.0, -4.0], [2.0, 4.0, 4.0], [-1.0, -2.0, -2.0], [1.0, 0.0, 0.0]], device=device)
    a.requires_grad_(True)
    R = rotation(a, b)
    (ga,) = torch.autograd.grad(R.sum(), a)
    assert torch.isfinite(ga).all() and ga.device.type == device
    want = orthornn.rotation(a.detach().cpu().numpy(), b.cpu().numpy())
    np.testing.assert_allclose(R.detach().cpu().numpy(), want, rtol=0, atol=ATOL["float64"])


def test_dtype_promotion():
    a32 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)
    b64 = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64)
    assert rotation(a32, a32.flip(0)).dtype == torch.float32
    assert rotation(a32, b64).dtype == torch.float64
    assert rotate(a32, a32.flip(0), a32).dtype == torch.float32
    assert rotation(torch.tensor([1, 2]), torch.tensor([2, 1])).dtype == torch.get_default_dtype()


def test_dimension_one():
    assert torch.equal(rotation(torch.tensor([2.0]), torch.tensor([3.0])), torch.ones(1, 1))
    with pytest.raises(OrthornnError, match="SO\\(1\\)"):
        rotation(torch.tensor([2.0]), torch.tensor([-3.0]))


def test_wrong_shapes_raise_naming_the_shapes():
    with pytest.raises(ShapeError, match=r"a \(3,\), b \(4,\)"):
        rotation(torch.ones(3), torch.ones(4))
    with pytest.raises(ShapeError, match=r"a \(2, 3\), b \(5, 3\)"):
        rotation(torch.ones(2, 3), torch.ones(5, 3))
    with pytest.raises(ShapeError, match=r"h \(2,\)"):
        rotate(torch.ones(3), torch.ones(3), torch.ones(2))
    with pytest.raises(ShapeError, match="scalar"):
        rotation(torch.tensor(1.0), torch.ones(3))
    with pytest.raises(ShapeError, match="n ≥ 1"):
        rotation(torch.ones(2, 0), torch.ones(2, 0))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        rotation(np.ones(3), torch.ones(3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_input_is_never_a_finite_answer(bad):
    # documented: torch inputs are not checked (no device sync); NaN/inf propagate visibly
    a = torch.tensor([[1.0, bad, 3.0]])
    assert not torch.isfinite(rotation(a, torch.ones(1, 3))).all()
    assert not torch.isfinite(rotation(torch.ones(1, 3), a)).all()
    assert not torch.isfinite(rotate(torch.ones(3), torch.arange(3.0), a)).all()


def test_vmap_matches_the_batched_call():
    g = torch.Generator().manual_seed(5)
    a, b, h = torch.randn(3, 4, 5, generator=g)
    b[1] = -3 * a[1]  # an antiparallel row: its branch must survive vmap too
    torch.testing.assert_close(torch.func.vmap(rotation)(a, b), rotation(a, b), rtol=0, atol=ATOL["float64"])
    torch.testing.assert_close(torch.func.vmap(rotate)(a, b, h), rotate(a, b, h), rtol=0, atol=ATOL["float64"])
