r"""A character language model: embedding → recurrent core → softmax, with dropout; and the
state carried (detached) between truncated-BPTT windows.

.. math::

    e_t = \operatorname{drop}(E_{c_t}), \qquad (y_t, s_t) = \operatorname{core}(e_t, s_{t-1}), \qquad
    \ell_t = V \operatorname{drop}(y_t) + b, \qquad
    p(c_{t+1} = v \mid c_{\le t}) = \operatorname{softmax}(\ell_t)_v

with :math:`E \in \mathbb R^{|V| \times d}` the input embedding (RUM, appendix D: "we embed the
inputs into a higher-dimensional space"), dropout of rate :math:`p` on the core's input and
output (the paper's non-recurrent dropout; identity in evaluation) and any recurrent core with
``forward(x, state) -> (output, state)``: :class:`~orthornn.nn.rum.RUM` (state ``(h, R)``),
:class:`~orthornn.nn.fsrum.FSRUM`, :class:`~orthornn.nn.baselines.LSTM`, …. The loss of a window
is the mean cross-entropy :math:`-\frac{1}{BT}\sum \ln p(c_{t+1})` and the bits per character are
that cross-entropy over :math:`\ln 2` (:func:`bits_per_character`).

Truncated BPTT: the state at the end of a window is passed, through :func:`detach_state`, to the
next window of the same streams; the forward values are exactly those of one long sequence,
while gradients stop at the window's start.

References
----------
R. Dangovski, L. Jing, M. Soljačić, "Rotational Unit of Memory", 2017, §4.4 and appendix D.
N. Srivastava et al., "Dropout", JMLR 2014 (non-recurrent dropout as Zaremba et al. 2014).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import OrthornnError, ShapeError
from .lnlstm import check_probability

__all__ = ["LanguageModel", "bits_per_character", "detach_state", "state_to_plain"]


def bits_per_character(loss_nats: float) -> float:
    r"""Bits per character of a mean cross-entropy in nats: :math:`\mathcal L / \ln 2`.

    >>> bits_per_character(math.log(2) * 1.25)
    1.25
    """
    return loss_nats / math.log(2)


def detach_state(state: Any) -> Any:
    """``state`` with every tensor detached, its structure (tuples, named tuples, lists, None) kept.

    >>> from orthornn.nn.rum import RUMState
    >>> s = detach_state(RUMState(torch.ones(1, requires_grad=True) * 2, None))
    >>> type(s).__name__, s.h.requires_grad, s.R
    ('RUMState', False, None)
    """
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_make"):  # a named tuple
        return state._make(detach_state(v) for v in state)
    if isinstance(state, list | tuple):
        return type(state)(detach_state(v) for v in state)
    return state


def state_to_plain(state: Any) -> Any:
    """``state`` as nested lists of tensors and None (a checkpoint's plain data); every model here
    reads such lists back as its state.

    >>> state_to_plain((torch.zeros(1), (torch.ones(1), None)))
    [tensor([0.]), [tensor([1.]), None]]
    """
    if isinstance(state, list | tuple):
        return [state_to_plain(v) for v in state]
    return state


class LanguageModel(nn.Module):
    r"""Embedding → ``core`` → linear readout over the vocabulary (the module docstring's model).

    ``forward(ids, state=None) -> (logits, state)``: ``ids`` integer (B, T) in ``[0, V)`` (V the
    vocabulary size), ``logits`` (B, T, V), ``state`` the core's final state.

    Parameters
    ----------
    vocab_size : int
        :math:`|V|`.
    embed_size : int
        :math:`d`, the core's input size.
    core : nn.Module
        ``forward(x (B, T, d), state) -> (y (B, T, N), state)`` with a ``hidden_size`` N.
    dropout : float
        Rate :math:`p` of the dropout on the core's input and output, in ``[0, 1)``.
    device, dtype
        Where and in which precision the embedding and the readout live.

    Examples
    --------
    >>> from orthornn.nn import RUM
    >>> _ = torch.manual_seed(0)
    >>> lm = LanguageModel(5, 3, RUM(3, 4, dtype=torch.float64), dtype=torch.float64)
    >>> ids = torch.randint(0, 5, (2, 6))
    >>> logits, s = lm(ids)
    >>> a, s1 = lm(ids[:, :4]); b, _ = lm(ids[:, 4:], detach_state(s1))
    >>> logits.shape, bool(torch.allclose(torch.cat([a, b], 1), logits))
    (torch.Size([2, 6, 5]), True)
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        core: nn.Module,
        *,
        dropout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if int(vocab_size) < 1 or int(embed_size) < 1:
            raise OrthornnError(f"vocab_size and embed_size must be positive, got {vocab_size}, {embed_size}")
        if getattr(core, "input_size", embed_size) != embed_size:
            raise ShapeError(f"the core reads inputs of size {core.input_size}, the embedding has {embed_size}")
        self.vocab_size, self.embed_size = int(vocab_size), int(embed_size)
        self.dropout = check_probability("dropout", dropout)
        self.core = core
        self.embedding = nn.Embedding(self.vocab_size, self.embed_size, device=device, dtype=dtype)
        self.head = nn.Linear(int(core.hidden_size), self.vocab_size, device=device, dtype=dtype)
        self.drop = nn.Dropout(self.dropout)

    def forward(self, ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Logits (B, T, V) of the next character after each of ``ids`` (B, T), and the state."""
        if ids.dim() != 2 or ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
            raise ShapeError(
                f"LanguageModel input must be integer ids of shape (B, T), got {ids.dtype} {tuple(ids.shape)}"
            )
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ShapeError(f"ids must lie in [0, {self.vocab_size}), got {int(ids.min())} .. {int(ids.max())}")
        y, state = self.core(self.drop(self.embedding(ids.long())), state)
        return self.head(self.drop(y)), state
