"""Theorem objects, derivations and discovery of theorem files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sympy as sp

from orthornn.symbolic import (
    Derivation,
    DiscoveryError,
    Status,
    discover,
    theorem,
    to_json,
    to_markdown,
)

x = sp.Symbol("x", real=True)


def test_theorem_records_steps_and_checks():
    @theorem("demo.double_angle", r"\sin 2x = 2\sin x\cos x")
    def double_angle(d: Derivation):
        """Double-angle formula."""
        lhs = d.step("Expand the sine of a sum", sp.sin(2 * x))
        d.equal(sp.expand_trig(lhs), 2 * sp.sin(x) * sp.cos(x), "expanded")

    r = double_angle.run()
    assert r.status is Status.PROVED
    assert r.family == "demo" and double_angle.title == "Double-angle formula."
    assert len(r.steps) == 1 and r.steps[0].latex == sp.latex(sp.sin(2 * x))
    assert [c.label for c in r.checks] == ["expanded"]
    assert r.seconds >= 0


def test_a_proof_without_checks_is_not_proved():
    @theorem("demo.empty", "1 = 1")
    def empty(d):
        d.step("Nothing is checked")

    r = empty.run()
    assert r.status is Status.UNDECIDED
    assert "no exact check" in r.message


def test_exceptions_become_error_status():
    @theorem("demo.boom", "0 = 0")
    def boom(d):
        raise RuntimeError("kaboom")

    r = boom.run()
    assert r.status is Status.ERROR and "kaboom" in r.message


def test_one_failed_check_fails_the_theorem():
    @theorem("demo.mixed", "...")
    def mixed(d):
        d.equal(sp.cos(x) ** 2 + sp.sin(x) ** 2, 1, "true")
        d.equal(sp.cos(x), sp.sin(x), "false")

    assert mixed.run().status is Status.FAILED


def test_matrix_shape_mismatch_fails():
    @theorem("demo.shapes", "...")
    def shapes(d):
        d.equal(sp.eye(2), sp.eye(3), "different shapes")

    assert shapes.run().status is Status.FAILED


@pytest.mark.parametrize("bad", ["Rotation.x", "rotation", "rotation.", "1x.y"])
def test_ids_are_validated(bad):
    with pytest.raises(ValueError, match=r"family\.name"):
        theorem(bad, "s")


def _write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


GOOD = """
    import sympy as sp
    from orthornn.symbolic import theorem
    x = sp.Symbol("x", real=True)

    @theorem("fam.b", "b")
    def b(d):
        d.equal(sp.sin(x) ** 2, 1 - sp.cos(x) ** 2, "pythagoras")

    @theorem("fam.a", "a")
    def a(d):
        d.zero(sp.Integer(0), "zero")
"""


def test_discovery_keeps_definition_order_and_filters(tmp_path):
    _write(tmp_path, "fam.py", GOOD)
    _write(tmp_path, "_private.py", "raise SystemExit('must not be imported')")
    assert [t.id for t in discover([tmp_path])] == ["fam.b", "fam.a"]
    assert [t.id for t in discover([tmp_path], ".A")] == ["fam.a"]
    assert [t.id for t in discover([tmp_path], "fam.*")] == ["fam.b", "fam.a"]


def test_broken_file_is_reported_as_error(tmp_path):
    _write(tmp_path, "broken.py", "this is not python\n")
    (th,) = discover([tmp_path])
    assert th.id == "broken.load"
    assert th.run().status is Status.ERROR


def test_discovery_errors(tmp_path):
    with pytest.raises(DiscoveryError, match="no such file"):
        discover([tmp_path / "missing"])
    with pytest.raises(DiscoveryError, match="no theorem files"):
        discover([tmp_path])
    _write(tmp_path, "one.py", GOOD)
    _write(tmp_path, "two.py", GOOD)
    with pytest.raises(DiscoveryError, match="defined twice"):
        discover([tmp_path])


def test_reports(tmp_path):
    _write(tmp_path, "fam.py", GOOD)
    results = [t.run() for t in discover([tmp_path])]
    doc = to_json(results)
    assert doc["proved"] == 2 and doc["total"] == 2
    assert set(doc["theorems"][0]) == {"id", "family", "statement", "status", "seconds"}
    md = to_markdown(results)
    assert "### fam.a" in md and "2 of 2 theorems proved" in md and "pythagoras" in md


def test_a_proof_that_runs_out_of_time_is_undecided():
    import time

    @theorem("demo.slow", "...")
    def slow(d):
        d.equal(sp.Integer(1), 1, "trivially true")
        time.sleep(5)

    r = slow.run(timeout=0.2)
    assert r.status is Status.UNDECIDED
    assert "timed out" in r.message and r.seconds < 4
    assert slow.run.__defaults__ == (None,)  # no limit unless asked
