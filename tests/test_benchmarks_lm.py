"""benchmarks/lm_throughput.py runs at tiny sizes and prints well-formed tables (no timing is checked)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "lm_throughput.py"

pytestmark = pytest.mark.slow


def _tables(text: str) -> list[list[list[str]]]:
    """The markdown tables of ``text``: each a list of rows, each row its cells."""
    tables: list[list[list[str]]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append([c.strip() for c in line.strip("|").split("|")])
        previous = line
    return tables


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


def _check(table: list[list[str]], models: set[str]) -> None:
    header, rule, *rows = table
    assert all(set(c) <= {"-"} and c for c in rule) and len(rule) == len(header)
    assert all(len(r) == len(header) for r in rows)
    assert {r[0] for r in rows} == models


def test_quick_run_prints_the_throughput_and_memory_tables(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    memory, ptb, babi = _tables(proc.stdout)
    lm = {"RUM λ=0", "RUM λ=1", "RUM λ=0 layer norm", "FS-RUM-2", "torch LSTM"}
    _check(ptb, lm)
    _check(babi, {"RUM λ=0", "RUM λ=1", "torch LSTM"})
    _check(memory, lm)
    for table in (ptb, babi):
        assert table[0][3].endswith("/s (median)") and table[0][4] == "ratio to torch LSTM"
        rows = {r[0]: r for r in table[2:]}
        assert rows["torch LSTM"][4] == "1.00"
        assert all(_number(r[2]) > 0 and _number(r[3]) > 0 and _number(r[4]) > 0 for r in rows.values())
        assert all(0 < _number(lo) <= _number(hi) for lo, hi in (r[5].split("–") for r in rows.values()))
    assert all(_number(r[2]) >= 0 and _number(r[3]) > 0 for r in memory[2:])
    assert "fast 8, slow 16" in {r[1] for r in ptb[2:]}


def test_fixtures_are_read_as_the_runs_read_data(tmp_path):
    spec = importlib.util.spec_from_file_location("lm_throughput", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from orthornn.datasets import load_babi, load_ptb

    corpus = load_ptb(bench.write_ptb_fixture(tmp_path / "p", 1000))
    assert corpus.vocab_size == 50
    task = load_babi(bench.write_babi_fixture(tmp_path / "b", 3, 40), 1, "en")
    assert set(task.train.lengths) == {6 * 3 + 4}


def test_the_memory_section_is_refused_off_the_cpu_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cuda"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].endswith("resident set; add --only ptb babi")


def test_a_device_orthornn_train_would_refuse_is_refused_with_its_message(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--only", "ptb", "--device", "gpu"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].endswith("--device: must be auto, cpu, cuda or cuda:N, got 'gpu'")
