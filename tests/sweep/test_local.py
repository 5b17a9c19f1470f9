"""The local launcher with two workers on the tiny grid: the uninterrupted sweep (the
``reference`` fixture), a re-run that skips it, a killed worker and a preempted one, a failing
run, and a whole sweep killed and started again — each compared with the reference."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from sweep.tiny_grid import KILL, PREEMPT, TINY, results, signal_worker_when, steps_done, tiny

from orthornn.sweep.launch import Launch, run_sweep
from orthornn.sweep.plan import expand, load_spec
from orthornn.sweep.state import read_json, run_status

pytestmark = pytest.mark.slow


def test_the_reference_sweep_writes_each_run_as_an_orthornn_train_folder(reference):
    out, runs, recs = reference
    assert len(runs) == 2 and recs[runs[0].name]["train_loss"] != recs[runs[1].name]["train_loss"]  # two seeds
    for run in runs:
        folder = out / "runs" / run.name
        assert {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"} <= {p.name for p in folder.iterdir()}
        assert read_json(folder / "summary.json")["steps"] == 300
        assert run_status(folder, run.config).kind == "finished"


def test_a_rerun_skips_the_finished_runs(reference, tmp_path):
    out, runs, recs = reference
    jobs = sorted((out / "jobs").iterdir())
    events = []
    result = run_sweep(runs, out, Launch(workers=2), on_event=events.append)
    assert result.ok and [e.kind for e in events] == ["skip"] * 2
    assert sorted((out / "jobs").iterdir()) == jobs  # nothing was submitted
    assert results(out, runs) == recs


def test_a_killed_worker_and_a_preempted_one_continue_from_their_checkpoints(reference, tmp_path):
    """SIGKILL one run's worker (the sweep submits it again), SIGUSR2 another's (Submitit's
    preemption signal: the job checkpoints and requeues itself); both end where the
    uninterrupted runs ended."""
    _, runs, recs = reference
    killed, preempted = runs
    threads = [
        signal_worker_when(tmp_path / "runs" / killed.name, KILL, after_step=60),
        signal_worker_when(tmp_path / "runs" / preempted.name, PREEMPT, after_step=60),
    ]
    events = []
    result = run_sweep(runs, tmp_path, Launch(workers=2), on_event=events.append)
    for t in threads:
        t.join(timeout=5)
    assert result.ok, result.unfinished()
    retries = [e for e in events if e.kind == "retry"]
    assert [e.run.name for e in retries] == [killed.name] and "without a result" in retries[0].message
    assert result.outcomes[killed.name].resumed_from >= 25
    assert result.outcomes[preempted.name].resumed_from >= 25  # the requeued job continued the run
    logs = "".join(p.read_text() for p in (tmp_path / "jobs").glob("*_log.*"))
    assert "this job is preempted" in logs and "Requeued job" in logs
    assert results(tmp_path, runs) == recs


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, capsys):
    """A bAbI run whose data folder does not exist raises in its job: recorded in failed.json
    with its message, the other run finishes, the exit status is 1; the next sweep tries it again."""
    from orthornn.cli import main

    copy = {"task": "copy", "model": "ltrnn", "T": 5, "S": 2, "K": 3, "eval_batches": 1}
    babi = {"task": "babi", "model": "lstm", "data": str(tmp_path / "none")}
    runs = [{"label": "orth", **copy}, {"label": "babi", **babi}]
    spec = tiny(base={"hidden": 8, "batch": 4, "steps": 20, "eval_every": 10}, panels=[{}], seeds=[0], runs=runs)
    config = tmp_path / "spec.json"
    config.write_text(__import__("json").dumps(spec))
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--workers", "2"]) == 1
    out, err = capsys.readouterr()
    failed = read_json(tmp_path / "out" / "runs" / "_babi_seed0" / "failed.json")
    assert "DataError" in failed["error"] and "Traceback" in failed["traceback"]
    assert "] fail " in out and "] end " in out and "1 finished, 1 failed" in out.splitlines()[-2]
    assert "babi seed 0: failed:" in err
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| orth | 1 |" in summary and "Not finished (1" in summary and "DataError" in summary
    assert (tmp_path / "out" / "figure.png").stat().st_size > 0
    runs = expand(load_spec(spec))
    assert run_status(tmp_path / "out" / "runs" / "_babi_seed0", runs[1].config).kind == "failed"
    assert main(["sweep", str(config), "--out", str(tmp_path / "out"), "--dry-run"]) == 0  # a new sweep tries it again
    assert "babi seed 0: try again (failed: DataError" in capsys.readouterr().out


def test_a_killed_sweep_started_again_resumes_and_ends_as_the_uninterrupted_one(reference, tmp_path, capsys):
    """Kill the whole sweep (driver and workers, one process group) mid-run, then run the same
    command again: the interrupted runs continue from their checkpoints."""
    from orthornn.cli import main

    _, runs, recs = reference
    runs = runs[:1]  # seed 0 (--seeds 1)
    config = tmp_path / "tiny.json"
    config.write_text(__import__("json").dumps(TINY))
    argv = ["sweep", str(config), "--out", str(tmp_path / "out"), "--seeds", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    first = subprocess.Popen(
        [sys.executable, "-m", "orthornn", *argv], env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    folders = [tmp_path / "out" / "runs" / r.name for r in runs]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(f.exists() and steps_done(f) > 60 for f in folders):
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    (status,) = [run_status(f, r.config) for f, r in zip(folders, runs, strict=True)]
    assert status.kind == "resumable" and status.step >= 25, status  # killed mid-run
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"resumed at step {status.step}" in out, out
    assert results(tmp_path / "out", runs) == {runs[0].name: recs[runs[0].name]}


def test_summary_only_tabulates_the_finished_runs_and_lists_the_others(reference, tmp_path, capsys):
    """--summary-only trains nothing: over a copy of the reference sweep with one run's summary
    removed (a run interrupted after its last checkpoint) it tables the finished seed and lists
    the other with its checkpoint's step; the exit status is 0, and nothing in runs/ changes."""
    import json
    import shutil

    from orthornn.cli import main

    out, runs, _ = reference
    part = tmp_path / "out"
    shutil.copytree(out / "runs", part / "runs")
    (part / "runs" / runs[1].name / "summary.json").unlink()
    before = {p: p.stat().st_mtime_ns for p in (part / "runs").rglob("*")}
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    assert main(["sweep", str(config), "--out", str(part), "--summary-only"]) == 0
    printed = capsys.readouterr().out
    assert "1/2 runs finished;" in printed and "in " not in printed.split("finished")[1].split(";")[0]
    summary = (part / "summary.md").read_text()
    assert "| orth | 1 |" in summary and "Not finished (1" in summary
    assert "tabulated by --summary-only" in summary and "Command:" not in summary and "worker" not in summary
    assert f"{runs[1].title}: checkpoint at step 300" in summary
    assert (part / "figure.png").stat().st_size > 0
    assert {p: p.stat().st_mtime_ns for p in (part / "runs").rglob("*")} == before
    assert main(["sweep", str(config), "--out", str(part), "--summary-only", "--dry-run"]) == 2
    assert "give one of them" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_sweep_alone_stops_its_workers_too(tmp_path, sig):
    """SIGTERM or SIGINT to the sweep's process only (not its group; SIGINT ignored as a
    background shell leaves it): it exits 130, its worker stops training, and the run is left
    resumable from its checkpoint — no orphaned worker trains on."""
    import json

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({**TINY, "base": {**TINY["base"], "steps": 100000}}))
    argv = ["sweep", str(config), "--out", str(tmp_path / "out"), "--seeds", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "orthornn", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    run = expand(load_spec(json.loads(config.read_text())), seeds=1)[0]
    folder = tmp_path / "out" / "runs" / run.name
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (folder.exists() and steps_done(folder) > 60):
            time.sleep(0.01)
        worker = read_json(folder / "worker.json")["pid"]
        sweep.send_signal(sig)
        assert sweep.wait(timeout=60) == 130
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(worker):
            time.sleep(0.05)
        assert not _alive(worker)
        # one line, no traceback (EOF: every process holding the pipe has closed it) ...
        printed = sweep.stderr.read().decode()
        out = tmp_path / "out"
        assert printed.splitlines() == [f"orthornn sweep: interrupted; the same command continues it from {out}"]
        # ... the job's controller, cancelled with SIGINT, printed its KeyboardInterrupt into
        # OUT/jobs/controllers.err (it may still be printing: wait for it)
        controllers = out / "jobs" / "controllers.err"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "KeyboardInterrupt" not in controllers.read_text():
            time.sleep(0.05)
        assert "KeyboardInterrupt" in controllers.read_text()
        assert run_status(folder, run.config).kind == "resumable"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
        sweep.stderr.close()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, reaped by nobody yet, has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
