r"""A sweep's results over seeds: the ``summary.md`` table and the figure.

For each (panel, run) the finished seeds' final held-out losses :math:`\ell_1, \dots, \ell_n`
are reported as mean, sample standard deviation and range,

.. math:: \bar\ell = \frac1n \sum_i \ell_i, \qquad
          s = \sqrt{\tfrac{1}{n-1} \textstyle\sum_i (\ell_i - \bar\ell)^2}, \qquad [\min_i \ell_i, \max_i \ell_i],

(the accuracy likewise), against the task's memoryless baseline; the figure draws each run's
held-out loss against steps, the mean over seeds as a line and the range as a band, one panel
per figure panel. Nothing here writes a file: :func:`summary_markdown` returns the text and
:func:`figure` a :class:`matplotlib.figure.Figure`.

At an equal budget of :math:`K` steps (:func:`summary_at_markdown`, ``orthornn sweep
--summary-only --at-step K``) the same statistics are taken over each seed's *validation*
evaluation at step :math:`K` (:func:`eval_at`) instead of its final test, so that runs paused at
``--until-step K``, runs trained past it and finished ones are compared at the same point; the
figure is cut at :math:`K`.

Examples
--------
>>> spread([0.1, 0.3])
'0.2000 ± 0.1414 [0.1000, 0.3000]'
>>> spread([0.5]), spread([])
('0.5000 [0.5000, 0.5000]', '—')
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .plan import Run, Spec
from .state import read_record

__all__ = ["collect", "eval_at", "figure", "spread", "summary_at_markdown", "summary_markdown"]

Records = dict[tuple[int, str], list[dict[str, Any]]]


def spread(values: Sequence[float]) -> str:
    """``mean ± sd [min, max]`` (no sd of one value; ``—`` of none)."""
    if not values:
        return "—"
    sd = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.4f}{sd} [{min(values):.4f}, {max(values):.4f}]"


def collect(runs: Sequence[Run], out: str | Path, finished: set[str] | None = None) -> Records:
    """The records (:func:`~orthornn.sweep.state.read_record`) of the finished runs, keyed by
    (panel index, label) in the plan's order; ``finished``: the names to read (default all)."""
    records: Records = {}
    for run in runs:
        if finished is not None and run.name not in finished:
            continue
        rec = read_record(Path(out) / "runs" / run.name)
        records.setdefault((run.panel_index, run.label), []).append(rec)
    return records


def eval_at(record: Mapping[str, Any], step: int) -> dict[str, Any] | None:
    """A run's held-out evaluation at step ``step``: the one recorded at that step; for a
    finished run that ended before it (stopped early, or a smaller budget), its last; None for a
    run that has not reached it (or evaluates at other steps)."""
    evals = record["evals"]
    for e in evals:
        if e["step"] == step:
            return dict(e)
    if record["summary"] is not None and evals and evals[-1]["step"] < step:
        return dict(evals[-1])
    return None


def summary_at_markdown(
    spec: Spec,
    records: Records,
    step: int,
    *,
    scale: str,
    short: Sequence[tuple[Run, str]] = (),
) -> str:
    """The ``summary.md`` of a sweep at an equal budget of ``step`` steps: one table row per
    (panel, run) over the seeds with an evaluation there (:func:`eval_at`; ``records`` holds
    only those), its validation loss and accuracy, the best validation accuracy up to it; then
    the runs ``short`` of it (run, where it stands) and the learned λ at it."""
    lines = [f"# {spec.name}: at step {step:,}", "", spec.paper, "", f"Scale run: {scale}.", ""]
    lines += [
        f"Every run at its validation evaluation at step {step:,} (a run that finished before it: at its "
        "last evaluation, counted under *ended before*), whatever its budget or where it stands now.",
        "",
        f"| panel | run | seeds | validation loss at {step:,} (mean ± sd [min, max]) | "
        f"validation accuracy at {step:,} | best validation accuracy to {step:,} | baseline | below baseline | "
        "ended before |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (pi, label), recs in records.items():
        at: list[dict[str, Any]] = []
        for r in recs:
            e = eval_at(r, step)
            if e is None:
                raise ValueError(f"{label}, seed {r['config']['seed']}: no evaluation at step {step}")
            at.append(e)
        losses = [e["loss"] for e in at]
        accs = [e["accuracy"] for e in at if "accuracy" in e]
        best = [max(e["accuracy"] for e in r["evals"] if e["step"] <= step) for r in recs if "accuracy" in at[0]]
        below = sum(bool(e["beats_baseline"]) for e in at)
        ended = sum(e["step"] < step for e in at)
        lines.append(
            f"| {json.dumps(spec.panels[pi])} | {label} | {len(recs)} | {spread(losses)} | {spread(accs)} | "
            f"{spread(best)} | {at[0]['baseline']:.4f} | {below}/{len(at)} | {ended} |"
        )
    if short:
        lines += ["", f"Short of step {step:,} ({len(short)}; not in the table):", ""]
        lines += [f"* {run.title}: {where}" for run, where in short]
    learned = [(label, r) for (_, label), recs in records.items() for r in recs if r.get("learned_lam")]
    if learned:
        lines += ["", f"Learned λ (at the evaluations to step {step:,}):", ""]
        for label, r in learned:
            curve = ", ".join(f"{lam:.3f}" for s, lam in r["learned_lam"] if s <= step)
            lines.append(f"* {label}, seed {r['config']['seed']}: start {r['config']['lam']}, then {curve}")
    return "\n".join(lines) + "\n"


def summary_markdown(
    spec: Spec,
    records: Records,
    *,
    scale: str,
    command: str | None = None,
    unfinished: Sequence[tuple[Run, str, str]] = (),
) -> str:
    """The ``summary.md`` of a sweep: the config's name and paper, the scale run, the command,
    one table row per (panel, run) over its finished seeds, the runs that did not finish, and
    the learned λ of any run that learned it."""
    lines = [f"# {spec.name}", "", spec.paper, "", f"Scale run: {scale}.", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [
        "| panel | run | seeds | final held-out loss (mean ± sd [min, max]) | accuracy (mean ± sd [min, max]) | "
        "baseline | below baseline | wall s/run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (pi, label), recs in records.items():
        finals = [r["summary"]["final"] for r in recs if r["summary"]["final"]]
        losses = [f["loss"] for f in finals]
        accs = [f["accuracy"] for f in finals if "accuracy" in f]
        walls = [r["summary"]["wall_seconds"] for r in recs]
        below = sum(bool(f["beats_baseline"]) for f in finals)
        stopped = sum(r["summary"].get("stopped") is not None for r in recs)
        note = f" ({stopped} stopped early)" if stopped else ""
        lines.append(
            f"| {json.dumps(spec.panels[pi])} | {label} | {len(recs)}{note} | {spread(losses)} | {spread(accs)} | "
            f"{recs[0]['summary']['baseline']:.4f} | {below}/{len(finals)} | {statistics.mean(walls):.0f} |"
        )
    if unfinished:
        lines += ["", f"Not finished ({len(unfinished)}; not in the table):", ""]
        lines += [f"* {run.title}: {status}{': ' + message if message else ''}" for run, status, message in unfinished]
    learned = [(label, r) for (_, label), recs in records.items() for r in recs if r.get("learned_lam")]
    if learned:
        lines += ["", "Learned λ (at the evaluations):", ""]
        for label, r in learned:
            curve = ", ".join(f"{lam:.3f}" for _, lam in r["learned_lam"])
            lines.append(f"* {label}, seed {r['config']['seed']}: start {r['config']['lam']}, then {curve}")
    return "\n".join(lines) + "\n"


def figure(spec: Spec, records: Mapping[tuple[int, str], list[dict[str, Any]]], upto: int | None = None) -> Any:
    """Held-out loss against steps, one axes per panel: each run's mean over seeds (a line) and
    range (a band), the memoryless baseline dashed; only the evaluations at steps ``<= upto``
    when given. A :class:`matplotlib.figure.Figure`."""
    if upto is not None:
        records = {key: [{**r, "evals": [e for e in r["evals"] if e["step"] <= upto]} for r in recs]
                   for key, recs in records.items()}  # fmt: skip
    from matplotlib.figure import Figure

    from ..plotting import plot_training_curves

    used = sorted({pi for pi, _ in records}) or [0]
    fig = Figure(figsize=(5 * len(used), 3.6))
    axes = fig.subplots(1, len(used), squeeze=False)[0]
    for ax, pi in zip(axes, used, strict=True):
        curves, bands, baseline = {}, {}, None
        for (pj, label), recs in records.items():
            if pj != pi or not all(r["evals"] for r in recs):
                continue
            n = min(len(r["evals"]) for r in recs)  # a seed that stopped early has fewer evaluations
            steps = [e["step"] for e in recs[0]["evals"][:n]]
            per_step = [[r["evals"][i]["loss"] for r in recs] for i in range(n)]
            name = f"{label} ({len(recs)} seed{'s' if len(recs) > 1 else ''})"
            curves[name] = (steps, [statistics.mean(v) for v in per_step])
            bands[name] = (steps, [min(v) for v in per_step], [max(v) for v in per_step])
            baseline = recs[0]["evals"][0]["baseline"]  # each evaluation records it: paused runs too
        if curves:
            plot_training_curves(curves, ax, baseline=baseline, ylabel="held-out loss")
            for line, (steps, lo, hi) in zip(ax.lines, bands.values(), strict=False):
                ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        to = "" if upto is None else f" to step {upto:,}"
        ax.set_title(f"{spec.name} {json.dumps(spec.panels[pi])}{to}", fontsize="small")
    fig.tight_layout()
    return fig
