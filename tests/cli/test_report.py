"""`orthornn report`: the tiny budget end to end, a screenshot-free check of the page, failures, usage errors."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from orthornn.cli import main
from orthornn.henaff import copy_solution
from orthornn.report import STAGES
from orthornn.report.run import spectral_statistics
from orthornn.spectra import eigenphases
from orthornn.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("proofs", "figure1", "trainings", "spectrum", "memory", "figures", "stages", "environment")


class _Page(HTMLParser):
    """Collects every <img src> and every table as rows of (tag, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[str] | None = None
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._tag = [], tag

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append((self._tag, "".join(self._cell).strip()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _exit_code(argv: list[str]) -> int:
    """``main``'s status; argparse's own errors exit through SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _report(out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(
        ["report", "--budget", "tiny", "--device", "cpu", "--out", str(out), "--proofs-root", str(ROOT), *extra]
    )
    o, e = capsys.readouterr()
    return code, o, e


def _check_page(out: Path) -> dict:
    """Every image exists as a non-empty PNG, every table is filled; returns report.json."""
    doc = json.loads((out / "report.json").read_text())
    page = _Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    for src in page.images:
        f = out / src
        assert f.is_file() and f.stat().st_size > 1000, src
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src
    ok_figures = [f["file"] for f in doc["figures"] if f["status"] == "ok"]
    assert sorted(page.images) == sorted(ok_figures)
    for name in ok_figures:
        assert (out / name).stat().st_size > 1000
    assert page.tables
    for table in page.tables:
        data_rows = [r for r in table if r and all(tag == "td" for tag, _ in r)]
        assert data_rows, table[:1]
        assert all(text for row in table for _, text in row), table
        assert len({len(r) for r in table}) == 1  # rectangular
    return doc


@pytest.mark.slow
def test_tiny_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "rep"
    code, stdout, err = _report(out, capsys)
    assert code == 0, err
    doc = _check_page(out)
    assert all(s in doc for s in SECTIONS)
    assert doc["ok"] and doc["budget"] == "tiny" and doc["device"] == "cpu"
    assert doc["notes"] == [
        "Budget tiny: FOR TESTS ONLY: seconds-scale runs that exercise every stage; the numbers mean nothing."
    ]
    assert [s["status"] for s in doc["stages"]] == ["ok"] * 8
    assert len(doc["figures"]) == 8 and all(f["status"] == "ok" for f in doc["figures"])
    # progress: one line per stage on stderr, the summary on stdout
    for i in range(1, 9):
        assert f"[{i}/8] " in err
    assert "all stages succeeded" in stdout
    # proofs: every selected theorem proved
    assert doc["proofs"]["total"] >= 1 and doc["proofs"]["proved"] == doc["proofs"]["total"]
    # trainings: the summary of each run; one run reproduced by the library gives the same numbers
    tr = doc["trainings"]
    assert set(tr) == {"ltornn_copy", "ltirnn_adding", "rum_recall", "rum_copy"}
    for rec in tr.values():
        assert rec["steps"] == rec["config"]["steps"] and rec["parameters"] > 0 and rec["wall_seconds"] > 0
        assert rec["loss_ratio_to_baseline"] == pytest.approx(rec["final_loss"] / rec["baseline"])
    again = Trainer(TrainConfig.from_dict(tr["ltirnn_adding"]["config"])).run().summary
    assert again["final"]["loss"] == tr["ltirnn_adding"]["final_loss"]
    # spectrum: the explicit clock's row is the library's clock, on the (T+S)-th roots
    sp = doc["spectrum"]
    cfg = tr["ltornn_copy"]["config"]
    assert sp["roots"] == cfg["T"] + cfg["S"] and sp["hidden"] == cfg["hidden"]
    clock = copy_solution(K=cfg["K"], S=cfg["S"], T=cfg["T"], d=sp["explicit_d"], rng=0).V
    expected = spectral_statistics(eigenphases(clock), sp["roots"])
    for k, v in expected.items():
        assert sp["statistics"]["explicit"][k] == pytest.approx(v, abs=1e-12)
    assert sp["statistics"]["explicit"]["near_root_fraction"] == 1.0
    scan = sp["root_scan"]
    assert scan["p"] == list(range(2, 3 * sp["roots"] + 1))
    at = scan["p"].index(sp["roots"])
    for name in ("trained", "initial"):
        assert scan[name][at] == pytest.approx(sp["statistics"][name]["root_distance_mean"], abs=1e-12)
    assert scan["haar_mean"][at] == pytest.approx(sp["statistics"]["haar"]["root_distance_mean"], abs=1e-12)
    w = sp["wasserstein"]
    assert all(0 <= v <= np.pi for v in w.values() if v is not None)
    # memory: one phase vector per step of a recall sequence (T + 3 steps), all on the circle
    mem = doc["memory"]
    assert mem["steps"] == tr["rum_recall"]["config"]["T"] + 3 and len(mem["final_phases"]) == mem["n"]
    # R_1 is one plane rotation and each step a rank-2 update: phase 0 loses at most 2 per step
    zeros = np.asarray(mem["phases_at_zero"])
    assert zeros[0] >= mem["n"] - 2 and np.all(np.diff(zeros) >= -2)


@pytest.mark.slow
def test_a_failed_stage_gives_exit_1_and_the_rest_of_the_report(tmp_path, capsys, monkeypatch):
    def boom(ctx):
        raise RuntimeError("the grid <exploded>")

    monkeypatch.setitem(STAGES, "figure1", boom)
    monkeypatch.setitem(STAGES, "training:ltornn_copy", boom)  # and the spectrum that needs it
    out = tmp_path / "rep"
    out.mkdir()
    (out / "figure1.png").write_bytes(b"stale figure of an earlier run")
    code, stdout, err = _report(out, capsys)
    assert code == 1
    doc = _check_page(out)
    status = {s["key"]: s["status"] for s in doc["stages"]}
    assert status.pop("figure1") == status.pop("training:ltornn_copy") == status.pop("spectrum") == "failed"
    assert set(status.values()) == {"ok"}
    assert doc["figure1"]["error"] == "RuntimeError: the grid <exploded>"
    assert "needs stage 'training:ltornn_copy', which failed" in doc["spectrum"]["error"]
    failed_figs = {f["file"] for f in doc["figures"] if f["status"] == "failed"}
    assert failed_figs == {"figure1.png", "spectrum_comparison.png", "spectrum_initial_vs_trained.png",
                           "trained_spectrum.png", "kernels.png", "root_scan.png"}  # fmt: skip
    assert not (out / "figure1.png").exists() and (out / "training_curves.png").is_file()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "RuntimeError: the grid &lt;exploded&gt;" in page and 'class="failed"' in page
    assert "FAILED" in err and "FAILED: figure1" in stdout
    assert not doc["ok"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--budget", "huge"], "argument --budget: invalid choice: 'huge'"),
        (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
        (["--out", "/no/such/folder/rep"], "--out /no/such/folder/rep: folder /no/such/folder does not exist"),
        (["--proofs-root", "/no/such/folder"], "--proofs-root /no/such/folder: not a folder"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = _exit_code(["report", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "report").exists()


def test_out_must_be_a_folder_and_cuda_must_exist(tmp_path, capsys, monkeypatch):
    import torch

    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["report", "--out", str(f)]) == 2
    assert capsys.readouterr().err.strip() == f"orthornn report: error: --out {f}: exists and is not a folder"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["report", "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip() == "orthornn report: error: --device cuda: CUDA is not available"
    assert not (tmp_path / "r").exists()


def test_proofs_are_found_from_another_folder(tmp_path, monkeypatch):
    from orthornn.cli.report import _proofs_root

    monkeypatch.chdir(tmp_path)
    assert _proofs_root(None) == ROOT  # the source checkout
    (tmp_path / "proofs").mkdir()
    assert _proofs_root(None) == tmp_path  # the working directory first
    assert _proofs_root(ROOT / "docs") == ROOT / "docs"  # as given


@pytest.mark.slow
def test_a_budget_without_a_memory_run_skips_its_figure(tmp_path, capsys, monkeypatch):
    import dataclasses

    from orthornn.report import BUDGETS, budget

    monkeypatch.setitem(BUDGETS, "tiny", dataclasses.replace(budget("tiny"), memory_run=None))

    def not_needed(ctx):
        raise RuntimeError("not needed here")

    for key in ("training:ltirnn_adding", "training:rum_recall", "training:rum_copy"):
        monkeypatch.setitem(STAGES, key, not_needed)
    out = tmp_path / "rep"
    code, _, _ = _report(out, capsys)
    doc = _check_page(out)
    assert "memory" not in doc and "memory_phases.png" not in {f["file"] for f in doc["figures"]}
    assert [s["key"] for s in doc["stages"]][-1] == "spectrum" and doc["spectrum"]["status"] == "ok"
    assert code == 1  # the three stubbed trainings failed
