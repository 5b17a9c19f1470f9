"""orthornn.train.registry: the readout initialisations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from orthornn.errors import OrthornnError
from orthornn.train.registry import READOUT_INITS, init_readout


@pytest.mark.parametrize(("n", "n_out", "n_x"), [(50, 10, 26), (100, 9, 10), (250, 9, 10)])
def test_glorot_io_is_the_official_readout(n, n_out, n_x):
    """recall_task.py / copying_task.py: V ~ U(±√6/√(n_output + n_input)), bias 0.01 — the
    bound over the task's output and one-hot input sizes, not the readout's fan-in N."""
    torch.manual_seed(0)
    head = init_readout(nn.Linear(n, n_out, dtype=torch.float64), "glorot-io", input_size=n_x)
    bound = math.sqrt(6.0) / math.sqrt(n_out + n_x)
    w = head.weight.detach()
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.95 * bound  # uniform up to the bound
    assert abs(float(w.var()) - bound**2 / 3) < 0.15 * bound**2 / 3
    assert torch.equal(head.bias, torch.full((n_out,), 0.01, dtype=torch.float64))


def test_torch_readout_is_left_as_drawn_and_unknown_names_are_refused():
    torch.manual_seed(1)
    a = nn.Linear(8, 3)
    torch.manual_seed(1)
    b = init_readout(nn.Linear(8, 3), "torch", input_size=5)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert READOUT_INITS == ("torch", "glorot-io")
    with pytest.raises(OrthornnError, match="readout_init: unknown 'xavier'; choose one of torch, glorot-io"):
        init_readout(nn.Linear(8, 3), "xavier", input_size=5)
