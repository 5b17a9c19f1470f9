"""The checkpoint probes of analysis/ (no training of their own): copy_memory.py evaluates a copy
run's checkpoint as its training did and edits the memory as it says; babi/record.py merges a
run of one task into a record of a set run configured alike and refuses one configured otherwise."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train(out: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "orthornn", "train", *args, "--quiet", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def copy_memory():
    return _module(ROOT / "analysis" / "copy_memory" / "copy_memory.py", "copy_memory")


@pytest.mark.parametrize("lam", ["1", "0.5"])
def test_copy_memory_evaluates_the_checkpoint_as_training_did(tmp_path, copy_memory, lam):
    run = tmp_path / "run"
    _train(run, "copy", "--model", "rum", "--lam", lam, "--T", "6", "--S", "3", "--K", "4", "--hidden", "8",
           "--steps", "3", "--batch", "16", "--optimizer", "adam", "--lr", "0.05", "--valid-size", "96",
           "--eval-every", "3", "--checkpoint-every", "3", "--dtype", "float64")  # fmt: skip
    evals = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in ln]
    recorded = next(e for e in evals if e["step"] == 3)
    trainer = sys.modules["recall_memory"].load_trainer(run, "copy")  # the probes' shared loader
    res = copy_memory.symbol_accuracy(trainer)
    assert res["sequences"] == 96
    assert res["trained"]["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-12)
    assert res["trained"]["success"] == pytest.approx(recorded["success"], abs=1e-12)
    assert res["blank_accuracy"] == pytest.approx(recorded["blank_accuracy"], abs=1e-12)
    assert {v for v, _ in copy_memory.VARIANTS} <= set(res)
    # the per-symbol accuracies average to the recalled-symbol accuracy
    for v, _ in copy_memory.VARIANTS:
        by = res[v]["by_symbol"]
        assert len(by) == 3 and sum(by) / 3 == pytest.approx(res[v]["accuracy"], abs=1e-12)
    # the edited state is the carried one with R (or h) replaced: setting R to the R it carries
    # would reproduce the trained scores, setting it to I does not
    b = trainer.stream.encode(trainer.stream.valid_set.inputs[:8], trainer.stream.valid_set.targets[:8])
    with torch.no_grad():
        full = trainer.model(b.x)[0]
        erased = copy_memory._variant_scores(trainer, b.x)["R_erased_before_delimiter"]
        cut = 3 + 6 - 1
        head, state = trainer.model(b.x[:, :cut])
        tail, _ = trainer.model(b.x[:, cut:], state)
    torch.testing.assert_close(torch.cat([head, tail], 1), full, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(erased[:, :cut], full[:, :cut], rtol=1e-10, atol=1e-10)
    assert not torch.allclose(erased[:, cut:], full[:, cut:])


def test_copy_memory_refuses_a_run_of_another_task(tmp_path, copy_memory):
    run = tmp_path / "run"
    _train(run, "recall", "--model", "rum", "--lam", "1", "--T", "6", "--hidden", "8", "--steps", "1",
           "--valid-size", "16", "--eval-every", "1", "--checkpoint-every", "1")  # fmt: skip
    with pytest.raises(SystemExit, match="need a copy run"):
        sys.modules["recall_memory"].load_trainer(run, "copy")


def _babi_fixture(root: Path) -> Path:
    """A two-task en-10k folder in the bAbI text format (tasks 1 and 2, tiny)."""
    from orthornn.datasets.babi import TASKS

    folder = root / "babi" / "en-10k"
    folder.mkdir(parents=True)
    story = "1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n"
    for n in range(1, 21):
        for split in ("train", "test"):
            (folder / f"qa{n}_{TASKS[n]}_{split}.txt").write_text(story * 12)
    return root


def test_babi_record_merges_a_task_run_into_a_set_record(tmp_path, monkeypatch):
    record = _module(ROOT / "analysis" / "babi" / "record.py", "babi_record")
    monkeypatch.setattr(record, "HERE", tmp_path / "records")
    data = _babi_fixture(tmp_path / "data")
    common = ["--data", str(data), "--babi-set", "en-10k", "--model", "lstm", "--steps", "2", "--batch", "4",
              "--eval-every", "2", "--checkpoint-every", "2"]  # fmt: skip
    _train(tmp_path / "one", "babi", "--babi-task", "1", "--hidden", "4", *common)
    _train(tmp_path / "two", "babi", "--babi-task", "2", "--hidden", "4", *common)
    first = record.record(tmp_path / "one", "lstm")
    assert [r["babi_task"] for r in first["tasks"]] == [1]
    merged = record.record(tmp_path / "two", "lstm")
    assert [r["babi_task"] for r in merged["tasks"]] == [1, 2] and merged["tasks_tested"] == 2
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert merged["tasks"][0]["test_accuracy"] == one["test"]["accuracy"]
    accs = [r["test_accuracy"] for r in merged["tasks"]]
    assert merged["mean_test_accuracy"] == pytest.approx(sum(accs) / 2)
    assert (tmp_path / "records" / "runs" / "lstm" / "qa2.evals.jsonl").read_text().strip()
    again = record.record(tmp_path / "two", "lstm")  # recorded again: its row replaced, not doubled
    assert [r["babi_task"] for r in again["tasks"]] == [1, 2]
    _train(tmp_path / "wide", "babi", "--babi-task", "3", "--hidden", "5", *common)
    with pytest.raises(record.RecordError, match="hidden differ"):
        record.record(tmp_path / "wide", "lstm")
    with pytest.raises(record.RecordError, match="no such file"):
        record.record(tmp_path / "missing", "lstm")
    # a record written before an option existed merges with a run that holds the option's default,
    # and not with one that sets it otherwise
    saved = tmp_path / "records" / "runs" / "lstm" / "config.json"
    old = json.loads(saved.read_text())
    assert old.pop("best_by") == "loss"
    saved.write_text(json.dumps(old))
    assert [r["babi_task"] for r in record.record(tmp_path / "one", "lstm")["tasks"]] == [1, 2]
    _train(tmp_path / "by-accuracy", "babi", "--babi-task", "3", "--hidden", "4", "--best-by", "accuracy", *common)
    with pytest.raises(record.RecordError, match="best_by differ"):
        record.record(tmp_path / "by-accuracy", "lstm")


@pytest.fixture(scope="module")
def recall_errors():
    return _module(ROOT / "analysis" / "recall_memory" / "errors.py", "recall_errors")


def test_recall_errors_lists_exactly_the_wrong_answers_of_both_sets(tmp_path, recall_errors):
    run = tmp_path / "run"
    _train(run, "recall", "--model", "rum", "--lam", "1", "--T", "8", "--hidden", "8", "--steps", "4",
           "--batch", "16", "--valid-size", "64", "--test-size", "48", "--eval-every", "4",
           "--checkpoint-every", "4", "--dtype", "float64")  # fmt: skip
    evals = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in ln]
    valid = next(e for e in evals if e["step"] == 4)
    test = json.loads((run / "summary.json").read_text())["test"]
    res = recall_errors.errors(run)
    assert res["sequences"] == 64 + 48
    by_split = {s: sum(r["split"] == s for r in res["errors"]) for s in ("valid", "test")}
    assert by_split["valid"] == round(64 * (1 - valid["accuracy"]))
    assert by_split["test"] == round(48 * (1 - test["accuracy"]))
    assert sum(res["per_key"]) == len(res["errors"]) > 0
    for r in res["errors"]:
        assert r["answered"] != r["right"] and r["p_answered"] > r["p_right"]
        assert r["answered_is_a_pair"] == (r["count_answered"] > 0)
        assert (r["similar_rank"] is None) == (not r["answered_is_a_pair"])


@pytest.mark.parametrize(("m", "c"), [(5, 1), (6, 2), (7, 3)])
def test_min_rank_p_is_the_chance_that_random_keys_rank_as_high(recall_errors, m, c):
    import itertools

    draws = list(itertools.combinations(range(1, m + 1), c))
    for rank in range(1, m - c + 2):
        share = sum(min(d) <= rank for d in draws) / len(draws)
        assert recall_errors._min_rank_p(rank, c, m) == pytest.approx(share, abs=1e-15)
