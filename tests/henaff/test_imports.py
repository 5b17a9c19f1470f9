"""``orthornn.tasks`` and ``orthornn.henaff`` are numpy-only: no torch, no matplotlib."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import sys, orthornn.tasks, orthornn.henaff; print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
)


def test_numpy_only():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_probe_sees_an_import():
    probe = PROBE.replace("orthornn.henaff;", "orthornn.henaff, matplotlib;")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['matplotlib']"
