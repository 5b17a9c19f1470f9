"""``orthornn train TASK --model MODEL [options] [--out DIR] [--resume DIR]``.

Writes into DIR: ``config.json`` (the whole :class:`~orthornn.train.TrainConfig`),
``metrics.jsonl`` (one JSON object per training step, ``"kind": "train"``, and per evaluation,
``"kind": "eval"``), ``checkpoint.pt`` (every ``--checkpoint-every`` steps, replaced
atomically) and ``summary.json`` at the end. ``--resume DIR`` continues that run to the result
an uninterrupted run reaches; ``--steps`` may be raised to train further.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import OrthornnError
from ..train.config import MODEL_NAMES, OPTIMIZERS, TASK_NAMES, TrainConfig
from .usage import UsageError

__all__ = ["register", "run"]

_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def _flag(field: str) -> str:
    return {"task": "TASK"}.get(field, "--" + field.replace("_", "-"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a model on a long-memory task (copy, varcopy, adding, recall)",
        description="Train RUM / LT-RNN / LSTM / GRU on a long-memory task; resumable, seeded.",
    )
    a = p.add_argument
    a("task", nargs="?", choices=TASK_NAMES, metavar="TASK", help=f"one of {', '.join(TASK_NAMES)}")
    a("--model", choices=MODEL_NAMES, help=f"one of {', '.join(MODEL_NAMES)}")
    a("--hidden", type=int, metavar="N", help="hidden size (default 64)")
    a("--lam", type=float, metavar="λ", help="RUM associative power λ (default 0)")
    a("--learn-lam", action="store_const", const=True, help="RUM: learn λ")
    a("--eta", type=float, metavar="η", help="RUM time normalisation η (default off)")
    a("--init", choices=["orthogonal", "haar", "identity", "torus"], help="LT-RNN transition init")
    a("--activation", choices=["auto", "identity", "relu", "tanh"], help="LT-RNN input nonlinearity")
    a("--pool", type=int, metavar="K", help="LT-RNN l2-pooled readout with pool size K")
    a("--act-clip", type=float, metavar="L", help="LT-RNN activation clipping norm")
    a("--ortho-lr", type=float, metavar="LR", help="LT-RNN soft orthogonality SGD step (Henaff §4.2)")
    a("--T", dest="T", type=int, metavar="T", help="task length/delay (default 10)")
    a("--S", dest="S", type=int, metavar="S", help="copy: symbols to remember (default 10)")
    a("--K", dest="K", type=int, metavar="K", help="copy: alphabet size (default 8)")
    a("--steps", type=int, metavar="N", help="optimiser steps in total (default 1000)")
    a("--batch", type=int, metavar="B", help="batch size (default 128)")
    a("--lr", type=float, metavar="LR", help="learning rate (default 1e-3)")
    a("--optimizer", choices=OPTIMIZERS, help="rmsprop (decay 0.9, default) or adam")
    a("--clip", type=float, metavar="C", help="gradient-norm clipping (default off)")
    a("--seed", type=int, metavar="S", help="seed of init, data and noise (default 0)")
    a("--device", metavar="DEV", help="auto, cpu, cuda or cuda:N (default cpu)")
    a("--dtype", choices=["float32", "float64"], help="parameter precision (default float32)")
    a("--eval-every", type=int, metavar="N", help="evaluate every N steps (default 100)")
    a("--eval-batches", type=int, metavar="N", help="held-out batches per evaluation (default 4)")
    a("--checkpoint-every", type=int, metavar="N", help="checkpoint every N steps (default 100)")
    a("--out", type=Path, metavar="DIR", help="write config, metrics, checkpoints and summary here")
    a("--resume", type=Path, metavar="DIR", help="continue the run saved in DIR (writes there)")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _config(args: argparse.Namespace, base: dict[str, Any] | None) -> Any:
    from ..train import check_resumable

    given = {k: getattr(args, k) for k in _FIELDS if getattr(args, k, None) is not None}
    try:
        if base is None:
            if "task" not in given:
                raise UsageError("TASK is required (or --resume DIR)")
            if "model" not in given:
                raise UsageError("--model is required (one of rum, ltrnn, eunn, goru, lstm, gru)")
            return TrainConfig(**given)
        saved = TrainConfig.from_dict(base)
        config = saved.replace(**given)
        check_resumable(saved, config)
        return config
    except OrthornnError as exc:
        raise UsageError(_flagged(exc)) from None


def _flagged(exc: Exception) -> str:
    msg = str(exc)
    head, sep, rest = msg.partition(":")
    return f"{_flag(head)}:{rest}" if sep and head in _FIELDS else msg


class _Progress:
    """A one-line progress bar on stderr: step, loss, accuracy, steps per second."""

    def __init__(self, total: int, start: int, quiet: bool) -> None:
        self.total, self.quiet, self.t0, self.start, self.last = total, quiet, time.perf_counter(), start, 0.0

    def __call__(self, rec: dict[str, Any], force: bool = False) -> None:
        now = time.perf_counter()
        if self.quiet or (not force and now - self.last < 0.2 and rec["step"] != self.total):
            return
        self.last = now
        done = rec["step"] / self.total
        bar = "#" * int(24 * done) + "." * (24 - int(24 * done))
        speed = (rec["step"] - self.start) / max(now - self.t0, 1e-9)
        acc = f" acc {rec['accuracy']:.3f}" if "accuracy" in rec else ""
        print(
            f"\r[{bar}] {rec['step']}/{self.total} loss {rec['loss']:.4f}{acc} {speed:.2f} it/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if not self.quiet:
            print(file=sys.stderr, flush=True)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


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


def _run(args: argparse.Namespace, torch: Any) -> int:
    from ..train import Trainer

    if args.out is not None and args.resume is not None:
        raise UsageError("--out and --resume: give one (a resumed run writes into its own DIR)")
    state = None
    out: Path | None = args.out
    if args.resume is not None:
        out = args.resume
        ckpt, cfg_file = out / "checkpoint.pt", out / "config.json"
        if not ckpt.is_file() or not cfg_file.is_file():
            raise UsageError(f"--resume {out}: no checkpoint.pt and config.json there")
        config = _config(args, json.loads(cfg_file.read_text()))
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
    else:
        config = _config(args, None)
        if out is not None:
            if not out.resolve().parent.is_dir():
                raise UsageError(f"--out {out}: folder {out.parent} does not exist")
            if (out / "checkpoint.pt").exists():
                raise UsageError(f"--out {out}: holds a run already (continue it with --resume {out})")
    try:
        trainer = Trainer(config)
        if state is not None:
            trainer.load_state_dict(state)
    except OrthornnError as exc:
        raise UsageError(_flagged(exc)) from None

    metrics_file = None
    if out is not None:
        out.mkdir(exist_ok=True)
        _write_json(out / "config.json", config.to_dict())
        metrics_path = out / "metrics.jsonl"
        if state is not None and metrics_path.exists():  # drop records the checkpoint does not cover
            keep = [ln for ln in metrics_path.read_text().splitlines() if json.loads(ln)["step"] <= trainer.step]
            metrics_path.write_text("".join(ln + "\n" for ln in keep))
        metrics_file = metrics_path.open("a")

    progress = _Progress(config.steps, trainer.step, args.quiet)
    last_ckpt = {"step": trainer.step}

    def on_record(rec: dict[str, Any]) -> None:
        progress(rec)
        if metrics_file is not None:
            metrics_file.write(json.dumps({"kind": "train", **rec}) + "\n")

    def on_eval(rec: dict[str, Any]) -> None:
        if metrics_file is not None:
            metrics_file.write(json.dumps({"kind": "eval", **rec}) + "\n")
            metrics_file.flush()

    def on_checkpoint(sd: dict[str, Any]) -> None:
        if out is not None:
            assert metrics_file is not None
            metrics_file.flush()
            tmp = out / "checkpoint.pt.tmp"
            torch.save(sd, tmp)
            os.replace(tmp, out / "checkpoint.pt")
            last_ckpt["step"] = sd["step"]

    try:
        hist = trainer.run(on_record=on_record, on_eval=on_eval, on_checkpoint=on_checkpoint)
    finally:
        progress.close()
        if metrics_file is not None:
            metrics_file.close()
    summary = hist.summary
    if out is not None:
        _write_json(out / "summary.json", summary)
    final = summary["final"] or {}
    print(
        f"{config.model} on {config.task} (T={config.T}): {summary['steps']} steps, "
        f"{summary['wall_seconds']:.1f} s, {summary['parameters']} parameters, {summary['device']}"
    )
    if final:
        acc = f", accuracy {final['accuracy']:.4f}" if "accuracy" in final else ""
        verdict = "below" if final["beats_baseline"] else "NOT below"
        print(f"held-out loss {final['loss']:.4f}{acc} — {verdict} the memoryless baseline {summary['baseline']:.4f}")
    if hist.stopped is not None:
        where = f"; last good checkpoint: {out / 'checkpoint.pt'} (step {last_ckpt['step']})" if out else ""
        print(f"orthornn train: {hist.stopped}{where}", file=sys.stderr)
        return 1
    return 0
