"""The recorded char-PTB runs (runs/*/, written by record.py) in one table and one figure:
summary.md (per run: model, sizes, epochs, best validation and test bits per character, the
training seconds) and figure.png (validation BPC against epochs for every run, each run's test
BPC of its best-validation parameters marked), beside the published CPU-budget figures the
issue quotes.

    python analysis/ptb/table.py
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

HERE = Path(__file__).resolve().parent
# test BPC on char-PTB at ≈ 1.3M parameters, as issue 13 quotes them (expRNN: Lezcano-Casado and
# Martínez-Rubio 2019; EURNN: Jing et al. 2017), and the RUM paper's FS-RUM-2 (appendix D)
PUBLISHED = {"expRNN (≈ 1.3M parameters)": 1.43, "EURNN (≈ 1.3M parameters)": 1.61, "FS-RUM-2, RUM paper": 1.189}


def _model(config: dict) -> str:
    if config["model"] == "fsrum":
        return (f"FS-RUM-{config['fast_cells']}: LN-LSTM {config['fast_cells']} × {config['fast_hidden']}"
                f" around LN-RUM {config['hidden']}")  # fmt: skip
    if config["model"] == "rum":
        return f"RUM λ = {config['lam']:g}, N = {config['hidden']}, η = {config['eta']}"
    return f"{config['model']}, N = {config['hidden']}"


def recorded() -> list[dict]:
    """Every recorded run: its folder name, config, summary and evaluations."""
    runs = []
    for folder in sorted((HERE / "runs").glob("*/")):
        runs.append({
            "name": folder.name,
            "config": json.loads((folder / "config.json").read_text()),
            "summary": json.loads((folder / "summary.json").read_text()),
            "evals": [json.loads(ln) for ln in (folder / "evals.jsonl").read_text().splitlines() if ln],
        })  # fmt: skip
    return runs


def table(runs: list[dict]) -> str:
    """summary.md's text: one row per run, then the published figures."""
    lines = [
        "# Character-level Penn Treebank: the recorded runs",
        "",
        "Written by `python analysis/ptb/table.py` from `runs/*/` (README.md gives each run's command",
        "and what it shows). Bits per character on the whole validation and test files; the test",
        "is of the best-validation parameters.",
        "",
        "| run | model | parameters | batch × window | schedule | epochs | best validation BPC (epoch) "
        "| **test BPC** | training s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        c, s = run["config"], run["summary"]
        windows = s["ptb"]["windows_per_epoch"]
        best = min(run["evals"], key=lambda r: r["bpc"])
        lines.append(
            f"| `{run['name']}` | {_model(c)} | {s['parameters']:,} | {c['batch']} × {c['bptt']} "
            f"| {c['optimizer']} {c['lr']:g}, {c.get('lr_schedule') or 'constant'} | {s['epochs']:g} "
            f"| {best['bpc']:.3f} ({best['step'] / windows:g}) | **{s['test_bpc']:.3f}** | {s['wall_seconds']:,.0f} |"
        )
    lines += ["", "Published, for comparison (not run here):", ""]
    lines += [f"* {name}: {bpc} test BPC" for name, bpc in PUBLISHED.items()]
    return "\n".join(lines) + "\n"


def figure(runs: list[dict]) -> Figure:
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for i, run in enumerate(runs):
        windows = run["summary"]["ptb"]["windows_per_epoch"]
        epochs = [r["step"] / windows for r in run["evals"]]
        ax.plot(epochs, [r["bpc"] for r in run["evals"]], marker=".", color=f"C{i}", label=f"{run['name']} validation")
        test = run["summary"]["test"]
        ax.scatter([test["step"] / windows], [test["bpc"]], marker="*", s=90, color=f"C{i}", zorder=3,
                   label=f"{run['name']} test {test['bpc']:.3f}")  # fmt: skip
    ax.axhline(PUBLISHED["expRNN (≈ 1.3M parameters)"], color="grey", ls="--", lw=0.8, label="expRNN 1.43")
    ax.set_xlabel("epoch")
    ax.set_ylabel("bits per character")
    ax.set_title("char-PTB on this CPU: validation BPC, and test BPC of the best-validation parameters", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def main() -> None:
    runs = recorded()
    text = table(runs)
    (HERE / "summary.md").write_text(text)
    figure(runs).savefig(HERE / "figure.png", dpi=120)
    print(text, end="")


if __name__ == "__main__":
    main()
