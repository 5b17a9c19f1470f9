r"""LSTM and GRU baselines with the interface of the other orthornn recurrent layers.

``forward(x, state=None) -> (output, state)``, ``batch_first``, one layer; the state is that of
the last step without the layer axis torch uses: ``(h, c)`` for the LSTM, ``h`` for the GRU,
each (B, N). They delegate to ``torch.nn.LSTM`` / ``torch.nn.GRU`` (cuDNN on GPU).

.. math::

    \text{LSTM:}\ c_t = f_t \odot c_{t-1} + i_t \odot \tanh(\cdot),\ h_t = o_t \odot \tanh(c_t);
    \qquad \text{GRU:}\ h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

References
----------
Hochreiter & Schmidhuber 1997; Cho et al. 2014; the baselines of Henaff et al. 2016 §4 and
Dangovski et al. 2017 §4.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import ShapeError

__all__ = ["GRU", "LSTM"]


def _check(x: Tensor, n_x: int, name: str) -> None:
    if x.dim() != 3 or x.shape[-1] != n_x:
        raise ShapeError(f"{name} input must be (B, T, {n_x}), got {tuple(x.shape)}")


class LSTM(nn.Module):
    r"""One-layer ``torch.nn.LSTM`` (batch_first) with state ``(h, c)`` of shapes (B, N).

    ``forget_bias`` is added to the forget-gate bias at initialisation (1.0 by default, the
    usual choice; 0 gives torch's own initialisation).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> lstm = LSTM(3, 5, dtype=torch.float64)
    >>> x = torch.randn(2, 7, 3, dtype=torch.float64)
    >>> y, s = lstm(x)
    >>> y1, s1 = lstm(x[:, :3]); y2, s2 = lstm(x[:, 3:], s1)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y)) and bool(torch.allclose(s2[1], s[1]))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget_bias: float = 1.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True, device=device, dtype=dtype)
        with torch.no_grad():
            self.rnn.bias_hh_l0[hidden_size : 2 * hidden_size] += forget_bias

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run over ``x`` (B, T, N_x); return outputs (B, T, N) and ``(h, c)``."""
        _check(x, self.input_size, "LSTM")
        s = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        y, (h, c) = self.rnn(x, s)
        return y, (h.squeeze(0), c.squeeze(0))


class GRU(nn.Module):
    r"""One-layer ``torch.nn.GRU`` (batch_first) with state ``h`` of shape (B, N).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> gru = GRU(3, 5, dtype=torch.float64)
    >>> y, h = gru(torch.randn(2, 7, 3, dtype=torch.float64))
    >>> bool(torch.equal(y[:, -1], h))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.rnn = nn.GRU(input_size, hidden_size, batch_first=True, device=device, dtype=dtype)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run over ``x`` (B, T, N_x); return outputs (B, T, N) and ``h``."""
        _check(x, self.input_size, "GRU")
        y, h = self.rnn(x, None if state is None else state.unsqueeze(0))
        return y, h.squeeze(0)
