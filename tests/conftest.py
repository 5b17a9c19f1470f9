"""Test configuration shared by the whole suite.

* hypothesis profile ``ci`` (the default): no deadline, enough examples to matter; select
  another with ``HYPOTHESIS_PROFILE=dev`` (fast) or ``thorough``;
* float64 by default: torch's default dtype is set to float64 where torch is installed,
  and one intra-op thread (two OpenMP threads on a shared 2-core machine are far slower);
* warnings are errors (``filterwarnings = error`` in pyproject.toml).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=15)
settings.register_profile("thorough", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

try:
    import torch
except ImportError:  # pragma: no cover - torch is a dependency, but keep numpy tests runnable
    torch = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _float64_single_thread():
    """Each test runs with torch default dtype float64 and one intra-op thread."""
    if torch is None:
        yield
        return
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)
    # `orthornn train` flushes denormals for the process (docs/training.md); a test that runs it
    # in-process must not leave FTZ/DAZ set for the next test (hypothesis needs subnormals).
    torch.set_flush_denormal(False)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator (tests are reproducible)."""
    return np.random.default_rng(20261121)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``@pytest.mark.gpu`` tests when CUDA is not available (never fail for lack of it)."""
    if torch is not None and torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
