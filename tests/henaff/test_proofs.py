"""``orthornn prove proofs/henaff.py``: every theorem of the family is proved."""

from __future__ import annotations

from pathlib import Path

from orthornn.symbolic import Status, discover

PROOFS = Path(__file__).resolve().parents[2] / "proofs" / "henaff.py"


def test_every_henaff_theorem_is_proved():
    theorems = discover([PROOFS])
    assert {t.id for t in theorems} == {
        "henaff.rotation_power",
        "henaff.clock_period",
        "henaff.trace",
        "henaff.trace_run",
        "henaff.counter",
        "henaff.adding_exact",
        "henaff.gradient_norm",
    }
    results = [t.run() for t in theorems]
    failed = {
        r.id: (r.status.value, r.message, [c.label for c in r.checks if c.status is not Status.PROVED])
        for r in results
        if r.status is not Status.PROVED
    }
    assert not failed
    assert all(len(r.checks) >= 2 for r in results)
