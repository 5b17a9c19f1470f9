"""Per-training-iteration time of the orthornn models against torch.nn.LSTM (copy task).

One training iteration = forward over the whole sequence, cross-entropy over all steps,
backward, RMSProp step. The loss is ``cross_entropy(scores.transpose(1, 2), y)`` (classes in
dimension 1, the same value as over the flattened ``(B·T, C)`` scores): torch's CPU
log-softmax over a last dimension of 9 classes took ≈ 10 ms here against < 1 ms with the
classes leading; ``--flat-loss`` uses the flattened form. Batch 128, copy task T=200
(sequence length T + 2S = 220, one-hot input of K + 2 = 10), one intra-op thread. Prints a
table with the ratio to the LSTM at the same hidden size and the targets of issue 6.

    OMP_NUM_THREADS=1 python benchmarks/models.py [--reps 3] [--T 200] [--device cpu]
    OMP_NUM_THREADS=1 python benchmarks/models.py --memory [--batch 128]   # λ = 1 peak memory vs T
    OMP_NUM_THREADS=1 python benchmarks/models.py --floor [--reps 5]       # λ = 0 GEMM floor vs LSTM
    OMP_NUM_THREADS=1 python benchmarks/models.py --fractional [--reps 3]  # λ = 0.5 vs λ = 1 (issue 12)
    OMP_NUM_THREADS=1 python benchmarks/models.py --memory --lam 0.5       # the same memory table, λ = 0.5
    OMP_NUM_THREADS=1 python benchmarks/models.py --fractional-recall [--warmup 100] [--reps 5]

``--fractional-recall`` times the fractional-λ study's own setting instead of a fresh model on a
fixed copy batch: associative recall T = 30, N = 50, batch 128, trained as
``analysis/configs/fractional_lambda_paper.json`` trains it (Adam 1e-3, orthogonal kernels, the
glorot-io readout), each model first trained ``--warmup`` steps (its spectrum then has the decayed
angles a real run has), then its ``Trainer.train_step`` (the whole iteration: data, forward,
backward, Adam) interleaved with that of RUM λ = 1 trained alike; CPU seconds of this process,
so other load on the machine weighs less.

Denormals are flushed to zero (``torch.set_flush_denormal(True)``) unless ``--keep-denormals``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from orthornn.nn import LSTM, LTRNN, RUM, kernels
from orthornn.tasks import CopyTask
from orthornn.train.registry import SequenceModel


def make(name: str, n: int, nx: int, ny: int, dev: str) -> torch.nn.Module:
    if name == "torch LSTM":
        return SequenceModel(LSTM(nx, n, device=dev), torch.nn.Linear(n, ny, device=dev))
    if name.endswith("per-step nodes"):
        return SequenceModel(_StepwiseRUM(nx, n, device=dev), torch.nn.Linear(n, ny, device=dev))
    if name.startswith("RUM"):  # "RUM λ=<lam>[ learned][ recompute][ torch ops][ step path]"
        lam = float(name.split("λ=")[1].split()[0])
        cls = _TorchOpsRUM if name.endswith("torch ops") else _StepwiseRUM if name.endswith("step path") else RUM
        rum = cls(nx, n, lam=lam, learn_lam="learned" in name, memory_efficient="recompute" in name, device=dev)
        return SequenceModel(rum, torch.nn.Linear(n, ny, device=dev))
    if name.endswith("autograd loop"):
        return SequenceModel(_StepwiseLTRNN(nx, n, ny, device=dev), None)
    return SequenceModel(LTRNN(nx, n, ny, device=dev), None)


class _StepwiseLTRNN(LTRNN):
    """The alternative: the same LT-RNN with one autograd ``addmm`` node per step."""

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        a = torch.nn.functional.linear(x, self.weight_in, self.bias)
        h = x.new_zeros(x.shape[0], self.hidden_size) if state is None else state
        hs = []
        for a_t in a.unbind(1):
            h = torch.addmm(a_t, h, self.weight_rec.t())
            hs.append(h)
        assert self.readout is not None
        return self.readout(torch.stack(hs, 1)), h


class _StepwiseRUM(RUM):
    """The alternative: the same RUM stepped by ``RUMCell.step`` (one fused autograd node per step
    after its GEMM, the path used with layer norm or zoneout); for a fractional λ the so_power step
    path (:func:`orthornn.nn.rum.fractional_step`) that ran before the spectral node."""

    def forward(self, x: torch.Tensor, state=None):
        proj = self.cell.input_projection(x)
        st = self.cell.initial_state(x.shape[0], like=x)
        hs = []
        for p in proj.unbind(1):
            st = self.cell.step(p, st)
            hs.append(st.h)
        return torch.stack(hs, 1), st


class _TorchOpsRUM(RUM):
    """The alternative: the same RUM without the native kernels (what runs without a C compiler
    or with ``ORTHORNN_NATIVE=0``): the λ = 0 sequence node's step as torch operations, λ = 1
    through the torch step path."""

    def forward(self, x: torch.Tensor, state=None):
        with kernels.native(False):
            return super().forward(x, state)


def _copy_batch(T: int, batch: int, device: str) -> tuple[CopyTask, torch.Tensor, torch.Tensor]:
    """The benchmark's one copy batch (seed 0): the task, one-hot inputs and targets on ``device``."""
    task = CopyTask(T)
    ids, targets = task.sample(batch, rng=0)
    x = torch.nn.functional.one_hot(torch.as_tensor(ids), task.vocab_size).float().to(device)
    return task, x, torch.as_tensor(targets).to(device)


def _trainer_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, flat_loss: bool = False):
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-4, alpha=0.9)

    def step() -> float:
        if x.is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        scores, _ = model(x)
        if flat_loss:
            loss = torch.nn.functional.cross_entropy(scores.flatten(0, 1), y.flatten())
        else:
            loss = torch.nn.functional.cross_entropy(scores.transpose(1, 2), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if x.is_cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    return step


def interleaved_seconds(step_a, step_b, reps: int) -> tuple[list[float], list[float]]:
    """Alternate the two measurements (after one warm-up each) so load changes hit both alike."""
    step_a(), step_b()
    ta, tb = [], []
    for _ in range(reps):
        ta.append(step_a())
        tb.append(step_b())
    return ta, tb


_PEAK = """
import resource, sys, time, torch
from orthornn.nn import RUM
torch.set_num_threads(1)
T, mode, B, lam = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
torch.manual_seed(0)
rum = RUM(10, 100, lam=lam, memory_efficient=mode == "recompute")
x = torch.randn(B, T, 10)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
y, _ = rum(x)
y.square().mean().backward()
dt = time.perf_counter() - t0
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024, dt)
"""


def peak_memory(batch: int, lam: float = 1.0) -> None:
    """Peak resident memory added by one forward+backward of RUM N = 100, per T: λ = 1 (its three
    paths) or a fractional λ (the spectral node, with and without the native kernels)."""
    import subprocess
    import sys

    # λ = 1: torch step path ×2 (ORTHORNN_NATIVE=0) and the native kernel; else the spectral node
    modes = ("stored", "recompute", "native") if lam == 1.0 else ("torch", "native")
    print(f"RUM λ={lam} N=100 batch {batch}: peak RSS added by one forward+backward (fresh process each)")
    head = " ".join(f"{m + ' MiB':>14}" for m in modes) + " " + " ".join(f"{m + ' s':>12}" for m in modes)
    print(f"{'T':>5} {head}")
    for T in (50, 200, 500):
        row = []
        for mode in modes:
            env = {**os.environ, "ORTHORNN_NATIVE": "1" if mode == "native" else "0"}
            out = subprocess.run(
                [sys.executable, "-c", _PEAK, str(T), mode, str(batch), str(lam)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout.split()
            row.append((float(out[0]), float(out[1])))
        mib = " ".join(f"{r[0]:14.0f}" for r in row)
        sec = " ".join(f"{r[1]:12.2f}" for r in row)
        print(f"{T:>5} {mib} {sec}", flush=True)
    vec = batch * 100 * 4  # one (B, N) float32 vector
    kept = {mode: _graph_bytes_per_step(mode, batch, lam) for mode in modes}
    print("kept by the autograd graph per step (saved storages, growth from T = 10 to 20):")
    for mode, b in kept.items():
        print(f"  {mode}: {b / 2**10:.0f} KiB ({b / vec:.2f} (B, N) float32 vectors)")


class _Packed:
    """A saved tensor held detached (a saved output would otherwise hold its own node: a cycle)."""

    __slots__ = ("__weakref__", "t")

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t.detach()


def _graph_bytes_per_step(mode: str, batch: int, lam: float = 1.0) -> float:
    """Growth per step of the storages the graph of RUM λ (N = 100) holds after the forward
    (``mode``: ``stored`` / ``recompute`` torch step path, or the ``native`` kernel)."""
    import gc
    import weakref

    torch.manual_seed(0)
    rum = RUM(10, 100, lam=lam, memory_efficient=mode == "recompute")
    kept = []
    for T in (10, 20):
        refs = []

        def pack(t: torch.Tensor, refs: list = refs) -> _Packed:
            p = _Packed(t)
            refs.append(weakref.ref(p))
            return p

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda p: p.t), kernels.native(mode == "native"):
            y, state = rum(torch.randn(batch, T, 10))
        gc.collect()
        storages = [p.t.untyped_storage() for p in (r() for r in refs) if p is not None]
        kept.append(sum({s.data_ptr(): s.nbytes() for s in storages}.values()))
        del y, state, storages
    return (kept[1] - kept[0]) / 10


def gemm_floor(T: int, batch: int, n: int, reps: int, device: str) -> None:
    """The GEMMs a λ = 0 RUM iteration cannot avoid, timed alone, against the LSTM iteration.

    Per step: ``addmm(P_t, h, W_hhᵀ)`` forward (B×N by N×2N) and ``∂g W_hh`` backward (B×2N by
    2N×N); once: ``∂W_hh = ∂Gᵀ H`` ((2N × T·B) by (T·B × N)). Interleaved with torch.nn.LSTM N.
    """
    steps = T + 20  # copy task: T + 2S with S = 10
    kw = {"device": device}
    h, W, P = torch.randn(batch, n, **kw), torch.randn(2 * n, n, **kw), torch.randn(batch, 2 * n, **kw)
    G = torch.randn(batch, 2 * n, **kw)
    H, dG = torch.randn(steps * batch, n, **kw), torch.randn(steps * batch, 2 * n, **kw)
    Wt = W.t()

    def floor() -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            torch.addmm(P, h, Wt)
        for _ in range(steps):
            G @ W
        dG.t() @ H
        return time.perf_counter() - t0

    task, x, y = _copy_batch(T, batch, device)
    lstm = make("torch LSTM", n, task.vocab_size, task.n_classes, device)
    tf, tl = interleaved_seconds(floor, _trainer_step(lstm, x, y), reps)
    f, m = statistics.median(tf), statistics.median(tl)
    print(f"RUM λ=0 N={n} GEMM floor (T={T}, batch {batch}): {f:.3f} s; LSTM-{n} iteration {m:.3f} s;", end=" ")
    print(f"ratio {f / m:.2f}")


def fractional(T: int, batch: int, reps: int, device: str) -> None:
    """Issue 12's rows: RUM λ = 0.5 (the spectral node; fixed and learned), λ = 0.75 and the so_power step
    path against RUM λ = 1 at N = 100 and 50, each interleaved with the λ = 1 iteration."""
    torch.manual_seed(0)
    task, x, y = _copy_batch(T, batch, device)
    solver = "native eigen-update" if getattr(kernels, "spectral_update", lambda: None)() else "LAPACK eigen-update"
    print(
        f"copy T={T}, batch {batch}, {reps} timed reps after 1 warm-up (step path: 1 rep, no warm-up), "
        f"interleaved with RUM λ=1 of the same N; threads {torch.get_num_threads()}, device {device}, {solver}"
    )
    print(f"{'model':<26} {'N':>4} {'median s/iter':>14} {'λ=1 s/iter':>11} {'ratio':>6}")
    for n in (100, 50):
        one = _trainer_step(make("RUM λ=1", n, task.vocab_size, task.n_classes, device), x, y)
        # λ = 0.75 forgets more slowly: less of its memory folds (orthornn.nn.rum.deflation)
        for label in ("RUM λ=0.5", "RUM λ=0.5 learned", "RUM λ=0.75", "RUM λ=0.5 step path"):
            model = make(label, n, task.vocab_size, task.n_classes, device)
            step = _trainer_step(model, x, y)
            if label.endswith("step path"):
                tm, tl = [step()], [one()]
            else:
                tm, tl = interleaved_seconds(step, one, reps)
            m, ml = statistics.median(tm), statistics.median(tl)
            print(f"{label:<26} {n:>4} {m:14.3f} {ml:11.3f} {m / ml:6.1f}", flush=True)


def fractional_recall(warmup: int, reps: int, device: str) -> None:
    """RUM λ ∈ {0.5 fixed, 0.5 learned, 0.25, 0.75} against λ = 1 in the recall setting of the
    fractional-λ study, each after ``warmup`` training steps (module docstring)."""
    from orthornn.train import TrainConfig, Trainer

    rows = [("RUM λ=0.5", {"lam": 0.5}), ("RUM λ=0.5 learned", {"lam": 0.5, "learn_lam": True}),
            ("RUM λ=0.25", {"lam": 0.25}), ("RUM λ=0.75", {"lam": 0.75})]  # fmt: skip
    steps = warmup + len(rows) * (reps + 1)  # the λ = 1 trainer's share: a warm-up and reps per row

    def trainer(**kw) -> Trainer:
        cfg = TrainConfig(task="recall", T=30, hidden=50, batch=128, model="rum", rum_init="orthogonal",
                          readout_init="glorot-io", optimizer="adam", lr=1e-3, steps=steps,
                          eval_every=10**9, seed=0, device=device, **kw)  # fmt: skip
        tr = Trainer(cfg)
        for _ in range(warmup):
            tr.train_step()
        return tr

    def timed(tr: Trainer):
        def step() -> float:
            t0 = time.process_time()
            if tr.train_step() is None:
                raise SystemExit(f"the loss or gradient became non-finite ({tr.failure})")
            return time.process_time() - t0

        return step

    print(
        f"recall T=30, N=50, batch 128, Adam 1e-3; each model trained {warmup} steps, then {reps} "
        f"iterations interleaved with RUM λ=1 (CPU s of this process); threads {torch.get_num_threads()}"
    )
    print(f"{'model':<22} {'median s/iter':>14} {'λ=1 s/iter':>11} {'ratio':>6}")
    one = timed(trainer(lam=1.0))
    for label, kw in rows:
        tm, tl = interleaved_seconds(timed(trainer(**kw)), one, reps)
        m, ml = statistics.median(tm), statistics.median(tl)
        print(f"{label:<22} {m:14.3f} {ml:11.3f} {m / ml:6.1f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--memory", action="store_true", help="only the λ = 1 peak-memory table (T = 50, 200, 500)")
    p.add_argument("--floor", action="store_true", help="only the GEMM floor of RUM λ = 0 N = 250 against the LSTM")
    p.add_argument("--fractional", action="store_true", help="only RUM λ = 0.5 against λ = 1 (N = 100, 50)")
    p.add_argument("--fractional-recall", action="store_true", help="fractional λ against λ = 1, trained recall T = 30")
    p.add_argument("--warmup", type=int, default=100, help="--fractional-recall: training steps before timing")
    p.add_argument("--lam", type=float, default=1.0, help="--memory: the λ of the table (default 1)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--T", type=int, default=200)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--only", nargs="*", help="run only these rows (by label prefix)")
    p.add_argument("--flat-loss", action="store_true", help="cross-entropy over the flattened (B·T, C) scores")
    p.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    args = p.parse_args()
    torch.set_num_threads(1)
    # Denormal floats appear in RUM's gates after a few optimiser steps and made an iteration
    # up to 4x slower on this CPU; `orthornn train` flushes them too.
    torch.set_flush_denormal(not args.keep_denormals)
    if args.floor:
        gemm_floor(args.T, args.batch, 250, args.reps, args.device)
        return
    if args.memory:
        peak_memory(args.batch, args.lam)
        return
    if args.fractional:
        fractional(args.T, args.batch, args.reps, args.device)
        return
    if args.fractional_recall:
        fractional_recall(args.warmup, args.reps, args.device)
        return
    torch.manual_seed(0)
    task, x, y = _copy_batch(args.T, args.batch, args.device)
    rows = [  # (label, hidden, target)
        ("RUM λ=0", 250, "≤ 0.5× LSTM-250"),
        ("RUM λ=0 torch ops", 250, "(alternative: no native kernel)"),
        ("RUM λ=0 per-step nodes", 250, "(alternative)"),
        ("RUM λ=1", 100, "≤ 1.0 s, memory flat in T"),
        ("RUM λ=1 torch ops", 100, "(alternative: step path, stored R_t)"),
        ("RUM λ=1 recompute torch ops", 100, "(alternative: step path, recomputed R_t)"),
        ("LT-RNN", 80, "≤ 0.060 s"),
        ("LT-RNN autograd loop", 80, "(alternative)"),
        ("LT-RNN", 128, "≤ 0.100 s"),
        ("LT-RNN autograd loop", 128, "(alternative)"),
    ]
    print(
        f"copy T={args.T}, batch {args.batch}, {args.reps} timed reps after 1 warm-up, each interleaved with "
        f"torch.nn.LSTM N=250 (load changes hit both), threads {torch.get_num_threads()}, device {args.device}"
    )
    print(f"loss: {'flattened (B·T, C)' if args.flat_loss else 'classes in dimension 1'}")
    print(f"{'model':<20} {'N':>4} {'median s/iter':>14} {'LSTM-250 s/iter':>16} {'ratio':>6}  target")
    lstm = make("torch LSTM", 250, task.vocab_size, task.n_classes, args.device)
    lstm_step = _trainer_step(lstm, x, y, args.flat_loss)
    for label, n, target in rows:
        if args.only and not any(label.startswith(o) for o in args.only):
            continue
        model = make(label, n, task.vocab_size, task.n_classes, args.device)
        tm, tl = interleaved_seconds(_trainer_step(model, x, y, args.flat_loss), lstm_step, args.reps)
        m, ml = statistics.median(tm), statistics.median(tl)
        print(f"{label:<20} {n:>4} {m:14.3f} {ml:16.3f} {m / ml:6.2f}  {target}", flush=True)


if __name__ == "__main__":
    main()
