"""The fractional-λ sequence node in spectral form against the step path (``so_power`` every step)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck

from orthornn.errors import NoRealLogarithmError, NotOrthogonalError
from orthornn.nn import kernels
from orthornn.nn.rum import RUM, RUMState, spectral_sequence
from orthornn.nn.rum import spectral as spectral_module

F64 = torch.float64


def _frame(n: int, g: torch.Generator) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))
    q = q * torch.sign(torch.diagonal(r))
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _memory(kind: str, B: int, n: int, g: torch.Generator) -> torch.Tensor:
    """Starting memories with the spectra where spectral code breaks."""
    m = n // 2
    if kind == "identity":
        return torch.eye(n, dtype=F64).expand(B, n, n)
    if kind == "repeated":
        phi = torch.full((m,), 1.1, dtype=F64)
    elif kind == "near_pi":
        phi = torch.full((m,), math.pi - 1e-5, dtype=F64)
    elif kind == "very_near_pi":
        phi = torch.full((m,), math.pi - 1e-8, dtype=F64)
    elif kind == "at_pi":
        phi = torch.full((m,), math.pi, dtype=F64)
        phi[m // 2 :] = 0.4
    elif kind == "partial":  # an angle-0 block beside active planes, one near −1 (the folded route)
        phi = torch.zeros(m, dtype=F64)
        phi[: (m + 1) // 2] = torch.rand((m + 1) // 2, generator=g, dtype=F64) * math.pi
        phi[0] = math.pi - 1e-5
    else:  # haar
        phi = (torch.rand(m, generator=g, dtype=F64) * 2 - 1) * math.pi
    out = []
    for _ in range(B):
        D = spectral_module._block_matrix(phi[None], n)[0]
        Z = _frame(n, g)
        out.append(Z @ D @ Z.T)
    return torch.stack(out)


def _both(rum: RUM, x, h0, R0, gH, gR, solver=None):
    """Values and gradients of ``Σ⟨gH, h_t⟩ + ⟨gR, R_T⟩`` by the node and by the step path."""
    c = rum.cell
    params = [p for p in (c.weight_x, c.weight_h, c.bias, c.bias_e) if p is not None]
    if isinstance(c.lam, torch.Tensor):
        params.append(c.lam)
    wrt = [x, h0, R0, *params]
    out = spectral_sequence(x, c.weight_x, c.projection_bias(), c.weight_h, h0, R0, c.lam, c.eta, solver=solver)
    if out is None:  # a nearly antiparallel (ε, τ): the node declines (tests/nn/rum/test_cell.py)
        return None
    hs, RT = out
    ga = torch.autograd.grad((hs * gH).sum() + (RT * gR).sum(), wrt)
    s, outs = RUMState(h0, R0), []
    for t in range(x.shape[1]):
        s = c(x[:, t], s)
        outs.append(s.h)
    hs_ref = torch.stack(outs)
    gb = torch.autograd.grad((hs_ref * gH).sum() + (s.R * gR).sum(), wrt)
    return (hs, RT, ga), (hs_ref, s.R, gb)


#: index of ∂L/∂R_0 in the gradients of :func:`_both`
R0_GRAD = 2


def _assert_same(a, b, tol, *, finite_only=()):
    """Values and gradients equal to ``tol`` (relative to the gradient's size); the gradients in
    ``finite_only`` only finite."""
    (hs, RT, ga), (hs_ref, R_ref, gb) = a, b
    torch.testing.assert_close(hs, hs_ref, rtol=0, atol=tol)
    torch.testing.assert_close(RT, R_ref, rtol=0, atol=tol)
    for i, (u, v) in enumerate(zip(ga, gb, strict=True)):
        if i in finite_only:
            assert bool(torch.isfinite(u).all())
            continue
        scale = max(1.0, float(v.abs().max()))
        torch.testing.assert_close(u, v, rtol=0, atol=tol * scale)


LAMBDAS = [0.25, 0.5, 0.75, -0.5, 1.5, 1.0, 2.0, -1.0, 0.1]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 9),
    B=st.integers(1, 3),
    T=st.integers(1, 7),
    lam=st.one_of(st.sampled_from(LAMBDAS), st.floats(-2.0, 2.0)),
    learn=st.booleans(),
    eta=st.sampled_from([None, 1.5]),
    kind=st.sampled_from(["identity", "haar", "repeated", "near_pi", "very_near_pi", "at_pi", "partial"]),
    seed=st.integers(0, 2**16),
)
def test_equals_the_step_path_to_1e9(n, B, T, lam, learn, eta, kind, seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    learn = learn or lam in (0.0, 1.0)  # a fixed 0 or 1 has its own paths; a learned one is fractional
    rum = RUM(3, n, lam=lam, learn_lam=learn, eta=eta, dtype=F64)
    x = torch.randn(B, T, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(B, n, generator=g, dtype=F64, requires_grad=True)
    R0 = _memory(kind, B, n, g).clone().requires_grad_()
    gH, gR = torch.randn(T, B, n, generator=g, dtype=F64), torch.randn(B, n, n, generator=g, dtype=F64)
    result = _both(rum, x, h0, R0, gH, gR)
    assume(result is not None)
    # at π − δ, R ↦ R^λ has condition ~1/δ: both sides of the comparison are good to ~eps/δ there.
    # At exactly π (R_0 has the eigenvalue −1) log is not differentiable at R_0: the step path's
    # ∂L/∂R_0 there is rounding amplified by 1/eps (a 9e-16 change of R_0 moves it by 0.45,
    # test_the_step_paths_R0_gradient_at_minus_one_is_rounding_noise); only finiteness is asked.
    tol = 1e-9 if kind != "very_near_pi" else 1e-9 * 1e3
    _assert_same(*result, tol, finite_only=(R0_GRAD,) if kind == "at_pi" else ())


def test_the_dense_solver_and_the_default_agree():
    # the default solver (the native eigen-update where it builds) against LAPACK's real Schur form
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    rum = RUM(4, 11, lam=0.5, learn_lam=True, dtype=F64)
    x = torch.randn(4, 12, 4, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.zeros(4, 11, dtype=F64, requires_grad=True)
    R0 = torch.eye(11, dtype=F64).expand(4, 11, 11).clone().requires_grad_()
    gH, gR = torch.randn(12, 4, 11, generator=g, dtype=F64), torch.randn(4, 11, 11, generator=g, dtype=F64)
    a, _ = _both(rum, x, h0, R0, gH, gR)
    b, _ = _both(rum, x, h0, R0, gH, gR, solver=spectral_module._dense_update)
    _assert_same(a, b, 1e-10)


def test_the_default_solver_is_the_native_kernel_and_lapack_without_it():
    # the eigen-update runs on the host whatever the model's device, so the choice takes no device:
    # on a GPU too the native O(N²) kernel, not LAPACK's O(N³) Schur form
    native = kernels.spectral_update()
    assert spectral_module._solver() is (spectral_module._dense_update if native is None else native)
    with kernels.native(False):
        assert spectral_module._solver() is spectral_module._dense_update


@pytest.mark.gpu
@pytest.mark.parametrize("lam", [0.5, 1.5, -0.5])
def test_on_cuda_the_node_equals_itself_on_the_cpu_and_the_step_path(lam):
    # the device form (torch operations on CUDA, the eigen-update on the host) against the same
    # node on the CPU (native kernels) and against the step path on CUDA, values and every gradient
    g = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    rum = RUM(3, 9, lam=lam, learn_lam=True, dtype=F64)
    x = torch.randn(4, 10, 3, generator=g, dtype=F64)
    h0 = torch.randn(4, 9, generator=g, dtype=F64)
    R0 = _memory("haar", 4, 9, g)
    gH, gR = torch.randn(10, 4, 9, generator=g, dtype=F64), torch.randn(4, 9, 9, generator=g, dtype=F64)
    results = {}
    for dev in ("cpu", "cuda"):
        r = copy.deepcopy(rum).to(dev)
        leaves = [t.to(dev).requires_grad_() for t in (x, h0, R0)]
        results[dev] = _both(r, *leaves, gH.to(dev), gR.to(dev))
    (node_cpu, _), (node_cuda, step_cuda) = results["cpu"], results["cuda"]
    _assert_same(node_cuda, step_cuda, 1e-9)
    hs, RT, grads = node_cuda
    _assert_same((hs.cpu(), RT.cpu(), [t.cpu() for t in grads]), node_cpu, 1e-9)


def test_rows_decomposed_in_their_own_coordinates_give_the_same_values_and_gradients():
    # a solver that hands every other row back (status 1, as for an eigenvalue −1): those rows take
    # the canonical decomposition of R_t and keep their Q'; the backward uses the kept basis
    def half(d, a, w, theta, pi_tol):
        W, phi, status = spectral_module._dense_update(d, a, w, theta, pi_tol)
        status[::2] = 1
        return W, phi, status

    g = torch.Generator().manual_seed(5)
    torch.manual_seed(5)
    rum = RUM(3, 6, lam=0.75, learn_lam=True, eta=2.0, dtype=F64)
    x = torch.randn(3, 6, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(3, 6, generator=g, dtype=F64, requires_grad=True)
    R0 = _memory("haar", 3, 6, g).clone().requires_grad_()
    gH, gR = torch.randn(6, 3, 6, generator=g, dtype=F64), torch.randn(3, 6, 6, generator=g, dtype=F64)
    _assert_same(*_both(rum, x, h0, R0, gH, gR, solver=half), 1e-9)


def test_a_spectrum_reaching_minus_one_follows_the_convention():
    # λ = 1 learned from R_0 with planes at π: the memory stays at −1 (within the branch window) and
    # every such step is decomposed with the canonical planes, as the step path's so_power does
    g = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    rum = RUM(3, 6, lam=1.0, learn_lam=True, dtype=F64)
    with torch.no_grad():
        rum.cell.weight_x.mul_(1e-3)
    x = torch.randn(2, 4, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 6, generator=g, dtype=F64, requires_grad=True)
    R0 = _memory("at_pi", 2, 6, g).clone().requires_grad_()
    gH, gR = torch.randn(4, 2, 6, generator=g, dtype=F64), torch.randn(2, 6, 6, generator=g, dtype=F64)
    _assert_same(*_both(rum, x, h0, R0, gH, gR), 1e-9)


def test_the_step_paths_R0_gradient_at_minus_one_is_rounding_noise():
    # why the property test does not compare ∂L/∂R_0 when R_0 has the eigenvalue −1: the reference
    # itself moves by O(1) when R_0 moves by rounding
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    rum = RUM(3, 4, lam=0.25, dtype=F64)
    x = torch.randn(1, 1, 3, generator=g, dtype=F64)
    h0 = torch.randn(1, 4, generator=g, dtype=F64)
    R0 = _memory("at_pi", 1, 4, g)
    gH, gR = torch.randn(1, 4, generator=g, dtype=F64), torch.randn(1, 4, 4, generator=g, dtype=F64)

    def grad(R):
        R = R.clone().requires_grad_()
        s = rum.cell(x[:, 0], RUMState(h0, R))
        return torch.autograd.grad((s.h * gH).sum() + (s.R * gR).sum(), [R])[0]

    Q = _frame(4, g)
    R0b = (R0 @ Q) @ Q.T
    assert float((R0b - R0).abs().max()) < 1e-14
    assert float((grad(R0b) - grad(R0)).abs().max()) > 1e-3


def test_gradcheck():
    torch.manual_seed(2)
    g = torch.Generator().manual_seed(2)
    n, B, T = 5, 2, 3
    x = torch.randn(B, T, 2, generator=g, dtype=F64, requires_grad=True)
    Wx = (0.5 * torch.randn(3 * n, 2, generator=g, dtype=F64)).requires_grad_()
    b = torch.randn(3 * n, generator=g, dtype=F64, requires_grad=True)
    Wh = (0.3 * torch.randn(2 * n, n, generator=g, dtype=F64)).requires_grad_()
    h0 = torch.randn(B, n, generator=g, dtype=F64, requires_grad=True)
    R0 = _memory("haar", B, n, g).clone().requires_grad_()
    lam = torch.tensor(0.6, dtype=F64, requires_grad=True)

    def f(x, Wx, b, Wh, h0, R0, lam):
        hs, RT = spectral_sequence(x, Wx, b, Wh, h0, R0, lam, 1.3)
        return hs, RT

    assert gradcheck(f, (x, Wx, b, Wh, h0, R0, lam), atol=1e-6, rtol=1e-5)


def _saved_numel(T: int, n: int, B: int) -> int:
    torch.manual_seed(0)
    rum = RUM(2, n, lam=0.5, dtype=F64)
    x = torch.randn(B, T, 2, dtype=F64)
    hs, _ = rum(x)
    return sum(t.numel() for t in hs.grad_fn.next_functions[0][0].saved_tensors)


def test_memory_is_flat_in_T(monkeypatch):
    # rebuilding (above STORE_BYTES) the node keeps O(B·N) per step, never an N×N matrix
    # (B·N² = 16·B·N here)
    monkeypatch.setattr(spectral_module, "STORE_BYTES", 0)
    n, B = 16, 3
    per_step = (_saved_numel(12, n, B) - _saved_numel(4, n, B)) / 8
    assert per_step <= 12 * B * n, per_step


def test_float32_is_close_to_float64():
    torch.manual_seed(4)
    rum = RUM(3, 10, lam=0.5, learn_lam=True)
    x = torch.randn(4, 20, 3)
    y32, (_, R32) = rum(x)
    rum64 = RUM(3, 10, lam=0.5, learn_lam=True, dtype=F64)
    rum64.load_state_dict({k: v.to(F64) for k, v in rum.state_dict().items()})
    y64, (_, R64) = rum64(x.to(F64))
    assert float((y32.detach().to(F64) - y64.detach()).abs().max()) < 1e-4
    assert float((R32.detach().to(F64) - R64.detach()).abs().max()) < 1e-4
    y32.sum().backward()
    assert all(bool(torch.isfinite(p.grad).all()) for p in rum.parameters())


def test_bad_memories_are_refused_as_by_so_power():
    rum = RUM(2, 4, lam=0.5, dtype=F64)
    x = torch.randn(1, 3, 2, dtype=F64)
    h0 = torch.zeros(1, 4, dtype=F64)
    with pytest.raises(NotOrthogonalError, match="R0"):
        rum(x, RUMState(h0, 1.1 * torch.eye(4, dtype=F64)[None]))
    flip = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=F64))[None]
    with pytest.raises(NoRealLogarithmError):
        rum(x, RUMState(h0, flip))


def test_the_eigen_update_solvers_reconstruct_the_small_matrix():
    # both solvers: A = W blockdiag(M(φ)) Wᵀ with W orthogonal, for a clustered spectrum
    g = np.random.default_rng(0)
    B, n = 5, 9
    d = torch.from_numpy(np.concatenate([np.zeros((B, 2)), np.full((B, 2), 1.3)], 1))
    a = torch.from_numpy(g.standard_normal((B, n)))
    a = a / a.norm(dim=-1, keepdim=True)
    w = torch.from_numpy(g.standard_normal((B, n)))
    w = w - a * (a * w).sum(-1, keepdim=True)
    w = w / w.norm(dim=-1, keepdim=True)
    theta = torch.from_numpy(g.uniform(0.1, 3.0, B))
    A = spectral_module._small_matrix(d, a, w, theta)
    solvers = [spectral_module._dense_update]
    if kernels.native_enabled() and getattr(kernels, "spectral_update", lambda: None)() is not None:
        solvers.append(kernels.spectral_update())
    for solve in solvers:
        W, phi, status = solve(d, a, w, theta, 1e-12)
        assert not bool(status.any())
        Bd = spectral_module._block_matrix(phi, n)
        torch.testing.assert_close(W @ Bd @ W.mT, A, rtol=0, atol=1e-12)
        torch.testing.assert_close(W.mT @ W, torch.eye(n, dtype=F64).expand(B, n, n), rtol=0, atol=1e-12)


def _adjoint_kernel():
    with kernels.native(True):
        k = kernels.spectral_adjoint()
    if k is None:
        pytest.skip("no C compiler: the native plane adjoint cannot be built")
    return k


@pytest.mark.parametrize("n", [2, 3, 7, 10])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("kind", ["generic", "clustered_at_0", "near_pi", "repeated"])
def test_native_plane_adjoint_equals_the_torch_reference(n, dtype, kind):
    # the flips, ∂λ, the Daleckii–Krein adjoint and the tangent projection of one backward step
    from orthornn.nn.functional.lie import _plane_adjoint

    kern = _adjoint_kernel()
    g = torch.Generator().manual_seed(n)
    B, m = 5, n // 2
    phi = {
        "generic": torch.rand(B, m, generator=g, dtype=F64) * math.pi,
        "clustered_at_0": 1e-5 * torch.rand(B, m, generator=g, dtype=F64),
        "near_pi": math.pi - 1e-6 * torch.rand(B, m, generator=g, dtype=F64),
        "repeated": torch.full((B, m), 1.2, dtype=F64),
    }[kind]
    lam = torch.rand(B, generator=g, dtype=F64) * 4 - 2
    flip = torch.rand(B, m, generator=g) < 0.5
    G = torch.randn(B, n, n, generator=g, dtype=F64).to(dtype)
    S = torch.ones(B, n, dtype=F64)
    S[:, 1 : 2 * m : 2] = torch.where(flip, -1.0, 1.0)
    ref = G.double() * S[:, :, None] * S[:, None, :]
    psi = lam[:, None] * phi

    def block(i: int, j: int) -> torch.Tensor:
        return ref[:, i::2, j::2].diagonal(dim1=-2, dim2=-1)[:, :m]

    glam_ref = (
        phi * (torch.cos(psi) * (block(1, 0) - block(0, 1)) - torch.sin(psi) * (block(0, 0) + block(1, 1)))
    ).sum(-1)
    eps = float(torch.finfo(dtype).eps)
    inner = _plane_adjoint(ref, phi, lam, eps)
    out_ref = spectral_module._tangent(inner, phi)
    out = G.clone()
    glam = kern(out, phi, lam, flip, eps)
    tol = 1e-12 if dtype == F64 else 1e-5
    # the projection cancels the adjoint's large normal part near π: rounding of its size remains
    scale = max(1.0, float(inner.abs().max()))
    torch.testing.assert_close(out.double(), out_ref, rtol=0, atol=tol * scale)
    torch.testing.assert_close(glam, glam_ref, rtol=0, atol=tol * max(1.0, float(glam_ref.abs().max())))


def test_the_node_with_and_without_native_kernels_agree():
    g = torch.Generator().manual_seed(9)
    torch.manual_seed(9)
    rum = RUM(3, 9, lam=0.6, learn_lam=True, eta=1.0, dtype=F64)
    x = torch.randn(3, 10, 3, generator=g, dtype=F64)
    state = RUMState(torch.zeros(3, 9, dtype=F64), _memory("haar", 3, 9, g))
    results = []
    for on in (True, False):
        rum.zero_grad()
        with kernels.native(on):
            y, (_, R) = rum(x, state)
            ((y * y).sum() + R.sum()).backward()
        results.append([y.detach(), R.detach(), *[p.grad.clone() for p in rum.parameters()]])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11 * max(1.0, float(b.abs().max())))


@pytest.mark.parametrize("native", [True, False])
def test_the_normal_part_does_not_grow_over_a_long_copy_sequence(native):
    # regression: without the tangent projection of Ĝ each step, its normal part (which no loss
    # sees) grew until its rounding swamped ∂λ: -3.53 against the step path's -3.41 here (N = 24,
    # 60 steps of the copy task), and 1e24 at N = 100 in float32
    from orthornn.tasks import CopyTask

    torch.manual_seed(0)
    task = CopyTask(40)
    ids, _ = task.sample(4, rng=0)
    x = torch.nn.functional.one_hot(torch.as_tensor(ids), task.vocab_size).to(F64)
    rum = RUM(task.vocab_size, 24, lam=0.5, learn_lam=True, dtype=F64)
    gH = torch.randn(x.shape[1], 4, 24, generator=torch.Generator().manual_seed(1), dtype=F64)
    with kernels.native(native):
        y, _ = rum(x)
        node = torch.autograd.grad((y.transpose(0, 1) * gH).sum(), [rum.cell.lam, rum.cell.weight_h])
    s, outs = rum.cell.initial_state(4, like=x), []
    for t in range(x.shape[1]):
        s = rum.cell(x[:, t], s)
        outs.append(s.h)
    ref = torch.autograd.grad((torch.stack(outs) * gH).sum(), [rum.cell.lam, rum.cell.weight_h])
    for a, b in zip(node, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_kept_and_rebuilt_bases_give_the_same_gradients():
    g = torch.Generator().manual_seed(12)
    torch.manual_seed(12)
    rum = RUM(3, 7, lam=0.5, learn_lam=True, eta=1.0, dtype=F64)
    c = rum.cell
    x = torch.randn(2, 9, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 7, generator=g, dtype=F64, requires_grad=True)
    R0 = _memory("haar", 2, 7, g).clone().requires_grad_()
    grads = []
    for store_bytes in (0, 2**30):
        hs, RT = spectral_sequence(
            x, c.weight_x, c.projection_bias(), c.weight_h, h0, R0, c.lam, 1.0, store_bytes=store_bytes
        )
        grads.append(torch.autograd.grad((hs * hs).sum() + RT.sum(), [x, h0, R0, c.weight_h, c.lam]))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12 * max(1.0, float(b.abs().max())))


def test_bad_arguments_get_clear_errors():
    from orthornn.errors import NotFiniteError, OrthornnError, ShapeError

    rum = RUM(2, 4, lam=0.5, dtype=F64)
    c = rum.cell
    x = torch.randn(1, 3, 2, dtype=F64)
    h0, R0 = c.initial_state(1, like=x)
    args = (c.weight_x, c.projection_bias(), c.weight_h)
    with pytest.raises(ShapeError, match="R0"):
        spectral_sequence(x, *args, h0, R0[:, :3, :3], 0.5)
    with pytest.raises(OrthornnError, match="one dtype"):
        spectral_sequence(x.float(), *args, h0, R0, 0.5)
    with pytest.raises(NotFiniteError, match="lam"):
        spectral_sequence(x, *args, h0, R0, float("nan"))
    with pytest.raises(NotFiniteError, match="R0"):
        spectral_sequence(x, *args, h0, torch.full_like(R0, float("nan")), 0.5)
