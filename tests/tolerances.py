"""Named tolerances for the whole suite (one table, not improvised per test)."""

from __future__ import annotations

import numpy as np

#: Absolute tolerance for agreement of two computations of the same quantity.
ATOL = {"float64": 1e-12, "float32": 1e-5}

#: Orthogonality defect ‖MᵀM − I‖_max allowed per unit of dimension n (issue: ≤ 1e-14·N in float64).
ORTHO_PER_N = {"float64": 1e-14, "float32": 1e-5}

#: ‖compose(decompose(U)) − U‖_max allowed per unit of n for Givens meshes (issue 4: ≤ 1e-12·n in float64).
EUNN_ROUNDTRIP_PER_N = {"float64": 1e-12, "float32": 2e-5}

#: ‖so_exp(so_log(R)) − R‖_max allowed per unit of n (issue 3: ≤ 1e-12·n in float64, angles at and
#: near π included; float32 inputs are computed in float64 and rounded back to float32).
LIE_ROUNDTRIP_PER_N = {"float64": 1e-12, "float32": 1e-6}


#: Agreement of a recurrence run step by step with its closed form, per step (rounding accumulates
#: about linearly in the number of steps): ``tol = ROLLOUT_PER_STEP[dtype] * steps``.
ROLLOUT_PER_STEP = {"float64": 1e-13, "float32": 1e-5}


def near_pi_atol(dtype: str, cos_theta: float, sin_theta: float) -> float:
    """ATOL for quantities that depend on the *plane* of a Rotation(a, b) (not just on R â = b̂).

    For θ > π/2 the plane is fixed by ``b̂ − (â·b̂)â``, of length sin θ, so rounding moves it by
    ~eps/sin θ: the condition number near θ = π is 1/sin θ (for any algorithm). Below that it is 1.
    """
    return ATOL[dtype] * (1.0 if cos_theta > 0 else max(1.0, 1.0 / max(sin_theta, 1e-16)))


def dtype_name(x: object) -> str:
    """'float64' or 'float32' for a numpy dtype, a torch dtype or an array of either."""
    dt = getattr(x, "dtype", x)
    s = str(dt)
    return "float32" if "32" in s else "float64" if "64" in s else str(np.dtype(dt))
