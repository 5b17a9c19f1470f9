"""``orthornn report [--out DIR] [--budget small|full] [--device auto|cpu|cuda]`` — the main job.

Runs the theorems, the Henaff Figure 1 grid, the trainings of the budget, the spectral
comparison of the trained LT-ORNN transition with the explicit clock solution and the RUM
memory phases (:func:`orthornn.report.run_report`), then writes into DIR:

* ``index.html`` — every table and figure, self-contained (figures are PNG files beside it);
* ``report.json`` — every number: proofs, the Figure 1 grid, each training's summary, the
  spectral statistics, the figure list and each stage's status;
* one PNG per figure (``figure1.png``, ``training_curves.png``, ``spectrum_comparison.png``, …).

Progress goes to stderr, one line per stage (``[3/8] training ltrnn on copy … 12.3 s``), and on
a terminal a bar of the stages with the time left.
Exit status: 0 when every stage and figure succeeded, 1 when one failed (the report is still
written, the failure shown in red), 2 on bad arguments. ``--budget tiny`` exists for the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..report.data import Stage
from ..report.plan import BUDGETS
from ..symbolic import default_theorems
from .henaff import plot_figure1
from .progress import progress_bar
from .usage import UsageError, check_folder, path_arg, writing

__all__ = ["register", "run"]

_DEVICES = ("auto", "cpu", "cuda")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="run proofs, Henaff Figure 1, trainings and spectra; write DIR/index.html and DIR/report.json",
        description=(
            "The main job: prove the theorems, reproduce Henaff et al.'s Figure 1, train LT-RNNs and RUMs, "
            "compare the trained transition's spectrum with the explicit clock; write an HTML report."
        ),
    )
    p.add_argument(
        "--out", type=path_arg, default=Path("report"), metavar="DIR", help="output folder (default report/)"
    )
    p.add_argument(
        "--budget",
        default="small",
        choices=list(BUDGETS),
        metavar="BUDGET",
        help="small (CPU, minutes; default), full (the papers' scales, for a GPU) or tiny (tests only)",
    )
    p.add_argument("--device", default="auto", choices=_DEVICES, metavar="DEV", help="auto (default), cpu or cuda")
    p.add_argument(
        "--proofs-root",
        type=path_arg,
        metavar="DIR",
        help="folder holding proofs/ (default: the working directory if it has one, else the shipped theorems)",
    )
    p.set_defaults(handler=run)


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available")
    return name


class _Progress:
    """``[i/n] title … 12.3 s (CPU 4.1 s)`` on stderr, one line per stage; a failed stage adds
    its error. On a terminal a bar of the stages (with the time left) runs below those lines."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, i: int, n: int, stage: Stage) -> None:
        if self.bar is None:
            self.bar = progress_bar(n, desc="report", unit="stage")
        head = f"[{i}/{n}] {stage.title} … "
        if stage.status == "ok":
            result = f"{stage.seconds:.1f} s (CPU {stage.cpu_seconds or 0.0:.1f} s)"
        else:
            result = f"FAILED after {stage.seconds:.1f} s: {stage.error}"
        if self.bar.disable:  # a log: the head when a stage starts, its result when it ends
            print(head if stage.status == "running" else result, end="" if stage.status == "running" else "\n",
                  file=sys.stderr, flush=True)  # fmt: skip
        elif stage.status == "running":
            self.bar.set_description_str(f"[{i}/{n}] {stage.title}")
        else:
            self.bar.write(head + result, file=sys.stderr)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _proofs_root(given: Path | None) -> Path:
    """``given``; else the folder holding the default theorems: ./proofs, else the shipped ones."""
    if given is not None:
        return given
    return default_theorems().parent


def run(args: argparse.Namespace) -> int:
    """Run the report and write it; 0 iff every stage and figure succeeded."""
    t0 = time.perf_counter()
    out: Path = args.out
    check_folder(out, "--out")
    if args.proofs_root is not None and not args.proofs_root.is_dir():
        raise UsageError(f"--proofs-root {args.proofs_root}: not a folder")
    root = _proofs_root(args.proofs_root)
    device = _device(args.device)

    import matplotlib

    matplotlib.use("Agg")
    import torch

    from ..report import FigureRecord, budget, render_html, run_report
    from ..report.figures import FIGURES

    if device == "cpu":  # two OpenMP threads on a shared small CPU are far slower than one
        torch.set_num_threads(1)
    plan = budget(args.budget)
    with writing(out, "--out"):
        out.mkdir(exist_ok=True)
    print(f"orthornn report: budget {plan.name} on {device}, writing {out}/", file=sys.stderr, flush=True)
    progress = _Progress()
    try:
        report = run_report(plan, device=device, root=root, progress=progress)
    finally:
        progress.close()

    figures: list[FigureRecord] = []
    s = report.stage("figure1")
    caption1 = (
        "Success rate of Henaff et al.'s random copy construction over alphabet size K and length S "
        "(heatmap, and one line per K); Figure 1 of the paper."
    )
    for name in ["figure1.png", *(spec.name for spec in FIGURES)]:
        with writing(out / name, "--out"):
            (out / name).unlink(missing_ok=True)  # no stale figure from an earlier run survives a failure
    try:
        if s is None or s.status != "ok":
            raise RuntimeError("stage 'figure1' failed; nothing to draw")
        plot_figure1(s.artifacts["figure1"], out / "figure1.png")
        figures.append(FigureRecord("figure1.png", "figure1", caption1))
    except Exception as exc:
        figures.append(FigureRecord("figure1.png", "figure1", caption1, "failed", _last_line(exc)))
    for spec in FIGURES:
        if spec.section != "trainings" and report.stage(spec.section) is None:
            continue  # the budget does not plan that stage (e.g. no RUM memory run)
        try:
            fig = spec.build(report)
            fig.savefig(out / spec.name, dpi=100)
            figures.append(FigureRecord(spec.name, spec.section, spec.caption))
        except Exception as exc:
            figures.append(FigureRecord(spec.name, spec.section, spec.caption, "failed", _last_line(exc)))
    report.figures = figures
    for f in figures:
        if f.status != "ok":
            print(f"figure {f.name} FAILED: {f.error}", file=sys.stderr)

    _write(out / "report.json", json.dumps(report.to_json(), indent=1) + "\n")
    _write(out / "index.html", render_html(report))
    failed = [st.key for st in report.stages if st.status != "ok"] + [f.name for f in figures if f.status != "ok"]
    verdict = "all stages succeeded" if not failed else f"FAILED: {', '.join(failed)}"
    wall, cpu = time.perf_counter() - t0, time.process_time()
    print(
        f"orthornn report: {wall:.1f} s wall, {cpu:.1f} s CPU (imports and figures included), {verdict}; "
        f"wrote {out / 'index.html'} and {out / 'report.json'}"
    )
    return 0 if not failed else 1


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with writing(path, "--out"):
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
