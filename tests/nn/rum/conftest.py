"""The RUM tests (one file per module of orthornn/nn/rum/) check the torch implementation, the
reference; tests/nn/test_kernels.py compares the native kernels (used by default on CPU) with it."""

from __future__ import annotations

import pytest

from orthornn.nn import kernels


@pytest.fixture(autouse=True)
def _torch_implementation():
    """Native kernels off (a test that wants them turns them on inside)."""
    with kernels.native(False):
        yield
