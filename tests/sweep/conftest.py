"""The ``reference`` fixture: the tiny grid (:mod:`sweep.tiny_grid`) swept once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sweep.tiny_grid import TINY, results

from orthornn.sweep.launch import Launch, run_sweep
from orthornn.sweep.plan import expand, load_spec


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> tuple[Path, list, dict[str, dict[str, Any]]]:
    """The tiny grid swept once, uninterrupted, by two local workers: (folder, runs, results)."""
    out = tmp_path_factory.mktemp("reference")
    runs = expand(load_spec(TINY))
    result = run_sweep(runs, out, Launch(workers=2))
    assert result.ok, result.unfinished()
    return out, runs, results(out, runs)
