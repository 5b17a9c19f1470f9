"""``orthornn henaff {copy,figure1,crosstalk,adding}``: smoke runs, outputs, usage errors."""

from __future__ import annotations

import json

import pytest

from orthornn.cli import main


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors exit directly
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_copy_small(tmp_path, capsys):
    path = tmp_path / "copy.json"
    argv = ["henaff", "copy", "--K", "4", "--S", "3", "--T", "20", "--d", "64", "--trials", "6", "--json", str(path)]
    code, out, _ = _run(argv, capsys)
    assert code == 0 and "success" in out and "blank accuracy before the delimiter" in out
    record = json.loads(path.read_text())
    assert record["success"] == record["closed_form_success"] == 1.0
    assert record["blank_accuracy_before_delimiter"] == 1.0 and record["blank_at_delimiter"] == 0.0


def test_figure1_writes_csv_and_png(tmp_path, capsys):
    out_dir = tmp_path / "fig"
    argv = ["henaff", "figure1", "--out", str(out_dir), "--trials", "20", "--T", "30", "--d", "16"]
    code, out, _ = _run([*argv, "--K", "2", "8", "--S", "2", "12"], capsys)
    assert code == 0 and "grid computed in" in out
    rows = (out_dir / "figure1.csv").read_text().splitlines()
    assert rows[0] == "K,S,success,recall_accuracy,trials,T,d" and len(rows) == 5
    assert rows[1].startswith("2,2,1.000000,1.000000,20,30,16")
    assert (out_dir / "figure1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_crosstalk_and_adding(tmp_path, capsys):
    path = tmp_path / "x.json"
    code, out, _ = _run(
        ["henaff", "crosstalk", "--S", "2", "3", "--trials", "50", "--d", "8", "--json", str(path)], capsys
    )
    assert code == 0 and len(json.loads(path.read_text())["results"]) == 2 and "(S-1)/d" in out
    path = tmp_path / "a.json"
    code, _out, _ = _run(["henaff", "adding", "--T", "30", "--trials", "40", "--json", str(path)], capsys)
    record = json.loads(path.read_text())
    assert code == 0 and record["max_abs_error"] <= 1e-12
    assert record["lstm_max_abs_error"]["gated"] <= 1e-12 and record["lstm_max_abs_error"]["printed"] > 0.1


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["henaff", "copy", "--K", "1"], "--K"),
        (["henaff", "copy", "--d", "0"], "--d"),
        (["henaff", "copy", "--trials", "0"], "--trials"),
        (["henaff", "copy", "--T", "abc"], "--T"),
        (["henaff", "copy", "--S", "0"], "--S"),
        (["henaff", "copy", "--json", "/no/such/folder/x.json"], "--json"),
        (["henaff", "figure1", "--trials", "5"], "--out"),
        (["henaff", "figure1", "--out", "/no/such/folder/fig"], "--out"),
        (["henaff", "adding", "--T", "1"], "--T"),
        (["henaff", "crosstalk", "--S", "40", "--T", "10", "--trials", "5"], "--S"),
        (["henaff"], "TASK"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, needle, capsys):
    code, _out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
