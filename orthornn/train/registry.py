"""String registries of the tasks and models ``orthornn train`` can run.

A model builder takes ``(config, input_size, output_size, device, dtype)`` and returns a
module with ``forward(x) -> (scores, state)``; :data:`MODELS` also accepts new entries. On task
ptb the model is a :class:`~orthornn.nn.lm.LanguageModel` whose core is built by :data:`CORES`
(embedding → core → readout over the characters).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import OrthornnError
from ..nn.baselines import GRU, LSTM
from ..nn.eunnrnn import EUNNRNN, GORU
from ..nn.fsrum import FSRUM
from ..nn.lm import LanguageModel
from ..nn.ltrnn import LTRNN
from ..nn.rum import RUM
from ..tasks import AddingTask, CopyTask, RecallTask, VariableCopyTask
from .config import TrainConfig

__all__ = [
    "CORES",
    "MODELS",
    "READOUT_INITS",
    "TASKS",
    "SequenceModel",
    "build_model",
    "build_task",
    "count_parameters",
    "init_readout",
]

#: Initialisations of the linear readout (the models with one: every model but ltrnn):
#: ``torch`` (``nn.Linear``'s own) and ``glorot-io`` (the official RUM code's, see
#: :func:`init_readout`).
READOUT_INITS = ("torch", "glorot-io")

Task = CopyTask | VariableCopyTask | AddingTask | RecallTask

#: Task name -> builder from a config.
TASKS: dict[str, Callable[[TrainConfig], Any]] = {
    "copy": lambda c: CopyTask(c.T, c.S, c.K),
    "varcopy": lambda c: VariableCopyTask(c.T, c.S, c.K),
    "adding": lambda c: AddingTask(c.T),
    "recall": lambda c: RecallTask(c.T),
    "babi": lambda c: _babi(c),
    "ptb": lambda c: _ptb(c),
}


def _ptb(c: TrainConfig) -> Any:
    """The character corpus of ``c`` read from its data folder (:func:`orthornn.datasets.load_ptb`)."""
    from ..datasets import load_ptb

    if c.data is None:
        raise OrthornnError("data: task ptb reads its files from a data folder; none given")
    return load_ptb(c.data)


def _babi(c: TrainConfig) -> Any:
    """The bAbI task of ``c`` read from its data folder (:func:`orthornn.datasets.load_babi`)."""
    from ..datasets import load_babi
    from .data import BABI_ENTROPY

    if c.data is None:
        raise OrthornnError("data: task babi reads its files from a data folder; none given")
    if c.babi_task == "all":
        raise OrthornnError("babi_task: 'all' is a set of 20 runs, one per task; a run trains one task number")
    return load_babi(c.data, c.babi_task, c.babi_set, seed=(c.seed, BABI_ENTROPY["split"]), split=c.babi_split)


def build_task(config: TrainConfig) -> Any:
    """The task object named by ``config.task`` (bAbI: read from ``config.data``)."""
    return TASKS[config.task](config)


class SequenceModel(nn.Module):
    """A recurrent core followed by a per-step linear readout: ``forward(x) -> (scores, state)``."""

    def __init__(self, core: nn.Module, head: nn.Module | None) -> None:
        super().__init__()
        self.core, self.head = core, head

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        y, state = self.core(x, state)
        return (y if self.head is None else self.head(y)), state


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars of ``module`` (counted from the module, not optimiser slots).

    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def init_readout(head: nn.Linear, name: str, input_size: int) -> nn.Linear:
    r"""Initialise the readout ``head`` (``N → n_out``) of a model whose input has ``input_size``
    features; returns ``head``.

    ``"torch"``: left as ``nn.Linear`` drew it, weight and bias uniform on ``±1/√N``.
    ``"glorot-io"``: the official RUM code's (``recall_task.py``, ``copying_task.py`` of
    jingli9111/RUM-Tensorflow: ``V_init_val = √6/√(n_output + n_input)``, bias
    ``constant_initializer(0.01)``):

    .. math:: W \sim Uigl(\pm\sqrt{6/(n_{out} + n_x)}igr), \qquad b = 0.01

    — a Glorot bound over the *task's* output and input sizes (``n_x`` the one-hot vocabulary,
    not the readout's own fan-in ``N``): ``±√(6/36)`` for recall T = 30 (10 classes, 26 symbols),
    ``±√(6/19)`` for copy with K = 8. Drawn with ``uniform_`` from torch's current generator.

    >>> _ = torch.manual_seed(0)
    >>> head = init_readout(nn.Linear(50, 10), "glorot-io", input_size=26)
    >>> bool(head.weight.abs().max() <= (6 / 36) ** 0.5) and bool((head.bias == 0.01).all())
    True
    """
    if name == "torch":
        return head
    if name != "glorot-io":
        raise OrthornnError(f"readout_init: unknown {name!r}; choose one of {', '.join(READOUT_INITS)}")
    bound = math.sqrt(6.0) / math.sqrt(head.out_features + input_size)  # as the official V_init_val
    with torch.no_grad():
        head.weight.uniform_(-bound, bound)
        head.bias.fill_(0.01)
    return head


def _readout(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Linear:
    """The per-step linear readout ``N → ny``, initialised by ``c.readout_init`` (after the core's draws)."""
    return init_readout(nn.Linear(c.hidden, ny, **kw), c.readout_init, nx)


def _rum(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    # training runs one backward per forward: a fixed λ = 1 recomputes R_{t−1} (faster, memory flat in T)
    efficient = c.lam == 1.0 and not c.learn_lam
    core = RUM(
        nx, c.hidden, lam=c.lam, learn_lam=c.learn_lam, eta=c.eta, memory_efficient=efficient, init=c.rum_init, **kw
    )
    return SequenceModel(core, _readout(c, nx, ny, **kw))


def _ltrnn(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    act = c.activation if c.activation != "auto" else ("relu" if c.task == "adding" else "identity")
    core = LTRNN(nx, c.hidden, ny, init=c.init, activation=act, pool=c.pool, clip=c.act_clip, **kw)
    return SequenceModel(core, None)


def _lstm(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    return SequenceModel(LSTM(nx, c.hidden, init=c.lstm_init, **kw), _readout(c, nx, ny, **kw))


def _gru(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    return SequenceModel(GRU(nx, c.hidden, **kw), _readout(c, nx, ny, **kw))


def _eunn(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    return SequenceModel(EUNNRNN(nx, c.hidden, **kw), _readout(c, nx, ny, **kw))


def _goru(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    return SequenceModel(GORU(nx, c.hidden, **kw), _readout(c, nx, ny, **kw))


def _fsrum_core(c: TrainConfig, nx: int, **kw: Any) -> FSRUM:
    """FS-RUM with ``c.fast_cells`` fast cells of ``c.fast_hidden`` units around a RUM of ``c.hidden``."""
    return FSRUM(
        nx, c.fast_hidden, c.hidden, fast_cells=c.fast_cells, lam=c.lam, learn_lam=c.learn_lam, eta=c.eta,
        init=c.rum_init, cell_zoneout=c.cell_zoneout or 0.0, hidden_zoneout=c.zoneout or 0.0, **kw,
    )  # fmt: skip


def _fsrum(c: TrainConfig, nx: int, ny: int, **kw: Any) -> nn.Module:
    core = _fsrum_core(c, nx, **kw)
    head = init_readout(nn.Linear(c.fast_hidden, ny, **kw), c.readout_init, nx)
    return SequenceModel(core, head)


#: Model name -> builder ``(config, input_size, output_size, device=, dtype=) -> module``.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "rum": _rum,
    "ltrnn": _ltrnn,
    "lstm": _lstm,
    "gru": _gru,
    "eunn": _eunn,
    "goru": _goru,
    "fsrum": _fsrum,
}


def _rum_core(c: TrainConfig, nx: int, **kw: Any) -> nn.Module:
    # a layer norm or zoneout runs step by step; without them the one-node sequence paths run
    return RUM(nx, c.hidden, lam=c.lam, learn_lam=c.learn_lam, eta=c.eta, init=c.rum_init,
               layer_norm=bool(c.layer_norm), zoneout=c.zoneout or 0.0, **kw)  # fmt: skip


#: Model name -> builder of the recurrent core of the language model ``(config, embed_size,
#: device=, dtype=) -> module`` (task ptb).
CORES: dict[str, Callable[..., nn.Module]] = {
    "rum": _rum_core,
    "fsrum": _fsrum_core,
    "lstm": lambda c, nx, **kw: LSTM(nx, c.hidden, init=c.lstm_init, **kw),
    "gru": lambda c, nx, **kw: GRU(nx, c.hidden, **kw),
}


def _language_model(c: TrainConfig, vocab_size: int, **kw: Any) -> LanguageModel:
    """Embedding (``c.embed``) → the core of ``c.model`` → readout, with dropout ``c.dropout``;
    the core's parameters are drawn first, then the embedding's, then the readout's."""
    if c.model not in CORES:
        raise OrthornnError(f"model: task ptb trains the models {', '.join(CORES)}, not {c.model!r}")
    lm = LanguageModel(vocab_size, c.embed, CORES[c.model](c, c.embed, **kw), dropout=c.dropout, **kw)
    init_readout(lm.head, c.readout_init, vocab_size)
    return lm


def build_model(
    config: TrainConfig, input_size: int, output_size: int, *, device: torch.device, dtype: torch.dtype
) -> nn.Module:
    """The model named by ``config.model`` (parameters drawn from torch's current RNG); on task
    ptb the language model with that core."""
    if config.task == "ptb":
        return _language_model(config, input_size, device=device, dtype=dtype)
    return MODELS[config.model](config, input_size, output_size, device=device, dtype=dtype)
