"""`orthornn prove`: discovery, table, exit codes, --json contract, --markdown report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orthornn.cli import main

GOOD = """
    import sympy as sp
    from orthornn.symbolic import theorem
    x = sp.Symbol("x", real=True)

    @theorem("demo.pythagoras", r"\\sin^2 x + \\cos^2 x = 1")
    def pythagoras(d):
        d.step("Use the Pythagorean identity", sp.sin(x) ** 2 + sp.cos(x) ** 2)
        d.equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, "identity")

    @theorem("demo.square", r"(x+1)^2 = x^2 + 2x + 1")
    def square(d):
        d.equal((x + 1) ** 2, x**2 + 2 * x + 1, "expansion")
"""

BAD = """
    import sympy as sp
    from orthornn.symbolic import theorem
    x = sp.Symbol("x", real=True)

    @theorem("wrong.claim", r"\\sin x = \\cos x")
    def claim(d):
        d.equal(sp.sin(x), sp.cos(x), "claim")
"""


@pytest.fixture
def proofs(tmp_path: Path) -> Path:
    d = tmp_path / "proofs"
    d.mkdir()
    (d / "demo.py").write_text(textwrap.dedent(GOOD))
    return d


def test_all_proved_exits_0_and_writes_the_json_contract(proofs, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["prove", str(proofs), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) == {"theorems", "proved", "total"}
    assert doc["proved"] == doc["total"] == 2
    first = doc["theorems"][0]
    assert set(first) == {"id", "family", "statement", "status", "seconds"}
    assert first["id"] == "demo.pythagoras" and first["family"] == "demo"
    assert first["status"] == "proved" and isinstance(first["seconds"], float)
    table = capsys.readouterr().out
    assert "demo.pythagoras" in table and "proved" in table and "2/2 proved" in table


def test_a_failed_theorem_exits_1(proofs, tmp_path):
    (proofs / "wrong.py").write_text(textwrap.dedent(BAD))
    out = tmp_path / "r.json"
    assert main(["prove", str(proofs), "--json", str(out)]) == 1
    statuses = {t["id"]: t["status"] for t in json.loads(out.read_text())["theorems"]}
    assert statuses == {"demo.pythagoras": "proved", "demo.square": "proved", "wrong.claim": "failed"}


def test_pattern_selects(proofs, tmp_path):
    out = tmp_path / "r.json"
    assert main(["prove", str(proofs), "-k", "square", "--json", str(out)]) == 0
    assert [t["id"] for t in json.loads(out.read_text())["theorems"]] == ["demo.square"]


def test_markdown_report(proofs, tmp_path):
    md = tmp_path / "r.md"
    assert main(["prove", str(proofs / "demo.py"), "--markdown", str(md)]) == 0
    text = md.read_text()
    assert "### demo.pythagoras" in text
    assert "Use the Pythagorean identity" in text and "$$" in text
    assert "| `demo.square`" in text or "[`demo.square`]" in text


def test_default_path_is_proofs_in_cwd(proofs, monkeypatch):
    monkeypatch.chdir(proofs.parent)
    assert main(["prove"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["prove", "/definitely/missing"], "no such file"),
        (["prove", "{proofs}", "-k", "nomatch"], "no theorem id matches"),
        (["prove", "{proofs}", "--json", "/definitely/missing/r.json"], "does not exist"),
        (["prove", "--bogus"], "unrecognized arguments"),
        (["nosuchcommand"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, message, proofs):
    argv = [a.format(proofs=proofs) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "orthornn", *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_timeout_flag(proofs, tmp_path):
    (proofs / "slow.py").write_text(
        textwrap.dedent(
            """
            import time
            import sympy as sp
            from orthornn.symbolic import theorem

            @theorem("slow.sleepy", "1 = 1")
            def sleepy(d):
                time.sleep(5)
                d.equal(sp.Integer(1), 1, "one")
            """
        )
    )
    out = tmp_path / "r.json"
    assert main(["prove", str(proofs), "--timeout", "0.3", "--json", str(out)]) == 1
    statuses = {t["id"]: t["status"] for t in json.loads(out.read_text())["theorems"]}
    assert statuses["slow.sleepy"] == "undecided" and statuses["demo.square"] == "proved"
    assert main(["prove", str(proofs / "demo.py"), "--timeout", "0"]) == 0  # 0: no limit
    proc = subprocess.run(
        [sys.executable, "-m", "orthornn", "prove", str(proofs), "--timeout", "-1"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "--timeout" in proc.stderr


def test_a_path_that_is_no_theorem_file_exits_2_naming_it_as_given(tmp_path, capsys, monkeypatch):
    """The argument as typed (``0/``, which :class:`~pathlib.Path` shortens to ``0``), in one line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    for arg, why in (("0/", "no such file or directory"), ("notes.txt", "not a .py file or a directory")):
        assert main(["prove", arg]) == 2
        err = capsys.readouterr().err
        assert err == f"orthornn prove: error: {arg}: {why}\n"
