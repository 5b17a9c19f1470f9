r"""Theorems: a statement, the derivation that proves it, and exact checks.

A theorem file in ``proofs/`` reads as mathematics::

    from orthornn.symbolic import Derivation, theorem

    @theorem("rotation.orthogonal", r"R^\top R = I")
    def orthogonal(d: Derivation) -> None:
        R = ...
        d.step(r"Expand $R^\top R$ with $G^3 = -G$", R.T * R)
        d.equal(R.T * R, sp.eye(2), "R^T R = I")

The function receives a :class:`Derivation`, records the derivation steps (prose and the
expressions it rests on) and makes one or more *exact* checks (:meth:`Derivation.zero`,
:meth:`Derivation.equal`, :meth:`Derivation.holds`). The theorem is proved iff it made at
least one check and every check is proved; a check sympy cannot decide makes it
``undecided``, never ``proved``. An exception makes it ``error``.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sympy as sp

from .decide import Status, combine, decide_true, decide_zero

__all__ = ["Check", "Derivation", "Step", "Theorem", "TheoremResult", "theorem"]

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_]*)+$")


@dataclass(frozen=True)
class Step:
    """One derivation step: a sentence (Markdown with ``$…$`` math) and an optional expression."""

    text: str
    latex: str | None = None


@dataclass(frozen=True)
class Check:
    """One exact check and its outcome."""

    label: str
    status: Status


@dataclass
class Derivation:
    """Collects the steps and checks of one proof as it runs."""

    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def step(self, text: str, expr: object = None) -> object:
        """Record a derivation step; return ``expr`` unchanged so steps can be chained."""
        latex = None if expr is None else (expr if isinstance(expr, str) else sp.latex(expr))
        self.steps.append(Step(text, latex))
        return expr

    def _record(self, label: str, status: Status) -> Status:
        self.checks.append(Check(label, status))
        return status

    def zero(self, expr: sp.Expr | sp.MatrixBase, label: str) -> Status:
        """Check exactly that ``expr`` is identically zero (entrywise for matrices)."""
        return self._record(label, decide_zero(expr))

    def equal(self, lhs: object, rhs: object, label: str) -> Status:
        """Check exactly that ``lhs == rhs`` (scalars or matrices of equal shape)."""
        lhs_s, rhs_s = sp.sympify(lhs), sp.sympify(rhs)
        if isinstance(lhs_s, sp.MatrixExpr):
            lhs_s = lhs_s.as_explicit()
        if isinstance(rhs_s, sp.MatrixExpr):
            rhs_s = rhs_s.as_explicit()
        lhs_m = isinstance(lhs_s, sp.MatrixBase)
        rhs_m = isinstance(rhs_s, sp.MatrixBase)
        if lhs_m != rhs_m or (lhs_m and lhs_s.shape != rhs_s.shape):
            return self._record(label, Status.FAILED)
        return self.zero(lhs_s - rhs_s, label)

    def holds(self, claim: object, label: str) -> Status:
        """Check a structural claim: a boolean computed exactly, or a sympy ``Eq``."""
        return self._record(label, decide_true(claim))

    @property
    def status(self) -> Status:
        """Combined status of all checks so far (``undecided`` if none was made)."""
        return combine(c.status for c in self.checks)


@dataclass(frozen=True)
class TheoremResult:
    """What running a theorem produced."""

    id: str
    family: str
    statement: str
    status: Status
    seconds: float
    steps: tuple[Step, ...] = ()
    checks: tuple[Check, ...] = ()
    message: str = ""

    def to_json(self) -> dict[str, object]:
        """The public JSON record (shape fixed by the ``orthornn prove --json`` contract)."""
        return {
            "id": self.id,
            "family": self.family,
            "statement": self.statement,
            "status": self.status.value,
            "seconds": round(self.seconds, 4),
        }


@dataclass(frozen=True)
class Theorem:
    """A named statement with a proof function that records steps and exact checks."""

    id: str
    statement: str
    proof: Callable[[Derivation], object]
    title: str = ""

    @property
    def family(self) -> str:
        """The family: the id up to its first dot (``rotation.orthogonal`` → ``rotation``)."""
        return self.id.split(".", 1)[0]

    def run(self, timeout: float | None = None) -> TheoremResult:
        """Run the proof; exceptions become ``error`` with the traceback's last line.

        ``timeout`` (seconds) bounds the proof where POSIX alarms are available (the main thread
        of a Unix process): a proof still running then is stopped and reported ``undecided`` —
        sympy did not decide it in time, which proves nothing either way.
        """
        d = Derivation()
        start = time.perf_counter()
        message = ""
        try:
            with _time_limit(timeout):
                self.proof(d)
            status = d.status
            if not d.checks:
                message = "the proof made no exact check"
        except _TimeLimit:
            status = Status.UNDECIDED
            message = f"timed out after {timeout:g} s (undecided)"
        except Exception as exc:
            status = Status.ERROR
            message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        seconds = time.perf_counter() - start
        return TheoremResult(
            id=self.id,
            family=self.family,
            statement=self.statement,
            status=status,
            seconds=seconds,
            steps=tuple(d.steps),
            checks=tuple(d.checks),
            message=message,
        )


class _TimeLimit(BaseException):
    """Raised inside a proof by the alarm of :func:`_time_limit` (a BaseException, so a proof's
    own ``except Exception`` cannot swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def theorem(id: str, statement: str) -> Callable[[Callable[[Derivation], object]], Theorem]:
    r"""Decorator turning a proof function into a :class:`Theorem`.

    ``id`` is ``family.name`` (lower case, dotted); ``statement`` is LaTeX. The function's
    docstring, if any, becomes the theorem's title.

    >>> @theorem("demo.pythagoras", r"\sin^2 x + \cos^2 x = 1")
    ... def pythagoras(d):
    ...     x = sp.Symbol("x", real=True)
    ...     d.equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, "identity")
    >>> pythagoras.run().status
    <Status.PROVED: 'proved'>
    """
    if not _ID.match(id):
        raise ValueError(f"theorem id {id!r} must look like 'family.name' (lower case, dotted)")

    def wrap(fn: Callable[[Derivation], object]) -> Theorem:
        title = (fn.__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " ")
        return Theorem(id=id, statement=statement, proof=fn, title=title)

    return wrap
