"""The grid and the run folders without launching anything: configs read and refused, the
expansion, what a folder says of its run, the aggregate table, and the command line's
refusals (exit 2, one line) and --dry-run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sweep.tiny_grid import TINY, tiny

from orthornn.cli import main
from orthornn.sweep.aggregate import spread, summary_markdown
from orthornn.sweep.job import RunJob
from orthornn.sweep.plan import SweepError, expand, load_spec
from orthornn.sweep.state import run_status

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "analysis" / "configs").glob("*.json"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_analysis_config_expands(path):
    spec = load_spec(path)
    runs = expand(spec)
    assert len(runs) == len(spec.panels) * len(spec.runs) * len(spec.seeds)
    assert len({r.name for r in runs}) == len(runs)


def test_the_run_names_are_those_run_experiment_gave_its_records():
    spec = load_spec(CONFIGS[[p.stem for p in CONFIGS].index("henaff_fig2_copy")])
    names = [r.name for r in expand(spec, seeds=1)]
    assert names[:3] == ["T_100_LT-ORNN_seed0", "T_100_LT-IRNN_seed0", "T_100_LSTM_seed0"]
    lstm = expand(spec, only=["LSTM"], seeds=1)[0].config
    assert lstm.act_clip is None and lstm.lr == 1e-3 and lstm.T == 100  # the run's overrides win


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"runs": []}, "runs: must be a non-empty list"),
        ({"runs": [{"model": "rum"}]}, "runs[0]: label: must be a non-empty string"),
        ({"seeds": [0, 0]}, "lists a seed twice"),
        ({"seeds": [1.5]}, "seeds: must be non-negative integers"),
        ({"extra": 1}, "unknown keys 'extra'"),
        ({"panels": [{"seed": 3}]}, "panels[0]: seed: the seeds come from 'seeds'"),
        ({"base": {**TINY["base"], "hidden": 0}}, "panel {\"T\": 5}, run 'orth': hidden: must be a positive integer"),
        ({"base": {**TINY["base"], "colour": 1}}, "unknown config fields: colour"),
    ],
)
def test_a_bad_config_is_refused_naming_the_entry(change, message):
    with pytest.raises(SweepError) as err:
        expand(load_spec(tiny(**change)))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_selections_are_checked():
    spec = load_spec(TINY)
    with pytest.raises(SweepError, match="--only 'x': no run has that label; the labels are 'orth'"):
        expand(spec, only=["x"])
    with pytest.raises(SweepError, match="--seeds 3: must be from 1 to 2"):
        expand(spec, seeds=3)
    with pytest.raises(SweepError, match="--panels 1: the config has panels 0 to 0"):
        expand(spec, panels=[1])
    assert [r.config.steps for r in expand(spec, overrides={"steps": 7})] == [7, 7]


def test_what_a_folder_says_of_its_run(tmp_path):
    spec = load_spec(tiny(base={**TINY["base"], "steps": 4, "eval_every": 2, "checkpoint_every": 2}))
    run = expand(spec, seeds=1)[0]
    folder = tmp_path / "runs" / run.name
    assert run_status(folder, run.config).kind == "new"
    legacy = {"config": run.config.to_dict(), "train_loss": [1.0], "evals": [], "summary": {"final": None}}
    folder.parent.mkdir()
    folder.with_name(folder.name + ".json").write_text(json.dumps(legacy))
    assert run_status(folder, run.config).kind == "legacy"  # run_experiment.py's record of the same config
    assert RunJob(run, folder)().status == "skipped" and not folder.exists()
    folder.with_name(folder.name + ".json").unlink()
    assert RunJob(run, folder)().status == "finished"
    assert run_status(folder, run.config).kind == "finished"
    more = run.config.replace(steps=6)
    assert run_status(folder, more).kind == "resumable" and run_status(folder, more).step == 4
    other = run.config.replace(lr=0.5)
    st = run_status(folder, other)
    assert st.kind == "stale" and "lr" in st.message


def test_the_aggregate_table_over_seeds():
    spec = load_spec(TINY)
    recs = {
        (0, "orth"): [
            {"summary": {"final": {"loss": 0.1, "accuracy": 0.5, "beats_baseline": True}, "baseline": 0.2,
                         "wall_seconds": 3.0}},
            {"summary": {"final": {"loss": 0.3, "accuracy": 0.7, "beats_baseline": False}, "baseline": 0.2,
                         "wall_seconds": 5.0, "stopped": "non-finite loss"}},
        ]
    }  # fmt: skip
    text = summary_markdown(spec, recs, scale="tiny", command="orthornn sweep x --out y")
    assert '| {"T": 5} | orth | 2 (1 stopped early) | 0.2000 ± 0.1414 [0.1000, 0.3000] |' in text
    assert "| 0.6000 ± 0.1414 [0.5000, 0.7000] | 0.2000 | 1/2 | 4 |" in text
    assert spread([]) == "—"


def _error(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, (code, err)
    return err.strip()


def test_bad_usage_exits_2_with_one_line(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = ["--out", str(tmp_path / "out")]
    assert _error(capsys, ["sweep", str(tmp_path / "none.json"), *out]).endswith("none.json: no such file")
    for device in ("/dev/zero", "/dev/full"):  # read to the end, either would take all memory
        err = _error(capsys, ["sweep", device, *out])
        assert err.endswith(f"{device}: not a regular file (a device, pipe or socket), not a sweep config")
    os.mkfifo(tmp_path / "fifo.json")  # opened for reading, it would block until a writer came
    assert "fifo.json: not a regular file" in _error(capsys, ["sweep", str(tmp_path / "fifo.json"), *out])
    (tmp_path / "bad.json").write_text("{")
    assert "bad.json: not JSON" in _error(capsys, ["sweep", str(tmp_path / "bad.json"), *out])
    assert "--only 'zz': no run has that label" in _error(capsys, ["sweep", str(config), *out, "--only", "zz"])
    assert "--workers: must be an integer >= 1, got 0" in _error(capsys, ["sweep", str(config), *out, "--workers", "0"])
    for flag, value in (("--slurm-partition", "gpu"), ("--slurm-gpus-per-run", "1"), ("--slurm-time", "5")):
        err = _error(capsys, ["sweep", str(config), *out, flag, value])
        assert err.endswith(f"{flag}: applies with --launcher slurm only")
    assert "--seeds 3: must be from 1 to 2" in _error(capsys, ["sweep", str(config), *out, "--seeds", "3"])
    assert "--out" in _error(capsys, ["sweep", str(config)])
    assert "--out" in _error(capsys, ["sweep", str(config), "--out", str(config)])  # a file, not a folder
    assert not (tmp_path / "out").exists()


def test_dry_run_says_what_each_run_would_do_and_writes_nothing(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "T=5 orth seed 0: train" in out and "T=5 orth seed 1: train" in out and "2 runs; nothing was written" in out
    assert not (tmp_path / "out").exists()


def test_a_run_that_another_job_is_training_is_not_touched(tmp_path):
    import fcntl

    run = expand(load_spec(TINY), seeds=1)[0]
    folder = tmp_path / run.name
    folder.mkdir()
    with (folder / ".lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        outcome = RunJob(run, folder)()
    assert outcome.status == "failed" and "another job is training this run" in outcome.message
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]
