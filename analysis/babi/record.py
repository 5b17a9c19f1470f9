"""Record an ``orthornn train babi --babi-task all`` run under analysis/babi/runs/NAME.

    python analysis/babi/record.py RUN_DIR NAME

Copies the run's ``config.json`` and ``summary.json`` (per task: the set trained on, test and best
validation accuracy, steps, epochs) and the evaluation lines of each task's ``metrics.jsonl``
(``qaN.evals.jsonl``; the per-step lines and the checkpoints stay with the run, which is not a
record). A run still in progress is recorded as far as it went: ``summary.json`` lists the tasks
finished. ``table.py`` prints the recorded runs beside the paper's Table 4.
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
    if not (run / "summary.json").is_file():
        why = "not a --babi-task all run, or no task finished"
        print(f"record.py: {run}/summary.json: no such file ({why})", file=sys.stderr)
        return 2
    out = HERE / "runs" / name
    out.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "summary.json"):
        shutil.copyfile(run / f, out / f)
    summary = json.loads((run / "summary.json").read_text())
    for row in summary["tasks"]:
        lines = (run / row["folder"] / "metrics.jsonl").read_text().splitlines()
        evals = [ln + "\n" for ln in lines if ln.strip() and json.loads(ln).get("kind") == "eval"]
        (out / f"{row['folder']}.evals.jsonl").write_text("".join(evals))
    mean = summary["mean_test_accuracy"]
    print(f"recorded {run} in {out}: {summary['tasks_tested']} tasks tested, mean test accuracy {mean}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
