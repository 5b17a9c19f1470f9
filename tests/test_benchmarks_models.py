"""benchmarks/models.py --fractional-recall runs at its smallest and prints a well-formed table
(no timing is checked: timings are the benchmark's business, never a test's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "models.py"

pytestmark = pytest.mark.slow


def test_fractional_recall_prints_one_row_per_lambda_with_its_ratio_to_lambda_one():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(SCRIPT), "--fractional-recall", "--warmup", "1", "--reps", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, timeout=600).stdout
    lines = out.splitlines()
    assert lines[0].startswith("recall T=30, N=50, batch 128") and "trained 1 steps" in lines[0]
    rows = {}
    for line in lines[2:]:
        label, rest = line[:22].strip(), line[22:].split()
        rows[label] = [float(v) for v in rest]
    assert set(rows) == {"RUM λ=0.5", "RUM λ=0.5 learned", "RUM λ=0.25", "RUM λ=0.75"}
    for frac, one, ratio in rows.values():
        assert frac > 0 and one > 0 and ratio == pytest.approx(frac / one, rel=0.05, abs=0.06)  # (printed rounded)
