"""Issue 17's ablation side by side: RUM λ = 1 on recall T = 30 in the official code's setup,
and that setup with one difference from orthornn's earlier setup reverted per run. Prints the
validation accuracy of every run at every 1,000 steps and when each first reached 30 % (off
the plateau), 50 % and 90 % (the tables of the README), and draws ablation.png.

The official run is ../rum_table1_recall_official/runs/T_30_RUM_lambda=1_seed0 (its config
differs from each run here in exactly the reverted field); its seed 1 is the fractional grid's
RUM λ = 1 seed 1 (the same config), beside seed 1 of the Glorot kernels and of torch's readout (``--seeds 2``).

    python analysis/results/rum_table1_recall_ablation/compare.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fractional_lambda_paper"))
from plot_progress import accuracy_figure, load, milestones, table  # noqa: E402  (the grid's tables, reused)

RUNS = {
    "official setup": HERE.parent / "rum_table1_recall_official" / "runs" / "T_30_RUM_lambda=1_seed0",
    "RMSProp (torch's, decay 0.9)": HERE / "runs" / "T_30_RMSProp_seed0",
    "η = 1.0": HERE / "runs" / "T_30_eta=1.0_seed0",
    "Glorot kernels": HERE / "runs" / "T_30_Glorot_kernels_seed0",
    "torch's readout": HERE / "runs" / "T_30_torch_readout_seed0",
    "fresh batches": HERE / "runs" / "T_30_fresh_batches_seed0",
    # seed 1 of the official setup is the fractional grid's λ = 1 seed 1 (the same config)
    "official setup, seed 1": HERE.parent / "fractional_lambda_paper" / "runs" / "T_30_RUM_lambda=1_seed1",
    "Glorot kernels, seed 1": HERE / "runs" / "T_30_Glorot_kernels_seed1",
    "torch's readout, seed 1": HERE / "runs" / "T_30_torch_readout_seed1",
}
LAST = 10_000  # the ablation's budget (--until-step)


def main() -> None:
    evals = load(RUNS, last=LAST)
    title = "RUM λ = 1, recall T = 30, N = 50: the official setup, one difference reverted"
    accuracy_figure(evals, HERE / "ablation.png", title)
    print(table(evals, last=LAST))
    print()
    print(milestones(evals))


if __name__ == "__main__":
    main()
