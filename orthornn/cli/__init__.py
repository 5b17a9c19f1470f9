"""The ``orthornn`` command line: the only place that parses argv, prints and writes files.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module list
below is the registry. Exit codes: 0 success, 1 a negative result (e.g. a theorem not proved),
2 bad usage or an output that cannot be written (one line on stderr naming the problem).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import OrthornnError
from . import henaff, prove, report, spectrum, sweep, train
from .usage import Parser, UsageError, one_line

__all__ = ["UsageError", "main"]

#: Subcommand modules, in the order ``orthornn --help`` lists them.
SUBCOMMANDS = [prove, train, sweep, spectrum, henaff, report]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered subcommand."""
    parser = Parser(
        prog="orthornn",
        description="Theory of orthogonal recurrent networks: prove, compute, train.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``orthornn`` console script; returns the exit status."""
    _escape_unencodable()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, OrthornnError) as exc:
        print(f"orthornn {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a read or write the command did not wrap itself (disk full, permissions…)
        print(f"orthornn {args.command}: error: {one_line(_os_error(exc))}", file=sys.stderr)
        return 2


def _escape_unencodable() -> None:
    """Let stdout and stderr write what they cannot encode as backslash escapes.

    A file name that is not valid UTF-8 reaches ``argv`` as lone surrogates (``'\udcff'``); a
    stream opened strictly (stdout in a UTF-8 locale) would raise UnicodeEncodeError when the
    command prints that name back. Streams that already escape or pass them are left alone.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _os_error(exc: OSError) -> str:
    """One line for an :class:`OSError`: the file(s) it names and the system's reason."""
    why = exc.strerror or next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    files = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
    return f"{' -> '.join(files)}: {why}" if files else why


def console() -> NoReturn:
    """The ``orthornn`` console script and ``python -m orthornn``: :func:`main` on ``sys.argv``,
    its status the process's exit status (a data-parallel rank skips the interpreter's teardown:
    :func:`orthornn.train.distributed.end_process`)."""
    code = main()
    distributed = sys.modules.get("orthornn.train.distributed")  # loaded (with torch) only to train
    if distributed is None:
        sys.exit(code)
    distributed.end_process(code)


if __name__ == "__main__":  # pragma: no cover
    console()
