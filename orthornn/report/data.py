"""The report as data: one :class:`Stage` per step of the plan, gathered in a :class:`ReportData`.

A stage holds its JSON-ready numbers (``data``), its status (``ok`` or ``failed``, with the
error's last line), its wall time, and ``artifacts``: in-memory objects (arrays, the
:class:`~orthornn.henaff.Figure1` grid, training histories) that the figures are drawn from and
that are not written to ``report.json``.

Examples
--------
>>> s = Stage("proofs", "proofs", "ok", 1.5, data={"proved": 3, "total": 3})
>>> r = ReportData("tiny", "cpu", "2026-01-01T00:00:00", 1.5, [s], {})
>>> r.ok, r.to_json()["stages"][0]["status"], r.to_json()["proofs"]["proved"]
(True, 'ok', 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "FigureRecord", "ReportData", "Stage"]

#: Status of a stage.
STATUSES = ("ok", "failed")


@dataclass
class Stage:
    """One step of the report: its numbers, status and wall time."""

    key: str  # proofs | figure1 | training:<run key> | spectrum | memory
    title: str  # what the progress display and the HTML call it
    status: str  # ok | failed
    seconds: float  # wall time of the stage
    error: str | None = None  # the exception's last line when failed
    cpu_seconds: float | None = None  # CPU time of this process during the stage (load-independent)
    data: dict[str, Any] = field(default_factory=dict)  # JSON-ready numbers
    artifacts: dict[str, Any] = field(default_factory=dict)  # in-memory objects for the figures

    def to_json(self) -> dict[str, Any]:
        """``data`` with the status, wall time and error."""
        cpu = None if self.cpu_seconds is None else round(self.cpu_seconds, 3)
        return {
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": cpu,
            "error": self.error,
            **self.data,
        }


@dataclass(frozen=True)
class FigureRecord:
    """A figure of the report: a PNG file in the report folder (or why it could not be drawn)."""

    name: str  # file name, e.g. "training_curves.png"
    section: str  # the stage key it illustrates
    caption: str  # one or two sentences
    status: str = "ok"  # ok | failed
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a dict."""
        return {
            "file": self.name,
            "section": self.section,
            "caption": self.caption,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class ReportData:
    """Everything the report shows."""

    budget: str  # the budget's name
    device: str  # torch device the trainings ran on
    started: str  # ISO time stamp of the start
    seconds: float  # total wall time
    stages: list[Stage]  # in the order they ran
    environment: dict[str, Any]  # versions, CPU count, load average
    figures: list[FigureRecord] = field(default_factory=list)  # filled by whoever draws them
    notes: list[str] = field(default_factory=list)  # remarks shown in the report header
    cpu_seconds: float | None = None  # CPU time of the whole run (this process)

    @property
    def ok(self) -> bool:
        """True when every stage and every figure succeeded."""
        return all(s.status == "ok" for s in self.stages) and all(f.status == "ok" for f in self.figures)

    def stage(self, key: str) -> Stage | None:
        """The stage called ``key``, or None."""
        return next((s for s in self.stages if s.key == key), None)

    def trainings(self) -> list[Stage]:
        """The training stages, in order."""
        return [s for s in self.stages if s.key.startswith("training:")]

    def to_json(self) -> dict[str, Any]:
        """The ``report.json`` document: one section per stage, plus the figures and a summary."""
        doc: dict[str, Any] = {
            "budget": self.budget,
            "device": self.device,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 3),
            "ok": self.ok,
            "environment": self.environment,
            "notes": list(self.notes),
            "stages": [
                {
                    "key": s.key,
                    "title": s.title,
                    "status": s.status,
                    "seconds": round(s.seconds, 3),
                    "cpu_seconds": None if s.cpu_seconds is None else round(s.cpu_seconds, 3),
                    "error": s.error,
                }
                for s in self.stages
            ],
        }
        for s in self.stages:
            if s.key.startswith("training:"):
                doc.setdefault("trainings", {})[s.key.split(":", 1)[1]] = s.to_json()
            else:
                doc[s.key] = s.to_json()
        doc["figures"] = [f.to_json() for f in self.figures]
        return doc
