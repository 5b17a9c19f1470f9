"""A learned λ is recorded after every step in the train records, at every evaluation, in the
run's record and in summary.md — by the Trainer, so a sweep job and ``orthornn train`` alike
(a RUM learning λ, trained by the job itself and by the CLI)."""

from __future__ import annotations

import json

import pytest

from orthornn.sweep.aggregate import collect, summary_markdown
from orthornn.sweep.job import RunJob
from orthornn.sweep.plan import expand, load_spec
from orthornn.sweep.state import read_record
from orthornn.train.checkpoint import load_checkpoint

SPEC = {
    "name": "lam",
    "paper": "A learned λ recorded.",
    "base": {
        "task": "copy",
        "model": "rum",
        "T": 4,
        "S": 2,
        "K": 3,
        "hidden": 6,
        "batch": 4,
        "steps": 6,
        "eval_every": 3,
        "eval_batches": 1,
        "optimizer": "adam",
        "lr": 0.05,
        "lam": 0.5,
    },
    "runs": [{"label": "learned", "learn_lam": True}, {"label": "fixed"}],
    "seeds": [0],
}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("lam")
    spec = load_spec(SPEC)
    runs = expand(spec)
    for run in runs:
        assert RunJob(run, out / "runs" / run.name)().status == "finished"
    return spec, runs, out


def _metrics(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_every_record_of_a_learned_lambda_run_carries_it_and_the_last_is_the_model_s(swept):
    _, runs, out = swept
    folder = out / "runs" / next(r for r in runs if r.label == "learned").name
    recs = _metrics(folder)
    train = [r for r in recs if r["kind"] == "train"]
    evals = [r for r in recs if r["kind"] == "eval"]
    assert [r["step"] for r in train] == list(range(1, 7)) and [r["step"] for r in evals] == [3, 6]
    lams = [r["learned_lam"] for r in train]
    assert all(isinstance(v, float) for v in lams) and lams[0] != 0.5  # Adam moved it in step 1
    assert [e["learned_lam"] for e in evals] == [lams[2], lams[5]]  # an evaluation follows its step
    state = load_checkpoint(folder / "checkpoint.pt")["model"]
    (key,) = [k for k in state if k.endswith("cell.lam")]
    assert float(state[key]) == pytest.approx(lams[-1], abs=1e-7)  # (the model's float32 λ)
    rec = read_record(folder)
    assert rec["learned_lam"] == [(3, lams[2]), (6, lams[5])]


def test_a_fixed_lambda_run_records_none_and_summary_md_lists_the_learned_one(swept):
    spec, runs, out = swept
    fixed = out / "runs" / next(r for r in runs if r.label == "fixed").name
    assert all("learned_lam" not in r for r in _metrics(fixed)) and "learned_lam" not in read_record(fixed)
    text = summary_markdown(spec, collect(runs, out), scale="a test")
    lines = text.splitlines()
    i = lines.index("Learned λ (at the evaluations):")
    learned = read_record(out / "runs" / next(r for r in runs if r.label == "learned").name)["learned_lam"]
    assert lines[i + 2] == f"* learned, seed 0: start 0.5, then {learned[0][1]:.3f}, {learned[1][1]:.3f}"
    assert len([ln for ln in lines if ln.startswith("* ")]) == 1


def test_orthornn_train_records_the_same_lambda_as_the_sweep_job(swept, tmp_path):
    """The records carry λ whatever launches the run (the Trainer writes it): ``orthornn train``
    of the same config writes the same λ after every step and at every evaluation."""
    from orthornn.cli import main

    _, runs, out = swept
    run = next(r for r in runs if r.label == "learned")
    argv = ["train", "copy", "--model", "rum", "--T", "4", "--S", "2", "--K", "3", "--hidden", "6", "--batch", "4",
            "--steps", "6", "--eval-every", "3", "--eval-batches", "1", "--optimizer", "adam", "--lr", "0.05",
            "--lam", "0.5", "--learn-lam", "--out", str(tmp_path / "cli"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    cli = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert cli == json.loads((out / "runs" / run.name / "config.json").read_text())  # the same run

    def lams(folder):
        return [(r["kind"], r["step"], r["learned_lam"]) for r in _metrics(folder)]

    assert lams(tmp_path / "cli") == lams(out / "runs" / run.name) and len(lams(tmp_path / "cli")) == 8
