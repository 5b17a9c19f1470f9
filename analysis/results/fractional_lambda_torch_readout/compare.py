"""Fractional λ under torch's readout initialisation, beside λ = 1 under the same setup (issue 17's
ablation run) and the fractional grid's runs under the official glorot-io readout: validation
accuracy against steps, and the learned λ at each evaluation; writes compare.png here and prints
the README's tables (validation accuracy at every 1,000 steps, and when each run first reached
30 % (off the plateau), 50 % and 90 %).

    python analysis/results/fractional_lambda_torch_readout/compare.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

HERE = Path(__file__).resolve().parent
GRID = HERE.parent / "fractional_lambda_paper"
ABLATION = HERE.parent / "rum_table1_recall_ablation"
sys.path.insert(0, str(GRID))
from plot_progress import load, milestones, plot_accuracy, plot_learned_lam, restyle, table  # noqa: E402  (the grid's tables, reused)

# torch's readout: this sweep's runs, and λ = 1 from the ablation (the same config but for lam)
TORCH = {
    "λ = 0.25": HERE / "runs" / "T_30_RUM_lambda=0.25_seed0",
    "λ = 0.5": HERE / "runs" / "T_30_RUM_lambda=0.5_seed0",
    "λ = 0.5, seed 1": HERE / "runs" / "T_30_RUM_lambda=0.5_seed1",
    "λ = 0.75": HERE / "runs" / "T_30_RUM_lambda=0.75_seed0",
    "learned λ (from 0.5, rate 1e-4)": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_lam_lr_1e-4_seed0",
    "learned λ (from 0.5, rate 1e-4), seed 1": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_lam_lr_1e-4_seed1",
    "λ = 1": ABLATION / "runs" / "T_30_torch_readout_seed0",
    "λ = 1, seed 1": ABLATION / "runs" / "T_30_torch_readout_seed1",
}
# the official glorot-io readout, seed 0: the fractional grid's runs, and the λ-rate pilot's
OFFICIAL = {
    "λ = 0.5, official readout": GRID / "runs" / "T_30_RUM_lambda=0.5_seed0",
    "learned λ (from 0.5, rate 1e-4), official readout": HERE.parent
    / "fractional_lambda_lam_lr_pilot"
    / "runs"
    / "T_30_RUM_learned_lambda_init_0.5_lam_lr_1e-4_seed0",
    "λ = 1, official readout": GRID / "runs" / "T_30_RUM_lambda=1_seed0",
}
LAST = 20_000  # the tables' and the figure's last step


def main() -> None:
    runs = {**TORCH, **OFFICIAL}
    evals = load(runs, last=LAST)
    fig = Figure(figsize=(12, 4.5))
    acc, lam = fig.subplots(1, 2)
    plot_accuracy(acc, evals)
    plot_learned_lam(lam, evals, runs)
    # a λ keeps its colour in both panels; seed 1 is dashed, the official readout dotted
    restyle((acc, lam), {", seed 1": "--", ", official readout": ":"})
    for ax in (acc, lam):
        ax.legend(fontsize="x-small")
        ax.set_xlabel("optimiser step")
        ax.set_xlim(0, LAST)
        ax.set_title("RUM recall T = 30, N = 50, batch 128, Adam 1e-3; torch's readout unless said", fontsize="small")
    fig.tight_layout()
    fig.savefig(HERE / "compare.png", dpi=120)
    print(table(evals, last=LAST))
    print()
    print(milestones(evals))


if __name__ == "__main__":
    main()
