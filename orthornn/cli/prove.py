"""``orthornn prove [PATH ...] [-k PATTERN] [--json FILE] [--markdown FILE]``."""

from __future__ import annotations

import argparse
import json
import sys

from ..symbolic import Status, default_theorems, discover, to_json, to_markdown
from .progress import progress_bar
from .usage import UsageError, check_writable, path_arg, writing

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``prove`` subcommand."""
    p = sub.add_parser(
        "prove",
        help="run the machine-checked theorems (those shipped with orthornn, or your own files)",
        description=(
            "Discover and run theorem files; exit 0 iff every selected theorem is proved. Without PATH: "
            "./proofs if the working directory has that folder, else the theorems shipped with orthornn."
        ),
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=_path_text,
        metavar="PATH",
        help="theorem files or folders (default: ./proofs if it is a folder, else the shipped theorems)",
    )
    p.add_argument("-k", dest="pattern", metavar="PATTERN", help="only ids containing PATTERN (or matching the glob)")
    p.add_argument("--json", dest="json_file", metavar="FILE", type=path_arg, help="write the results as JSON")
    p.add_argument("--markdown", dest="markdown_file", metavar="FILE", type=path_arg, help="write a Markdown report")
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=300.0,
        help="stop a theorem after SECONDS and report it undecided (default 300; 0: no limit)",
    )
    p.set_defaults(handler=run)


def _path_text(text: str) -> str:
    """argparse ``type`` of a theorem PATH: the text as given, checked not empty, so that
    :func:`~orthornn.symbolic.discover` names it so in an error (``0/``, not ``0``)."""
    path_arg(text)
    return text


def run(args: argparse.Namespace) -> int:
    """Run the selected theorems, print a table, write the reports; 0 iff all proved."""
    check_writable(args.json_file, "--json")
    check_writable(args.markdown_file, "--markdown")
    paths = args.paths or [default_theorems()]
    if args.timeout < 0:
        raise UsageError(f"--timeout {args.timeout:g}: must be ≥ 0 seconds")
    timeout = args.timeout or None
    theorems = discover(paths, args.pattern)
    if not theorems:
        raise UsageError(f"no theorem id matches -k {args.pattern!r}")
    width = max(len(t.id) for t in theorems)
    print(f"{'theorem':<{width}}  {'status':<9}  {'seconds':>8}")
    results = []
    bar = progress_bar(len(theorems), desc="prove", unit="theorem")  # stderr, terminals only
    try:
        for th in theorems:
            bar.set_postfix_str(th.id, refresh=False)
            r = th.run(timeout)
            results.append(r)
            bar.write(f"{r.id:<{width}}  {r.status.value:<9}  {r.seconds:8.2f}", file=sys.stdout)
            sys.stdout.flush()
            if r.message:
                bar.write(f"{'':<{width}}  ↳ {r.message}", file=sys.stderr)
            bar.update(1)
    finally:
        bar.close()
    proved = sum(r.status is Status.PROVED for r in results)
    total_s = sum(r.seconds for r in results)
    print(f"{proved}/{len(results)} proved in {total_s:.1f} s")
    if args.json_file is not None:
        with writing(args.json_file, "--json"):
            args.json_file.write_text(json.dumps(to_json(results), indent=2) + "\n")
    if args.markdown_file is not None:
        with writing(args.markdown_file, "--markdown"):
            args.markdown_file.write_text(to_markdown(results))
    return 0 if proved == len(results) else 1
