"""The ``orthornn`` command line: the only place that parses argv, prints and writes files.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module list
below is the registry. Exit codes: 0 success, 1 a negative result (e.g. a theorem not proved),
2 bad usage (one line on stderr naming the problem).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import OrthornnError
from . import henaff, prove, report, spectrum, train
from .usage import Parser, UsageError

__all__ = ["UsageError", "main"]

#: Subcommand modules, in the order ``orthornn --help`` lists them.
SUBCOMMANDS = [prove, train, spectrum, henaff, report]


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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, OrthornnError) as exc:
        print(f"orthornn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
