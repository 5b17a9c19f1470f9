r"""Figures of spectra, memory phases, training curves and kernels (matplotlib).

Every function draws into a given :class:`~matplotlib.axes.Axes` (or creates one with pyplot
when ``ax`` is ``None``) and returns it; nothing here calls ``plt.show()`` or writes a file.
:func:`spectrum_figure` builds a stand-alone :class:`~matplotlib.figure.Figure` without pyplot
(safe in scripts and servers). Importing :mod:`orthornn` does not import matplotlib; importing
this module does.

* :func:`plot_unit_circle` — eigenvalues in the complex plane with the unit circle;
* :func:`plot_phase_histogram` — eigenphase histogram on (−π, π] with reference marks: p-th
  roots of unity, the uniform density, and the closed-form Haar SO(n) density
  (:func:`orthornn.spectra.haar_eigenphase_density`); its default bins come from the number of
  phases (:func:`phase_bins`);
* :func:`plot_spectrum_comparison` — a trained transition beside the explicit solution;
* :func:`plot_memory_phases` — the phases of RUM's memory :math:`R_t` over time (RUM §5.2);
* :func:`plot_training_curves` — losses with the memoryless baseline;
* :func:`plot_kernel` — a weight matrix as a heatmap with a symmetric colour range (RUM Fig. 3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.figure
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from .errors import OrthornnError, ShapeError
from .numeric.validation import as_float_array, host_values
from .spectra import (
    circular_histogram,
    circular_wasserstein,
    haar_eigenphase_density,
    ordinal,
    root_distance,
)

__all__ = [
    "phase_bins",
    "plot_kernel",
    "plot_memory_phases",
    "plot_phase_histogram",
    "plot_spectrum_comparison",
    "plot_training_curves",
    "plot_unit_circle",
    "spectrum_figure",
]

#: ``gid`` of the unit circle drawn by :func:`plot_unit_circle` (drawn once per Axes).
UNIT_CIRCLE_GID = "orthornn-unit-circle"

_PI_TICKS = (np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * np.pi, ["−π", "−π/2", "0", "π/2", "π"])

#: Bounds of :func:`phase_bins`: below 5 bins (72° each) a histogram shows no shape; above 255 a
#: bin of a figure ~1,000 px wide is under 4 px — pass ``bins=`` for finer ones.
PHASE_BINS_RANGE = (5, 255)


def phase_bins(count: int) -> int:
    r"""Default number of bins of an eigenphase histogram of ``count`` phases.

    .. math:: B = \operatorname{clip}\bigl(2\lfloor\sqrt{m}/2\rfloor + 1,\ 5,\ 255\bigr)

    the odd integer in :math:`(\sqrt m - 1, \sqrt m + 1]`, ``m = count``, within
    :data:`PHASE_BINS_RANGE`.

    * **√m** (the square-root rule): a bin then holds about :math:`\sqrt m` phases, so the
      relative noise of a bar (:math:`\approx 1/\sqrt{\text{count}} = m^{-1/4}` for independent
      phases, less for Haar eigenphases, which repel) and the bin width :math:`2\pi/\sqrt m` shrink
      together as the sample grows. A fixed 64 bins gives one SO(64) matrix's 64 phases a
      barcode of 0/1/2 counts; √64 → 9 bins of ~7. Sturges' :math:`\log_2 m + 1` grows too
      slowly to resolve the :math:`2\pi/n` ripples of many Haar draws; Freedman–Diaconis needs
      an interquartile range, which on a circle depends on where it is cut.
    * **odd**: a real spectrum is symmetric under :math:`\varphi \mapsto -\varphi` and, for odd
      ``n``, holds a phase 0 (up to rounding of either sign); with an odd ``B`` a bin is centred at
      0 and that phase does not fall on an edge: the histogram is mirror-symmetric (only a phase
      lying exactly on an edge ``e_k`` would be counted on one side).

    >>> phase_bins(64), phase_bins(65 * 20), phase_bins(3), phase_bins(10**6)
    (9, 37, 5, 255)
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise OrthornnError(f"count must be an integer >= 0, got {count!r}")
    lo, hi = PHASE_BINS_RANGE
    return int(min(max(2 * (math.isqrt(int(count)) // 2) + 1, lo), hi))


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or a new Axes in a new pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def _points(values: ArrayLike) -> np.ndarray:
    """Complex points: complex input as is, real input read as phases on the unit circle."""
    arr = np.asarray(host_values(values))
    if arr.dtype.kind == "c":
        if not np.all(np.isfinite(arr)):
            raise OrthornnError("values contain NaN or inf")
        return arr.ravel()
    return np.exp(1j * as_float_array(arr, "values").ravel())


def _phase_axis(ax: Axes) -> None:
    ax.set_xlim(-np.pi, np.pi)
    ax.set_xticks(*_PI_TICKS)
    ax.set_xlabel("eigenphase φ")


def plot_unit_circle(
    values: ArrayLike,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    color: Any = None,
    marker: str = "o",
    size: float = 16.0,
) -> Axes:
    r"""Eigenvalues in the complex plane, with the unit circle :math:`|z| = 1` drawn.

    Parameters
    ----------
    values : array_like
        Complex eigenvalues (e.g. :func:`orthornn.spectra.eigenvalues` of a trained,
        non-orthogonal transition), or real eigenphases, drawn as :math:`e^{i\varphi}`.
        Any shape; flattened.
    ax : Axes, optional
    label, color, marker, size
        Passed to :meth:`~matplotlib.axes.Axes.scatter`.

    Returns
    -------
    Axes
        With one scatter collection per call and the circle (a line with ``gid``
        :data:`UNIT_CIRCLE_GID`, drawn only once per Axes), equal aspect.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_unit_circle(np.array([0.0, np.pi / 2, np.pi]), Figure().add_subplot())
    >>> len(ax.collections), len(ax.lines)
    (1, 1)
    """
    z = _points(values)
    ax = _axes(ax)
    if not any(line.get_gid() == UNIT_CIRCLE_GID for line in ax.lines):
        t = np.linspace(0, 2 * np.pi, 361)
        ax.plot(np.cos(t), np.sin(t), color="0.6", lw=1, gid=UNIT_CIRCLE_GID, zorder=1)
    ax.scatter(z.real, z.imag, s=size, c=color, marker=marker, label=label, zorder=2, alpha=0.8)
    r = max(1.0, float(np.abs(z).max(initial=0.0))) * 1.12
    if len(ax.collections) > 1:  # overlaid on earlier points: keep their range too
        r = max(r, *np.abs(ax.get_xlim()))
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    return ax


def plot_phase_histogram(
    phases: ArrayLike,
    ax: Axes | None = None,
    *,
    bins: int | None = None,
    roots: int | None = None,
    uniform: bool = True,
    haar_n: int | None = None,
    label: str | None = None,
    color: Any = None,
) -> Axes:
    r"""Histogram of eigenphases on (−π, π] (density), with reference marks.

    The bins are those of :func:`orthornn.spectra.circular_histogram` (half-open
    :math:`(e_k, e_{k+1}]`); by default :func:`phase_bins` of the number of phases (about √m, odd:
    9 for the 64 phases of one SO(64) matrix), so each bin holds a readable count. References:

    * ``roots=p`` — a rug of ticks at the p-th roots of unity :math:`2\pi k/p`;
    * ``uniform`` — the uniform density :math:`1/2\pi` (dashed line);
    * ``haar_n=n`` — the closed-form eigenphase density of Haar SO(n) (Weyl;
      :func:`orthornn.spectra.haar_eigenphase_density`). For odd ``n`` the forced eigenvalue 1
      is an atom of mass ``1/n`` at 0 that the curve does not show.

    Parameters
    ----------
    phases : array_like
        Angles, any shape (flattened; wrapped to (−π, π]).
    ax : Axes, optional
    bins : int, optional
        Number of bins; default :func:`phase_bins` ``(phases.size)``.
    roots : int, optional
    uniform : bool
    haar_n : int, optional
    label, color
        For the histogram.

    Returns
    -------
    Axes
        One filled step patch (the histogram); a line per density reference; one line
        collection for the roots.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_phase_histogram(np.linspace(-3, 3, 50), Figure().add_subplot(), roots=8, haar_n=6)
    >>> len(ax.patches), len(ax.lines), len(ax.collections)
    (1, 2, 1)
    """
    flat = as_float_array(phases, "phases").ravel()
    counts, edges = circular_histogram(flat, phase_bins(flat.size) if bins is None else bins, density=True)
    ax = _axes(ax)
    ax.stairs(counts, edges, fill=True, alpha=0.6, color=color, label=label or "eigenphases")
    if uniform:
        ax.axhline(1 / (2 * np.pi), color="0.3", ls="--", lw=1, label="uniform 1/2π")
    if haar_n is not None:
        t = np.linspace(-np.pi, np.pi, max(1201, 16 * haar_n + 1))  # resolve the 2π/n ripples
        ax.plot(t, haar_eigenphase_density(t, haar_n), color="C3", lw=1.2, label=f"Haar SO({haar_n}) (Weyl)")
    if roots is not None:
        if isinstance(roots, bool) or not isinstance(roots, (int, np.integer)) or roots < 1:
            raise OrthornnError(f"roots must be an integer >= 1, got {roots!r}")
        k = np.arange(roots)
        marks = np.angle(np.exp(2j * np.pi * k / roots))
        rug = ax.get_xaxis_transform()  # x in data, y in axes coordinates: ticks at the bottom
        ax.vlines(marks, 0, 0.04, transform=rug, color="k", lw=0.5, alpha=0.7, label=f"{ordinal(roots)} roots of unity")
    _phase_axis(ax)
    ax.set_ylabel("density")
    ax.set_ylim(0, 1.35 * max(float(counts.max()), 1 / (2 * np.pi)))  # headroom for the legend
    ax.legend(fontsize="small", loc="upper right", ncols=2)
    return ax


def plot_spectrum_comparison(
    trained: ArrayLike,
    explicit: ArrayLike,
    axes: Sequence[Axes] | matplotlib.figure.FigureBase | None = None,
    *,
    roots: int | None = None,
    bins: int | None = None,
    labels: tuple[str, str] = ("trained", "explicit solution"),
) -> tuple[Axes, Axes]:
    r"""Eigenphase histograms of a trained transition and of the explicit solution, side by side.

    Both panels share bins, roots marks and the y range; the left title reports the circular
    Wasserstein-1 distance (:func:`orthornn.spectra.circular_wasserstein`) between the two phase
    distributions and, with ``roots=p``, each title the mean normalised distance to the p-th
    roots of unity (0: on the roots, 0.5: uniform).

    Parameters
    ----------
    trained, explicit : array_like
        Eigenphases (any shapes; flattened).
    axes : pair of Axes, or Figure / SubFigure, optional
        Where to draw; a (sub)figure gets two new side-by-side subplots; ``None`` a new pyplot
        figure.
    roots : int, optional
    bins : int, optional
        Shared by both panels; default :func:`phase_bins` of the smaller sample (so neither panel
        is a barcode).
    labels : (str, str)

    Returns
    -------
    (Axes, Axes)

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> a, b = plot_spectrum_comparison(np.array([0.1, -0.1]), np.array([0.0, np.pi]), Figure())
    >>> "W₁" in a.get_title()
    True
    """
    t = as_float_array(trained, "trained").ravel()
    e = as_float_array(explicit, "explicit").ravel()
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.figure(figsize=(10, 4))
    if isinstance(axes, matplotlib.figure.FigureBase):  # a Figure or a SubFigure
        pair = axes.subplots(1, 2, sharey=True)
        left, right = pair[0], pair[1]
    else:
        if len(axes) != 2:
            raise ShapeError(f"axes must be two Axes (or a Figure), got {len(axes)}")
        left, right = axes
    w1 = float(circular_wasserstein(t, e))
    bins = phase_bins(min(t.size, e.size)) if bins is None else bins
    for ax, ph, lab, col in ((left, t, labels[0], "C0"), (right, e, labels[1], "C1")):
        plot_phase_histogram(ph, ax, bins=bins, roots=roots, label=lab, color=col)
        title = lab
        if roots is not None:
            mean = float(root_distance(ph, roots, normalized=True).mean())
            title += f"\nmean distance to {ordinal(roots)} roots: {mean:.3f}"
        ax.set_title(title, fontsize="medium")
    left.set_title(left.get_title() + f"\nW₁ to {labels[1]}: {w1:.3g} rad", fontsize="medium")
    top = max(left.get_ylim()[1], right.get_ylim()[1])  # each was set from its own data
    left.set_ylim(0, top)
    right.set_ylim(0, top)
    return left, right


def plot_memory_phases(
    phases: ArrayLike,
    ax: Axes | None = None,
    *,
    times: ArrayLike | None = None,
    size: float = 4.0,
    color: Any = "C0",
) -> Axes:
    r"""The eigenphases of RUM's memory :math:`R_t` against time (RUM §5.2, phase encoding).

    Parameters
    ----------
    phases : array_like, shape ``(T, n)``
        From :func:`orthornn.spectra.memory_phases` (one sequence).
    ax : Axes, optional
    times : array_like, shape ``(T,)``, optional
        x coordinates (default ``1..T``).
    size, color
        Marker size and colour.

    Returns
    -------
    Axes
        One scatter collection of ``T·n`` points.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_memory_phases(np.zeros((5, 3)), Figure().add_subplot())
    >>> len(ax.collections[0].get_offsets())
    15
    """
    ph = as_float_array(phases, "phases")
    if ph.ndim != 2:
        raise ShapeError(f"phases must have shape (T, n) (one sequence), got {ph.shape}")
    T, n = ph.shape
    t = np.arange(1, T + 1) if times is None else as_float_array(times, "times")
    if t.shape != (T,):
        raise ShapeError(f"times must have shape ({T},), got {t.shape}")
    ax = _axes(ax)
    ax.scatter(np.repeat(t, n), ph.ravel(), s=size, c=color, linewidths=0)
    ax.set_ylim(-np.pi * 1.05, np.pi * 1.05)
    ax.set_yticks(*_PI_TICKS)
    ax.set_xlabel("time step t")
    ax.set_ylabel("eigenphases of R_t")
    return ax


def plot_training_curves(
    curves: Mapping[str, ArrayLike | tuple[ArrayLike, ArrayLike]] | ArrayLike,
    ax: Axes | None = None,
    *,
    baseline: float | None = None,
    baseline_label: str = "memoryless baseline",
    ylabel: str = "loss",
    logy: bool = False,
) -> Axes:
    r"""Training curves with the memoryless baseline as a horizontal line.

    For the copy task the baseline is the cross-entropy of a model that outputs blanks and
    then guesses uniformly, :math:`S \ln K / (T + 2S)` (Henaff et al. §3.1); for the adding
    problem, the MSE ≈ 0.167 of predicting 1.

    Parameters
    ----------
    curves : mapping or array_like
        ``{name: values}`` or ``{name: (steps, values)}``, or a single sequence of values.
    ax : Axes, optional
    baseline : float, optional
    baseline_label : str
    ylabel : str
    logy : bool
        Logarithmic y axis.

    Returns
    -------
    Axes
        One line per curve, plus one for the baseline.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_training_curves({"rum": [1.0, 0.5, 0.1]}, Figure().add_subplot(), baseline=0.8)
    >>> len(ax.lines)
    2
    """
    items = curves.items() if isinstance(curves, Mapping) else [("loss", curves)]
    ax = _axes(ax)
    for name, val in items:
        if isinstance(val, tuple):
            if len(val) != 2:
                raise ShapeError(f"curve {name!r}: give values or (steps, values)")
            x, y = as_float_array(val[0], f"{name} steps"), as_float_array(val[1], f"{name} values")
        else:
            y = as_float_array(val, f"{name} values")
            x = np.arange(1, y.size + 1, dtype=float)
        if y.ndim != 1 or x.shape != y.shape:
            raise ShapeError(f"curve {name!r}: steps {x.shape} and values {y.shape} must be equal 1-D")
        ax.plot(x, y, lw=1.2, label=name)
    if baseline is not None:
        ax.axhline(float(baseline), color="k", ls="--", lw=1, label=baseline_label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_kernel(
    matrix: ArrayLike,
    ax: Axes | None = None,
    *,
    cmap: str = "RdBu_r",
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    r"""A weight matrix as a heatmap with a colour range symmetric about 0 (RUM Figure 3).

    .. math:: \text{colour range} = [-v, v],\qquad v = \max_{ij} |M_{ij}|

    so that zero is the neutral colour and the sign pattern is readable.

    Parameters
    ----------
    matrix : array_like, shape ``(rows, cols)``
    ax : Axes, optional
    cmap : str
        A diverging colour map.
    colorbar : bool
        Add a colour bar beside the Axes.
    title : str, optional

    Returns
    -------
    Axes
        With one image.

    References
    ----------
    Jing et al., "Rotational Unit of Memory", Figure 3 (kernels of a trained RUM).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_kernel(np.array([[1.0, -3.0], [0.5, 0.0]]), Figure().add_subplot())
    >>> ax.images[0].get_clim()
    (-3.0, 3.0)
    """
    M = as_float_array(matrix, "matrix")
    if M.ndim != 2:
        raise ShapeError(f"matrix must be 2-D, got shape {M.shape}")
    v = float(np.abs(M).max(initial=0.0)) or 1.0
    ax = _axes(ax)
    im = ax.imshow(M, cmap=cmap, vmin=-v, vmax=v, interpolation="nearest", aspect="auto")
    if colorbar:
        ax.figure.colorbar(im, ax=ax)
    if title is not None:
        ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return ax


def spectrum_figure(
    values: ArrayLike,
    *,
    phases: ArrayLike | None = None,
    roots: int | None = None,
    haar_n: int | None = None,
    bins: int | None = None,
    title: str | None = None,
) -> matplotlib.figure.Figure:
    r"""A stand-alone figure: eigenvalues on the unit circle beside the phase histogram.

    Built without pyplot (``matplotlib.figure.Figure``), so it can be saved from any thread or
    script with ``fig.savefig(path)``; this is the figure ``orthornn spectrum`` writes.

    Parameters
    ----------
    values : array_like
        Complex eigenvalues, or real eigenphases.
    phases : array_like, optional
        Phases for the histogram (default: the phases of ``values``).
    roots, haar_n, bins
        As in :func:`plot_phase_histogram`.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        With two Axes: the unit circle (left) and the histogram (right).

    Examples
    --------
    >>> fig = spectrum_figure(np.array([0.5, -0.5, 0.0]), roots=4)
    >>> len(fig.axes)
    2
    """
    z = _points(values)
    ph = np.angle(z) if phases is None else as_float_array(phases, "phases")
    fig = matplotlib.figure.Figure(figsize=(10, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.5])
    plot_unit_circle(z, left)
    plot_phase_histogram(ph, right, bins=bins, roots=roots, haar_n=haar_n)
    if title:
        fig.suptitle(title)
    return fig
