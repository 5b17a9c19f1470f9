"""``orthornn sweep CONFIG.json --out DIR [--launcher local|slurm] [--workers N] [--only LABEL ...] …``.

Trains every (panel, run, seed) of an analysis config (:mod:`orthornn.sweep.plan`), each an
``orthornn train`` run in ``DIR/runs/<name>/``, through Submitit: on this machine's cores
(``--launcher local``, ``--workers`` at a time) or as a SLURM job array (``--launcher slurm``).
Started again on the same DIR it skips the finished runs and continues the interrupted ones
from their checkpoints. Prints one line per run as it starts, ends or fails, with the running
count; at the end writes ``DIR/summary.md`` and ``DIR/figure.png`` (mean and spread over
seeds). With ``--until-step K`` each run trains to step K at most this time and pauses there,
resumable (an equal step budget across a grid, continued later by the same command with a
larger K, or without it). Exit status 0 when every run finished (or paused at K), 1 when one
failed or was interrupted (the others still ran), 2 on bad usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .usage import UsageError, check_folder, path_arg, writing

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sweep`` subcommand."""
    p = sub.add_parser(
        "sweep",
        help="train every (panel, run, seed) of an analysis config, locally or on SLURM; resumable",
        description=(
            "Train every (panel, run, seed) of an analysis config (analysis/configs/*.json) through Submitit: "
            "on this machine (--launcher local, --workers at a time) or as a SLURM job array. Started again on "
            "the same --out it skips finished runs and continues interrupted ones from their checkpoints. "
            "Exit 0 when every run finished (or paused at --until-step), 1 when one failed or was interrupted."
        ),
    )
    a = p.add_argument
    a("config", type=path_arg, metavar="CONFIG", help="the sweep config (JSON: name, base, panels, runs, seeds)")
    a("--out", type=path_arg, metavar="DIR", required=True, help="the sweep's folder (runs/, summary.md, figure.png)")
    a("--launcher", choices=["local", "slurm"], default="local", help="local (default) or slurm")
    a("--workers", type=int, metavar="N", help="runs at a time (local: default 1; slurm: default no limit)")
    a("--slurm-partition", metavar="P", help="slurm: the partition")
    a("--slurm-gpus-per-run", type=int, metavar="G", help="slurm: GPUs of each run's job")
    a("--slurm-time", type=int, metavar="MIN", help="slurm: time limit of each job in minutes (default 60; requeued)")
    a("--only", nargs="+", metavar="LABEL", help="train only the runs with these labels")
    a("--seeds", type=int, metavar="N", help="train only the first N seeds of the config")
    a("--until-step", type=int, metavar="K",
      help="train each run to step K at most, this time: it pauses there with a checkpoint (no test, "
           "no summary) and the same command with a larger K, or without it, continues it")  # fmt: skip
    a("--dry-run", action="store_true", help="print what each run would do, and stop (writes nothing)")
    a("--summary-only", action="store_true",
      help="train nothing: write summary.md and figure.png of the runs finished so far")  # fmt: skip
    a("--at-step", type=int, metavar="K",
      help="with --summary-only: tabulate every run, finished or not, at its validation evaluation at step K "
           "(an equal budget: runs paused at --until-step K, trained past it, or finished), and list those "
           "short of it")  # fmt: skip
    p.set_defaults(handler=run)


def _command(args: argparse.Namespace) -> str:
    """The command as one shell line (for summary.md)."""
    words = ["orthornn", "sweep", str(args.config), "--out", str(args.out)]
    if args.launcher != "local":
        words += ["--launcher", args.launcher]
    for flag in ("workers", "slurm_partition", "slurm_gpus_per_run", "slurm_time", "seeds", "until_step"):
        if getattr(args, flag) is not None:
            words += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.only:
        words += ["--only", *args.only]
    return shlex.join(words)


def _line(event: Any) -> str:
    """One progress line: ``[finished/total] kind  run: what (running count)``."""
    c, run = event.counts, event.run
    what = ""
    if event.kind == "start":
        what = f" (attempt {event.attempt})" if event.attempt > 1 else ""
    elif event.kind == "end" and event.outcome is not None and event.outcome.summary:
        s = event.outcome.summary
        fin = s.get("final") or {}
        acc = f" acc {fin['accuracy']:.3f}" if "accuracy" in fin else ""
        loss = f"loss {fin['loss']:.4f}{acc} (baseline {s['baseline']:.4f})" if fin else "no evaluation"
        resumed = f", resumed at step {event.outcome.resumed_from}" if event.outcome.resumed_from else ""
        stopped = f", stopped: {s['stopped']}" if s.get("stopped") else ""
        what = f": {loss} in {event.outcome.seconds:.0f} s{resumed}{stopped}"
    elif event.kind == "skip":
        what = f": {event.message}" if event.message else ": finished before"
    elif event.kind == "pause" and event.outcome is not None:
        resumed = f", resumed at step {event.outcome.resumed_from}" if event.outcome.resumed_from else ""
        what = f": {event.message} in {event.outcome.seconds:.0f} s{resumed}"
    elif event.message:
        what = f": {event.message}"
    paused = f"{c.paused} paused, " if c.paused else ""
    tally = f"{c.finished} finished, {paused}{c.failed} failed, {c.running} running, {c.waiting} waiting"
    return f"[{c.finished + c.paused + c.failed}/{c.total}] {event.kind:<11} {run.title}{what}  ({tally})"


def run(args: argparse.Namespace) -> int:
    """Run the sweep; 0 when every run finished, 1 when one did not."""
    from ..errors import OrthornnError
    from ..sweep.launch import Launch
    from ..sweep.plan import expand, load_spec

    try:
        spec = load_spec(args.config)
    except OrthornnError as exc:
        raise UsageError(f"CONFIG {exc}") from None
    try:
        launch = Launch(
            launcher=args.launcher,
            workers=args.workers,
            partition=args.slurm_partition,
            gpus_per_run=args.slurm_gpus_per_run,
            time_min=args.slurm_time,
            until_step=args.until_step,
        )
        runs = expand(spec, only=args.only, seeds=args.seeds)
    except OrthornnError as exc:
        raise UsageError(str(exc)) from None
    check_folder(args.out, "--out")
    if args.dry_run and args.summary_only:
        raise UsageError("--dry-run and --summary-only: give one of them")
    if args.summary_only and args.until_step is not None:
        raise UsageError("--summary-only trains nothing: --until-step has no meaning with it")
    if args.at_step is not None and not args.summary_only:
        raise UsageError("--at-step tabulates what was trained: give it with --summary-only")
    if args.at_step is not None and args.at_step < 1:
        raise UsageError(f"--at-step must be a step >= 1, not {args.at_step}")
    if args.dry_run:
        return _dry_run(runs, args.out, args.until_step)
    if args.summary_only and args.at_step is not None:
        return _summary_at(spec, runs, launch, args)
    if args.summary_only:
        return _summary_only(spec, runs, launch, args)
    return _sweep(spec, runs, launch, args)


def _dry_run(runs: list[Any], out: Path, until: int | None) -> int:
    from ..sweep.state import run_status

    words = {
        "new": "train",
        "finished": "skip (finished)",
        "legacy": "skip (finished, a run_experiment.py record)",
        "resumable": "resume from step {step}",
        "failed": "try again (failed: {message})",
        "stale": "train afresh (its folder holds another run: {message})",
    }
    for run in runs:
        st = run_status(out / "runs" / run.name, run.config)
        what = words[st.kind].format(step=st.step, message=st.message)
        if st.at(until):
            what = f"skip (at step {st.step}, not before --until-step {until})"
        elif until is not None and st.kind not in ("finished", "legacy") and until < run.config.steps:
            what += f", to step {until} (pause there)"
        print(f"{run.title}: {what}  [{out / 'runs' / run.name}]")
    print(f"{len(runs)} runs; nothing was written (--dry-run)")
    return 0


def _summary_only(spec: Any, runs: list[Any], launch: Any, args: argparse.Namespace) -> int:
    """summary.md and figure.png of the runs finished so far; the others listed where they stand."""
    from ..sweep.state import run_status

    finished, unfinished = set(), []
    for run in runs:
        st = run_status(args.out / "runs" / run.name, run.config)
        if st.kind in ("finished", "legacy"):
            finished.add(run.name)
        else:
            where = {"new": "not started", "resumable": f"checkpoint at step {st.step}"}.get(st.kind, st.kind)
            unfinished.append((run, where, st.message or ""))
    _write_summary(spec, runs, launch, args, finished, unfinished)
    return 0


def _summary_at(spec: Any, runs: list[Any], launch: Any, args: argparse.Namespace) -> int:
    """summary.md and figure.png of every run at its evaluation at step ``--at-step``."""
    from ..sweep.aggregate import collect, eval_at, figure, summary_at_markdown
    from ..sweep.state import read_record, run_status

    out: Path = args.out
    step: int = args.at_step
    present, short = set(), []
    for run in runs:
        st = run_status(out / "runs" / run.name, run.config)
        if st.kind in ("finished", "legacy", "resumable"):
            rec = read_record(out / "runs" / run.name)
            if eval_at(rec, step) is not None:
                present.add(run.name)
                continue
            evals = [e["step"] for e in rec["evals"]]
            where = f"last evaluation at step {evals[-1]}" if evals else "no evaluation yet"
            short.append((run, where if st.kind != "resumable" else f"{where}, checkpoint at step {st.step}"))
        else:
            short.append((run, {"new": "not started"}.get(st.kind, f"{st.kind}: {st.message}")))
    records = collect(runs, out, present)
    seeds = sorted({r.seed for r in runs})
    devices = sorted({r.config.device for r in runs})
    budgets = ", ".join(map(str, sorted({r.config.steps for r in runs})))
    scale = (
        f"seeds {seeds}, compared at step {step:,} (budgets {budgets}), "
        f"device {', '.join(devices)}, {launch.threads} thread per run; tabulated by --summary-only --at-step {step}"
    )
    with writing(out / "summary.md", "--out"):
        text = summary_at_markdown(spec, records, step, scale=scale, short=short)
        (out / "summary.md").write_text(text, encoding="utf-8")
    if records:
        with writing(out / "figure.png", "--out"):
            figure(spec, records, upto=step).savefig(out / "figure.png", dpi=120)
    written = f"{out / 'summary.md'}" + (f", {out / 'figure.png'}" if records else "")
    print(f"{len(present)}/{len(runs)} runs at step {step}, {len(short)} short of it; {written}")
    return 0


def _sweep(spec: Any, runs: list[Any], launch: Any, args: argparse.Namespace) -> int:
    from ..sweep.launch import run_sweep

    out: Path = args.out
    print(f"{spec.name}: {len(runs)} runs into {out} ({launch.launcher}, {_workers(launch)})", flush=True)
    try:
        with writing(out, "--out"), _stopped_by_signals():
            result = run_sweep(runs, out, launch, on_event=lambda event: print(_line(event), flush=True))
    except KeyboardInterrupt:
        print(f"orthornn sweep: interrupted; the same command continues it from {out}", file=sys.stderr)
        return 130
    finished = {name for name, status in result.status.items() if status == "finished"}
    unfinished = result.unfinished()  # the paused ones too: summary.md lists them where they stand
    _write_summary(spec, runs, launch, args, finished, unfinished, seconds=result.seconds)
    bad = [(run, status, message) for run, status, message in unfinished if status != "paused"]
    for run, status, message in bad:
        print(f"orthornn sweep: {run.title}: {status}: {message}", file=sys.stderr)
    return 1 if bad else 0


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM (and SIGINT, even where a background shell ignores it) stop the sweep as Ctrl-C
    does: :func:`~orthornn.sweep.launch.run_sweep` then cancels its jobs, whose checkpoints stay.
    Killed by SIGTERM's default action, the sweep would leave its local workers training."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _write_summary(
    spec: Any,
    runs: list[Any],
    launch: Any,
    args: argparse.Namespace,
    finished: set[str],
    unfinished: list[Any],
    seconds: float | None = None,
) -> None:
    """Write ``summary.md`` (and ``figure.png``, when a run finished) over the ``finished`` runs."""
    from ..sweep.aggregate import collect, figure, summary_markdown

    out: Path = args.out
    records = collect(runs, out, finished)
    seeds = sorted({r.seed for r in runs})
    steps = sorted({r.config.steps for r in runs})
    devices = sorted({r.config.device for r in runs})
    scale = f"seeds {seeds}, steps {', '.join(map(str, steps))}, device {', '.join(devices)}, "
    if args.summary_only:  # how the runs were launched is not known here, only what they trained
        scale += f"{launch.threads} thread per run; tabulated by --summary-only from the runs finished so far"
        command = None
    else:
        scale += f"{launch.threads} thread per run, {launch.launcher} launcher, {_workers(launch)}"
        if launch.until_step is not None:
            scale += f"; this time each run to step {launch.until_step} at most (--until-step)"
        command = _command(args)
    text = summary_markdown(spec, records, scale=scale, command=command, unfinished=unfinished)
    with writing(out / "summary.md", "--out"):
        (out / "summary.md").write_text(text, encoding="utf-8")
    if records:
        with writing(out / "figure.png", "--out"):
            figure(spec, records).savefig(out / "figure.png", dpi=120)
    written = f"{out / 'summary.md'}" + (f", {out / 'figure.png'}" if records else "")
    took = "" if seconds is None else f" in {seconds:.0f} s"
    paused = sum(status == "paused" for _, status, _ in unfinished)
    also = f", {paused} paused at --until-step {launch.until_step}" if paused else ""
    print(f"{len(finished)}/{len(runs)} runs finished{also}{took}; {written}")


def _workers(launch: Any) -> str:
    if launch.workers is None:
        return "1 worker" if launch.launcher == "local" else "no limit on runs at a time"
    return f"{launch.workers} worker{'s' if launch.workers > 1 else ''}"
