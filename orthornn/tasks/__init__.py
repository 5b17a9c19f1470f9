"""Long-memory benchmark tasks (numpy, seeded): copy, variable copy, adding, associative recall.

Each task is a frozen dataclass with ``.sample(batch, rng) -> (inputs, targets)`` and its
memoryless ``.baseline``; the functions ``copy_task(batch, T, …)`` etc. are shorthands for
``CopyTask(T, …).sample(batch, rng)``. ``rng`` is a :class:`numpy.random.Generator`, an
integer seed, or ``None``. See ``docs/tasks.md`` for the encodings. :class:`FixedSet` holds N
sequences of a task drawn once from a seed and serves them in epochs (a fixed training set,
validation and test sets).
"""

from __future__ import annotations

from ._params import RngLike
from .adding import AddingTask, adding_task
from .copy import (
    CopyAccuracy,
    CopyTask,
    VariableCopyTask,
    copy_accuracy,
    copy_task,
    variable_copy_task,
)
from .dataset import FixedSet, accuracy_standard_error, sequences_for_accuracy
from .recall import RecallTask, expected_max_count, recall_task

__all__ = [
    "AddingTask",
    "CopyAccuracy",
    "CopyTask",
    "FixedSet",
    "RecallTask",
    "RngLike",
    "VariableCopyTask",
    "accuracy_standard_error",
    "adding_task",
    "copy_accuracy",
    "copy_task",
    "expected_max_count",
    "recall_task",
    "sequences_for_accuracy",
    "variable_copy_task",
]
