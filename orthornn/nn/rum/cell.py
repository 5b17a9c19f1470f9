r"""The RUM cell and layer, and the one rule that picks their memory path (RUM §3.2, appendix D).

:class:`RUMCell` is one step, :class:`RUM` a whole sequence, :class:`RUMState` their state
``(h, R)``. Which implementation of the memory runs — for which λ, options, grad mode and, through
the sequence nodes that decline, device — is decided by :func:`memory_path` alone; the table of
its answers is in the docstring of :mod:`orthornn.nn.rum`.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (cell), §5.2 (real λ),
appendix D (layer norm, zoneout).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from ...errors import OrthornnError, ShapeError
from .fractional import fractional_step
from .frame import time_normalize
from .lambda0 import fused_step0, sequence0
from .native import sequence1
from .recompute import MemoryTape, fused_step1_recompute
from .spectral import spectral_sequence
from .stored import fused_step1

__all__ = ["RUM", "RUM_INITS", "RUMCell", "RUMState", "memory_path", "semi_orthogonal"]

#: Kernel initialisations of :class:`RUMCell` (``init=``): ``"glorot"`` (the default) and
#: ``"orthogonal"`` (that of the official TF code, jingli9111/RUM-Tensorflow).
RUM_INITS = ("glorot", "orthogonal")

#: The paths that run a whole sequence as one node; either may decline (None), and the sequence
#: then runs step by step on the path :func:`memory_path` names with ``nodes=False``.
SEQUENCE_NODES = ("sequence0", "sequence1", "spectral")


class RUMState(NamedTuple):
    """Recurrent state of a RUM: hidden ``h`` of shape ``(B, N)`` and memory ``R`` of shape
    ``(B, N, N)`` (``None`` when ``λ = 0``: the memory is then one Rotation per step)."""

    h: Tensor
    R: Tensor | None


def semi_orthogonal(rows: int, cols: int, *, generator: torch.Generator | None = None) -> Tensor:
    r"""A Haar-distributed ``rows×cols`` matrix with orthonormal columns (``rows ≥ cols``) or
    orthonormal rows (``rows < cols``), in float64 on the CPU.

    .. math:: Q^\top Q = I_{\text{cols}} \ (\text{rows} \ge \text{cols}), \qquad
              Q Q^\top = I_{\text{rows}} \ (\text{rows} < \text{cols})

    The Q factor of a standard Gaussian ``max×min`` matrix with the signs of R's diagonal made
    positive (so the distribution is Haar on the Stiefel manifold), transposed when
    ``rows < cols``. Draws from ``generator`` (torch's default CPU generator when None).

    Examples
    --------
    >>> Q = semi_orthogonal(5, 3, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(Q.T @ Q, torch.eye(3, dtype=torch.float64), atol=1e-14, rtol=0))
    True
    >>> W = semi_orthogonal(3, 5, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(W @ W.T, torch.eye(3, dtype=torch.float64), atol=1e-14, rtol=0))
    True
    """
    big, small = max(rows, cols), min(rows, cols)
    a = torch.randn(big, small, dtype=torch.float64, generator=generator)
    q, r = torch.linalg.qr(a)
    q = q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)
    return q if rows >= cols else q.T


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if not math.isfinite(lam):
        raise OrthornnError(f"lam must be a finite real number, got {lam}")
    return lam


def memory_path(
    cell: RUMCell, *, sequence: bool = False, nodes: bool = True, R: Tensor | None = None, tape: bool = False
) -> str:
    r"""The memory path that runs a sequence or a step of ``cell``: the one dispatch rule of RUM.

    .. math:: R_t = (R_{t-1})^\lambda\,\operatorname{Rotation}(\varepsilon_t, \tau_t)

    has seven implementations (the table in :mod:`orthornn.nn.rum`): ``"sequence0"`` and
    ``"step0"`` for a fixed λ = 0, ``"sequence1"``, ``"recompute"`` and ``"stored"`` for a fixed
    λ = 1, ``"spectral"`` (a whole sequence) and ``"fractional"`` (a step) for every other λ and a
    learned one. A whole-sequence node runs only in :meth:`RUM.forward` without layer norm and
    zoneout; it may still decline (a degenerate step; for ``"sequence1"`` also no native kernel
    for these tensors: no compiler, ``ORTHORNN_NATIVE=0``, not CPU float32/float64), and the
    sequence then runs step by step on the path this rule names with ``nodes=False``.

    Parameters
    ----------
    cell : RUMCell
    sequence : bool
        A whole sequence (:meth:`RUM.forward`) rather than one step (:meth:`RUMCell.step`).
    nodes : bool
        Whether a whole-sequence node may run (False: one declined).
    R : Tensor or None
        The memory the sequence starts from (the λ = 1 node needs one).
    tape : bool
        The step belongs to a memory-efficient pass (:meth:`RUMCell.step` got a :class:`MemoryTape`).

    Returns
    -------
    str
        ``"sequence0"``, ``"step0"``, ``"sequence1"``, ``"recompute"``, ``"stored"``,
        ``"spectral"`` or ``"fractional"``.

    Examples
    --------
    >>> memory_path(RUMCell(2, 3), sequence=True), memory_path(RUMCell(2, 3, zoneout=0.1), sequence=True)
    ('sequence0', 'step0')
    >>> R = torch.eye(3).expand(4, 3, 3)
    >>> memory_path(RUMCell(2, 3, lam=1.0), sequence=True, R=R), memory_path(RUMCell(2, 3, lam=1.0))
    ('sequence1', 'stored')
    >>> efficient = RUMCell(2, 3, lam=1.0, memory_efficient=True)
    >>> memory_path(efficient, sequence=True, nodes=False, R=R)
    'recompute'
    >>> with torch.no_grad():  # nothing to rebuild without a backward
    ...     memory_path(efficient, sequence=True, nodes=False, R=R)
    'stored'
    >>> memory_path(RUMCell(2, 3, lam=0.5)), memory_path(RUMCell(2, 3, lam=1.0, learn_lam=True))
    ('fractional', 'fractional')
    >>> memory_path(RUMCell(2, 3, lam=0.5), sequence=True, R=R)
    'spectral'
    """
    node = sequence and nodes and cell.ln_u is None and cell.zoneout == 0.0
    if not cell.has_memory:
        return "sequence0" if node else "step0"
    if isinstance(cell.lam, Tensor) or cell.lam != 1.0:
        return "spectral" if node and R is not None else "fractional"
    if node and R is not None:
        return "sequence1"
    if tape or (sequence and cell.memory_efficient and torch.is_grad_enabled()):
        return "recompute"
    return "stored"


class RUMCell(nn.Module):
    r"""One step of the RUM recurrence (RUM §3.2).

    .. math::

        (\tilde u, \tau) = W_{xh} x + W_{hh} h + b,\quad \varepsilon = W_{xe} x + b_e,\quad
        R' = R^\lambda\,\operatorname{Rotation}(\varepsilon, \tau),\quad
        h' = u \odot h + (1-u) \odot \operatorname{ReLU}(\varepsilon + R' h)

    followed by time normalisation to norm ``η`` (``eta=None``: off) and, in training mode,
    hidden-state zoneout.

    Parameters
    ----------
    input_size, hidden_size : int
        ``N_x`` and ``N``.
    lam : float
        Associative power λ. ``0`` (no memory beyond one Rotation, O(B·N) per step), ``1``
        (the paper's associative memory) or any real number (:class:`RUM`: the memory in
        spectral form, :func:`~orthornn.nn.rum.spectral.spectral_sequence`; a step: ``so_power``).
    learn_lam : bool
        Make λ a trainable parameter (initialised at ``lam``); runs on the fractional paths
        (:class:`RUM`: the spectral sequence node; a step: ``so_power``).
    eta : float or None
        Time-normalisation norm η (``None``: off).
    embed_bias : bool
        Include the embedding bias ``b_e`` (the paper's; the official TF code dropped it).
    layer_norm : bool
        Layer-normalise the pre-activations of the update gate and of the target τ
        (RUM appendix D).
    memory_efficient : bool
        λ = 1 only: the backward pass recomputes ``R_{t−1} = R_t · Rotation(ε_t, τ_t)ᵀ`` instead
        of storing every ``R_t`` (the reconstruction of :func:`memory_step_recompute`, run
        inside one hand-written node per step that saves four ``(B, N)`` vectors and
        recomputes the rest), so training memory is nearly flat in the sequence length; ``R``,
        its reconstruction and ``∂L/∂R`` are updated in place (no ``B×N×N`` copy per step).
        One backward per forward pass. This selects between the two torch step paths; where the
        native λ = 1 kernel runs (:func:`sequence1`: CPU, no layer norm or zoneout) both settings
        use it, and it never stores ``R_t`` either.
    zoneout : float
        Hidden-state zoneout probability (Krueger et al. 2016, RUM appendix D): in training
        each unit keeps its previous value with this probability; in evaluation the
        expectation ``p·h_{t−1} + (1−p)·h_t`` is used.
    init : {"glorot", "orthogonal"}
        Kernel initialisation (:meth:`reset_parameters`): Glorot-uniform (the default), or
        orthogonal as the official TF code (each gate half on ``[x; h]`` with orthonormal rows,
        orthonormal symbol embeddings).
    device, dtype
        Where and in which precision the parameters live.

    Notes
    -----
    Initialisation (:meth:`reset_parameters`): the kernels are Glorot-uniform
    (``init="glorot"``) or orthogonal (``init="orthogonal"``); the gate and target biases ``b``
    are 1 (RUM §3.2: a gate bias of 1 starts the cell remembering); ``b_e`` starts at 0.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 and appendix D.

    Examples
    --------
    >>> torch.manual_seed(0) is not None
    True
    >>> cell = RUMCell(3, 5, lam=1.0, eta=2.0, dtype=torch.float64)
    >>> h, R = cell(torch.randn(4, 3, dtype=torch.float64))
    >>> bool(torch.allclose(h.norm(dim=-1), torch.full((4,), 2.0, dtype=torch.float64)))
    True
    >>> eye = torch.eye(5, dtype=torch.float64).expand(4, 5, 5)
    >>> bool(torch.allclose(R @ R.transpose(-1, -2), eye))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        lam: float = 0.0,
        learn_lam: bool = False,
        eta: float | None = None,
        embed_bias: bool = True,
        layer_norm: bool = False,
        zoneout: float = 0.0,
        memory_efficient: bool = False,
        init: str = "glorot",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if init not in RUM_INITS:
            raise OrthornnError(f"init: unknown {init!r}; choose one of {', '.join(RUM_INITS)}")
        self.init = init
        if memory_efficient and (learn_lam or float(lam) != 1.0):
            raise OrthornnError("memory_efficient needs a fixed lam = 1 (it inverts R_t = R_{t-1} Rotation)")
        self.memory_efficient = bool(memory_efficient)
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise OrthornnError(f"input_size and hidden_size must be positive, got {input_size}, {hidden_size}")
        if eta is not None and not (math.isfinite(eta) and eta > 0):
            raise OrthornnError(f"eta must be a positive number or None, got {eta}")
        if not 0.0 <= zoneout < 1.0:
            raise OrthornnError(f"zoneout must be in [0, 1), got {zoneout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.eta = None if eta is None else float(eta)
        self.zoneout = float(zoneout)
        n, nx = self.hidden_size, self.input_size
        kw = {"device": device, "dtype": dtype}
        #: ``[W_xh; W_xe]`` stacked, shape (3N, N_x): one GEMM projects every input.
        self.weight_x = nn.Parameter(torch.empty(3 * n, nx, **kw))
        #: ``W_hh``, shape (2N, N).
        self.weight_h = nn.Parameter(torch.empty(2 * n, n, **kw))
        #: ``b = (b_u, b_τ)``, shape (2N,).
        self.bias = nn.Parameter(torch.ones(2 * n, **kw))
        #: ``b_e``, shape (N,), or None.
        self.bias_e = nn.Parameter(torch.zeros(n, **kw)) if embed_bias else None
        lam = _check_lam(lam)
        if learn_lam:
            self.lam: Tensor | float = nn.Parameter(torch.tensor(lam, **kw))
        else:
            self.lam = lam
        self.ln_u = nn.LayerNorm(n, **kw) if layer_norm else None
        self.ln_tau = nn.LayerNorm(n, **kw) if layer_norm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Draw the kernels by :attr:`init`; gate and target biases 1, embedding bias 0.

        ``"glorot"``: ``W_xh`` (``2N × N_x``), ``W_hh`` (``2N × N``) and ``W_xe`` (``N × N_x``)
        uniform on ``±√(6/(N_x + 2N))``, ``±√(6/(3N))`` and ``±√(6/(N_x + N))`` (fan-in plus
        fan-out of each), drawn in that order with ``uniform_`` from the parameters' device
        generator.

        ``"orthogonal"`` (the official TF code's ``rum_ortho_initializer`` and
        ``orthogonal_initializer``): the ``N × (N_x + N)`` map ``[W_x^u, W_h^u]`` of the update
        gate and the one of the target τ, ``[W_x^τ, W_h^τ]``, each with orthonormal rows (in the
        TF layout: each ``(N_x + N, N)`` kernel with orthonormal columns), drawn independently,
        so each ``N×N`` recurrent block has spectral norm ≤ 1; and the embedding ``W_xe``
        (``N × N_x``) with orthonormal columns when ``N_x ≤ N`` — the embedding of every one-hot
        symbol has norm 1 and different symbols' are orthogonal — and orthonormal rows when
        ``N_x > N`` (then ``N_x`` embeddings in ``R^N`` cannot be orthonormal; the TF code
        gives the ``(N_x, N)`` kernel orthonormal columns, the same matrix). Each is
        :func:`semi_orthogonal` (Haar; the TF code takes the SVD factor of a Gaussian instead),
        drawn in float64 from torch's default CPU generator and then cast, so the draws are the
        same on every device and dtype; order ``u``, ``τ``, ``ε``.
        """
        n, nx = self.hidden_size, self.input_size
        with torch.no_grad():
            if self.init == "orthogonal":
                for rows in (slice(0, n), slice(n, 2 * n)):  # u, then τ
                    q = semi_orthogonal(n, nx + n)
                    self.weight_x[rows].copy_(q[:, :nx])
                    self.weight_h[rows].copy_(q[:, nx:])
                self.weight_x[2 * n :].copy_(semi_orthogonal(n, nx))
            else:
                bx = math.sqrt(6.0 / (nx + 2 * n))
                self.weight_x[: 2 * n].uniform_(-bx, bx)
                be = math.sqrt(6.0 / (nx + n))
                self.weight_x[2 * n :].uniform_(-be, be)
                bh = math.sqrt(6.0 / (3 * n))
                self.weight_h.uniform_(-bh, bh)
            self.bias.fill_(1.0)
            if self.bias_e is not None:
                self.bias_e.zero_()

    @property
    def has_memory(self) -> bool:
        """Whether the state carries the matrix ``R`` (every λ except a fixed 0)."""
        return isinstance(self.lam, Tensor) or self.lam != 0.0

    def extra_repr(self) -> str:
        lam = "learnable" if isinstance(self.lam, Tensor) else self.lam
        return f"{self.input_size}, {self.hidden_size}, lam={lam}, eta={self.eta}, init={self.init!r}"

    def projection_bias(self) -> Tensor:
        """``[b, b_e]`` (``b_e = 0`` without the embedding bias), shape (3N,)."""
        be = self.bias_e if self.bias_e is not None else self.bias.new_zeros(self.hidden_size)
        return torch.cat([self.bias, be])

    def input_projection(self, x: Tensor) -> Tensor:
        r"""``[W_xh x + b, W_xe x + b_e]`` over any leading axes: shape (..., 3N)."""
        return torch.nn.functional.linear(x, self.weight_x, self.projection_bias())

    def initial_state(self, batch: int, *, like: Tensor) -> RUMState:
        """``h_0 = 0`` and ``R_0 = I`` (``None`` when λ = 0), on ``like``'s device and dtype."""
        h = like.new_zeros(batch, self.hidden_size)
        R = None
        if self.has_memory:
            R = torch.eye(self.hidden_size, dtype=like.dtype, device=like.device)
            R = R.expand(batch, -1, -1)
        return RUMState(h, R)

    def step(self, proj: Tensor, state: RUMState, tape: MemoryTape | None = None, t: int = 0) -> RUMState:
        """One step from a precomputed :meth:`input_projection` ``proj`` of shape (B, 3N), on the
        memory path :func:`memory_path` names for it (``step0``, ``stored``, ``recompute`` or
        ``fractional``).

        ``tape``/``t``: the memory-efficient pass of :class:`RUM` (step ``t`` of the tape)."""
        n = self.hidden_size
        h, R = state
        g = torch.addmm(proj[:, : 2 * n], h, self.weight_h.t())
        u_pre, tau = g[:, :n], g[:, n:]
        eps = proj[:, 2 * n :]
        if self.ln_u is not None and self.ln_tau is not None:
            u_pre, tau = self.ln_u(u_pre), self.ln_tau(tau)
        path = memory_path(self, tape=tape is not None)
        if path == "step0":
            h_new, R_new = fused_step0(u_pre, tau, eps, h), None
        elif R is None:
            raise ShapeError("this RUM carries a memory R (lam != 0): the state needs R")
        elif path == "fractional":
            h_new, R_new = fractional_step(u_pre, tau, eps, h, R, self.lam)
        elif path == "recompute":
            assert tape is not None  # memory_path names it only for a step with a tape
            h_new, R_new = fused_step1_recompute(u_pre, tau, eps, h, R, tape, t)
        else:  # "stored"
            h_new, R_new = fused_step1(u_pre, tau, eps, h, R)
        if self.eta is not None:
            h_new = time_normalize(h_new, self.eta)
        if self.zoneout > 0.0:
            if self.training:
                keep = torch.rand_like(h_new) < self.zoneout
                h_new = torch.where(keep, h, h_new)
            else:
                h_new = self.zoneout * h + (1.0 - self.zoneout) * h_new
        return RUMState(h_new, R_new)

    def forward(self, x: Tensor, state: RUMState | None = None) -> RUMState:
        """One step: ``x`` of shape (B, N_x); returns the new :class:`RUMState`."""
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ShapeError(f"RUMCell input must be (B, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.initial_state(x.shape[0], like=x)
        return self.step(self.input_projection(x), state)


class RUM(nn.Module):
    r"""A RUM layer over whole sequences, ``batch_first`` like ``torch.nn.RNN(batch_first=True)``.

    .. math:: h_t, R_t = \operatorname{RUMCell}(x_t, (h_{t-1}, R_{t-1})), \qquad t = 1, \dots, T

    ``forward(x, state=None) -> (output, state)`` with ``x`` of shape (B, T, N_x), ``output``
    the hidden states (B, T, N) and ``state`` the final :class:`RUMState` ``(h, R)``. Passing the
    state back in continues the sequence exactly, so chunked/truncated BPTT keeps the
    associative memory across chunks. Keyword arguments are those of :class:`RUMCell`.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2.

    Examples
    --------
    Two chunks with the carried state give the one-shot result:

    >>> _ = torch.manual_seed(0)
    >>> rum = RUM(2, 4, lam=1.0, dtype=torch.float64)
    >>> x = torch.randn(3, 6, 2, dtype=torch.float64)
    >>> y, (h, R) = rum(x)
    >>> y1, s1 = rum(x[:, :4]); y2, (h2, R2) = rum(x[:, 4:], s1)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y)) and bool(torch.allclose(R2, R))
    True
    """

    def __init__(self, input_size: int, hidden_size: int, **cell_kwargs: object) -> None:
        super().__init__()
        self.cell = RUMCell(input_size, hidden_size, **cell_kwargs)  # type: ignore[arg-type]
        self.input_size, self.hidden_size = self.cell.input_size, self.cell.hidden_size

    def forward(self, x: Tensor, state: RUMState | None = None) -> tuple[Tensor, RUMState]:
        """Run the cell over ``x`` (B, T, N_x); return outputs (B, T, N) and the final state."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(f"RUM input must be (B, T, {self.input_size}), got {tuple(x.shape)}")
        if state is None:
            state = self.cell.initial_state(x.shape[0], like=x)
        else:
            state = RUMState(*state)
        cell = self.cell
        path = memory_path(cell, sequence=True, R=state.R)
        if path == "sequence0":
            hs = sequence0(x, cell.weight_x, cell.projection_bias(), cell.weight_h, state.h, cell.eta)
            if hs is not None:  # one autograd node for the whole sequence
                return hs.transpose(0, 1), RUMState(hs[-1], None)
        elif path == "sequence1":
            out = sequence1(x, cell.weight_x, cell.projection_bias(), cell.weight_h, state.h, state.R, cell.eta)
            if out is not None:  # the native λ = 1 sequence kernel
                return out[0].transpose(0, 1), RUMState(out[0][-1], out[1])
        elif path == "spectral":
            out = spectral_sequence(
                x, cell.weight_x, cell.projection_bias(), cell.weight_h, state.h, state.R, cell.lam, cell.eta
            )
            if out is not None:  # the fractional memory in spectral form
                return out[0].transpose(0, 1), RUMState(out[0][-1], out[1])
        if path in SEQUENCE_NODES:  # the node declined: step by step
            path = memory_path(cell, sequence=True, nodes=False, R=state.R)
        tape = MemoryTape() if path == "recompute" else None
        if tape is None:
            # one GEMM for every time step, sliced once (indexing proj[:, t] in the loop makes
            # backward O(T²))
            projs: Iterable[Tensor] = cell.input_projection(x).unbind(1)
        else:
            # one small GEMM per step: its gradient goes straight into ∂W_x instead of waiting in
            # a (B, T, 3N) buffer for the whole backward (memory flat in T)
            bias = cell.projection_bias()
            projs = (torch.nn.functional.linear(x_t, cell.weight_x, bias) for x_t in x.unbind(1))
        outputs = []
        for t, proj_t in enumerate(projs, start=1):
            state = self.cell.step(proj_t, state, tape, t)
            outputs.append(state.h)
        if tape is not None and state.R is not None:  # a copy: the backward rebuilds R_{t−1} in it
            tape.R[x.shape[1]] = state.R.detach().clone()
        return torch.stack(outputs, 1), state
