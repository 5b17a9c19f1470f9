r"""The explicit LT-RNN solution of the copy task (Henaff et al. 2016, §3.1.1).

Hidden size ``2d + 1``. The first ``2d`` units hold the symbols, rotated by a *clock*

.. math:: Q = \operatorname{blockdiag}(Q_1, …, Q_d), \quad
    Q_j = \begin{pmatrix} \cos\alpha_j & \sin\alpha_j \\ -\sin\alpha_j & \cos\alpha_j \end{pmatrix},
    \quad \alpha_j = \frac{2\pi l_j}{T+S},

with ``l_j`` uniform in ``{1, …, T+S}``, so that :math:`Q^{T+S} = I`; the last unit is a
counter. With :math:`\tilde U` (``2d × K``) of unit columns uniform on the sphere,

.. math::
    U = \begin{pmatrix} \tilde U & 0 & 0 \\ -\tfrac1S \cdots -\tfrac1S & -1 & T+S+1 \end{pmatrix},\quad
    V = \begin{pmatrix} Q & 0 \\ 0 & 1 \end{pmatrix},\quad
    W = \begin{pmatrix} \tilde U^\top & 0 \\ 0 & -(S+1) \\ 0 & 0 \end{pmatrix}.

The token ids are those of :class:`orthornn.tasks.CopyTask` (data ``0…K−1``, blank ``K``,
delimiter ``K+1``), and the ``K + 2`` output rows score the same ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OrthornnError, ShapeError
from ..tasks._params import RngLike, as_generator, check_int

__all__ = [
    "CopySolution",
    "clock_matrix",
    "copy_solution",
    "copy_solution_from",
    "recall_scores",
    "sample_clock",
    "sample_sphere_columns",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def sample_clock(d: int, period: int, rng: RngLike = None, *, size: tuple[int, ...] = ()) -> IntArray:
    """The clock's integers ``l_j``, uniform in ``{1, …, period}``: shape ``size + (d,)``.

    >>> l = sample_clock(5, 12, rng=0); l.shape, bool(((1 <= l) & (l <= 12)).all())
    ((5,), True)
    """
    d = check_int("d", d, 1)
    period = check_int("period", period, 1)
    return as_generator(rng).integers(1, period + 1, size=(*size, d), dtype=np.int64)


def sample_sphere_columns(n: int, K: int, rng: RngLike = None, *, size: tuple[int, ...] = ()) -> FloatArray:
    """``K`` independent columns uniform on the unit sphere of ``R^n``: shape ``size + (n, K)``.

    >>> u = sample_sphere_columns(6, 3, rng=0); bool(np.allclose(np.linalg.norm(u, axis=0), 1))
    True
    """
    rows = as_generator(rng).standard_normal((*size, K, n))  # drawn code by code (rows), then viewed as columns
    rows /= np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.swapaxes(rows, -1, -2)


def clock_matrix(l: ArrayLike, period: int) -> FloatArray:
    r"""The block-diagonal clock :math:`Q` with angles :math:`\alpha_j = 2\pi l_j/\text{period}`.

    .. math:: Q^{\text{period}} = I \quad\text{for integer } l_j

    Batched over leading axes of ``l``: shape ``(..., 2d, 2d)``. The angle is reduced exactly
    (``l mod period``) before the cosine is taken.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.1.

    Examples
    --------
    >>> Q = clock_matrix([1, 2, 5], 7)
    >>> bool(np.allclose(np.linalg.matrix_power(Q, 7), np.eye(6)))
    True
    """
    li = np.asarray(l)
    if li.dtype.kind not in "iu" or li.ndim < 1:
        raise OrthornnError(f"l must be an integer array with at least one axis, got {li.dtype} shape {li.shape}")
    period = check_int("period", period, 1)
    alpha = 2 * np.pi * (li % period) / period
    c, s = np.cos(alpha), np.sin(alpha)
    d = li.shape[-1]
    Q = np.zeros((*li.shape[:-1], 2 * d, 2 * d))
    j = np.arange(d)
    Q[..., 2 * j, 2 * j] = c
    Q[..., 2 * j, 2 * j + 1] = s
    Q[..., 2 * j + 1, 2 * j] = -s
    Q[..., 2 * j + 1, 2 * j + 1] = c
    return Q


@dataclass(frozen=True)
class CopySolution:
    """The parameters of the explicit copy solution and what they were built from.

    Unpacks as ``U, V, W = solution``.
    """

    #: Input matrix, ``(2d+1, K+2)`` (``(..., 2d+1, K+2)`` when batched).
    U: FloatArray
    #: Transition ``blockdiag(Q, 1)``, ``(2d+1, 2d+1)``.
    V: FloatArray
    #: Decoder, ``(K+2, 2d+1)``.
    W: FloatArray
    #: Clock integers ``l_j``, ``(d,)``.
    l: IntArray
    #: Symbol codes ``Ũ``, ``(2d, K)``, unit columns.
    Utilde: FloatArray
    #: Number of symbols to copy.
    S: int
    #: Delay of the task.
    T: int

    def __iter__(self) -> Iterator[FloatArray]:
        return iter((self.U, self.V, self.W))

    @property
    def K(self) -> int:
        """Alphabet size."""
        return int(self.Utilde.shape[-1])

    @property
    def d(self) -> int:
        """Number of 2×2 clock blocks (hidden size ``2d + 1``)."""
        return int(self.l.shape[-1])


def copy_solution_from(l: ArrayLike, Utilde: ArrayLike, S: int, T: int) -> CopySolution:
    r"""Assemble ``(U, V, W)`` from given clock integers ``l`` and symbol codes ``Ũ``.

    Batched over leading axes (shared by ``l`` ``(..., d)`` and ``Ũ`` ``(..., 2d, K)``).
    :func:`copy_solution` draws ``l`` and ``Ũ`` and calls this.

    Examples
    --------
    >>> U, V, W = copy_solution_from([3], np.eye(2), S=2, T=4)
    >>> U[-1].tolist(), W[:, -1].tolist()
    ([-0.5, -0.5, -1.0, 7.0], [0.0, 0.0, -3.0, 0.0])
    """
    S = check_int("S", S, 1)
    T = check_int("T", T, 1)
    li = np.asarray(l)
    Ut = np.asarray(Utilde, dtype=np.float64)
    d = li.shape[-1] if li.ndim else 0
    if Ut.ndim < 2 or Ut.shape[-2] != 2 * d or Ut.shape[:-2] != li.shape[:-1]:
        raise ShapeError(f"Utilde must be (..., 2d, K) = (..., {2 * d}, K) to match l {li.shape}, got {Ut.shape}")
    K = Ut.shape[-1]
    check_int("K", K, 2)
    lead = Ut.shape[:-2]
    n = 2 * d + 1
    U = np.zeros((*lead, n, K + 2))
    U[..., : 2 * d, :K] = Ut
    U[..., -1, :K] = -1.0 / S
    U[..., -1, K] = -1.0
    U[..., -1, K + 1] = T + S + 1
    V = np.zeros((*lead, n, n))
    V[..., : 2 * d, : 2 * d] = clock_matrix(li, T + S)
    V[..., -1, -1] = 1.0
    W = np.zeros((*lead, K + 2, n))
    W[..., :K, : 2 * d] = np.swapaxes(Ut, -1, -2)
    W[..., K, -1] = -(S + 1)
    return CopySolution(U=U, V=V, W=W, l=li.astype(np.int64), Utilde=Ut, S=S, T=T)


def copy_solution(K: int, S: int, T: int, d: int, rng: RngLike = None) -> CopySolution:
    r"""The explicit LT-RNN solution of the copy task, hidden size ``2d + 1`` (paper §3.1.1).

    Draws ``l_j`` uniform in ``{1, …, T+S}`` (first) and ``Ũ``'s columns uniform on the sphere
    of :math:`\mathbb R^{2d}` (second) from ``rng``, then assembles ``(U, V, W)`` as in the module
    docstring. Run it with :func:`~orthornn.henaff.ltrnn_forward` (no non-linearity).

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.1.

    Examples
    --------
    >>> from orthornn.tasks import CopyTask
    >>> from orthornn.henaff import ltrnn_forward
    >>> task = CopyTask(T=30, S=3, K=4)
    >>> x, y = task.sample(20, rng=0)
    >>> U, V, W = copy_solution(K=4, S=3, T=30, d=64, rng=1)
    >>> task.accuracy(ltrnn_forward(x, U, V, W).outputs, y).recall
    1.0
    """
    K = check_int("K", K, 2)
    S = check_int("S", S, 1)
    T = check_int("T", T, 1)
    d = check_int("d", d, 1)
    gen = as_generator(rng)
    l = sample_clock(d, T + S, gen)
    Ut = sample_sphere_columns(2 * d, K, gen)
    return copy_solution_from(l, Ut, S, T)


def _recall_states(l: IntArray, Ut: FloatArray, sym: IntArray, S: int, T: int, ks: IntArray) -> FloatArray:
    """Symbol part of the state at recall steps ``T+S+k``, ``k`` in ``ks``: ``(B, len(ks), 2d)``."""
    codes = np.swapaxes(Ut, -1, -2)  # (B, K, 2d): contiguous rows when Ut comes from the sampler
    return _recall_states_of(l, codes[np.arange(l.shape[0])[:, None], sym], S, T, ks)


def _recall_states_of(l: IntArray, picked: FloatArray, S: int, T: int, ks: IntArray) -> FloatArray:
    """:func:`_recall_states` from the input codes themselves: ``picked[b, j] = u_{i_j}`` ``(B, S, 2d)``."""
    N = T + S
    # cos and sin of 2 pi m / N for the integer phases m = (l_b * j) mod N, by table lookup
    table = 2 * np.pi * np.arange(N) / N
    cos_table, sin_table = np.cos(table), np.sin(table)
    # Block b of u_{i_j} as the complex number x + i y, for each input step j = 1 … S.
    B, d = l.shape
    x, y = picked[..., 0::2], picked[..., 1::2]
    js = np.arange(1, S + 1)
    phase = (l[:, None, :] * js[None, :, None]) % N  # j alpha_b in units of 2 pi / N, exactly
    c, s = cos_table[phase], sin_table[phase]
    a_re = np.sum(c * x - s * y, axis=1)[:, None, :]  # A_b = sum_j e^{+i j alpha_b} (x + i y)_j
    a_im = np.sum(s * x + c * y, axis=1)[:, None, :]
    if not np.array_equal(ks, js):
        phase = (l[:, None, :] * ks[None, :, None]) % N
        c, s = cos_table[phase], sin_table[phase]
    h = np.empty((B, len(ks), 2 * d))  # e^{-i k alpha_b} A_b, as (real, imaginary) pairs
    h[..., 0::2] = c * a_re + s * a_im
    h[..., 1::2] = c * a_im - s * a_re
    return h


def recall_scores(l: ArrayLike, Utilde: ArrayLike, symbols: ArrayLike, S: int, T: int) -> FloatArray:
    r"""The solution's output scores at the S recall steps, in closed form (no time loop).

    At step :math:`T+S+k` (``k = 1…S``), with :math:`Q^{T+S} = I`,

    .. math:: \tilde h = \sum_{j=1}^{S} Q^{k-j} u_{i_j}, \qquad
        y = \bigl(\tilde U^\top \tilde h,\ -(S+1)(S+1-k),\ 0\bigr).

    :math:`Q^m` is applied blockwise through the complex form of each block
    (:math:`Q_b^m` multiplies :math:`z = h_{2b} + i h_{2b+1}` by :math:`e^{-i m\alpha_b}`), with
    the phase :math:`m l_b` reduced modulo :math:`T+S` exactly in integers and its cosine and
    sine read from a table of the ``T+S`` roots of unity.

    Batched: ``l`` ``(B, d)``, ``Ũ`` ``(B, 2d, K)``, ``symbols`` ``(B, S)``; returns ``(B, S, K+2)``.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.1.1 (the trace of the hidden state).

    Examples
    --------
    It agrees with the step-by-step forward pass:

    >>> from orthornn.henaff import ltrnn_forward
    >>> from orthornn.tasks import CopyTask
    >>> x, _ = CopyTask(T=9, S=3, K=4).sample(2, rng=0)
    >>> sol = copy_solution_from(sample_clock(8, 12, 1, size=(2,)), sample_sphere_columns(16, 4, 2, size=(2,)), 3, 9)
    >>> steps = ltrnn_forward(x, sol.U, sol.V, sol.W).outputs[:, -3:]
    >>> bool(np.allclose(recall_scores(sol.l, sol.Utilde, x[:, :3], 3, 9), steps, atol=1e-12))
    True
    """
    S = check_int("S", S, 1)
    T = check_int("T", T, 1)
    if np.asarray(l).dtype.kind not in "iu" or np.asarray(symbols).dtype.kind not in "iu":
        raise OrthornnError("l and symbols must be integer arrays")
    li = np.asarray(l, dtype=np.int64)
    Ut = np.asarray(Utilde, dtype=np.float64)
    sym = np.asarray(symbols, dtype=np.int64)
    if li.ndim != 2 or Ut.ndim != 3 or sym.ndim != 2:
        raise ShapeError(
            f"expected l (B, d), Utilde (B, 2d, K), symbols (B, S); got {li.shape}, {Ut.shape}, {sym.shape}"
        )
    B, d = li.shape
    K = Ut.shape[2]
    if Ut.shape[:2] != (B, 2 * d) or sym.shape != (B, S):
        raise ShapeError(f"expected Utilde ({B}, {2 * d}, K) and symbols ({B}, {S}); got {Ut.shape}, {sym.shape}")
    if sym.min() < 0 or sym.max() >= K:
        raise OrthornnError(f"symbols must lie in 0 … {K - 1}")
    steps = np.arange(1, S + 1)
    scores = np.empty((B, S, K + 2))
    scores[..., :K] = np.matmul(_recall_states(li, Ut, sym, S, T, steps), Ut)  # u_c . h~
    scores[..., K] = -(S + 1) * (S + 1 - steps)
    scores[..., K + 1] = 0.0
    return scores
