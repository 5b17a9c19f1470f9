"""Per-training-iteration time of the orthornn models against torch.nn.LSTM (copy task).

One training iteration = forward over the whole sequence, cross-entropy over all steps,
backward, RMSProp step. Batch 128, copy task T=200 (sequence length T + 2S = 220, one-hot
input of K + 2 = 10), one intra-op thread. Prints a table with the ratio to the LSTM at the
same hidden size and the targets of issue 6.

    OMP_NUM_THREADS=1 python benchmarks/models.py [--reps 3] [--T 200] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from orthornn.nn import LSTM, LTRNN, RUM
from orthornn.tasks import CopyTask
from orthornn.train.registry import SequenceModel


def make(name: str, n: int, nx: int, ny: int, dev: str) -> torch.nn.Module:
    if name == "torch LSTM":
        return SequenceModel(LSTM(nx, n, device=dev), torch.nn.Linear(n, ny, device=dev))
    if name.startswith("RUM"):
        lam = float(name.split("λ=")[1])
        return SequenceModel(RUM(nx, n, lam=lam, device=dev), torch.nn.Linear(n, ny, device=dev))
    return SequenceModel(LTRNN(nx, n, ny, device=dev), None)


def iteration_seconds(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, reps: int) -> list[float]:
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-4, alpha=0.9)
    times = []
    for i in range(reps + 1):  # the first is a warm-up
        if x.is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        scores, _ = model(x)
        loss = torch.nn.functional.cross_entropy(scores.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if x.is_cuda:
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--T", type=int, default=200)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--only", nargs="*", help="run only these rows (by label prefix)")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    task = CopyTask(args.T)
    ids, targets = task.sample(args.batch, rng=0)
    x = torch.nn.functional.one_hot(torch.as_tensor(ids), task.vocab_size).float().to(args.device)
    y = torch.as_tensor(targets).to(args.device)
    rows = [  # (label, hidden, target seconds or ratio)
        ("torch LSTM", 250, None),
        ("RUM λ=0", 250, "≤ 0.5× LSTM"),
        ("RUM λ=1", 100, "≤ 1.0 s"),
        ("LT-RNN", 80, "≤ 0.060 s"),
        ("LT-RNN", 128, "≤ 0.100 s"),
    ]
    print(
        f"copy T={args.T}, batch {args.batch}, {args.reps} timed reps after 1 warm-up, "
        f"threads {torch.get_num_threads()}, device {args.device}"
    )
    print(f"{'model':<12} {'N':>4} {'median s/iter':>14} {'min':>8} {'× LSTM-250':>11}  target")
    lstm = None
    for label, n, target in rows:
        if args.only and not any(label.startswith(o) for o in args.only):
            continue
        model = make(label, n, task.vocab_size, task.n_classes, args.device)
        ts = iteration_seconds(model, x, y, args.reps)
        med = statistics.median(ts)
        if label == "torch LSTM":
            lstm = med
        ratio = f"{med / lstm:11.2f}" if lstm else f"{'':>11}"
        print(f"{label:<12} {n:>4} {med:14.3f} {min(ts):8.3f} {ratio}  {target or ''}", flush=True)


if __name__ == "__main__":
    main()
