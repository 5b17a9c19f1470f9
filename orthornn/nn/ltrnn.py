r"""Henaff's linear-transition RNN (LT-RNN) and its l2-pooled readout.

.. math::

    h_t = \sigma(U x_t + b) + V h_{t-1}, \qquad y_t = W_I h_t + W_P P_k(h_t), \qquad
    P_k(h)_i = \Big(\sum_{j = k(i-1)+1}^{ki} h_j^2\Big)^{1/2}

The transition is linear; ``σ`` acts on the input only (identity for one-hot inputs, ReLU for
the adding solution). Initialisations of ``V`` are named by distribution (docs/conventions.md):
``orthogonal`` (Gaussian, then the nearest orthogonal matrix by SVD — Henaff's LT-ORNN),
``haar`` (Haar on O(N) by sign-corrected QR), ``identity`` (LT-IRNN) and ``torus`` (block
diagonal 2×2 rotations with angles U(−π, π), a trailing 1 for odd N).

References
----------
Henaff, Szlam, LeCun, "Recurrent Orthogonal Networks and Long-Memory Tasks", ICML 2016,
§2.3 (pooling), §3 (explicit solutions), §4.1 (initialisation, activation clipping),
§4.2 (soft orthogonality penalty).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import OrthornnError, ShapeError

__all__ = ["INITS", "LTRNN", "L2PoolReadout", "init_transition", "l2_pool", "linear_recurrence"]

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
}


def _orthogonal(n: int, g: torch.Generator | None, **kw: Any) -> Tensor:
    z = torch.randn(n, n, generator=g, **kw) * n ** (-0.25)
    u, _, vh = torch.linalg.svd(z)
    return u @ vh


def _haar(n: int, g: torch.Generator | None, **kw: Any) -> Tensor:
    q, r = torch.linalg.qr(torch.randn(n, n, generator=g, **kw))
    return q * torch.sign(torch.diagonal(r)).unsqueeze(0)


def _identity(n: int, g: torch.Generator | None, **kw: Any) -> Tensor:
    return torch.eye(n, **kw)


def _torus(n: int, g: torch.Generator | None, **kw: Any) -> Tensor:
    m = n // 2
    phi = (torch.rand(m, generator=g, **kw) * 2 - 1) * math.pi
    c, s = torch.cos(phi), torch.sin(phi)
    V = torch.eye(n, **kw)
    idx = torch.arange(m, device=V.device) * 2
    V[idx, idx], V[idx + 1, idx + 1] = c, c
    V[idx, idx + 1], V[idx + 1, idx] = -s, s
    return V


#: Initialisations of the transition ``V``, by name (a callable ``(n, generator, **kw)`` also works).
INITS: dict[str, Callable[..., Tensor]] = {
    "orthogonal": _orthogonal,
    "haar": _haar,
    "identity": _identity,
    "torus": _torus,
}


def init_transition(
    name: str | Callable[..., Tensor],
    n: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""An ``n×n`` transition matrix drawn by the named initialisation (see :data:`INITS`).

    .. math:: V_{\mathrm{orthogonal}} = A B^T \text{ where } Z = A \Sigma B^T,\ Z_{ij} \sim \mathcal N(0, n^{-1/2})

    Examples
    --------
    >>> V = init_transition("torus", 5, dtype=torch.float64)
    >>> bool(torch.allclose(V.T @ V, torch.eye(5, dtype=torch.float64)))
    True
    """
    fn = INITS.get(name) if isinstance(name, str) else name
    if fn is None:
        raise OrthornnError(f"unknown init {name!r}; choose one of {sorted(INITS)}")
    return fn(int(n), generator, device=device, dtype=dtype)


def l2_pool(h: Tensor, k: int) -> Tensor:
    r"""Henaff's l2 pooling over blocks of ``k`` consecutive units (size and stride ``k``).

    .. math:: P_k(h)_i = \Big(\sum_{j=k(i-1)+1}^{ki} h_j^2\Big)^{1/2}

    A zero block pools to 0 with a finite (zero) gradient.

    >>> l2_pool(torch.tensor([3.0, 4.0, 0.0, 0.0]), 2).tolist()
    [5.0, 0.0]
    """
    if h.shape[-1] % k:
        raise ShapeError(f"pool size {k} does not divide the hidden size {h.shape[-1]}")
    ss = (h * h).unflatten(-1, (-1, k)).sum(-1)
    positive = ss > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, ss, torch.ones_like(ss))), 0.0)


class _LinearRecurrence(torch.autograd.Function):
    """``H_t = a_t + H_{t−1} Vᵀ`` over a time-major (T, B, N) sequence: one GEMM per step each way."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, V: Tensor, h0: Tensor | None) -> Tensor:  # type: ignore[override]
        H = torch.empty_like(a, memory_format=torch.contiguous_format)
        hs, Vt = H.unbind(0), V.t()  # slice once: contiguous (B, N) views written by one GEMM each
        h_prev = h0
        for a_t, h_t in zip(a.unbind(0), hs, strict=True):
            if h_prev is None:
                h_t.copy_(a_t)
            else:
                torch.addmm(a_t, h_prev, Vt, out=h_t)
            h_prev = h_t
        ctx.save_for_backward(H, V, h0)
        return H

    @staticmethod
    def backward(ctx: Any, grad_H: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:  # type: ignore[override]
        H, V, h0 = ctx.saved_tensors
        dHs = grad_H.unbind(0)
        if torch.is_grad_enabled():  # double backward: the same sums with differentiable ops
            gs_list = [dHs[-1]]
            for t in range(len(dHs) - 1, 0, -1):
                gs_list.append(torch.addmm(dHs[t - 1], gs_list[-1], V))
            G = torch.stack(gs_list[::-1])
            gs = G.unbind(0)
        else:  # g_t = ∂L/∂h_t (total): g_{t−1} = grad_H_{t−1} + g_t V, backwards, into one buffer
            G = torch.empty_like(H)
            gs = G.unbind(0)
            gs[-1].copy_(dHs[-1])
            for t in range(len(gs) - 1, 0, -1):
                torch.addmm(dHs[t - 1], gs[t], V, out=gs[t - 1])
        grad_V = grad_h0 = None
        if ctx.needs_input_grad[1]:  # Σ_t g_tᵀ h_{t−1}: one GEMM over the stacked (T·B, N) matrices
            n = H.shape[-1]
            grad_V = G[1:].reshape(-1, n).t() @ H[:-1].reshape(-1, n)
            if h0 is not None:
                grad_V = torch.addmm(grad_V, gs[0].t(), h0)
        if h0 is not None and ctx.needs_input_grad[2]:
            grad_h0 = gs[0] @ V
        return (G if ctx.needs_input_grad[0] else None), grad_V, grad_h0


def linear_recurrence(a: Tensor, V: Tensor, h0: Tensor | None = None) -> Tensor:
    r"""All states of the linear recurrence over a time-major sequence ``a`` (T, B, N).

    .. math:: h_t = a_t + V h_{t-1}\ (t = 1, \dots, T), \qquad h_0 = \texttt{h0}\ (\text{default } 0)

    Returns ``H`` (T, B, N) with ``H[t-1] = h_t``. One autograd node for the whole sequence:
    the forward is one GEMM per step, the backward runs ``g_{t-1} \mathrel{+}= g_t V`` (one
    GEMM per step) and forms :math:`\partial L/\partial V = \sum_t g_t^T h_{t-1}` as one GEMM
    over the stacked ``(T·B, N)`` matrices, instead of two GEMMs per step of autograd.

    References
    ----------
    Henaff, Szlam, LeCun, "Recurrent Orthogonal Networks and Long-Memory Tasks", ICML 2016, §2.

    Examples
    --------
    With ``V = I`` the states are the running sums of the inputs:

    >>> a = torch.randn(6, 2, 3, dtype=torch.float64)
    >>> H = linear_recurrence(a, torch.eye(3, dtype=torch.float64))
    >>> bool(torch.allclose(H, a.cumsum(0)))
    True
    """
    if a.dim() != 3 or V.shape != (a.shape[-1], a.shape[-1]):
        raise ShapeError(f"need a (T, B, N) and V (N, N), got {tuple(a.shape)} and {tuple(V.shape)}")
    if h0 is not None and h0.shape != a.shape[1:]:
        raise ShapeError(f"h0 must be {tuple(a.shape[1:])}, got {tuple(h0.shape)}")
    return _LinearRecurrence.apply(a, V, h0)


class L2PoolReadout(nn.Module):
    r"""Readout ``y = W_I h + W_P P_k(h) (+ c)`` (Henaff eq. 6); ``pool=None`` gives ``W_I h (+ c)``.

    Examples
    --------
    >>> r = L2PoolReadout(4, 3, pool=2, dtype=torch.float64)
    >>> h = torch.randn(5, 4, dtype=torch.float64)
    >>> manual = h @ r.weight.T + l2_pool(h, 2) @ r.weight_pool.T + r.bias
    >>> bool(torch.allclose(r(h), manual))
    True
    """

    def __init__(
        self,
        hidden_size: int,
        output_size: int,
        *,
        pool: int | None = None,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if pool is not None and (pool < 1 or hidden_size % pool):
            raise OrthornnError(f"pool {pool} must be a positive divisor of hidden_size {hidden_size}")
        self.pool = pool
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight = nn.Parameter(torch.empty(output_size, hidden_size, **kw).uniform_(-bound, bound))
        self.weight_pool = (
            nn.Parameter(torch.empty(output_size, hidden_size // pool, **kw).uniform_(-bound, bound))
            if pool is not None
            else None
        )
        self.bias = nn.Parameter(torch.zeros(output_size, **kw)) if bias else None

    def forward(self, h: Tensor) -> Tensor:
        """Apply the readout to hidden states of shape (..., N)."""
        y = torch.nn.functional.linear(h, self.weight, self.bias)
        if self.weight_pool is not None and self.pool is not None:
            y = y + l2_pool(h, self.pool) @ self.weight_pool.t()
        return y


class LTRNN(nn.Module):
    r"""Linear-transition RNN (Henaff §2), ``batch_first``.

    .. math:: h_t = \operatorname{clip}_\ell\big(\sigma(U x_t + b) + V h_{t-1}\big), \qquad
              \operatorname{clip}_\ell(h) = h \min(1, \ell / \lVert h\rVert)

    ``forward(x, state=None) -> (output, h_T)`` with ``x`` (B, T, N_x). ``output`` is the
    readout ``y_t`` (B, T, output_size) when ``output_size`` is given (an
    :class:`L2PoolReadout`, pooled when ``pool`` is set), else the hidden states (B, T, N).

    Parameters
    ----------
    input_size, hidden_size : int
    output_size : int or None
        Attach a readout with this many outputs.
    init : str or callable
        Initialisation of ``V``: one of :data:`INITS` (``orthogonal`` default).
    activation : {"identity", "relu", "tanh"}
        The input nonlinearity σ.
    bias : bool
        Input bias ``b`` (and readout bias).
    pool : int or None
        Pool size/stride ``k`` of the readout's ``P_k``.
    clip : float or None
        Activation clipping norm ℓ (Henaff §4.1 used 1000); ``None``: off.

    Notes
    -----
    ``U`` is initialised Gaussian with variance ``N_x^{-1/2}`` as Henaff §4.1 states it.

    References
    ----------
    Henaff, Szlam, LeCun, ICML 2016, §2.3, §4.1, §4.2.

    Examples
    --------
    With ``V`` orthogonal and no input the norm of the state is preserved:

    >>> _ = torch.manual_seed(0)
    >>> rnn = LTRNN(3, 6, init="haar", bias=False, dtype=torch.float64)
    >>> h0 = torch.randn(2, 6, dtype=torch.float64)
    >>> _, hT = rnn(torch.zeros(2, 50, 3, dtype=torch.float64), h0)
    >>> bool(torch.allclose(hT.norm(dim=-1), h0.norm(dim=-1)))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int | None = None,
        *,
        init: str | Callable[..., Tensor] = "orthogonal",
        activation: str = "identity",
        bias: bool = True,
        pool: int | None = None,
        clip: float | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise OrthornnError(f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
        if clip is not None and not clip > 0:
            raise OrthornnError(f"clip must be positive or None, got {clip}")
        kw = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.activation, self.clip = activation, clip
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "callable")
        self.weight_in = nn.Parameter(torch.randn(hidden_size, input_size, **kw) * input_size ** (-0.25))
        self.bias = nn.Parameter(torch.zeros(hidden_size, **kw)) if bias else None
        self.weight_rec = nn.Parameter(init_transition(init, hidden_size, **kw))
        self.readout = (
            L2PoolReadout(hidden_size, output_size, pool=pool, bias=bias, **kw) if output_size is not None else None
        )

    @classmethod
    def from_explicit(
        cls,
        U: np.ndarray | Tensor,
        V: np.ndarray | Tensor,
        W: np.ndarray | Tensor,
        *,
        b: np.ndarray | Tensor | None = None,
        activation: str = "identity",
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> LTRNN:
        r"""An LT-RNN with the given weights: ``h_t = σ(U x_t + b) + V h_{t−1}``, ``y_t = W h_t``.

        Loads e.g. Henaff's explicit copy/adding solutions (:mod:`orthornn.henaff`); no
        readout bias and no clipping, so the torch model computes exactly those recurrences.

        >>> rnn = LTRNN.from_explicit([[1.0, 1.0]], [[1.0]], [[1.0]], b=[-1.0], activation="relu")
        >>> x = torch.tensor([[[0.3, 1.0], [0.9, 0.0], [0.5, 1.0]]], dtype=torch.float64)
        >>> round(float(rnn(x)[0][0, -1, 0].detach()), 12)
        0.8
        """
        t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
        U_, V_, W_ = t(U), t(V), t(W)
        if U_.dim() != 2 or V_.dim() != 2 or W_.dim() != 2:
            raise ShapeError("U, V, W must be matrices")
        n = V_.shape[0]
        if V_.shape != (n, n) or U_.shape[0] != n or W_.shape[1] != n:
            raise ShapeError(f"shapes do not chain: U {tuple(U_.shape)}, V {tuple(V_.shape)}, W {tuple(W_.shape)}")
        rnn = cls(
            U_.shape[1], n, W_.shape[0], init="identity", activation=activation, bias=False, device=device, dtype=dtype
        )
        with torch.no_grad():
            rnn.weight_in.copy_(U_)
            rnn.weight_rec.copy_(V_)
            assert rnn.readout is not None
            rnn.readout.weight.copy_(W_)
        if b is not None:
            rnn.bias = nn.Parameter(t(b).reshape(n))
        return rnn

    def _clip(self, h: Tensor) -> Tensor:
        if self.clip is None:
            return h
        ss = (h * h).sum(-1, keepdim=True)
        big = ss > self.clip**2
        return torch.where(big, h * (self.clip / torch.sqrt(torch.where(big, ss, 1.0))), h)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run over ``x`` (B, T, N_x) from ``state`` (B, N) (default 0); return ``(output, h_T)``."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(f"LTRNN input must be (B, T, {self.input_size}), got {tuple(x.shape)}")
        if x.shape[1] == 0:
            raise ShapeError("LTRNN input must have at least one time step")
        if self.clip is None:  # time-major: contiguous per-step slices, one autograd node
            a = _ACTIVATIONS[self.activation](torch.nn.functional.linear(x.transpose(0, 1), self.weight_in, self.bias))
            H = linear_recurrence(a, self.weight_rec, state)
            out = H if self.readout is None else self.readout(H)
            return out.transpose(0, 1), H[-1]
        a = _ACTIVATIONS[self.activation](torch.nn.functional.linear(x, self.weight_in, self.bias))
        h = x.new_zeros(x.shape[0], self.hidden_size) if state is None else state
        Vt = self.weight_rec.t()
        hs = []
        for a_t in a.unbind(1):
            h = self._clip(torch.addmm(a_t, h, Vt))
            hs.append(h)
        out = torch.stack(hs, 1)
        if self.readout is not None:
            out = self.readout(out)
        return out, h

    def orthogonality_penalty(self, m: int = 50, *, generator: torch.Generator | None = None) -> Tensor:
        r"""Henaff §4.2 soft constraint: mean over ``m`` random unit ``z`` of ``‖(VᵀV − I) z‖²``.

        >>> rnn = LTRNN(2, 4, init="haar", dtype=torch.float64)
        >>> float(rnn.orthogonality_penalty().detach()) < 1e-24
        True
        """
        V = self.weight_rec
        z = torch.randn(m, self.hidden_size, generator=generator, dtype=V.dtype, device=V.device)
        z = z / z.norm(dim=-1, keepdim=True)
        r = (z @ V.t()) @ V - z
        return (r * r).sum(-1).mean()
