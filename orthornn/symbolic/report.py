"""Render theorem results as the JSON document and the Markdown report of ``orthornn prove``."""

from __future__ import annotations

from collections.abc import Sequence

from .decide import Status
from .theorem import TheoremResult

__all__ = ["to_json", "to_markdown"]

_BADGE = {
    Status.PROVED: "✅ proved",
    Status.FAILED: "❌ failed",
    Status.UNDECIDED: "❔ undecided",
    Status.ERROR: "💥 error",
}


def to_json(results: Sequence[TheoremResult]) -> dict[str, object]:
    """``{"theorems": [...], "proved": N, "total": N}`` — the contract of ``prove --json``."""
    return {
        "theorems": [r.to_json() for r in results],
        "proved": sum(r.status is Status.PROVED for r in results),
        "total": len(results),
    }


def to_markdown(results: Sequence[TheoremResult]) -> str:
    """A GitHub-renderable report: a summary table, then each theorem with its derivation."""
    proved = sum(r.status is Status.PROVED for r in results)
    out = [
        "# orthornn theorem report",
        "",
        f"**{proved} of {len(results)} theorems proved.** Every check is exact (sympy); "
        "a check sympy cannot decide is reported *undecided*, never proved.",
        "",
        "| theorem | status | seconds |",
        "|---|---|---:|",
    ]
    out += [f"| [`{r.id}`](#{_anchor(r.id)}) | {_BADGE[r.status]} | {r.seconds:.2f} |" for r in results]
    family = None
    for r in results:
        if r.family != family:
            family = r.family
            out += ["", f"## Family `{family}`"]
        out += ["", f"### {r.id}", "", f"**Status:** {_BADGE[r.status]} ({r.seconds:.2f} s)", ""]
        out += ["**Statement.**", "", "$$", r.statement.strip(), "$$", ""]
        if r.steps:
            out += ["**Derivation.**", ""]
            for i, step in enumerate(r.steps, 1):
                out.append(f"{i}. {step.text}")
                if step.latex:
                    out += ["", "   $$", f"   {step.latex}", "   $$", ""]
        if r.checks:
            out += ["", "**Exact checks.**", ""]
            out += [f"- {c.label}: {_BADGE[c.status]}" for c in r.checks]
        if r.message:
            out += ["", f"> {r.message}"]
    return "\n".join(out) + "\n"


def _anchor(theorem_id: str) -> str:
    return theorem_id.replace(".", "").lower()
