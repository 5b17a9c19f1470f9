r"""Henaff, Szlam, LeCun (2016), Figure 6: the hidden states of the pooled LT-ORNN over one
adding sequence, and the radius and phase of each pooled pair.

The model (Henaff eq. 6, pool size and stride 2) is

.. math:: h_t = \operatorname{clip}_\ell\big(\sigma(U x_t + b) + V h_{t-1}\big), \qquad
          y_t = W_I h_t + W_P P_2(h_t), \qquad
          P_2(h)_i = r_{i,t} = \sqrt{h_{2i}^2 + h_{2i+1}^2},

and §4.2 reads its Figure 6 as: the state stays roughly constant until the first marked
number, then oscillates; the information sits in the *radius* :math:`r_{i,t}` of rotations
in 2-D subspaces, the phase :math:`\varphi_{i,t} = \operatorname{atan2}(h_{2i+1}, h_{2i})`
is discarded by the pooling. This script takes a trained run folder (``checkpoint.pt``, an
``orthornn train``/``orthornn sweep`` run of ``--model ltrnn --pool 2`` on adding), runs one
adding sequence with the two markers at chosen positions, records :math:`h_t` (B = 1) and
writes

* ``figure6.png``: (a) all units over time, (b) the units of the pairs whose radius changes
  most at the marks, (c) the radii :math:`r_{i,t}` of all pairs, (d) their phases;
* ``figure6.csv``: per step the input, :math:`h_t`, :math:`r_{i,t}` and :math:`\varphi_{i,t}`;
* ``figure6.json``: the sequence, target, prediction, how constant the radii are between
  the marks against how much they jump at them, and how far ``V`` keeps each pooled plane
  (its 2×2 diagonal blocks) — printed too.

    python analysis/henaff_figure6/make_figure6.py RUN_DIR [--T T] [--marks P1 P2] [--seed S] [--out DIR]

Positions are 0-based steps. The paper's marks are at 264 and 463 (its T is not stated; with
one marker in each half, as :class:`orthornn.tasks.AddingTask` draws them, that needs
T ≥ 529, e.g. its T = 750); by default they are scaled to the trained length:
``round(264/750·T)`` and ``round(463/750·T)``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orthornn._conventions import wrap_phase
from orthornn.plotting import plot_memory_phases
from orthornn.train import TrainConfig
from orthornn.train.checkpoint import load_checkpoint
from orthornn.train.loop import Trainer

HERE = Path(__file__).resolve().parent
#: The paper's marks and the length they are scaled from (see the module docstring).
PAPER_MARKS, PAPER_T = (264, 463), 750


def load_model(run: Path) -> tuple[TrainConfig, torch.nn.Module]:
    """The trained model of ``run`` (its ``checkpoint.pt``), rebuilt by a Trainer of its config."""
    state = load_checkpoint(run / "checkpoint.pt")
    config = TrainConfig.from_dict(state["config"])
    if config.task != "adding" or config.model != "ltrnn" or config.pool != 2:
        raise SystemExit(f"{run}: need an LT-RNN with pool 2 trained on adding, got {config.model} on {config.task} "
                         f"with pool {config.pool}")  # fmt: skip
    trainer = Trainer(dataclasses.replace(config, device="cpu"))
    trainer.load_state_dict(state)
    return config, trainer.model.eval()


def sequence(T: int, marks: tuple[int, int], seed: int) -> tuple[np.ndarray, float]:
    """One adding input ``(T, 2)`` (values U[0, 1), markers at ``marks``) and its target."""
    values = np.random.default_rng(seed).random(T)
    x = np.zeros((T, 2))
    x[:, 0] = values
    x[list(marks), 1] = 1.0
    return x, float(values[list(marks)].sum())


@torch.no_grad()
def hidden_states(model: torch.nn.Module, x: np.ndarray) -> tuple[np.ndarray, float]:
    """``h_t`` (T, N) of the LT-RNN core over ``x`` (T, 2) and the prediction at the last step.

    The states are the input of the core's readout, caught by a forward hook on it."""
    core = model.core
    caught: list[torch.Tensor] = []
    hook = core.readout.register_forward_hook(lambda _m, inp, _out: caught.append(inp[0]))
    try:
        p = next(model.parameters())
        y, _ = model(torch.as_tensor(x[None], dtype=p.dtype, device=p.device))
    finally:
        hook.remove()
    return caught[0][0].double().cpu().numpy(), float(y[0, -1, 0])


def pairs(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radius ``r_{i,t}`` (= P_2(h_t)_i) and phase ``φ_{i,t}`` in (−π, π] of each pair, (T, N/2)."""
    a, b = H[:, 0::2], H[:, 1::2]
    return np.hypot(a, b), wrap_phase(np.arctan2(b, a))


def stability(r: np.ndarray, marks: tuple[int, int]) -> dict[str, Any]:
    """How constant the radii are between the marks and how much they move at them.

    For each pair: ``drift`` is the mean absolute step change |r_t − r_{t−1}| away from the
    marks, ``jump1``/``jump2`` the change at each mark; the medians over pairs are reported,
    with the share of pairs whose jump at a mark exceeds 10× their drift."""
    d = np.abs(np.diff(r, axis=0))  # d[t-1] = |r_t − r_{t−1}|, t = 1..T−1
    at = [m - 1 for m in marks if m >= 1]
    away = np.delete(d, at, axis=0)
    drift = away.mean(0)
    out: dict[str, Any] = {"median_drift_per_step": float(np.median(drift))}
    for name, m in zip(("jump1", "jump2"), marks, strict=True):
        if m >= 1:
            jump = d[m - 1]
            out[f"median_{name}"] = float(np.median(jump))
            out[f"pairs_{name}_over_10x_drift"] = float(np.mean(jump > 10 * drift))
    segments = [(0, marks[0]), (marks[0], marks[1]), (marks[1], len(r))]
    cv = []
    for lo, hi in segments:
        seg = r[lo:hi]
        cv.append(float(np.median(seg.std(0) / np.maximum(seg.mean(0), 1e-12))) if hi - lo > 1 else float("nan"))
    out["median_relative_sd_of_radius_per_segment"] = cv
    return out


def pair_blocks(V: np.ndarray) -> dict[str, float]:
    """How far the pooled planes span(e_2i, e_2i+1) are invariant under ``V``.

    A radius :math:`r_{i,t}` can stay constant without input only if ``V`` maps its plane into
    itself, i.e. its 2×2 diagonal block ``V[2i:2i+2, 2i:2i+2]`` is a rotation (singular values 1;
    for a Haar-random orthogonal ``V`` of size N its entries are of size N^{-1/2}). Reported: the
    median over pairs of the block's singular values."""
    n = V.shape[0] // 2
    s = np.array([np.linalg.svd(V[2 * i : 2 * i + 2, 2 * i : 2 * i + 2], compute_uv=False) for i in range(n)])
    return {
        "median_pair_block_sv_max": float(np.median(s[:, 0])),
        "median_pair_block_sv_min": float(np.median(s[:, 1])),
    }


def readout_parts(model: torch.nn.Module, H: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The output ``y_t`` split as Henaff eq. 6 builds it: ``W_I h_t + c`` and ``W_P P_2(h_t)``,
    (T,) each, and the weights ``W_P`` (N/2,) of the pooled pairs."""
    ro = model.core.readout
    w_i, w_p = (w.detach().double().cpu().numpy()[0] for w in (ro.weight, ro.weight_pool))
    c = 0.0 if ro.bias is None else float(ro.bias.detach()[0])
    return H @ w_i + c, r @ w_p, w_p


def figure(H: np.ndarray, r: np.ndarray, phi: np.ndarray, parts: tuple[np.ndarray, ...], target: float,
           marks: tuple[int, int], title: str) -> Any:  # fmt: skip
    """The five panels (a)–(e) as one matplotlib Figure."""
    from matplotlib.figure import Figure

    T = len(H)
    t = np.arange(T)
    raw, pooled, w_p = parts
    change = np.abs(r[min(marks[1] + 1, T - 1)] - r[max(marks[0] - 1, 0)])
    top = np.argsort(-np.abs(w_p) * change)[:3]  # the pairs that move the pooled output most
    fig = Figure(figsize=(11, 12.5), layout="constrained")
    axs = fig.subplots(5, 1, sharex=True)
    lim = np.abs(H).max() or 1.0
    im = axs[0].imshow(H.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest",
                       extent=(-0.5, T - 0.5, H.shape[1] - 0.5, -0.5))  # fmt: skip
    fig.colorbar(im, ax=axs[0], label="h_t")
    axs[0].set_ylabel("unit")
    axs[0].set_title(f"(a) hidden activations h_t over one adding sequence — {title}", fontsize="medium")
    for k, i in enumerate(top):
        axs[1].plot(t, H[:, 2 * i], color=f"C{k}", lw=1, label=f"unit {2 * i}")
        axs[1].plot(t, H[:, 2 * i + 1], color=f"C{k}", lw=1, ls="--", label=f"unit {2 * i + 1}")
    axs[1].set_ylabel("h_t")
    axs[1].set_title("(b) the units of the 3 pairs with the largest |W_P,i|·|Δr_i| across the marks", fontsize="medium")
    axs[1].legend(ncol=6, fontsize="small")
    axs[2].plot(t, r, color="0.75", lw=0.6)
    for k, i in enumerate(top):
        axs[2].plot(t, r[:, i], color=f"C{k}", lw=1.5, label=f"pair {i} (units {2 * i}, {2 * i + 1})")
    axs[2].set_ylabel("r_i,t = P_2(h_t)_i")
    axs[2].set_title("(c) radius of each pooled pair (grey: all pairs)", fontsize="medium")
    axs[2].legend(fontsize="small")
    colours = [f"C{k}" for k in np.tile(np.arange(len(top)), T)]  # the (T, n) phases flattened row by row
    plot_memory_phases(phi[:, top], axs[3], times=t, size=5.0, color=colours)
    axs[3].set_ylabel("φ_i,t of the 3 pairs")
    axs[3].set_xlabel("")
    axs[3].set_title("(d) phase atan2(h_2i+1, h_2i) of the same pairs (discarded by the pooling)", fontsize="medium")
    axs[4].plot(t, raw + pooled, color="k", lw=1.5, label="y_t")
    axs[4].plot(t, raw, color="C0", lw=1, label="W_I h_t + c (unpooled)")
    axs[4].plot(t, pooled, color="C1", lw=1, label="W_P P_2(h_t) (pooled)")
    axs[4].axhline(target, color="C2", ls="--", lw=1, label=f"target {target:.3f} (read at the last step)")
    axs[4].set_ylabel("output")
    axs[4].set_title("(e) the readout of eq. 6 at every step, split into its two terms", fontsize="medium")
    axs[4].legend(fontsize="small", ncol=2)
    axs[4].set_xlabel("time step t (0-based)")
    for ax in axs:
        for m in marks:
            ax.axvline(m, color="k", lw=0.8, ls=":")
    for ax in axs[1:]:
        ax.set_xlim(-0.5, T - 0.5)
    return fig


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="a run folder holding checkpoint.pt (ltrnn, pool 2, adding)")
    p.add_argument("--T", type=int, help="sequence length (default: the trained T)")
    p.add_argument("--marks", type=int, nargs=2, metavar=("P1", "P2"), help="0-based marker positions")
    p.add_argument("--seed", type=int, default=0, help="seed of the sequence's values")
    p.add_argument("--out", type=Path, default=HERE, help="where figure6.png/.csv/.json go (default: this folder)")
    args = p.parse_args(argv)
    config, model = load_model(args.run)
    T = args.T or config.T
    marks = tuple(args.marks) if args.marks else tuple(round(m * T / PAPER_T) for m in PAPER_MARKS)
    if not (0 <= marks[0] < marks[1] < T):
        p.error(f"--marks must satisfy 0 <= P1 < P2 < T = {T}, got {marks}")
    x, target = sequence(T, marks, args.seed)
    H, prediction = hidden_states(model, x)
    r, phi = pairs(H)
    stats = stability(r, marks)
    stats.update(pair_blocks(model.core.weight_rec.detach().double().cpu().numpy()))
    args.out.mkdir(parents=True, exist_ok=True)
    title = f"trained T = {config.T}, {config.steps} steps; T = {T}, marks at {marks[0]}, {marks[1]}"
    parts = readout_parts(model, H, r)
    stats["output_at_last_step"] = {"unpooled": float(parts[0][-1]), "pooled": float(parts[1][-1])}
    figure(H, r, phi, parts, target, marks, title).savefig(args.out / "figure6.png", dpi=110)
    n, m = H.shape[1], r.shape[1]
    with open(args.out / "figure6.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "value", "marker", *(f"h{j}" for j in range(n)), *(f"r{i}" for i in range(m)),
                    *(f"phi{i}" for i in range(m))])  # fmt: skip
        for k in range(T):
            w.writerow([k, f"{x[k, 0]:.6g}", int(x[k, 1]), *(f"{v:.6g}" for v in H[k]), *(f"{v:.6g}" for v in r[k]),
                        *(f"{v:.6g}" for v in phi[k])])  # fmt: skip
    record = {"run": str(args.run), "trained_T": config.T, "trained_steps": config.steps, "T": T, "marks": list(marks),
              "seed": args.seed, "target": target, "prediction": prediction,
              "squared_error": (prediction - target) ** 2, "norm_h_T": float(np.linalg.norm(H[-1])),
              **stats}  # fmt: skip
    (args.out / "figure6.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
