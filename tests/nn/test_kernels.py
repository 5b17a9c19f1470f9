"""The native λ = 0 RUM step (orthornn/nn/kernels/rum0_step.h) against the torch implementation of the
same sequence node, gradcheck through it, and the build/cache/fallback logic of the loader."""

from __future__ import annotations

import subprocess

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from tolerances import ATOL

from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn import RUM, RUMCell, RUMState, kernels
from orthornn.nn.rum import sequence0, sequence1


def _run(backend: bool, x, cell: RUMCell, h0, eta, grad_out):
    """Values and gradients (x, h0, weight_x, bias, weight_h) of sequence0 with the chosen backend."""
    leaves = [
        t.detach().clone().requires_grad_() for t in (x, h0, cell.weight_x, cell.projection_bias(), cell.weight_h)
    ]
    xx, hh, wx, b, wh = leaves
    with kernels.native(backend):
        hs = sequence0(xx, wx, b, wh, hh, eta)
    assert hs is not None
    grads = torch.autograd.grad((hs * grad_out).sum(), leaves)
    return hs.detach(), grads


def test_the_native_kernel_builds_here():
    """CI machines have a C compiler: the fast path must be the one tested, not silently skipped."""
    k = kernels.rum0()
    assert k is not None and k.supports(torch.zeros(1, dtype=torch.float64))


@pytest.mark.parametrize("eta", [None, 0.8])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_sequence_equals_the_torch_sequence(eta, dtype):
    torch.manual_seed(11)
    cell = RUMCell(4, 9, eta=eta, dtype=dtype)
    with torch.no_grad():
        cell.bias.normal_()
    x, h0 = torch.randn(6, 13, 4, dtype=dtype), torch.randn(6, 9, dtype=dtype)
    w = torch.randn(13, 6, 9, dtype=dtype)
    got, ggot = _run(True, x, cell, h0, eta, w)
    want, gwant = _run(False, x, cell, h0, eta, w)
    tol = ATOL[str(dtype).split(".")[1]]
    torch.testing.assert_close(got, want, atol=tol, rtol=0)
    for g, r in zip(ggot, gwant, strict=True):
        torch.testing.assert_close(g, r, atol=tol * max(1.0, float(r.abs().max())), rtol=0)


@given(
    B=st.integers(1, 5),
    T=st.integers(1, 7),
    n=st.integers(2, 19),
    nx=st.integers(1, 4),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    seed=st.integers(0, 2**16),
)
@example(B=2, T=6, n=2, nx=4, scale=30.0, seed=452)  # found by hypothesis: 1 + c = 0.002 at one step
@example(B=3, T=5, n=16, nx=4, scale=30.0, seed=4)  # found by hypothesis: ∂ rounded 5.5e-12 apart
def test_native_and_torch_agree_for_any_shape_and_scale(B, T, n, nx, scale, seed):
    g = torch.Generator().manual_seed(seed)
    cell = RUMCell(nx, n)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g))
    x, h0 = torch.randn(B, T, nx, generator=g), torch.randn(B, n, generator=g)
    w = torch.randn(T, B, n, generator=g)
    with kernels.native(True):
        probe = sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, h0)
    with kernels.native(False):
        ref = sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, h0)
    assert (probe is None) == (ref is None)  # both report the same degenerate steps
    if ref is None:
        return
    got, ggot = _run(True, x, cell, h0, None, w)
    want, gwant = _run(False, x, cell, h0, None, w)
    # the condition number grows like 1/(1 + c) at nearly antiparallel (ε, τ); rounding is relative
    # to the values' size (the two implementations round differently: FMA contraction in C)
    cond = 1.0 / _min_one_plus_c(x, cell, h0, want)
    torch.testing.assert_close(got, want, atol=ATOL["float64"] * cond * max(1.0, float(want.abs().max())), rtol=0)
    # a parameter's gradient is a sum over the T steps, each term rounded relative to its own size
    # (which can reach the sum's): T times the values' tolerance
    for a, r in zip(ggot, gwant, strict=True):
        torch.testing.assert_close(a, r, atol=ATOL["float64"] * cond * T * max(1.0, float(r.abs().max())), rtol=0)


def _min_one_plus_c(x, cell: RUMCell, h0, hs) -> float:
    """min over steps and rows of 1 + cos(ε_t, τ_t), from the states ``hs`` (T, B, N) of a pass."""
    n = cell.hidden_size
    with torch.no_grad():
        H = torch.cat([h0[None], hs[:-1]])  # h_{t−1}
        P = x.transpose(0, 1) @ cell.weight_x.T + cell.projection_bias()
        tau, eps = P[..., n : 2 * n] + H @ cell.weight_h[n:].T, P[..., 2 * n :]
        c = (tau * eps).sum(-1) / (tau.norm(dim=-1) * eps.norm(dim=-1))
    return float((1 + c).min())


@pytest.mark.parametrize("eta", [None, 1.1])
def test_gradcheck_through_the_native_kernel(eta):
    torch.manual_seed(12)
    cell = RUMCell(2, 5)
    args = tuple(
        a.detach().clone().requires_grad_()
        for a in (torch.randn(3, 4, 2), cell.weight_x, torch.randn(15), cell.weight_h, torch.randn(3, 5))
    )
    with kernels.native(True):
        assert torch.autograd.gradcheck(lambda *a: sequence0(*a, eta), args)


def test_native_kernel_reports_degenerate_steps_and_rum_falls_back():
    torch.manual_seed(13)
    rum = RUM(3, 4, embed_bias=False)
    x, h0 = torch.randn(2, 6, 3), torch.randn(2, 4)
    x[0, 4] = 0.0  # ε = 0 at one step of one sequence
    with kernels.native(True):
        assert sequence0(x, rum.cell.weight_x, rum.cell.projection_bias(), rum.cell.weight_h, h0) is None
        y, _ = rum(x, RUMState(h0, None))
    with kernels.native(False):
        ref, _ = rum(x, RUMState(h0, None))
    torch.testing.assert_close(y, ref, atol=ATOL["float64"], rtol=0)
    assert torch.isfinite(torch.autograd.grad(y.sum(), rum.cell.weight_h)[0]).all()


def test_strided_upstream_gradient_is_read_with_its_row_stride():
    """RUM returns (B, T, N) = the node's (T, B, N) transposed: its gradient reaches the kernel strided."""
    torch.manual_seed(14)
    rum = RUM(3, 6)
    x = torch.randn(4, 5, 3)
    w = torch.randn(4, 5, 6)
    grads = []
    for backend in (True, False):
        with kernels.native(backend):
            y, _ = rum(x)
            grads.append(torch.autograd.grad((y * w).sum(), list(rum.parameters())))
    for a, r in zip(*grads, strict=True):
        torch.testing.assert_close(a, r, atol=ATOL["float64"], rtol=0)


def test_supports_only_cpu_float32_float64_of_one_dtype():
    k = kernels.rum0()
    assert k is not None
    assert k.supports(torch.zeros(2, dtype=torch.float32), torch.zeros(2, dtype=torch.float32))
    assert not k.supports(torch.zeros(2, dtype=torch.float16))
    assert not k.supports(torch.zeros(2, dtype=torch.float32), torch.zeros(2, dtype=torch.float64))
    assert not k.supports(torch.zeros(2, device="meta"))


def test_switches_environment_and_context(monkeypatch):
    monkeypatch.setenv("ORTHORNN_NATIVE", "0")
    assert kernels.rum0() is None
    with kernels.native(True):
        assert kernels.rum0() is not None
    monkeypatch.setenv("ORTHORNN_NATIVE", "1")
    with kernels.native(False):
        assert kernels.rum0() is None
    assert kernels.rum0() is not None


def test_build_is_cached_per_source_and_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("ORTHORNN_CACHE", str(tmp_path))
    lib = kernels._compile("kernels")
    assert lib.parent == tmp_path and lib.exists()

    def no_compiler(*args, **kwargs):
        raise AssertionError("a cached build must not be compiled again")

    monkeypatch.setattr(subprocess, "run", no_compiler)
    assert kernels._compile("kernels") == lib
    monkeypatch.setattr(kernels, "_machine_id", lambda: b"another CPU")
    with pytest.raises(AssertionError, match="compiled again"):  # another CPU: a new build
        kernels._compile("kernels")


def _forget_builds() -> None:
    """Make the next kernels.rum0()/rum1() build or load the library again."""
    for cached in (kernels._library, kernels._load_rum0, kernels._load_rum1):
        cached.cache_clear()


def test_without_a_compiler_rum_runs_through_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("ORTHORNN_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    _forget_builds()
    try:
        assert kernels.rum0() is None and kernels.rum1() is None
        torch.manual_seed(15)
        rums = [RUM(2, 3), RUM(2, 3, lam=1.0)]
        x = torch.randn(2, 4, 2)
        ys = [rum(x)[0] for rum in rums]
        monkeypatch.delenv("CC")
        _forget_builds()
        with kernels.native(False):
            refs = [rum(x)[0] for rum in rums]
        for y, ref in zip(ys, refs, strict=True):
            torch.testing.assert_close(y, ref, atol=0, rtol=0)  # the same torch implementation ran
    finally:
        _forget_builds()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_sigmoid_is_within_two_ulp_over_the_whole_range(dtype):
    """The kernel's own vectorisable sigmoid (no libm call) against sigmoid in float64, tails included."""
    k = kernels.rum0()
    assert k is not None
    big = torch.finfo(dtype).max
    x = torch.cat(
        [
            torch.linspace(-800, 800, 20001, dtype=dtype),
            5 * torch.randn(20000, dtype=dtype, generator=torch.Generator().manual_seed(0)),
            torch.tensor([0.0, -0.0, 1e-30, -1e-30, 87, 88, 89, -87, -88, -89, 708, -708, 710, -710, big, -big]).to(
                dtype
            ),
        ]
    )
    n = x.numel()
    g = torch.cat([x, torch.ones(n, dtype=dtype)])[None].clone()  # (ũ, τ) of one row
    h, eps = torch.ones(1, n, dtype=dtype), torch.full((1, n), 0.5, dtype=dtype)
    k.forward(g, h, eps, torch.empty(1, n, dtype=dtype), torch.empty(1, 7, dtype=dtype), None, 1e-3)
    u, ref = g[0, :n].double(), torch.sigmoid(x.double())
    fi = torch.finfo(dtype)
    normal = ref > fi.tiny * 2**24
    assert ((u - ref).abs() <= 2 * fi.eps * ref)[normal].all()
    assert ((u - ref).abs() <= 2 * fi.tiny)[~normal].all()  # the far negative tail: below the normal range
    assert torch.isfinite(u).all() and (u >= 0).all() and (u <= 1).all()


@pytest.mark.parametrize("backend", [True, False])
def test_chunked_backward_equals_one_chunk(backend, monkeypatch):
    """The weight gradients are accumulated chunk by chunk (SEQ0_CHUNK_ROWS): any chunking, one result."""
    import orthornn.nn.rum.lambda0 as rum_module

    torch.manual_seed(16)
    cell = RUMCell(3, 5, eta=0.9)
    x, h0 = torch.randn(4, 9, 3, requires_grad=True), torch.randn(4, 5)
    w = torch.randn(9, 4, 5)

    def grads() -> list[torch.Tensor]:
        with kernels.native(backend):
            hs = sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, h0, 0.9)
        return list(torch.autograd.grad((hs * w).sum(), [x, *cell.parameters()]))

    whole = grads()
    for rows in (4 * 2 + 1, 4 * 4, 1):  # chunks of 2 steps (+ a rest of 1), of 4, of 1
        monkeypatch.setattr(rum_module, "SEQ0_CHUNK_ROWS", rows)
        for a, r in zip(grads(), whole, strict=True):
            torch.testing.assert_close(a, r, atol=ATOL["float64"], rtol=0)


def test_sequence_refuses_mixed_dtypes():
    cell = RUMCell(3, 4)
    x, h0 = torch.randn(2, 5, 3), torch.zeros(2, 4, dtype=torch.float32)
    with pytest.raises(OrthornnError, match=r"h0 torch\.float32"):
        sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, h0)


# ---- λ = 1: the native sequence kernel (rum1_step.h) against the torch step path ----------------------


def _rum1_grads(rum: RUM, x, h0, R0, native: bool, w, wR):
    """Outputs, final memory and gradients (x, h0, R0, parameters) of a λ = 1 RUM pass whose loss
    also reads the final memory (so ∂L/∂R_T enters the backward)."""
    leaves = [t.detach().clone().requires_grad_() for t in (x, h0, R0)]
    with kernels.native(native):
        y, (hT, RT) = rum(leaves[0], RUMState(leaves[1], leaves[2]))
    loss = (y * w).sum() + (RT * wR).sum() + hT.square().sum()
    grads = torch.autograd.grad(loss, [*leaves, *rum.parameters()])
    return y.detach(), RT.detach(), grads


def _assert_native_lambda1_equals_step_path(rum: RUM, x, h0, R0, w, wR) -> None:
    """Native kernel vs torch step path (float64): values and R_T to 1e-12, every gradient to 1e-10."""
    y, RT, g = _rum1_grads(rum, x, h0, R0, True, w, wR)
    y_ref, RT_ref, g_ref = _rum1_grads(rum, x, h0, R0, False, w, wR)
    torch.testing.assert_close(y, y_ref, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(RT, RT_ref, atol=ATOL["float64"], rtol=0)
    for a, r in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, r, atol=1e-10, rtol=0)


@pytest.mark.parametrize("eta", [None, 0.9])
@pytest.mark.parametrize("memory_efficient", [False, True])
def test_native_lambda1_sequence_equals_the_step_path(eta, memory_efficient):
    torch.manual_seed(21)
    rum = RUM(3, 6, lam=1.0, eta=eta, memory_efficient=memory_efficient)
    with torch.no_grad():
        rum.cell.bias.normal_()
    x, h0 = torch.randn(4, 9, 3), torch.randn(4, 6)
    R0 = torch.linalg.qr(torch.randn(4, 6, 6))[0]  # a carried memory (chunked BPTT)
    w, wR = torch.randn(4, 9, 6), torch.randn(4, 6, 6)
    _assert_native_lambda1_equals_step_path(rum, x, h0, R0, w, wR)


def test_native_lambda1_float32_agrees_with_the_step_path():
    torch.manual_seed(22)
    rum = RUM(3, 8, lam=1.0, dtype=torch.float32)
    f32 = {"dtype": torch.float32}
    x, h0 = torch.randn(3, 12, 3, **f32), torch.zeros(3, 8, **f32)
    R0 = torch.eye(8, **f32).expand(3, 8, 8)
    w, wR = torch.randn(3, 12, 8, **f32), torch.zeros(3, 8, 8, **f32)
    y, _, g = _rum1_grads(rum, x, h0, R0, True, w, wR)
    y_ref, _, g_ref = _rum1_grads(rum, x, h0, R0, False, w, wR)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    for a, r in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("eta", [None, 1.2])
def test_gradcheck_through_the_native_lambda1_sequence(eta):
    torch.manual_seed(23)
    cell = RUMCell(2, 4, lam=1.0)
    R0 = torch.linalg.qr(torch.randn(2, 4, 4))[0]
    args = tuple(
        a.detach().clone().requires_grad_()
        for a in (torch.randn(2, 3, 2), cell.weight_x, torch.randn(12), cell.weight_h, torch.randn(2, 4), R0)
    )

    def run(*a):
        out = sequence1(*a, eta)
        assert out is not None
        return out

    assert torch.autograd.gradcheck(run, args)


def test_native_lambda1_second_backward_and_degenerate_fallback():
    torch.manual_seed(24)
    rum = RUM(3, 5, lam=1.0, embed_bias=False)
    x = torch.randn(2, 6, 3)
    with kernels.native(True):
        y, _ = rum(x)
    first = torch.autograd.grad(y.sum(), list(rum.parameters()), retain_graph=True)
    again = torch.autograd.grad(y.sum(), list(rum.parameters()))  # R_T is rebuilt from a copy
    for a, r in zip(again, first, strict=True):
        torch.testing.assert_close(a, r, atol=0, rtol=0)
    x[1, 3] = 0.0  # ε = 0 at one step: the kernel reports it, RUM takes the step path
    h0, R0 = rum.cell.initial_state(2, like=x)
    assert sequence1(x, rum.cell.weight_x, rum.cell.projection_bias(), rum.cell.weight_h, h0, R0) is None
    y, _ = rum(x)
    with kernels.native(False):
        ref, _ = rum(x)
    torch.testing.assert_close(y, ref, atol=ATOL["float64"], rtol=0)


def test_native_lambda1_graph_keeps_no_memory_per_step():
    """The saved tensors grow by (u, τ, ε, h, the η scale, [x, 1]) per step: no N×N term."""
    torch.manual_seed(25)
    B, n, nx = 4, 32, 3
    rum = RUM(nx, n, lam=1.0)

    def saved_bytes(T: int) -> int:
        seen: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), kernels.native(True):
            rum(torch.randn(B, T, nx))
        return sum(seen.values())

    per_step = (saved_bytes(40) - saved_bytes(20)) / 20
    vector = B * n * 8  # one (B, N) float64 vector
    assert per_step <= 5 * vector + B * (nx + 2) * 8  # u, τ, ε, h (4 vectors) + r and [x, 1]
    assert per_step < n * vector / 4  # a quarter of one N×N memory (n vectors) per step


def test_sequence1_refuses_a_misshapen_memory():
    cell = RUMCell(3, 4, lam=1.0)
    x, h0 = torch.randn(2, 5, 3), torch.zeros(2, 4)
    with pytest.raises(ShapeError, match=r"R0 \(2, 4, 3\)"):
        sequence1(x, cell.weight_x, cell.projection_bias(), cell.weight_h, h0, torch.zeros(2, 4, 3))


@pytest.mark.parametrize("n", [2, 3, 7, 9])
def test_native_lambda1_any_hidden_size(n):
    """Memory rows are processed four at a time: sizes that leave a partial last block."""
    torch.manual_seed(26)
    rum = RUM(2, n, lam=1.0, eta=1.0)
    x, h0 = torch.randn(3, 5, 2), torch.randn(3, n)
    R0 = torch.linalg.qr(torch.randn(3, n, n))[0]
    w, wR = torch.randn(3, 5, n), torch.randn(3, n, n)
    _assert_native_lambda1_equals_step_path(rum, x, h0, R0, w, wR)


def test_native_lambda1_batch_split_over_threads_changes_nothing():
    """The batch elements run on torch.get_num_threads() threads: any split gives the same result
    (to rounding: torch's own GEMMs around the kernel may split their sums by thread count)."""
    torch.manual_seed(27)
    rum = RUM(2, 6, lam=1.0, eta=1.0)
    x, h0 = torch.randn(5, 7, 2), torch.randn(5, 6)
    R0 = torch.linalg.qr(torch.randn(5, 6, 6))[0]
    w, wR = torch.randn(5, 7, 6), torch.randn(5, 6, 6)
    results = []
    threads = torch.get_num_threads()
    try:
        for k in (1, 3, 8):  # one thread; an uneven split; more threads than batch elements
            torch.set_num_threads(k)
            results.append(_rum1_grads(rum, x, h0, R0, True, w, wR))
    finally:
        torch.set_num_threads(threads)
    for y, RT, grads in results[1:]:
        torch.testing.assert_close(y, results[0][0], atol=ATOL["float64"], rtol=0)
        torch.testing.assert_close(RT, results[0][1], atol=ATOL["float64"], rtol=0)
        for a, r in zip(grads, results[0][2], strict=True):
            torch.testing.assert_close(a, r, atol=ATOL["float64"], rtol=0)
