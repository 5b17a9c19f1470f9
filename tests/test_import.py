"""`import orthornn` must not import torch (torch stays behind orthornn.nn)."""

from __future__ import annotations

import subprocess
import sys

PROBE = "import sys, {mod}; print('torch' in sys.modules)"


def _loads_torch(module: str) -> bool:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(mod=module)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() == "True"


def test_import_orthornn_does_not_import_torch():
    assert _loads_torch("orthornn") is False


def test_numeric_and_symbolic_layers_do_not_import_torch():
    assert _loads_torch("orthornn.symbolic, orthornn.numeric, orthornn.cli") is False


def test_testing_helpers_do_not_import_torch():
    """orthornn.testing (strategies, assertions, the layer check, the pytest plugin) loads torch only
    when a tensor is drawn or a layer checked."""
    assert _loads_torch("orthornn.testing, orthornn.testing.plugin") is False


def test_the_probe_can_fail():
    """Meta-test: the same probe does see torch when the torch layer is imported."""
    assert _loads_torch("orthornn.nn") is True


def test_public_api_is_explicit():
    import orthornn

    assert set(orthornn.__all__) <= set(dir(orthornn))
    missing = [name for name in orthornn.__all__ if getattr(orthornn, name, None) is None]
    assert not missing
