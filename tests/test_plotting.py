"""orthornn.plotting: every function returns its Axes, draws the expected artists, saves a PNG."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.stats
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import StepPatch

from orthornn.errors import OrthornnError, ShapeError
from orthornn.henaff import copy_solution
from orthornn.plotting import (
    PHASE_BINS_RANGE,
    UNIT_CIRCLE_GID,
    phase_bins,
    plot_kernel,
    plot_memory_phases,
    plot_phase_histogram,
    plot_spectrum_comparison,
    plot_training_curves,
    plot_unit_circle,
    spectrum_figure,
)
from orthornn.spectra import circular_histogram, circular_wasserstein, eigenphases, eigenvalues


@pytest.fixture
def ax():
    return Figure().add_subplot()


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    yield
    plt.close("all")


def saved(fig, tmp_path, name="fig.png"):
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def haar_phases(n=16, size=20, seed=0):
    M = scipy.stats.special_ortho_group.rvs(n, size=size, random_state=np.random.default_rng(seed))
    return eigenphases(M.reshape(size, n, n))


def test_importing_orthornn_does_not_import_matplotlib():
    probe = "import sys, orthornn, orthornn.spectra; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
    probe = "import sys, orthornn.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "True"  # the probe can see it


def test_unit_circle_points_lie_where_the_eigenvalues_are(ax, tmp_path):
    phases = haar_phases(8, 1)[0]
    out = plot_unit_circle(phases, ax, label="Haar")
    assert out is ax
    circles = [ln for ln in ax.lines if ln.get_gid() == UNIT_CIRCLE_GID]
    assert len(circles) == 1
    x, y = circles[0].get_data()
    np.testing.assert_allclose(np.hypot(x, y), 1, atol=1e-12)
    (points,) = ax.collections
    assert isinstance(points, PathCollection)
    np.testing.assert_allclose(points.get_offsets(), np.c_[np.cos(phases), np.sin(phases)], atol=1e-12)
    # complex eigenvalues off the circle (a non-orthogonal matrix) widen the limits; circle drawn once
    lam = eigenvalues(np.array([[2.0, 0.0], [0.0, 0.5]]))
    plot_unit_circle(lam, ax, marker="x")
    assert len(ax.collections) == 2 and len([ln for ln in ax.lines if ln.get_gid() == UNIT_CIRCLE_GID]) == 1
    assert ax.get_xlim()[1] >= 2.0
    saved(ax.figure, tmp_path)


def test_phase_histogram_draws_the_density_and_the_references(ax, tmp_path):
    phases = haar_phases(16, 30)
    out = plot_phase_histogram(phases, ax, bins=32, roots=12, haar_n=16)
    assert out is ax
    (hist,) = ax.patches
    assert isinstance(hist, StepPatch)
    values, edges = hist.get_data().values, hist.get_data().edges
    ref, ref_edges = circular_histogram(phases.ravel(), 32, density=True)
    np.testing.assert_allclose(values, ref)
    np.testing.assert_allclose(edges, ref_edges)
    labels = [ln.get_label() for ln in ax.lines]
    assert labels == ["uniform 1/2π", "Haar SO(16) (Weyl)"]
    (rug,) = ax.collections
    assert isinstance(rug, LineCollection) and len(rug.get_segments()) == 12
    assert ax.get_xlim() == (-np.pi, np.pi)
    saved(ax.figure, tmp_path)
    bare = plot_phase_histogram(phases, Figure().add_subplot(), uniform=False)
    assert len(bare.lines) == 0 and len(bare.collections) == 0
    with pytest.raises(OrthornnError, match="roots"):
        plot_phase_histogram(phases, Figure().add_subplot(), roots=0)


def _bin_counts(ax, phases):
    """The counts behind the drawn density histogram (its bins, recounted)."""
    (hist,) = ax.patches
    values = hist.get_data().values
    counts, edges = circular_histogram(np.ravel(phases), len(values))
    np.testing.assert_allclose(values, counts / (np.size(phases) * 2 * np.pi / len(values)))
    np.testing.assert_allclose(hist.get_data().edges, edges)
    return counts


def test_default_bins_of_one_so64_matrix_are_not_a_barcode(ax):
    """Issue 16: 64 bins for the 64 phases of one SO(64) matrix drew a barcode of 0/1/2 counts."""
    phases = haar_phases(64, 1)[0]
    counts = _bin_counts(plot_phase_histogram(phases, ax), phases)
    assert len(counts) == phase_bins(64)
    assert counts[counts > 0].mean() >= 3
    barcode = circular_histogram(phases, 64)[0]  # the old default, for contrast
    assert barcode[barcode > 0].mean() < 3
    # the labels of the roots rug use ordinals
    plot_phase_histogram(phases, ax, roots=10)
    assert "10th roots of unity" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_explicit_bins_are_honoured(ax):
    phases = haar_phases(64, 1)[0]
    for bins in (1, 32, 64, 500):
        counts = _bin_counts(plot_phase_histogram(phases, Figure().add_subplot(), bins=bins), phases)
        assert len(counts) == bins and counts.sum() == phases.size
    left, right = plot_spectrum_comparison(phases, phases[:10], Figure(), bins=12)
    assert len(left.patches[0].get_data().values) == len(right.patches[0].get_data().values) == 12
    left, right = plot_spectrum_comparison(phases, phases[:10], Figure())  # default: the smaller sample
    assert len(left.patches[0].get_data().values) == phase_bins(10)
    fig = spectrum_figure(phases, bins=20)
    assert len(fig.axes[1].patches[0].get_data().values) == 20
    fig = spectrum_figure(phases)
    assert len(fig.axes[1].patches[0].get_data().values) == phase_bins(64)


@pytest.mark.parametrize("m", [0, 1, 3, 24, 25, 64, 65, 100, 1300, 10**4, 10**6])
def test_phase_bins_are_odd_near_the_square_root_and_bounded(m):
    b = phase_bins(m)
    lo, hi = PHASE_BINS_RANGE
    assert b % 2 == 1 and lo <= b <= hi
    if lo < b < hi:
        assert np.sqrt(m) - 1 < b <= np.sqrt(m) + 1
    assert phase_bins(m + 1) >= b  # more phases never get fewer bins
    with pytest.raises(OrthornnError, match="count"):
        phase_bins(-1)


def test_default_bins_mirror_a_real_spectrum(ax):
    """Odd n: a phase 0 (of either sign after rounding) sits inside the centre bin, not on an edge."""
    M = scipy.stats.special_ortho_group.rvs(65, random_state=np.random.default_rng(3))
    phases = eigenphases(M)
    counts = _bin_counts(plot_phase_histogram(np.r_[phases, 1e-17, -1e-17], ax), np.r_[phases, 1e-17, -1e-17])
    np.testing.assert_array_equal(counts, counts[::-1])


def test_spectrum_comparison_side_by_side(tmp_path):
    explicit = eigenphases(copy_solution(K=8, S=10, T=50, d=32, rng=0).V)
    trained = haar_phases(65, 1)[0]
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = plot_spectrum_comparison(trained, explicit, fig, roots=60)
    assert fig.axes == [left, right]
    assert len(left.patches) == len(right.patches) == 1
    assert left.get_ylim() == right.get_ylim()
    w1 = float(circular_wasserstein(trained, explicit))
    assert f"{w1:.3g}" in left.get_title()
    assert "mean distance to 60th roots: 0.000" in right.get_title()
    saved(fig, tmp_path, "comparison.png")
    # two axes given
    fig2 = Figure()
    a, b = fig2.subplots(1, 2)
    assert plot_spectrum_comparison(trained, explicit, (a, b)) == (a, b)
    with pytest.raises(ShapeError):
        plot_spectrum_comparison(trained, explicit, [a])


def test_memory_phases_scatter_time_against_phase(ax, tmp_path):
    phases = np.sort(np.random.default_rng(0).uniform(-np.pi, np.pi, (12, 6)), axis=-1)
    out = plot_memory_phases(phases, ax, times=np.arange(12) * 2.0)
    assert out is ax
    (pts,) = ax.collections
    off = pts.get_offsets()
    assert off.shape == (72, 2)
    np.testing.assert_allclose(off[:6, 0], 0.0)
    np.testing.assert_allclose(off[:, 1], phases.ravel())
    saved(ax.figure, tmp_path)
    with pytest.raises(ShapeError, match=r"\(T, n\)"):
        plot_memory_phases(np.zeros((2, 3, 4)), Figure().add_subplot())
    with pytest.raises(ShapeError, match="times"):
        plot_memory_phases(phases, Figure().add_subplot(), times=np.arange(3))


def test_training_curves_with_baseline(ax, tmp_path):
    base = 10 * np.log(8) / (100 + 20)
    out = plot_training_curves(
        {"lt-ornn": [0.9, 0.5, 0.2], "lstm": ([10, 20, 30], [0.2, 0.19, 0.19])}, ax, baseline=base, logy=True
    )
    assert out is ax
    assert [ln.get_label() for ln in ax.lines] == ["lt-ornn", "lstm", "memoryless baseline"]
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [10, 20, 30])
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [base, base])
    assert ax.get_yscale() == "log"
    saved(ax.figure, tmp_path)
    single = plot_training_curves([3.0, 2.0], Figure().add_subplot())
    assert len(single.lines) == 1
    with pytest.raises(ShapeError):
        plot_training_curves({"x": ([1, 2], [1.0, 2.0, 3.0])}, Figure().add_subplot())


def test_kernel_heatmap_has_a_symmetric_colour_range_and_a_colourbar(tmp_path):
    fig = Figure()
    ax = fig.add_subplot()
    M = np.array([[0.2, -1.5, 0.0], [0.7, 0.1, -0.3]])
    out = plot_kernel(M, ax, title="W_hh")
    assert out is ax
    (im,) = ax.images
    assert isinstance(im, AxesImage)
    assert im.get_clim() == (-1.5, 1.5)
    np.testing.assert_array_equal(im.get_array(), M)
    assert len(fig.axes) == 2  # the colour bar
    saved(fig, tmp_path)
    assert plot_kernel(np.zeros((2, 2)), Figure().add_subplot(), colorbar=False).images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ShapeError):
        plot_kernel(np.zeros(3), Figure().add_subplot())


def test_spectrum_figure_is_the_cli_figure(tmp_path):
    V = copy_solution(K=8, S=10, T=30, d=16, rng=1).V
    phases = eigenphases(V)
    fig = spectrum_figure(phases, roots=40, haar_n=V.shape[0], title="explicit copy clock")
    left, right = fig.axes
    assert len(left.collections) == 1 and len(right.patches) == 1
    assert fig.get_suptitle() == "explicit copy clock"
    saved(fig, tmp_path, "spectrum.png")


def test_axes_are_created_when_not_given():
    ax = plot_unit_circle(np.array([0.3]))
    assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    ax = plot_kernel(np.eye(2))
    assert len(ax.images) == 1
    left, right = plot_spectrum_comparison(np.array([0.1]), np.array([0.2]))
    assert left.figure is right.figure
