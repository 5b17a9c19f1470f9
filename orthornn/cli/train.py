"""``orthornn train TASK --model MODEL [options] [--out DIR] [--resume DIR]``.

Writes into DIR: ``config.json`` (the :class:`~orthornn.train.TrainConfig` fields that act on
the model and task), ``metrics.jsonl`` (one JSON object per training step, ``"kind":
"train"``, and per evaluation, ``"kind": "eval"``), ``checkpoint.pt`` (at step 0, every
``--checkpoint-every`` steps and at the end, replaced atomically) and ``summary.json`` at the
end. ``--resume DIR`` continues that run to the result an uninterrupted run reaches;
``--steps`` may be raised to train further. An option that does not act on the chosen model
or task is refused (exit 2), as is an unreadable or unsafe run folder.

``orthornn train babi --data DIR --babi-task N`` trains on bAbI task N read from DIR (or the
folder ``ORTHORNN_DATA`` names; docs/babi.md); ``--babi-task all`` makes the 20 runs, one per
task, in ``DIR/qa1 … DIR/qa20`` of ``--out`` and writes the per-task test accuracies (each
with its best-validation parameters) and their mean to ``summary.json`` there; ``--resume``
of that folder continues every run. A missing or malformed data file is refused (exit 2, one
line naming it and the expected layout).

``orthornn train ptb --data DIR --model rum|fsrum|lstm|gru`` trains a character language model
on the Penn Treebank files read from DIR (``DIR/ptb/ptb.{train,valid,test}.txt[.gz]``;
docs/ptb.md): truncated BPTT over ``--batch`` contiguous streams in windows of ``--bptt``
characters, the state carried between windows; evaluations report bits per character, and
``summary.json`` the test BPC of the best-validation parameters (``test_bpc``).

``torchrun --nproc_per_node W -m orthornn train ... --ddp`` trains one run data-parallel over
the W ranks torchrun starts (:mod:`orthornn.train.distributed`): ``--batch`` is the global
batch, which W must divide; rank 0 writes the run folder and prints, the other ranks write
nothing; ``--resume DIR`` continues a run under torchrun (every rank reads it) or in one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import OrthornnError
from ..train.atomic import replace as _replace
from ..train.config import (
    ACTIVATIONS,
    BABI_SETS,
    BABI_SPLITS,
    BEST_BY,
    INITS,
    LR_SCHEDULES,
    LSTM_INITS,
    MODEL_NAMES,
    OPTIMIZERS,
    READOUT_INITS,
    RUM_INITS,
    SYNTHETIC_TASKS,
    TASK_NAMES,
    TEST_AT,
    TRAIN_ORDERS,
    TrainConfig,
)
from .progress import progress_bar
from .usage import UsageError, check_folder, path_arg, writing

__all__ = ["register", "run"]

_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
#: The environment variable naming the data folder when ``--data`` is not given.
DATA_ENV = "ORTHORNN_DATA"
#: bAbI tasks of ``--babi-task all``.
BABI_TASKS = tuple(range(1, 21))


def _babi_task(text: str) -> int | str:
    """argparse ``type`` of ``--babi-task``: a task number 1..20 or ``all``."""
    if text == "all":
        return text
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 20:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a task number from 1 to 20 or 'all', got {text!r}")


def _flag(field: str) -> str:
    return {"task": "TASK"}.get(field, "--" + field.replace("_", "-"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a model on a long-memory task (copy, varcopy, adding, recall), on bAbI (babi) or on "
        "character-level Penn Treebank (ptb)",
        description=(
            "Train RUM / FS-RUM / LT-RNN / EUNN / GORU / LSTM / GRU on a long-memory task, on bAbI question "
            "answering or as a character language model on Penn Treebank; resumable, seeded. Options marked "
            "'rum:', 'ltrnn:', 'fsrum:', 'copy/varcopy:', 'babi:' or 'ptb:' act on those models or tasks only "
            "and are refused elsewhere."
        ),
    )
    a = p.add_argument
    a("task", nargs="?", choices=TASK_NAMES, metavar="TASK", help=f"one of {', '.join(TASK_NAMES)}")
    a("--model", choices=MODEL_NAMES, help=f"one of {', '.join(MODEL_NAMES)}")
    a("--hidden", type=int, metavar="N", help="hidden size (default 64)")
    a("--lam", type=float, metavar="λ", help="rum, fsrum: associative power λ (default 0)")
    a("--learn-lam", action="store_const", const=True, help="rum, fsrum: learn λ")
    a("--lam-lr", type=float, metavar="LR", help="rum, fsrum, with --learn-lam: λ's own learning rate (default --lr)")
    a("--eta", type=float, metavar="η", help="rum, fsrum: time normalisation η (default off; the paper's ptb: 1)")
    a("--rum-init", choices=RUM_INITS, help="rum, fsrum: kernel init (default glorot; orthogonal: the official code's)")
    a(
        "--lstm-init",
        choices=LSTM_INITS,
        help="lstm: init (default torch; tf: TensorFlow 1's BasicLSTMCell, the official code's)",
    )
    a("--fast-hidden", type=int, metavar="N", help="fsrum: size of each fast LSTM cell (default 64; --hidden: the RUM)")
    a("--fast-cells", type=int, metavar="K", help="fsrum: number of fast cells, >= 2 (default 2: FS-RUM-2)")
    a(
        "--readout-init",
        choices=READOUT_INITS,
        help="all but ltrnn: readout init (default torch; glorot-io: the official RUM code's)",
    )
    a("--init", choices=INITS, help="ltrnn: transition init (default orthogonal)")
    a("--activation", choices=ACTIVATIONS, help="ltrnn: input nonlinearity (default auto: relu on adding)")
    a("--pool", type=int, metavar="K", help="ltrnn: l2-pooled readout with pool size K")
    a("--act-clip", type=float, metavar="L", help="ltrnn: activation clipping norm")
    a("--ortho-lr", type=float, metavar="LR", help="ltrnn: soft orthogonality SGD step (Henaff §4.2)")
    a("--T", dest="T", type=int, metavar="T", help="task length/delay (default 10)")
    a("--S", dest="S", type=int, metavar="S", help="copy/varcopy: symbols to remember (default 10)")
    a("--K", dest="K", type=int, metavar="K", help="copy/varcopy: alphabet size (default 8)")
    a("--steps", type=int, metavar="N", help="optimiser steps in total (default 1000)")
    a("--batch", type=int, metavar="B", help="batch size (default 128)")
    a("--lr", type=float, metavar="LR", help="learning rate (default 1e-3)")
    a(
        "--optimizer",
        choices=OPTIMIZERS,
        help="rmsprop (torch's, decay 0.9, default), rmsprop-tf (TensorFlow 1's: the official RUM code's) or adam",
    )
    a("--clip", type=float, metavar="C", help="gradient-norm clipping (default off)")
    a("--seed", type=int, metavar="S", help="seed of init, data and noise (default 0)")
    a("--device", metavar="DEV", help="auto, cpu, cuda or cuda:N (default cpu)")
    a("--dtype", choices=["float32", "float64"], help="parameter precision (default float32)")
    a("--eval-every", type=int, metavar="N", help="evaluate every N steps (default 100)")
    a("--eval-batches", type=int, metavar="N", help="without --valid-size: held-out batches per evaluation (default 4)")
    a("--train-size", type=int, metavar="N", help="a fixed training set of N sequences, cycled in epochs")
    a("--train-order", choices=TRAIN_ORDERS, help="with --train-size: shuffle each epoch (default) or cycle in order")
    a("--valid-size", type=int, metavar="N", help="evaluate on a fixed validation set of N sequences")
    a("--test-size", type=int, metavar="N", help="evaluate a fixed test set of N sequences at the end")
    a("--test-at", choices=TEST_AT,
      help="with --test-size: test the final parameters (default) or the best validation evaluation's (by "
           "--best-by); on --resume of a final-tested run, best chooses among the evaluations after it")  # fmt: skip
    a("--checkpoint-every", type=int, metavar="N", help="checkpoint every N steps (default 100)")
    a("--stop-accuracy", type=float, metavar="A",
      help="end the run (then test) at the first evaluation whose accuracy is at least A, 0 < A <= 1")  # fmt: skip
    a("--best-by", choices=BEST_BY,
      help="the best evaluation (babi, ptb: the one tested): lowest loss (default) or highest accuracy")  # fmt: skip
    a("--data", type=path_arg, metavar="DIR",
      help=f"babi, ptb: the data folder holding babi/<set>/ or ptb/ (default ${DATA_ENV})")  # fmt: skip
    a("--babi-task", type=_babi_task, metavar="1..20|all", help="babi: the task, or all (20 runs; default 1)")
    a("--babi-set", choices=BABI_SETS, help="babi: en (1k questions, default) or en-10k")
    a("--babi-split", choices=BABI_SPLITS,
      help="babi: validation is 10 %% of the training file's questions (default, the paper's) or stories")  # fmt: skip
    a("--bptt", type=int, metavar="T", help="ptb: truncated-BPTT window length in characters (default 150)")
    a("--embed", type=int, metavar="D", help="ptb: input embedding size (default 128)")
    a("--dropout", type=float, metavar="P", help="ptb: dropout on the core's input and output (default 0)")
    a("--zoneout", type=float, metavar="P", help="ptb, rum/fsrum: hidden-state zoneout (default 0)")
    a("--cell-zoneout", type=float, metavar="P", help="ptb, fsrum: cell-state zoneout of the fast cells (default 0)")
    a("--layer-norm", action="store_const", const=True, help="ptb, rum: layer norm on the gate and target")
    a("--lr-schedule", choices=LR_SCHEDULES,
      help="constant (default), paper (RUM Table 6: ×0.05 after half the steps, ×0.005 after 2/3) or "
           "cosine (½(1 + cos πk/K) over the K steps)")  # fmt: skip
    a("--out", type=path_arg, metavar="DIR", help="write config, metrics, checkpoints and summary here")
    a("--resume", type=path_arg, metavar="DIR", help="continue the run saved in DIR (writes there)")
    a("--quiet", action="store_true", help="no progress bar (there is none either when stderr is not a terminal)")
    a("--ddp", action="store_true",
      help="data-parallel over the ranks torchrun starts (--batch: the global batch; rank 0 writes)")  # fmt: skip
    p.set_defaults(handler=run)


def _config(args: argparse.Namespace, base: TrainConfig | None) -> TrainConfig:
    from ..train import check_resumable

    given = {k: getattr(args, k) for k in _FIELDS if getattr(args, k, None) is not None}
    if "data" in given:  # absolute, so that a resume from another folder finds it
        given["data"] = os.path.abspath(given["data"])
    task = given.get("task", base.task if base is not None else None)
    if task in _DATA_TASKS and "T" in given:
        hint = " (the window length is --bptt)" if task == "ptb" else ""
        raise UsageError(f"--T: applies to tasks {', '.join(SYNTHETIC_TASKS)} only, not {task!r}{hint}")
    if task in _DATA_TASKS and base is None and "data" not in given and os.environ.get(DATA_ENV):
        given["data"] = os.path.abspath(os.environ[DATA_ENV])
    try:
        if base is None:
            if "task" not in given:
                raise UsageError("TASK is required (or --resume DIR)")
            if "model" not in given:
                raise UsageError(f"--model is required (one of {', '.join(MODEL_NAMES)})")
            config = TrainConfig(**given)
        else:
            config = base.replace(**given)
            check_resumable(base, config)
    except OrthornnError as exc:
        raise UsageError(_flagged(exc)) from None
    if config.task in _DATA_TASKS:
        _check_data(config)
    return config


#: The tasks read from a data folder, and the layout each expects there.
_DATA_TASKS = {"babi": "DIR/babi/{en,en-10k}/qa1_…_train.txt", "ptb": "DIR/ptb/ptb.{train,valid,test}.txt"}


def _check_data(config: TrainConfig) -> None:
    """A bAbI or ptb config names a data folder that exists (before any file is written)."""
    task = config.task
    if config.data is None:
        raise UsageError(f"--data: task {task} reads its files from a data folder: give --data DIR or set {DATA_ENV}")
    if not Path(config.data).is_dir():
        raise UsageError(f"--data {config.data}: not a folder (expected {_DATA_TASKS[task]})")


def _flagged(exc: Exception) -> str:
    msg = str(exc)
    head, sep, rest = msg.partition(":")
    if not (sep and head in _FIELDS):
        return msg
    for other in ("train_size", "valid_size", "test_size"):  # "applies with train_size only": name the flag
        rest = rest.replace(f" {other} only", f" {_flag(other)} only")
    return f"{_flag(head)}:{rest}"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def _read_config(where: str, path: Path) -> TrainConfig:
    """The config saved in ``path``; :class:`UsageError` naming the file and what is wrong."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{where}: {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: {path}: not JSON ({exc})") from None
    except OSError as exc:
        raise UsageError(f"{where}: {path}: cannot read it ({exc.strerror or exc})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{where}: {path}: expected a JSON object of config fields, got {_json_kind(doc)}")
    try:
        return TrainConfig.from_dict(doc)
    except OrthornnError as exc:
        raise UsageError(f"{where}: {path}: {exc}") from None


def _read_metrics(where: str, path: Path, step: int) -> list[str]:
    """The lines of ``path`` up to ``step`` (those the checkpoint covers)."""
    if not path.exists():
        return []
    keep = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{where}: {path}: cannot read it ({exc})") from None
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines.pop()  # a line cut short by a kill: after the last flush, so beyond the checkpoint's step
    for number, line in enumerate(lines, 1):
        try:
            rec_step = json.loads(line)["step"]
            if isinstance(rec_step, bool) or not isinstance(rec_step, int):
                raise TypeError(f"its step is {rec_step!r}")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            why = "no step" if isinstance(exc, KeyError) else str(exc)
            raise UsageError(f"{where}: {path}: line {number} is not a metrics record ({why})") from None
        if rec_step <= step:
            keep.append(line)
    return keep


class _Metrics:
    """``metrics.jsonl``, opened for appending after ``lines``; every write failure is one line."""

    def __init__(self, path: Path, flag: str, lines: list[str]) -> None:
        self.path, self.flag = path, flag
        with writing(path, flag):  # replaced whole: a kill leaves the old lines or the new ones
            _replace(path, "".join(ln + "\n" for ln in lines).encode())
            self.file = path.open("a")

    def write(self, rec: dict[str, Any]) -> None:
        with writing(self.path, self.flag):
            self.file.write(json.dumps(rec) + "\n")

    def flush(self, *, sync: bool = False) -> None:
        """Hand the lines to the system; with ``sync`` also to the disk (before a checkpoint, so
        that the metrics on disk always cover the checkpoint's step)."""
        with writing(self.path, self.flag):
            self.file.flush()
            if sync:
                os.fsync(self.file.fileno())

    def close(self) -> None:
        with writing(self.path, self.flag):
            self.file.close()


def _write_json(path: Path, obj: Any, flag: str) -> None:
    with writing(path, flag):
        _replace(path, (json.dumps(obj, indent=2) + "\n").encode())


def _flushing_denormals(torch: Any) -> bool:
    """Whether denormals are flushed now (torch has a setter, no getter): 1e-310·1 becomes 0."""
    return bool((torch.tensor([1e-310], dtype=torch.float64) * 1.0).item() == 0.0)


def run(args: argparse.Namespace) -> int:
    """Train; 0 when the run finished, 1 when it stopped on a non-finite loss.

    Denormal floats appear in RUM's gates after some optimiser steps and slowed CPU iterations
    up to 4x here, so the run flushes them (docs/training.md); the previous mode is restored
    afterwards, so calling the command in-process leaves no global state behind.
    """
    import torch

    previous = _flushing_denormals(torch)
    torch.set_flush_denormal(True)
    try:
        return _run(args, torch)
    finally:
        torch.set_flush_denormal(previous)


def _resume_state(out: Path) -> tuple[TrainConfig, dict[str, Any] | None]:
    """config.json and checkpoint.pt of the run in ``out``, each checked, and checked to agree.

    A folder with a config.json but no checkpoint.pt is a run stopped before it wrote its step-0
    checkpoint: it resumes from step 0 (no state; the initial parameters are a function of the
    seed), which is where the run was.
    """
    from ..train.checkpoint import RESUMABLE_CHANGES, CheckpointError, load_checkpoint

    where = f"--resume {out}"
    ckpt, cfg_file = out / "checkpoint.pt", out / "config.json"
    if not out.is_dir():
        raise UsageError(f"{where}: not a folder")
    missing = [p.name for p in (cfg_file, ckpt) if not p.is_file()]
    if missing == [ckpt.name]:
        check_folder(out, "--resume")
        return _read_config(where, cfg_file), None
    if missing:
        hint = " (a run of `orthornn train --out DIR`)" if len(missing) == 2 else ""
        raise UsageError(f"{where}: no {' and no '.join(missing)} there{hint}")
    check_folder(out, "--resume")
    base = _read_config(where, cfg_file)
    try:
        state = load_checkpoint(ckpt)
    except CheckpointError as exc:
        raise UsageError(f"{where}: {exc}") from None
    a, b = base.to_dict(), TrainConfig.from_dict(state["config"]).to_dict()
    for name in [*a, *(k for k in b if k not in a)]:
        if name not in RESUMABLE_CHANGES and a.get(name) != b.get(name):
            raise UsageError(f"{where}: {cfg_file} and {ckpt} disagree on {name} ({a.get(name)!r} vs {b.get(name)!r})")
    return base, state


def _world(args: argparse.Namespace) -> Any:
    """The ranks of this run: those torchrun describes with ``--ddp``, else one process."""
    from ..train.distributed import World, from_environment

    if not args.ddp:
        return World()
    try:
        return from_environment()
    except OrthornnError as exc:
        raise UsageError(f"--ddp: {exc}") from None


def _rank_device(config: TrainConfig, world: Any) -> Any:
    """This rank's device, once ``config`` is checked to train on ``world``'s ranks."""
    from ..train.distributed import check_parallel, rank_device
    from ..train.loop import resolve_device

    try:
        check_parallel(config, world)
        return rank_device(resolve_device(config.device), world)
    except OrthornnError as exc:
        raise UsageError(_flagged(exc)) from None


def _run(args: argparse.Namespace, torch: Any) -> int:
    from ..train.distributed import joined

    if args.out is not None and args.resume is not None:
        raise UsageError("--out and --resume: give one (a resumed run writes into its own DIR)")
    world = _world(args)
    state = None
    out: Path | None = args.out
    flag = "--out"
    old_metrics: list[str] = []
    if args.resume is not None:
        out, flag = args.resume, "--resume"
        base, state = _resume_state(out)
        config = _config(args, base)
        device = _rank_device(config, world)
        if config.task == "babi" and config.babi_task == "all":
            return _run_babi_set(config, out, flag, args.quiet, torch)
        step = 0 if state is None else int(state["step"])
        old_metrics = _read_metrics(f"--resume {out}", out / "metrics.jsonl", step)
    else:
        config = _config(args, None)
        device = _rank_device(config, world)
        if out is not None and world.main:  # one rank probes (creates and removes) the folder
            check_folder(out, "--out")
            if (out / "checkpoint.pt").exists() or (config.babi_task == "all" and (out / "config.json").exists()):
                raise UsageError(f"--out {out}: holds a run already (continue it with --resume {out})")
        if config.task == "babi" and config.babi_task == "all":
            return _run_babi_set(config, out, flag, args.quiet, torch)
    with joined(world, device):  # after every rank has checked its arguments and read its files
        return _train_one(config, out, flag, state, old_metrics, args.quiet, torch, world)[0]


def _babi_set_of(config: TrainConfig, task: int) -> tuple[str, str | None]:
    """The set task ``task`` of a ``--babi-task all`` run trains on, and why when it is not the
    run's own: en-10k without task 3's training file trains task 3 on the 1k set (whose test
    file is the same file)."""
    from ..datasets import DataError
    from ..datasets.babi import TASKS, find_set_folder

    if config.babi_set == "en-10k" and task == 3:
        try:
            folder = find_set_folder(str(config.data), "en-10k")
        except DataError:  # reported, with the layout, when the files are checked
            return "en-10k", None
        stem = f"qa3_{TASKS[3]}_train.txt"
        if not (folder / stem).is_file() and not (folder / f"{stem}.gz").is_file():
            note = "en-10k has no task-3 training file here: task 3 trained on en (1k), tested on the same test file"
            return "en", note
    return str(config.babi_set), None


def _run_babi_set(config: TrainConfig, out: Path | None, flag: str, quiet: bool, torch: Any) -> int:
    """``--babi-task all``: one run per task (``OUT/qa1`` … ``OUT/qa20``), each trained, or
    resumed, as a run of its own; ``OUT/summary.json`` holds the per-task test accuracies (best
    validation parameters) and their mean, rewritten after each task."""
    from ..datasets import DataError, task_files

    plan = []
    for n in BABI_TASKS:  # every file is checked before anything trains or is written
        babi_set, note = _babi_set_of(config, n)
        try:
            task_files(str(config.data), n, babi_set)
        except DataError as exc:
            raise UsageError(f"--data: {exc}") from None
        plan.append((n, config.replace(babi_task=n, babi_set=babi_set), note))
    if out is not None:
        with writing(out, flag):
            out.mkdir(exist_ok=True)
        _write_json(out / "config.json", config.to_dict(), flag)
    rows: list[dict[str, Any]] = []
    code = 0
    for n, task_config, note in plan:
        sub = None if out is None else out / f"qa{n}"
        state, old_metrics, sub_flag = None, [], flag
        if sub is not None and (sub / "config.json").is_file():
            base, state = _resume_state(sub)
            try:
                from ..train import check_resumable

                check_resumable(base, task_config)
            except OrthornnError as exc:
                raise UsageError(f"{flag} {out}: {sub.name}: {_flagged(exc)}") from None
            step = 0 if state is None else int(state["step"])
            old_metrics = _read_metrics(f"{flag} {out}", sub / "metrics.jsonl", step)
        task_code, summary = _train_one(task_config, sub, sub_flag, state, old_metrics, quiet, torch)
        code = max(code, task_code)
        test = summary.get("test") or {}
        best = summary.get("best") or {}
        rows.append(
            {
                "babi_task": n,
                "babi_set": task_config.babi_set,
                "folder": sub.name if sub is not None else None,
                "test_accuracy": test.get("accuracy"),
                "test_questions": test.get("sequences"),
                "best_step": best.get("step"),
                "valid_accuracy": best.get("accuracy"),
                "steps": summary["steps"],
                "epochs": summary.get("epochs"),
                "stopped": summary["stopped"],
                **({"note": note} if note else {}),
            }
        )
        tested = [r["test_accuracy"] for r in rows if r["test_accuracy"] is not None]
        total = {
            "task": "babi",
            "babi_task": "all",
            "babi_set": config.babi_set,
            "model": config.model,
            "tasks": rows,
            "tasks_tested": len(tested),
            "mean_test_accuracy": sum(tested) / len(tested) if tested else None,
        }
        if out is not None:
            _write_json(out / "summary.json", total, flag)
    print(f"{config.model} on bAbI {config.babi_set}, tasks 1-20: test accuracy (best-validation parameters)")
    for r in rows:
        acc = "stopped, not tested" if r["test_accuracy"] is None else f"{r['test_accuracy']:.4f}"
        print(f"  task {r['babi_task']:2d} ({r['babi_set']}): {acc}")
    if total["mean_test_accuracy"] is not None:
        print(f"mean test accuracy {total['mean_test_accuracy']:.4f} over {total['tasks_tested']} tasks")
    return code


def _train_one(
    config: TrainConfig,
    out: Path | None,
    flag: str,
    state: dict[str, Any] | None,
    old_metrics: list[str],
    quiet: bool,
    torch: Any,
    world: Any = None,
) -> tuple[int, dict[str, Any]]:
    """Train (or continue) one run into ``out``; its exit status and summary. Of several ranks
    (``world``) only the main one writes ``out`` and prints."""
    from ..datasets import DataError
    from ..train import Trainer
    from ..train.checkpoint import CheckpointError

    try:
        trainer = Trainer(config, world=world)
        if state is not None:
            trainer.load_state_dict(state)
    except CheckpointError as exc:
        raise UsageError(f"--resume {out}: {out / 'checkpoint.pt' if out else 'checkpoint'}: {exc}") from None
    except DataError as exc:
        raise UsageError(f"--data: {exc}") from None
    except OrthornnError as exc:
        raise UsageError(_flagged(exc)) from None
    main = world is None or world.main
    if not main:  # another rank of a data-parallel run: it trains, rank 0 writes and reports
        out, quiet = None, True

    last_ckpt: dict[str, int] = {}

    def save_checkpoint(sd: dict[str, Any]) -> None:
        assert out is not None
        path = out / "checkpoint.pt"
        tmp = path.with_name(path.name + ".tmp")
        try:
            torch.save(sd, tmp)  # a failed write raises OSError or (the zip writer) RuntimeError
            _replace(path)  # synced, renamed over the last one: a kill leaves one whole checkpoint
        except (OSError, RuntimeError) as exc:
            tmp.unlink(missing_ok=True)
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            raise UsageError(f"{flag} {out}: cannot write {path} ({first})") from None
        last_ckpt["step"] = sd["step"]

    metrics = None
    if out is not None:
        with writing(out, flag):
            out.mkdir(exist_ok=True)
        _write_json(out / "config.json", config.to_dict(), flag)
        # a fresh run starts a fresh file; a resumed one keeps the lines its checkpoint covers
        if state is None:
            save_checkpoint(trainer.state_dict())  # step 0: a run folder always holds a checkpoint
        else:
            last_ckpt["step"] = trainer.step
        metrics = _Metrics(out / "metrics.jsonl", flag, old_metrics)  # closed in the finally below

    what = f"babi qa{config.babi_task}" if config.task == "babi" else config.task
    ptb = config.task == "ptb"
    bar = progress_bar(config.steps, initial=trainer.step, desc=f"{config.model} on {what}", unit="step",
                       quiet=quiet)  # fmt: skip
    postfix: dict[str, str] = {}

    def on_record(rec: dict[str, Any]) -> None:
        postfix["loss"] = f"{rec['loss']:.4f}"
        if "accuracy" in rec:
            postfix["acc"] = f"{rec['accuracy']:.3f}"
        bar.set_postfix(postfix, refresh=False)
        bar.update(1)
        if metrics is not None:
            metrics.write({"kind": "train", **rec})

    def on_eval(rec: dict[str, Any]) -> None:
        postfix["eval"] = f"{rec['bpc']:.4f} bpc" if ptb else f"{rec['loss']:.4f}"
        bar.set_postfix(postfix)  # evaluations are rare: redraw now (the last one ends the run)
        if metrics is not None:
            metrics.write({"kind": "eval", **rec})
            metrics.flush()

    def on_checkpoint(sd: dict[str, Any]) -> None:
        if metrics is not None:
            metrics.flush(sync=True)
            save_checkpoint(sd)

    try:
        hist = trainer.run(on_record=on_record, on_eval=on_eval, on_checkpoint=on_checkpoint)
    finally:
        bar.close()
        if metrics is not None:
            metrics.close()
    summary = hist.summary
    if out is not None:
        _write_json(out / "summary.json", summary, flag)
    if not main:
        return (0 if hist.stopped is None else 1), summary
    final = summary["final"] or {}
    setting = {"babi": f"task {config.babi_task}, {config.babi_set}", "ptb": f"bptt={config.bptt}"}.get(
        config.task, f"T={config.T}"
    )
    print(
        f"{config.model} on {config.task} ({setting}): {summary['steps']} steps, "
        f"{summary['wall_seconds']:.1f} s, {summary['parameters']} parameters, {summary['device']}"
    )
    if final and ptb:
        print(f"validation {final['bpc']:.4f} bits per character ({summary['epochs']:.2f} epochs); "
              f"unigram baseline {summary['baseline'] / math.log(2):.4f}")  # fmt: skip
    elif final:
        acc = f", accuracy {final['accuracy']:.4f}" if "accuracy" in final else ""
        verdict = "below" if final["beats_baseline"] else "NOT below"
        print(f"held-out loss {final['loss']:.4f}{acc} — {verdict} the memoryless baseline {summary['baseline']:.4f}")
    test = summary.get("test")
    if test and ptb:
        print(f"test {test['bpc']:.4f} bits per character on {test['characters']} characters, parameters of the "
              f"best validation (step {test['step']})")  # fmt: skip
    elif test:
        acc = f", accuracy {test['accuracy']:.4f}" if "accuracy" in test else ""
        at = f", parameters of the best validation (step {test['step']})" if "parameters_of" in test else ""
        if "best_since" in test:
            at = f"{at[:-1]}, chosen among the evaluations after step {test['best_since']})"
        print(f"test loss {test['loss']:.4f}{acc} on {test['sequences']} sequences{at}")
    if hist.reached is not None:
        print(f"validation accuracy reached {config.stop_accuracy:g} at step {hist.reached}: the run ends there")
    if hist.stopped is not None:
        where = ""
        if out is not None:
            where = f"; last good checkpoint: {out / 'checkpoint.pt'} (step {last_ckpt['step']})"
            if last_ckpt["step"] == 0:
                where += ", the initial parameters"
        print(f"orthornn train: {hist.stopped}{where}", file=sys.stderr)
        return 1, summary
    return 0, summary
