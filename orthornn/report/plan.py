r"""What ``orthornn report`` runs at each budget: frozen plans, plain data.

A :class:`Budget` names every stage's scale: which theorems to prove, the Henaff Figure 1 grid,
the training runs (each a :class:`~orthornn.train.TrainConfig`), which trained transition is
compared with the explicit clock solution, and which RUM λ = 1 model's memory phases are
drawn. Three budgets ship:

* ``small`` — CPU-sized runs chosen so each shows its effect (the trained LT-ORNN copies,
  the LT-IRNN beats the adding baseline, RUM learns recall and copy at small T) within a
  few minutes on a 2-core CPU (``docs/report.md`` has the measured wall time);
* ``full`` — the papers' scales (Henaff Figures 1–3, RUM Figure 2 and Table 1), meant for a GPU;
* ``tiny`` — seconds-scale runs **for tests only**: every stage and figure is produced, the
  numbers mean nothing.

Every budget proves ``proof_paths = ("proofs",)``, relative to the report's proofs root:
``orthornn report --proofs-root DIR``, else the working directory if it holds ``proofs/``, else
the folder of the theorems shipped with orthornn
(:func:`orthornn.symbolic.default_theorems`), so the report runs from any folder.

Importing this module does not import torch.

Examples
--------
>>> b = budget("small")
>>> [r.key for r in b.trainings]
['ltornn_copy', 'ltirnn_adding', 'rum_recall', 'rum_copy']
>>> b.training(b.spectrum_run).config.task, b.training(b.memory_run).config.lam
('copy', 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OrthornnError
from ..train.config import TrainConfig

__all__ = ["BUDGETS", "Budget", "TrainingRun", "budget"]


@dataclass(frozen=True)
class TrainingRun:
    """One training of the report: a key, a human title and its config."""

    key: str  # short identifier, used in report.json and figure names
    title: str  # what the run shows, e.g. "LT-ORNN on copy"
    config: TrainConfig  # the run (its device is replaced by the report's device)


@dataclass(frozen=True)
class Budget:
    """The scale of every stage of the report."""

    name: str  # tiny | small | full
    description: str  # one line for the report header
    proof_paths: tuple[str, ...]  # theorem files/folders, relative to the proofs root (module docstring)
    proof_pattern: str | None  # only theorem ids matching (None: all)
    figure1_K: tuple[int, ...]  # alphabet sizes of the Figure 1 grid
    figure1_S: tuple[int, ...]  # sequence lengths of the Figure 1 grid
    figure1_T: int  # delay of the Figure 1 construction
    figure1_d: int  # clock blocks (hidden size 2d + 1)
    figure1_trials: int  # constructions per cell
    trainings: tuple[TrainingRun, ...]  # the training runs, in order
    spectrum_run: str  # key of the LT-RNN copy run whose weight_rec is compared with the clock
    haar_samples: int  # Haar SO(n) draws for the random baseline
    memory_run: str | None  # key of the RUM λ = 1 run whose R_t phases are drawn (None: skip)
    seed: int = 0  # seed of the Figure 1 grid, the explicit clock and the Haar baseline

    def training(self, key: str) -> TrainingRun:
        """The training run called ``key``."""
        for run in self.trainings:
            if run.key == key:
                return run
        raise OrthornnError(f"budget {self.name!r} has no training {key!r}")

    def __post_init__(self) -> None:
        keys = [r.key for r in self.trainings]
        if len(set(keys)) != len(keys):
            raise OrthornnError(f"budget {self.name!r}: duplicate training keys {keys}")
        spec = self.training(self.spectrum_run).config
        if spec.model != "ltrnn" or spec.task != "copy":
            raise OrthornnError(f"budget {self.name!r}: spectrum_run must be an LT-RNN copy run")
        if self.memory_run is not None:
            mem = self.training(self.memory_run).config
            if mem.model != "rum" or mem.lam != 1.0 or mem.learn_lam:
                raise OrthornnError(f"budget {self.name!r}: memory_run must be a RUM run with fixed λ = 1")


def _run(key: str, title: str, **fields: object) -> TrainingRun:
    return TrainingRun(key, title, TrainConfig(checkpoint_every=10**9, **fields))  # type: ignore[arg-type]


_FIG1_K = (2, 4, 8, 16, 32, 64)
_FIG1_S = (2, 5, 10, 15, 20, 30, 40)

SMALL = Budget(
    name="small",
    description="CPU-sized runs (a few minutes on 2 cores): every effect visible at small T",
    proof_paths=("proofs",),
    proof_pattern=None,
    figure1_K=_FIG1_K,
    figure1_S=_FIG1_S,
    figure1_T=500,
    figure1_d=128,
    figure1_trials=500,
    trainings=(
        _run(
            "ltornn_copy",
            "LT-ORNN on copy",
            task="copy",
            model="ltrnn",
            init="orthogonal",
            T=40,
            hidden=80,
            batch=32,
            steps=400,
            lr=1e-3,
            eval_every=50,
        ),
        _run(
            "ltirnn_adding",
            "LT-IRNN on adding",
            task="adding",
            model="ltrnn",
            init="identity",
            T=40,
            hidden=16,
            batch=100,
            steps=600,
            lr=1e-3,
            optimizer="adam",
            clip=1.0,
            eval_every=50,
        ),
        _run(
            "rum_recall",
            "RUM λ=1 on associative recall",
            task="recall",
            model="rum",
            lam=1.0,
            T=10,
            hidden=50,
            batch=64,
            steps=800,
            lr=3e-3,
            optimizer="adam",
            eval_every=50,
        ),
        _run(
            "rum_copy",
            "RUM λ=0 on copy",
            task="copy",
            model="rum",
            lam=0.0,
            T=10,
            hidden=64,
            batch=32,
            steps=500,
            lr=3e-3,
            eval_every=50,
        ),
    ),
    spectrum_run="ltornn_copy",
    haar_samples=32,
    memory_run="rum_recall",
)

FULL = Budget(
    name="full",
    description="the papers' scales (Henaff Figs. 1-3, RUM Fig. 2 and Table 1); meant for a GPU",
    proof_paths=("proofs",),
    proof_pattern=None,
    figure1_K=_FIG1_K,
    figure1_S=_FIG1_S,
    figure1_T=500,
    figure1_d=128,
    figure1_trials=500,
    trainings=(
        _run(
            "ltornn_copy",
            "LT-ORNN on copy (Henaff Fig. 2)",
            task="copy",
            model="ltrnn",
            init="orthogonal",
            T=100,
            hidden=80,
            batch=50,
            steps=3000,
            lr=1e-4,
            act_clip=1000.0,
            eval_every=100,
        ),
        _run(
            "ltirnn_adding",
            "LT-IRNN on adding (Henaff Fig. 3)",
            task="adding",
            model="ltrnn",
            init="identity",
            T=200,
            hidden=128,
            batch=50,
            steps=5000,
            lr=1e-4,
            act_clip=1000.0,
            eval_every=100,
        ),
        _run(
            "rum_recall",
            "RUM λ=1 η=1 on associative recall (RUM Table 1)",
            task="recall",
            model="rum",
            lam=1.0,
            eta=1.0,
            T=50,
            hidden=50,
            batch=128,
            steps=20000,
            lr=1e-3,
            eval_every=200,
        ),
        _run(
            "rum_copy",
            "RUM λ=0 on copy (RUM Fig. 2)",
            task="copy",
            model="rum",
            lam=0.0,
            T=200,
            hidden=250,
            batch=128,
            steps=5000,
            lr=1e-3,
            eval_every=100,
            eval_batches=2,
        ),
    ),
    spectrum_run="ltornn_copy",
    haar_samples=200,
    memory_run="rum_recall",
)

TINY = Budget(
    name="tiny",
    description="FOR TESTS ONLY: seconds-scale runs that exercise every stage; the numbers mean nothing",
    proof_paths=("proofs",),
    proof_pattern="henaff.clock*",
    figure1_K=(2, 8),
    figure1_S=(2, 10),
    figure1_T=50,
    figure1_d=16,
    figure1_trials=40,
    trainings=(
        _run(
            "ltornn_copy",
            "LT-ORNN on copy",
            task="copy",
            model="ltrnn",
            init="orthogonal",
            T=5,
            S=3,
            hidden=12,
            batch=8,
            steps=6,
            lr=1e-3,
            eval_every=3,
            eval_batches=1,
        ),
        _run(
            "ltirnn_adding",
            "LT-IRNN on adding",
            task="adding",
            model="ltrnn",
            init="identity",
            T=6,
            hidden=6,
            batch=8,
            steps=6,
            lr=1e-3,
            clip=1.0,
            eval_every=3,
            eval_batches=1,
        ),
        _run(
            "rum_recall",
            "RUM λ=1 on associative recall",
            task="recall",
            model="rum",
            lam=1.0,
            T=4,
            hidden=8,
            batch=8,
            steps=6,
            lr=1e-3,
            eval_every=3,
            eval_batches=1,
        ),
        _run(
            "rum_copy",
            "RUM λ=0 on copy",
            task="copy",
            model="rum",
            lam=0.0,
            T=4,
            S=3,
            hidden=8,
            batch=8,
            steps=6,
            lr=1e-3,
            eval_every=3,
            eval_batches=1,
        ),
    ),
    spectrum_run="ltornn_copy",
    haar_samples=4,
    memory_run="rum_recall",
)

#: The budgets by name (``orthornn report --budget NAME``); ``tiny`` is for tests only.
BUDGETS: dict[str, Budget] = {b.name: b for b in (SMALL, FULL, TINY)}


def budget(name: str) -> Budget:
    """The budget called ``name``; an error listing the valid names otherwise.

    >>> budget("huge")
    Traceback (most recent call last):
    ...
    orthornn.errors.OrthornnError: budget: unknown 'huge'; choose one of small, full, tiny
    """
    if name not in BUDGETS:
        raise OrthornnError(f"budget: unknown {name!r}; choose one of {', '.join(BUDGETS)}")
    return BUDGETS[name]
