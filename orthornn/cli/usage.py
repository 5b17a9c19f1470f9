"""Usage errors of the command line: one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

__all__ = ["Parser", "UsageError", "check_writable"]


class UsageError(Exception):
    """Bad command-line usage discovered after parsing (exit 2, one line)."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def check_writable(path: Path | None, flag: str) -> None:
    """Raise :class:`UsageError` if ``path``'s folder does not exist (before any work is done)."""
    if path is not None and not path.resolve().parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {path.parent} does not exist")
