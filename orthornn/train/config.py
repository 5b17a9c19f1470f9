"""The frozen configuration of one training run (logged beside its results as config.json).

Some options act on one model family or one kind of task only (:data:`MODEL_OPTIONS`,
:data:`TASK_OPTIONS`): a config that sets one of them for another model or task is refused,
naming the option and where it applies, and such an option is ``None`` in the config (and
absent from :meth:`TrainConfig.to_dict`), so a saved config holds only what acted.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import OrthornnError

__all__ = [
    "ACTIVATIONS",
    "BABI_OPTIONS",
    "BABI_SETS",
    "BABI_SPLITS",
    "BEST_BY",
    "DATA_OPTIONS",
    "INITS",
    "LR_SCHEDULES",
    "LSTM_INITS",
    "MODEL_NAMES",
    "MODEL_OPTIONS",
    "OPTIMIZERS",
    "PTB_MODELS",
    "READOUT_INITS",
    "RUM_INITS",
    "SCOPED_OPTIONS",
    "SYNTHETIC_TASKS",
    "TASK_NAMES",
    "TASK_OPTIONS",
    "TEST_AT",
    "TRAIN_ORDERS",
    "TrainConfig",
]

#: Tasks ``orthornn train`` knows (see :mod:`orthornn.train.registry`): the generated long-memory
#: tasks, bAbI question answering (read from a data folder, :mod:`orthornn.datasets.babi`) and
#: character-level Penn Treebank (:mod:`orthornn.datasets.ptb`).
TASK_NAMES = ("copy", "varcopy", "adding", "recall", "babi", "ptb")
#: The tasks generated from the seed (:mod:`orthornn.tasks`): ``T`` and the fixed-set sizes act on these.
SYNTHETIC_TASKS = ("copy", "varcopy", "adding", "recall")
#: bAbI sets (:data:`orthornn.datasets.babi.SETS`; no import here).
BABI_SETS = ("en", "en-10k")
#: How a bAbI training file is split into training and validation (:data:`orthornn.datasets.babi.SPLITS`).
BABI_SPLITS = ("question", "story")
#: Models ``orthornn train`` knows.
MODEL_NAMES = ("rum", "ltrnn", "eunn", "goru", "lstm", "gru", "fsrum")
#: The models of the character language model (task ptb): each is the core of
#: :class:`orthornn.nn.lm.LanguageModel`.
PTB_MODELS = ("rum", "fsrum", "lstm", "gru")
#: Learning-rate schedules (:mod:`orthornn.train.schedule`).
LR_SCHEDULES = ("constant", "paper", "cosine")
#: Optimisers (:mod:`orthornn.train.optim`): RMSProp with decay 0.9 as both papers, as torch
#: computes it (``rmsprop``) and as TensorFlow 1 and the official RUM code do (``rmsprop-tf``); Adam.
OPTIMIZERS = ("rmsprop", "rmsprop-tf", "adam")
#: LT-RNN transition initialisations (:func:`orthornn.nn.ltrnn.init_transition`).
INITS = ("orthogonal", "haar", "identity", "torus")
#: LT-RNN input nonlinearities; ``auto``: identity on token tasks, relu on adding.
ACTIVATIONS = ("auto", "identity", "relu", "tanh")
#: RUM kernel initialisations (:data:`orthornn.nn.rum.cell.RUM_INITS`; no torch import here).
RUM_INITS = ("glorot", "orthogonal")
#: LSTM initialisations (:data:`orthornn.nn.baselines.LSTM_INITS`): torch's, or TensorFlow 1's BasicLSTMCell.
LSTM_INITS = ("torch", "tf")
#: Readout initialisations (:data:`orthornn.train.registry.READOUT_INITS`).
READOUT_INITS = ("torch", "glorot-io")
#: Orders of a fixed training set: a new permutation each epoch, or the drawn order each epoch.
TRAIN_ORDERS = ("shuffle", "cycle")
#: What makes an evaluation the best one (kept, and on bAbI/PTB the parameters tested): the
#: lowest held-out loss, or the highest held-out accuracy (the earlier evaluation on a tie, as
#: the official RUM bAbI script keeps its first best).
BEST_BY = ("loss", "accuracy")
#: Which parameters a generated task's fixed test set scores: those after the last step, or those
#: of the best validation evaluation (by ``best_by``; bAbI and PTB always test those).
TEST_AT = ("final", "best")
#: The models with a linear readout (the LT-RNN has its own, l2-pooled).
_READOUT_MODELS = ("rum", "eunn", "goru", "lstm", "gru", "fsrum")
#: The models with a RUM cell (FS-RUM's slow cell is one): RUM's options act on them.
_RUM_MODELS = ("rum", "fsrum")

#: Options of one model family: field -> (the models it acts on, its default there).
MODEL_OPTIONS: dict[str, tuple[tuple[str, ...], Any]] = {
    "lam": (_RUM_MODELS, 0.0),
    "learn_lam": (_RUM_MODELS, False),
    "eta": (_RUM_MODELS, None),
    "init": (("ltrnn",), "orthogonal"),
    "activation": (("ltrnn",), "auto"),
    "pool": (("ltrnn",), None),
    "act_clip": (("ltrnn",), None),
    "ortho_lr": (("ltrnn",), 0.0),
    "rum_init": (_RUM_MODELS, "glorot"),
    "lstm_init": (("lstm",), "torch"),
    "readout_init": (_READOUT_MODELS, "torch"),
}
#: Options that act only with another one: field -> (the field it needs set, or needs unset, its default).
DATA_OPTIONS: dict[str, tuple[str, bool, Any]] = {
    "train_order": ("train_size", True, "shuffle"),
    "eval_batches": ("valid_size", False, 4),
    "test_at": ("test_size", True, "final"),
}
#: Options that act only where another field holds one value: field -> (that field, the value,
#: the condition in words). Their default is None (off); a saved config holds them where they act.
DEPENDENT_OPTIONS: dict[str, tuple[str, Any, str]] = {
    "lam_lr": ("learn_lam", True, "learn_lam true (a fixed λ has no learning rate)"),
}
#: Options of some tasks: field -> (the tasks it acts on, its default there).
TASK_OPTIONS: dict[str, tuple[tuple[str, ...], Any]] = {
    "S": (("copy", "varcopy"), 10),
    "K": (("copy", "varcopy"), 8),
}

#: Options of the bAbI task: field -> (the tasks it acts on, its default there). ``babi_task``
#: "all" names the set of the 20 runs (one per task) that ``orthornn train babi`` makes; a
#: single run takes a task number. ``data`` None (no folder named yet) is refused when a run
#: reads the data, not here.
BABI_OPTIONS: dict[str, tuple[tuple[str, ...], Any]] = {
    "babi_task": (("babi",), 1),
    "babi_set": (("babi",), "en"),
    "babi_split": (("babi",), "question"),
    "data": (("babi", "ptb"), None),
}
#: Options of some models on some tasks: field -> (the models, the tasks (None: every one), the
#: default where both fit). FS-RUM's sizes and the learning-rate schedule act on every task; the
#: language model's other options on task ptb only (so a saved config of the other tasks is what it
#: always was; one saved before the schedule acted there reads as ``constant``).
SCOPED_OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None, Any]] = {
    "fast_hidden": (("fsrum",), None, 64),
    "fast_cells": (("fsrum",), None, 2),
    "bptt": (PTB_MODELS, ("ptb",), 150),
    "embed": (PTB_MODELS, ("ptb",), 128),
    "dropout": (PTB_MODELS, ("ptb",), 0.0),
    "lr_schedule": (MODEL_NAMES, None, "constant"),
    "layer_norm": (("rum",), ("ptb",), False),
    "zoneout": (_RUM_MODELS, ("ptb",), 0.0),
    "cell_zoneout": (("fsrum",), ("ptb",), 0.0),
}
#: Largest size a scoped size option takes (a typo of a huge number is refused, not allocated).
_MAX_SIZE = 1 << 16
#: Fields of the generated tasks only: refused (when set) and absent from the saved config on bAbI.
_SYNTHETIC_FIELDS = ("train_size", "train_order", "valid_size", "test_size", "test_at", "eval_batches")

#: Largest seed: torch.manual_seed takes 64-bit seeds (the initial parameters are seeded with it).
MAX_SEED = 2**64 - 1

#: The largest learning rate a config accepts: far above any useful one, far below float32's 3.4e38.
MAX_LR = 1e6
_REAL_FIELDS = (
    "stop_accuracy",
    "lam",
    "eta",
    "ortho_lr",
    "act_clip",
    "lr",
    "lam_lr",
    "clip",
    "dropout",
    "zoneout",
    "cell_zoneout",
)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field is plain data, so the config round-trips through JSON.

    A model's or task's own options (:data:`MODEL_OPTIONS`, :data:`TASK_OPTIONS`) default to
    ``None``: the default of that model or task where they act (filled in), refused elsewhere.

    >>> cfg = TrainConfig(task="copy", model="rum", T=10, steps=5)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.lam, cfg.init, "init" in cfg.to_dict()
    (0.0, None, False)
    >>> TrainConfig(model="rum", init="identity")
    Traceback (most recent call last):
    ...
    orthornn.errors.OrthornnError: init: applies to model ltrnn only, not 'rum'
    """

    task: str = "copy"  # copy | varcopy | adding | recall | babi | ptb
    model: str = "rum"  # rum | ltrnn | eunn | goru | lstm | gru | fsrum
    hidden: int = 64  # hidden size N (fsrum: of the slow RUM cell)
    T: int = 10  # task length: copy/varcopy delay, adding length, recall pairs length (not babi)
    S: int | None = None  # copy/varcopy: number of symbols to remember (default 10)
    K: int | None = None  # copy/varcopy: alphabet size (default 8)
    lam: float | None = None  # rum: associative power λ (0, 1 or any real: so_power; default 0)
    learn_lam: bool | None = None  # rum: make λ a trainable parameter (default False)
    lam_lr: float | None = None  # rum, with learn_lam: λ's own learning rate (None: lr, as every parameter)
    eta: float | None = None  # rum: time normalisation η (None: off)
    init: str | None = None  # ltrnn: transition init, orthogonal | haar | identity | torus (default orthogonal)
    activation: str | None = None  # ltrnn: input nonlinearity; auto (default): identity on tokens, relu on adding
    pool: int | None = None  # ltrnn: l2-pooling size k of the readout (None: plain readout)
    act_clip: float | None = None  # ltrnn: activation clipping norm (Henaff used 1000; None: off)
    ortho_lr: float | None = None  # ltrnn: soft orthogonality, SGD step size on ‖(VᵀV−I)z‖² per step (default 0)
    rum_init: str | None = None  # rum: kernel init, glorot (default) | orthogonal (the official code's)
    lstm_init: str | None = None  # lstm: init, torch (default) | tf (TensorFlow 1's BasicLSTMCell, the official code's)
    readout_init: str | None = None  # all but ltrnn: readout init, torch (default) | glorot-io (the official code's)
    train_size: int | None = None  # a fixed training set of this many sequences cycled in epochs (None: fresh batches)
    train_order: str | None = None  # with train_size: shuffle (default; a permutation per (seed, epoch)) | cycle
    valid_size: int | None = None  # evaluate on a fixed validation set of this many sequences (None: eval_batches)
    test_size: int | None = None  # evaluate a fixed test set of this many sequences at the end (None: none)
    test_at: str | None = None  # with test_size: test the final parameters (default) | the best validation's
    steps: int = 1000  # optimiser steps in total
    batch: int = 128  # sequences per step
    lr: float = 1e-3  # learning rate
    optimizer: str = "rmsprop"  # rmsprop (torch's, decay 0.9) | rmsprop-tf (TensorFlow 1's) | adam
    clip: float | None = None  # gradient-norm clipping (None: off)
    seed: int = 0  # seeds the init, every batch (from (seed, step)) and per-step noise
    device: str = "cpu"  # cpu | cuda | cuda:N | auto (cuda if available)
    dtype: str = "float32"  # float32 | float64
    eval_every: int = 100  # evaluate on held-out batches every this many steps (and at the end)
    eval_batches: int | None = None  # without valid_size: held-out batches per evaluation (default 4; disjoint stream)
    checkpoint_every: int = 100  # hand a checkpoint to the caller every this many steps
    stop_accuracy: float | None = None  # end the run at the first evaluation with this accuracy (then test)
    best_by: str = "loss"  # the best evaluation (bAbI/PTB: the one tested) has the lowest loss | highest accuracy
    babi_task: int | str | None = None  # babi: task number 1..20, or "all" (a set of 20 runs; default 1)
    babi_set: str | None = None  # babi: en (1k, default) | en-10k
    babi_split: str | None = None  # babi: the 90 / 10 split by question (default, the paper's) | by story
    data: str | None = None  # babi, ptb: the data folder holding babi/<set>/ or ptb/ (required to run)
    fast_hidden: int | None = None  # fsrum: size of each fast LSTM cell (default 64)
    fast_cells: int | None = None  # fsrum: number k >= 2 of fast cells (default 2: FS-RUM-2)
    bptt: int | None = None  # ptb: truncated-BPTT window length (default 150, the paper's)
    embed: int | None = None  # ptb: input embedding size (default 128, the paper's)
    dropout: float | None = None  # ptb: non-recurrent dropout on the core's input and output (default 0)
    lr_schedule: str | None = None  # constant (default) | paper (Table 6, scaled to the run's steps) | cosine
    layer_norm: bool | None = None  # ptb, rum: layer norm on the update gate and target (default False)
    zoneout: float | None = None  # ptb, rum/fsrum: hidden-state zoneout probability (default 0)
    cell_zoneout: float | None = None  # ptb, fsrum: fast cells' cell-state zoneout probability (default 0)

    def __post_init__(self) -> None:
        self._check_names()
        for name, (owners, default) in self._options():
            where = self.model if name in MODEL_OPTIONS else self.task
            if where in owners:
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
            elif getattr(self, name) is not None:
                kind = "model" if name in MODEL_OPTIONS else "task"
                plural = "s" if len(owners) > 1 else ""
                raise OrthornnError(f"{name}: applies to {kind}{plural} {', '.join(owners)} only, not {where!r}")
        for name, (_, _, default) in SCOPED_OPTIONS.items():
            if self.applies(name):
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
            elif getattr(self, name) is not None:
                raise OrthornnError(_scope_message(name, self.model, self.task))
        if self.task not in SYNTHETIC_TASKS:
            for name in _SYNTHETIC_FIELDS:
                if getattr(self, name) is not None:
                    raise OrthornnError(
                        f"{name}: applies to tasks {', '.join(SYNTHETIC_TASKS)} only, not {self.task!r}"
                    )
        for name, (other, needs_set, default) in DATA_OPTIONS.items():
            if (getattr(self, other) is not None) == needs_set and self.task in SYNTHETIC_TASKS:
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
            elif getattr(self, name) is not None:
                raise OrthornnError(f"{name}: applies {'with' if needs_set else 'without'} {other} only")
        for name, (_, _, condition) in DEPENDENT_OPTIONS.items():
            if getattr(self, name) is not None and not self.applies(name):
                raise OrthornnError(f"{name}: acts only with {condition}")
        for name in _REAL_FIELDS:  # 1 and 1.0 are the same setting: keep floats
            v = getattr(self, name)
            if _is_real(v):
                try:
                    object.__setattr__(self, name, float(v))
                except OverflowError:
                    raise OrthornnError(f"{name}: must be a finite number, got {len(str(v))} digits") from None
        self.validate()

    @staticmethod
    def _options() -> list[tuple[str, tuple[tuple[str, ...], Any]]]:
        return [*MODEL_OPTIONS.items(), *TASK_OPTIONS.items(), *BABI_OPTIONS.items()]

    def applies(self, name: str) -> bool:
        """Whether field ``name`` acts on this config's model and task (every general field does).

        >>> cfg = TrainConfig(task="recall", model="ltrnn")
        >>> cfg.applies("init"), cfg.applies("lam"), cfg.applies("S"), cfg.applies("lr")
        (True, False, False, True)
        """
        if name in MODEL_OPTIONS:
            return self.model in MODEL_OPTIONS[name][0]
        if name in TASK_OPTIONS:
            return self.task in TASK_OPTIONS[name][0]
        if name in BABI_OPTIONS:
            return self.task in BABI_OPTIONS[name][0]
        if name in SCOPED_OPTIONS:
            models, tasks, _ = SCOPED_OPTIONS[name]
            return self.model in models and (tasks is None or self.task in tasks)
        if self.task not in SYNTHETIC_TASKS and name in ("T", *_SYNTHETIC_FIELDS):
            return False
        if name in DEPENDENT_OPTIONS:
            other, value, _ = DEPENDENT_OPTIONS[name]
            return getattr(self, other) == value
        if name in DATA_OPTIONS:
            other, needs_set, _ = DATA_OPTIONS[name]
            return (getattr(self, other) is not None) == needs_set
        return name in _FIELD_NAMES

    def _check_names(self) -> None:
        if self.task not in TASK_NAMES:
            raise OrthornnError(f"task: unknown {self.task!r}; choose one of {', '.join(TASK_NAMES)}")
        if self.model not in MODEL_NAMES:
            raise OrthornnError(f"model: unknown {self.model!r}; choose one of {', '.join(MODEL_NAMES)}")
        if self.task == "ptb" and self.model not in PTB_MODELS:
            raise OrthornnError(f"model: task ptb trains the models {', '.join(PTB_MODELS)}, not {self.model!r}")

    def validate(self) -> None:
        """Raise :class:`OrthornnError` naming the first bad field."""
        self._check_names()
        if self.optimizer not in OPTIMIZERS:
            raise OrthornnError(f"optimizer: unknown {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.best_by not in BEST_BY:  # a rule is required: None is not the default loss
            raise OrthornnError(f"best_by: unknown {self.best_by!r}; choose one of {', '.join(BEST_BY)}")
        for name in ("hidden", "T", "steps", "batch", "eval_every", "checkpoint_every"):
            v = getattr(self, name)
            if not _is_int(v) or v < 1:
                raise OrthornnError(f"{name}: must be a positive integer, got {v!r}")
        for name in ("eval_batches", "train_size", "valid_size", "test_size"):
            v = getattr(self, name)
            if v is not None and (not _is_int(v) or v < 1):
                raise OrthornnError(f"{name}: must be a positive integer, got {v!r}")
        choice_fields = (("rum_init", RUM_INITS), ("lstm_init", LSTM_INITS), ("readout_init", READOUT_INITS),
                         ("train_order", TRAIN_ORDERS), ("test_at", TEST_AT))  # fmt: skip
        for name, choices in choice_fields:
            v = getattr(self, name)
            if v is not None and v not in choices:
                raise OrthornnError(f"{name}: unknown {v!r}; choose one of {', '.join(choices)}")
        if self.model in _RUM_MODELS and self.hidden < 2:
            raise OrthornnError(
                f"hidden: model {self.model} needs hidden >= 2 (SO(1) holds no rotation), got {self.hidden}"
            )
        for name, low in (("fast_hidden", 1), ("fast_cells", 2), ("bptt", 1), ("embed", 1)):
            v = getattr(self, name)
            if v is not None and (not _is_int(v) or not low <= v <= _MAX_SIZE):
                raise OrthornnError(f"{name}: must be an integer from {low} to {_MAX_SIZE}, got {v!r}")
        for name in ("dropout", "zoneout", "cell_zoneout"):
            v = getattr(self, name)
            if v is not None and not (_is_real(v) and 0.0 <= v < 1.0):
                raise OrthornnError(f"{name}: must be a probability in [0, 1), got {v!r}")
        if self.lr_schedule is not None and self.lr_schedule not in LR_SCHEDULES:
            raise OrthornnError(f"lr_schedule: unknown {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")
        if self.layer_norm is not None and not isinstance(self.layer_norm, bool):
            raise OrthornnError(f"layer_norm: must be true or false, got {self.layer_norm!r}")
        if self.S is not None and (not _is_int(self.S) or self.S < 1):
            raise OrthornnError(f"S: must be a positive integer, got {self.S!r}")
        if self.K is not None and (not _is_int(self.K) or self.K < 2):
            raise OrthornnError(f"K: must be an integer >= 2, got {self.K!r}")
        if not _is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise OrthornnError(f"seed: must be an integer from 0 to 2**64 - 1, got {self.seed!r}")
        for name in ("lr", "lam_lr"):  # lam_lr: None is lr
            v = getattr(self, name)
            if v is None and name == "lam_lr":
                continue
            if not (_is_real(v) and math.isfinite(v) and v > 0):
                raise OrthornnError(f"{name}: must be a positive number, got {v!r}")
            if v > MAX_LR:  # Adam's first step is about lr: beyond this a float32 parameter overflows
                raise OrthornnError(f"{name}: must be at most {MAX_LR:g} (a larger step overflows float32), got {v!r}")
        if self.lam is not None and not (_is_real(self.lam) and math.isfinite(self.lam)):
            raise OrthornnError(f"lam: must be a finite real number, got {self.lam!r}")
        if self.learn_lam is not None and not isinstance(self.learn_lam, bool):
            raise OrthornnError(f"learn_lam: must be true or false, got {self.learn_lam!r}")
        for name in ("eta", "clip", "act_clip"):
            v = getattr(self, name)
            if v is not None and not (_is_real(v) and math.isfinite(v) and v > 0):
                raise OrthornnError(f"{name}: must be a positive number or None, got {v!r}")
        if self.init is not None and self.init not in INITS:
            raise OrthornnError(f"init: unknown {self.init!r}; choose one of {', '.join(INITS)}")
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise OrthornnError(f"activation: unknown {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.pool is not None and (not _is_int(self.pool) or self.pool < 1 or self.hidden % self.pool):
            raise OrthornnError(f"pool: must be a positive divisor of hidden={self.hidden}, got {self.pool!r}")
        o = self.ortho_lr
        if o is not None and not (_is_real(o) and math.isfinite(o) and o >= 0):
            raise OrthornnError(f"ortho_lr: must be a non-negative number, got {self.ortho_lr!r}")
        if self.dtype not in ("float32", "float64"):
            raise OrthornnError(f"dtype: must be float32 or float64, got {self.dtype!r}")
        if not isinstance(self.device, str) or not re.fullmatch(r"cpu|cuda|auto|cuda:\d+", self.device):
            raise OrthornnError(f"device: must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        b = self.babi_task
        if b is not None and b != "all" and not (_is_int(b) and 1 <= b <= 20):
            raise OrthornnError(f"babi_task: must be a task number from 1 to 20 or 'all', got {b!r}")
        if self.babi_set is not None and self.babi_set not in BABI_SETS:
            raise OrthornnError(f"babi_set: unknown {self.babi_set!r}; choose one of {', '.join(BABI_SETS)}")
        if self.babi_split is not None and self.babi_split not in BABI_SPLITS:
            raise OrthornnError(f"babi_split: unknown {self.babi_split!r}; choose one of {', '.join(BABI_SPLITS)}")
        if self.data is not None and (not isinstance(self.data, str) or not self.data):
            raise OrthornnError(f"data: must be the path of a folder, got {self.data!r}")
        v = self.stop_accuracy
        if v is not None and not (_is_real(v) and 0.0 < v <= 1.0):
            raise OrthornnError(f"stop_accuracy: must be an accuracy in (0, 1], got {v!r}")
        if v is not None and self.task == "adding":
            raise OrthornnError("stop_accuracy: task adding reports no accuracy (a mean squared error)")
        if self.best_by == "accuracy" and self.task == "adding":
            raise OrthornnError("best_by: task adding reports no accuracy (a mean squared error)")
        if self.task == "recall" and self.T % 2:
            raise OrthornnError(f"T: the recall task needs an even T (T/2 key-digit pairs), got {self.T}")
        if self.task == "adding" and self.T < 2:
            raise OrthornnError(f"T: the adding task needs T >= 2, got {self.T}")

    def to_dict(self) -> dict[str, Any]:
        """The fields that act on this model and task, as a JSON-ready dict.

        >>> sorted(set(TrainConfig(model="ltrnn", task="adding").to_dict()) - set(TrainConfig(model="lstm").to_dict()))
        ['act_clip', 'activation', 'init', 'ortho_lr', 'pool']
        """
        return {k: v for k, v in dataclasses.asdict(self).items() if self.applies(k)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them.

        A model's or task's option that does not apply but holds its default where it does is
        dropped: configs written before options were refused recorded every field.
        """
        if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
            raise OrthornnError(f"config: expected a mapping of field names to values, got {type(d).__name__}")
        unknown = sorted(set(d) - _FIELD_NAMES)
        if unknown:
            raise OrthornnError(f"unknown config fields: {', '.join(unknown)}")
        fields = dict(d)
        options = dict(cls._options())
        for name, (owners, default) in options.items():
            where = fields.get("model", "rum") if name in MODEL_OPTIONS else fields.get("task", "copy")
            if name in fields and where not in owners and fields[name] == default and default is not None:
                del fields[name]
        for name, (other, needs_set, default) in DATA_OPTIONS.items():
            acts = (fields.get(other) is not None) == needs_set
            if name in fields and not acts and fields[name] == default:
                del fields[name]
        return cls(**fields)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated). A new model or task drops the old one's
        options that it does not take (unless ``changes`` sets them: then they are refused).

        >>> TrainConfig(model="ltrnn", init="identity").replace(model="gru").init is None
        True
        """
        model, task = changes.get("model", self.model), changes.get("task", self.task)
        dropped = {
            name: None
            for name, (owners, _) in self._options()
            if name not in changes and (model if name in MODEL_OPTIONS else task) not in owners
        }
        for name, (other, needs_set, _) in DATA_OPTIONS.items():
            if name not in changes and (changes.get(other, getattr(self, other)) is not None) != needs_set:
                dropped[name] = None
        if task not in SYNTHETIC_TASKS:
            dropped.update({name: None for name in _SYNTHETIC_FIELDS if name not in changes})
        for name, (models, tasks, _) in SCOPED_OPTIONS.items():
            if name not in changes and not (model in models and (tasks is None or task in tasks)):
                dropped[name] = None
        return dataclasses.replace(self, **{**dropped, **changes})


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _scope_message(name: str, model: str, task: str) -> str:
    """Why scoped option ``name`` does not act on ``model`` and ``task``: the first that does not fit."""
    models, tasks, _ = SCOPED_OPTIONS[name]
    if model not in models:
        plural = "s" if len(models) > 1 else ""
        return f"{name}: applies to model{plural} {', '.join(models)} only, not {model!r}"
    assert tasks is not None
    plural = "s" if len(tasks) > 1 else ""
    return f"{name}: applies to task{plural} {', '.join(tasks)} only, not {task!r}"
