"""Independent references and shared inputs for the RUM tests (tests/nn/rum/): RUM eq. (1) built
densely, the §3.2 recurrence written out with a dense memory, the λ = 1 step as autograd's
composition, the per-step λ = 0 path, and the (ε, τ) cases every fused form is checked on."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
from scipy.stats import special_ortho_group

from orthornn.nn.rum import FAST_PATH_MIN_1PC, RUMCell, RUMState


def dense_rotation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """RUM eq. (1), built densely: I − u_a u_aᵀ − u_b u_bᵀ + [u_a u_b] M(θ) [u_a u_b]ᵀ."""
    ua = a / a.norm(dim=-1, keepdim=True)
    v = b - (ua * b).sum(-1, keepdim=True) * ua
    ub = v / v.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    theta = torch.arccos(cos)
    M = torch.stack(
        [torch.stack([torch.cos(theta), -torch.sin(theta)], -1), torch.stack([torch.sin(theta), torch.cos(theta)], -1)],
        -2,
    )
    F = torch.stack([ua, ub], -1)  # (B, N, 2)
    n = a.shape[-1]
    eye = torch.eye(n, dtype=a.dtype, device=a.device)
    return eye - F @ F.transpose(-1, -2) + F @ M @ F.transpose(-1, -2)


def reference_rum(cell: RUMCell, x: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The §3.2 equations written out with separate W_xh, W_hh, W_xe and a dense R_t."""
    n = cell.hidden_size
    W_xh, W_xe = cell.weight_x[: 2 * n], cell.weight_x[2 * n :]
    W_hh, b = cell.weight_h, cell.bias
    b_e = cell.bias_e if cell.bias_e is not None else torch.zeros(n, dtype=x.dtype)
    B, T, _ = x.shape
    h = torch.zeros(B, n, dtype=x.dtype)
    R = torch.eye(n, dtype=x.dtype).expand(B, n, n)
    hs = []
    for t in range(T):
        g = x[:, t] @ W_xh.T + h @ W_hh.T + b
        u_pre, tau = g[:, :n], g[:, n:]
        if cell.ln_u is not None:
            u_pre, tau = cell.ln_u(u_pre), cell.ln_tau(tau)
        u = torch.sigmoid(u_pre)
        eps = x[:, t] @ W_xe.T + b_e
        Rot = dense_rotation(eps, tau)
        if lam not in (0, 1):  # independent: scipy's Schur–Padé fractional power
            R = torch.stack(
                [torch.as_tensor(scipy.linalg.fractional_matrix_power(r.detach().numpy(), lam).real) for r in R]
            )
        R = Rot if lam == 0 else R @ Rot
        cand = torch.relu(eps + (R @ h.unsqueeze(-1)).squeeze(-1))
        hp = u * h + (1 - u) * cand
        h = hp if cell.eta is None else cell.eta * hp / hp.norm(dim=-1, keepdim=True)
        hs.append(h)
    return torch.stack(hs, 1), R


#: the (ε, τ) cases of :func:`pairs`
PAIR_CASES = [
    "generic",
    "parallel",
    "antiparallel",
    "zero",
    "near-antiparallel, fast side",
    "near-antiparallel, general side",
]


def pairs(n: int, rng: np.random.Generator) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Three (ε, τ) rows of dimension ``n`` for each of :data:`PAIR_CASES`."""
    a = torch.as_tensor(rng.normal(size=(3, n)))
    b = torch.as_tensor(rng.normal(size=(3, n)))
    perp = b - (a * b).sum(-1, keepdim=True) / (a * a).sum(-1, keepdim=True) * a
    near = lambda d: -a + d * perp / perp.norm(dim=-1, keepdim=True) * a.norm(dim=-1, keepdim=True)  # noqa: E731
    zero = a.clone()
    zero[1] = 0
    return {
        "generic": (a, b),
        "parallel": (a, 2.5 * a),
        "antiparallel": (a, -0.5 * a),
        "zero": (zero, b),
        "near-antiparallel, fast side": (a, near(0.1)),
        "near-antiparallel, general side": (a, near(0.01)),  # 1 + c ≈ 5e-5 < FAST_PATH_MIN_1PC
    }


def rotation_case(case: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``ε, τ`` of ``case`` (:func:`pairs`, n = 6), ``h`` and a rotation ``R`` (seeded): the inputs
    on which the fused forms are compared with the general rotation. Checks that the
    near-antiparallel cases fall on the side of FAST_PATH_MIN_1PC their name says."""
    rng = np.random.default_rng(8)
    eps, tau = pairs(6, rng)[case]
    if case.startswith("near"):
        one_plus_c = 1 + torch.nn.functional.cosine_similarity(eps, tau)
        assert bool(((one_plus_c < FAST_PATH_MIN_1PC) == case.endswith("general side")).all())
    h = torch.as_tensor(rng.normal(size=(3, 6)))
    R = torch.as_tensor(special_ortho_group.rvs(6, size=3, random_state=rng))
    return eps, tau, h, R


def gradcheck_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``ε, τ, h`` (2, 5), a rotation ``R`` (2, 5, 5) and ``ũ`` (2, 5), seeded and requiring grad:
    the inputs of the fused steps' gradchecks."""
    rng = np.random.default_rng(9)
    eps, tau, h = (torch.as_tensor(rng.normal(size=(2, 5))).requires_grad_() for _ in range(3))
    R = torch.as_tensor(special_ortho_group.rvs(5, size=2, random_state=rng)).requires_grad_()
    u_pre = torch.as_tensor(rng.normal(size=(2, 5))).requires_grad_()
    return eps, tau, h, R, u_pre


def memory_step_autograd(R, eps, tau, h):
    """Reference: the λ = 1 rank-2 step as autograd's composition of bmm / baddbmm."""
    ua = eps / eps.norm(dim=-1, keepdim=True)
    ub = tau / tau.norm(dim=-1, keepdim=True)
    c = (ua * ub).sum(-1, keepdim=True)
    w = ub - c * ua
    x, y = w - (1 - c) * ua, -(ua + w / (1 + c))
    P = torch.bmm(R, torch.stack([x, y, h], -1))
    R_new = torch.baddbmm(R, P[..., :2], torch.stack([ua, w], -2))
    return R_new, P[..., 2] + P[..., 0] * (ua * h).sum(-1, keepdim=True) + P[..., 1] * (w * h).sum(-1, keepdim=True)


def stepwise(cell: RUMCell, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """The per-step λ = 0 path (one autograd node per step): the alternative to ``sequence0``."""
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = cell(x[:, t], RUMState(h, None)).h
        hs.append(h)
    return torch.stack(hs, 1)
