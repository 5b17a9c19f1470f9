"""Data-parallel training (orthornn.train.distributed): two gloo ranks on the CPU train what one
process with the whole batch trains; the command line under torchrun writes from rank 0 only,
resumes, and refuses what it cannot run with one line (exit 2)."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from orthornn.cli import main
from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig, Trainer, loop
from orthornn.train.distributed import World, check_parallel, end_process, from_environment, joined

#: Two ranks against one process, parameters after the steps, float64 (issue 14: 1e-10).
DATA_PARALLEL_ATOL = 1e-10

#: The step whose training loss rank 1 alone sees as NaN in the last run of :func:`_rank`.
POISONED = 3

#: Tiny noise-free runs of the three models the issue names, 5 steps each, float64: RUM λ = 0 on
#: copy with clipping, RUM λ = 1 on recall from a fixed training set with Adam, the LT-RNN on adding
#: with l2 pooling and the orthogonality penalty.
CONFIGS = {
    "rum-lam0": TrainConfig(task="copy", model="rum", lam=0.0, T=4, S=2, K=3, hidden=6, batch=8, steps=5,
                            lr=1e-2, clip=1.0, eval_every=2, dtype="float64"),
    "rum-lam1": TrainConfig(task="recall", model="rum", lam=1.0, T=4, hidden=6, batch=8, steps=5, lr=1e-2,
                            optimizer="adam", train_size=12, valid_size=10, eval_every=5, dtype="float64"),
    "ltrnn": TrainConfig(task="adding", model="ltrnn", T=6, hidden=6, batch=8, steps=5, lr=1e-2, pool=2,
                         ortho_lr=1e-2, eval_every=5, dtype="float64"),
}  # fmt: skip
#: A character language model on a tiny corpus (:func:`_ptb`): four streams, about three
#: windows an epoch, so the 5 steps carry the state across windows and restart it once.
PTB = "ptb-lstm"


def _write_ptb(folder: Path) -> None:
    """The tiny corpus of :func:`_ptb`, written once before the ranks start (two ranks writing
    it at once race: one finds the other's folder, the other a file not yet there)."""
    (folder / "data" / "ptb").mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        (folder / "data" / "ptb" / f"ptb.{split}.txt").write_text(" the cat sat on the mat \n" * 2)


def _ptb(folder: Path) -> TrainConfig:
    data = folder / "data"
    return TrainConfig(task="ptb", model="lstm", data=str(data), hidden=5, embed=4, bptt=4, batch=4, steps=5,
                       lr=1e-2, eval_every=5, checkpoint_every=2, dtype="float64")  # fmt: skip


def _configs(folder: Path) -> dict[str, TrainConfig]:
    return {**CONFIGS, PTB: _ptb(folder)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rank(rank: int, port: int, folder: str) -> None:
    """One of two gloo ranks: trains every config of :data:`CONFIGS`, saves what it ends with;
    then trains the LT-RNN with a loss that is NaN at step 3 on rank 1 only (:data:`POISONED`)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    world = World(rank=rank, size=2, local_rank=rank)
    with joined(world, torch.device("cpu"), timeout=datetime.timedelta(seconds=300)):  # a hang fails
        for name, cfg in _configs(Path(folder)).items():
            trainer = Trainer(cfg, world=world)
            saved: dict[int, dict] = {}
            hist = trainer.run(on_checkpoint=lambda sd, saved=saved: saved.update({sd["step"]: sd}))  # every rank
            share = len(trainer.stream.batch(0).y)
            out = {"model": trainer.model.state_dict(), "train": hist.train, "evals": hist.evals, "share": share,
                   "checkpoints": saved}  # fmt: skip
            if name == PTB:  # resumed from its step-2 checkpoint (every stream's state) on both ranks
                resumed = Trainer(cfg, world=world)
                resumed.load_state_dict(saved[2])
                resumed.run(on_checkpoint=lambda sd: None)
                out["resumed"] = resumed.model.state_dict()
            torch.save(out, Path(folder) / f"{name}-rank{rank}.pt")
        trainer = Trainer(CONFIGS["ltrnn"], world=world)
        real = loop.task_loss

        def poisoned(*args, **kwargs):
            loss, metrics = real(*args, **kwargs)
            if rank == 1 and trainer.step + 1 == POISONED:
                metrics = {**metrics, "loss": float("nan")}
            return loss, metrics

        loop.task_loss = poisoned
        hist = trainer.run()
        out = {"model": trainer.model.state_dict(), "stopped": hist.stopped, "step": trainer.step}
        torch.save(out, Path(folder) / f"poisoned-rank{rank}.pt")
    end_process(0)  # DDP's gloo threads outlive the group: skip the teardown that can abort on them


def _spawn(folder: Path) -> None:
    """Two gloo ranks (:func:`_rank`) saving into ``folder``, one thread each."""
    _write_ptb(folder)
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        mp.spawn(_rank, args=(_free_port(), str(folder)), nprocs=2, join=True)
    finally:
        if old is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = old


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Path:
    """The folder where two spawned gloo ranks saved their runs of :func:`_configs`: made once
    per test session, also when several xdist workers run these tests (the first one makes it,
    under a lock, in the session's folder they share)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp("ddp")
        _spawn(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent  # this session's, shared by its workers
    folder = shared / "ddp-two-ranks"
    with (shared / "ddp-two-ranks.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            _spawn(folder)
            (folder / "done").touch()
    return folder


@pytest.mark.parametrize("name", [*CONFIGS, PTB])
def test_two_ranks_train_what_one_process_with_the_whole_batch_trains(name, two_ranks):
    cfg = _configs(two_ranks)[name]
    one = Trainer(cfg)
    hist = one.run()
    ranks = [torch.load(two_ranks / f"{name}-rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["share"] == ranks[1]["share"] == cfg.batch // 2  # each trains half
    initial = Trainer(cfg).model.state_dict()
    assert any(not torch.equal(ranks[0]["model"][k], v) for k, v in initial.items())  # it trained
    for key, expected in one.model.state_dict().items():
        assert torch.equal(ranks[0]["model"][key], ranks[1]["model"][key]), key  # the ranks agree bitwise
        got = ranks[0]["model"][key]
        assert torch.allclose(got, expected, rtol=0, atol=DATA_PARALLEL_ATOL), (key, (got - expected).abs().max())
    for mine, theirs in zip(hist.train, ranks[0]["train"], strict=True):  # the global batch's metrics
        assert mine.keys() == theirs.keys()
        for key in mine.keys() - {"seconds"}:
            assert theirs[key] == pytest.approx(mine[key], rel=1e-12, abs=1e-12), key
    assert [e["step"] for e in ranks[0]["evals"]] == [e["step"] for e in hist.evals]
    assert ranks[1]["evals"] == ranks[0]["evals"]  # rank 0's evaluation, received by rank 1
    for mine, theirs in zip(hist.evals, ranks[0]["evals"], strict=True):
        assert theirs["loss"] == pytest.approx(mine["loss"], rel=1e-10)


def test_a_ptb_checkpoint_holds_every_stream_and_resumes_with_any_number_of_ranks(two_ranks):
    cfg = _ptb(two_ranks)
    ranks = [torch.load(two_ranks / f"{PTB}-rank{r}.pt", weights_only=True) for r in (0, 1)]
    one = Trainer(cfg)
    saved = {}
    one.run(on_checkpoint=lambda sd: saved.update({sd["step"]: sd}))
    assert one.stream.windows_per_epoch < cfg.steps  # the carried state restarts within the run
    assert sorted(ranks[0]["checkpoints"]) == sorted(saved) == [2, 4, 5]
    for step, expected in saved.items():  # the global state, gathered from both ranks' streams
        carries = [_flat(r["checkpoints"][step]["carry"]) for r in ranks]
        assert [t.shape[0] for t in carries[0]] == [cfg.batch] * len(_flat(expected["carry"]))
        assert all(torch.equal(a, b) for a, b in zip(*carries, strict=True))
        for got, want in zip(carries[0], _flat(expected["carry"]), strict=True):
            assert torch.allclose(got, want, rtol=0, atol=DATA_PARALLEL_ATOL), step
    for key, value in ranks[0]["model"].items():  # two ranks resumed at step 2: the uninterrupted run
        assert torch.equal(ranks[0]["resumed"][key], value), key
    alone = Trainer(cfg)  # one process resumed from the two ranks' checkpoint
    alone.load_state_dict(ranks[0]["checkpoints"][2])
    alone.run()
    for key, value in one.model.state_dict().items():
        assert torch.allclose(alone.model.state_dict()[key], value, rtol=0, atol=DATA_PARALLEL_ATOL), key


def _flat(state) -> list[torch.Tensor]:
    if isinstance(state, list | tuple):
        return [t for v in state for t in _flat(v)]
    return [] if state is None else [state]


def test_a_non_finite_loss_on_one_rank_stops_every_rank_at_that_step(two_ranks):
    ranks = [torch.load(two_ranks / f"poisoned-rank{r}.pt", weights_only=True) for r in (0, 1)]
    message = f"non-finite loss at step {POISONED}; stopped, parameters are those after step {POISONED - 1}"
    assert [r["stopped"] for r in ranks] == [message, message]  # rank 0 saw a finite loss, and stopped too
    assert ranks[0]["step"] == ranks[1]["step"] == POISONED - 1
    assert all(torch.equal(v, ranks[1]["model"][k]) for k, v in ranks[0]["model"].items())
    one = Trainer(CONFIGS["ltrnn"].replace(steps=POISONED - 1))
    one.run()
    assert all(torch.allclose(ranks[0]["model"][k], v, rtol=0, atol=DATA_PARALLEL_ATOL) for k, v in
               one.model.state_dict().items())  # fmt: skip


def _leave(rank: int, port: int, folder: str, fail: bool) -> None:
    """One of two gloo ranks in :func:`joined`. ``fail``: rank 1 raises at once while rank 0
    waits in an all-reduce; else rank 0 works 1 s longer than rank 1 (as it does writing the
    run's files). Each writes what it saw to ``folder/rank<r>.json``; CLOCK_MONOTONIC is shared
    by the processes of one machine, so the times compare across ranks."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    world = World(rank=rank, size=2, local_rank=rank)
    seen: dict[str, object] = {}
    try:
        with joined(world, torch.device("cpu"), timeout=datetime.timedelta(seconds=300)):
            if fail and rank == 1:
                raise ValueError("rank 1 fails")
            if fail:
                torch.distributed.all_reduce(torch.ones(3))
            if rank == 0:
                time.sleep(1.0)
            seen["done"] = time.monotonic()
    except Exception as exc:
        seen["error"] = f"{type(exc).__name__}: {exc}"
    seen["left"] = time.monotonic()
    (Path(folder) / f"rank{rank}.json").write_text(json.dumps(seen))


def _two_leave(folder: Path, fail: bool) -> list[dict]:
    mp.spawn(_leave, args=(_free_port(), str(folder), fail), nprocs=2, join=True)
    return [json.loads((folder / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_every_rank_leaves_the_group_only_when_rank_0_is_done(tmp_path):
    rank0, rank1 = _two_leave(tmp_path, fail=False)
    assert "error" not in rank0 and "error" not in rank1
    assert rank1["left"] >= rank0["done"]  # without the final barrier rank 1 leaves a second early


def test_a_rank_that_fails_leaves_at_once_and_its_peer_errors_instead_of_waiting(tmp_path):
    rank0, rank1 = _two_leave(tmp_path, fail=True)
    assert rank1["error"] == "ValueError: rank 1 fails"
    assert re.search(r"Connection (closed|reset) by peer", rank0["error"])  # not the 300 s collective timeout


_END = """
import atexit, sys
from orthornn.train import distributed
atexit.register(lambda: print("teardown", flush=True))
distributed._joined = {joined}  # as joined() leaves it
print("written", end="")  # still in the buffer: stdout is a pipe
distributed.end_process(3)
"""


@pytest.mark.parametrize("joined", [False, True])
def test_a_process_that_joined_a_group_ends_flushed_and_without_the_teardown(joined):
    done = subprocess.run([sys.executable, "-c", _END.format(joined=joined)], capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout == ("written" if joined else "writtenteardown\n")


def test_a_share_is_an_equal_part_of_the_global_batch():
    parts = [World(rank=r, size=4).share(12) for r in range(4)]
    assert [list(range(12))[p] for p in parts] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    with pytest.raises(OrthornnError, match=r"^batch: the global batch 10 does not divide by the 4 ranks"):
        World(rank=0, size=4).share(10)
    with pytest.raises(OrthornnError, match=r"task: data-parallel training runs the tasks copy, .*, not 'babi'"):
        check_parallel(TrainConfig(task="babi", model="lstm"), World(rank=0, size=2))
    check_parallel(TrainConfig(task="babi", model="lstm"), World())  # one process trains every task
    check_parallel(TrainConfig(task="ptb", model="lstm", batch=4), World(rank=1, size=2))
    noise = {World(rank=r, size=3).noise_seed(77) for r in range(3)}
    assert len(noise) == 3 and World(rank=0, size=3).noise_seed(77) == 77


def test_the_environment_of_torchrun_is_required():
    env = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "x", "MASTER_PORT": "1"}
    assert from_environment(env) == World(rank=0, size=2, local_rank=0)
    with pytest.raises(OrthornnError, match="not started by torchrun: RANK, MASTER_PORT not set"):
        from_environment({k: v for k, v in env.items() if k not in ("RANK", "MASTER_PORT")})
    with pytest.raises(OrthornnError, match="WORLD_SIZE='two'"):
        from_environment({**env, "WORLD_SIZE": "two"})
    with pytest.raises(OrthornnError, match="not a rank of that world"):
        from_environment({**env, "RANK": "2"})


# -- the command line ---------------------------------------------------------------------------
_TINY = ["train", "copy", "--model", "rum", "--T", "3", "--S", "2", "--K", "3", "--hidden", "4", "--eval-every", "2",
         "--checkpoint-every", "2", "--dtype", "float64", "--lr", "1e-2", "--quiet"]  # fmt: skip
_TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_ddp_without_torchrun_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    for key in _TORCHRUN_ENV:
        monkeypatch.delenv(key, raising=False)
    assert main([*_TINY, "--steps", "4", "--batch", "4", "--ddp", "--out", str(tmp_path / "run")]) == 2
    assert _one_line(capsys).startswith("orthornn train: error: --ddp: not started by torchrun: RANK, WORLD_SIZE")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--batch", "5"], "--batch: the global batch 5 does not divide by the 2 ranks"),
        (["--batch", "4", "--device", "cuda:0"], "--device:"),  # no CUDA here; with CUDA: one device per rank
    ],
)
def test_what_two_ranks_cannot_train_is_refused_before_they_meet(extra, needle, tmp_path, capsys, monkeypatch):
    # rank 0 of two, but no rank 1 and nothing listening: the refusal comes before any rendezvous
    env = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "9"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main([*_TINY, "--steps", "4", *extra, "--ddp", "--out", str(tmp_path / "run")]) == 2
    assert needle in _one_line(capsys)
    assert not (tmp_path / "run").exists()


def _torchrun(args: list[str], cwd: Path, logs: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for key in _TORCHRUN_ENV:
        env.pop(key, None)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{_free_port()}"]  # fmt: skip
    if logs is not None:  # each rank's stdout and stderr in a file of its own
        launcher += ["--log_dir", str(logs), "--redirects", "3"]
    return subprocess.run(
        [*launcher, "-m", "orthornn", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _rank_logs(logs: Path, rank: int, stream: str) -> str:
    (path,) = logs.rglob(f"attempt_0/{rank}/{stream}.log")
    return path.read_text()


def _steps(path: Path) -> list[tuple[str, int]]:
    return [(r["kind"], r["step"]) for r in map(json.loads, path.read_text().splitlines())]


def _model(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / "checkpoint.pt", weights_only=True)["model"]


@pytest.mark.slow
def test_torchrun_writes_from_rank_0_only_and_resumes_to_the_uninterrupted_run(tmp_path):
    full, part, logs = tmp_path / "full", tmp_path / "part", tmp_path / "logs"
    done = _torchrun([*_TINY, "--steps", "4", "--batch", "4", "--ddp", "--out", str(full)], tmp_path, logs)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in full.iterdir()) == ["checkpoint.pt", "config.json", "metrics.jsonl", "summary.json"]
    each_once = [("train", 1), ("train", 2), ("eval", 2), ("train", 3), ("train", 4), ("eval", 4)]
    assert _steps(full / "metrics.jsonl") == each_once  # one rank writes
    summary = json.loads((full / "summary.json").read_text())
    assert summary["ranks"] == 2 and summary["steps"] == 4
    assert "4 steps" in _rank_logs(logs, 0, "stdout") and _rank_logs(logs, 1, "stdout") == ""
    assert json.loads((full / "config.json").read_text())["batch"] == 4  # the global batch, as one process's

    first = _torchrun([*_TINY, "--steps", "2", "--batch", "4", "--ddp", "--out", str(part)], tmp_path)
    assert first.returncode == 0, first.stderr
    alone = tmp_path / "alone"
    shutil.copytree(part, alone)
    again = _torchrun(["train", "--resume", str(part), "--steps", "4", "--quiet", "--ddp"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("4 steps") == 1  # rank 0 reports
    expected, got = _model(full), _model(part)
    assert all(torch.equal(got[k], v) for k, v in expected.items())  # the same two ranks: bitwise
    assert _steps(part / "metrics.jsonl") == _steps(full / "metrics.jsonl")

    # the same run in one process with the whole batch, and the DDP checkpoint resumed in one process
    one = tmp_path / "one"
    assert main([*_TINY, "--steps", "4", "--batch", "4", "--out", str(one)]) == 0
    assert main(["train", "--resume", str(alone), "--steps", "4", "--quiet"]) == 0
    for folder in (one, alone):
        got = _model(folder)
        assert all(torch.allclose(got[k], v, rtol=0, atol=DATA_PARALLEL_ATOL) for k, v in expected.items()), folder


#: Each model of :data:`CONFIGS` (and a fractional λ, the spectral node on CUDA) as the command line
#: trains it, for :func:`test_two_nccl_ranks_on_two_gpus_train_what_one_gpu_trains`.
_CUDA_RUNS = {
    "rum-lam0": [*_TINY, "--lam", "0", "--clip", "1"],
    "rum-lam1": [*_TINY, "--lam", "1", "--optimizer", "adam"],
    "rum-lam0.5": [*_TINY, "--lam", "0.5", "--learn-lam"],
    "ltrnn": ["train", "adding", "--model", "ltrnn", "--T", "6", "--hidden", "6", "--pool", "2", "--ortho-lr", "1e-2",
              "--eval-every", "2", "--checkpoint-every", "2", "--dtype", "float64", "--lr", "1e-2", "--quiet"],
}  # fmt: skip


@pytest.mark.gpu
@pytest.mark.parametrize("name", _CUDA_RUNS)
def test_two_nccl_ranks_on_two_gpus_train_what_one_gpu_trains(name, tmp_path):
    # issue 14's NCCL path: torchrun's two ranks on cuda:0 and cuda:1 (NCCL puts one rank on each
    # GPU) against one process on cuda:0 with the whole batch, float64, after 4 steps
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices: NCCL runs one rank per GPU")
    args = [*_CUDA_RUNS[name], "--steps", "4", "--batch", "8"]
    two, one = tmp_path / "two", tmp_path / "one"
    done = _torchrun([*args, "--device", "cuda", "--ddp", "--out", str(two)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((two / "summary.json").read_text())["ranks"] == 2
    assert main([*args, "--device", "cuda:0", "--out", str(one)]) == 0
    expected, got = _model(one), _model(two)
    initial = Trainer(TrainConfig.from_dict(json.loads((one / "config.json").read_text()))).model.state_dict()
    assert any(not torch.equal(expected[k].cpu(), v.cpu()) for k, v in initial.items())  # it trained
    for key, value in expected.items():
        assert torch.allclose(got[key], value, rtol=0, atol=DATA_PARALLEL_ATOL), (key, (got[key] - value).abs().max())
