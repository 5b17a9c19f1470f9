"""Record a finished ``orthornn train ptb`` run under analysis/ptb/runs/NAME.

    python analysis/ptb/record.py RUN_DIR NAME

Copies the run's ``config.json`` and ``summary.json`` and the evaluation lines of its
``metrics.jsonl`` (``evals.jsonl``; the per-step lines stay with the run), and draws
``figure.png``: validation bits per character against epochs, the test BPC of the best-validation
parameters marked. The checkpoint stays in RUN_DIR (it is not a record).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    run, name = Path(argv[0]), argv[1]
    out = HERE / "runs" / name
    out.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "summary.json"):
        shutil.copyfile(run / f, out / f)
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in lines if r["kind"] == "eval"]
    (out / "evals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals))
    summary = json.loads((run / "summary.json").read_text())
    windows = summary["ptb"]["windows_per_epoch"]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r["step"] / windows for r in evals], [r["bpc"] for r in evals], marker=".", label="validation")
    test = summary.get("test")
    if test:
        ax.scatter([test["step"] / windows], [test["bpc"]], color="C3", zorder=3,
                   label=f"test {test['bpc']:.3f} (best validation)")  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("bits per character")
    ax.set_title(f"{summary['model']} on char-PTB, {summary['parameters']:,} parameters", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figure.png", dpi=120)
    print(f"recorded {run} in {out}: {len(evals)} evaluations, test BPC {summary.get('test_bpc')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
