"""The character language model, the layer-normalised LSTM cell and FS-RUM.

Oracles: the LN-LSTM cell against the equations written out here with explicit means and
variances; FS-RUM against its recurrence composed here from its cells' one-step calls; truncated
BPTT (windows with the detached state carried) against one pass over the whole stream, for every
core; gradcheck of the cells in float64.
"""

from __future__ import annotations

import pytest
import torch
from tolerances import ATOL, ROLLOUT_PER_STEP

from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn import FSRUM, GRU, LSTM, RUM, LanguageModel, LayerNormLSTMCell
from orthornn.nn.lm import bits_per_character, detach_state, state_to_plain

F64 = torch.float64


def _ln(v: torch.Tensor, ln: torch.nn.LayerNorm) -> torch.Tensor:
    mean = v.mean(-1, keepdim=True)
    var = ((v - mean) ** 2).mean(-1, keepdim=True)
    return ln.weight * (v - mean) / torch.sqrt(var + ln.eps) + ln.bias


def _perturb(module: torch.nn.Module, seed: int = 3) -> None:
    """Move every layer-norm gain and shift off 1 and 0 (so a test sees them act)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.add_(0.3 * torch.randn(m.weight.shape, generator=g, dtype=F64))
                m.bias.add_(0.3 * torch.randn(m.bias.shape, generator=g, dtype=F64))


def test_ln_lstm_cell_follows_its_equations():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(3, 5, forget_bias=0.7, dtype=F64)
    _perturb(cell)
    x, h, c = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
    pre = x @ cell.weight_x.T + h @ cell.weight_h.T
    f, i, o, g = (_ln(z, ln) for z, ln in zip(pre.split(5, -1), cell.ln_gates, strict=True))
    c_ref = torch.sigmoid(f + 0.7) * c + torch.sigmoid(i) * torch.tanh(g)
    h_ref = torch.sigmoid(o) * torch.tanh(_ln(c_ref, cell.ln_cell))
    h_new, c_new = cell(x, (h, c))
    torch.testing.assert_close(c_new, c_ref, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(h_new, h_ref, atol=ATOL["float64"], rtol=0)


def test_ln_lstm_zoneout_keeps_units_in_training_and_averages_in_evaluation():
    torch.manual_seed(1)
    cell = LayerNormLSTMCell(2, 64, cell_zoneout=0.5, hidden_zoneout=0.25, dtype=F64)
    x, h, c = torch.randn(8, 2), torch.randn(8, 64), torch.randn(8, 64)
    plain = LayerNormLSTMCell(2, 64, dtype=F64)
    plain.load_state_dict(cell.state_dict())
    h_full, c_full = plain(x, (h, c))
    cell.eval()
    h_eval, c_eval = cell(x, (h, c))
    torch.testing.assert_close(c_eval, 0.5 * c + 0.5 * c_full, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(h_eval, 0.25 * h + 0.75 * h_full, atol=ATOL["float64"], rtol=0)
    cell.train()
    h_tr, c_tr = cell(x, (h, c))
    kept_c, kept_h = c_tr == c, h_tr == h
    assert torch.all(kept_c | (c_tr == c_full)) and torch.all(kept_h | (h_tr == h_full))
    assert 0.4 < kept_c.double().mean() < 0.6 and 0.15 < kept_h.double().mean() < 0.35


def test_ln_lstm_cell_gradcheck():
    torch.manual_seed(2)
    cell = LayerNormLSTMCell(2, 3, dtype=F64)
    x, h, c = (torch.randn(2, n, requires_grad=True) for n in (2, 3, 3))
    assert torch.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))


def test_fsrum_is_its_recurrence_composed_from_its_cells():
    """F1 reads x and the last fast cell's state, S reads h^F1, F2 reads h^S with F1's state,
    F3 reads nothing with F2's state; the output is h^F3."""
    torch.manual_seed(3)
    net = FSRUM(3, 4, 5, fast_cells=3, lam=1.0, eta=1.0, dtype=F64)
    _perturb(net)
    assert net.fast[2].weight_x.shape == (16, 0)  # the third fast cell has no input
    x = torch.randn(2, 6, 3)
    y, state = net(x)
    fs, ss = net.fast[0].initial_state(2, like=x), net.slow.initial_state(2, like=x)
    outs = []
    for t in range(6):
        f1 = net.fast[0](x[:, t], fs)
        ss = net.slow(f1[0], ss)
        f2 = net.fast[1](ss.h, f1)
        fs = net.fast[2](None, f2)
        outs.append(fs[0])
    torch.testing.assert_close(y, torch.stack(outs, 1), atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(state.slow.R, ss.R, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(state.fast[1], fs[1], atol=ATOL["float64"], rtol=0)
    assert ss.R is not None and torch.allclose(ss.R @ ss.R.transpose(1, 2), torch.eye(5).expand(2, 5, 5))


def test_fsrum_gradcheck():
    torch.manual_seed(4)
    net = FSRUM(2, 3, 3, eta=1.0, dtype=F64)
    x = torch.randn(2, 3, 2, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: net(x)[0], (x,))


def _cores():
    return {
        "rum0": lambda: RUM(4, 6, eta=1.0, dtype=F64),
        "rum1": lambda: RUM(4, 6, lam=1.0, dtype=F64),
        "rum-ln-zoneout": lambda: RUM(4, 6, layer_norm=True, zoneout=0.3, dtype=F64),
        "fsrum": lambda: FSRUM(4, 5, 6, eta=1.0, cell_zoneout=0.5, hidden_zoneout=0.1, dtype=F64),
        "fsrum-lam1": lambda: FSRUM(4, 5, 6, fast_cells=3, lam=1.0, dtype=F64),
        "lstm": lambda: LSTM(4, 6, dtype=F64),
        "gru": lambda: GRU(4, 6, dtype=F64),
    }


@pytest.mark.parametrize("name", sorted(_cores()))
def test_windows_with_the_carried_state_equal_one_long_sequence(name):
    """Truncated BPTT changes the gradients only: windows 0..W of contiguous streams, each from the
    previous window's detached state (round-tripped through a checkpoint's plain lists), give
    the logits and final state of one pass over the whole streams (evaluation mode: zoneout's
    expectation, no dropout)."""
    torch.manual_seed(5)
    lm = LanguageModel(7, 4, _cores()[name](), dropout=0.3, dtype=F64).eval()
    ids = torch.randint(0, 7, (3, 23))
    whole, final = lm(ids)
    parts, state = [], None
    for a in range(0, 23, 5):  # windows of 5, the last of 3
        logits, state = lm(ids[:, a : a + 5], state)
        parts.append(logits)
        state = state_to_plain(detach_state(state))
    tol = ROLLOUT_PER_STEP["float64"] * 23  # rounding grows with the steps of R's products
    torch.testing.assert_close(torch.cat(parts, 1), whole, atol=tol, rtol=0)
    flat_a = [t for t in _leaves(state) if t is not None]
    flat_b = [t for t in _leaves(final) if t is not None]
    assert len(flat_a) == len(flat_b) > 0 and all(not t.requires_grad for t in flat_a)
    for a, b in zip(flat_a, flat_b, strict=True):
        torch.testing.assert_close(a, b, atol=tol, rtol=0)


def _leaves(state):
    if isinstance(state, list | tuple):
        return [leaf for s in state for leaf in _leaves(s)]
    return [state]


def test_the_detached_state_stops_the_gradient_at_the_window():
    torch.manual_seed(6)
    lm = LanguageModel(5, 3, RUM(3, 4, lam=1.0, dtype=F64), dtype=F64)
    ids = torch.randint(0, 5, (2, 8))
    _, s = lm(ids[:, :4])
    logits, _ = lm(ids[:, 4:], detach_state(s))
    logits.sum().backward()
    g_detached = lm.embedding.weight.grad.clone()
    lm.zero_grad()
    logits, _ = lm(ids[:, 4:], s)  # not detached: the gradient reaches the first window's inputs
    logits.sum().backward()
    only_first = set(ids[:, :4].flatten().tolist()) - set(ids[:, 4:].flatten().tolist())
    for v in only_first:
        assert torch.all(g_detached[v] == 0) and torch.any(lm.embedding.weight.grad[v] != 0)


def test_dropout_acts_in_training_only():
    torch.manual_seed(7)
    lm = LanguageModel(5, 8, LSTM(8, 6, dtype=F64), dropout=0.5, dtype=F64)
    ids = torch.randint(0, 5, (2, 6))
    lm.eval()
    a, _ = lm(ids)
    b, _ = lm(ids)
    assert torch.equal(a, b)
    lm.train()
    c, _ = lm(ids)
    assert not torch.allclose(a, c)


def test_bits_per_character_is_the_cross_entropy_in_bits():
    assert bits_per_character(torch.log(torch.tensor(50.0)).item()) == pytest.approx(
        torch.log2(torch.tensor(50.0)).item()
    )


def test_bad_inputs_and_settings_are_refused():
    lm = LanguageModel(5, 3, RUM(3, 4))
    with pytest.raises(ShapeError, match=r"integer ids of shape \(B, T\)"):
        lm(torch.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"integer ids of shape \(B, T\)"):
        lm(torch.zeros(2, 4, 1, dtype=torch.int64))
    with pytest.raises(ShapeError, match=r"ids must lie in \[0, 5\), got 0 .. 5"):
        lm(torch.tensor([[0, 5]]))
    with pytest.raises(ShapeError, match="the core reads inputs of size 3, the embedding has 4"):
        LanguageModel(5, 4, RUM(3, 4))
    with pytest.raises(OrthornnError, match=r"dropout: must be a probability in \[0, 1\), got 1.0"):
        LanguageModel(5, 3, RUM(3, 4), dropout=1.0)
    with pytest.raises(OrthornnError, match="fast_cells: a fast-slow network has at least 2 fast cells, got 1"):
        FSRUM(3, 4, 4, fast_cells=1)
    with pytest.raises(OrthornnError, match="cell_zoneout: must be a probability"):
        LayerNormLSTMCell(3, 4, cell_zoneout=-0.1)
    net = FSRUM(3, 4, 5)
    with pytest.raises(ShapeError, match=r"FSRUM input must be \(B, T, 3\), got \(2, 3\)"):
        net(torch.zeros(2, 3))
    with pytest.raises(ShapeError, match=r"FSRUM fast state must be \(h, c\), each \(2, 4\)"):
        net(torch.zeros(2, 1, 3), ((torch.zeros(3, 4), torch.zeros(3, 4)), (torch.zeros(2, 5), None)))
    cell = LayerNormLSTMCell(3, 4)
    with pytest.raises(ShapeError, match=r"LayerNormLSTMCell input must be \(B, 3\)"):
        cell(torch.zeros(2, 4))
    with pytest.raises(ShapeError, match="reads an input of size 3; got None"):
        cell(None, (torch.zeros(2, 4), torch.zeros(2, 4)))
