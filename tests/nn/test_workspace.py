"""The scratch-buffer workspace of the sequence nodes: reuse only after the owner is gone."""

from __future__ import annotations

import gc

import torch
from tolerances import ATOL

from orthornn.nn import RUMCell, kernels
from orthornn.nn.rum import sequence0, sequence1
from orthornn.nn.workspace import SEQUENCE_WORKSPACE, Workspace

CPU = torch.device("cpu")


class Owner:
    pass


def test_buffers_are_reused_only_after_their_owner_is_gone():
    ws = Workspace(max_free_bytes=1 << 20)
    a_owner, b_owner = Owner(), Owner()
    a = ws.take((10, 3), torch.float32, CPU, a_owner)
    b = ws.take((10, 3), torch.float32, CPU, b_owner)
    assert a.data_ptr() != b.data_ptr()  # a is still lent
    pa = a.data_ptr()
    del a_owner, a
    gc.collect()
    assert ws.free_bytes() == 30 * 4
    c = ws.take((5, 4), torch.float32, CPU, Owner())  # fits in a's 30 elements
    assert c.data_ptr() == pa and c.shape == (5, 4)
    assert ws.take((10, 3), torch.float64, CPU, b_owner).data_ptr() != pa  # another dtype: new buffer


def test_too_small_buffers_are_not_reused_and_the_cap_evicts_the_oldest():
    ws = Workspace(max_free_bytes=100 * 8)
    owners = [Owner() for _ in range(3)]
    ptrs = [ws.take((60,), torch.float64, CPU, o).data_ptr() for o in owners]
    while owners:  # released in the order they were lent
        del owners[0]
    gc.collect()
    assert ws.free_bytes() == 60 * 8  # the cap (100 elements) keeps one of the three
    big = Owner()
    assert ws.take((61,), torch.float64, CPU, big).data_ptr() not in ptrs  # 60 < 61: a new buffer
    keep = Owner()
    assert ws.take((60,), torch.float64, CPU, keep).data_ptr() == ptrs[-1]  # the newest was kept
    ws.clear()
    assert ws.free_bytes() == 0


def _grads(hs, w, leaves):
    return torch.autograd.grad((hs * w).sum(), leaves, retain_graph=True)


def test_a_retained_graph_keeps_its_buffers_while_other_passes_run():
    """Two live graphs and a second backward of the first: the workspace must not hand the first
    graph's saved buffer to the second pass."""
    SEQUENCE_WORKSPACE.clear()
    torch.manual_seed(17)
    cell = RUMCell(3, 6)
    leaves = list(cell.parameters())
    x1, x2, h0 = torch.randn(4, 7, 3), torch.randn(4, 7, 3), torch.randn(4, 6)
    w = torch.randn(7, 4, 6)
    for backend in (True, False):
        with kernels.native(backend):
            hs1 = sequence0(x1, cell.weight_x, cell.projection_bias(), cell.weight_h, h0)
            first = _grads(hs1, w, leaves)
            hs2 = sequence0(x2, cell.weight_x, cell.projection_bias(), cell.weight_h, h0)  # graph 1 still alive
            _grads(hs2, w, leaves)
            again = _grads(hs1, w, leaves)  # second backward of graph 1 after pass 2 ran
        for a, r in zip(again, first, strict=True):
            torch.testing.assert_close(a, r, atol=ATOL["float64"], rtol=0)
        del hs1, hs2
        gc.collect()
    assert SEQUENCE_WORKSPACE.free_bytes() > 0  # the dead graphs' buffers came back for reuse


def test_the_lambda1_node_keeps_its_buffers_across_passes_too():
    """The λ = 1 native node borrows its projection and gradient buffers from the same workspace."""
    SEQUENCE_WORKSPACE.clear()
    torch.manual_seed(18)
    cell = RUMCell(3, 5, lam=1.0)
    leaves = list(cell.parameters())
    h0, R0 = cell.initial_state(4, like=torch.zeros(1))
    x1, x2 = torch.randn(4, 6, 3), torch.randn(4, 6, 3)
    w = torch.randn(6, 4, 5)
    with kernels.native(True):
        out1 = sequence1(x1, cell.weight_x, cell.projection_bias(), cell.weight_h, h0, R0)
        assert out1 is not None
        first = _grads(out1[0], w, leaves)
        out2 = sequence1(x2, cell.weight_x, cell.projection_bias(), cell.weight_h, h0, R0)
        assert out2 is not None
        _grads(out2[0], w, leaves)
        again = _grads(out1[0], w, leaves)
    for a, r in zip(again, first, strict=True):
        torch.testing.assert_close(a, r, atol=ATOL["float64"], rtol=0)
    del out1, out2
    gc.collect()
    assert SEQUENCE_WORKSPACE.free_bytes() > 0
