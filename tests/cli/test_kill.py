"""``orthornn train`` killed with SIGKILL at any moment leaves a folder that ``--resume``
continues to the uninterrupted result, bit for bit.

One run folder is killed again and again, resumed after each kill, and finally resumed to the
end; its checkpoint (step, parameters, optimiser state, evaluations), ``metrics.jsonl`` (but
for each step's seconds) and ``summary.json`` (but for the wall time) must then equal those of
a run that was never interrupted, started as a real ``python -m orthornn train`` process.

The kills come two ways:

* **deterministic windows** — the process kills itself (``SIGKILL`` to its own pid) at the
  exact moment a window opens, through a patch installed in it before it runs: before its
  step-0 checkpoint is written (the folder holds only ``config.json``), halfway through the
  bytes of a checkpoint file, between a complete temporary checkpoint and its rename, halfway
  through a line of ``metrics.jsonl``, and halfway through the rewrite of ``metrics.jsonl``
  that a resumed run starts with;
* **random moments** — a resumed run is killed from outside after a delay drawn uniformly over
  the time the rest of the run takes (measured on an uninterrupted run), so kills land in
  steps, evaluations, checkpoint and metrics writes alike. The seed is random and printed on
  failure; ``ORTHORNN_KILL_SEED`` fixes it.

Interpreter start-up (about 3 s here, mostly ``import torch``) would dominate a dozen runs, so
the runs that are killed are forked from one server process that has imported ``torch`` and
``orthornn.cli`` once and runs nothing itself (each fork is a fresh process running
:func:`orthornn.cli.main`, killed with ``SIGKILL`` like any other); the uninterrupted reference
is a separate ``sys.executable -m orthornn train`` process, started at the same time.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli.records import timeless_records

import orthornn
from orthornn.train.checkpoint import CheckpointError, load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")

STEPS, EVERY = 120, 4
ARGV = ["train", "copy", "--model", "ltrnn", "--hidden", "16", "--T", "10", "--batch", "16",
        "--steps", str(STEPS), "--eval-every", "10", "--checkpoint-every", str(EVERY), "--quiet"]  # fmt: skip
RANDOM_KILLS = 5

#: The fork server: reads one JSON request per line, forks a child that runs main(argv) (with
#: a window patch if asked), answers {"pid"} at once and {"status"} when the child has ended.
SERVER = r"""
import io, json, os, signal, sys, traceback
import torch, tqdm.autonotebook
import orthornn.cli, orthornn.cli.train
from orthornn.cli import main
from orthornn.train import TrainConfig, Trainer

# the first step of a process pays for lazy imports and set-up (about 3 s): pay it here once,
# on one thread (no torch thread pool, no tqdm monitor), so that every fork is a clean copy
torch.manual_seed(0)
Trainer(TrainConfig(task="copy", model="ltrnn", hidden=4, T=2, S=1, batch=2, steps=1)).train_step()

def threads():
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def install(window, at):
    real_save, real_replace = torch.save, os.replace
    if window == "before-step-0-checkpoint":
        torch.save = lambda obj, f, *a, **k: die()
    elif window == "mid-checkpoint-write":
        def save(obj, f, *a, **k):
            if obj["step"] != at:
                return real_save(obj, f, *a, **k)
            buf = io.BytesIO()
            real_save(obj, buf)
            with open(f, "wb") as out:
                out.write(buf.getvalue()[: len(buf.getvalue()) // 2])
            die()
        torch.save = save
    elif window == "before-checkpoint-rename":
        armed = []
        def save(obj, f, *a, **k):
            real_save(obj, f, *a, **k)
            armed.append(obj["step"] == at)
        def replace(src, dst):
            if armed and armed[-1] and str(src).endswith("checkpoint.pt.tmp"):
                die()
            real_replace(src, dst)
        torch.save, os.replace = save, replace
    elif window == "mid-metrics-line":
        real_write = orthornn.cli.train._Metrics.write
        def write(self, rec):
            if rec.get("kind") != "train" or rec["step"] != at:
                return real_write(self, rec)
            line = json.dumps(rec) + "\n"
            self.file.write(line[: len(line) // 2])
            self.file.flush()
            die()
        orthornn.cli.train._Metrics.write = write
    elif window == "mid-metrics-rewrite":  # the rewrite of metrics.jsonl (or of its temporary file)
        from pathlib import Path
        real_bytes = Path.write_bytes
        def write_bytes(self, data):
            if not self.name.startswith("metrics.jsonl"):
                return real_bytes(self, data)
            real_bytes(self, data[: len(data) // 2])
            die()
        Path.write_bytes = write_bytes
        Path.write_text = lambda self, text, *a, **k: write_bytes(self, text.encode())
    elif window is not None:
        raise ValueError(window)

print("ready", flush=True)
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    assert threads() == 1, "forking a threaded process could deadlock the child"
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            install(req.get("window"), req.get("at"))
            code = main(req["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 3
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class Server:
    """The fork server above, driven from the test."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd
        )
        self.cwd = cwd
        assert self._read() == "ready"

    def _read(self) -> str:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line, "the fork server died"
        return line.strip()

    def run(self, argv: list[str], *, window: str | None = None, at: int | None = None,
            kill_after: float | None = None) -> tuple[int, str]:  # fmt: skip
        """Run ``main(argv)`` in a fork; SIGKILL it after ``kill_after`` seconds if still running.
        Returns its exit status (-9 when killed) and its output."""
        log = self.cwd / "child.log"
        request = {"argv": argv, "window": window, "at": at, "log": str(log)}
        self.proc.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        pid = json.loads(self._read())["pid"]
        if kill_after is not None:
            time.sleep(kill_after)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - ended and reaped already
                pass
        status = json.loads(self._read())["status"]
        return status, log.read_text(errors="replace")

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)
        self.proc.stdout.close()  # type: ignore[union-attr]


def _checkpoint(folder: Path) -> dict | None:
    path = folder / "checkpoint.pt"
    return torch.load(path, weights_only=True) if path.exists() else None


def _same(a, b) -> bool:
    """Equal nested checkpoint data; tensors bit for bit."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _metrics(folder: Path) -> list[dict]:
    return timeless_records(folder / "metrics.jsonl")


def _summary(folder: Path) -> dict:
    return {k: v for k, v in json.loads((folder / "summary.json").read_text()).items() if k != "wall_seconds"}


def assert_same_result(run: Path, ref: Path, why: str) -> None:
    a, b = _checkpoint(run), _checkpoint(ref)
    assert a is not None and b is not None, why
    assert a["step"] == b["step"] == STEPS, why
    for key in ("config", "model", "optimizer", "best", "evals"):
        assert _same(a[key], b[key]), f"{why}: checkpoint {key} differs"
    assert _metrics(run) == _metrics(ref), f"{why}: metrics.jsonl differs"
    assert _summary(run) == _summary(ref), f"{why}: summary.json differs"
    assert json.loads((run / "config.json").read_text()) == json.loads((ref / "config.json").read_text()), why
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in ref.iterdir()), why  # no .tmp left


def test_sigkill_at_any_moment_resumes_to_the_uninterrupted_result(tmp_path):
    seed = int(os.environ.get("ORTHORNN_KILL_SEED") or int.from_bytes(os.urandom(4), "little"))
    draw = random.Random(seed)
    root = str(Path(orthornn.__file__).resolve().parents[1])  # the orthornn under test, in every process
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": path}
    ref, probe, run = tmp_path / "ref", tmp_path / "probe", tmp_path / "run"
    server = Server(env, tmp_path)
    start = time.perf_counter()
    status, out = server.run([*ARGV, "--out", str(probe)])
    duration = time.perf_counter() - start  # a whole run, forked (before the reference competes for the CPU)
    assert status == 0, out
    reference = subprocess.Popen(  # the uninterrupted run, as a user starts it (runs meanwhile)
        [sys.executable, "-m", "orthornn", *ARGV, "--out", str(ref)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _chain(server, run, duration, draw, seed)
    finally:
        server.close()
        if reference.poll() is None and sys.exc_info()[0] is not None:
            reference.kill()
        ref_out, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, ref_out
    assert_same_result(probe, ref, "a forked run differs from a `python -m orthornn` one")
    assert_same_result(run, ref, f"seed {seed}; segments:\n" + "\n".join(_LOG))


_LOG: list[str] = []


def _chain(server: Server, run: Path, duration: float, draw: random.Random, seed: int) -> None:
    """The run folder killed in every window, then at random moments, then resumed to the end."""
    _LOG.clear()
    log = _LOG
    resume = ["train", "--resume", str(run), "--quiet"]

    def segment(argv, **kw):
        status, out = server.run(argv, **kw)
        try:
            state = load_checkpoint(run / "checkpoint.pt") if (run / "checkpoint.pt").exists() else None
        except CheckpointError as exc:
            pytest.fail(f"seed {seed}: after {kw}, status {status}: the folder's checkpoint is unreadable: {exc}")
        step = None if state is None else state["step"]
        leftovers = sorted(p.name for p in run.iterdir() if p.suffix == ".tmp")
        log.append(f"{kw or 'to the end'}: status {status}, checkpoint at {step}, left {leftovers}")
        assert status in (0, -signal.SIGKILL), f"seed {seed}: {log[-1]}\n{out}"
        return status, step, leftovers

    # deterministic windows, each hit exactly (the process kills itself there)
    status, step, _ = segment([*ARGV, "--out", str(run)], window="before-step-0-checkpoint")
    assert status == -signal.SIGKILL and step is None and (run / "config.json").is_file()
    status, step, left = segment(resume, window="mid-checkpoint-write", at=2 * EVERY)
    assert status == -signal.SIGKILL and step == EVERY and left == ["checkpoint.pt.tmp"]
    with pytest.raises(CheckpointError):  # the torn file is what a kill mid-write leaves…
        load_checkpoint(run / "checkpoint.pt.tmp")
    load_checkpoint(run / "checkpoint.pt")  # …beside the last whole checkpoint
    status, step, left = segment(resume, window="before-checkpoint-rename", at=4 * EVERY)
    assert status == -signal.SIGKILL and step == 3 * EVERY and left == ["checkpoint.pt.tmp"]
    assert load_checkpoint(run / "checkpoint.pt.tmp")["step"] == 4 * EVERY  # complete, not yet renamed
    status, step, _ = segment(resume, window="mid-metrics-line", at=5 * EVERY + 2)
    assert status == -signal.SIGKILL and step == 5 * EVERY
    assert not (run / "metrics.jsonl").read_text().endswith("\n")  # a torn last line
    status, step, _ = segment(resume, window="mid-metrics-rewrite")
    assert status == -signal.SIGKILL and step == 5 * EVERY

    # random moments over what is left of the run (a run that ends first is not killed). The
    # probe's duration only estimates a resumed run's: should the first random segment run to
    # the end unkilled, the folder goes back to where it was and the draws aim earlier
    kills, bound, snapshot = 0, 1.0, run.with_name("before-random-kills")
    shutil.copytree(run, snapshot)  # until a kill lands, every segment starts from this state
    while kills < RANDOM_KILLS and _checkpoint(run)["step"] < STEPS:
        remaining = (STEPS - _checkpoint(run)["step"]) / STEPS
        status, _, _ = segment(resume, kill_after=draw.uniform(0, bound * duration * remaining))
        if status == 0 and kills == 0 and bound > 1 / 64:
            shutil.rmtree(run)
            shutil.copytree(snapshot, run)
            bound /= 2
            log.append(f"the run ended before any random kill: folder restored, kill times bounded by {bound} of the estimate")
            continue
        kills += status == -signal.SIGKILL
    assert kills >= 1, f"seed {seed}: no random kill landed before the run ended\n" + "\n".join(log)
    segment(resume)  # to the end
