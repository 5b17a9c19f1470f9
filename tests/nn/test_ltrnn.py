"""LT-RNN (Henaff §2): initialisations, forward against numpy, exact adding solution, pooling,
clipping, soft orthogonality penalty, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from tolerances import ATOL

from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn.ltrnn import INITS, LTRNN, L2PoolReadout, init_transition, l2_pool, linear_recurrence

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("n", [1, 6, 7])
def test_every_init_is_orthogonal(name, n):
    V = init_transition(name, n, generator=torch.Generator().manual_seed(n))
    torch.testing.assert_close(V.T @ V, torch.eye(n), atol=n * 1e-14, rtol=0)


def test_orthogonal_init_is_the_nearest_orthogonal_matrix_of_a_gaussian():
    n = 9
    V = init_transition("orthogonal", n, generator=torch.Generator().manual_seed(0))
    Z = torch.randn(n, n, generator=torch.Generator().manual_seed(0)) * n ** (-0.25)
    polar_u, _ = scipy.linalg.polar(Z.numpy())  # independent: polar decomposition
    np.testing.assert_allclose(V.numpy(), polar_u, atol=1e-12)


def test_torus_init_is_block_rotations_with_angles_in_range():
    n = 7
    V = init_transition("torus", n, generator=torch.Generator().manual_seed(1))
    for j in range(n // 2):
        blk = V[2 * j : 2 * j + 2, 2 * j : 2 * j + 2]
        phi = torch.atan2(blk[1, 0], blk[0, 0])
        assert -np.pi <= phi <= np.pi and torch.equal(blk[0, 1], -blk[1, 0])
    off = V.clone()
    for j in range(n // 2):
        off[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = 0
    assert float(off[-1, -1]) == 1.0
    off[-1, -1] = 0
    assert torch.count_nonzero(off) == 0


def test_unknown_init_and_bad_arguments():
    with pytest.raises(OrthornnError, match=r"unknown init 'foo'.*haar"):
        init_transition("foo", 3)
    with pytest.raises(OrthornnError, match="activation"):
        LTRNN(2, 3, activation="gelu")
    with pytest.raises(OrthornnError, match="pool"):
        LTRNN(2, 3, 4, pool=2)
    with pytest.raises(ShapeError, match="chain"):
        LTRNN.from_explicit(np.ones((3, 2)), np.eye(3), np.ones((1, 4)))
    with pytest.raises(ShapeError):
        LTRNN(2, 3)(torch.zeros(2, 3))


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh"])
def test_forward_matches_numpy_loop(activation, rng):
    B, T, nx, n, k = 3, 11, 4, 6, 2
    rnn = LTRNN(nx, n, 5, init="haar", activation=activation, pool=k, clip=2.5)
    x = rng.normal(size=(B, T, nx))
    y, hT = rnn(torch.as_tensor(x))
    U, b, V = (p.detach().numpy() for p in (rnn.weight_in, rnn.bias, rnn.weight_rec))
    WI, WP, c = (p.detach().numpy() for p in (rnn.readout.weight, rnn.readout.weight_pool, rnn.readout.bias))
    sig = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
    h = np.zeros((B, n))
    ys = []
    for t in range(T):
        h = sig(x[:, t] @ U.T + b) + h @ V.T
        norm = np.linalg.norm(h, axis=-1, keepdims=True)
        h = np.where(norm > 2.5, h * 2.5 / norm, h)
        pooled = np.sqrt((h.reshape(B, n // k, k) ** 2).sum(-1))
        ys.append(h @ WI.T + pooled @ WP.T + c)
    np.testing.assert_allclose(y.detach().numpy(), np.stack(ys, 1), atol=ATOL["float64"])
    np.testing.assert_allclose(hT.detach().numpy(), h, atol=ATOL["float64"])


def test_explicit_adding_solution_is_exact(rng):
    """Henaff §3.2: U = [1 1], b = −1, V = 1, W = 1 with ReLU adds the two marked values."""
    B, T = 64, 400
    values = rng.uniform(size=(B, T))
    markers = np.zeros((B, T))
    first = rng.integers(0, T // 2, size=B)
    second = rng.integers(T // 2, T, size=B)
    markers[np.arange(B), first] = markers[np.arange(B), second] = 1
    x = torch.as_tensor(np.stack([values, markers], -1))
    rnn = LTRNN.from_explicit([[1.0, 1.0]], [[1.0]], [[1.0]], b=[-1.0], activation="relu")
    y, _ = rnn(x)
    target = values[np.arange(B), first] + values[np.arange(B), second]
    assert np.abs(y[:, -1, 0].detach().numpy() - target).max() <= 1e-12


def test_l2_pool_zero_block_has_finite_gradient():
    h = torch.tensor([0.0, 0.0, 3.0, 4.0], requires_grad=True)
    l2_pool(h, 2).sum().backward()
    torch.testing.assert_close(h.grad, torch.tensor([0.0, 0.0, 0.6, 0.8]))


def test_pooling_readout_with_zero_pool_weights_is_linear():
    r = L2PoolReadout(6, 3, pool=3)
    with torch.no_grad():
        r.weight_pool.zero_()
    h = torch.randn(4, 6)
    torch.testing.assert_close(r(h), h @ r.weight.T + r.bias)


def test_activation_clipping_bounds_the_state():
    torch.manual_seed(0)
    rnn = LTRNN(2, 5, init="identity", clip=3.0)
    with torch.no_grad():
        rnn.weight_rec.mul_(1.5)  # exploding transition
    with torch.no_grad():
        hs, _ = rnn(torch.randn(2, 40, 2))
    assert float(hs.norm(dim=-1).max()) <= 3.0 + 1e-12
    _, h = rnn(torch.zeros(2, 40, 2), torch.randn(2, 5))  # no input: grows by 1.5 per step
    torch.testing.assert_close(h.norm(dim=-1), torch.full((2,), 3.0))


def test_orthogonality_penalty_is_zero_on_orthogonal_and_decreases_by_gradient_step():
    torch.manual_seed(1)
    rnn = LTRNN(2, 8, init="orthogonal")
    assert float(rnn.orthogonality_penalty().detach()) < 1e-24
    with torch.no_grad():
        rnn.weight_rec.add_(0.1 * torch.randn(8, 8))
    g = torch.Generator().manual_seed(3)
    before = rnn.orthogonality_penalty(200, generator=g)
    before.backward()
    with torch.no_grad():
        rnn.weight_rec.sub_(0.05 * rnn.weight_rec.grad)
    after = rnn.orthogonality_penalty(200, generator=torch.Generator().manual_seed(3))
    assert 0 < float(after.detach()) < float(before.detach())


def test_chunked_state_equals_one_shot():
    torch.manual_seed(2)
    rnn = LTRNN(3, 4, 2, init="torus")
    x = torch.randn(2, 10, 3)
    y, h = rnn(x)
    y1, h1 = rnn(x[:, :6])
    y2, h2 = rnn(x[:, 6:], h1)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(h2, h, atol=ATOL["float64"], rtol=0)


def test_gradcheck_ltrnn_with_pooling_and_clipping():
    torch.manual_seed(3)
    rnn = LTRNN(2, 4, 3, activation="tanh", pool=2, clip=1.5)
    names = [n for n, _ in rnn.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in rnn.parameters()]
    x = torch.randn(2, 5, 2, requires_grad=True)

    def f(x, *ps):
        return torch.func.functional_call(rnn, dict(zip(names, ps, strict=True)), (x,))[0]

    assert torch.autograd.gradcheck(f, (x, *params))


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_device(device):
    rnn = LTRNN(3, 4, 2, pool=2, device=device, dtype=torch.float32)
    y, _h = rnn(torch.randn(2, 5, 3, device=device, dtype=torch.float32))
    assert y.device.type == device and y.dtype == torch.float32 and y.shape == (2, 5, 2)


def test_from_explicit_reproduces_henaffs_copy_solution(rng):
    """Oracle: the torch LT-RNN loaded with the explicit construction equals the numpy forward
    and recalls the symbols."""
    from orthornn.henaff import copy_solution, ltrnn_forward
    from orthornn.tasks import CopyTask

    task = CopyTask(T=60, S=5, K=8)
    sol = copy_solution(K=8, S=5, T=60, d=64, rng=rng)
    ids, targets = task.sample(32, rng)
    rnn = LTRNN.from_explicit(sol.U, sol.V, sol.W)
    x = torch.nn.functional.one_hot(torch.as_tensor(ids), task.vocab_size).double()
    y, _ = rnn(x)
    ref = ltrnn_forward(ids, sol.U, sol.V, sol.W).outputs
    scale = float(np.abs(ref).max())
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=0, atol=ATOL["float64"] * scale)
    acc = task.accuracy(y.detach().numpy()[..., : task.n_classes], targets)
    assert acc.recall > 0.95


def test_from_explicit_reproduces_henaffs_adding_solution(rng):
    from orthornn.henaff import adding_solution
    from orthornn.tasks import AddingTask

    sol = adding_solution()
    x, target = AddingTask(T=300).sample(50, rng)
    rnn = LTRNN.from_explicit(sol.U, sol.V, sol.W, b=sol.b, activation="relu")
    y, _ = rnn(torch.as_tensor(x))
    assert np.abs(y[:, -1, 0].detach().numpy() - target).max() <= 1e-12


def _autograd_loop(a, V, h0):
    """Reference: the per-step autograd recurrence h_t = a_t + h_{t−1} Vᵀ over time-major a."""
    h = torch.zeros_like(a[0]) if h0 is None else h0
    hs = []
    for a_t in a.unbind(0):
        h = a_t + h @ V.T
        hs.append(h)
    return torch.stack(hs)


@pytest.mark.parametrize("with_h0", [False, True])
def test_linear_recurrence_matches_the_autograd_loop(with_h0):
    torch.manual_seed(4)
    T, B, n = 9, 3, 5
    a = torch.randn(T, B, n, requires_grad=True)
    V = (init_transition("haar", n) + 0.1 * torch.randn(n, n)).requires_grad_()
    h0 = torch.randn(B, n, requires_grad=True) if with_h0 else None
    w = torch.randn(T, B, n)  # a generic linear functional of every state
    inputs = [a, V] + ([h0] if with_h0 else [])
    H = linear_recurrence(a, V, h0)
    got = torch.autograd.grad((H * w).sum() + H[-1].square().sum(), inputs)
    ref_H = _autograd_loop(a, V, h0)
    ref = torch.autograd.grad((ref_H * w).sum() + ref_H[-1].square().sum(), inputs)
    torch.testing.assert_close(H, ref_H, atol=ATOL["float64"], rtol=0)
    for g, r in zip(got, ref, strict=True):
        torch.testing.assert_close(g, r, atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("with_h0", [False, True])
def test_gradcheck_linear_recurrence(with_h0):
    torch.manual_seed(5)
    a = torch.randn(4, 2, 3, requires_grad=True)
    V = torch.randn(3, 3, requires_grad=True)
    h0 = torch.randn(2, 3, requires_grad=True) if with_h0 else None
    assert torch.autograd.gradcheck(lambda a, V, *h: linear_recurrence(a, V, *h), (a, V, *([h0] if with_h0 else [])))


def test_linear_recurrence_rejects_bad_shapes():
    with pytest.raises(ShapeError, match="V"):
        linear_recurrence(torch.zeros(3, 2, 4), torch.eye(3))
    with pytest.raises(ShapeError, match="h0"):
        linear_recurrence(torch.zeros(3, 2, 4), torch.eye(4), torch.zeros(4))
    with pytest.raises(ShapeError, match="time step"):
        LTRNN(2, 3)(torch.zeros(2, 0, 2))


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("pool", [None, 2])
def test_unclipped_ltrnn_gradients_match_the_autograd_loop(with_state, pool):
    """The default (clip=None) path runs one hand-written autograd node; values and every
    parameter gradient equal the per-step autograd recurrence with the same readout."""
    torch.manual_seed(6)
    B, T, nx, n = 3, 12, 4, 6
    rnn = LTRNN(nx, n, 5, init="orthogonal", activation="relu", pool=pool)
    x = torch.randn(B, T, nx, requires_grad=True)
    h0 = torch.randn(B, n, requires_grad=True) if with_state else None
    w = torch.randn(B, T, 5)
    y, hT = rnn(x, h0)
    inputs = [x, *rnn.parameters()] + ([h0] if with_state else [])
    got = torch.autograd.grad((y * w).sum() + hT.square().sum(), inputs)
    a = torch.relu(x @ rnn.weight_in.T + rnn.bias).transpose(0, 1)
    H = _autograd_loop(a, rnn.weight_rec, h0).transpose(0, 1)
    ref_y = H @ rnn.readout.weight.T + rnn.readout.bias
    if pool is not None:
        ref_y = ref_y + l2_pool(H, pool) @ rnn.readout.weight_pool.T
    ref = torch.autograd.grad((ref_y * w).sum() + H[:, -1].square().sum(), inputs)
    torch.testing.assert_close(y, ref_y, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(hT, H[:, -1], atol=ATOL["float64"], rtol=0)
    for g, r in zip(got, ref, strict=True):
        torch.testing.assert_close(g, r, atol=ATOL["float64"], rtol=0)


def test_gradgradcheck_linear_recurrence():
    """Second derivatives (e.g. a gradient penalty) go through the differentiable backward."""
    torch.manual_seed(7)
    a = torch.randn(3, 2, 3, requires_grad=True)
    V = torch.randn(3, 3, requires_grad=True)
    h0 = torch.randn(2, 3, requires_grad=True)
    assert torch.autograd.gradgradcheck(linear_recurrence, (a, V, h0))
