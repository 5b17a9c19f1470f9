"""The torch EUNN layer: agreement with the numpy mesh (float64, 1e-12), exact reproduction of a
decomposed matrix, gradcheck, orthogonality after optimiser steps, layouts, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL, EUNN_ROUNDTRIP_PER_N, ORTHO_PER_N

from orthornn import GivensMesh, apply_mesh, givens_compose, givens_decompose
from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn import EUNN
from orthornn.nn.functional import givens_mesh
from orthornn.testing import orthogonal_matrices

TOL = ATOL["float64"]


def ortho_defect(u: torch.Tensor) -> float:
    return float((u.T @ u - torch.eye(u.shape[0], dtype=u.dtype)).abs().max())


@given(
    n=st.integers(1, 9),
    capacity=st.integers(0, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_forward_equals_numpy_mesh(n, capacity, seed):
    torch.manual_seed(seed % 2**31)
    layer = EUNN(n, capacity=capacity)
    x = torch.randn(3, 2, n)
    mesh = layer.to_mesh()
    np.testing.assert_allclose(layer(x).detach().numpy(), apply_mesh(mesh, x.numpy()), atol=TOL, rtol=0)
    np.testing.assert_allclose(layer.matrix().detach().numpy(), givens_compose(mesh), atol=TOL, rtol=0)
    np.testing.assert_allclose(layer(layer(x), transpose=True).detach().numpy(), x.numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("mesh_name", ["clements", "reck"])
@given(u=orthogonal_matrices(st.integers(1, 10)))
def test_from_mesh_reproduces_the_matrix(mesh_name, u):
    mesh = givens_decompose(u, mesh_name)
    layer = EUNN.from_mesh(mesh)
    n = u.shape[0]
    if mesh_name == "clements":
        assert layer.layout == "tunable" and layer.capacity == n  # capacity n suffices
    err = float((layer.matrix().detach() - torch.from_numpy(u)).abs().max())
    assert err <= EUNN_ROUNDTRIP_PER_N["float64"] * n
    x = torch.randn(5, n)
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() @ u.T, atol=TOL * n, rtol=0)


def test_from_mesh_large_odd():
    from scipy.stats import ortho_group

    u = ortho_group.rvs(33, random_state=7)
    layer = EUNN.from_mesh(givens_decompose(u))
    assert float((layer.matrix().detach() - torch.from_numpy(u)).abs().max()) <= EUNN_ROUNDTRIP_PER_N["float64"] * 33


def test_fft_layout_matches_numpy():
    torch.manual_seed(0)
    layer = EUNN(8, layout="fft")
    assert layer.capacity == 3 and layer.phases.numel() == 12
    np.testing.assert_allclose(layer.matrix().detach().numpy(), givens_compose(layer.to_mesh()), atol=TOL, rtol=0)


def test_fft_needs_power_of_two():
    with pytest.raises(OrthornnError, match="power of two"):
        EUNN(6, layout="fft")
    with pytest.raises(OrthornnError, match="valid layouts"):
        EUNN(6, layout="butterfly")


@pytest.mark.parametrize(
    ("n", "capacity", "layout"), [(1, 1, "tunable"), (5, 4, "tunable"), (6, 3, "tunable"), (4, None, "fft")]
)
def test_gradcheck(n, capacity, layout):
    torch.manual_seed(1)
    layer = EUNN(n, capacity=capacity, layout=layout)
    with torch.no_grad():
        layer.signs[0] = -1.0
    x = torch.randn(2, n, requires_grad=True)
    phases = layer.phases.detach().clone().requires_grad_(True)

    def f(x, phases):
        return givens_mesh(x, phases, layer.pairs, layer.signs)

    assert torch.autograd.gradcheck(f, (x, phases))
    assert torch.autograd.gradgradcheck(f, (x, phases))
    assert torch.autograd.gradcheck(
        lambda x, p: givens_mesh(x, p, layer.pairs, layer.signs, transpose=True), (x, phases)
    )


def test_batched_phases_broadcast():
    torch.manual_seed(2)
    pairs = EUNN(4, capacity=2).pairs
    phases = torch.randn(3, 1, 3)
    x = torch.randn(3, 5, 4)
    y = givens_mesh(x, phases, pairs)
    for b in range(3):
        np.testing.assert_allclose(y[b].numpy(), givens_mesh(x[b], phases[b, 0], pairs).numpy(), atol=TOL, rtol=0)


def test_stays_orthogonal_after_adam_steps():
    torch.manual_seed(3)
    n = 12
    layer = EUNN(n, capacity=6)
    opt = torch.optim.Adam(layer.parameters(), lr=0.3)
    x, target = torch.randn(16, n), torch.randn(16, n)
    before = layer.phases.detach().clone()
    for _ in range(5):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).sum()
        loss.backward()
        opt.step()
    assert not torch.allclose(layer.phases, before)  # it did train
    assert ortho_defect(layer.matrix().detach()) <= ORTHO_PER_N["float64"] * n * 10
    assert ortho_defect(layer.matrix().detach()) <= 1e-12


def test_device_and_dtype_arguments():
    layer = EUNN(5, device="cpu", dtype=torch.float32)
    assert layer.phases.dtype == torch.float32 and layer.phases.device.type == "cpu"
    y = layer(torch.randn(2, 5, dtype=torch.float32))
    assert y.dtype == torch.float32
    m = layer.to(torch.float64)
    assert m.phases.dtype == torch.float64 and m.sgn.dtype == torch.float64


@pytest.mark.gpu
def test_runs_on_cuda():
    layer = EUNN(7, capacity=5, device="cuda")
    x = torch.randn(3, 7, device="cuda")
    cpu = EUNN(7, capacity=5)
    cpu.load_state_dict({k: v.cpu() for k, v in layer.state_dict().items()})
    np.testing.assert_allclose(
        layer(x).cpu().detach().numpy(), cpu(x.cpu()).detach().numpy(), atol=ATOL["float32"] * 10
    )


def test_no_dense_matrix_in_forward():
    """O(n·L): the forward pass only touches (batch, n) tensors (checked on a large n, where a
    dense n×n product per layer would dominate)."""
    layer = EUNN(4096, capacity=2)
    x = torch.randn(2, 4096)
    y = layer(x)
    assert y.shape == x.shape
    assert torch.allclose(y.norm(dim=-1), x.norm(dim=-1))


def test_errors():
    layer = EUNN(4)
    with pytest.raises(ShapeError, match=r"\(\.\.\., 4\)"):
        layer(torch.randn(3, 5))
    with pytest.raises(OrthornnError, match="positive integer"):
        EUNN(0)
    with pytest.raises(ShapeError, match="phases"):
        givens_mesh(torch.randn(4), torch.randn(5), layer.pairs)
    with pytest.raises(OrthornnError, match="disjoint"):
        givens_mesh(torch.randn(3), torch.randn(2), [[(0, 1), (1, 2)]])
    with pytest.raises(OrthornnError, match="disagrees"):
        EUNN(3, capacity=2, pairs=[[(0, 1)]])
    custom = EUNN(4, layout="custom", pairs=[[(0, 3)], [(1, 2), (0, 3)]])
    np.testing.assert_allclose(custom.matrix().detach().numpy(), givens_compose(custom.to_mesh()), atol=TOL, rtol=0)
    batch = GivensMesh.from_layout(3, "tunable", np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="single mesh"):
        EUNN.from_mesh(batch)
