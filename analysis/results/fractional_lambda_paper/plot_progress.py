"""The recall T = 30 runs of the fractional-λ grid made so far, side by side: validation
accuracy (the first 20,000 steps) and loss (every step run) against steps, and the learned λ
at each evaluation; writes progress.png here and prints, as markdown tables (the README's come
from them), the validation accuracy of every run at every 1,000 steps to 20,000 and when each
run first reached 30 % (off the plateau), 50 % and 90 %.

The runs: this sweep's folders (the spectral memory for fractional λ; RUM λ = 1 seed 0 is the
run of ../rum_table1_recall_official/, copied here when it ended at step 81,000); seed 1 is drawn dashed.

    python analysis/results/fractional_lambda_paper/plot_progress.py
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from orthornn.plotting import plot_training_curves
from orthornn.sweep.state import read_metrics
from orthornn.tasks import RecallTask

HERE = Path(__file__).resolve().parent
RUNS = {
    "λ = 0.25": HERE / "runs" / "T_30_RUM_lambda=0.25_seed0",
    "λ = 0.25, seed 1": HERE / "runs" / "T_30_RUM_lambda=0.25_seed1",
    "λ = 0.5": HERE / "runs" / "T_30_RUM_lambda=0.5_seed0",
    "λ = 0.5, seed 1": HERE / "runs" / "T_30_RUM_lambda=0.5_seed1",
    "λ = 0.75": HERE / "runs" / "T_30_RUM_lambda=0.75_seed0",
    "λ = 0.75, seed 1": HERE / "runs" / "T_30_RUM_lambda=0.75_seed1",
    "learned λ (from 0.5)": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_seed0",
    "learned λ (from 0.5), seed 1": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_seed1",
    "λ = 1": HERE / "runs" / "T_30_RUM_lambda=1_seed0",
    "λ = 1, seed 1": HERE / "runs" / "T_30_RUM_lambda=1_seed1",
    "λ = 0": HERE / "runs" / "T_30_RUM_lambda=0_seed0",
    "λ = 0, seed 1": HERE / "runs" / "T_30_RUM_lambda=0_seed1",
    "LSTM": HERE / "runs" / "T_30_LSTM_seed0",
    "LSTM, seed 1": HERE / "runs" / "T_30_LSTM_seed1",
}
ZOOM = 20_000  # the accuracy panel's and the table's last step


def evaluations(folder: Path) -> list[dict]:
    """The evaluation records of a run folder's metrics.jsonl (a torn last line dropped)."""
    return [rec for rec in read_metrics(folder / "metrics.jsonl") if rec.get("kind") == "eval"]


def load(runs: dict[str, Path], last: int | None = None) -> dict[str, list[dict]]:
    """The evaluation records of every run in ``runs`` (name -> folder), to step ``last`` where
    given; runs not started, or with no evaluation in that range, are left out."""
    evals = {name: evaluations(folder) for name, folder in runs.items() if (folder / "metrics.jsonl").exists()}
    evals = {name: [e for e in ev if last is None or e["step"] <= last] for name, ev in evals.items()}
    return {name: ev for name, ev in evals.items() if ev}


def plot_accuracy(ax, evals: dict[str, list[dict]], T: int = 30) -> None:
    """Validation accuracy (%) against steps, one line per run; chance (10 %) and the key-blind
    optimum of recall at ``T`` (:attr:`orthornn.tasks.RecallTask.key_blind_accuracy`, the
    plateau) marked."""
    plot_training_curves(
        {name: ([e["step"] for e in ev], [100 * e["accuracy"] for e in ev]) for name, ev in evals.items()},
        ax,
        baseline=10.0,
        baseline_label="chance (10 %)",
        ylabel="validation accuracy (%), 10,000 sequences",
    )
    blind = 100 * RecallTask(T).key_blind_accuracy
    ax.axhline(blind, color="grey", lw=1.0, ls="-.", label=f"key-blind optimum ({blind:.1f} %)")


def accuracy_figure(evals: dict[str, list[dict]], path: Path, title: str, T: int = 30) -> None:
    """One panel of :func:`plot_accuracy` (recall at ``T``) titled ``title``, saved to ``path``;
    the figure of the comparisons that reuse this grid's tables."""
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    plot_accuracy(ax, evals, T=T)
    ax.set_xlabel("optimiser step")
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_loss(ax, evals: dict[str, list[dict]], *, baseline_label: str, ylabel: str = "validation loss") -> None:
    """Validation loss against steps on a log axis, one line per run; the memoryless baseline the
    runs' evaluations record, labelled ``baseline_label``."""
    plot_training_curves(
        {name: ([e["step"] for e in ev], [e["loss"] for e in ev]) for name, ev in evals.items()},
        ax,
        baseline=next(iter(evals.values()))[0]["baseline"],
        baseline_label=baseline_label,
        ylabel=ylabel,
        logy=True,
    )


def plot_learned_lam(ax, evals: dict[str, list[dict]], runs: dict[str, Path]) -> None:
    """The learned λ at each evaluation of the runs that learn it, from its start (the run's
    config) at step 0."""
    learned = {name: ev for name, ev in evals.items() if "learned_lam" in ev[0]}
    start = {name: json.loads((runs[name] / "config.json").read_text())["lam"] for name in learned}
    plot_training_curves(
        {
            name: ([0] + [e["step"] for e in ev], [start[name]] + [e["learned_lam"] for e in ev])
            for name, ev in learned.items()
        },
        ax,
        ylabel="learned λ (step 0: its start)",
    )


def table(evals: dict[str, list[dict]], last: int = ZOOM, stride: int = 1000, digits: int = 1) -> str:
    """Validation accuracy (%, ``digits`` decimals) of every run at every ``stride`` steps to
    ``last``; — where not run."""
    names = list(evals)
    by_step = [{e["step"]: e for e in ev} for ev in evals.values()]
    rows = ["| step | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for step in range(stride, last + 1, stride):
        at = [run.get(step) for run in by_step]
        cells = [f"{100 * e['accuracy']:.{digits}f}" if e else "—" for e in at]
        rows.append(f"| {step:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def milestones(evals: dict[str, list[dict]]) -> str:
    """Per run: the steps trained, the first evaluation at or above 30 % (off the plateau), 50 %
    and 90 % validation accuracy, and the best one; — where not reached in the steps run."""
    rows = [
        "| run | last evaluation | first ≥ 30 % | first ≥ 50 % | first ≥ 90 % | best validation (step) |",
        "|---|---|---|---|---|---|",
    ]
    for name, ev in evals.items():
        first = [next((f"{e['step']:,}" for e in ev if e["accuracy"] >= level), "—") for level in (0.3, 0.5, 0.9)]
        best = max(ev, key=lambda e: e["accuracy"])
        cells = [f"{ev[-1]['step']:,}", *first, f"{100 * best['accuracy']:.2f} % ({best['step']:,})"]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def restyle(axes, suffixes: dict[str, str]) -> None:
    """Give every line whose label is another line's plus one of ``suffixes`` (", seed 1", say)
    that line's colour (as drawn in ``axes[0]``) and the suffix's linestyle, in every axis, so
    that a λ keeps its colour across panels, seeds and setups."""
    colours = {line.get_label(): line.get_color() for line in axes[0].get_lines()}
    for ax in axes:
        for line in ax.get_lines():
            name = line.get_label()
            for suffix, style in suffixes.items():
                if name.endswith(suffix) and name.removesuffix(suffix) in colours:
                    line.set_linestyle(style)
                    name = name.removesuffix(suffix)
            if name in colours:
                line.set_color(colours[name])


def main() -> None:
    evals = load(RUNS)
    fig = Figure(figsize=(16, 4.2))
    acc, loss, lam = fig.subplots(1, 3)
    plot_accuracy(acc, evals)
    acc.set_xlim(0, ZOOM)
    plot_loss(loss, evals, baseline_label="chance (ln 10)")
    blind_loss = RecallTask(30).key_blind_loss
    loss.axhline(blind_loss, color="grey", lw=1.0, ls="-.", label=f"key-blind optimum ({blind_loss:.3f})")
    plot_learned_lam(lam, evals, RUNS)
    # a λ keeps its colour in every panel and across seeds; seed 1 is dashed
    restyle((acc, loss, lam), {", seed 1": "--"})
    for ax in (acc, loss, lam):
        ax.legend(fontsize="x-small")
        ax.set_xlabel("optimiser step")
        ax.set_title("RUM recall T = 30, N = 50, batch 128, Adam 1e-3 (seed 0 unless said)", fontsize="small")
    fig.tight_layout()
    fig.savefig(HERE / "progress.png", dpi=120)
    print(table(evals))
    print()
    print(milestones(evals))


if __name__ == "__main__":
    main()
