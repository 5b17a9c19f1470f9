r"""What a trained associative-recall model remembers: accuracy by the queried pair's position,
and the spectrum of RUM's memory :math:`R_t` over the sequence (issue 12's fractional-λ study).

Recall (RUM §4.2, appendix B) shows ``T/2`` (key, digit) pairs, then ``??`` and one of the keys;
the answer is that key's digit. A RUM with real λ updates its memory as

.. math:: R_t = (R_{t-1})^\lambda\,\mathrm{Rotation}(\varepsilon_t, \tau_t),

so for ``|λ| < 1`` the angles a rotation wrote ``k`` steps ago are scaled by about
:math:`\lambda^k` (exactly so when the rotations commute): at λ = 0.5 a pair 20 steps back sits
at a millionth of its angle in ``R``. The question this script answers from the trained
checkpoints, with no further training: does the model then fail on the *early* pairs — the
"fractional power forgets" reading of the grid's curves — or does it keep them elsewhere (the
hidden state ``h`` is rotated by ``R_t`` every step but is not scaled)?

For each run folder (``checkpoint.pt`` of an ``orthornn train`` / ``orthornn sweep`` recall run)
it evaluates the checkpoint's parameters on the run's own validation set (the same 10,000
sequences its training evaluated) and writes into ``--out``:

* ``positions.json`` — per run: the checkpoint's step, the overall accuracy, and for each
  position ``k = 0 … T/2 − 1`` of the queried pair (0 = first pair, ``T/2 − 1`` = the pair just
  before ``??``) the number of queries and the accuracy, with its binomial standard error
  :math:`\sqrt{p(1-p)/n}`; the *key-blind optimum* (:func:`key_blind_optimum`), what a model
  reaches from the digits alone; for RUM with ``λ ≠ 0`` the same accuracies with ``R`` erased
  (set to ``I``) after the pairs, before ``??`` — what ``h`` alone still answers; and, at each
  step ``t`` of the first ``--spectrum-sequences`` sequences, the mean number of planes of
  ``R_t`` whose angle exceeds ``--angle-floor`` ("active planes") and the mean
  :math:`\|\log R_t\|_F` (the norm of the memory's angles, :math:`\sqrt{2\sum_j\varphi_j^2}`),
  from :func:`orthornn.spectra.memory_phases`;
* ``positions.png`` — accuracy against the queried pair's position, one line per run, and
  the active planes of :math:`R_t` against ``t``;
* the tables printed as Markdown.

    python analysis/recall_memory/recall_memory.py RUN [RUN ...] [--names NAME ...] \
        [--out analysis/recall_memory] [--spectrum-sequences 256] [--angle-floor 1e-6]

The runs' step times and accuracies during training are in their own folders; this script
only reads the parameters.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orthornn.nn import RUMState
from orthornn.spectra import memory_phases
from orthornn.tasks import RecallTask
from orthornn.train import TrainConfig
from orthornn.train.checkpoint import load_checkpoint
from orthornn.train.loop import Trainer

HERE = Path(__file__).resolve().parent


def load_trainer(run: Path, task: str = "recall") -> Trainer:
    """A CPU Trainer (the run's dtype) of ``run``'s config holding its checkpoint's parameters;
    the run must be one of ``task`` with a fixed validation set."""
    state = load_checkpoint(run / "checkpoint.pt")
    config = TrainConfig.from_dict(state["config"])
    if config.task != task:
        raise SystemExit(f"{run}: need a {task} run, got task {config.task}")
    if config.valid_size is None:
        raise SystemExit(f"{run}: the run has no fixed validation set (valid_size)")
    trainer = Trainer(dataclasses.replace(config, device="cpu"))
    trainer.load_state_dict(state)
    trainer.model.eval()
    return trainer


def query_positions(x: np.ndarray, n_keys: int) -> np.ndarray:
    """Position ``k`` (0 … n_keys − 1) of the queried key among the pairs of each sequence.

    The keys sit at ``x[:, 0:T:2]`` (:class:`orthornn.tasks.RecallTask`), the query at ``x[:, -1]``;
    every key occurs once, so exactly one position matches."""
    keys = x[:, 0 : 2 * n_keys : 2]
    match = keys == x[:, -1:]
    if not bool((match.sum(1) == 1).all()):
        raise ValueError("every recall sequence must hold its query exactly once among its keys")
    return match.argmax(1)


def key_blind_optimum(x: np.ndarray, n_keys: int) -> float:
    r"""Accuracy of the best predictor that ignores which key is queried, on the inputs ``x``.

    The queried pair is uniform among the ``n = T/2`` pairs, so given the digits alone the answer
    is ``d`` with probability :math:`c_d/n` (``c_d``: how often ``d`` occurs); the best guess is
    the most frequent digit, right with probability :math:`\max_d c_d / n`. Averaged over the
    sequences this is the accuracy a model reaches from the bag of digits, without any key–value
    binding. Its expectation over the task is :attr:`orthornn.tasks.RecallTask.key_blind_accuracy`
    (24.11 % at T = 30, 20.68 % at T = 50, against 10 % for a memoryless guess)."""
    digits = x[:, 1 : 2 * n_keys : 2] - (n_keys + 1)
    counts = np.stack([(digits == v).sum(1) for v in range(10)], 1)
    return float(counts.max(1).mean() / n_keys)


def has_memory(trainer: Trainer) -> bool:
    """Whether the model is a RUM with a memory matrix ``R`` (λ ≠ 0 or a learned λ)."""
    c = trainer.config
    return c.model == "rum" and (c.lam != 0.0 or bool(c.learn_lam))


def _by_position(ok: np.ndarray, pos: np.ndarray, n_keys: int) -> list[dict[str, float]]:
    rows = []
    for k in range(n_keys):
        sel = ok[pos == k]
        p = float(sel.mean())
        rows.append({"position": k, "n": int(sel.size), "accuracy": p, "se": math.sqrt(p * (1 - p) / sel.size)})
    return rows


@torch.no_grad()
def position_accuracy(trainer: Trainer) -> dict[str, Any]:
    """Accuracy on the run's validation set, overall and by the queried pair's position; for a
    RUM with a memory also with ``R`` erased (set to ``I``) at the end of the pairs, before ``??``.

    The erased run feeds the pairs, replaces the carried state ``(h, R)`` by ``(h, I)`` and feeds
    ``??`` and the key: what it still answers is held in ``h`` alone."""
    stream = trainer.stream
    fixed = stream.valid_set
    n_keys = stream.task.n_keys
    erase = has_memory(trainer)
    correct, erased, position = [], [], []
    for lo in range(0, len(fixed), 1000):
        x, y = fixed.inputs[lo : lo + 1000], fixed.targets[lo : lo + 1000]
        b = stream.encode(x, y)
        scores, _ = trainer.model(b.x)
        correct.append((scores[:, -1].argmax(-1) == b.y).numpy())
        position.append(query_positions(x, n_keys))
        if erase:
            _, (h, R) = trainer.model(b.x[:, : 2 * n_keys])
            eye = torch.eye(R.shape[-1], dtype=R.dtype).expand_as(R).contiguous()
            scores, _ = trainer.model(b.x[:, 2 * n_keys :], RUMState(h, eye))
            erased.append((scores[:, -1].argmax(-1) == b.y).numpy())
    ok, pos = np.concatenate(correct), np.concatenate(position)
    out: dict[str, Any] = {"accuracy": float(ok.mean()), "sequences": int(ok.size),
                           "by_position": _by_position(ok, pos, n_keys),
                           "key_blind": key_blind_optimum(fixed.inputs, n_keys)}  # fmt: skip
    if erase:
        e = np.concatenate(erased)
        out["erased"] = {"accuracy": float(e.mean()), "by_position": _by_position(e, pos, n_keys)}
    return out


@torch.no_grad()
def memory_track(trainer: Trainer, sequences: int, floor: float) -> list[dict[str, float]] | None:
    """Per step ``t``: mean active planes of ``R_t`` (angle > ``floor``) and mean ‖log R_t‖_F,
    over the first ``sequences`` validation sequences; ``None`` where the model has no ``R``."""
    if not has_memory(trainer):
        return None
    stream = trainer.stream
    x, y = stream.valid_set.inputs[:sequences], stream.valid_set.targets[:sequences]
    b = stream.encode(x, y)
    state, track = None, []
    for t in range(b.x.shape[1]):
        _, state = trainer.model(b.x[:, t : t + 1], state)
        phases = np.abs(memory_phases(state.R.numpy()[:, None])[:, 0])  # (B, N)
        track.append({
            "t": t,
            "active_planes": float((phases > floor).sum(1).mean() / 2),
            "angle_norm": float(np.sqrt((phases**2).sum(1)).mean()),
        })  # fmt: skip
    return track


def lam_of(trainer: Trainer) -> float | None:
    """The run's λ (the learned value for a learned λ), or ``None`` for a model without one."""
    if trainer.config.model != "rum":
        return None
    cell = getattr(trainer.model.core, "cell", None)
    lam = getattr(cell, "lam", trainer.config.lam)
    return float(lam.detach()) if isinstance(lam, torch.Tensor) else float(lam)


def _row(first: str, cells: list[str]) -> str:
    return f"| {first} | " + " | ".join(cells) + " |"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """The two tables: accuracy by position, and the memory's active planes at chosen steps."""
    rs = list(results.values())
    n_keys = len(rs[0]["by_position"])
    lines = [_row("queried pair", list(results)), "|---|" + "---|" * len(rs)]
    for k in range(n_keys):
        cells = [f"{100 * r['by_position'][k]['accuracy']:.1f} ± {100 * r['by_position'][k]['se']:.1f}" for r in rs]
        lines.append(_row(f"{k + 1}{' (last)' if k == n_keys - 1 else ''}", cells))
    lines.append(_row("**all**", [f"**{100 * r['accuracy']:.1f}**" for r in rs]))
    lines.append(_row("key-blind optimum", [f"{100 * r['key_blind']:.1f}" for r in rs]))
    exact = RecallTask(2 * n_keys).key_blind_accuracy
    lines.append(_row("(its expectation)", [f"{100 * exact:.1f}"] * len(rs)))
    lines.append(_row("step, λ", [f"{r['step']:,}" + ("" if r["lam"] is None else f", {r['lam']:.3g}") for r in rs]))
    if any("erased" in r for r in rs):
        lines += ["", "With R erased (set to I) before `??`:", "", _row("queried pair", list(results)),
                  "|---|" + "---|" * len(rs)]  # fmt: skip
        for k in range(n_keys):
            cells = [f"{100 * r['erased']['by_position'][k]['accuracy']:.1f}" if "erased" in r else "—" for r in rs]
            lines.append(_row(f"{k + 1}", cells))
        cells = [f"**{100 * r['erased']['accuracy']:.1f}**" if "erased" in r else "—" for r in rs]
        lines.append(_row("**all**", cells))
    tracked = {n: r["memory"] for n, r in results.items() if r["memory"] is not None}
    if tracked:
        T = len(next(iter(tracked.values())))
        steps = sorted({0, 1, 2, 4, 8, T // 2, T - 4, T - 1} & set(range(T)))
        lines += ["", _row("run", [f"t = {t + 1}" for t in steps]), "|---|" + "---|" * len(steps)]
        lines += [_row(n, [f"{tr[t]['active_planes']:.1f}" for t in steps]) for n, tr in tracked.items()]
    return "\n".join(lines) + "\n"


def figure(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Accuracy by position (left) and active planes of R_t over the sequence (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    colours = plt.get_cmap("tab20").colors  # more runs than the default cycle's ten colours
    for i, (name, r) in enumerate(results.items()):
        colour = colours[(2 * i) % 20 + (i // 10) % 2]  # the dark shades first, then the light
        k = np.array([row["position"] + 1 for row in r["by_position"]])
        p = np.array([row["accuracy"] for row in r["by_position"]])
        se = np.array([row["se"] for row in r["by_position"]])
        a.plot(k, 100 * p, marker="o", ms=3, color=colour, label=f"{name} ({100 * r['accuracy']:.1f} %)")
        a.fill_between(k, 100 * (p - 2 * se), 100 * (p + 2 * se), color=colour, alpha=0.15)
        if r["memory"] is not None:
            t = [m["t"] + 1 for m in r["memory"]]
            b.plot(t, [m["active_planes"] for m in r["memory"]], color=colour, label=name)
    a.axhline(10, color="grey", lw=0.8, ls=":", label="memoryless guess (10 %)")
    blind = RecallTask(2 * len(k)).key_blind_accuracy
    a.axhline(100 * blind, color="black", lw=0.9, ls="--", label=f"key-blind optimum ({100 * blind:.1f} %)")
    a.set(xlabel="position of the queried pair (1 = first)", ylabel="validation accuracy (%)",
          title="recall: accuracy by the queried pair's position")  # fmt: skip
    a.legend(fontsize=6, loc="center right", framealpha=0.8)
    b.set(xlabel="step t", ylabel="active planes of $R_t$", title="RUM memory: planes with angle > floor")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def probe_main(
    argv: list[str] | None,
    *,
    doc: str,
    task: str,
    out: Path,
    record: str,
    picture: str,
    evaluate: Callable[[Trainer], dict[str, Any]],
    figure: Callable[[dict[str, dict[str, Any]], Path], None],
    markdown: Callable[[dict[str, dict[str, Any]]], str],
    spectrum_sequences: int,
    describe: Callable[[dict[str, Any]], str] | None = None,
) -> int:
    """The command line of a checkpoint probe (this one, ``../copy_memory/``): read the ``task``
    runs, ``evaluate`` each checkpoint and track its memory, write ``OUT/record`` and
    ``OUT/picture`` and print the tables; ``--replot`` redraws them from ``OUT/record``. Each run's
    progress line on stderr gives its step and accuracy, then ``describe(result)`` if given."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*", type=Path, help=f"{task} run folders holding checkpoint.pt")
    p.add_argument("--replot", action="store_true",
                   help=f"redraw the figure and print the tables from OUT/{record}; no runs read")  # fmt: skip
    p.add_argument("--names", nargs="+", default=None, metavar="NAME", help="the runs' names in the tables, in order")
    p.add_argument("--out", type=Path, default=out)
    p.add_argument("--spectrum-sequences", type=int, default=spectrum_sequences)
    p.add_argument("--angle-floor", type=float, default=1e-6)
    a = p.parse_args(argv)
    if a.replot:
        if a.runs:
            p.error(f"--replot reads OUT/{record} and takes no runs")
        if not (a.out / record).is_file():
            p.error(f"{a.out / record}: not found (run without --replot first)")
        results = json.loads((a.out / record).read_text())
        figure(results, a.out / picture)
        print(markdown(results))
        return 0
    if not a.runs:
        p.error("give the run folders (or --replot)")
    names = a.names if a.names is not None else [run.name for run in a.runs]
    if len(names) != len(a.runs):
        p.error(f"--names gives {len(names)} names for {len(a.runs)} runs")
    if len(set(names)) != len(names):
        p.error("the runs' names must differ (give --names)")
    if a.spectrum_sequences < 1 or not a.angle_floor > 0:
        p.error("--spectrum-sequences must be at least 1 and --angle-floor positive")
    for run in a.runs:
        if not (run / "checkpoint.pt").is_file():
            p.error(f"{run}: no checkpoint.pt")
    results: dict[str, dict[str, Any]] = {}
    for name, run in zip(names, a.runs, strict=True):
        trainer = load_trainer(run, task)
        res = evaluate(trainer)
        res.update(run=str(run), step=trainer.step, lam=lam_of(trainer))
        res["memory"] = memory_track(trainer, a.spectrum_sequences, a.angle_floor)
        results[name] = res
        extra = f" ({describe(res)})" if describe is not None else ""
        print(f"{name}: step {trainer.step:,}, accuracy {100 * res['accuracy']:.2f} %{extra}", file=sys.stderr)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / record).write_text(json.dumps(results, indent=1) + "\n")
    figure(results, a.out / picture)
    print(markdown(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    return probe_main(argv, doc=__doc__, task="recall", out=HERE, record="positions.json", picture="positions.png",
                      evaluate=position_accuracy, figure=figure, markdown=markdown, spectrum_sequences=256,
                      describe=lambda res: f"key-blind optimum {100 * res['key_blind']:.2f} %")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
