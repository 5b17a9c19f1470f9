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


def _cli_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"^```bash\n(.*?)^```", section, re.S | re.M)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_readme_cli_commands_run_as_shown(tmp_path):
    """Every command of the README's 'Command line' section exits 0 (run in order, from a copy of the root)."""
    import os
    import shlex
    import subprocess
    import sys

    (tmp_path / "proofs").symlink_to(ROOT / "proofs")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    for line in _cli_lines():
        argv = shlex.split(line)
        assert argv[0] == "orthornn"
        proc = subprocess.run(
            [sys.executable, "-m", "orthornn", *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"{line}\n{proc.stderr[-2000:]}"
