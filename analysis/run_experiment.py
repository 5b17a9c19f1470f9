"""Run a reproduction described by a JSON config and write its results and figure.

    OMP_NUM_THREADS=1 python analysis/run_experiment.py analysis/configs/henaff_fig2_copy.json \
        [--out analysis/results/NAME] [--seeds N] [--steps N] [--device auto] [--panels 0 1]

A config holds ``base`` (TrainConfig fields shared by every run), ``panels`` (a list of
overrides, one figure panel each, e.g. one per T), ``runs`` (a list of ``{"label": ..., <overrides>}``)
and ``seeds``. Every (panel, run, seed) is trained with :class:`orthornn.train.Trainer`;
the script writes ``runs/<panel>_<label>_seed<s>.json`` (config, per-step training loss,
evaluations, summary), ``summary.md`` (final held-out loss/accuracy per run: mean and range
over seeds, against the memoryless baseline) and ``figure.png`` (held-out loss against steps,
mean over seeds, baseline dashed). ``--seeds``/``--steps`` shrink a config to what a CPU can
afford; the scale actually run is written into summary.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from orthornn.train import TrainConfig, Trainer


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", s).strip("_")


def _train(cfg: TrainConfig) -> tuple[Any, list[tuple[int, float]]]:
    """Train one run; a learned λ (RUM ``learn_lam``) is recorded at every evaluation."""
    trainer = Trainer(cfg)
    cell = getattr(getattr(trainer.model, "core", None), "cell", None)
    lam = getattr(cell, "lam", None)
    curve: list[tuple[int, float]] = []
    if isinstance(lam, torch.Tensor):
        return trainer.run(on_eval=lambda ev: curve.append((ev["step"], float(lam.detach())))), curve
    return trainer.run(), curve


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--seeds", type=int, help="use only the first N seeds of the config")
    p.add_argument("--steps", type=int, help="override the number of steps")
    p.add_argument("--device", help="override the device (cpu, cuda, auto)")
    p.add_argument("--panels", type=int, nargs="*", help="run only these panel indices")
    p.add_argument("--labels", nargs="*", help="run only these run labels")
    p.add_argument(
        "--reuse", action="store_true", help="load a run whose runs/*.json has the same config instead of training it"
    )
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.set_flush_denormal(True)  # as `orthornn train` (docs/training.md)
    spec = json.loads(args.config.read_text())
    out = args.out or Path("analysis/results") / spec["name"]
    (out / "runs").mkdir(parents=True, exist_ok=True)
    seeds = spec["seeds"][: args.seeds] if args.seeds else spec["seeds"]
    panels = spec.get("panels", [{}])
    chosen = args.panels if args.panels is not None else range(len(panels))
    results: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for pi in chosen:
        for run in spec["runs"]:
            label = run["label"]
            if args.labels and label not in args.labels:
                continue
            for seed in seeds:
                fields = {**spec["base"], **panels[pi], **{k: v for k, v in run.items() if k != "label"}, "seed": seed}
                if args.steps:
                    fields["steps"] = args.steps
                if args.device:
                    fields["device"] = args.device
                cfg = TrainConfig(**fields)
                name = f"{_slug(json.dumps(panels[pi]))}_{_slug(label)}_seed{seed}.json"
                old = out / "runs" / name
                if args.reuse and old.exists():
                    rec = json.loads(old.read_text())
                    if rec["config"] == json.loads(json.dumps(cfg.to_dict())):
                        results.setdefault((pi, label), []).append(rec)
                        print(f"panel {panels[pi]} {label} seed {seed}: reused {old}", flush=True)
                        continue
                t0 = time.perf_counter()
                hist, lam_curve = _train(cfg)
                rec = {
                    "panel": panels[pi],
                    "label": label,
                    "config": cfg.to_dict(),
                    "train_loss": [r["loss"] for r in hist.train],
                    "evals": hist.evals,
                    "summary": hist.summary,
                }
                if lam_curve:
                    rec["learned_lam"] = lam_curve
                (out / "runs" / name).write_text(json.dumps(rec) + "\n")
                results.setdefault((pi, label), []).append(rec)
                fin = hist.summary["final"] or {}
                acc = f" acc {fin['accuracy']:.3f}" if "accuracy" in fin else ""
                print(
                    f"panel {panels[pi]} {label} seed {seed}: loss {fin.get('loss', float('nan')):.4f}{acc} "
                    f"(baseline {hist.summary['baseline']:.4f}) in {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    _write_summary(out, spec, results, seeds, panels, args)
    _write_figure(out, spec, results, panels)


def _write_summary(out: Path, spec: dict[str, Any], results: dict, seeds: list[int], panels: list, args: Any) -> None:
    lines = [
        f"# {spec['name']}",
        "",
        spec.get("paper", ""),
        "",
        f"Scale run: seeds {seeds}, steps {args.steps or spec['base'].get('steps')}, "
        f"device {args.device or spec['base'].get('device', 'cpu')}, threads {torch.get_num_threads()}.",
        "",
        "Command: `OMP_NUM_THREADS=1 python " + shlex.join(sys.argv) + "`",
        "",
        "| panel | run | final held-out loss (mean [min, max]) | accuracy (mean [min, max]) | baseline | "
        "below baseline | wall s/run |",
        "|---|---|---|---|---|---|---|",
    ]
    for (pi, label), recs in results.items():
        finals = [r["summary"]["final"] for r in recs if r["summary"]["final"]]
        losses = [f["loss"] for f in finals]
        accs = [f["accuracy"] for f in finals if "accuracy" in f]
        walls = [r["summary"]["wall_seconds"] for r in recs]
        fmt = lambda v: f"{statistics.mean(v):.4f} [{min(v):.4f}, {max(v):.4f}]" if v else "—"  # noqa: E731
        below = sum(f["beats_baseline"] for f in finals)
        lines.append(
            f"| {json.dumps(panels[pi])} | {label} | {fmt(losses)} | {fmt(accs)} | "
            f"{recs[0]['summary']['baseline']:.4f} | {below}/{len(finals)} | {statistics.mean(walls):.0f} |"
        )
    learned = [(label, r) for (_, label), recs in results.items() for r in recs if r.get("learned_lam")]
    if learned:
        lines += ["", "Learned λ (at the evaluations):", ""]
        for label, r in learned:
            curve = ", ".join(f"{lam:.3f}" for _, lam in r["learned_lam"])
            lines.append(f"* {label}, seed {r['config']['seed']}: start {r['config']['lam']}, then {curve}")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _write_figure(out: Path, spec: dict[str, Any], results: dict, panels: list) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from orthornn.plotting import plot_training_curves

    used = sorted({pi for pi, _ in results})
    fig, axes = plt.subplots(1, len(used), figsize=(5 * len(used), 3.6), squeeze=False)
    for ax, pi in zip(axes[0], used, strict=True):
        curves, baseline = {}, None
        for (pj, label), recs in results.items():
            if pj != pi:
                continue
            steps = [e["step"] for e in recs[0]["evals"]]
            mean = [statistics.mean(r["evals"][i]["loss"] for r in recs) for i in range(len(steps))]
            curves[f"{label} ({len(recs)} seeds)"] = (steps, mean)
            baseline = recs[0]["summary"]["baseline"]
        plot_training_curves(curves, ax, baseline=baseline, ylabel="held-out loss")
        ax.set_title(f"{spec['name']} {json.dumps(panels[pi])}", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "figure.png", dpi=120)


if __name__ == "__main__":
    main()
