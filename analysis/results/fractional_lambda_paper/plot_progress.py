"""Validation accuracy and loss against steps of the recall T = 30 runs made so far: RUM λ = 0.5
and RUM with a learned λ started at 0.5 (this sweep, the spectral memory) and RUM λ = 1
(../rum_table1_recall_official/, the same training setup), read from their metrics.jsonl, and
the learned λ at each evaluation; writes progress.png here.

    python analysis/results/fractional_lambda_paper/plot_progress.py
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from orthornn.plotting import plot_training_curves

HERE = Path(__file__).resolve().parent
RUNS = {
    "RUM λ = 0.5 (spectral)": HERE / "runs" / "T_30_RUM_lambda=0.5_seed0",
    "RUM learned λ (from 0.5)": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_seed0",
    "RUM λ = 1": HERE.parent / "rum_table1_recall_official" / "runs" / "T_30_RUM_lambda=1_seed0",
}


def evaluations(folder: Path) -> list[dict]:
    """The evaluation records of a run folder's metrics.jsonl (a torn last line dropped)."""
    out = []
    for line in (folder / "metrics.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("kind") == "eval":
            out.append(rec)
    return out


def main() -> None:
    evals = {name: evaluations(folder) for name, folder in RUNS.items() if (folder / "metrics.jsonl").exists()}
    fig = Figure(figsize=(15, 3.6))
    acc, loss, lam = fig.subplots(1, 3)
    plot_training_curves(
        {name: ([e["step"] for e in ev], [100 * e["accuracy"] for e in ev]) for name, ev in evals.items()},
        acc,
        baseline=10.0,
        baseline_label="chance (10 %)",
        ylabel="validation accuracy (%), 10,000 sequences",
    )
    plot_training_curves(
        {name: ([e["step"] for e in ev], [e["loss"] for e in ev]) for name, ev in evals.items()},
        loss,
        baseline=evals["RUM λ = 1"][0]["baseline"],
        ylabel="validation loss",
        logy=True,
    )
    learned = {name: ev for name, ev in evals.items() if ev and "learned_lam" in ev[0]}
    start = {name: json.loads((RUNS[name] / "config.json").read_text())["lam"] for name in learned}
    plot_training_curves(
        {
            name: ([0] + [e["step"] for e in ev], [start[name]] + [e["learned_lam"] for e in ev])
            for name, ev in learned.items()
        },
        lam,
        ylabel="learned λ (step 0: its start)",
    )
    colours = {line.get_label(): line.get_color() for line in acc.get_lines()}
    for line in lam.get_lines():  # each run in the colour it has in the other panels
        line.set_color(colours.get(line.get_label(), line.get_color()))
    lam.legend()
    for ax in (acc, loss, lam):
        ax.set_xlabel("optimiser step")
        ax.set_title("recall T = 30, N = 50, batch 128, Adam 1e-3 (seed 0)", fontsize="small")
    fig.tight_layout()
    fig.savefig(HERE / "progress.png", dpi=120)


if __name__ == "__main__":
    main()
