"""Run a reproduction described by a JSON config and write its results and figure.

    OMP_NUM_THREADS=1 python analysis/run_experiment.py analysis/configs/henaff_fig2_copy.json \
        [--out analysis/results/NAME] [--seeds N] [--steps N] [--device auto] [--panels 0 1] \
        [--labels L ...] [--workers N]

A thin caller of :mod:`orthornn.sweep`, the library behind ``orthornn sweep`` (docs/sweep.md):
the config (``base``, ``panels``, ``runs``, ``seeds``) is expanded into its (panel, run, seed)
runs, each trained by its own local Submitit job (``--workers`` at a time) into
``OUT/runs/<panel>_<label>_seed<s>/`` (an ``orthornn train`` folder: config, metrics,
checkpoint, summary), and ``OUT/summary.md`` (final held-out loss/accuracy per run: mean, sd
and range over seeds, against the memoryless baseline) and ``OUT/figure.png`` (held-out loss
against steps, mean and range over seeds, baseline dashed) are written. Run again on the same
OUT it skips finished runs (and the ``runs/*.json`` records earlier versions of this script
wrote, where the config is the same) and continues interrupted ones from their checkpoints.
``--seeds``/``--steps`` shrink a config to what a CPU can afford; the scale actually run is
written into summary.md. ``--reuse`` is accepted and does nothing: reuse is the default now.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from orthornn.sweep import aggregate
from orthornn.sweep.launch import Launch, run_sweep
from orthornn.sweep.plan import expand, load_spec


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--seeds", type=int, help="use only the first N seeds of the config")
    p.add_argument("--steps", type=int, help="override the number of steps")
    p.add_argument("--device", help="override the device (cpu, cuda, auto)")
    p.add_argument("--panels", type=int, nargs="*", help="run only these panel indices")
    p.add_argument("--labels", nargs="*", help="run only these run labels")
    p.add_argument("--workers", type=int, default=1, help="runs trained at a time (default 1)")
    p.add_argument("--reuse", action="store_true", help="accepted for old commands; finished runs are always reused")
    args = p.parse_args()
    spec = load_spec(args.config)
    out = args.out or Path("analysis/results") / spec.name
    overrides = {k: v for k, v in (("steps", args.steps), ("device", args.device)) if v is not None}
    runs = expand(spec, only=args.labels or None, seeds=args.seeds, panels=args.panels, overrides=overrides)
    threads = int(os.environ["OMP_NUM_THREADS"])
    launch = Launch(workers=args.workers, threads=threads)
    result = run_sweep(runs, out, launch, on_event=_print)
    finished = {name for name, status in result.status.items() if status == "finished"}
    records = aggregate.collect(runs, out, finished)
    steps = args.steps or spec.base.get("steps")
    device = args.device or spec.base.get("device", "cpu")
    seeds = list(spec.seeds[: args.seeds] if args.seeds else spec.seeds)
    scale = f"seeds {seeds}, steps {steps}, device {device}, threads {threads}, {args.workers} worker(s)"
    command = "OMP_NUM_THREADS=1 python " + shlex.join(sys.argv)
    text = aggregate.summary_markdown(spec, records, scale=scale, command=command, unfinished=result.unfinished())
    (out / "summary.md").write_text(text, encoding="utf-8")
    if records:
        aggregate.figure(spec, records).savefig(out / "figure.png", dpi=120)
    print(text)
    return 0 if result.ok else 1


def _print(event) -> None:  # type: ignore[no-untyped-def]
    run, c = event.run, event.counts
    what = f": {event.message}" if event.message else ""
    if event.kind == "end" and event.outcome is not None and event.outcome.summary:
        fin = event.outcome.summary["final"] or {}
        acc = f" acc {fin['accuracy']:.3f}" if "accuracy" in fin else ""
        what = f": loss {fin.get('loss', float('nan')):.4f}{acc} in {event.outcome.seconds:.0f} s"
    print(f"[{c.finished + c.failed}/{c.total}] {event.kind} {run.title}{what}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
