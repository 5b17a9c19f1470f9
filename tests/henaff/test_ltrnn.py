"""The numpy LT-RNN forward pass and l2 pooling, against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL, ROLLOUT_PER_STEP

from orthornn.errors import OrthornnError, ShapeError
from orthornn.henaff import l2_pool, ltrnn_forward


def _naive(x_feats, U, V, W, b=None, sigma=lambda z: z, Wp=None, k=None):
    """Plain per-sequence, per-step loop with explicit vectors (the reference)."""
    batch, L, _ = x_feats.shape
    out = []
    for s in range(batch):
        h = np.zeros(V.shape[0])
        ys = []
        for t in range(L):
            z = U @ x_feats[s, t] + (0 if b is None else b)
            h = sigma(z) + V @ h
            y = W @ h
            if Wp is not None:
                y = y + Wp @ np.array([np.linalg.norm(h[i : i + k]) for i in range(0, len(h), k)])
            ys.append(y)
        out.append(ys)
    return np.array(out)


@given(st.integers(1, 4), st.integers(1, 8), st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_token_ids_are_one_hot_inputs(batch, L, N, n, seed):
    g = np.random.default_rng(seed)
    U, V, W = g.normal(size=(n, N)), g.normal(size=(n, n)) / n, g.normal(size=(3, n))
    ids = g.integers(0, N, size=(batch, L))
    ours = ltrnn_forward(ids, U, V, W).outputs
    ref = _naive(np.eye(N)[ids], U, V, W)
    assert np.allclose(ours, ref, atol=ATOL["float64"], rtol=0)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_features_bias_relu_and_pooling(batch, L, seed):
    g = np.random.default_rng(seed)
    n, N, M, k = 6, 3, 2, 2
    U, V, W, b = g.normal(size=(n, N)), g.normal(size=(n, n)) / n, g.normal(size=(M, n)), g.normal(size=n)
    Wp = g.normal(size=(M, n // k))
    x = g.normal(size=(batch, L, N))
    res = ltrnn_forward(x, U, V, W, b=b, activation="relu", W_pool=Wp, pool=k, return_hidden=True)
    ref = _naive(x, U, V, W, b, lambda z: np.maximum(z, 0), Wp, k)
    assert np.allclose(res.outputs, ref, atol=ATOL["float64"], rtol=0)
    assert res.hidden is not None and res.hidden.shape == (batch, L, n)
    assert np.allclose(np.einsum("mn,bln->blm", W, res.hidden) + l2_pool(res.hidden, k) @ Wp.T, res.outputs)


def test_linear_closed_form():
    """Linear LT-RNN: h_t = sum_s V^(t-s) U x_s (matrix powers, not a loop over the recurrence)."""
    g = np.random.default_rng(0)
    n, N, L = 5, 2, 12
    U, V = g.normal(size=(n, N)), np.linalg.qr(g.normal(size=(n, n)))[0]
    x = g.normal(size=(2, L, N))
    hidden = ltrnn_forward(x, U, V, np.eye(n), return_hidden=True).hidden
    for t in range(L):
        exact = sum(np.linalg.matrix_power(V, t - s) @ U @ x[:, s].T for s in range(t + 1)).T
        assert np.allclose(hidden[:, t], exact, atol=ROLLOUT_PER_STEP["float64"] * L, rtol=0)


def test_per_sequence_parameters_match_one_by_one():
    g = np.random.default_rng(1)
    B, n, N, L = 3, 4, 3, 7
    U, V, W = g.normal(size=(B, n, N)), g.normal(size=(B, n, n)) / 2, g.normal(size=(B, 2, n))
    ids = g.integers(0, N, size=(B, L))
    batched = ltrnn_forward(ids, U, V, W).outputs
    for s in range(B):
        single = ltrnn_forward(ids[s : s + 1], U[s], V[s], W[s]).outputs[0]
        assert np.allclose(batched[s], single, atol=ATOL["float64"], rtol=0)


def test_initial_state_and_float32():
    U, V, W = np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32)
    x = np.ones((1, 3, 2), dtype=np.float32)
    out = ltrnn_forward(x, U, V, W, h0=np.array([10.0, 0.0])).outputs
    assert out.dtype == np.float32
    assert out[0, :, 0].tolist() == [11.0, 12.0, 13.0]


@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_l2_pool_is_invariant_under_blockwise_rotations(blocks, seed):
    g = np.random.default_rng(seed)
    h = g.normal(size=(3, 2 * blocks))
    angles = g.uniform(-np.pi, np.pi, size=blocks)
    rotated = h.copy()
    for i, a in enumerate(angles):
        c, s = np.cos(a), np.sin(a)
        rotated[:, 2 * i : 2 * i + 2] = h[:, 2 * i : 2 * i + 2] @ np.array([[c, s], [-s, c]]).T
    assert np.allclose(l2_pool(h, 2), l2_pool(rotated, 2), atol=ATOL["float64"], rtol=0)
    assert np.allclose(l2_pool(h, 2) ** 2, h[:, 0::2] ** 2 + h[:, 1::2] ** 2, atol=ATOL["float64"])


def test_errors():
    U, V, W = np.eye(2), np.eye(2), np.eye(2)
    with pytest.raises(OrthornnError, match="input ids"):
        ltrnn_forward(np.array([[0, 2]]), U, V, W)
    with pytest.raises(ShapeError, match="V must be"):
        ltrnn_forward(np.array([[0, 1]]), U, np.eye(3), W)
    with pytest.raises(ShapeError, match="real inputs"):
        ltrnn_forward(np.ones((1, 2, 3)), U, V, W)
    with pytest.raises(OrthornnError, match="together"):
        ltrnn_forward(np.array([[0]]), U, V, W, W_pool=np.eye(2))
    with pytest.raises(OrthornnError, match="unknown activation"):
        ltrnn_forward(np.array([[0]]), U, V, W, activation="sigmoid")
    with pytest.raises(ShapeError, match="leading batch axis"):
        ltrnn_forward(np.array([[0]]), np.ones((3, 2, 2)), V, W)
    with pytest.raises(ShapeError):
        ltrnn_forward(np.zeros((0, 3), dtype=int), U, V, W)
    with pytest.raises(ShapeError, match="multiple of the pool size"):
        l2_pool(np.ones(5), 2)
    with pytest.raises(OrthornnError, match="pool size"):
        l2_pool(np.ones(4), 0)
