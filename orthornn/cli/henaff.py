"""``orthornn henaff {copy,figure1,crosstalk,adding}``: Henaff et al.'s explicit solutions, measured.

* ``copy`` — success of the random copy construction, run step by step (and in closed form);
* ``figure1`` — the (K, S) success grid: ``DIR/figure1.csv`` and ``DIR/figure1.png``;
* ``crosstalk`` — the interference term against (S − 1)/d and its exact mean;
* ``adding`` — the one-unit ReLU solution and its LSTM readings on random adding sequences.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..henaff import (
    ADDING_LSTM_GATES,
    Figure1,
    adding_lstm,
    adding_solution,
    copy_trials,
    copy_trials_forward,
    crosstalk,
    figure1,
)
from ..tasks import AddingTask
from .progress import progress_bar
from .usage import Parser, UsageError, check_folder, check_writable, path_arg, writing

__all__ = ["plot_figure1", "register", "run_adding", "run_copy", "run_crosstalk", "run_figure1"]

FIGURE1_K = (2, 4, 8, 16, 32, 64)
FIGURE1_S = (2, 5, 10, 15, 20, 30, 40)


def _at_least(minimum: int, flag: str) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers >= ``minimum``; its errors name ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be >= {minimum}, got {value}")
        return value

    parse.__name__ = flag  # argparse names the type in its message
    return parse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``henaff`` subcommand and its four tasks."""
    p = sub.add_parser(
        "henaff",
        help="Henaff et al.'s explicit copy and adding solutions, measured",
        description="Run the explicit LT-RNN solutions of Henaff, Szlam & LeCun (2016) and report how well they work.",
    )
    tasks = p.add_subparsers(dest="henaff_command", metavar="TASK", parser_class=Parser)
    tasks.required = True

    c = tasks.add_parser("copy", help="success rate of the random copy construction (step by step)")
    c.add_argument("--K", type=_at_least(2, "--K"), default=8, help="alphabet size (default 8)")
    c.add_argument("--S", type=_at_least(1, "--S"), default=10, help="symbols to copy (default 10)")
    c.add_argument("--T", type=_at_least(1, "--T"), default=500, help="delay (default 500)")
    c.add_argument("--d", type=_at_least(1, "--d"), default=128, help="clock blocks, hidden size 2d+1 (default 128)")
    c.add_argument("--trials", type=_at_least(1, "--trials"), default=500, help="constructions (default 500)")
    c.add_argument("--seed", type=_at_least(0, "--seed"), default=0, help="random seed (default 0)")
    c.add_argument("--json", dest="json_file", metavar="FILE", type=path_arg, help="write the results as JSON")
    c.set_defaults(handler=run_copy)

    f = tasks.add_parser("figure1", help="the (K, S) success grid of the paper's Figure 1")
    f.add_argument("--out", required=True, type=path_arg, metavar="DIR", help="folder for figure1.csv and figure1.png")
    f.add_argument("--trials", type=_at_least(1, "--trials"), default=500, help="trials per cell (default 500)")
    f.add_argument("--T", type=_at_least(1, "--T"), default=500, help="delay (default 500)")
    f.add_argument("--d", type=_at_least(1, "--d"), default=128, help="clock blocks (default 128)")
    f.add_argument("--K", nargs="+", type=_at_least(2, "--K"), default=list(FIGURE1_K), help="alphabet sizes")
    f.add_argument("--S", nargs="+", type=_at_least(1, "--S"), default=list(FIGURE1_S), help="sequence lengths")
    f.add_argument("--seed", type=_at_least(0, "--seed"), default=0, help="random seed (default 0)")
    f.set_defaults(handler=run_figure1)

    x = tasks.add_parser("crosstalk", help="mean square cross-talk vs (S-1)/d and the exact mean")
    x.add_argument(
        "--S", nargs="+", type=_at_least(1, "--S"), default=[2, 5, 10, 20], help="lengths (default 2 5 10 20)"
    )
    x.add_argument("--K", type=_at_least(2, "--K"), default=8, help="alphabet size (default 8)")
    x.add_argument("--T", type=_at_least(1, "--T"), default=500, help="delay (default 500)")
    x.add_argument("--d", type=_at_least(1, "--d"), default=128, help="clock blocks (default 128)")
    x.add_argument("--trials", type=_at_least(2, "--trials"), default=10000, help="samples per S (default 10000)")
    x.add_argument("--seed", type=_at_least(0, "--seed"), default=0, help="random seed (default 0)")
    x.add_argument("--json", dest="json_file", metavar="FILE", type=path_arg, help="write the results as JSON")
    x.set_defaults(handler=run_crosstalk)

    a = tasks.add_parser("adding", help="the exact ReLU solution of the adding problem and its LSTM readings")
    a.add_argument("--T", type=_at_least(2, "--T"), default=750, help="sequence length (default 750)")
    a.add_argument("--trials", type=_at_least(1, "--trials"), default=1000, help="sequences (default 1000)")
    a.add_argument("--seed", type=_at_least(0, "--seed"), default=0, help="random seed (default 0)")
    a.add_argument("--json", dest="json_file", metavar="FILE", type=path_arg, help="write the results as JSON")
    a.set_defaults(handler=run_adding)


def _write_json(path: Path | None, record: dict[str, object]) -> None:
    if path is not None:
        with writing(path, "--json"):
            path.write_text(json.dumps(record, indent=2) + "\n")


def run_copy(args: argparse.Namespace) -> int:
    """Run the copy construction step by step and in closed form on the same trials."""
    check_writable(args.json_file, "--json")
    start = time.perf_counter()
    bar = progress_bar(args.trials, desc="copy, step by step", unit="trial")
    try:
        steps = copy_trials_forward(args.K, args.S, args.T, args.d, args.trials, args.seed, progress=bar.update)
    finally:
        bar.close()
    step_s = time.perf_counter() - start
    start = time.perf_counter()
    closed = copy_trials(args.K, args.S, args.T, args.d, args.trials, args.seed)
    closed_s = time.perf_counter() - start
    print(f"copy construction: K={args.K} S={args.S} T={args.T} d={args.d} (hidden {2 * args.d + 1}), ", end="")
    print(f"{args.trials} trials, seed {args.seed}")
    lines = [
        (f"success (all {args.S} symbols recalled)", steps.success, ""),
        ("recalled-symbol accuracy", steps.recall, ""),
        ("blank accuracy before the delimiter", steps.blank_before_delimiter, ""),
        ("blank output at the delimiter step", steps.blank_at_delimiter, "  (never: the counter has flipped)"),
    ]
    for label, value, note in lines:
        print(f"  {label:<40}{value:8.1%}{note}")
    print(f"  closed form on the same trials: success {closed.success:.1%}, recall {closed.recall:.1%}")
    print(f"  time: step by step {step_s:.1f} s, closed form {closed_s:.2f} s")
    _write_json(
        args.json_file,
        {
            "K": args.K,
            "S": args.S,
            "T": args.T,
            "d": args.d,
            "trials": args.trials,
            "seed": args.seed,
            "success": steps.success,
            "recall_accuracy": steps.recall,
            "blank_accuracy_before_delimiter": steps.blank_before_delimiter,
            "blank_at_delimiter": steps.blank_at_delimiter,
            "closed_form_success": closed.success,
            "closed_form_recall_accuracy": closed.recall,
            "seconds_step_by_step": round(step_s, 3),
            "seconds_closed_form": round(closed_s, 3),
        },
    )
    return 0


def plot_figure1(result: Figure1, path: Path) -> None:
    """Draw the success grid (heat map and one curve per K) into the PNG file ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_map, ax_lines) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    pct = 100 * result.success
    image = ax_map.imshow(pct, cmap="viridis", vmin=0, vmax=100, origin="lower", aspect="auto")
    ax_map.set_xticks(range(len(result.S_values)), [str(s) for s in result.S_values])
    ax_map.set_yticks(range(len(result.K_values)), [str(k) for k in result.K_values])
    ax_map.set_xlabel("S (symbols to copy)")
    ax_map.set_ylabel("K (alphabet size)")
    for a in range(pct.shape[0]):
        for b in range(pct.shape[1]):
            ax_map.text(
                b, a, f"{pct[a, b]:.0f}", ha="center", va="center", color="white" if pct[a, b] < 60 else "black"
            )
    fig.colorbar(image, ax=ax_map)
    ax_map.set_title("success of the explicit copy solution (%)")
    for a, K in enumerate(result.K_values):
        ax_lines.plot(result.S_values, pct[a], marker="o", label=f"K = {K}")
    ax_lines.set_xlabel("S (symbols to copy)")
    ax_lines.set_ylabel("success (%)")
    ax_lines.set_ylim(-3, 103)
    ax_lines.grid(alpha=0.3)
    ax_lines.legend(title="alphabet", fontsize=8)
    ax_lines.set_title(f"T = {result.T}, d = {result.d}, {result.trials} trials per point")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _figure1_cells(K_values: list[int], S_values: list[int], *, T: int, d: int, trials: int, seed: int) -> Figure1:
    """:func:`orthornn.henaff.figure1`, one cell at a time under a progress bar (stderr, terminals only).

    A cell's value depends only on ``(seed, K, S)``, not on the grid around it
    (:func:`orthornn.henaff.cell_seed`), so the 1 × 1 grids assemble into the full one.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    success = np.empty((len(K_values), len(S_values)))
    recall = np.empty_like(success)
    bar = progress_bar(success.size, desc="figure1", unit="cell")
    try:
        for a, K in enumerate(K_values):
            for b, S in enumerate(S_values):
                bar.set_postfix_str(f"K={K} S={S}", refresh=False)
                cell = figure1([K], [S], T=T, d=d, trials=trials, seed=seed)
                success[a, b], recall[a, b] = cell.success[0, 0], cell.recall[0, 0]
                bar.update(1)
    finally:
        bar.close()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Figure1(tuple(K_values), tuple(S_values), success, recall, T, d, trials, seed, wall, cpu)


def run_figure1(args: argparse.Namespace) -> int:
    """Compute the grid, write ``figure1.csv`` and ``figure1.png`` into ``--out``."""
    out: Path = args.out
    check_folder(out, "--out")
    with writing(out, "--out"):
        out.mkdir(exist_ok=True)
    result = _figure1_cells(args.K, args.S, T=args.T, d=args.d, trials=args.trials, seed=args.seed)
    rows = ["K,S,success,recall_accuracy,trials,T,d"]
    for a, K in enumerate(result.K_values):
        for b, S in enumerate(result.S_values):
            rows.append(
                f"{K},{S},{result.success[a, b]:.6f},{result.recall[a, b]:.6f},{result.trials},{result.T},{result.d}"
            )
    with writing(out / "figure1.csv", "--out"):
        (out / "figure1.csv").write_text("\n".join(rows) + "\n")
    with writing(out / "figure1.png", "--out"):
        plot_figure1(result, out / "figure1.png")
    width = max(len(str(s)) for s in result.S_values) + 5
    print(f"success (%) of the explicit copy solution, T={result.T}, d={result.d}, {result.trials} trials per cell")
    print("K \\ S " + "".join(f"{s:>{width}}" for s in result.S_values))
    for a, K in enumerate(result.K_values):
        print(f"{K:<6}" + "".join(f"{100 * v:>{width}.1f}" for v in result.success[a]))
    print(f"grid computed in {result.seconds:.1f} s wall, {result.cpu_seconds:.1f} s CPU")
    print(f"wrote {out / 'figure1.csv'} and {out / 'figure1.png'}")
    return 0


def run_crosstalk(args: argparse.Namespace) -> int:
    """Measure the mean square cross-talk for each S."""
    check_writable(args.json_file, "--json")
    gen = np.random.default_rng(args.seed)
    print(
        f"cross-talk X = u_i1 . sum_(j>=2) Q^(1-j) u_ij: K={args.K} T={args.T} d={args.d}, {args.trials} samples per S"
    )
    print(f"{'S':>4}  {'measured E X^2':>19}  {'exact mean':>11}  {'(S-1)/d':>9}  {'measured/(S-1)/d':>16}")
    records = []
    for S in args.S:
        bar = progress_bar(args.trials, desc=f"crosstalk S={S}", unit="trial")
        try:
            c = crosstalk(S, args.K, args.T, args.d, args.trials, gen, progress=bar.update)
        except ValueError as exc:
            raise UsageError(f"--S {S}: {exc}") from None
        finally:
            bar.close()
        ratio = f"{c.measured / c.paper:.3f}" if c.paper else "—"  # S = 1: no other symbol, (S−1)/d = 0
        print(f"{S:>4}  {c.measured:>9.5f} ± {c.stderr:.5f}  {c.exact:>11.5f}  {c.paper:>9.5f}  {ratio:>16}")
        records.append({"S": S, "measured": c.measured, "stderr": c.stderr, "exact": c.exact, "paper": c.paper})
    _write_json(args.json_file, {"K": args.K, "T": args.T, "d": args.d, "trials": args.trials, "results": records})
    return 0


def run_adding(args: argparse.Namespace) -> int:
    """Run the adding solution and the LSTM readings of eq. (7) on random sequences."""
    check_writable(args.json_file, "--json")
    task = AddingTask(args.T)
    x, y = task.sample(args.trials, args.seed)
    pred = adding_solution().predict(x)
    err = float(np.max(np.abs(pred - y)))
    lstm_err = {name: float(np.max(np.abs(adding_lstm(x, name) - y))) for name in ADDING_LSTM_GATES}
    baseline = float(np.mean((y - 1.0) ** 2))
    print(f"adding problem: T={args.T}, {args.trials} sequences, seed {args.seed}")
    print(f"  ReLU LT-RNN (U=[1 1], b=-1, V=W=1): max |error| {err:.3g}, MSE {float(np.mean((pred - y) ** 2)):.3g}")
    for name, e in lstm_err.items():
        note = "  (eq. 7 as printed: g = (x[2]-1)_+ is 0, the cell adds nothing)" if name == "printed" else ""
        print(f"  LSTM gates '{name}': max |error| {e:.3g}{note}")
    print(f"  memoryless baseline (predict 1): MSE {baseline:.4f} (exact 1/6 = {task.baseline:.4f})")
    _write_json(
        args.json_file,
        {
            "T": args.T,
            "trials": args.trials,
            "seed": args.seed,
            "max_abs_error": err,
            "lstm_max_abs_error": lstm_err,
            "baseline_mse": baseline,
        },
    )
    return 0
