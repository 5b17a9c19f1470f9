"""The λ-rate pilot beside the grid's runs of the same setup (recall T = 30, N = 50, seed 0).

For each run: the mean training-batch accuracy over windows of 250 steps, λ at the end of each
window (learned runs), and every validation evaluation. The runs compared are this folder's
learned λ with lam_lr 1e-4, and from ../fractional_lambda_paper/ the learned λ at Adam's 1e-3
(the same rate as every weight) and the fixed λ = 0.5 and λ = 1.

    python analysis/results/fractional_lambda_lam_lr_pilot/compare.py
"""

from __future__ import annotations

import statistics
from pathlib import Path

from orthornn.sweep.state import read_metrics

HERE = Path(__file__).resolve().parent
GRID = HERE.parent / "fractional_lambda_paper" / "runs"
RUNS = {
    "learned λ, lam_lr 1e-4": HERE / "runs" / "T_30_RUM_learned_lambda_init_0.5_lam_lr_1e-4_seed0",
    "learned λ, lr 1e-3": GRID / "T_30_RUM_learned_lambda_init_0.5_seed0",
    "λ = 0.5": GRID / "T_30_RUM_lambda=0.5_seed0",
    "λ = 1": GRID / "T_30_RUM_lambda=1_seed0",
}
WINDOW = 250


def main() -> None:
    rows = {name: read_metrics(folder / "metrics.jsonl") for name, folder in RUNS.items()}
    last = max(r["step"] for r in rows["learned λ, lam_lr 1e-4"] if r["kind"] == "train")
    print(f"Mean training-batch accuracy (%) over steps k−{WINDOW - 1} … k, and λ after step k")
    print(f"(the pilot's last step: {last}).\n")
    print("| step k | " + " | ".join(RUNS) + " |")
    print("|---" * (len(RUNS) + 1) + "|")
    for end in range(WINDOW, last + 1, WINDOW):
        cells = []
        for recs in rows.values():
            train = {r["step"]: r for r in recs if r["kind"] == "train" and end - WINDOW < r["step"] <= end}
            if not train:
                cells.append("—")
                continue
            acc = 100 * statistics.mean(r["accuracy"] for r in train.values())
            lam = train.get(end, {}).get("learned_lam")
            cells.append(f"{acc:.1f}" + (f" (λ {lam:.3f})" if lam is not None else ""))
        print(f"| {end:,} | " + " | ".join(cells) + " |")
    print("\nValidation accuracy (%, 10,000 sequences), and λ where it is learned:\n")
    for name, recs in rows.items():
        evals = [r for r in recs if r["kind"] == "eval" and r["step"] <= max(last, 1000)]
        text = ", ".join(
            f"{r['step']:,}: {100 * r['accuracy']:.1f}" + (f" (λ {r['learned_lam']:.3f})" if "learned_lam" in r else "")
            for r in evals
        )
        print(f"- {name}: {text or '—'}")


if __name__ == "__main__":
    main()
