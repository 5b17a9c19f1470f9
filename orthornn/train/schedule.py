r"""Learning-rate schedules: the factor that multiplies the configured rate at each step.

.. math:: \eta_k = \eta \cdot s(k / K), \qquad k = 0 \dots K - 1 \ (\text{the step being taken}),\ K = \text{steps}

* ``constant``: :math:`s = 1`;
* ``paper``: the RUM paper's pattern for FS-RUM-2 (appendix D, Table 6: Adam at 0.002 for
  epochs 1–180, 0.0001 for 181–240, 0.00001 for 241–360), as fractions of the run:

  .. math:: s(u) = 1 \ (u < 1/2), \qquad 0.05 \ (1/2 \le u < 2/3), \qquad 0.005 \ (u \ge 2/3)

  so that a run of any length has the paper's shape (with ``lr = 0.002``: the paper's rates).
* ``cosine``: the cosine decay of Loshchilov & Hutter (SGDR, 2017) without restarts, from the
  configured rate at the first step towards 0 at the end of the run:

  .. math:: s(u) = \tfrac12\,(1 + \cos \pi u)

  (no step at which the rate falls by a factor 20 at once, where the paper's pattern, on a run
  of a few epochs, stops the progress of the rest of the run).

The factor is a function of the step and of ``steps`` alone, so a resumed run takes the same
rates as an uninterrupted one (a resume that raises ``steps`` stretches the schedule from then
on). :data:`SCHEDULES` also accepts new entries ``(step, steps) -> factor``.

Examples
--------
>>> [lr_factor("paper", k, 360) for k in (0, 179, 180, 239, 240, 359)]
[1.0, 1.0, 0.05, 0.05, 0.005, 0.005]
>>> [round(lr_factor("cosine", k, 4), 4) for k in range(4)]
[1.0, 0.8536, 0.5, 0.1464]
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import OrthornnError

__all__ = ["PAPER_PATTERN", "SCHEDULES", "lr_factor"]

#: Table 6 of the RUM paper as (fraction of the run where it starts, factor on the initial rate).
PAPER_PATTERN = ((0.0, 1.0), (180 / 360, 0.0001 / 0.002), (240 / 360, 0.00001 / 0.002))


def _paper(step: int, steps: int) -> float:
    factor = 1.0
    for start, f in PAPER_PATTERN:
        if step >= start * steps - 1e-9:
            factor = f
    return factor


def _cosine(step: int, steps: int) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * step / steps))


#: Schedule name -> ``(step, steps) -> factor``.
SCHEDULES: dict[str, Callable[[int, int], float]] = {
    "constant": lambda step, steps: 1.0,
    "paper": _paper,
    "cosine": _cosine,
}


def lr_factor(name: str | Callable[[int, int], float], step: int, steps: int) -> float:
    """The factor of schedule ``name`` (or a callable) at 0-based ``step`` of a run of ``steps``."""
    fn = name if callable(name) else SCHEDULES.get(name)
    if fn is None:
        raise OrthornnError(f"lr_schedule: unknown {name!r}; choose one of {', '.join(SCHEDULES)}")
    return float(fn(step, steps))
