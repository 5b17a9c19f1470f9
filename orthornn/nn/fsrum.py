r"""FS-RUM: the fast-slow network of Mujika et al. (2017) with a RUM as its slow cell (RUM, §4.4, appendix D).

A fast layer of :math:`k \ge 2` layer-normalised LSTM cells :math:`F_1 \dots F_k` runs in
series at every step; a slow RUM cell :math:`S` runs once per step between :math:`F_1` and
:math:`F_2`:

.. math::

    h^{F_1}_t &= F_1\big(h^{F_k}_{t-1},\ x_t\big) \\
    h^{S}_t &= S\big(h^{S}_{t-1},\ h^{F_1}_t\big) \\
    h^{F_2}_t &= F_2\big(h^{F_1}_t,\ h^{S}_t\big) \\
    h^{F_i}_t &= F_i\big(h^{F_{i-1}}_t\big), \qquad 3 \le i \le k \\
    y_t &= h^{F_k}_t

— each cell written :math:`\text{cell}(\text{state}, \text{input})`: the fast state
:math:`(h, c)` passes from cell to cell within a step (:math:`F_1` starts from the last fast
cell's state of the previous step), :math:`F_2` reads the slow cell's output and the cells after
it read no input. The fast cells are :class:`~orthornn.nn.lnlstm.LayerNormLSTMCell` (layer norm
on the gates and the cell, cell and hidden zoneout); the slow cell is a
:class:`~orthornn.nn.rum.RUMCell` with layer norm on its update gate and target, hidden zoneout
and time normalisation η — the configuration of the RUM paper's FS-RUM-2 (appendix D, Table 5:
:math:`k = 2`, fast size 700, slow size 1000, λ = 0, η = 1, cell zoneout 0.5, hidden zoneout 0.1).
The state :class:`FSState` is ``((h, c), (h_S, R_S))``; passing it back in continues the sequence
exactly, so truncated BPTT carries it from window to window.

References
----------
A. Mujika, F. Meier, A. Steger, "Fast-slow recurrent neural networks", NIPS 2017, §3 (eqs. 1–4).
R. Dangovski, L. Jing, M. Soljačić, "Rotational Unit of Memory", 2017, §4.4 and appendix D.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from ..errors import OrthornnError, ShapeError
from .lnlstm import LayerNormLSTMCell
from .rum import RUMCell, RUMState

__all__ = ["FSRUM", "FSState"]


class FSState(NamedTuple):
    """State of an :class:`FSRUM`: the fast state ``(h, c)`` (each (B, N_F)) and the slow RUM's
    :class:`~orthornn.nn.rum.RUMState` ``(h_S, R_S)``."""

    fast: tuple[Tensor, Tensor]
    slow: RUMState


class FSRUM(nn.Module):
    r"""A fast-slow RNN over whole sequences: ``k`` layer-normalised LSTM cells around a slow RUM
    cell (the module docstring's recurrence); ``batch_first``.

    ``forward(x, state=None) -> (output, state)``: ``x`` (B, T, N_x), ``output`` the last fast
    cell's hidden states (B, T, N_F), ``state`` the final :class:`FSState`.

    Parameters
    ----------
    input_size : int
        ``N_x``.
    fast_size, slow_size : int
        ``N_F`` (every fast cell) and ``N_S`` (the RUM).
    fast_cells : int
        ``k ≥ 2``.
    lam, learn_lam, eta, init
        The slow RUM's λ, whether λ is learned, time normalisation η (None: off) and kernel
        initialisation (:class:`~orthornn.nn.rum.RUMCell`).
    cell_zoneout, hidden_zoneout : float
        Zoneout of the fast cells' ``c`` and ``h`` (:math:`p_c`, :math:`p_h`); the slow cell's
        ``h`` takes ``hidden_zoneout`` too.
    layer_norm : bool
        Layer norm in the slow RUM (on its update gate and target; default True). The fast cells
        are always layer-normalised.
    device, dtype
        Where and in which precision the parameters live.

    Examples
    --------
    Two windows with the carried state give the one-shot result:

    >>> _ = torch.manual_seed(0)
    >>> net = FSRUM(3, 4, 5, dtype=torch.float64)
    >>> x = torch.randn(2, 7, 3, dtype=torch.float64)
    >>> y, s = net(x)
    >>> y1, s1 = net(x[:, :3]); y2, s2 = net(x[:, 3:], s1)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y)) and bool(torch.allclose(s2.slow.h, s.slow.h))
    True
    """

    def __init__(
        self,
        input_size: int,
        fast_size: int,
        slow_size: int,
        *,
        fast_cells: int = 2,
        lam: float = 0.0,
        learn_lam: bool = False,
        eta: float | None = 1.0,
        init: str = "glorot",
        cell_zoneout: float = 0.0,
        hidden_zoneout: float = 0.0,
        layer_norm: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(fast_cells, bool) or not isinstance(fast_cells, int) or fast_cells < 2:
            raise OrthornnError(f"fast_cells: a fast-slow network has at least 2 fast cells, got {fast_cells!r}")
        kw: dict[str, Any] = {"device": device, "dtype": dtype}
        zo = {"cell_zoneout": cell_zoneout, "hidden_zoneout": hidden_zoneout}
        self.input_size, self.hidden_size, self.slow_size = int(input_size), int(fast_size), int(slow_size)
        inputs = [self.input_size, self.slow_size] + [0] * (fast_cells - 2)
        self.fast = nn.ModuleList(LayerNormLSTMCell(n, self.hidden_size, **zo, **kw) for n in inputs)
        self.slow = RUMCell(
            self.hidden_size, self.slow_size, lam=lam, learn_lam=learn_lam, eta=eta, init=init,
            layer_norm=layer_norm, zoneout=hidden_zoneout, **kw,
        )  # fmt: skip

    def initial_state(self, batch: int, *, like: Tensor) -> FSState:
        """Zero fast state; the slow RUM's ``h_0 = 0``, ``R_0 = I`` (None for λ = 0)."""
        return FSState(self.fast[0].initial_state(batch, like=like), self.slow.initial_state(batch, like=like))

    def forward(self, x: Tensor, state: FSState | Sequence[Any] | None = None) -> tuple[Tensor, FSState]:
        """Run over ``x`` (B, T, N_x); return the outputs (B, T, N_F) and the final state."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(f"FSRUM input must be (B, T, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.initial_state(x.shape[0], like=x)
        fast_state = tuple(state[0])
        slow_state = RUMState(*state[1])
        if len(fast_state) != 2 or fast_state[0].shape != (x.shape[0], self.hidden_size):
            raise ShapeError(f"FSRUM fast state must be (h, c), each ({x.shape[0]}, {self.hidden_size})")
        fs: tuple[Tensor, Tensor] = (fast_state[0], fast_state[1])
        first, second, rest = self.fast[0], self.fast[1], list(self.fast)[2:]
        outputs = []
        for proj_t in first.input_projection(x).unbind(1):  # one GEMM for the whole window's inputs
            fs = first.step(proj_t, fs)
            slow_state = self.slow(fs[0], slow_state)
            fs = second(slow_state.h, fs)
            for cell in rest:
                fs = cell.step(None, fs)
            outputs.append(fs[0])
        return torch.stack(outputs, 1), FSState(fs, slow_state)
