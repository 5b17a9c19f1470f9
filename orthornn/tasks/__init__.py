"""Long-memory benchmark tasks (numpy, seeded): copy, variable copy, adding, associative recall.

Each task is a frozen dataclass with ``.sample(batch, rng) -> (inputs, targets)`` and its
memoryless ``.baseline``; the functions ``copy_task(batch, T, …)`` etc. are shorthands for
``CopyTask(T, …).sample(batch, rng)``. ``rng`` is a :class:`numpy.random.Generator`, an
integer seed, or ``None``. See ``docs/tasks.md`` for the encodings.
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
from .recall import RecallTask, recall_task

__all__ = [
    "AddingTask",
    "CopyAccuracy",
    "CopyTask",
    "RecallTask",
    "RngLike",
    "VariableCopyTask",
    "adding_task",
    "copy_accuracy",
    "copy_task",
    "recall_task",
    "variable_copy_task",
]
