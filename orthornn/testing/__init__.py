r"""Hypothesis strategies and assertions for testing orthogonal layers — yours and ours.

Strategies draw numpy arrays (float64 unless another ``dtype`` is asked for; ``dtype`` may be
a strategy) and, through :func:`as_torch`, torch tensors. A dimension argument ``n`` may be an
``int`` or a strategy of ints such as :func:`dimensions`; matrix strategies take
``batch_shape=``. Each matrix is one call of a public constructor (:func:`haar_orthogonal`,
:func:`orthogonal_with_angles`, …), and a falsifying example prints as that call, so it can be
rebuilt outside hypothesis. Importing this module imports neither torch nor :mod:`orthornn.nn`;
the assertions accept torch tensors all the same.

>>> from hypothesis import given, settings
>>> import orthornn
>>> @given(vector_pairs(dimensions(2, 8), kind="nearly_antiparallel"))
... def test_rotation_is_orthogonal(pair):
...     assert_orthogonal(orthornn.rotation(*pair), special=True)
>>> test_rotation_is_orthogonal()

Where orthogonal code breaks — an eigenvalue −1 (angle π), angles near π and near 0, repeated
and clustered angles, reflections — :func:`adversarial_orthogonal_matrices` goes:

>>> @settings(max_examples=30)
... @given(adversarial_rotations(dimensions(2, 6)))
... def test_so_log_round_trip(R):
...     assert np.allclose(orthornn.so_exp(orthornn.so_log(R)), R, atol=1e-12)
>>> test_so_log_round_trip()

Strategies
    :func:`dimensions`, :func:`angles`, :func:`vectors`, :func:`unit_vectors`,
    :func:`vector_pairs` (kinds :data:`PAIR_KINDS`), :func:`orthogonal_matrices` (Haar on O(n)),
    :func:`special_orthogonal_matrices` (Haar on SO(n)), :func:`skew_symmetric_matrices`,
    :func:`spectra` (kinds :data:`SPECTRUM_KINDS`; ``"expm"`` at :data:`EXPM_DEGREE_SWITCHES`),
    :func:`orthogonal_matrices_with_angles`,
    :func:`adversarial_orthogonal_matrices`, :func:`adversarial_rotations`,
    :func:`nearly_orthogonal_matrices`, :func:`nearly_skew_matrices`,
    :func:`rotation_products`, :func:`givens_meshes`, :func:`as_torch`.
Constructors (what a draw prints as)
    :func:`haar_orthogonal`, :func:`haar_rotation`, :func:`orthogonal_with_angles`,
    :func:`nearly_orthogonal`, :func:`nearly_skew`, :func:`rotation_product`,
    :func:`givens_mesh` (and :func:`mesh_phases`), :func:`to_torch`.
Layer check
    :func:`check_orthogonal_layer` (returns a :class:`LayerReport`).
Assertions
    :func:`assert_orthogonal`, :func:`assert_semi_orthogonal`, :func:`assert_skew`, and their
    default tolerance :func:`orthogonality_tolerance`.
"""

from __future__ import annotations

import numpy as np

from ._asserts import (
    ORTHOGONALITY_EPS_PER_SQRT_N,
    assert_orthogonal,
    assert_semi_orthogonal,
    assert_skew,
    orthogonality_tolerance,
)
from ._draws import (
    DTYPE_NAMES,
    MESH_SPECIAL_PHASES,
    givens_mesh,
    haar_orthogonal,
    haar_rotation,
    mesh_phases,
    mesh_size,
    nearly_orthogonal,
    nearly_skew,
    orthogonal_with_angles,
    rotation_product,
    rotation_with_generator_norm,
    to_torch,
)
from ._layers import OPTIMIZERS, LayerReport, check_orthogonal_layer
from ._strategies import (
    EXPM_DEGREE_SWITCHES,
    MESH_PHASES_DRAWN_SINGLY,
    PAIR_KINDS,
    SPECTRUM_KINDS,
    SPECTRUM_PLANES_DRAWN_SINGLY,
    PairKind,
    SpectrumKind,
    adversarial_orthogonal_matrices,
    adversarial_rotations,
    angles,
    as_torch,
    dimensions,
    givens_meshes,
    nearly_orthogonal_matrices,
    nearly_skew_matrices,
    orthogonal_matrices,
    orthogonal_matrices_with_angles,
    rotation_products,
    skew_symmetric_matrices,
    special_orthogonal_matrices,
    spectra,
    unit_vectors,
    vector_pairs,
    vectors,
)

__all__ = [
    "DTYPE_NAMES",
    "EXPM_DEGREE_SWITCHES",
    "MESH_PHASES_DRAWN_SINGLY",
    "MESH_SPECIAL_PHASES",
    "OPTIMIZERS",
    "ORTHOGONALITY_EPS_PER_SQRT_N",
    "PAIR_KINDS",
    "SPECTRUM_KINDS",
    "SPECTRUM_PLANES_DRAWN_SINGLY",
    "LayerReport",
    "PairKind",
    "SpectrumKind",
    "adversarial_orthogonal_matrices",
    "adversarial_rotations",
    "angles",
    "as_torch",
    "assert_orthogonal",
    "assert_semi_orthogonal",
    "assert_skew",
    "check_orthogonal_layer",
    "dimensions",
    "givens_mesh",
    "givens_meshes",
    "haar_orthogonal",
    "haar_rotation",
    "mesh_phases",
    "mesh_size",
    "nearly_orthogonal",
    "nearly_orthogonal_matrices",
    "nearly_skew",
    "nearly_skew_matrices",
    "orthogonal_matrices",
    "orthogonal_matrices_with_angles",
    "orthogonal_with_angles",
    "orthogonality_tolerance",
    "rotation_product",
    "rotation_products",
    "rotation_with_generator_norm",
    "skew_symmetric_matrices",
    "special_orthogonal_matrices",
    "spectra",
    "to_torch",
    "unit_vectors",
    "vector_pairs",
    "vectors",
]

_ = np  # the examples above use np
