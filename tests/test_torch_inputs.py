"""spectra and plotting read torch tensors by value, on any device and with requires_grad
(issue 16: they refused what assert_orthogonal accepts), with the same results as numpy input."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from orthornn import plotting, spectra
from orthornn.numeric.validation import as_float_array

torch = pytest.importorskip("torch")


def _rotation(n, seed):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    if np.linalg.det(Q) < 0:
        Q[:, 0] *= -1
    return Q


def test_eigenphases_of_a_tensor_that_requires_grad_equal_numpys():
    R = _rotation(6, 0)
    t = torch.tensor(R, requires_grad=True)
    np.testing.assert_array_equal(spectra.eigenphases(t), spectra.eigenphases(R))
    np.testing.assert_array_equal(spectra.eigenvalues(torch.tensor(R @ R, requires_grad=True)), spectra.eigenvalues(R @ R))


def test_plots_take_tensors_that_require_grad():
    R = _rotation(8, 1)
    phases = torch.tensor(spectra.eigenphases(R), requires_grad=True)
    ax = plotting.plot_phase_histogram(phases, Figure().add_subplot())
    assert len(ax.patches) == 1
    a, _ = plotting.plot_spectrum_comparison(phases, phases.detach() * 0.5, Figure())
    assert "W₁" in a.get_title()


def test_only_torch_tensors_are_unwrapped():
    class Detachable(list):  # a non-torch object with a detach attribute is left alone
        def detach(self):
            raise AssertionError("not a tensor: must not be detached")

    np.testing.assert_array_equal(as_float_array(Detachable([1.0, 2.0]), "x"), [1.0, 2.0])


def test_a_bfloat16_tensor_is_read_as_float32_values():
    t = torch.tensor([0.5, -1.25], dtype=torch.bfloat16, requires_grad=True)
    a = as_float_array(t, "x")
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, [0.5, -1.25])
