r"""Recurrent networks with an EUNN (orthogonal Givens-mesh) kernel: EUNN-RNN and GORU.

.. math::

    \text{EUNN-RNN:}\quad h_t &= \operatorname{modReLU}(U h_{t-1} + W x_t,\ b) \\
    \text{GORU:}\quad r_t &= \sigma(W_r x_t + V_r h_{t-1} + b_r),\quad
                      z_t = \sigma(W_z x_t + V_z h_{t-1} + b_z) \\
    \tilde h_t &= \operatorname{modReLU}(W x_t + r_t \odot U h_{t-1},\ b),\quad
    h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t

with ``U`` an :class:`~orthornn.nn.EUNN` layer (orthogonal for every value of its phases) and
the real modReLU ``modReLU(z, b) = z · ReLU(|z|_ε + b) / |z|_ε``, ``|z|_ε = sqrt(z² + ε)``.
With ``ε = 0`` (the default) this is ``sign(z) · ReLU(|z| + b)``, computed without dividing
by zero; ``ε > 0`` is the smoothed form of the complex-valued implementations.

References
----------
Jing et al. (2017), *Tunable Efficient Unitary Neural Networks (EUNN) and their application to
RNNs*, ICML; Jing et al. (2017), *Gated Orthogonal Recurrent Units*, arXiv:1706.02761;
Arjovsky, Shah, Bengio (2016), modReLU.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..errors import OrthornnError, ShapeError
from .eunn import EUNN

__all__ = ["EUNNRNN", "GORU", "modrelu"]


def modrelu(z: Tensor, b: Tensor, eps: float = 0.0) -> Tensor:
    r"""Real modReLU: :math:`z \cdot \operatorname{ReLU}(|z|_\varepsilon + b) / |z|_\varepsilon`.

    Finite value and gradient everywhere (``z = 0`` maps to 0 when ``eps = 0``).

    >>> modrelu(torch.tensor([-2.0, 0.0, 0.5, 3.0]), torch.tensor(-1.0)).tolist()
    [-1.0, 0.0, 0.0, 2.0]
    """
    if eps == 0.0:
        return torch.sign(z) * torch.relu(z.abs() + b)
    norm = torch.sqrt(z * z + eps)
    return z * (torch.relu(norm + b) / norm)


def _check(x: Tensor, n_x: int, name: str) -> None:
    if x.dim() != 3 or x.shape[-1] != n_x:
        raise ShapeError(f"{name} input must be (B, T, {n_x}), got {tuple(x.shape)}")


class EUNNRNN(nn.Module):
    r"""EUNN-RNN (Jing et al. 2017): :math:`h_t = \operatorname{modReLU}(U h_{t-1} + W x_t, b)`.

    ``forward(x, state=None) -> (output, h_T)``, ``batch_first``; ``U`` is a tunable EUNN of
    the given ``capacity`` (default ``N``, which reaches all of SO(N)).

    Examples
    --------
    With ``b = 0`` and no input the map is ``h ↦ U h``: the norm is kept.

    >>> _ = torch.manual_seed(0)
    >>> rnn = EUNNRNN(2, 6, capacity=4, dtype=torch.float64)
    >>> with torch.no_grad():
    ...     _ = rnn.bias.zero_()
    >>> h0 = torch.randn(3, 6, dtype=torch.float64)
    >>> _, hT = rnn(torch.zeros(3, 10, 2, dtype=torch.float64), h0)
    >>> bool(torch.allclose(hT.norm(dim=-1), h0.norm(dim=-1)))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        capacity: int | None = None,
        layout: str = "tunable",
        eps: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not (math.isfinite(eps) and eps >= 0):
            raise OrthornnError(f"eps must be a non-negative number, got {eps}")
        self.input_size, self.hidden_size, self.eps = int(input_size), int(hidden_size), float(eps)
        kw = {"device": device, "dtype": dtype}
        self.kernel = EUNN(self.hidden_size, capacity, layout, **kw)
        bound = 1.0 / math.sqrt(self.input_size)
        self.weight_in = nn.Parameter(torch.empty(self.hidden_size, self.input_size, **kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(self.hidden_size, **kw))

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run over ``x`` (B, T, N_x) from ``state`` (B, N) (default 0)."""
        _check(x, self.input_size, "EUNNRNN")
        wx = torch.nn.functional.linear(x, self.weight_in)
        h = x.new_zeros(x.shape[0], self.hidden_size) if state is None else state
        hs = []
        for wx_t in wx.unbind(1):
            h = modrelu(self.kernel(h) + wx_t, self.bias, self.eps)
            hs.append(h)
        return torch.stack(hs, 1), h


class GORU(nn.Module):
    r"""Gated Orthogonal Recurrent Unit (Jing et al. 2017): a GRU whose candidate uses an EUNN kernel.

    .. math:: \tilde h_t = \operatorname{modReLU}(W x_t + r_t \odot U h_{t-1}, b),\quad
              h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t

    Reset and update gates are sigmoids of one affine map of ``[x, h]``. ``forward(x,
    state=None) -> (output, h_T)``, ``batch_first``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> goru = GORU(3, 4, dtype=torch.float64)
    >>> x = torch.randn(2, 8, 3, dtype=torch.float64)
    >>> y, h = goru(x)
    >>> y1, h1 = goru(x[:, :5]); y2, h2 = goru(x[:, 5:], h1)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        capacity: int | None = None,
        layout: str = "tunable",
        eps: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not (math.isfinite(eps) and eps >= 0):
            raise OrthornnError(f"eps must be a non-negative number, got {eps}")
        self.input_size, self.hidden_size, self.eps = int(input_size), int(hidden_size), float(eps)
        n, nx = self.hidden_size, self.input_size
        kw = {"device": device, "dtype": dtype}
        self.kernel = EUNN(n, capacity, layout, **kw)
        bx, bh = math.sqrt(6.0 / (nx + 3 * n)), math.sqrt(6.0 / (3 * n))
        #: ``[W_r; W_z; W]`` stacked, (3N, N_x).
        self.weight_x = nn.Parameter(torch.empty(3 * n, nx, **kw).uniform_(-bx, bx))
        #: ``[V_r; V_z]`` stacked, (2N, N).
        self.weight_h = nn.Parameter(torch.empty(2 * n, n, **kw).uniform_(-bh, bh))
        #: ``[b_r; b_z; b]``: gate biases 0, modReLU bias 0.
        self.bias = nn.Parameter(torch.zeros(3 * n, **kw))

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run over ``x`` (B, T, N_x) from ``state`` (B, N) (default 0)."""
        _check(x, self.input_size, "GORU")
        n = self.hidden_size
        proj = torch.nn.functional.linear(x, self.weight_x, torch.cat([self.bias[: 2 * n], self.bias.new_zeros(n)]))
        b = self.bias[2 * n :]
        h = x.new_zeros(x.shape[0], n) if state is None else state
        hs = []
        for p_t in proj.unbind(1):
            gates = torch.sigmoid(torch.addmm(p_t[:, : 2 * n], h, self.weight_h.t()))
            r, z = gates[:, :n], gates[:, n:]
            cand = modrelu(p_t[:, 2 * n :] + r * self.kernel(h), b, self.eps)
            h = cand + z * (h - cand)
            hs.append(h)
        return torch.stack(hs, 1), h
