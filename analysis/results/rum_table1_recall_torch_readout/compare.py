"""RUM λ = 1 on recall T = 50 under torch's readout (this folder's runs) beside the official
setup's run (../rum_table1_recall_official/runs/T_50_RUM_lambda=1_seed0, the same config but for
``readout_init``): validation accuracy every 5,000 steps, when each first reached 30 %, 50 % and
90 %, and comparison.png (the README's table and figure).

    python analysis/results/rum_table1_recall_torch_readout/compare.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fractional_lambda_paper"))
from plot_progress import accuracy_figure, load, milestones, table  # noqa: E402  (the grid's tables, reused)

RUNS = {
    "official readout (glorot-io)": HERE.parent / "rum_table1_recall_official" / "runs" / "T_50_RUM_lambda=1_seed0",
    "torch's readout": HERE / "runs" / "T_50_RUM_lambda=1_torch_readout_seed0",
    "torch's readout, seed 1": HERE / "runs" / "T_50_RUM_lambda=1_torch_readout_seed1",
}
EVERY = 5_000


def main() -> None:
    evals = load(RUNS)
    title = "RUM λ = 1, recall T = 50, N = 50: the official setup, and with torch's readout"
    accuracy_figure(evals, HERE / "comparison.png", title, T=50)
    last = max(e["step"] for ev in evals.values() for e in ev)
    print(table(evals, last=last, stride=EVERY, digits=2))
    print()
    print(milestones(evals))


if __name__ == "__main__":
    main()
