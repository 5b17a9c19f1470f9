"""Checkpoints: plain data only (read with weights_only=True), crafted pickles refused, bad
files and bad contents named in one line."""

from __future__ import annotations

import pickle

import pytest
import torch

from orthornn.train import TrainConfig, Trainer
from orthornn.train.checkpoint import CheckpointError, check_checkpoint, load_checkpoint
from orthornn.train.config import MODEL_NAMES, OPTIMIZERS

PLAIN = (int, float, bool, str, type(None))


def _plain(obj, where="state"):
    """Every leaf is a tensor or a JSON-like scalar; every node a dict, list or tuple."""
    if isinstance(obj, torch.Tensor) or isinstance(obj, PLAIN):
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, PLAIN), f"{where}: key {k!r}"
            _plain(v, f"{where}[{k!r}]")
        return
    assert isinstance(obj, list | tuple), f"{where}: {type(obj).__name__}"
    for i, v in enumerate(obj):
        _plain(v, f"{where}[{i}]")


def _tiny(model: str, optimizer: str, **kw) -> TrainConfig:
    return TrainConfig(task="copy", model=model, T=3, S=2, K=3, hidden=4, batch=2, steps=4, eval_every=2,
                       checkpoint_every=2, optimizer=optimizer, clip=1.0, **kw)  # fmt: skip


class _Plant:
    """Unpickling this runs ``open(path, "w")``: it creates the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_checkpoint_is_plain_data_and_resumes_through_weights_only(model, optimizer, tmp_path):
    cfg = _tiny(model, optimizer)
    saved = {}
    full = Trainer(cfg)
    full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    _plain(saved[2])
    torch.save(saved[2], tmp_path / "c.pt")
    state = load_checkpoint(tmp_path / "c.pt")  # weights_only=True
    resumed = Trainer(cfg)
    resumed.load_state_dict(state)
    resumed.run()
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_one_in_memory_checkpoint_resumes_twice_to_the_same_end_and_is_left_as_it_was(optimizer):
    # torch's Optimizer.load_state_dict keeps the given CPU tensors as its state and steps them in
    # place: without the copy, the first resumed run would move the checkpoint the second starts from
    cfg = _tiny("rum", optimizer)
    saved = {}
    full = Trainer(cfg)
    full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    state = saved[2]
    before = [t.clone() for t in _tensors(state["optimizer"])]
    ends = []
    for _ in range(2):
        resumed = Trainer(cfg)
        resumed.load_state_dict(state)
        resumed.run()
        ends.append(resumed.model.state_dict())
    assert before and all(torch.equal(a, b) for a, b in zip(before, _tensors(state["optimizer"]), strict=True))
    a, b, c = full.model.state_dict(), ends[0], ends[1]
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)


def _tensors(obj):
    """The tensors of a nested dict/list, in a fixed order."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for k in sorted(obj, key=str) for t in _tensors(obj[k])]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in _tensors(v)]
    return []


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "planted"
    state = Trainer(_tiny("ltrnn", "adam")).state_dict()
    torch.save({**state, "evals": [{"loss": 1.0, "note": _Plant(marker)}]}, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match=r"c\.pt: refused: .*could run code \(Unsupported global: GLOBAL .*open"):
        load_checkpoint(tmp_path / "c.pt")
    assert not marker.exists()
    # the payload is live: the unsafe loader this replaced does run it
    unsafe = torch.load(tmp_path / "c.pt", weights_only=False)
    unsafe["evals"][0]["note"].close()  # the file object its unpickling opened
    assert marker.exists()


def test_a_raw_pickle_of_another_protocol_is_refused_too(tmp_path):
    marker = tmp_path / "planted"
    with open(tmp_path / "c.pt", "wb") as f:
        pickle.dump({"format": 1, "x": _Plant(marker)}, f, protocol=4)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "c.pt")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "cannot read it as a checkpoint (EOFError"),
        (b"not a pickle at all", "refused by the safe loader (tensors and plain containers only): Unsupported operand"),
        (None, "cannot read it as a checkpoint (RuntimeError: PytorchStreamReader"),  # truncated zip
    ],
)
def test_unreadable_files_are_named(content, needle, tmp_path):
    path = tmp_path / "c.pt"
    if content is None:
        torch.save(Trainer(_tiny("gru", "rmsprop")).state_dict(), path)
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and needle in msg and "\n" not in msg


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothing\.pt: cannot read it \(No such file or directory\)"):
        load_checkpoint(tmp_path / "nothing.pt")


def _good():
    return Trainer(_tiny("lstm", "rmsprop")).state_dict()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda s: [1, 2], "not an orthornn checkpoint of format 1"),
        (lambda s: {**s, "format": 2}, "not an orthornn checkpoint of format 1"),
        (lambda s: {**s, "config": [1]}, "its config: config: expected a mapping"),
        (lambda s: {**s, "config": {**s["config"], "lr": "fast"}}, "its config: lr: must be a positive number"),
        (lambda s: {**s, "config": {**s["config"], "init": "identity"}}, "its config: init: applies to model ltrnn"),
        (lambda s: {**s, "step": -1}, "its step must be a non-negative integer"),
        (lambda s: {**s, "step": True}, "its step must be a non-negative integer"),
        (lambda s: {**s, "model": {"w": 1.0}}, "its model state must map parameter names to tensors"),
        (lambda s: {**s, "optimizer": {"state": {}}}, "its optimizer state must hold"),
        (lambda s: {**s, "best": {"loss": float("nan")}}, "its best evaluation"),
        (lambda s: {**s, "evals": [{"step": 1}]}, "its evaluations"),
        (lambda s: {**s, "elapsed": -1.0}, "its elapsed time"),
    ],
)
def test_bad_contents_are_named(change, needle):
    with pytest.raises(CheckpointError, match="^" + needle.replace("(", r"\(")):
        check_checkpoint(change(_good()))


def test_a_model_state_that_does_not_fit_is_refused_and_changes_nothing():
    tr = Trainer(_tiny("lstm", "rmsprop"))
    before = {k: v.clone() for k, v in tr.model.state_dict().items()}
    state = _good()
    key = next(iter(state["model"]))
    state["model"][key] = torch.zeros(7, 7)
    with pytest.raises(CheckpointError, match="does not fit a lstm of this config"):
        tr.load_state_dict(state)
    assert tr.step == 0 and all(torch.equal(v, tr.model.state_dict()[k]) for k, v in before.items())
