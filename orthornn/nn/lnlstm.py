r"""A layer-normalised LSTM cell with zoneout: the fast cell of a fast-slow network.

.. math::

    (\tilde f, \tilde\imath, \tilde o, \tilde g) &= W_x x_t + W_h h_{t-1}, \qquad
    z_k = \operatorname{LN}_k(\tilde z_k) \quad (k = f, i, o, g) \\
    \tilde c_t &= \sigma(z_f + b_f) \odot c_{t-1} + \sigma(z_i) \odot \tanh(z_g), \qquad
    \tilde h_t = \sigma(z_o) \odot \tanh(\operatorname{LN}_c(\tilde c_t)) \\
    c_t &= m^c_t \odot c_{t-1} + (1 - m^c_t) \odot \tilde c_t, \qquad
    h_t = m^h_t \odot h_{t-1} + (1 - m^h_t) \odot \tilde h_t

:math:`\operatorname{LN}(v) = \gamma \odot (v - \bar v)/\sqrt{\operatorname{var} v + \epsilon} +
\beta` normalises over the ``N`` units, each of the four gates and the cell with its own gain
and shift (the shifts are the gates' biases); :math:`b_f` is the constant forget bias (1.0).
Zoneout (Krueger et al. 2016): in training each unit of the cell and of the hidden state keeps
its previous value with probability :math:`p_c` and :math:`p_h` (:math:`m \sim
\operatorname{Bernoulli}(p)`, drawn from torch's generator); in evaluation the expectation,
:math:`m = p`. With ``input_size = 0`` the cell has no input term (the third and later fast
cells of an FS-RNN read only their state).

References
----------
J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer normalization", 2016, §3.1 (layer-normalised LSTM).
D. Krueger et al., "Zoneout: regularizing RNNs by randomly preserving hidden activations", 2016.
A. Mujika, F. Meier, A. Steger, "Fast-slow recurrent neural networks", NIPS 2017 (the cell of
their code: one linear map of ``[x; h]``, each gate normalised, the cell normalised before the
output's tanh); RUM (Dangovski, Jing, Soljačić 2017), appendix D.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..errors import OrthornnError, ShapeError

__all__ = ["LayerNormLSTMCell", "check_probability", "zoneout"]


def check_probability(name: str, p: float) -> float:
    """``p`` as a float in ``[0, 1)``; :class:`OrthornnError` naming ``name`` otherwise."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not (math.isfinite(p) and 0.0 <= p < 1.0):
        raise OrthornnError(f"{name}: must be a probability in [0, 1), got {p!r}")
    return float(p)


def zoneout(new: Tensor, old: Tensor, p: float, training: bool) -> Tensor:
    r"""Zoneout of ``new`` towards ``old``: :math:`m \odot old + (1 - m) \odot new` with
    :math:`m \sim \operatorname{Bernoulli}(p)` in training, :math:`m = p` in evaluation."""
    if p == 0.0:
        return new
    if training:
        return torch.where(torch.rand_like(new) < p, old, new)
    return p * old + (1.0 - p) * new


class LayerNormLSTMCell(nn.Module):
    r"""One step of a layer-normalised LSTM with cell and hidden zoneout (the module docstring's
    recurrence); state ``(h, c)``, each (B, N).

    Parameters
    ----------
    input_size, hidden_size : int
        ``N_x`` (0: no input) and ``N``.
    forget_bias : float
        :math:`b_f`, added to the forget gate's normalised pre-activation (default 1.0).
    cell_zoneout, hidden_zoneout : float
        Zoneout probabilities :math:`p_c`, :math:`p_h` in ``[0, 1)`` (default 0: off).
    device, dtype
        Where and in which precision the parameters live.

    Notes
    -----
    Initialisation: ``W = [W_x, W_h]`` uniform on :math:`\pm 1/\sqrt N` (torch's LSTM's);
    layer-norm gains 1, shifts 0.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> cell = LayerNormLSTMCell(3, 4, dtype=torch.float64)
    >>> h, c = cell(torch.randn(2, 3, dtype=torch.float64))
    >>> h.shape, bool((h.abs() < 1).all())
    (torch.Size([2, 4]), True)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget_bias: float = 1.0,
        cell_zoneout: float = 0.0,
        hidden_zoneout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if int(input_size) < 0 or int(hidden_size) < 1:
            raise OrthornnError(f"sizes must be input_size >= 0, hidden_size >= 1, got {input_size}, {hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.forget_bias = float(forget_bias)
        self.cell_zoneout = check_probability("cell_zoneout", cell_zoneout)
        self.hidden_zoneout = check_probability("hidden_zoneout", hidden_zoneout)
        kw = {"device": device, "dtype": dtype}
        n = self.hidden_size
        #: ``W_x``, shape (4N, N_x): gates in the order f, i, o, g.
        self.weight_x = nn.Parameter(torch.empty(4 * n, self.input_size, **kw))
        #: ``W_h``, shape (4N, N).
        self.weight_h = nn.Parameter(torch.empty(4 * n, n, **kw))
        self.ln_gates = nn.ModuleList(nn.LayerNorm(n, **kw) for _ in range(4))
        self.ln_cell = nn.LayerNorm(n, **kw)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kernels uniform on ±1/√N (``weight_x`` then ``weight_h``); layer norms 1 and 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            self.weight_x.uniform_(-bound, bound)
            self.weight_h.uniform_(-bound, bound)
        for ln in (*self.ln_gates, self.ln_cell):
            ln.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, cell_zoneout={self.cell_zoneout}, "
            f"hidden_zoneout={self.hidden_zoneout}"
        )

    def initial_state(self, batch: int, *, like: Tensor) -> tuple[Tensor, Tensor]:
        """``h_0 = c_0 = 0`` on ``like``'s device and dtype."""
        z = like.new_zeros(batch, self.hidden_size)
        return z, z

    def input_projection(self, x: Tensor) -> Tensor:
        """``W_x x`` over any leading axes: shape (..., 4N) (one GEMM for a whole sequence)."""
        return x @ self.weight_x.t()

    def step(self, proj: Tensor | None, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """One step from a precomputed :meth:`input_projection` ``proj`` (B, 4N), or None (no
        input); returns ``(h, c)``."""
        h, c = state
        pre = h @ self.weight_h.t() if proj is None else torch.addmm(proj, h, self.weight_h.t())
        f, i, o, g = (ln(z) for ln, z in zip(self.ln_gates, pre.chunk(4, dim=-1), strict=True))
        c_new = torch.sigmoid(f + self.forget_bias) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(self.ln_cell(c_new))
        c_new = zoneout(c_new, c, self.cell_zoneout, self.training)
        h_new = zoneout(h_new, h, self.hidden_zoneout, self.training)
        return h_new, c_new

    def forward(self, x: Tensor | None, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """One step: ``x`` (B, N_x), or None when ``input_size == 0`` (then ``state`` is needed);
        returns ``(h, c)``."""
        if x is None:
            if self.input_size:
                raise ShapeError(f"this cell reads an input of size {self.input_size}; got None")
            if state is None:
                raise ShapeError("a cell without input needs a state")
            return self.step(None, state)
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ShapeError(f"LayerNormLSTMCell input must be (B, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.initial_state(x.shape[0], like=x)
        return self.step(self.input_projection(x) if self.input_size else None, state)
