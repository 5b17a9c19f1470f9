"""The one-unit ReLU solution of the adding problem, and its LSTM readings (paper eq. 7)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL

from orthornn.errors import OrthornnError, ShapeError
from orthornn.henaff import ADDING_LSTM_GATES, adding_lstm, adding_lstm_gates, adding_solution
from orthornn.tasks import adding_task

unit = st.one_of(st.sampled_from([0.0, 1.0, np.nextafter(1.0, 0.0), 5e-324]), st.floats(0.0, 1.0))


@st.composite
def sequences(draw):
    """Any values in [0, 1] (0 and 1 included) and any 0/1 markers, T from 1."""
    T = draw(st.integers(1, 40))
    values = np.array(draw(st.lists(unit, min_size=T, max_size=T)))
    markers = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=T, max_size=T)))
    return np.stack([values, markers], axis=-1)[None]


@given(sequences())
def test_exact_for_every_input(x):
    """h_T = sum of the marked values, for any number of markers (two is the task's case)."""
    exact = float(np.sum(x[0, :, 0] * x[0, :, 1]))
    assert abs(adding_solution().predict(x)[0] - exact) <= ATOL["float64"]
    for variant in ("gated", "relu"):
        assert abs(adding_lstm(x, variant)[0] - exact) <= ATOL["float64"]


@pytest.mark.parametrize("T", [2, 3, 200, 750])
def test_exact_on_the_task(T):
    x, y = adding_task(300, T, rng=T)
    assert np.max(np.abs(adding_solution().predict(x) - y)) <= ATOL["float64"]


def test_parameters():
    sol = adding_solution()
    assert sol.U.tolist() == [[1.0, 1.0]] and sol.b.tolist() == [-1.0]
    assert sol.V.tolist() == [[1.0]] and sol.W.tolist() == [[1.0]]


def test_eq7_as_printed_adds_nothing():
    """i = x[1], g = (x[2] - 1)_+ is identically zero for markers in {0, 1}: documented typo."""
    x, y = adding_task(50, 20, rng=0)
    gates = adding_lstm_gates(x, "printed")
    assert not gates.g.any()
    assert not adding_lstm(x, "printed").any() and y.min() > 0


def test_gates_of_the_gated_reading():
    x, _ = adding_task(4, 10, rng=1)
    gates = adding_lstm_gates(x, "gated")
    assert np.array_equal(gates.i, x[..., 1]) and np.array_equal(gates.g, x[..., 0])
    assert (gates.f == 1).all() and (gates.o == 1).all()
    assert set(ADDING_LSTM_GATES) == {"printed", "gated", "relu"}


def test_errors():
    with pytest.raises(OrthornnError, match="unknown gate variant"):
        adding_lstm(np.zeros((1, 3, 2)), "forget")
    with pytest.raises(ShapeError):
        adding_lstm_gates(np.zeros((1, 3)))
