"""What a running sweep tells its caller: one :class:`Event` per run as it starts, ends or fails.

The library never prints; :func:`~orthornn.sweep.launch.run_sweep` hands each event to a
callback (``on_event``), and ``orthornn sweep`` prints one line per event with the running
count (:attr:`Event.counts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .job import Outcome
from .plan import Run

__all__ = ["EVENT_KINDS", "Counts", "Event"]

#: Kinds of events: ``skip`` (finished before this sweep), ``start`` (a job took it up),
#: ``end`` (finished), ``fail`` (the run raised; recorded), ``retry`` (its job died, e.g. killed,
#: and is submitted again to continue from the checkpoint), ``interrupted`` (its job died and
#: no retry is left: a later sweep continues it), ``pause`` (it reached ``--until-step`` and
#: stopped there, resumable; a ``skip`` with a message: it was there before this sweep).
EVENT_KINDS = ("skip", "start", "end", "pause", "fail", "retry", "interrupted")


@dataclass(frozen=True)
class Counts:
    """The running count of a sweep's runs."""

    total: int  # runs in the sweep
    finished: int = 0  # finished (skipped ones included)
    failed: int = 0  # failed or interrupted
    running: int = 0  # submitted and not yet done (on SLURM: queued ones too)
    paused: int = 0  # at --until-step (resumable)

    @property
    def waiting(self) -> int:
        """Runs not yet submitted."""
        return self.total - self.finished - self.failed - self.running - self.paused


@dataclass(frozen=True)
class Event:
    """One thing that happened to one run."""

    kind: str  # one of EVENT_KINDS
    run: Run  # the run it happened to
    counts: Counts  # the sweep's count after it
    message: str | None = None  # fail, retry, interrupted: why; pause (and skip of a paused run): where
    outcome: Outcome | None = None  # end, pause, fail: what the job returned
    attempt: int = 1  # start, retry: the how-many-th job of this run
