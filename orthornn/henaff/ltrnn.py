r"""The linear-transition RNN (LT-RNN) of Henaff et al., run step by step in numpy.

.. math::
    h_t = \sigma(U x_t + b) + V h_{t-1}, \qquad y_t = W h_t + W_P\, P_k(h_t)

The non-linearity acts on the input only; the transition is linear. ``P_k`` is l2 pooling
over consecutive blocks of ``k`` hidden units (paper eq. 6). This is the honest reference
forward pass: it runs any parameters on the task arrays of :mod:`orthornn.tasks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OrthornnError, ShapeError
from ..numeric.validation import as_float_array, result_dtype

__all__ = ["ACTIVATIONS", "LTRNNOutput", "l2_pool", "ltrnn_forward"]

FloatArray = NDArray[np.floating]

#: Input non-linearities σ by name; ``ltrnn_forward`` also accepts a callable.
ACTIVATIONS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
}


def l2_pool(h: ArrayLike, k: int) -> FloatArray:
    r"""l2 pooling with pool size and stride ``k`` over the last axis (Henaff et al., eq. 6).

    .. math:: P_k(h)_i = \Bigl(\sum_{j=k(i-1)+1}^{ki} h_j^2\Bigr)^{1/2}

    Batched over leading axes; the last axis must be a multiple of ``k``.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §2.3.

    Examples
    --------
    >>> l2_pool(np.array([3.0, 4.0, 0.0, -2.0]), 2)          # rotation-invariant per block
    array([5., 2.])
    """
    arr = as_float_array(h, "h", min_ndim=1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise OrthornnError(f"pool size k must be a positive integer, got {k!r}")
    n = arr.shape[-1]
    if n % k:
        raise ShapeError(f"hidden size {n} is not a multiple of the pool size k={k}")
    blocks = arr.reshape(*arr.shape[:-1], n // k, k)
    return np.sqrt(np.sum(blocks * blocks, axis=-1))


@dataclass(frozen=True)
class LTRNNOutput:
    """Outputs of :func:`ltrnn_forward`."""

    #: ``y_t`` for every step, shape ``(batch, L, M)``.
    outputs: FloatArray
    #: ``h_t`` for every step, shape ``(batch, L, n)``, if requested (else ``None``).
    hidden: FloatArray | None


def _batched(p: FloatArray, name: str, ndim: int, batch: int) -> bool:
    """Whether parameter ``p`` carries a leading batch axis (one parameter set per sequence)."""
    if p.ndim == ndim:
        return False
    if p.ndim == ndim + 1 and p.shape[0] == batch:
        return True
    raise ShapeError(f"{name} must have {ndim} axes, or {ndim + 1} with a leading batch axis of {batch}; got {p.shape}")


def _apply(m: FloatArray, v: FloatArray, batched: bool) -> FloatArray:
    """``m @ v`` for a batch of vectors ``v`` (batch, n); ``m`` shared (p, n) or per sample (batch, p, n)."""
    return np.matmul(m, v[..., None])[..., 0] if batched else v @ m.T


def ltrnn_forward(
    inputs: ArrayLike,
    U: ArrayLike,
    V: ArrayLike,
    W: ArrayLike,
    *,
    b: ArrayLike | None = None,
    activation: str | Callable[[FloatArray], FloatArray] = "identity",
    W_pool: ArrayLike | None = None,
    pool: int | None = None,
    h0: ArrayLike | None = None,
    return_hidden: bool = False,
) -> LTRNNOutput:
    r"""Run an LT-RNN over a batch of sequences, one step at a time.

    .. math:: h_t = \sigma(U x_t + b) + V h_{t-1}, \quad y_t = W h_t + W_P P_k(h_t), \quad h_0 = 0

    Parameters
    ----------
    inputs
        Token ids, integer ``(batch, L)`` (``x_t`` is then the one-hot vector: ``U x_t`` is a
        column of ``U``), or real features ``(batch, L, N)``.
    U, V, W
        ``(n, N)``, ``(n, n)``, ``(M, n)``; each may carry a leading batch axis to run one
        parameter set per sequence (e.g. one random construction per trial).
    b
        Input bias ``(n,)`` (or ``(batch, n)``); default 0.
    activation
        σ: a name in :data:`ACTIVATIONS` or a callable; default the identity (no σ).
    W_pool, pool
        Decoder of the pooled state, ``(M, n/k)``, and the pool size ``k`` (both or neither).
    h0
        Initial state ``(n,)`` or ``(batch, n)``; default 0.
    return_hidden
        Also return every hidden state.

    References
    ----------
    Henaff, Szlam, LeCun (2016), eqs. (2) and (6).

    Examples
    --------
    With ``V = I`` and ``W = I`` the state is the running sum of the inputs:

    >>> x = np.array([[[1.0], [2.0], [3.0]]])
    >>> ltrnn_forward(x, np.eye(1), np.eye(1), np.eye(1)).outputs[0, :, 0]
    array([1., 3., 6.])
    """
    x = np.asarray(inputs)
    if x.ndim not in (2, 3) or x.shape[0] == 0 or x.shape[1] == 0:
        raise ShapeError(f"inputs must be (batch, L) ids or (batch, L, N) features, got shape {x.shape}")
    batch, L = x.shape[:2]
    U_, V_, W_ = as_float_array(U, "U"), as_float_array(V, "V"), as_float_array(W, "W")
    ub, vb, wb = _batched(U_, "U", 2, batch), _batched(V_, "V", 2, batch), _batched(W_, "W", 2, batch)
    n, N = U_.shape[-2:]
    if V_.shape[-2:] != (n, n):
        raise ShapeError(f"V must be ({n}, {n}) to match U {U_.shape[-2:]}, got {V_.shape[-2:]}")
    if W_.shape[-1] != n:
        raise ShapeError(f"W must have {n} columns (the hidden size), got {W_.shape[-2:]}")
    params = [U_, V_, W_]
    if x.dtype.kind in "iu":
        ids = x.astype(np.int64)
        if ids.min() < 0 or ids.max() >= N:
            raise OrthornnError(f"input ids must lie in 0 … {N - 1} (U has {N} columns), got {ids.min()} … {ids.max()}")
        feats = None
    else:
        feats = as_float_array(x, "inputs")
        if feats.ndim != 3 or feats.shape[2] != N:
            raise ShapeError(f"real inputs must be (batch, L, {N}) to match U, got {feats.shape}")
        params.append(feats)
    bias = None if b is None else as_float_array(b, "b")
    if bias is not None and bias.shape not in ((n,), (batch, n)):
        raise ShapeError(f"b must be ({n},) or ({batch}, {n}), got {bias.shape}")
    if (W_pool is None) != (pool is None):
        raise OrthornnError("W_pool and pool must be given together")
    Wp = None
    if W_pool is not None:
        Wp = as_float_array(W_pool, "W_pool")
        wpb = _batched(Wp, "W_pool", 2, batch)
        if pool is None or isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
            raise OrthornnError(f"pool size must be a positive integer, got {pool!r}")
        if n % pool or Wp.shape[-2:] != (W_.shape[-2], n // pool):
            raise ShapeError(f"W_pool must be ({W_.shape[-2]}, n/k) with k={pool} dividing n={n}, got {Wp.shape}")
        params.append(Wp)
    sigma = ACTIVATIONS.get(activation) if isinstance(activation, str) else activation
    if sigma is None:
        raise OrthornnError(
            f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)} or pass a callable"
        )
    dtype = result_dtype(*params)
    h = np.zeros((batch, n), dtype=dtype)
    if h0 is not None:
        h = h + as_float_array(h0, "h0").astype(dtype)
        if h.shape != (batch, n):
            raise ShapeError(f"h0 must be ({n},) or ({batch}, {n}), got {np.shape(h0)}")
    rows = np.arange(batch)
    outputs = np.empty((batch, L, W_.shape[-2]), dtype=dtype)
    hidden = np.empty((batch, L, n), dtype=dtype) if return_hidden else None
    for t in range(L):
        if feats is None:
            drive = U_[rows, :, ids[:, t]] if ub else U_.T[ids[:, t]]
        else:
            drive = _apply(U_, feats[:, t], ub)
        if bias is not None:
            drive = drive + bias
        h = sigma(drive) + _apply(V_, h, vb)
        y = _apply(W_, h, wb)
        if Wp is not None and pool is not None:
            y = y + _apply(Wp, l2_pool(h, int(pool)), wpb)
        outputs[:, t] = y
        if hidden is not None:
            hidden[:, t] = h
    return LTRNNOutput(outputs=outputs, hidden=hidden)
