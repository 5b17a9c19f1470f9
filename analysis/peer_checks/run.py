"""Run orthornn.testing against code nobody here wrote (issue 16): for each property, how many
examples a Haar-only strategy and the adversarial one need to find a failure (derandomized, no
shrinking; "none in N" when none), then the shrunk falsifying example. Prints Markdown.

    OMP_NUM_THREADS=1 python analysis/peer_checks/run.py > analysis/peer_checks/results.md
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import orthornn
from orthornn.testing import (
    adversarial_rotations,
    assert_orthogonal,
    dimensions,
    special_orthogonal_matrices,
)

torch.set_num_threads(1)
HAAR_EXAMPLES = 1000
ADVERSARIAL_EXAMPLES = 100
SIZES = dimensions(2, 8)


def logm_is_real(R: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L = scipy.linalg.logm(R)
    assert np.abs(np.imag(L)).max(initial=0) < 1e-8, f"logm has imaginary part {np.abs(np.imag(L)).max():.3g}"


def logm_round_trip(R: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L = np.real(scipy.linalg.logm(R))
    L = (L - L.T) / 2  # the real skew part: what a user keeps
    err = np.abs(scipy.linalg.expm(L) - R).max()
    assert err < 1e-10, f"expm(real(logm(R))) is {err:.3g} from R"


def sqrt_is_real_rotation(R: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S = scipy.linalg.fractional_matrix_power(R, 0.5)
    imag = np.abs(np.imag(S)).max(initial=0)
    assert imag < 1e-8, f"fractional_matrix_power(R, 0.5) has imaginary part {imag:.3g}"
    err = np.abs(np.real(S) @ np.real(S) - R).max()
    assert err < 1e-10, f"(R^½)² is {err:.3g} from R"


def torch_matrix_exp_of_log(R: np.ndarray) -> None:
    A = torch.from_numpy(orthornn.so_log(R))
    E = torch.linalg.matrix_exp(A).numpy()
    err = np.abs(E - R).max()
    assert err < 1e-12, f"torch.linalg.matrix_exp(so_log(R)) is {err:.3g} from R"


def torch_matrix_exp_float32_orthogonal(R: np.ndarray) -> None:
    A = orthornn.so_log(R)
    E = torch.linalg.matrix_exp(torch.from_numpy(A).float())
    assert_orthogonal(E, scale=max(1.0, float(np.linalg.norm(A, 2))))


PROPERTIES: dict[str, Callable[[np.ndarray], None]] = {
    "scipy.linalg.logm(R) is real": logm_is_real,
    "scipy expm(real(logm(R))) == R": logm_round_trip,
    "scipy fractional_matrix_power(R, 0.5) is a real square root": sqrt_is_real_rotation,
    "torch.linalg.matrix_exp(so_log(R)) == R (float64, 1e-12)": torch_matrix_exp_of_log,
    "torch.linalg.matrix_exp float32 orthogonal (32·√n·‖A‖₂·eps)": torch_matrix_exp_float32_orthogonal,
}


def examples_to_failure(strategy: st.SearchStrategy[Any], prop: Callable[[Any], None], budget: int) -> int | None:
    calls = [0]
    failed = [False]

    def counted(x: Any) -> None:
        calls[0] += 1
        prop(x)

    once = settings(
        max_examples=budget,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    try:
        once(given(strategy)(counted))()
    except AssertionError:
        failed[0] = True
    return calls[0] if failed[0] else None


def shrunk(strategy: st.SearchStrategy[Any], prop: Callable[[Any], None], budget: int) -> str:
    full = settings(
        max_examples=budget, database=None, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    try:
        full(given(strategy)(prop))()
    except AssertionError as err:
        notes = "\n".join(getattr(err, "__notes__", []))
        call = re.search(r"(orthogonal_with_angles|haar_rotation)\([^()\n]*\)", notes) or re.search(
            r"(orthogonal_with_angles|haar_rotation)\((.|\n)*?\n\s*\)", notes
        )
        text = re.sub(r"\s+", " ", call.group(0)) if call else notes
        text = text.replace("# or any other generated value", "").replace("( ", "(").replace(", )", ")")
        text = re.sub(r" +", " ", text)
        return f"`{text}` — {str(err).splitlines()[0]}"
    return "—"


if __name__ == "__main__":
    print(
        "| property | Haar (`special_orthogonal_matrices`) | adversarial (`adversarial_rotations`) | shrunk example |"
    )
    print("|---|---|---|---|")
    for name, prop in PROPERTIES.items():
        haar = examples_to_failure(special_orthogonal_matrices(SIZES), prop, HAAR_EXAMPLES)
        hard = examples_to_failure(adversarial_rotations(SIZES), prop, ADVERSARIAL_EXAMPLES)
        if hard:
            example = shrunk(adversarial_rotations(SIZES), prop, ADVERSARIAL_EXAMPLES)
        elif haar:
            example = "(Haar) " + shrunk(special_orthogonal_matrices(SIZES), prop, HAAR_EXAMPLES)
        else:
            example = "—"
        h = f"found at example {haar}" if haar else f"none in {HAAR_EXAMPLES}"
        a = f"found at example {hard}" if hard else f"none in {ADVERSARIAL_EXAMPLES}"
        print(f"| {name} | {h} | {a} | {example} |", flush=True)
