"""Record an ``orthornn train babi`` run under analysis/babi/runs/NAME.

    python analysis/babi/record.py RUN_DIR NAME

RUN_DIR is a ``--babi-task all`` run or a run of one task (``--babi-task N``). Copies the run's
``config.json`` and ``summary.json`` (per task: the set trained on, test and best validation
accuracy, steps, epochs) and the evaluation lines of each task's ``metrics.jsonl``
(``qaN.evals.jsonl``; the per-step lines and the checkpoints stay with the run, which is not a
record). A run still in progress is recorded as far as it went: ``summary.json`` lists the tasks
finished. When NAME holds a record already, the run's tasks are merged into it (a task recorded
again replaces its row), provided the two runs were configured alike but for the task: so a set
run stopped part-way can be completed by runs of the tasks it did not reach. ``table.py`` prints
the recorded runs beside the paper's Table 4.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig

HERE = Path(__file__).resolve().parent
# config keys that may differ between runs merged into one record: which tasks they trained, and
# where the data folder was
PER_RUN = ("babi_task", "babi_set", "data")


class RecordError(Exception):
    """A run that cannot be recorded (the message says why)."""


def _read(path: Path) -> dict:
    if not path.is_file():
        raise RecordError(f"{path}: no such file")
    return json.loads(path.read_text())


def _evals(metrics: Path) -> str:
    lines = metrics.read_text().splitlines()
    return "".join(ln + "\n" for ln in lines if ln.strip() and json.loads(ln).get("kind") == "eval")


def _rows(run: Path, config: dict) -> tuple[list[dict], dict[str, str]]:
    """The run's per-task rows (the shape of a set run's ``summary.json`` rows) and the evaluation
    lines of each task, keyed by the task's folder name."""
    summary = _read(run / "summary.json")
    if config.get("babi_task") == "all":
        evals = {r["folder"]: _evals(run / r["folder"] / "metrics.jsonl") for r in summary["tasks"]}
        return summary["tasks"], evals
    if summary.get("task") != "babi" or not isinstance(config.get("babi_task"), int):
        raise RecordError(f"{run}: not a bAbI run (config.json names task {config.get('task')!r})")
    n = config["babi_task"]
    if summary.get("test") is None:
        raise RecordError(f"{run}: task {n} has not been tested yet (the run has not finished)")
    best = summary.get("best") or {}
    folder = f"qa{n}"
    row = {
        "babi_task": n,
        "babi_set": config["babi_set"],
        "folder": folder,
        "test_accuracy": summary["test"]["accuracy"],
        "test_questions": summary["test"].get("sequences"),
        "best_step": best.get("step"),
        "valid_accuracy": best.get("accuracy"),
        "steps": summary["steps"],
        "epochs": summary.get("epochs"),
        "stopped": summary.get("stopped"),
    }
    return [row], {folder: _evals(run / "metrics.jsonl")}


def _settings(config: dict) -> dict:
    """``config`` with every default filled in, so that a config saved before an option existed
    compares equal to one that holds the option's default."""
    try:
        return TrainConfig.from_dict(config).to_dict()
    except OrthornnError as exc:
        raise RecordError(f"not a training config: {exc}") from None


def record(run: Path, name: str) -> dict:
    """Record (or merge) ``run`` under ``runs/NAME``; the record's summary."""
    config = _read(run / "config.json")
    rows, evals = _rows(run, config)
    out = HERE / "runs" / name
    if (out / "summary.json").is_file():
        old_config = _read(out / "config.json")
        new_settings, old_settings = _settings(config), _settings(old_config)
        keys = (set(new_settings) | set(old_settings)) - set(PER_RUN)
        differ = sorted(k for k in keys if new_settings.get(k) != old_settings.get(k))
        if differ:
            why = f"{', '.join(differ)} differ"
            raise RecordError(f"{out} records a run configured otherwise ({why}): choose another NAME")
        new = {r["babi_task"] for r in rows}
        rows = [r for r in _read(out / "summary.json")["tasks"] if r["babi_task"] not in new] + rows
        config = old_config
    rows.sort(key=lambda r: r["babi_task"])
    tested = [r["test_accuracy"] for r in rows if r["test_accuracy"] is not None]
    summary = {
        "task": "babi",
        "babi_task": "all",
        "babi_set": config["babi_set"],
        "model": config["model"],
        "tasks": rows,
        "tasks_tested": len(tested),
        "mean_test_accuracy": sum(tested) / len(tested) if tested else None,
    }
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "config.json").is_file():
        shutil.copyfile(run / "config.json", out / "config.json")
    for folder, text in evals.items():
        (out / f"{folder}.evals.jsonl").write_text(text)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    run, name = Path(argv[0]), argv[1]
    try:
        summary = record(run, name)
    except RecordError as exc:
        print(f"record.py: {exc}", file=sys.stderr)
        return 2
    mean, tested = summary["mean_test_accuracy"], summary["tasks_tested"]
    print(f"recorded {run} in {HERE / 'runs' / name}: {tested} tasks tested, mean test accuracy {mean}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
