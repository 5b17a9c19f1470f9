"""Usage errors of the command line: one line on stderr, exit status 2.

Every message goes through :func:`one_line`, so an argument holding a newline (or another
character that would break or hide the line) is shown escaped, never as a second line.
Path arguments are parsed by :func:`path_arg`, which refuses an empty one (``Path("")`` would
silently mean the working directory). Every output a command takes (``--out``, ``--json``,
``--markdown``) is checked here before any work is done — :func:`check_writable` for a file,
:func:`check_folder` for a folder — and written inside :func:`writing`, which turns a failed
write into the same one-line error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

__all__ = ["Parser", "UsageError", "check_folder", "check_writable", "one_line", "path_arg", "writing"]


class UsageError(Exception):
    """Bad command-line usage discovered after parsing (exit 2, one line)."""


def one_line(text: str) -> str:
    r"""``text`` with every character that is not printable (newlines, other controls, lone
    surrogates from undecodable argv bytes) written as its escape, so it prints as one line.

    >>> one_line("--out a\nb: cannot write")
    '--out a\\nb: cannot write'
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text)


def path_arg(text: str) -> Path:
    """argparse ``type`` of a file or folder argument: a :class:`~pathlib.Path`, not empty."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return Path(text)


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        """As argparse, but unrecognized arguments are quoted (an empty one shows as ``''``)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(shlex.quote(a) for a in extras)}")
        return parsed


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc).splitlines()[0]


def _check_parent(path: Path, flag: str) -> None:
    parent = path.resolve().parent
    if not parent.exists():
        raise UsageError(f"{flag} {path}: folder {path.parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: {path.parent} is not a folder")


def check_writable(path: Path | None, flag: str) -> None:
    """Raise :class:`UsageError` unless a file can be written at ``path`` (None: no output).

    The check creates nothing that stays: an existing file is opened for appending (and left
    as it was), a new one is created and removed again.
    """
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, not a file")
    _check_parent(path, flag)
    try:
        if path.exists():
            with path.open("ab"):
                pass
        else:
            with path.open("xb"):
                pass
            path.unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write a file there ({_why(exc)})") from None


def check_folder(path: Path | None, flag: str) -> None:
    """Raise :class:`UsageError` unless ``path`` is a folder files can be written into, or one
    that can be created (None: no output).

    Leaves nothing behind: a probe file in an existing folder, or the new folder itself, is
    removed again (the command creates the folder once its arguments are all good).
    """
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a folder")
    try:
        if path.is_dir():
            fd, probe = tempfile.mkstemp(dir=path, prefix=".orthornn-probe-")
            os.close(fd)
            os.unlink(probe)
            return
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write into that folder ({_why(exc)})") from None
    _check_parent(path, flag)
    try:
        path.mkdir()
        path.rmdir()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create a folder there ({_why(exc)})") from None


@contextlib.contextmanager
def writing(path: Path, flag: str | None = None) -> Iterator[None]:
    """Turn an :class:`OSError` raised while writing ``path`` (disk full, permissions…) into a
    one-line :class:`UsageError` naming it (and ``flag``, the option that chose it)."""
    try:
        yield
    except OSError as exc:
        where = f"{flag} {path}" if flag else str(path)
        raise UsageError(f"{where}: cannot write ({_why(exc)})") from None
