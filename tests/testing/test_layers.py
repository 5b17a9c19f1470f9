"""check_orthogonal_layer passes torch's orthogonal parametrizations (square and rectangular) and
catches the layers that are orthogonal at init only, reflections in an SO(n) layer, and a Cayley
map that cannot reach −1."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal

from orthornn.testing import LayerReport, check_orthogonal_layer, dimensions

SMALL = {"sizes": dimensions(2, 4), "max_examples": 6, "drift_steps": 30, "drift_size": 8}


def test_torchs_cayley_parametrization_passes():
    def make(n, dtype):
        return orthogonal(torch.nn.Linear(n, n, bias=False, dtype=dtype), orthogonal_map="cayley")

    report = check_orthogonal_layer(make, **SMALL)
    assert isinstance(report, LayerReport) and report.examples >= 6
    assert report.checks == ("init", "steps", "assignment", "gradients", "drift")
    assert report.float32_drift is not None and 0 <= report.float32_drift < 1e3


def test_torchs_matrix_exp_parametrization_loses_accuracy_after_steps():
    """torch 2.13 (CPU): torch.linalg.matrix_exp of small skew matrices (‖A‖ ≈ 0.02–0.05) is off by
    up to 2.4e-10 in float64 (scipy's expm: 1e-16), so the weight leaves O(n) by ~1e-11 after a few
    steps from A = 0 (analysis/peer_checks/)."""

    def make(n, dtype):
        return orthogonal(torch.nn.Linear(n, n, bias=False, dtype=dtype), orthogonal_map="matrix_exp")

    with pytest.raises(AssertionError, match=r"check 'steps' \(n = \d+, float64"):
        check_orthogonal_layer(make, dtypes=["float64"], **SMALL)
    a = torch.tensor([[0.0, 0.049488], [-0.049488, 0.0]], dtype=torch.float64)
    w = torch.linalg.matrix_exp(a)
    assert float((w.T @ w - torch.eye(2, dtype=torch.float64)).abs().max()) > 1e-12  # the root cause


def test_weight_decay_zeroes_torchs_householder_parametrization():
    """torch 2.13: the householder map multiplies Q by ``X.diagonal().int()``, the ±1 signs kept on
    the diagonal of the free parameter; weight decay moves −1 to −0.99…, ``int`` makes it 0 and the
    weight becomes the zero matrix after one step (a real defect, found by the 'steps' check)."""

    def make(n, dtype):
        return orthogonal(torch.nn.Linear(n, n, bias=False, dtype=dtype), orthogonal_map="householder")

    with pytest.raises(AssertionError, match=r"check 'steps' .*‖MᵀM − I‖_max = 1 "):
        check_orthogonal_layer(make, **SMALL)


def test_a_weight_that_is_orthogonal_at_init_only_fails_after_steps():
    def make(n, dtype):
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        torch.nn.init.orthogonal_(layer.weight)
        return layer

    with pytest.raises(
        AssertionError, match=r"check 'steps' \(n = \d+, float\d\d, 5 (SGD|AdamW) steps\): not orthogonal"
    ):
        check_orthogonal_layer(make, sizes=dimensions(2, 4), max_examples=5, drift_steps=0)


class _Skew(torch.nn.Module):
    def forward(self, x):
        a = x.triu(1)
        return torch.linalg.matrix_exp(a - a.T)


def test_special_layers_must_be_rotations_and_right_inverse_is_optional():
    def rotations(n, dtype):  # exp of a skew parameter: SO(n), no right_inverse
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        parametrize.register_parametrization(layer, "weight", _Skew(), unsafe=True)
        return layer

    report = check_orthogonal_layer(rotations, special=True, **SMALL)
    assert "assignment" not in report.checks and any("right_inverse" in s for s in report.skipped)

    def reflected(n, dtype):
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.diag(torch.tensor([-1.0] + [1.0] * (n - 1), dtype=dtype)))
        return layer

    with pytest.raises(AssertionError, match=r"check 'init' .*det M = -1"):
        check_orthogonal_layer(reflected, special=True, sizes=dimensions(2, 3), max_examples=3, drift_steps=0)


class _Cayley(torch.nn.Module):
    """W = (I + A)(I − A)⁻¹, A skew; right_inverse A = (W − I)(W + I)⁻¹ — singular at eigenvalue −1."""

    def forward(self, x):
        a = x.triu(1) - x.triu(1).T
        eye = torch.eye(len(x), dtype=x.dtype)
        return torch.linalg.solve(eye - a, eye + a, left=False)

    def right_inverse(self, w):
        eye = torch.eye(len(w), dtype=w.dtype)
        return torch.linalg.solve(w + eye, w - eye, left=False).triu(1)


def test_a_cayley_map_cannot_take_an_eigenvalue_minus_one():
    def make(n, dtype):
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        torch.nn.init.zeros_(layer.weight)
        parametrize.register_parametrization(layer, "weight", _Cayley())
        return layer

    with pytest.raises(AssertionError, match=r"check '(assignment|gradients)'") as err:
        check_orthogonal_layer(make, special=True, sizes=dimensions(2, 4), max_examples=30, drift_steps=0)
    notes = "\n".join(getattr(err.value, "__notes__", []))
    assert "orthogonal_with_angles(" in notes  # the falsifying target, as a call


def test_an_unsupported_assignment_is_skipped_not_failed():
    def make(n, dtype):  # torch raises NotImplementedError on assignment without trivialization
        return orthogonal(
            torch.nn.Linear(n, n, bias=False, dtype=dtype), orthogonal_map="cayley", use_trivialization=False
        )

    report = check_orthogonal_layer(make, **SMALL)
    assert "assignment" not in report.checks and any("not possible to assign" in s for s in report.skipped)


def test_bad_arguments():
    with pytest.raises(ValueError, match="valid: sgd, adamw"):
        check_orthogonal_layer(lambda n, d: None, optimizers=["lbfgs"])


# rectangular (semi-orthogonal, Stiefel) weights, either orientation


@pytest.mark.parametrize("extra", [2, -1], ids=["tall", "wide"])
def test_torchs_rectangular_cayley_parametrization_passes(extra):
    """``Linear(n, n + extra)`` has a weight ``(n + extra)×n``: tall (orthonormal columns) or wide (rows)."""

    def make(n, dtype):
        return orthogonal(torch.nn.Linear(n + 1, n + 1 + extra, bias=False, dtype=dtype), orthogonal_map="cayley")

    report = check_orthogonal_layer(make, **SMALL)
    assert report.checks == ("init", "steps", "assignment", "gradients", "drift")
    assert report.shapes and all(r == c + extra for r, c in report.shapes)
    assert report.float32_drift is not None and 0 <= report.float32_drift < 1e3


def test_torchs_linear_5_3_is_checked_as_semi_orthogonal():
    """``orthogonal(nn.Linear(5, 3))``: weight 3×5, orthonormal rows. With ``orthogonal_map="cayley"``
    it passes; torch's default map for a rectangular real weight is ``"householder"``, which weight
    decay zeroes as in the square case (the ±1 diagonal signs truncated by ``.int()``)."""

    def make(orthogonal_map):
        return lambda n, dtype: orthogonal(
            torch.nn.Linear(5, 3, bias=False, dtype=dtype), orthogonal_map=orthogonal_map
        )

    report = check_orthogonal_layer(make("cayley"), sizes=dimensions(2, 2), max_examples=4, drift_steps=20)
    assert report.shapes == ((3, 5),) and "assignment" in report.checks
    assert (
        torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(5, 3)).parametrizations.weight[0].orthogonal_map.name
        == "householder"
    )
    with pytest.raises(
        AssertionError, match=r"check 'steps' \(n = 2, weight 3×5, .*rows not orthonormal: ‖MMᵀ − I‖_max = 1 "
    ):
        check_orthogonal_layer(make(None), sizes=dimensions(2, 2), max_examples=4, drift_steps=0)


@pytest.mark.parametrize(
    ("out_features", "message"),
    [(3, "rows not orthonormal: ‖MMᵀ − I‖_max"), (7, "columns not orthonormal: ‖MᵀM − I‖_max")],
)
def test_a_rectangular_weight_orthogonal_at_init_only_fails_with_its_shape(out_features, message):
    def make(n, dtype):
        layer = torch.nn.Linear(5, out_features, bias=False, dtype=dtype)
        torch.nn.init.orthogonal_(layer.weight)  # semi-orthogonal at init; decay pulls it off
        return layer

    with pytest.raises(AssertionError) as err:
        check_orthogonal_layer(make, sizes=dimensions(2, 3), max_examples=5, drift_steps=0)
    text = str(err.value)
    assert text.startswith(f"check 'steps' (n = 2, weight {out_features}×5, float")
    assert message in text and f"shape ({out_features}, 5)" in text


def test_a_rectangular_weight_not_semi_orthogonal_fails_at_init():
    def make(n, dtype):
        layer = orthogonal(torch.nn.Linear(n, n + 2, bias=False, dtype=dtype), orthogonal_map="cayley")
        return torch.nn.utils.parametrize.register_parametrization(layer, "weight", _Scaled(), unsafe=True)

    with pytest.raises(AssertionError, match=r"check 'init' \(n = 2, weight 4×2, float64\): columns not orthonormal"):
        check_orthogonal_layer(make, sizes=dimensions(2, 3), max_examples=3, drift_steps=0)


class _Scaled(torch.nn.Module):
    def forward(self, x):
        return 1.01 * x


def test_special_is_skipped_for_a_rectangular_weight():
    def make(n, dtype):
        return orthogonal(torch.nn.Linear(n, n + 1, bias=False, dtype=dtype), orthogonal_map="cayley")

    report = check_orthogonal_layer(make, special=True, **SMALL)
    assert "init" in report.checks and any(s.startswith("special: the weight is") for s in report.skipped)


# geotorch (the test extra; skipped cleanly without it)


def _geotorch_orthogonal(triv, extra=0):
    geotorch = pytest.importorskip("geotorch")

    def make(n, dtype):
        layer = torch.nn.Linear(n, n + extra, bias=False, dtype=dtype)
        geotorch.orthogonal(layer, "weight", triv=triv)
        return layer

    return make


def _geotorch_so(triv):
    geotorch = pytest.importorskip("geotorch")

    def make(n, dtype):
        layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
        with torch.no_grad():  # geotorch's right_inverse refuses an initial weight outside SO(n)
            layer.weight.copy_(torch.eye(n, dtype=dtype))
        parametrize.register_parametrization(layer, "weight", geotorch.SO((n, n), triv=triv).to(dtype))
        return layer

    return make


@pytest.mark.parametrize("extra", [0, 2], ids=["square", "tall"])
def test_geotorch_orthogonal_with_cayley_passes(extra):
    report = check_orthogonal_layer(_geotorch_orthogonal("cayley", extra), **SMALL)
    assert report.checks == ("init", "steps", "assignment", "gradients", "drift")
    assert all(r == c + extra for r, c in report.shapes)


def test_geotorch_so_accepts_a_reflection():
    """geotorch 0.4.0: ``SO.right_inverse`` checks ``in_manifold(X)`` with its default
    ``in_so=False`` (orthogonality only), so assigning a reflection to an SO(n) layer is accepted
    and the layer then holds det −1 (analysis/peer_checks/geotorch.md)."""
    with pytest.raises(AssertionError, match=r"check 'assignment' \(n = \d, float\d\d\): a reflection was accepted"):
        check_orthogonal_layer(_geotorch_so("cayley"), special=True, **SMALL)


def test_geotorch_orthogonal_with_expm_inherits_torchs_matrix_exp_inaccuracy():
    """geotorch's ``"expm"`` is ``torch.matrix_exp``: in float32 its weight leaves O(2) by 151 eps
    after 5 SGD steps (the same 1.81e-05 as torch.linalg.matrix_exp of a Haar SO(2) log in
    analysis/peer_checks/results.md)."""
    with pytest.raises(AssertionError, match=r"check 'steps' \(n = \d, float32, 5 (SGD|AdamW) steps\): not orthogonal"):
        check_orthogonal_layer(_geotorch_orthogonal("expm"), dtypes=["float32"], **SMALL)
