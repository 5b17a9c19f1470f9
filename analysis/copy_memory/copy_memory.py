r"""Where a trained copy model keeps the symbols: RUM's memory ``R`` or its hidden state ``h``
(issue 12's fractional-λ study, copy T = 200).

Copy (Henaff et al. §3.1, RUM appendix A; :class:`orthornn.tasks.CopyTask`) shows ``S`` data
symbols, ``T − 1`` blanks, the delimiter and ``S`` blanks; the model must output the symbols in
the last ``S`` steps. A RUM with real λ updates its memory as

.. math:: R_t = (R_{t-1})^\lambda\,\mathrm{Rotation}(\varepsilon_t, \tau_t),

so for ``|λ| < 1`` an angle written ``k`` steps ago is scaled by about :math:`\lambda^k`: at
λ = 0.5 nothing the data steps wrote into ``R`` survives the 200-step delay (0.5^200 ≈ 6e-61),
and whatever carries the symbols across must be ``h``. At λ = 1 the memory keeps every angle.
This script tests that reading on trained checkpoints, with no further training. For each run
folder (``checkpoint.pt`` of an ``orthornn train`` / ``orthornn sweep`` copy run) it evaluates the
checkpoint's parameters on the run's own validation set (the sequences its training evaluated)

* as trained;
* with ``R`` **erased** (set to ``I``) **after the data**, before the first blank (step ``S``);
* with ``R`` erased **before the delimiter** (step ``S + T − 1``): what ``h`` alone carries;
* with ``h`` erased (set to 0) before the delimiter, ``R`` kept: what ``R`` alone carries

— for each, the accuracy on each of the ``S`` recalled symbols, the recalled-symbol accuracy
(the training's ``accuracy``) and the success rate (sequences entirely right); and for the first
``--spectrum-sequences`` sequences the mean :math:`\|\log R_t\|_F` (the norm of the memory's
angles) and active planes of ``R_t`` at every step (:func:`orthornn.spectra.memory_phases`).
It writes ``OUT/copy_memory.json`` and ``OUT/copy_memory.png`` and prints the tables.

    python analysis/copy_memory/copy_memory.py RUN [RUN ...] [--names NAME ...] \
        [--out analysis/copy_memory] [--spectrum-sequences 64] [--angle-floor 1e-6]
    python analysis/copy_memory/copy_memory.py --replot [--out analysis/copy_memory]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orthornn.nn import RUMState
from orthornn.train.loop import Trainer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "recall_memory"))
from recall_memory import has_memory, probe_main  # noqa: E402  (shared with recall)

#: The evaluations, in table order: (key, description).
VARIANTS = (
    ("trained", "as trained"),
    ("R_erased_after_data", "R = I after the data (step S)"),
    ("R_erased_before_delimiter", "R = I before the delimiter (step S + T − 1)"),
    ("h_erased_before_delimiter", "h = 0 before the delimiter, R kept"),
)


def _variant_scores(trainer: Trainer, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The model's scores (B, L, C) on one-hot inputs ``x`` for each of :data:`VARIANTS` (the
    erasures only for a RUM with a memory): the state is edited where the variant says. The two
    edits before the delimiter share one run of the model up to it."""
    model, task = trainer.model, trainer.stream.task
    out = {"trained": model(x)[0]}
    if not has_memory(trainer):
        return out
    edits = ((task.S, ("R_erased_after_data",)),
             (task.S + task.T - 1, ("R_erased_before_delimiter", "h_erased_before_delimiter")))  # fmt: skip
    for cut, variants in edits:
        head, (h, R) = model(x[:, :cut])
        for v in variants:
            if v == "h_erased_before_delimiter":
                state = RUMState(torch.zeros_like(h), R)
            else:
                state = RUMState(h, torch.eye(R.shape[-1], dtype=R.dtype).expand_as(R).contiguous())
            out[v] = torch.cat([head, model(x[:, cut:], state)[0]], 1)
    return out


@torch.no_grad()
def symbol_accuracy(trainer: Trainer) -> dict[str, Any]:
    """Per variant (:data:`VARIANTS`; the erasures only for a RUM with a memory): accuracy on each
    recalled symbol (1 … S), the recalled-symbol accuracy and the success rate, on the run's
    validation set."""
    stream, task = trainer.stream, trainer.stream.task
    fixed = stream.valid_set
    variants = [v for v, _ in VARIANTS if v == "trained" or has_memory(trainer)]
    right: dict[str, list[np.ndarray]] = {v: [] for v in variants}
    blanks_right: list[np.ndarray] = []
    for lo in range(0, len(fixed), 256):
        x, y = fixed.inputs[lo : lo + 256], fixed.targets[lo : lo + 256]
        b = stream.encode(x, y)
        for v, scores in _variant_scores(trainer, b.x).items():
            ok = scores.argmax(-1) == b.y
            right[v].append(ok[:, -task.S :].numpy())
            if v == "trained":
                blanks_right.append(ok[:, : -task.S].numpy())
    out: dict[str, Any] = {"sequences": len(fixed), "blank_accuracy": float(np.concatenate(blanks_right).mean())}
    for v in variants:
        ok = np.concatenate(right[v])  # (n, S): the recalled symbols
        out[v] = {
            "accuracy": float(ok.mean()),
            "success": float(ok.all(1).mean()),
            "by_symbol": [float(p) for p in ok.mean(0)],
        }
    out["accuracy"] = out["trained"]["accuracy"]  # the recalled-symbol accuracy, as training reports it
    return out


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """The tables: recalled-symbol accuracy and success per variant; accuracy by symbol; the
    memory's angle norm at chosen steps."""
    names = list(results)
    lines = ["| evaluation | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for v, text in VARIANTS:
        cells = [
            f"{100 * r[v]['accuracy']:.1f} % ({100 * r[v]['success']:.1f} %)" if v in r else "—"
            for r in results.values()
        ]
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    lines.append("| step, λ | " + " | ".join(
        f"{r['step']:,}" + ("" if r["lam"] is None else f", {r['lam']:.3g}") for r in results.values()
    ) + " |")  # fmt: skip
    S = len(next(iter(results.values()))["trained"]["by_symbol"])
    for v, text in VARIANTS:
        if not any(v in r for r in results.values()):
            continue
        lines += ["", f"Accuracy by recalled symbol (%), {text}:", "",
                  "| run | " + " | ".join(str(k + 1) for k in range(S)) + " |", "|---|" + "---|" * S]  # fmt: skip
        for name, r in results.items():
            if v in r:
                lines.append(f"| {name} | " + " | ".join(f"{100 * p:.1f}" for p in r[v]["by_symbol"]) + " |")
    tracked = {n: r["memory"] for n, r in results.items() if r["memory"] is not None}
    if tracked:
        L = len(next(iter(tracked.values())))
        steps = sorted({0, S - 1, S, S + 10, S + 50, L - S - 1, L - S, L - 1} & set(range(L)))
        header = "| run | " + " | ".join(f"t = {t + 1}" for t in steps) + " |"
        lines += ["", "Mean ‖log R_t‖_F (active planes) at step t:", "", header, "|---|" + "---|" * len(steps)]
        for name, tr in tracked.items():
            cells = [f"{tr[t]['angle_norm']:.3g} ({tr[t]['active_planes']:.1f})" for t in steps]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Accuracy by recalled symbol, as trained (solid) and with R erased before the delimiter
    (dashed), left; the memory's angle norm over the sequence, right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, r) in enumerate(results.items()):
        colour = f"C{i % 10}"
        k = np.arange(1, len(r["trained"]["by_symbol"]) + 1)
        a.plot(k, 100 * np.array(r["trained"]["by_symbol"]), marker="o", ms=3, color=colour,
               label=f"{name}, as trained")  # fmt: skip
        if "R_erased_before_delimiter" in r:
            a.plot(k, 100 * np.array(r["R_erased_before_delimiter"]["by_symbol"]), marker="x", ms=3, ls="--",
                   color=colour, label=f"{name}, R = I before the delimiter")  # fmt: skip
        if r["memory"] is not None:
            t = [m["t"] + 1 for m in r["memory"]]
            b.semilogy(t, [max(m["angle_norm"], 1e-300) for m in r["memory"]], color=colour, label=name)
    a.axhline(12.5, color="grey", lw=0.8, ls=":", label="chance (1/8)")
    a.set(xlabel="recalled symbol (1 = first)", ylabel="validation accuracy (%)",
          title="copy: accuracy by recalled symbol", ylim=(0, 102))  # fmt: skip
    a.legend(fontsize=6)
    b.set(xlabel="step t", ylabel=r"mean $\|\log R_t\|_F$", title="RUM memory: the norm of its angles")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    return probe_main(argv, doc=__doc__, task="copy", out=HERE, record="copy_memory.json", picture="copy_memory.png",
                      evaluate=symbol_accuracy, figure=figure, markdown=markdown, spectrum_sequences=64)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
