"""LSTM/GRU baselines: the shared forward(x, state) -> (output, state) interface."""

from __future__ import annotations

import pytest
import torch
from tolerances import ATOL

from orthornn.errors import ShapeError
from orthornn.nn.baselines import GRU, LSTM


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_chunked_state_equals_one_shot_and_matches_torch(cls):
    torch.manual_seed(0)
    m = cls(3, 5)
    x = torch.randn(2, 9, 3)
    y, s = m(x)
    y1, s1 = m(x[:, :4])
    y2, _s2 = m(x[:, 4:], s1)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y, atol=ATOL["float64"], rtol=0)
    ref, _ = m.rnn(x)  # the wrapped torch module, called directly
    torch.testing.assert_close(y, ref, atol=0, rtol=0)
    last = s[0] if cls is LSTM else s
    assert last.shape == (2, 5) and torch.equal(last, y[:, -1])


def test_lstm_forget_bias_is_added():
    torch.manual_seed(1)
    a = LSTM(2, 4, forget_bias=0.0)
    torch.manual_seed(1)
    b = LSTM(2, 4, forget_bias=1.0)
    diff = b.rnn.bias_hh_l0 - a.rnn.bias_hh_l0
    torch.testing.assert_close(diff, torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 8))


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_bad_input_shape(cls):
    with pytest.raises(ShapeError, match=r"\(B, T, 3\)"):
        cls(3, 4)(torch.zeros(2, 3))


def _tf_basic_lstm(x, kernel, bias, forget_bias):
    """TensorFlow 1's BasicLSTMCell over x (B, T, N_x), written out: gates [x; h] @ kernel + bias
    split as (i, j, f, o), c' = c σ(f + forget_bias) + σ(i) tanh(j), h' = tanh(c') σ(o)."""
    B, T, _ = x.shape
    n = kernel.shape[1] // 4
    h = c = torch.zeros(B, n, dtype=x.dtype)
    out = []
    for t in range(T):
        i, j, f, o = (torch.cat([x[:, t], h], -1) @ kernel + bias).split(n, -1)
        c = c * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * torch.tanh(j)
        h = torch.tanh(c) * torch.sigmoid(o)
        out.append(h)
    return torch.stack(out, 1)


def test_tf_init_is_tensorflows_basic_lstm_cell_with_one_trained_bias():
    torch.manual_seed(2)
    nx, n = 3, 4
    m = LSTM(nx, n, init="tf", dtype=torch.float64)
    r = m.rnn
    # torch's gate order is (i, f, g, o), TensorFlow's (i, j, f, o) with j = g
    order = [0, 2, 1, 3]
    w_ih, w_hh, b_ih = (t.detach().view(4, n, -1) for t in (r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0))
    kernel = torch.cat([w_ih[order].reshape(4 * n, nx).T, w_hh[order].reshape(4 * n, n).T], 0)
    bias = b_ih[order].reshape(4 * n)
    assert torch.equal(bias, torch.zeros(4 * n, dtype=torch.float64))  # TF's bias starts at 0
    x = torch.randn(2, 6, nx, dtype=torch.float64)
    torch.testing.assert_close(m(x)[0], _tf_basic_lstm(x, kernel, bias, 1.0), rtol=1e-12, atol=1e-13)
    # one trained bias: bias_hh holds the constant forget bias and gets no gradient
    assert not r.bias_hh_l0.requires_grad and r.bias_ih_l0.requires_grad
    m(x)[0].sum().backward()
    assert r.bias_hh_l0.grad is None and r.bias_ih_l0.grad is not None
    expected = torch.zeros(4 * n, dtype=torch.float64)
    expected[n : 2 * n] = 1.0
    assert torch.equal(r.bias_hh_l0.detach(), expected)


def test_tf_init_draws_the_joint_glorot_bound():
    torch.manual_seed(3)
    nx, n = 20, 200
    m = LSTM(nx, n, init="tf", dtype=torch.float64)
    bound = (6.0 / (nx + n + 4 * n)) ** 0.5
    w = torch.cat([m.rnn.weight_ih_l0.detach().flatten(), m.rnn.weight_hh_l0.detach().flatten()])
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    # U(±b) has standard deviation b/√3: 176,000 draws estimate it to about 0.2 %
    assert abs(float(w.std()) / (bound / 3**0.5) - 1) < 0.01
    torch_init = LSTM(nx, n, dtype=torch.float64).rnn.weight_hh_l0.detach()
    assert 0.99 / n**0.5 < float(torch_init.abs().max()) <= 1 / n**0.5 < 0.95 * bound  # torch's U(±1/√N)


def test_the_config_names_the_same_inits():
    """orthornn.train.config keeps its own copy (it imports no torch): the two must agree."""
    from orthornn.nn.baselines import LSTM_INITS
    from orthornn.train.config import LSTM_INITS as CONFIG_LSTM_INITS

    assert CONFIG_LSTM_INITS == LSTM_INITS == ("torch", "tf")


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match=r"^init: unknown 'keras'; choose one of torch, tf$"):
        LSTM(2, 3, init="keras")
