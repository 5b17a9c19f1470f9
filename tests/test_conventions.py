"""The phase wrap of docs/conventions.md: every result in (−π, π], −π ↦ π, and the wrap is a
multiple of 2π away from its input (hypothesis over all finite angles up to 1e6, and the
rounding cases next to ±π)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from orthornn._conventions import wrap_phase

NEAR_PI = [np.nextafter(s * np.pi, d) for s in (-1, 1) for d in (-np.inf, np.inf)] + [-np.pi, np.pi]


@given(st.one_of(st.floats(-1e6, 1e6), st.sampled_from(NEAR_PI)))
def test_wrap_phase_lands_in_the_principal_interval(phi):
    w = float(wrap_phase(phi))
    assert -np.pi < w <= np.pi
    k = (phi - w) / (2 * np.pi)
    assert abs(k - round(k)) <= 1e-9 * max(1.0, abs(phi))


def test_just_above_minus_pi_stays_just_above_minus_pi():
    phi = np.nextafter(-np.pi, 0.0)  # -3.1415926535897927: the rounding case
    assert float(wrap_phase(phi)) == phi
    assert float(wrap_phase(-np.pi)) == np.pi
