"""orthornn.nn.rum.cell: the RUM cell and layer against a dense reference built from RUM eq. (1) and
§3.2; the dispatch rule (memory_path) against the paths that actually run; the package's names."""

from __future__ import annotations

import importlib

import pytest
import torch
from rum_reference import reference_rum
from tolerances import ATOL

import orthornn.nn
import orthornn.nn.rum
from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn import kernels
from orthornn.nn.rum import cell as cell_module
from orthornn.nn.rum.cell import RUM, RUM_INITS, RUMCell, RUMState, memory_path, semi_orthogonal

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("lam", [0.0, 1.0])
@pytest.mark.parametrize("eta", [None, 1.3])
@pytest.mark.parametrize("embed_bias", [True, False])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_rum_matches_dense_reference(lam, eta, embed_bias, layer_norm):
    torch.manual_seed(1)
    rum = RUM(3, 6, lam=lam, eta=eta, embed_bias=embed_bias, layer_norm=layer_norm)
    with torch.no_grad():  # generic biases (the init has b = 1, b_e = 0)
        rum.cell.bias.normal_()
        if rum.cell.bias_e is not None:
            rum.cell.bias_e.normal_()
    x = torch.randn(4, 9, 3)
    y, (h, R) = rum(x)
    y_ref, R_ref = reference_rum(rum.cell, x, lam)
    torch.testing.assert_close(y, y_ref, atol=ATOL["float64"], rtol=0)
    assert torch.equal(h, y[:, -1])
    if lam == 0:
        assert R is None
    else:
        torch.testing.assert_close(R, R_ref, atol=ATOL["float64"], rtol=0)


def test_initialisation_and_state_shapes():
    cell = RUMCell(3, 5, lam=1.0)
    assert torch.equal(cell.bias, torch.ones(10))  # gate and target biases start at 1
    assert torch.equal(cell.bias_e, torch.zeros(5))
    rum = RUM(3, 5, lam=1.0)
    y, (h, R) = rum(torch.randn(2, 4, 3))
    assert y.shape == (2, 4, 5) and h.shape == (2, 5) and R.shape == (2, 5, 5)
    _y0, (h0, R0) = RUM(3, 5, lam=0.0)(torch.randn(2, 4, 3))
    assert R0 is None and h0.shape == (2, 5)
    assert RUMCell(3, 5, embed_bias=False).bias_e is None


def _glorot_draws(nx, n, seed, dtype):
    """The Glorot initialisation as it was drawn before ``init=`` existed: three ``uniform_``
    calls on torch's global generator, in the order W_xh, W_xe, W_hh."""
    torch.manual_seed(seed)
    bx, be, bh = (6.0 / (nx + 2 * n)) ** 0.5, (6.0 / (nx + n)) ** 0.5, (6.0 / (3 * n)) ** 0.5
    wxh = torch.empty(2 * n, nx, dtype=dtype).uniform_(-bx, bx)
    wxe = torch.empty(n, nx, dtype=dtype).uniform_(-be, be)
    wh = torch.empty(2 * n, n, dtype=dtype).uniform_(-bh, bh)
    return torch.cat([wxh, wxe]), wh


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("nx", "n"), [(3, 5), (26, 50), (12, 4)])
def test_glorot_default_draws_are_unchanged_bitwise(nx, n, dtype):
    wx, wh = _glorot_draws(nx, n, 3, dtype)
    torch.manual_seed(3)
    cell = RUMCell(nx, n, lam=1.0, dtype=dtype)  # the default is glorot
    assert cell.init == "glorot"
    assert torch.equal(cell.weight_x, wx) and torch.equal(cell.weight_h, wh)
    torch.manual_seed(3)
    cell = RUMCell(nx, n, init="glorot", dtype=dtype)
    assert torch.equal(cell.weight_x, wx) and torch.equal(cell.weight_h, wh)


@pytest.mark.parametrize(("nx", "n"), [(26, 50), (36, 50), (10, 100), (7, 7), (80, 50)])
def test_orthogonal_init_gate_halves_and_embeddings_are_orthonormal(nx, n):
    torch.manual_seed(0)
    cell = RUMCell(nx, n, lam=1.0, init="orthogonal", dtype=torch.float64)
    eye = torch.eye(n, dtype=torch.float64)
    for rows in (slice(0, n), slice(n, 2 * n)):  # u, then τ: [W_x, W_h] has orthonormal rows
        m = torch.cat([cell.weight_x[rows], cell.weight_h[rows]], 1)  # (N, N_x + N): the TF kernel's transpose
        assert (m @ m.T - eye).abs().max() <= 1e-12
        assert torch.linalg.matrix_norm(cell.weight_h[rows], 2) <= 1.0 + 1e-12  # the N×N recurrent block
    assert torch.linalg.matrix_norm(cell.weight_h, 2) <= 2**0.5 + 1e-12  # the two stacked
    w_e = cell.weight_x[2 * n :]  # (N, N_x): column i embeds symbol i
    if nx <= n:  # each symbol's embedding has norm 1, different symbols' are orthogonal
        assert (w_e.T @ w_e - torch.eye(nx, dtype=torch.float64)).abs().max() <= 1e-12
    else:  # N_x embeddings in R^N cannot be orthonormal: orthonormal rows
        assert (w_e @ w_e.T - eye).abs().max() <= 1e-12
    # the two gate halves are independent draws, not one matrix split in two
    assert not torch.allclose(cell.weight_h[:n], cell.weight_h[n:])
    assert torch.equal(cell.bias, torch.ones(2 * n, dtype=torch.float64))
    assert torch.equal(cell.bias_e, torch.zeros(n, dtype=torch.float64))


def test_orthogonal_init_is_seeded_and_the_same_in_every_dtype():
    torch.manual_seed(5)
    a = RUMCell(4, 6, init="orthogonal", dtype=torch.float64)
    torch.manual_seed(5)
    b = RUMCell(4, 6, init="orthogonal", dtype=torch.float32)
    torch.manual_seed(6)
    c = RUMCell(4, 6, init="orthogonal", dtype=torch.float64)
    assert torch.equal(a.weight_x.float(), b.weight_x) and torch.equal(a.weight_h.float(), b.weight_h)
    assert not torch.equal(a.weight_x, c.weight_x)
    # unlike the Glorot default's (spectral norm ≈ 1.6 per N×N block at N = 50)
    torch.manual_seed(0)
    g = RUMCell(26, 50)
    assert torch.linalg.matrix_norm(g.weight_h[50:], 2) > 1.3


def test_semi_orthogonal_shapes_and_haar_signs():
    gen = torch.Generator().manual_seed(1)
    for rows, cols in [(5, 3), (3, 5), (4, 4), (1, 6)]:
        q = semi_orthogonal(rows, cols, generator=gen)
        assert q.shape == (rows, cols) and q.dtype == torch.float64
        small = min(rows, cols)
        gram = q.T @ q if rows >= cols else q @ q.T
        assert (gram - torch.eye(small, dtype=torch.float64)).abs().max() <= 1e-14
    # the sign fix: Q's R factor has a positive diagonal (no bias towards QR's sign convention)
    qs = torch.stack([semi_orthogonal(3, 3, generator=gen) for _ in range(4000)])
    assert abs(float(qs[:, 0, 0].mean())) < 5 * (1 / 3 / 4000) ** 0.5  # E[Q_00] = 0, Var = 1/3


def test_unknown_init_is_refused():
    assert RUM_INITS == ("glorot", "orthogonal")
    with pytest.raises(OrthornnError, match="init: unknown 'haar'; choose one of glorot, orthogonal"):
        RUMCell(2, 3, init="haar")
    rum = RUM(3, 4, lam=1.0, init="orthogonal")  # the layer passes it to its cell
    assert rum.cell.init == "orthogonal" and rum(torch.randn(2, 5, 3))[0].shape == (2, 5, 4)


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_chunked_forward_with_carried_state_equals_one_shot(lam):
    torch.manual_seed(4)
    rum = RUM(3, 5, lam=lam, eta=2.0)
    x = torch.randn(2, 12, 3)
    y, (h, R) = rum(x)
    parts, state = [], None
    for chunk in x.split([5, 1, 6], dim=1):
        yc, state = rum(chunk, state)
        parts.append(yc)
    torch.testing.assert_close(torch.cat(parts, 1), y, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(state.h, h, atol=ATOL["float64"], rtol=0)
    if lam:
        torch.testing.assert_close(state.R, R, atol=ATOL["float64"], rtol=0)
    # gradients through the carried state are those of the one-shot run
    g1 = torch.autograd.grad(y.square().sum(), rum.cell.weight_h)[0]
    g2 = torch.autograd.grad(torch.cat(parts, 1).square().sum(), rum.cell.weight_h)[0]
    torch.testing.assert_close(g1, g2, atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("lam", [0.0, 1.0])
@pytest.mark.parametrize("eta", [None, 0.7])
def test_gradcheck_tiny_rum(lam, eta):
    torch.manual_seed(5)
    rum = RUM(2, 3, lam=lam, eta=eta)
    names = [n for n, _ in rum.named_parameters()]
    x = torch.randn(2, 4, 2, requires_grad=True)

    def f(x, *params):
        out, state = torch.func.functional_call(rum, dict(zip(names, params, strict=True)), (x,))
        return out if state.R is None else (out, state.R)

    params = [p.detach().clone().requires_grad_() for p in rum.parameters()]
    assert torch.autograd.gradcheck(f, (x, *params))


def test_zoneout_train_keeps_or_updates_each_unit_and_eval_uses_expectation():
    torch.manual_seed(6)
    cell = RUMCell(3, 50, zoneout=0.5)
    x, state = torch.randn(4, 3), RUMState(torch.randn(4, 50), None)
    cell.eval()
    plain = RUMCell(3, 50)
    plain.load_state_dict(cell.state_dict())
    new = plain(x, state).h
    torch.testing.assert_close(cell(x, state).h, 0.5 * state.h + 0.5 * new)
    cell.train()
    out = cell(x, state).h
    kept, updated = out == state.h, out == new
    assert bool((kept | updated).all()) and bool(kept.any()) and bool(updated.any())


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(OrthornnError, match="eta"):
        RUMCell(2, 3, eta=0.0)
    with pytest.raises(OrthornnError, match="lam"):
        RUMCell(2, 3, lam=float("nan"))
    with pytest.raises(OrthornnError, match="zoneout"):
        RUMCell(2, 3, zoneout=1.0)
    with pytest.raises(ShapeError, match=r"\(B, T, 2\)"):
        RUM(2, 3)(torch.randn(4, 3))
    rum = RUM(2, 3, lam=1.0)
    with pytest.raises(ShapeError, match="needs R"):
        rum(torch.randn(1, 2, 2), RUMState(torch.zeros(1, 3), None))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", [{"lam": 1.0}, {"lam": 0.5, "learn_lam": True}], ids=["lam=1", "learned lam"])
def test_runs_on_device_and_dtype(device, dtype, options):
    # a learned λ runs the spectral node: torch operations on the device, the eigen-update on the host
    torch.manual_seed(7)
    rum = RUM(3, 4, eta=1.0, device=device, dtype=dtype, **options)
    x = torch.randn(2, 5, 3, device=device, dtype=dtype)
    y, (_h, R) = rum(x)
    assert y.device.type == device and y.dtype == dtype and R.device.type == device
    y.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in rum.parameters())


#: the function of orthornn.nn.rum.cell that runs each memory path
PATH_FUNCTIONS = {
    "sequence0": "sequence0",
    "step0": "fused_step0",
    "sequence1": "sequence1",
    "recompute": "fused_step1_recompute",
    "stored": "fused_step1",
    "spectral": "spectral_sequence",
    "fractional": "fractional_step",
}

EFFICIENT = {"lam": 1.0, "memory_efficient": True}

#: case: (cell options, native kernels on, grad enabled, a zero ε_3, the paths that run, in order)
DISPATCH = {
    "lam=0": ({}, True, True, False, ["sequence0"]),
    "lam=0, zero eps: declined": ({"embed_bias": False}, True, True, True, ["sequence0", "step0"]),
    "lam=0, layer norm": ({"layer_norm": True}, True, True, False, ["step0"]),
    "lam=0, zoneout": ({"zoneout": 0.2}, True, True, False, ["step0"]),
    "lam=1": ({"lam": 1.0}, True, True, False, ["sequence1"]),
    "lam=1, no kernel: declined": ({"lam": 1.0}, False, True, False, ["sequence1", "stored"]),
    "lam=1, zero eps: declined": ({"lam": 1.0, "embed_bias": False}, True, True, True, ["sequence1", "stored"]),
    "lam=1, layer norm": ({"lam": 1.0, "layer_norm": True}, True, True, False, ["stored"]),
    "lam=1 efficient, no kernel": (EFFICIENT, False, True, False, ["sequence1", "recompute"]),
    "lam=1 efficient, zoneout": ({**EFFICIENT, "zoneout": 0.2}, True, True, False, ["recompute"]),
    "lam=1 efficient, no grad": ({**EFFICIENT, "layer_norm": True}, True, False, False, ["stored"]),
    "lam=0.5": ({"lam": 0.5}, True, True, False, ["spectral"]),
    "lam=0.5, no kernel": ({"lam": 0.5}, False, True, False, ["spectral"]),
    "lam=0.5, zero eps: declined": ({"lam": 0.5, "embed_bias": False}, True, True, True, ["spectral", "fractional"]),
    "lam=0.5, zoneout": ({"lam": 0.5, "zoneout": 0.2}, True, True, False, ["fractional"]),
    "learned lam from 1": ({"lam": 1.0, "learn_lam": True}, True, True, False, ["spectral"]),
}


@pytest.mark.parametrize("case", DISPATCH)
def test_memory_path_names_the_path_that_runs(case, monkeypatch):
    """RUM.forward runs the path memory_path names (a node that declines, then the step path the
    rule names without nodes), and nothing else; a cell on its own runs the step path."""
    options, native, grad, zero, want = DISPATCH[case]
    with kernels.native(True):
        built = kernels.rum1() is not None
    if native and want == ["sequence1"] and not built:
        want = ["sequence1", "stored"]  # no C compiler here: the node declines
    ran: list[str] = []

    def spy(name, fn):
        def run(*args, **kwargs):
            ran.append(name)
            return fn(*args, **kwargs)

        return run

    for name, attr in PATH_FUNCTIONS.items():
        monkeypatch.setattr(cell_module, attr, spy(name, getattr(cell_module, attr)))
    torch.manual_seed(8)
    rum = RUM(3, 4, **options)
    x = torch.randn(2, 5, 3)
    if zero:
        x[1, 2] = 0.0  # ε_3 = 0 (no embedding bias): a degenerate step
    state = rum.cell.initial_state(2, like=x)
    with kernels.native(native), torch.set_grad_enabled(grad):
        assert memory_path(rum.cell, sequence=True, R=state.R) == want[0]
        y, _ = rum(x, state)
        if len(want) == 2:  # the node declined: the step path is the rule's
            assert memory_path(rum.cell, sequence=True, nodes=False, R=state.R) == want[1]
    assert ran[0] == want[0] and set(ran) == set(want), ran
    if grad:
        y.sum().backward()
    ran.clear()
    rum.cell(x[:, 0])  # one step: never a sequence node, never the tape
    assert ran == [memory_path(rum.cell)] and ran[0] in ("step0", "stored", "fractional")


#: orthornn.nn.rum.__all__ before RUM became a package (every name stays importable from there)
NAMES_BEFORE_THE_PACKAGE = [
    "FAST_PATH_MIN_1PC",
    "RUM",
    "SEQ0_CHUNK_ROWS",
    "MemoryTape",
    "RUMCell",
    "RUMState",
    "fused_step0",
    "fused_step1",
    "memory_step",
    "memory_step_recompute",
    "memory_update",
    "rotate_step",
    "sequence0",
    "sequence1",
    "time_normalize",
]


def test_the_package_keeps_every_public_name():
    public = orthornn.nn.rum.__all__
    assert set(NAMES_BEFORE_THE_PACKAGE) <= set(public)
    assert len(set(public)) == len(public) and all(hasattr(orthornn.nn.rum, n) for n in public)
    for name in public:  # each function or class is that of its module (no wrapper, no shadowing)
        obj = getattr(orthornn.nn.rum, name)
        if callable(obj):
            module = importlib.import_module(obj.__module__)
            assert module.__name__.startswith("orthornn.nn.rum.") and getattr(module, name) is obj
    assert (orthornn.nn.RUM, orthornn.nn.RUMCell, orthornn.nn.RUMState) == (RUM, RUMCell, RUMState)
