"""The README's quick-start commands are exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [c.strip() for c in re.findall(r"^```\n(.*?)^```", section, re.S | re.M)]


def test_quick_start_has_two_commands_both_run_by_ci():
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci.splitlines(), f"CI does not run the README command: {command}"
    assert any("pytest" in c for c in commands)
    assert any("orthornn" in c and "pytest" not in c for c in commands)
