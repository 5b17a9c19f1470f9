"""The slurm launcher: through Submitit's debug executor (everywhere), the sbatch script it
writes, and on a real one-node SLURM cluster started here (skipped where SLURM is not
installed, as on a clean CI machine): a sweep with one job preempted (SIGUSR2), which
checkpoints and requeues itself, and one killed, which the sweep submits again; both end
where the uninterrupted runs end."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time

import pytest
from sweep.slurm_cluster import Unavailable, cluster
from sweep.tiny_grid import KILL, PREEMPT, TINY, results, signal_worker_when

from orthornn.sweep.job import RunJob
from orthornn.sweep.launch import Launch, make_executor, run_sweep
from orthornn.sweep.plan import SweepError, expand, load_spec

pytestmark = pytest.mark.slow


# Submitit's DebugJob removes the log handlers it opens without closing them (submitit 1.5.4)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_slurm_launcher_through_submitits_debug_executor(reference, tmp_path):
    """The slurm code path (array submission, state polling, results) with jobs run in-process."""
    _, runs, recs = reference
    events = []
    launch = Launch(launcher="slurm", cluster="debug", workers=2, partition="gpu", gpus_per_run=1, time_min=30)
    result = run_sweep(runs, tmp_path, launch, on_event=events.append)
    assert result.ok and [e.kind for e in events] == ["start", "end"] * 2
    assert [e.counts.finished for e in events] == [0, 1, 1, 2]
    assert results(tmp_path, runs) == recs


def test_the_checkpoint_protocol_requeues_a_fresh_job_of_the_same_run(tmp_path):
    (run,) = expand(load_spec(TINY), seeds=1)
    job = RunJob(run, tmp_path / run.name, threads=1, checkpoint_seconds=7.0)
    delayed = job.checkpoint()
    fresh = delayed.function
    assert isinstance(fresh, RunJob) and fresh is not job and delayed.args == () and delayed.kwargs == {}
    assert (fresh.run, fresh.folder, fresh.threads, fresh.checkpoint_seconds) == (run, job.folder, 1, 7.0)


def test_the_sbatch_script_carries_the_options(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    launch = Launch(launcher="slurm", workers=3, partition="gpu", gpus_per_run=2, time_min=45)
    executor = make_executor(tmp_path, launch)
    script = executor._executor._make_submission_file_text("python -m x", "uid")
    for line in ("--partition=gpu", "--gpus-per-node=2", "--time=45", "--cpus-per-task=1", "--signal=USR2@90"):
        assert f"#SBATCH {line}\n" in script, line
    assert executor._executor.parameters["array_parallelism"] == 3


def test_without_sbatch_the_slurm_launcher_is_refused(tmp_path, monkeypatch, capsys):
    from orthornn.cli import main

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SweepError, match="no sbatch"):
        run_sweep(expand(load_spec(TINY)), tmp_path / "a", Launch(launcher="slurm"))
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    assert main(["sweep", str(config), "--out", str(tmp_path / "b"), "--launcher", "slurm"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node SLURM cluster on this machine (skips where it cannot run)."""
    try:
        with cluster(tmp_path_factory.mktemp("slurm")) as env:
            with pytest.MonkeyPatch.context() as mp:
                for k, v in env.items():
                    mp.setenv(k, v)
                yield env
    except Unavailable as exc:
        pytest.skip(f"no SLURM cluster here: {exc}")


def _hurry_requeued(folder, after: threading.Thread) -> threading.Thread:
    """Once ``after`` has preempted the run of ``folder``, make its requeued job eligible in
    3 s (SLURM holds a requeued job for about two minutes, "Reason=BeginTime"; one started in
    the second its last run was killed is refused, "Job credential revoked")."""

    def go() -> None:
        after.join(60)
        job = json.loads((folder / "worker.json").read_text())["job_id"]
        for _ in range(1200):
            out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True).stdout
            if out.strip() == "PENDING":
                subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now+3"], capture_output=True)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_a_sweep_on_a_real_slurm_cluster_with_a_preempted_job_and_a_killed_one(reference, slurm, tmp_path):
    """One job gets SIGUSR2 (checkpoints and requeues itself), the other's task SIGKILL (its job
    fails without a result; with no accounting here the sweep sees it leave the queue and
    submits the run again); both end where the uninterrupted runs end."""
    _, runs, recs = reference
    preempted, killed = (tmp_path / "runs" / r.name for r in runs)
    hurry = _hurry_requeued(preempted, signal_worker_when(preempted, PREEMPT, after_step=60))
    kill = signal_worker_when(killed, KILL, after_step=60)
    launch = Launch(launcher="slurm", workers=2, time_min=60, poll_seconds=0.5)  # > 10 min: a signal is a preemption
    events: list = []
    done: list = []  # a deadline: a sweep that waited forever would hang the suite
    sweep = threading.Thread(target=lambda: done.append(run_sweep(runs, tmp_path, launch, on_event=events.append)))
    sweep.daemon = True
    sweep.start()
    sweep.join(timeout=240)
    hurry.join(timeout=5)
    kill.join(timeout=5)
    assert done, f"the sweep did not end within 240 s: {[(e.kind, e.run.name) for e in events]}"
    (result,) = done
    assert result.ok, result.unfinished()
    assert [e.run.name for e in events if e.kind == "retry"] == [runs[1].name]
    assert result.outcomes[runs[0].name].resumed_from >= 25 and result.outcomes[runs[1].name].resumed_from >= 25
    logs = "".join(p.read_text() for p in (tmp_path / "jobs").glob("*_log.*"))
    assert "this job is preempted" in logs and "Requeued job" in logs
    assert results(tmp_path, runs) == recs
