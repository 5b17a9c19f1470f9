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
