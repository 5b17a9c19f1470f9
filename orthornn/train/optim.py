r"""The optimisers ``orthornn train`` builds, and RMSProp as TensorFlow 1 computes it.

Both papers train with "RMSProp, decay 0.9" (RUM §4; Henaff et al. §4), and the official RUM
code calls ``tf.train.RMSPropOptimizer(learning_rate, decay=0.9)``. TensorFlow 1's RMSProp is
not torch's :class:`torch.optim.RMSprop`:

.. math::

    \text{TF:}\quad v_0 = 1,\qquad v_k = \rho\,v_{k-1} + (1-\rho)\,g_k^2,\qquad
        \theta_k = \theta_{k-1} - \eta\,\frac{g_k}{\sqrt{v_k + \epsilon}},\quad \epsilon = 10^{-10};

    \text{torch:}\quad v_0 = 0,\qquad \text{the same } v_k,\qquad
        \theta_k = \theta_{k-1} - \eta\,\frac{g_k}{\sqrt{v_k} + \epsilon},\quad \epsilon = 10^{-8}.

The accumulator's start is what matters: torch's first step is
``η g/√((1−ρ) g²) = η/√0.1 ≈ 3.16 η`` per coordinate whatever the gradient's size, TensorFlow's
``η g/√(ρ + (1−ρ) g²) ≈ 1.05 η g`` for a small gradient. The difference fades as ``ρ^k``
(after about 50 steps at ρ = 0.9), but it falls on the first steps from the initialisation,
where a long-memory task's gradients are tiny. ``rmsprop-tf`` (:class:`RMSpropTF`) is
TensorFlow's; ``rmsprop`` stays torch's, as every earlier run of this project used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ..errors import OrthornnError
from .config import OPTIMIZERS

__all__ = ["RMSpropTF", "build_optimizer", "learned_lams", "parameter_groups"]


class RMSpropTF(torch.optim.Optimizer):
    r"""RMSProp as ``tf.train.RMSPropOptimizer`` (TensorFlow 1) computes it, without momentum.

    .. math:: v \leftarrow \rho v + (1-\rho) g^2,\qquad \theta \leftarrow \theta - \eta\,g/\sqrt{v + \epsilon},
              \qquad v_0 = 1

    Parameters
    ----------
    params : iterable of Tensor
        The parameters.
    lr : float
        The learning rate η.
    decay : float
        ρ in [0, 1) (TensorFlow's ``decay``; 0.9 as in both papers).
    eps : float
        ε, added *inside* the square root (TensorFlow's default 1e-10).

    Examples
    --------
    >>> p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    >>> opt = RMSpropTF([p], lr=0.1)
    >>> p.grad = torch.tensor([0.5], dtype=torch.float64)
    >>> opt.step()
    >>> round(float(p.detach()), 6)  # 1 − 0.1 · 0.5 / √(0.9 + 0.1 · 0.25)
    0.948012
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, decay: float = 0.9, eps: float = 1e-10) -> None:
        if not lr > 0:
            raise OrthornnError(f"lr: must be positive, got {lr!r}")
        if not 0.0 <= decay < 1.0:
            raise OrthornnError(f"decay: must be in [0, 1), got {decay!r}")
        if not eps >= 0:
            raise OrthornnError(f"eps: must be non-negative, got {eps!r}")
        super().__init__(params, {"lr": lr, "decay": decay, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter with a gradient (``closure``: re-evaluates the loss)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise OrthornnError("RMSpropTF: sparse gradients are not supported")
                state = self.state[p]
                if not state:
                    state["rms"] = torch.ones_like(p, memory_format=torch.preserve_format)
                rms = state["rms"]
                rms.mul_(rho).addcmul_(p.grad, p.grad, value=1.0 - rho)
                p.addcdiv_(p.grad, rms.add(eps).sqrt_(), value=-lr)
        return loss


def build_optimizer(name: str, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float) -> torch.optim.Optimizer:
    """The optimiser ``name`` of :data:`orthornn.train.config.OPTIMIZERS` over ``params`` (decay 0.9 for both RMSProps).

    ``params`` are tensors or torch's parameter groups (dicts with ``"params"`` and, for a
    group of its own rate, ``"lr"``); ``lr`` is the rate of the groups that name none.

    >>> build_optimizer("rmsprop-tf", [torch.nn.Parameter(torch.zeros(2))], 1e-3).defaults["decay"]
    0.9
    """
    params = list(params)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9)
    if name == "rmsprop-tf":
        return RMSpropTF(params, lr=lr, decay=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise OrthornnError(f"optimizer: unknown {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def learned_lams(model: torch.nn.Module) -> list[Tensor]:
    """The learned RUM λ of ``model``: its parameters named ``lam`` (:class:`orthornn.nn.RUMCell`'s,
    in RUM and in FS-RUM's slow cell; a fixed λ is a float, not a parameter), in model order."""
    return [p for n, p in model.named_parameters() if n.rsplit(".", 1)[-1] == "lam"]


def parameter_groups(model: torch.nn.Module, lam_lr: float | None) -> list[Tensor] | list[dict[str, Any]]:
    r"""The model's parameters, with a learned RUM λ in a group of its own when ``lam_lr`` is set.

    λ is one scalar that acts on every step of every sequence. Adam and RMSProp move each
    parameter by about its learning rate a step whatever the gradient's size, so λ moves as far
    a step as any single weight; ``lam_lr`` (``orthornn train --lam-lr``) sets its own rate.
    The λ parameters are those named ``lam`` (:class:`orthornn.nn.RUMCell`'s, in RUM and in
    FS-RUM's slow cell); without ``lam_lr`` this is ``list(model.parameters())``, one group.

    >>> from orthornn.nn import RUM
    >>> groups = parameter_groups(RUM(3, 4, lam=0.5, learn_lam=True), 1e-4)
    >>> [len(g["params"]) for g in groups], groups[1]["lr"]
    ([4, 1], 0.0001)
    """
    if lam_lr is None:
        return list(model.parameters())
    lams = learned_lams(model)
    if not lams:
        raise OrthornnError("lam_lr: the model has no learned λ (a parameter named 'lam')")
    ids = {id(p) for p in lams}
    return [{"params": [p for p in model.parameters() if id(p) not in ids]}, {"params": lams, "lr": lam_lr}]
