"""Training throughput of RUM and FS-RUM against torch.nn.LSTM on char-PTB and bAbI, one thread.

One training step is ``Trainer.train_step`` of ``orthornn train`` (forward over one batch, the
loss, backward, gradient clipping where the run clips, Adam, the state carried): on char-PTB one
truncated-BPTT window of B streams × T characters of a :class:`~orthornn.nn.LanguageModel`
(embedding 128 → core → softmax over 50 characters), on bAbI one batch of B stories of L tokens
(one-hot tokens → core → readout at the last token). Throughput is characters (tokens) per
second of such steps; every model's steps are interleaved with the others' (one step of each in
turn, the order rotated every rep, after one warm-up step each), so a change of load hits all
rows alike, and the ratio to the ``torch.nn.LSTM`` of the same width in the same run is the
number to read. Each rate is the median over the reps.

Peak memory of a PTB window (run first, before the timed trainers exist): a fresh process per
model builds the trainer, resets its peak resident set size to the current one (Linux
``/proc/self/clear_refs``; ``ru_maxrss`` elsewhere), takes two training steps and reports how far
the peak rose above the size before them (the window's forward and backward, Adam's first
state, the carried state) and the process's whole peak (torch itself included).

No data is needed: the PTB corpus is random bytes over 50 symbols (the cost does not depend on
the characters) and the bAbI task a fixture of stories of ``Name moved to the place .``
statements with a ``Where is Name ?`` question (the cost depends on the length only). With
``--data DIR`` the real files are read instead (``DIR/ptb``; ``DIR/babi/<set>`` task
``--babi-task``, its batches bucketed by length as in training).

    OMP_NUM_THREADS=1 python benchmarks/lm_throughput.py [--reps 5] [--width 256] [--batch 64] [--bptt 150]
    OMP_NUM_THREADS=1 python benchmarks/lm_throughput.py --only ptb memory   # skip bAbI
    OMP_NUM_THREADS=1 python benchmarks/lm_throughput.py --quick             # tiny sizes: a smoke run
    python benchmarks/lm_throughput.py --device cuda --only ptb babi         # on a GPU (no memory section)

The defaults are those of the CPU-scale runs in ``analysis/ptb`` (width 256, batch 64, window
150, embedding 128, RUM λ = 0 with η = 10, FS-RUM-2 with fast cells of 128, Adam 0.002, clip
1.0) and of bAbI in docs/babi.md (N = 256, batch 32, Adam 1e-3); bAbI stories of 52 and 298
tokens (the 20 tasks' training questions have median length 50; task 3's mean is 302).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig
from orthornn.train.loop import Trainer, resolve_device
from orthornn.train.registry import count_parameters

SECTIONS = ("ptb", "babi", "memory")

#: char-PTB rows: label -> the model's options (``{w}`` in a value: the width).
PTB_ROWS: dict[str, dict[str, object]] = {
    "RUM λ=0": {"model": "rum", "lam": 0.0, "eta": 10.0},
    "RUM λ=1": {"model": "rum", "lam": 1.0, "eta": 10.0},
    "RUM λ=0 layer norm": {"model": "rum", "lam": 0.0, "eta": 10.0, "layer_norm": True},
    "FS-RUM-2": {"model": "fsrum", "lam": 0.0, "eta": 10.0, "fast_cells": 2, "fast_hidden": "w/2"},
    "torch LSTM": {"model": "lstm"},
}

#: bAbI rows: label -> the model's options.
BABI_ROWS: dict[str, dict[str, object]] = {
    "RUM λ=0": {"model": "rum", "lam": 0.0},
    "RUM λ=1": {"model": "rum", "lam": 1.0},
    "torch LSTM": {"model": "lstm"},
}

_NAMES = ("Mary", "John", "Sandra", "Daniel", "Fred", "Bill", "Julie", "Emily")
_VERBS = ("moved", "went", "travelled", "journeyed")
_PLACES = ("bathroom", "hallway", "office", "garden", "kitchen", "bedroom", "park", "cinema")


def write_ptb_fixture(folder: Path, chars: int, seed: int = 0) -> Path:
    """``folder/ptb/ptb.{train,valid,test}.txt``: ``chars`` random bytes over 50 symbols each."""
    rng = np.random.default_rng(seed)
    text = (rng.integers(0, 50, chars) + 40).astype(np.uint8).tobytes()  # bytes 40..89
    (folder / "ptb").mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        (folder / "ptb" / f"ptb.{split}.txt").write_bytes(text)
    return folder


def write_babi_fixture(folder: Path, statements: int, questions: int, seed: int = 0) -> Path:
    """``folder/babi/en/qa1_…_{train,test}.txt``: ``questions`` stories of ``statements``
    statements (6 tokens each) and one question (4 tokens): 6·statements + 4 tokens each."""
    from orthornn.datasets.babi import TASKS

    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(questions):
        where = {}
        for i in range(1, statements + 1):
            name, verb, place = rng.choice(_NAMES), rng.choice(_VERBS), rng.choice(_PLACES)
            where[name] = (place, i)
            lines.append(f"{i} {name} {verb} to the {place}.")
        name = rng.choice(sorted(where))
        place, i = where[name]
        lines.append(f"{statements + 1} Where is {name}? \t{place}\t{i}")
    folder_set = folder / "babi" / "en"
    folder_set.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (folder_set / f"qa1_{TASKS[1]}_{split}.txt").write_text("\n".join(lines) + "\n")
    return folder


def ptb_config(label: str, args: argparse.Namespace, data: str) -> TrainConfig:
    """The ``orthornn train ptb`` configuration of row ``label``."""
    spec = {k: (args.width // 2 if v == "w/2" else v) for k, v in PTB_ROWS[label].items()}
    return TrainConfig(
        task="ptb", data=data, hidden=args.width, embed=args.embed, bptt=args.bptt, batch=args.batch,
        optimizer="adam", lr=0.002, lr_schedule="paper", clip=1.0, steps=10**6, eval_every=10**6,
        checkpoint_every=10**6, seed=0, device=args.device, **spec,
    )  # fmt: skip


def babi_config(label: str, args: argparse.Namespace, data: str) -> TrainConfig:
    """The ``orthornn train babi`` configuration of row ``label`` (docs/babi.md's setting)."""
    return TrainConfig(
        task="babi", data=data, babi_task=args.babi_task, babi_set=args.babi_set, hidden=args.babi_width,
        batch=args.babi_batch, optimizer="adam", lr=1e-3, steps=10**6, eval_every=10**6,
        checkpoint_every=10**6, seed=0, device=args.device, **BABI_ROWS[label],
    )  # fmt: skip


def timed_step(trainer: Trainer) -> Callable[[], tuple[int, float]]:
    """One training step of ``trainer``: ``(characters or tokens of its batch, seconds)``."""

    cuda = trainer.device.type == "cuda"

    def step() -> tuple[int, float]:
        units = trainer.stream.batch(trainer.step).x.shape[:2].numel()  # B × T of the batch it takes
        if cuda:
            torch.cuda.synchronize(trainer.device)
        t0 = time.perf_counter()
        record = trainer.train_step()
        if cuda:  # the step's kernels have finished, not only been queued
            torch.cuda.synchronize(trainer.device)
        seconds = time.perf_counter() - t0
        if record is None:
            raise RuntimeError(f"the training step was not finite ({trainer.failure})")
        return units, seconds

    return step


def interleaved_rates(steps: dict[str, Callable[[], tuple[int, float]]], reps: int) -> dict[str, list[float]]:
    """Units per second of each step over ``reps`` rounds (one warm-up step each first); every
    round takes one step of each, in an order rotated by one every round."""
    for step in steps.values():
        step()
    names = list(steps)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            units, seconds = steps[name]()
            rates[name].append(units / seconds)
    return rates


def throughput_table(
    rows: dict[str, TrainConfig], reps: int, unit: str, width_of: Callable[[TrainConfig], str]
) -> list[str]:
    """Markdown rows: model, width, parameters, median unit/s, its ratio to the LSTM's median and
    the range of the ratios of the two steps taken in the same round."""
    trainers = {label: Trainer(cfg) for label, cfg in rows.items()}
    rates = interleaved_rates({label: timed_step(t) for label, t in trainers.items()}, reps)
    medians = {label: statistics.median(r) for label, r in rates.items()}
    lstm = medians["torch LSTM"]
    out = [
        f"| model | width | parameters | {unit}/s (median) | ratio to torch LSTM | per-round ratios (min–max) |",
        "|---|---|---|---|---|---|",
    ]
    for label, cfg in rows.items():
        n = count_parameters(trainers[label].model)
        paired = [a / b for a, b in zip(rates[label], rates["torch LSTM"], strict=True)]  # the same round
        out.append(
            f"| {label} | {width_of(cfg)} | {n:,} | {medians[label]:,.0f} | {medians[label] / lstm:.2f} | "
            f"{min(paired):.2f}–{max(paired):.2f} |"
        )
    return out


def _ptb_width(cfg: TrainConfig) -> str:
    return f"fast {cfg.fast_hidden}, slow {cfg.hidden}" if cfg.model == "fsrum" else str(cfg.hidden)


def _peak_kib(reset: bool = False) -> tuple[float, float]:
    """``(peak, current)`` resident set size of this process in KiB: Linux's ``VmHWM`` and
    ``VmRSS`` (``reset``: first set the peak to the current size through ``clear_refs``), else
    ``ru_maxrss`` twice. (``ru_maxrss`` survives ``exec``: a child of a large process starts with
    its parent's peak, so it is only the fallback.)"""
    status = Path("/proc/self/status")
    if not status.exists():
        peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return peak, peak
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    return float(fields["VmHWM"].split()[0]), float(fields["VmRSS"].split()[0])


def memory_one(label: str, args: argparse.Namespace, data: str) -> dict[str, float]:
    """In this (fresh) process: how far two training steps of row ``label`` raise the peak
    resident set size above its size before them, and the process's peak, in MiB."""
    trainer = Trainer(ptb_config(label, args, data))
    _, base = _peak_kib(reset=True)
    for _ in range(2):
        if trainer.train_step() is None:
            raise RuntimeError(f"the training step was not finite ({trainer.failure})")
    peak, _ = _peak_kib()
    return {"added_mib": (peak - base) / 1024, "peak_mib": peak / 1024}


def memory_table(args: argparse.Namespace, data: str) -> list[str]:
    """Markdown rows: per PTB row, the peak RSS a window added and the process's peak (a fresh process each)."""
    out = ["| model | width | peak RSS added by a window (MiB) | process peak RSS (MiB) |", "|---|---|---|---|"]
    for label in PTB_ROWS:
        cmd = [sys.executable, __file__, *_size_argv(args), "--data", data, "--memory-one", label]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ})
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        width = _ptb_width(ptb_config(label, args, data))
        out.append(f"| {label} | {width} | {m['added_mib']:.0f} | {m['peak_mib']:.0f} |")
    return out


def _size_argv(args: argparse.Namespace) -> list[str]:
    sizes = {"--width": args.width, "--batch": args.batch, "--bptt": args.bptt, "--embed": args.embed}
    return [str(v) for kv in sizes.items() for v in kv]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5, help="timed steps per model, interleaved (default 5)")
    p.add_argument("--width", type=int, default=256, help="PTB: RUM, LSTM and FS-RUM's slow width (default 256)")
    p.add_argument("--batch", type=int, default=64, help="PTB streams per window (default 64)")
    p.add_argument("--bptt", type=int, default=150, help="PTB window length (default 150)")
    p.add_argument("--embed", type=int, default=128, help="PTB embedding size (default 128)")
    p.add_argument("--babi-width", type=int, default=256, help="bAbI hidden size (default 256)")
    p.add_argument("--babi-batch", type=int, default=32, help="bAbI batch (default 32)")
    p.add_argument("--babi-statements", type=int, nargs="+", default=[8, 49],
                   help="fixture stories of 6·S + 4 tokens, a table per S (default 8 49: 52, 298 tokens)")  # fmt: skip
    p.add_argument("--babi-task", type=int, default=1, help="with --data: the bAbI task read (default 1)")
    p.add_argument("--babi-set", default="en", help="with --data: the bAbI set read (default en)")
    p.add_argument("--data", help="read DIR/ptb and DIR/babi instead of writing fixtures")
    p.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one rep: a smoke run (numbers meaningless)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda: where the models train")
    p.add_argument("--memory-one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:  # the device as `orthornn train --device` takes it, with the same errors
        TrainConfig(device=args.device)
    except OrthornnError as exc:
        p.error(f"--{exc}")
    if args.device != "cpu" and "memory" in (args.only or SECTIONS):
        p.error("--device: the memory section measures the CPU's resident set; add --only ptb babi")
    try:
        resolve_device(args.device)
    except OrthornnError as exc:
        p.error(f"--{exc}")
    if args.quick:
        args.reps, args.width, args.batch, args.bptt, args.embed = 1, 16, 4, 10, 8
        args.babi_width, args.babi_batch, args.babi_statements = 16, 4, [2]
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # as `orthornn train` does
    if args.memory_one:
        print(json.dumps(memory_one(args.memory_one, args, args.data)))
        return 0
    sections = args.only or SECTIONS
    with tempfile.TemporaryDirectory() as tmp:
        ptb_data = args.data or str(write_ptb_fixture(Path(tmp), args.batch * (args.bptt * 4 + 1)))
        print(f"device {args.device}, threads {torch.get_num_threads()}, {args.reps} timed steps per model after "
              f"1 warm-up, interleaved; data: {args.data or 'fixtures (no data read)'}")  # fmt: skip
        if "memory" in sections:
            print(f"\nchar-PTB peak memory: batch {args.batch}, window {args.bptt}, two training steps, a process each")
            print("\n".join(memory_table(args, ptb_data)), flush=True)
        if "ptb" in sections:
            rows = {label: ptb_config(label, args, ptb_data) for label in PTB_ROWS}
            print(f"\nchar-PTB: batch {args.batch}, window {args.bptt}, embedding {args.embed}, a step a window")
            print("\n".join(throughput_table(rows, args.reps, "chars", _ptb_width)), flush=True)
        if "babi" in sections:
            for s in [None] if args.data else args.babi_statements:
                folder = args.data or str(write_babi_fixture(Path(tmp) / f"babi{s}", s, 20 * args.babi_batch))
                rows = {label: babi_config(label, args, folder) for label in BABI_ROWS}
                length = f"stories of {6 * s + 4} tokens" if s else f"task {args.babi_task} of {args.babi_set}"
                print(f"\nbAbI: batch {args.babi_batch}, {length}, one training step a batch")
                print("\n".join(throughput_table(rows, args.reps, "tokens", lambda c: str(c.hidden))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
