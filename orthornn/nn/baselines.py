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

__all__ = ["GRU", "LSTM", "LSTM_INITS"]

#: Initialisations of :class:`LSTM`: torch's own, or TensorFlow 1's ``BasicLSTMCell``.
LSTM_INITS = ("torch", "tf")


def _check(x: Tensor, n_x: int, name: str) -> None:
    if x.dim() != 3 or x.shape[-1] != n_x:
        raise ShapeError(f"{name} input must be (B, T, {n_x}), got {tuple(x.shape)}")


class LSTM(nn.Module):
    r"""One-layer ``torch.nn.LSTM`` (batch_first) with state ``(h, c)`` of shapes (B, N).

    ``forget_bias`` is added to the forget-gate bias at initialisation (1.0 by default, the
    usual choice; 0 gives torch's own initialisation). ``init`` picks the initialisation:

    * ``"torch"`` (default): ``torch.nn.LSTM``'s own, every weight and both biases
      ``U(±1/√N)``, ``forget_bias`` added to ``bias_hh``'s forget slice;
    * ``"tf"``: TensorFlow 1's ``BasicLSTMCell``, as the official RUM code's LSTM baseline is
      built. Its one kernel on ``[x; h]``, of shape ``(N_x + N, 4N)``, is Glorot-uniform,
      ``U(±√(6/(N_x + N + 4N)))``, so every entry of ``weight_ih`` and ``weight_hh`` is drawn
      from that one bound; its one bias starts at 0 (``bias_ih``, trained), and the constant
      ``forget_bias`` it adds to the forget gate's pre-activation is ``bias_hh``, frozen
      (``requires_grad=False``: 0 except ``forget_bias`` on the forget slice). torch's two
      trained biases would move the gate's bias twice as fast as TensorFlow's one.

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
        init: str = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if init not in LSTM_INITS:
            raise ValueError(f"init: unknown {init!r}; choose one of {', '.join(LSTM_INITS)}")
        self.input_size, self.hidden_size, self.init = int(input_size), int(hidden_size), init
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True, device=device, dtype=dtype)
        with torch.no_grad():
            if init == "tf":
                bound = (6.0 / (input_size + 5 * hidden_size)) ** 0.5
                for weight in (self.rnn.weight_ih_l0, self.rnn.weight_hh_l0):
                    weight.uniform_(-bound, bound)
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_hh_l0.requires_grad_(False)
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
