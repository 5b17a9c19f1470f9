"""Training throughput of the char-PTB language models, one thread: characters per second of a
training step (forward, backward, Adam) on one truncated-BPTT window, and the peak resident
memory of a process that runs such steps.

    OMP_NUM_THREADS=1 python analysis/ptb/throughput.py [--width N] [--batch B] [--bptt T] [--steps K]

Each model runs in a fresh subprocess (so its peak memory is its own): RUM (λ = 0, η = 10, the
one-node sequence path), RUM with layer norm (step by step), FS-RUM-2 (fast cells of N/2 units
around a RUM of N, the paper's 700 / 1000 ratio rounded) and ``torch.nn.LSTM`` of width N, each
inside the same :class:`orthornn.nn.LanguageModel` (embedding 128, 50 characters). Synthetic ids
stand in for the corpus (the cost does not depend on the characters). Prints one JSON line per
model and a table; the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

MODELS = {
    "rum": {"model": "rum", "eta": 10.0},
    "rum-ln": {"model": "rum", "eta": 10.0, "layer_norm": True},
    "fsrum-2": {"model": "fsrum", "eta": 10.0, "fast_cells": 2},
    "lstm": {"model": "lstm"},
}


def _one(name: str, width: int, batch: int, bptt: int, steps: int) -> dict:
    import torch

    from orthornn.train.config import TrainConfig
    from orthornn.train.registry import build_model

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    spec = dict(MODELS[name])
    extra = {"fast_hidden": width // 2} if spec["model"] == "fsrum" else {}
    cfg = TrainConfig(task="ptb", data=".", hidden=width, embed=128, bptt=bptt, batch=batch, **spec, **extra)
    torch.manual_seed(0)
    model = build_model(cfg, 50, 50, device=torch.device("cpu"), dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.randint(0, 50, (batch, bptt + 1))
    state = None
    times = []
    for _ in range(steps + 1):  # the first step warms up
        t0 = time.perf_counter()
        logits, state = model(ids[:, :-1], state)
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = _detach(state)
        times.append(time.perf_counter() - t0)
    per_step = sorted(times[1:])[len(times[1:]) // 2]  # the median step
    params = sum(p.numel() for p in model.parameters())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": name, "width": width, "parameters": params, "batch": batch, "bptt": bptt,
            "seconds_per_step": per_step, "chars_per_second": batch * bptt / per_step,
            "peak_rss_mib": peak_mib}  # fmt: skip


def _detach(state):
    from orthornn.nn.lm import detach_state

    return detach_state(state)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--bptt", type=int, default=150)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--one", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.width, args.batch, args.bptt, args.steps)))
        return 0
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in MODELS:
        cmd = [sys.executable, __file__, "--one", name, "--width", str(args.width), "--batch", str(args.batch),
               "--bptt", str(args.bptt), "--steps", str(args.steps)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    lstm = next(r for r in rows if r["model"] == "lstm")
    print(f"\nwidth {args.width}, batch {args.batch}, window {args.bptt}, one thread")
    print("| model | parameters | chars/s | ratio to torch LSTM | peak RSS (MiB) |\n|---|---|---|---|---|")
    for r in rows:
        ratio = r["chars_per_second"] / lstm["chars_per_second"]
        print(f"| {r['model']} | {r['parameters']:,} | {r['chars_per_second']:,.0f} | {ratio:.2f} | "
              f"{r['peak_rss_mib']:.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
