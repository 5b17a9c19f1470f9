"""The report's figures as :class:`matplotlib.figure.Figure` objects, drawn with :mod:`orthornn.plotting`.

Each builder takes the :class:`~orthornn.report.data.ReportData` and returns a figure (built
without pyplot, so no display is needed) or raises when the stage it draws failed; the caller
saves it. :data:`FIGURES` lists them with file name, section and caption. The Figure 1 grid
is drawn by ``orthornn henaff figure1``'s plotter, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.figure
import numpy as np

from ..errors import OrthornnError
from ..plotting import plot_kernel, plot_memory_phases, plot_spectrum_comparison, plot_training_curves, spectrum_figure
from .data import ReportData, Stage

__all__ = ["FIGURES", "FigureSpec", "training_curves"]


def _ok(report: ReportData, key: str) -> Stage:
    s = report.stage(key)
    if s is None or s.status != "ok":
        raise OrthornnError(f"stage {key!r} {'did not run' if s is None else 'failed'}; nothing to draw")
    return s


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    """Running mean over ``width`` steps (shorter at the start)."""
    c = np.cumsum(np.concatenate([[0.0], y]))
    i = np.arange(1, y.size + 1)
    lo = np.maximum(i - width, 0)
    return (c[i] - c[lo]) / (i - lo)


def training_curves(report: ReportData) -> matplotlib.figure.Figure:
    """One panel per training run: smoothed training loss, held-out loss, the baseline."""
    runs = [s for s in report.trainings() if s.status == "ok"]
    if not runs:
        raise OrthornnError("no training run succeeded; nothing to draw")
    fig = matplotlib.figure.Figure(figsize=(4.2 * len(runs), 3.6), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, s in zip(axes, runs, strict=True):
        y = s.artifacts["train_loss"]
        steps = np.arange(1, y.size + 1, dtype=float)
        curves = {
            "train (running mean)": (steps, _smooth(y, max(1, y.size // 20))),
            "held-out": (np.asarray(s.data["eval_steps"], float), np.asarray(s.data["eval_loss"], float)),
        }
        ylabel = "MSE" if s.data["config"]["task"] == "adding" else "cross-entropy"
        plot_training_curves(curves, ax, baseline=s.data["baseline"], ylabel=ylabel, logy=True)
        c = s.data["config"]
        ax.set_title(f"{s.data['title']}\nT={c['T']}, N={c['hidden']}", fontsize="medium")
    return fig


def spectrum_comparison(report: ReportData) -> matplotlib.figure.Figure:
    """Eigenphase histograms: trained transition beside the explicit clock."""
    s = _ok(report, "spectrum")
    ph, p = s.artifacts["phases"], s.artifacts["roots"]
    fig = matplotlib.figure.Figure(figsize=(11, 4.2), layout="constrained")
    plot_spectrum_comparison(
        ph["trained"],
        ph["explicit"],
        fig,
        roots=p,
        labels=(f"trained LT-ORNN V (N={s.data['hidden']})", f"explicit clock (2d+1={s.data['explicit_hidden']})"),
    )
    return fig


def spectrum_initial(report: ReportData) -> matplotlib.figure.Figure:
    """Eigenphase histograms: the same transition at initialisation and after training."""
    s = _ok(report, "spectrum")
    ph, p = s.artifacts["phases"], s.artifacts["roots"]
    fig = matplotlib.figure.Figure(figsize=(11, 4.2), layout="constrained")
    plot_spectrum_comparison(ph["trained"], ph["initial"], fig, roots=p, labels=("trained V", "V at initialisation"))
    return fig


def trained_spectrum(report: ReportData) -> matplotlib.figure.Figure:
    """The trained transition's eigenvalues on the unit circle and its phase histogram with the Haar density."""
    s = _ok(report, "spectrum")
    V = s.artifacts["V"]
    lam = np.linalg.eigvals(V)
    return spectrum_figure(
        lam,
        phases=s.artifacts["phases"]["trained"],
        roots=s.artifacts["roots"],
        haar_n=V.shape[-1],
        title=f"trained LT-ORNN transition V (N={V.shape[-1]}), roots of order T+S={s.artifacts['roots']}",
    )


def root_scan(report: ReportData) -> matplotlib.figure.Figure:
    """Mean normalised distance to the p-th roots for every p: trained, initial, Haar mean ± 2 sd."""
    s = _ok(report, "spectrum")
    sc = s.data["root_scan"]
    p = np.asarray(sc["p"])
    m, sd = np.asarray(sc["haar_mean"]), np.asarray(sc["haar_std"])
    fig = matplotlib.figure.Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.fill_between(p, m - 2 * sd, m + 2 * sd, color="0.85", label="Haar SO(n): mean ± 2 sd")
    ax.plot(p, m, color="0.5", lw=1)
    ax.plot(p, sc["initial"], color="C1", lw=1, label="V at initialisation")
    ax.plot(p, sc["trained"], color="C0", lw=1.5, label="trained V")
    ax.axvline(s.data["roots"], color="k", ls="--", lw=1, label=f"T+S = {s.data['roots']} (the clock: 0)")
    ax.axhline(0.5, color="k", ls=":", lw=0.8, label="uniform phases")
    ax.set_xlabel("order p of the roots of unity")
    ax.set_ylabel("mean distance to p-th roots / (π/p)")
    ax.legend(fontsize="small", ncols=2)
    return fig


def kernels(report: ReportData) -> matplotlib.figure.Figure:
    """Heatmaps of the transition at initialisation and after training (RUM Figure 3 style)."""
    s = _ok(report, "spectrum")
    fig = matplotlib.figure.Figure(figsize=(11, 4.6), layout="constrained")
    a, b = fig.subplots(1, 2)
    plot_kernel(s.artifacts["V0"], a, title="V at initialisation")
    plot_kernel(s.artifacts["V"], b, title="trained V")
    return fig


def memory_phases(report: ReportData) -> matplotlib.figure.Figure:
    """Eigenphases of RUM's memory R_t over one held-out recall sequence."""
    s = _ok(report, "memory")
    fig = matplotlib.figure.Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    plot_memory_phases(s.artifacts["phases"], ax, size=8.0)
    ax.set_title(f"RUM λ=1 memory R_t on one held-out recall sequence (N={s.data['n']})", fontsize="medium")
    return fig


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: file name, the section it belongs to, caption, builder."""

    name: str
    section: str
    caption: str
    build: Callable[[ReportData], matplotlib.figure.Figure]


#: The figures drawn from the report data (besides ``figure1.png``), in order.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "training_curves.png",
        "trainings",
        "Training loss (running mean) and held-out loss of each run, log scale, with the task's memoryless "
        "baseline (dashed): below the line the model uses its memory.",
        training_curves,
    ),
    FigureSpec(
        "spectrum_comparison.png",
        "spectrum",
        "Eigenphase histograms of the trained LT-ORNN transition (left) and of Henaff et al.'s explicit clock "
        "(right), with the (T+S)-th roots of unity marked; titles give the mean normalised distance to the roots "
        "(0 on the roots, 0.5 uniform) and the circular Wasserstein-1 distance between the two.",
        spectrum_comparison,
    ),
    FigureSpec(
        "spectrum_initial_vs_trained.png",
        "spectrum",
        "The same transition after training (left) and at initialisation (right): how far training moved the phases.",
        spectrum_initial,
    ),
    FigureSpec(
        "trained_spectrum.png",
        "spectrum",
        "Eigenvalues of the trained transition in the complex plane (left; a trained LT-RNN drifts off the unit "
        "circle) and its phase histogram against the Haar SO(n) (Weyl) density and the uniform density (right).",
        trained_spectrum,
    ),
    FigureSpec(
        "root_scan.png",
        "spectrum",
        "Does any period stand out? Mean normalised distance of the eigenphases to the p-th roots of unity for "
        "every order p, trained and initial transition against Haar draws (grey band: mean ± 2 standard "
        "deviations). The explicit clock is 0 at p = T+S; a transition that learned the clock would dip there.",
        root_scan,
    ),
    FigureSpec(
        "kernels.png",
        "spectrum",
        "The transition matrix V at initialisation and after training, colour range symmetric about 0.",
        kernels,
    ),
    FigureSpec(
        "memory_phases.png",
        "memory",
        "Eigenphases of RUM's associative memory R_t (λ = 1) at every step of one held-out recall sequence. "
        "R_t differs from R_(t−1) by a rank-2 term (one plane rotation), so at most one more conjugate pair "
        "leaves 0 per step while the pairs already written move.",
        memory_phases,
    ),
)
