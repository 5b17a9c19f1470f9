"""Copy T = 200 (N = 100, RUM Figure 2's setting): fractional λ = 0.5 beside λ = 1, trained by the
same config (``analysis/configs/fractional_lambda_copy_paper.json``); validation loss and the
accuracy on the recalled symbols against steps. Writes compare.png here and prints the README's
tables: every run at every 1,000 steps to the last step any run reached (— where a run has not),
and each run's best evaluation.

    python analysis/results/fractional_lambda_copy_paper/compare.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from orthornn.plotting import plot_training_curves

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fractional_lambda_paper"))
from plot_progress import load, plot_loss  # noqa: E402  (the grid's run loader and loss panel, reused)

RUNS = {
    "λ = 0.5": HERE / "runs" / "_RUM_lambda=0.5_seed0",
    "learned λ (from 0.5, rate 1e-4)": HERE / "runs" / "_RUM_learned_lambda_init_0.5_lam_lr_1e-4_seed0",
    "λ = 1": HERE / "runs" / "_RUM_lambda=1_seed0",
}
EVERY = 1000  # the table's stride (evaluations are every 200 steps)


def table(evals: dict[str, list[dict]]) -> str:
    """Validation loss (accuracy on the recalled symbols, %) of every run at every EVERY steps,
    to the last step any run reached (— where a run has not); the memoryless baseline in its
    last row."""
    last = max(ev[-1]["step"] for ev in evals.values())
    baseline = next(iter(evals.values()))[0]["baseline"]
    names = list(evals)
    rows = [
        f"| step | {' | '.join(names)} |",
        "|---" * (len(names) + 1) + "|",
    ]
    at = {name: {e["step"]: e for e in ev} for name, ev in evals.items()}
    for step in range(EVERY, last + 1, EVERY):
        cells = [
            f"{at[n][step]['loss']:.4f} ({100 * at[n][step]['accuracy']:.1f})" if step in at[n] else "—" for n in names
        ]
        rows.append(f"| {step:,} | " + " | ".join(cells) + " |")
    rows.append(f"| baseline | {' | '.join([f'{baseline:.4f} (12.5)'] * len(names))} |")
    return "\n".join(rows)


def best(evals: dict[str, list[dict]]) -> str:
    """Per run: the last step evaluated and the evaluation with the lowest validation loss."""
    rows = [
        "| run | last evaluation | lowest validation loss (step) | its recalled-symbol accuracy |",
        "|---|---|---|---|",
    ]
    for name, ev in evals.items():
        b = min(ev, key=lambda e: e["loss"])
        rows.append(f"| {name} | {ev[-1]['step']:,} | {b['loss']:.4f} ({b['step']:,}) | {100 * b['accuracy']:.1f} % |")
    return "\n".join(rows)


def main() -> None:
    evals = load(RUNS)
    fig = Figure(figsize=(11, 4.2))
    loss, acc = fig.subplots(1, 2)
    baseline = "memoryless baseline (10 ln 8 / 220)"
    plot_loss(loss, evals, baseline_label=baseline, ylabel="validation loss (1,280 sequences)")
    plot_training_curves(
        {name: ([e["step"] for e in ev], [100 * e["accuracy"] for e in ev]) for name, ev in evals.items()},
        acc,
        baseline=12.5,
        baseline_label="chance (1/8)",
        ylabel="recalled symbols right (%)",
    )
    for ax in (loss, acc):
        ax.set_xlabel("optimiser step")
        ax.set_title("RUM copy T = 200, N = 100, batch 128, RMSprop 1e-3 (seed 0)", fontsize="small")
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(HERE / "compare.png", dpi=120)
    print(table(evals))
    print()
    print(best(evals))


if __name__ == "__main__":
    main()
