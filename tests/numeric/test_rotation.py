"""Property tests of orthornn.rotation / orthornn.rotate (numpy), dimensions 2..64, float32 and float64.

Oracles: the group identities of RUM §3.1 (docs/rotation.md), an independent dense float64
construction of eq. (1) (tests/rotation_reference.py), and a sympy.lambdify of the exact
symbolic matrix (orthornn.symbolic.rotation).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st
from rotation_reference import canonical_antiparallel, cos_sin, eq1, unit
from tolerances import ATOL, ORTHO_PER_N, near_pi_atol

import orthornn
from orthornn import NotFiniteError, OrthornnError, ShapeError, rotate, rotation
from orthornn.testing import assert_orthogonal, dimensions, vector_pairs, vectors

DTYPES = {"float64": np.float64, "float32": np.float32}
DIMS = dimensions(2, 64)
dtypes = pytest.mark.parametrize("dt", list(DTYPES))


def ortho_atol(dt: str, n: int) -> float:
    # issue 2: ≤ 1e-14·N in float64 and ≤ 1e-5 (absolute) in float32
    return ORTHO_PER_N[dt] * (n if dt == "float64" else 1)


@dtypes
@given(data=st.data())
def test_orthogonal_with_det_one(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    R = rotation(a, b)
    assert R.dtype == DTYPES[dt] and R.shape == (a.size, a.size)
    assert_orthogonal(R, atol=ortho_atol(dt, a.size), special=True)


@dtypes
@given(data=st.data())
def test_maps_a_hat_to_b_hat(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    R = rotation(a, b).astype(np.float64)
    np.testing.assert_allclose(R @ unit(a), unit(b), rtol=0, atol=ATOL[dt])


@dtypes
@given(data=st.data())
def test_identity_on_the_orthogonal_complement(dt, data):
    kind = data.draw(st.sampled_from(["generic", "nearly_collinear", "nearly_antiparallel"]))
    a, b = data.draw(vector_pairs(dimensions(3, 64), kind, dtype=DTYPES[dt]))
    q, _ = np.linalg.qr(np.stack([a, b], axis=1).astype(np.float64))
    v = data.draw(vectors(a.size, max_exponent=0))
    v = v - q @ (q.T @ v)
    v = v - q @ (q.T @ v)
    c, s = cos_sin(a, b)
    np.testing.assert_allclose(rotation(a, b) @ v, v, rtol=0, atol=near_pi_atol(dt, c, s))


@dtypes
@given(data=st.data())
def test_inverse_is_transpose_is_reversed_pair(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    R, Rba = rotation(a, b), rotation(b, a)
    c, s = cos_sin(a, b)
    np.testing.assert_allclose(Rba, R.T, rtol=0, atol=near_pi_atol(dt, c, s))
    n = a.size
    np.testing.assert_allclose(R.astype(np.float64) @ Rba, np.eye(n), rtol=0, atol=near_pi_atol(dt, c, s))


@dtypes
@given(data=st.data())
def test_scale_invariance(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    # exact power-of-two scales (down to 2^-100 and up to 2^100): bitwise the same rotation
    i, j = data.draw(st.integers(-100, 100)), data.draw(st.integers(-100, 100))
    sa, sb = np.ldexp(a, i), np.ldexp(b, j)
    assume(np.array_equal(np.ldexp(sa, -i), a) and np.array_equal(np.ldexp(sb, -j), b))  # no under/overflow
    assert np.array_equal(rotation(sa, sb), rotation(a, b))
    # general positive scales: the same rotation of the rounded inputs
    alpha, beta = data.draw(st.floats(1e-3, 1e3)), data.draw(st.floats(1e-3, 1e3))
    a2, b2 = (alpha * a).astype(a.dtype), (beta * b).astype(b.dtype)
    c, s = cos_sin(a2, b2)
    np.testing.assert_allclose(rotation(a2, b2), rotation(a, b), rtol=0, atol=near_pi_atol(dt, c, s))


EXTREME_SCALES = {
    "float64": [(1e-300, 1e300), (1e300, 1e-300), (1e-300, 1e-300)],
    "float32": [(1e-30, 1e30), (1e30, 1e-30)],
}


@pytest.mark.parametrize(("dt", "scales"), [(dt, sc) for dt, scs in EXTREME_SCALES.items() for sc in scs])
def test_extreme_magnitudes(dt, scales, rng):
    # ‖a‖² would under- or overflow: the max-scaling first keeps everything finite
    a = (scales[0] * rng.standard_normal(7)).astype(DTYPES[dt])
    b = (scales[1] * rng.standard_normal(7)).astype(DTYPES[dt])
    R = rotation(a, b)
    assert_orthogonal(R, atol=ortho_atol(dt, 7), special=True)
    np.testing.assert_allclose(R.astype(np.float64) @ unit(a), unit(b), rtol=0, atol=ATOL[dt])


@dtypes
@given(data=st.data())
def test_eigenvalues(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    n = a.size
    c, s = cos_sin(a, b)
    lam = np.linalg.eigvals(rotation(a, b).astype(np.float64))
    want = np.array([c, c] + [1.0] * (n - 2)), np.array([-s, s] + [0.0] * (n - 2))
    np.testing.assert_allclose(np.sort(lam.real), np.sort(want[0]), rtol=0, atol=10 * ATOL[dt])
    np.testing.assert_allclose(np.sort(lam.imag), np.sort(want[1]), rtol=0, atol=10 * ATOL[dt])


@dtypes
@given(data=st.data())
def test_rotate_preserves_norm_and_equals_the_matrix_product(dt, data):
    a, b = data.draw(vector_pairs(DIMS, dtype=DTYPES[dt]))
    h = data.draw(vectors(a.size, dtype=DTYPES[dt]))
    Rh = rotate(a, b, h)
    assert Rh.dtype == DTYPES[dt] and Rh.shape == h.shape
    scale = float(np.abs(h).max())
    np.testing.assert_allclose(Rh, rotation(a, b) @ h, rtol=0, atol=ATOL[dt] * scale)
    h64 = h.astype(np.float64)
    assert abs(np.linalg.norm(Rh.astype(np.float64)) - np.linalg.norm(h64)) <= ATOL[dt] * scale


@dtypes
@given(data=st.data())
def test_equals_eq1_built_densely(dt, data):
    kind = data.draw(st.sampled_from(["generic", "nearly_collinear", "nearly_antiparallel"]))
    a, b = data.draw(vector_pairs(DIMS, kind, dtype=DTYPES[dt]))
    c, s = cos_sin(a, b)
    assume(s > 1e-10)  # eq. (1) needs a plane; float32 rounding can make a nearly collinear pair exact
    np.testing.assert_allclose(rotation(a, b), eq1(a, b), rtol=0, atol=near_pi_atol(dt, c, s))


def exact_eq1(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """RUM eq. (1) as an exact sympy matrix; orthornn.symbolic.rotation.rotation where it exists."""
    try:
        from orthornn.symbolic.rotation import rotation as symbolic_rotation
    except ImportError:  # the symbolic layer is optional for this check: build eq. (1) here
        u_a = a / sp.sqrt(a.dot(a))
        v = b - u_a.dot(b) * u_a
        u_b = v / sp.sqrt(v.dot(v))
        cos, sin = a.dot(b) / sp.sqrt(a.dot(a) * b.dot(b)), sp.sqrt(v.dot(v) / b.dot(b))
        F = sp.Matrix.hstack(u_a, u_b)
        return sp.eye(a.rows) - u_a * u_a.T - u_b * u_b.T + F * sp.Matrix([[cos, -sin], [sin, cos]]) * F.T
    return symbolic_rotation(a, b)


@functools.cache
def symbolic_eq1(n: int):
    """sympy.lambdify of the exact eq. (1) matrix for symbolic vectors of length n."""
    a = sp.symbols(f"a0:{n}", real=True)
    b = sp.symbols(f"b0:{n}", real=True)
    return sp.lambdify([a, b], exact_eq1(sp.Matrix(a), sp.Matrix(b)), "numpy")


@pytest.mark.parametrize("n", [2, 3, 4])
@given(data=st.data())
def test_equals_lambdified_exact_matrix(n, data):
    # Evaluated in floats, the exact formula is itself ill-conditioned near θ = π (its error grows
    # like eps/sin²θ there), so it is an oracle for generic and nearly collinear pairs only.
    kind = data.draw(st.sampled_from(["generic", "nearly_collinear"]))
    a, b = data.draw(vector_pairs(n, kind))
    _, s = cos_sin(a, b)
    assume(s > 1e-6)  # the exact formula divides by ‖v‖; evaluated in floats it needs a plane
    want = np.asarray(symbolic_eq1(n)(a, b), dtype=np.float64)
    np.testing.assert_allclose(rotation(a, b), want, rtol=0, atol=ATOL["float64"])


# ---------------------------------------------------------------- degenerate inputs


@dtypes
@given(data=st.data())
def test_parallel_is_identity(dt, data):
    a, b = data.draw(vector_pairs(DIMS, "parallel", dtype=DTYPES[dt]))
    n = a.size
    np.testing.assert_allclose(rotation(a, b), np.eye(n), rtol=0, atol=ATOL[dt])
    np.testing.assert_allclose(rotation(a, a), np.eye(n), rtol=0, atol=ATOL[dt])
    assert np.array_equal(rotation(a, np.ldexp(a, 3)), rotation(a, a))  # scale invariance, bitwise


@dtypes
@given(data=st.data())
def test_antiparallel_is_the_canonical_half_turn(dt, data):
    a, b = data.draw(vector_pairs(DIMS, "antiparallel", dtype=DTYPES[dt]))
    R = rotation(a, b)
    assert_orthogonal(R, atol=ortho_atol(dt, a.size), special=True)
    np.testing.assert_allclose(R, canonical_antiparallel(a), rtol=0, atol=ATOL[dt])
    np.testing.assert_allclose(R.astype(np.float64) @ unit(a), -unit(a), rtol=0, atol=ATOL[dt])
    assert np.array_equal(R, rotation(a, -a))  # scale invariance survives the convention


def test_antiparallel_convention_example():
    # â = e_0: |â| = (1, 0, 0), the first smallest entry is k = 1, partner e_1: a half turn in the (0, 1) plane
    np.testing.assert_array_equal(rotation([2.0, 0.0, 0.0], [-5.0, 0.0, 0.0]), np.diag([-1.0, -1.0, 1.0]))


@dtypes
@given(data=st.data())
def test_zero_vectors_give_the_identity(dt, data):
    a = data.draw(vectors(DIMS, dtype=DTYPES[dt]))
    n, z = a.size, np.zeros(a.size, DTYPES[dt])
    for R in (rotation(z, a), rotation(a, z), rotation(z, z)):
        assert np.array_equal(R, np.eye(n, dtype=DTYPES[dt]))  # never a projection
    assert np.array_equal(rotate(z, a, a), a)


def test_batched_mixture_of_cases(rng):
    n = 5
    a = rng.standard_normal((6, n))
    b = np.stack(
        [
            rng.standard_normal(n),
            3 * a[1],
            -2 * a[2],
            np.zeros(n),
            a[4] + 1e-9 * rng.standard_normal(n),
            -a[5] + 1e-9 * rng.standard_normal(n),
        ]
    )
    a[3] = 0.0
    R = rotation(a, b)
    assert R.shape == (6, n, n)
    for i in range(6):
        np.testing.assert_array_equal(R[i], rotation(a[i], b[i]))
    assert_orthogonal(R, atol=ortho_atol("float64", n), special=True)
    np.testing.assert_array_equal(R[3], np.eye(n))


def test_broadcasting(rng):
    a, b, h = rng.standard_normal((4, 1, 6)), rng.standard_normal((3, 6)), rng.standard_normal(6)
    R = rotation(a, b)
    assert R.shape == (4, 3, 6, 6)
    np.testing.assert_array_equal(R[2, 1], rotation(a[2, 0], b[1]))
    Rh = rotate(a, b, h)
    assert Rh.shape == (4, 3, 6)
    np.testing.assert_allclose(Rh, (R @ h[:, None])[..., 0], rtol=0, atol=ATOL["float64"])


def test_dtypes(rng):
    a32, b32 = rng.standard_normal((2, 4)).astype(np.float32)
    assert rotation(a32, b32).dtype == np.float32
    assert rotate(a32, b32, b32).dtype == np.float32
    assert rotation(a32, b32.astype(np.float64)).dtype == np.float64
    assert rotation([1, 2, 3], [3, 1, 2]).dtype == np.float64  # integers become float64


def test_dimension_one():
    np.testing.assert_array_equal(rotation([2.0], [3.0]), [[1.0]])
    np.testing.assert_array_equal(rotation([0.0], [-3.0]), [[1.0]])
    np.testing.assert_array_equal(rotate([2.0], [3.0], [7.0]), [7.0])
    with pytest.raises(OrthornnError, match="SO\\(1\\)"):
        rotation([2.0], [-3.0])
    with pytest.raises(OrthornnError, match="SO\\(1\\)"):
        rotate([[1.0], [2.0]], [[1.0], [-3.0]], [[1.0], [1.0]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_raise(bad):
    good = np.array([1.0, 2.0, 3.0])
    broken = good.copy()
    broken[1] = bad
    with pytest.raises(NotFiniteError, match="a contains NaN or inf"):
        rotation(broken, good)
    with pytest.raises(NotFiniteError, match="b contains NaN or inf"):
        rotation(good, broken)
    with pytest.raises(NotFiniteError, match="h contains NaN or inf"):
        rotate(good, good, broken)
    assert issubclass(NotFiniteError, ValueError)


def test_wrong_shapes_raise_naming_the_shapes():
    with pytest.raises(ShapeError, match=r"a \(3,\), b \(4,\)"):
        rotation(np.ones(3), np.ones(4))
    with pytest.raises(ShapeError, match=r"a \(2, 3\), b \(5, 3\)"):
        rotation(np.ones((2, 3)), np.ones((5, 3)))
    with pytest.raises(ShapeError, match=r"h \(2,\)"):
        rotate(np.ones(3), np.ones(3), np.ones(2))
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        rotation(1.0, np.ones(3))
    with pytest.raises(ShapeError, match="n ≥ 1"):
        rotation(np.ones((2, 0)), np.ones((2, 0)))


def test_top_level_names():
    assert orthornn.rotation is rotation and orthornn.rotate is rotate
