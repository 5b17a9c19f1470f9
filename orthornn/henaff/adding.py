r"""The explicit solution of the adding problem (Henaff et al. 2016, §3.2.1), and its LSTM reading.

A one-unit LT-RNN with a ReLU on the input:

.. math:: h_t = \bigl(v_t + m_t - 1\bigr)_+ + h_{t-1}, \qquad y_t = h_t,

i.e. ``U = [1 1]``, ``b = −1``, ``V = 1``, ``W = 1``. For a value :math:`v \in [0, 1]`,
:math:`(v + m - 1)_+ = m v` whether the marker ``m`` is 0 or 1, so :math:`h_T` is the sum of the
marked values, exactly, for every T (``proofs/henaff.py``, ``henaff.adding_exact``).

The paper reads the same mechanism as an LSTM with constant gates (eq. 7) and no ``tanh`` in
eq. (5): :math:`c_t = f c_{t-1} + i g`, :math:`h_t = o c_t`. As printed, eq. (7) sets
``i = x[1]`` (the value) and ``g = (x[2] − 1)_+`` (the marker minus one): then ``g ≡ 0`` for
markers in {0, 1}, and the cell adds nothing (variant ``"printed"``, kept to show it). Two
readings reproduce the sum: ``"gated"`` — ``i = x[2]`` (the marker opens the input gate),
``g = x[1]`` — and ``"relu"`` — ``i = 1``, ``g = (x[1] + x[2] − 1)_+``, the LT-RNN's own update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OrthornnError, ShapeError
from ..numeric.validation import as_float_array
from .ltrnn import ltrnn_forward

__all__ = [
    "ADDING_LSTM_GATES",
    "AddingSolution",
    "LSTMGates",
    "adding_lstm",
    "adding_lstm_gates",
    "adding_solution",
    "lstm_forward",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class AddingSolution:
    """The one-unit ReLU LT-RNN ``U = [1 1], b = −1, V = 1, W = 1``."""

    U: FloatArray
    b: FloatArray
    V: FloatArray
    W: FloatArray

    def predict(self, inputs: ArrayLike) -> FloatArray:
        """The output at the last step, ``(batch,)``, for adding-task inputs ``(batch, T, 2)``."""
        out = ltrnn_forward(inputs, self.U, self.V, self.W, b=self.b, activation="relu").outputs
        return out[:, -1, 0]


def adding_solution() -> AddingSolution:
    r"""The exact LT-RNN solution of the adding problem (paper §3.2.1).

    .. math:: h_t = (v_t + m_t - 1)_+ + h_{t-1} = h_{t-1} + m_t v_t

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.2.1.

    Examples
    --------
    >>> from orthornn.tasks import adding_task
    >>> x, y = adding_task(100, T=50, rng=0)
    >>> float(np.max(np.abs(adding_solution().predict(x) - y))) <= 1e-15
    True
    """
    return AddingSolution(U=np.array([[1.0, 1.0]]), b=np.array([-1.0]), V=np.array([[1.0]]), W=np.array([[1.0]]))


@dataclass(frozen=True)
class LSTMGates:
    """Input, forget, output gates and cell candidate, each ``(batch, T)``."""

    i: FloatArray
    f: FloatArray
    o: FloatArray
    g: FloatArray


def _printed(v: FloatArray, m: FloatArray) -> LSTMGates:
    one = np.ones_like(v)
    return LSTMGates(i=v, f=one, o=one, g=np.maximum(m - 1.0, 0.0))


def _gated(v: FloatArray, m: FloatArray) -> LSTMGates:
    one = np.ones_like(v)
    return LSTMGates(i=m, f=one, o=one, g=v)


def _relu(v: FloatArray, m: FloatArray) -> LSTMGates:
    one = np.ones_like(v)
    return LSTMGates(i=one, f=one, o=one, g=np.maximum(v + m - 1.0, 0.0))


#: Gate settings for the adding problem: eq. (7) as printed, and the two readings that add.
ADDING_LSTM_GATES: dict[str, Callable[[FloatArray, FloatArray], LSTMGates]] = {
    "printed": _printed,
    "gated": _gated,
    "relu": _relu,
}


def adding_lstm_gates(inputs: ArrayLike, variant: str = "gated") -> LSTMGates:
    """The gates of paper eq. (7) for adding-task inputs ``(batch, T, 2)``, by variant name.

    >>> gates = adding_lstm_gates(np.array([[[0.3, 1.0], [0.6, 0.0]]]), "gated")
    >>> gates.i.tolist(), gates.g.tolist()
    ([[1.0, 0.0]], [[0.3, 0.6]])
    """
    x = as_float_array(inputs, "inputs")
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ShapeError(f"adding inputs must be (batch, T, 2), got {x.shape}")
    if variant not in ADDING_LSTM_GATES:
        raise OrthornnError(f"unknown gate variant {variant!r}; choose one of {sorted(ADDING_LSTM_GATES)}")
    return ADDING_LSTM_GATES[variant](x[..., 0], x[..., 1])


def lstm_forward(gates: LSTMGates, c0: ArrayLike | float = 0.0) -> FloatArray:
    r"""Run the LSTM cell of paper eqs. (4)–(5) without the ``tanh``, given its gates.

    .. math:: c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot c_t

    Returns every ``h_t``, shape ``(batch, T)``.

    >>> one = np.ones((1, 3))
    >>> lstm_forward(LSTMGates(i=one, f=one, o=one, g=np.array([[1.0, 2.0, 3.0]]))).tolist()
    [[1.0, 3.0, 6.0]]
    """
    c = np.broadcast_to(np.asarray(c0, dtype=np.float64), gates.i.shape[:1]).copy()
    h = np.empty_like(gates.i, dtype=np.float64)
    for t in range(gates.i.shape[1]):
        c = gates.f[:, t] * c + gates.i[:, t] * gates.g[:, t]
        h[:, t] = gates.o[:, t] * c
    return h


def adding_lstm(inputs: ArrayLike, variant: str = "gated") -> FloatArray:
    r"""The LSTM reading of the adding solution: the last ``h_T``, ``(batch,)``.

    References
    ----------
    Henaff, Szlam, LeCun (2016), §3.2.1, eq. (7).

    Examples
    --------
    >>> from orthornn.tasks import adding_task
    >>> x, y = adding_task(100, T=50, rng=0)
    >>> bool(np.array_equal(adding_lstm(x, "gated"), y)), float(np.abs(adding_lstm(x, "printed")).max())
    (True, 0.0)
    """
    return lstm_forward(adding_lstm_gates(inputs, variant))[:, -1]
