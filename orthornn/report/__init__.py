"""The project's main job as library code: run everything, return the data, render it.

* :mod:`~orthornn.report.plan` — the budgets (``tiny`` for tests, ``small`` for a CPU,
  ``full`` for a GPU) as frozen dataclasses;
* :mod:`~orthornn.report.run` — :func:`run_report` runs the stages (proofs, Henaff Figure 1,
  trainings, spectral comparison, RUM memory) and returns a :class:`ReportData`; a stage that
  raises is recorded as failed;
* :mod:`~orthornn.report.figures` — the figures as matplotlib objects (imports matplotlib);
* :mod:`~orthornn.report.html` — :func:`render_html`, the page as a string.

``orthornn report`` (:mod:`orthornn.cli.report`) prints the progress and writes the files.
Importing this package imports neither torch nor matplotlib. See ``docs/report.md``.
"""

from __future__ import annotations

from .data import FigureRecord, ReportData, Stage
from .html import render_html
from .plan import BUDGETS, Budget, TrainingRun, budget
from .run import STAGES, run_report, stage_plan

__all__ = [
    "BUDGETS",
    "STAGES",
    "Budget",
    "FigureRecord",
    "ReportData",
    "Stage",
    "TrainingRun",
    "budget",
    "render_html",
    "run_report",
    "stage_plan",
]
