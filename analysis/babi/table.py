"""The recorded bAbI runs (runs/*/summary.json) beside the RUM paper's Table 4: per-task test
accuracy (%, the best-validation parameters), the mean over the tasks each run tested, then,
when some run has not tested all 20, every row's mean over the tasks all recorded runs tested
(so that a run in progress compares with the others on equal terms). Printed, and written to
summary.md; figure.png shows the per-task bars (the paper's RUM column as black ticks).

    python analysis/babi/table.py
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

HERE = Path(__file__).resolve().parent
# RUM paper, appendix C, Table 4 (test accuracy %, tasks 1-20; the 10k set): RUM (theirs) and
# the LSTM of Weston et al. 2015 it quotes
# fmt: off
PAPER = {
    "RUM λ = 0, N = 256, paper Table 4 (en-10k)": [
        79.7, 39.4, 46.6, 100, 96.8, 84.7, 89.1, 74.0, 84.0, 75.7,
        90.6, 95.0, 91.5, 43.9, 58.8, 47.1, 60.3, 98.5, 10.2, 98.0,
    ],
    "LSTM, paper Table 4 (Weston et al.)": [
        50, 20, 20, 61, 70, 48, 49, 45, 64, 44, 72, 74, 94, 27, 21, 23, 51, 52, 8, 91,
    ],
}
# fmt: on


def recorded() -> dict[str, dict[str, dict[int, float]]]:
    """Every recorded run, read once and grouped by how its validation part was held out
    (``"question"``, the paper's and the default, or ``"story"``): split -> the run's label
    (from its config) -> task number -> test accuracy (%)."""
    splits: dict[str, dict[str, dict[int, float]]] = {"question": {}, "story": {}}
    for folder in sorted((HERE / "runs").glob("*/")):
        summary = json.loads((folder / "summary.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        label = f"{config['model']} λ = {config['lam']:g}" if config["model"] == "rum" else config["model"]
        label = f"{folder.name}: {label}, N = {config['hidden']}, {summary['babi_set']}"
        tested = [r for r in summary["tasks"] if r["test_accuracy"] is not None]
        split = splits.setdefault(config.get("babi_split", "question"), {})
        split[label] = {r["babi_task"]: 100 * r["test_accuracy"] for r in tested}
    return splits


def main() -> None:
    splits = recorded()
    runs = splits["question"]
    rows = {**runs, **{k: dict(enumerate(v, 1)) for k, v in PAPER.items()}}
    lines = ["| run | " + " | ".join(str(n) for n in range(1, 21)) + " | mean | tasks |", "|---" * 23 + "|"]
    for name, acc in rows.items():
        cells = [f"{acc[n]:.1f}" if n in acc else "—" for n in range(1, 21)]
        mean = sum(acc.values()) / len(acc) if acc else float("nan")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{mean:.1f}** | {len(acc)} |")
    common = sorted(set.intersection(*(set(acc) for acc in runs.values()))) if runs else []
    if runs and len(common) < 20:
        tasks = ", ".join(map(str, common))
        lines += ["", f"Means over the {len(common)} tasks every recorded run tested ({tasks}):", ""]
        lines += ["| run | mean |", "|---|---|"]
        for name, acc in rows.items():
            mean = sum(acc[n] for n in common) / len(common) if common else float("nan")
            lines.append(f"| {name} | {mean:.1f} |")
    by_story = splits["story"]
    if by_story:
        lines += ["", "Held out by story (`--babi-split story`: no story has questions on both sides):", ""]
        lines += ["| run | task: test accuracy |", "|---|---|"]
        for name, acc in by_story.items():
            lines.append(f"| {name} | " + ", ".join(f"{n}: {a:.1f}" for n, a in sorted(acc.items())) + " |")
    print("\n".join(lines))
    head = [
        "# bAbI question answering: the recorded runs beside RUM Table 4",
        "",
        "Written by `python analysis/babi/table.py` from `runs/*/summary.json` (README.md gives each",
        "run's command, its scale and how task 3 was treated). Test accuracy (%) of the",
        "best-validation parameters, one seed each; the split of each training file 90 / 10 by",
        "question (the paper's) but where said. Task 3 of the en-10k runs trained on the 1k set: this data's en-10k",
        "has no task-3 training file.",
        "",
    ]
    (HERE / "summary.md").write_text("\n".join(head + lines) + "\n")
    fig = Figure(figsize=(11, 4))
    ax = fig.subplots()
    width = 0.8 / max(len(runs), 1)
    for i, (name, acc) in enumerate(runs.items()):
        tasks = sorted(acc)
        ax.bar([n - 0.4 + width * (i + 0.5) for n in tasks], [acc[n] for n in tasks], width, label=name)
    paper = next(iter(PAPER.items()))
    ax.scatter(range(1, 21), paper[1], marker="_", s=200, color="black", zorder=3, label=paper[0])
    ax.set_xticks(range(1, 21))
    ax.set_xlabel("bAbI task")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(HERE / "figure.png", dpi=120)


if __name__ == "__main__":
    main()
