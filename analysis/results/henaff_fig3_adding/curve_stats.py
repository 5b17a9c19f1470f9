"""The held-out curves of the T = 100 panel, per run and seed: the numbers summary.md quotes.

The held-out loss is noisy (4 batches of 50 a evaluation; single evaluations spike to 2–4× their
neighbours), so besides the final loss this prints the mean of the last 10 evaluations, the
minimum, and the first step below the baseline 1/6 and below 0.05. It reads the sweep's run
folders (``runs/T_100_<label>_seed<k>/metrics.jsonl``) and, where a seed has none, the record
an earlier ``run_experiment.py`` wrote (``runs/T_100_<label>_seed<k>.json``).

    python analysis/results/henaff_fig3_adding/curve_stats.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from orthornn.sweep.state import read_metrics

HERE = Path(__file__).resolve().parent
LABELS = ("LT-IRNN", "LT-ORNN", "LSTM")
SEEDS = range(8)


def legacy_evals(label: str, seed: int) -> list[tuple[int, float]]:
    """``[(step, held-out loss)]`` of the run_experiment.py record of one run."""
    rec = json.loads((HERE / "runs" / f"T_100_{label}_seed{seed}.json").read_text())
    return [(e["step"], e["loss"]) for e in rec["evals"]]


def evals(label: str, seed: int) -> tuple[list[tuple[int, float]], str]:
    """``[(step, held-out loss)]`` of one run, and which record it came from."""
    folder = HERE / "runs" / f"T_100_{label}_seed{seed}"
    if (folder / "summary.json").is_file():
        rows = read_metrics(folder / "metrics.jsonl")
        return [(r["step"], r["loss"]) for r in rows if r["kind"] == "eval"], "sweep"
    return legacy_evals(label, seed), "run_experiment.py"


def first_below(curve: list[tuple[int, float]], level: float) -> int | None:
    return next((step for step, loss in curve if loss < level), None)


def main() -> None:
    print("| run | seed | record | final | mean of last 10 | minimum | first < 1/6 | first < 0.05 |")
    print("|---|---|---|---|---|---|---|---|")
    for label in LABELS:
        last10 = []
        for seed in SEEDS:
            curve, source = evals(label, seed)
            losses = [loss for _, loss in curve]
            last10.append(statistics.mean(losses[-10:]))
            b6, b05 = first_below(curve, 1 / 6), first_below(curve, 0.05)
            print(
                f"| {label} | {seed} | {source} | {losses[-1]:.3f} | {last10[-1]:.3f} | {min(losses):.3f} | "
                f"{b6 if b6 is not None else '—'} | {b05 if b05 is not None else '—'} |"
            )
        below = sum(m < 1 / 6 for m in last10)
        print(f"| {label} | all | | | {min(last10):.3f}–{max(last10):.3f}; {below}/8 below 1/6 | | | |")
    # Seeds trained twice: by run_experiment.py and, again, by the sweep (the LSTM's old records
    # carry "activation": "relu", an option the LSTM never used and the config now refuses, so the
    # sweep did not count them as the same run). The same seed should give the same curve.
    for label in LABELS:
        for seed in SEEDS:
            legacy = HERE / "runs" / f"T_100_{label}_seed{seed}.json"
            if legacy.is_file() and (HERE / "runs" / legacy.stem / "summary.json").is_file():
                new, _ = evals(label, seed)
                old = legacy_evals(label, seed)
                gap = max(abs(a[1] - b[1]) for a, b in zip(new, old, strict=True))
                print(f"{label} seed {seed}: trained twice, largest held-out loss difference {gap:.3g}")


if __name__ == "__main__":
    main()
