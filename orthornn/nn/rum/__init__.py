r"""The Rotational Unit of Memory (RUM): a gated cell whose kernel is a learned Rotation.

.. math::

    (\tilde u_t, \tau_t) &= W_{xh} x_t + W_{hh} h_{t-1} + b_t, \qquad
    u_t = \operatorname{sigmoid}(\tilde u_t), \qquad \varepsilon_t = W_{xe} x_t + b_e \\
    R_t &= (R_{t-1})^\lambda \cdot \operatorname{Rotation}(\varepsilon_t, \tau_t), \qquad R_0 = I \\
    \tilde h_t &= \operatorname{ReLU}(\varepsilon_t + R_t h_{t-1}), \qquad
    h'_t = u_t \odot h_{t-1} + (1 - u_t) \odot \tilde h_t, \qquad
    h_t = \eta\, h'_t / \lVert h'_t \rVert

The rotation is never formed as a matrix. The memory runs on one of seven paths, each in a module
of this package, and one rule picks the path: :func:`memory_path`, which :meth:`RUM.forward`
asks for a whole sequence and :meth:`RUMCell.step` for one step.

==============  =====================================================  =============================  ==============
path            runs when                                              function                       module
==============  =====================================================  =============================  ==============
``sequence0``   :class:`RUM`, fixed λ = 0, no layer norm or zoneout    :func:`sequence0` (one node;   ``lambda0``
                                                                       C step on CPU, else torch)
``step0``       fixed λ = 0 otherwise                                  :func:`fused_step0`            ``lambda0``
``sequence1``   :class:`RUM`, fixed λ = 1, no layer norm or zoneout,   :func:`sequence1` (one node,   ``native``
                the state carries ``R``                                the native kernel)
``recompute``   :class:`RUM`, fixed λ = 1, ``memory_efficient=True``,  :func:`fused_step1_recompute`  ``recompute``
                grad enabled
``stored``      fixed λ = 1 otherwise                                  :func:`fused_step1`            ``stored``
``spectral``    :class:`RUM`, any other λ (fixed or learned), no       :func:`spectral_sequence`      ``spectral``
                layer norm or zoneout                                  (one node, spectral form; C
                                                                       eigen-update on CPU)
``fractional``  any other λ otherwise                                  :func:`fractional_step`        ``fractional``
==============  =====================================================  =============================  ==============

A whole-sequence node declines (returns None) when some step's pair ``(ε, τ)`` is zero or nearly
antiparallel (``1 + c <`` :data:`FAST_PATH_MIN_1PC`), and ``sequence1`` also where its kernel
cannot run (no C compiler, ``ORTHORNN_NATIVE=0``, not CPU float32/float64); :class:`RUM` then
runs the sequence step by step on the path the rule names without the nodes (``step0``,
``recompute`` / ``stored``, or ``fractional``). The step paths send such a batch to the general
:func:`orthornn.nn.functional.rotate` themselves (the library's conventions for degenerate
pairs). "Otherwise" is :class:`RUMCell` on its own, layer norm or zoneout, a declined node, and
for λ = 1 a pass without gradients or with ``memory_efficient=False``.

The other modules: :mod:`.frame` (the rotation frame of ``(ε, τ)`` every path uses,
:func:`rotate_step`, :func:`time_normalize`, :data:`FAST_PATH_MIN_1PC`, the first-order guard of
the hand-written backwards), :mod:`.sequence_node` (what the two sequence nodes share) and
:mod:`.cell` (:class:`RUMCell`, :class:`RUM`, :class:`RUMState`, :func:`memory_path`).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (cell), §5.2 (real λ),
appendix D (layer norm, zoneout).
"""

from __future__ import annotations

from .cell import RUM, RUMCell, RUMState, memory_path
from .fractional import fractional_step
from .frame import FAST_PATH_MIN_1PC, rotate_step, time_normalize
from .lambda0 import SEQ0_CHUNK_ROWS, fused_step0, sequence0
from .native import sequence1
from .recompute import MemoryTape, fused_step1_recompute, memory_step_recompute
from .spectral import spectral_sequence
from .stored import fused_step1, memory_step, memory_update

__all__ = [
    "FAST_PATH_MIN_1PC",
    "RUM",
    "SEQ0_CHUNK_ROWS",
    "MemoryTape",
    "RUMCell",
    "RUMState",
    "fractional_step",
    "fused_step0",
    "fused_step1",
    "fused_step1_recompute",
    "memory_path",
    "memory_step",
    "memory_step_recompute",
    "memory_update",
    "rotate_step",
    "sequence0",
    "sequence1",
    "spectral_sequence",
    "time_normalize",
]
