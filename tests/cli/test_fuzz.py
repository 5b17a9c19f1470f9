"""Fuzz the command line: argument vectors drawn from each subcommand's own parser.

The strategies are built by introspecting :func:`orthornn.cli.build_parser` — every leaf
parser (``prove``, ``train``, ``spectrum``, ``henaff copy|figure1|crosstalk|adding``,
``report``) and every one of its actions: flags present or absent, in any order, abbreviated
or written ``--flag=value``, given twice; values of the action's type, in and out of range and
ill-typed (``x``, ``1.5``, ``nan``, ``1e999``, ``""``…); choices and bad choices; missing and
extra positionals; paths that are files, folders, absent, nested under a file, unwritable
(``/proc/x``, ``/proc``, ``/sys/x``, ``/dev/full``), too long, or run folders, checkpoints,
``.npy`` arrays (orthogonal, general, NaN, empty, complex, object, not an array) and theorem
files. A draw first picks its hostility, the chance that each choice goes wrong (0 to 60 %):
at 0 every value is a sensible one (:data:`GOOD`, or the type's own range) and ``train`` keeps
only the options that act on the drawn model and task, so valid runs are common (about half
of ``train``'s draws train, and some stop on a non-finite loss). Each vector runs in-process
(:func:`orthornn.cli.main`, ``SystemExit`` counted as its code; stdout encodes strictly, as
in a UTF-8 terminal) in a fresh folder that holds those files, as the working directory, and
must

* end with status 0, 1 or 2, never with an exception (a traceback);
* on status 2, print exactly one line on stderr, ``orthornn …: error: …``, naming an option
  or metavar of that parser or one of the arguments given (a file, a value);
* print no ``nan``/``inf`` on stdout and write only strict JSON (no ``NaN``/``Infinity``) in
  every ``.json``/``.jsonl`` file in the folder.

Cost is capped by construction, so that a valid draw finishes in well under a second:

* size options (``train --steps/--hidden/--batch/--T/--S/--K/--eval-batches/--pool`` and
  ``--train-size/--valid-size/--test-size``, ``henaff``'s ``--K/--S/--T/--d/--trials``) draw
  integers from a small range (negative and zero included) or ill-typed text, never a large
  number (:data:`SIZES`); options whose default is expensive (``train --steps/--hidden/--batch``,
  every ``henaff`` size option) are always given (:data:`ALWAYS`). The other integer options
  (``--seed``, ``--eval-every``, ``--checkpoint-every``, ``--roots``) draw small values or huge
  ones (2**31 … 10**30: ``--roots`` refuses those, the others cost nothing more); ``--bins``
  draws small values or 10**12 (refused), never a merely large one that a figure would draw;
* ``prove`` runs in a folder whose ``proofs/`` holds one tiny theorem file, so the default PATH
  is cheap; PATH never names ``/`` or a parent folder (whose ``*.py`` files would be imported);
* a valid ``report`` (seconds even at ``--budget tiny``) is excluded: every ``report`` draw
  carries at least one defect that the command checks before any work (an ``--out`` that is a
  file or cannot be created, an absent ``--proofs-root``, a bad choice, an extra positional,
  an unknown flag), and no later flag of the same name can undo it. ``tests/cli/test_report.py``
  runs the real report;
* argv never holds a NUL character (an exec'd argv cannot).

Examples per test are fixed (:data:`EXAMPLES`; ``ORTHORNN_FUZZ_EXAMPLES=N`` sets them all to
N for a longer local run), with no deadline. With ``ORTHORNN_FUZZ_LOG=FILE`` every invocation
appends a JSON line (command, status, seconds, stderr's first line) to FILE, for counting.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orthornn.cli import build_parser, main
from orthornn.cli.usage import one_line

#: Examples per test (each test is one leaf parser, or the top level).
EXAMPLES = {
    "top": 30,
    "prove": 50,
    "train": 170,
    "sweep": 40,
    "spectrum": 80,
    "henaff copy": 35,
    "henaff figure1": 35,
    "henaff crosstalk": 35,
    "henaff adding": 35,
    "report": 35,
}
_OVERRIDE = int(os.environ.get("ORTHORNN_FUZZ_EXAMPLES", "0"))
_LOG = os.environ.get("ORTHORNN_FUZZ_LOG")

settings.register_profile(
    "cli-fuzz",
    deadline=None,
    max_examples=100,  # each test sets its own count below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
PROFILE = settings.get_profile("cli-fuzz")


def _settings(leaf: str) -> settings:
    return settings(PROFILE, max_examples=_OVERRIDE or EXAMPLES[leaf])


# -- the parsers, introspected ------------------------------------------------------------------


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, argparse.ArgumentParser]:
    out: dict[str, argparse.ArgumentParser] = {}
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {" ".join(path): parser}
    for name, sub in subs[0].choices.items():
        out.update(_leaves(sub, (*path, name)))
    return out


LEAVES = _leaves(build_parser())
assert set(LEAVES) == set(EXAMPLES) - {"top"}, sorted(LEAVES)  # a new subcommand needs its examples


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


@functools.lru_cache
def _names(leaf: str) -> frozenset[str]:
    """Every option string and metavar of ``leaf`` and of the parsers above it."""
    if leaf == "top":  # any command
        return frozenset().union(*(_names(name) for name in LEAVES))
    names = {"COMMAND"}
    words = leaf.split()
    parsers = [build_parser()]
    for w in words:
        sub = next(a for a in parsers[-1]._actions if isinstance(a, argparse._SubParsersAction))
        names.add(str(sub.metavar))
        parsers.append(sub.choices[w])
    for p in parsers:
        for a in _actions(p):
            names.update(a.option_strings)
            for m in (a.metavar, a.dest.upper() if not a.option_strings else None):
                if isinstance(m, str):
                    names.add(m)
    return frozenset(names)


def _kind(action: argparse.Action) -> str:
    """How to draw a value: 'flag' (no value), 'int', 'float', 'path', 'choice' or 'text'."""
    if action.nargs == 0:
        return "flag"
    if action.choices is not None:
        return "choice"
    if action.type is None:
        return "text"
    try:
        parsed = action.type("3")
    except (argparse.ArgumentTypeError, ValueError, TypeError):  # pragma: no cover - a new type
        return "text"
    if isinstance(parsed, Path):
        return "path"
    return "int" if isinstance(parsed, int) else "float"


# -- the files a draw can name ----------------------------------------------------------------

#: Paths relative to the example folder (which holds them) or absolute ones nobody can write.
PATHS = [
    "file.txt",
    "dir",
    "absent",
    "absent.json",
    "no/such/x",
    "file.txt/x",
    "file.txt/x.json",
    "/proc/x",
    "/proc/x.json",
    "/proc",
    "/sys/x",
    "/dev/full",
    "/dev/null",
    "run",
    "run/checkpoint.pt",
    "run/config.json",
    "rum",
    "rum/checkpoint.pt",
    "corrupt",
    "empty_run",
    "badcfg",
    "m.npy",
    "general.npy",
    "batch.npy",
    "rect.npy",
    "vector.npy",
    "nan.npy",
    "empty.npy",
    "complex.npy",
    "object.npy",
    "text.npy",
    "int.npy",
    "th.py",
    "broken.py",
    "proofs",
    "new.png",
    "new.svg",
    "new.pdf",
    "new.txt",
    "new.json",
    "new.md",
    "new.pt",
    "",
    ".",
    "-",
    "a" * 300,
    "a" * 300 + ".json",
    "é ü.json",
    "\udcff.json",  # a non-UTF-8 byte of a real argv (surrogate-escaped by Python)
]

THEOREM = """\
import sympy as sp

from orthornn.symbolic import Derivation, theorem

x = sp.symbols("x")


@theorem("mine.square", r"(x + 1)^2 = x^2 + 2x + 1")
def square(d: Derivation) -> None:
    d.equal(sp.expand((x + 1) ** 2), x**2 + 2 * x + 1, "expand")
"""

RUN = ["--T", "3", "--S", "2", "--K", "3", "--hidden", "4", "--batch", "2", "--steps", "2"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A folder holding every file :data:`PATHS` names relatively (copied for each example)."""
    t = tmp_path_factory.mktemp("template")
    (t / "file.txt").write_text("not a run, not a theorem, not an array\n")
    (t / "dir").mkdir()
    for name, model in (("run", "ltrnn"), ("rum", "rum")):
        argv = ["train", "copy", "--model", model, *RUN, "--eval-every", "1", "--checkpoint-every", "1"]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main([*argv, "--out", str(t / name), "--quiet"]) == 0
    shutil.copytree(t / "run", t / "corrupt")
    (t / "corrupt" / "checkpoint.pt").write_bytes(b"\x00" * 64)
    (t / "empty_run").mkdir()
    shutil.copy(t / "run" / "config.json", t / "empty_run" / "config.json")  # killed before its first checkpoint
    (t / "badcfg").mkdir()
    (t / "badcfg" / "config.json").write_text("[]")
    q, _ = np.linalg.qr(np.arange(9.0).reshape(3, 3) + np.eye(3))
    np.save(t / "m.npy", q * np.sign(np.linalg.det(q)))
    np.save(t / "general.npy", np.arange(9.0).reshape(3, 3))
    np.save(t / "batch.npy", np.stack([np.eye(3), np.eye(3)[::-1]]))
    np.save(t / "rect.npy", np.ones((2, 3)))
    np.save(t / "vector.npy", np.ones(3))
    np.save(t / "nan.npy", np.full((2, 2), np.nan))
    np.save(t / "empty.npy", np.zeros((0, 0)))
    np.save(t / "complex.npy", np.eye(2) * 1j)
    np.save(t / "object.npy", np.array([[None, 1], [2, 3]], dtype=object), allow_pickle=True)
    (t / "text.npy").write_text("not an array")
    np.save(t / "int.npy", np.eye(2, dtype=np.int64))
    (t / "th.py").write_text(THEOREM)
    (t / "broken.py").write_text('raise RuntimeError("broken on purpose")\n')
    (t / "proofs").mkdir()
    (t / "proofs" / "th.py").write_text(THEOREM)
    return t


@contextlib.contextmanager
def _in_fresh_copy(template: Path, base: Path) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(dir=base))
    shutil.copytree(template, work, dirs_exist_ok=True)
    old = Path.cwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(old)
        shutil.rmtree(work, ignore_errors=True)


# -- values -----------------------------------------------------------------------------------

ILL_INTS = ["x", "1.5", "", "1e3", "0x10", "nan", "-", "--", "\u0663", "1_0", " 2 ", "+1", "\u00b2", "1 2", "a\nb"]
ILL_FLOATS = ["x", "", "1e999", "-1e999", "NaN", "-inf", "Infinity", "0x1p3", "1,5", "5e-324", "1e-400", "--"]
HUGE = [2**31, 2**63, 2**64, 10**30, -(10**30)]

#: Size options: leaf -> {dest: largest value drawn}; their cost grows with the value.
SIZES = {
    "train": {
        **{"steps": 3, "hidden": 8, "batch": 4, "T": 8, "S": 4, "K": 5, "eval_batches": 2, "pool": 4},
        **{"train_size": 8, "valid_size": 8, "test_size": 8},
    },
    "henaff copy": {"K": 5, "S": 4, "T": 8, "d": 6, "trials": 4},
    "henaff figure1": {"K": 5, "S": 4, "T": 8, "d": 6, "trials": 3},
    "henaff crosstalk": {"K": 5, "S": 4, "T": 8, "d": 6, "trials": 4},
    "henaff adding": {"T": 8, "trials": 4},
}
#: Options always given (their default is expensive): leaf -> dests.
ALWAYS = {
    "train": {"steps", "hidden", "batch"},
    "henaff copy": {"K", "S", "T", "d", "trials"},
    "henaff figure1": {"K", "S", "T", "d", "trials"},
    "henaff crosstalk": {"K", "S", "T", "d", "trials"},
    "henaff adding": {"T", "trials"},
}
#: Options a sensible draw gives (a hostile one may leave them out): leaf -> dests.
WANTED = {"train": {"model"}}
#: Options whose values are bounded otherwise: leaf -> {dest: strategy of ints}.
BOUNDED = {"spectrum": {"bins": st.integers(-2, 8) | st.just(10**12)}}

#: Values that make sense for an option, drawn when a draw is not hostile there:
#: (leaf or "*", dest) -> values. Everything else draws good values from its type.
GOOD = {
    ("train", "device"): ["cpu", "auto"],
    ("train", "out"): ["dir", "newrun", "absent", "\udcffrun"],
    ("train", "resume"): ["run", "rum", "empty_run"],
    ("*", "json_file"): ["new.json", "file.txt", "\udcff.json"],
    ("prove", "markdown_file"): ["new.md"],
    ("prove", "paths"): ["th.py", "proofs", "broken.py"],
    ("prove", "pattern"): ["mine", "mine.*", "*"],
    ("prove", "timeout"): ["0", "5", "300", "1e-9"],
    ("spectrum", "out"): ["new.png", "new.svg", "new.pdf", "\udcff.png"],
    ("spectrum", "source"): [
        "m.npy",
        "general.npy",
        "batch.npy",
        "int.npy",
        "run",
        "run/checkpoint.pt",
        "explicit:copy:T=5,S=2,d=3",
        "explicit:copy:T=4,S=1,d=2,K=3,seed=7",
    ],
    ("henaff figure1", "out"): ["dir", "newfig", "\udcfffig"],
    ("report", "out"): ["dir"],
    ("report", "proofs_root"): ["."],
}
GOOD_FLOATS = ["0.5", "1", "1e-3", "0.01", "2", "1e-2"]

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
DEVICES = ["cpu", "auto", "cuda", "cuda:0", "cuda:7", "cpu:0", "tpu", "meta", "", "CPU", "cuda:-1", "cuda:x"]
PATTERNS = ["mine", "mine.*", "MINE.SQ*", "henaff.clock*", "zzz", "", "[", "*", "?", "[!m]*"]


def _explicit() -> st.SearchStrategy[str]:
    key = st.sampled_from(["T", "S", "d", "K", "seed", "x", ""])
    value = st.one_of(st.integers(-3, 6).map(str), st.sampled_from(["", "x", "1.5", str(10**30), " 2"]))
    item = st.tuples(key, st.sampled_from(["=", ":", ""]), value).map("".join)
    name = st.sampled_from(["copy", "adding", "", "COPY"])
    return st.tuples(name, st.lists(item, max_size=6)).map(lambda t: f"explicit:{t[0]}:" + ",".join(t[1]))


def _hostile_values(leaf: str, action: argparse.Action) -> st.SearchStrategy[str]:
    """Any value: of the action's type in and out of range, ill-typed, odd paths, odd text."""
    kind, dest = _kind(action), action.dest
    if kind == "choice":
        return st.one_of(st.sampled_from([str(c) for c in action.choices]), st.sampled_from(["", "x", "COPY"]), TEXT)
    if kind == "int":
        if dest in BOUNDED.get(leaf, {}):
            ints = BOUNDED[leaf][dest]
        elif dest in SIZES.get(leaf, {}):
            ints = st.integers(-2, SIZES[leaf][dest])
        else:
            ints = st.integers(-3, 12) | st.sampled_from(HUGE)
        return ints.map(str) | st.sampled_from(ILL_INTS)
    if kind == "float":
        return st.one_of(
            st.floats(-10, 10).map(repr),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.sampled_from(ILL_FLOATS),
        )
    if kind == "path":
        return st.sampled_from(PATHS)
    if dest == "device":
        return st.sampled_from(DEVICES) | TEXT
    if dest == "pattern":
        return st.sampled_from(PATTERNS) | TEXT
    if dest == "source":
        return st.one_of(st.sampled_from(PATHS), _explicit(), TEXT)
    if dest == "paths":
        return st.sampled_from([p for p in PATHS if p != ""])
    return TEXT


def _accepts(action: argparse.Action, text: str) -> bool:
    try:
        action.type(text)  # type: ignore[misc]
    except (argparse.ArgumentTypeError, ValueError):
        return False
    return True


def _good_values(leaf: str, action: argparse.Action) -> st.SearchStrategy[str]:
    """A value that makes sense for the option (the run may still refuse the combination)."""
    kind, dest = _kind(action), action.dest
    good = GOOD.get((leaf, dest), GOOD.get(("*", dest)))
    if good is not None:
        return st.sampled_from(good)
    if kind == "choice":
        return st.sampled_from([str(c) for c in action.choices])
    if kind == "int":
        if dest in BOUNDED.get(leaf, {}):
            return BOUNDED[leaf][dest].filter(lambda v: v >= 1).map(str)
        top = SIZES.get(leaf, {}).get(dest)
        ints = st.integers(1, top) if top else st.integers(0, 12) | st.sampled_from([2**31, 2**63])
        return ints.map(str).filter(lambda v: _accepts(action, v))
    if kind == "float":
        return st.sampled_from(GOOD_FLOATS) | st.floats(1e-3, 10).map(repr)
    return _hostile_values(leaf, action)


def _count(action: argparse.Action, always: bool, hostile: bool) -> st.SearchStrategy[int]:
    """How many values to give ``action``: the right number, or (hostile) one too few or many."""
    nargs = action.nargs
    if nargs == 0:
        return st.just(0)
    if nargs is None:
        return st.sampled_from([0, 1, 2]) if hostile else st.just(1)
    if nargs == "?":
        return st.integers(0, 2) if hostile else st.just(1)
    if nargs == "+":
        return st.integers(0 if hostile else 1, 3)
    return st.integers(0, 3) if hostile else st.integers(0, 2)  # "*"


def _spelling(action: argparse.Action, options: list[str], hostile: bool) -> st.SearchStrategy[str]:
    """The option as written: itself or a prefix that only it has (argparse accepts both), or
    (hostile) a prefix several options share, or a typo."""
    opt = max(action.option_strings, key=len)
    prefixes = [opt[:n] for n in range(3, len(opt)) if opt.startswith("--")]
    unique = [p for p in prefixes if sum(o.startswith(p) for o in options) == 1]
    if not hostile:
        return st.sampled_from([opt, opt, *unique[:1]])
    shared = [p for p in prefixes if sum(o.startswith(p) for o in options) > 1]
    return st.sampled_from([*shared[-1:], opt.upper() if opt.upper() != opt else opt + "x", opt + "-"])


def _train_consistent(given: dict[str, list[str]], roll) -> set[str]:
    """Drop (unless the roll says keep) the train options that the drawn model or task refuses,
    and on --resume every option a resumed run may not change."""
    from orthornn.train.checkpoint import RESUMABLE_CHANGES
    from orthornn.train.config import DATA_OPTIONS, MODEL_OPTIONS, TASK_OPTIONS

    given = dict(given)
    model = (given.get("model") or ["rum"])[-1]
    task = (given.get("task") or ["copy"])[-1]
    if "resume" in given and not roll():
        given.pop("out", None)
        keep = {*RESUMABLE_CHANGES, "resume", "quiet"}
        return {k for k in given if k in keep or roll()}
    given.pop("resume", None)
    for name, (owners, _) in {**MODEL_OPTIONS, **TASK_OPTIONS}.items():
        where = model if name in MODEL_OPTIONS else task
        if name in given and where not in owners and not roll():
            del given[name]
    for name, (other, needs_set, _) in DATA_OPTIONS.items():  # --train-order needs --train-size…
        if name in given and (other in given) != needs_set and not roll():
            del given[name]
    return set(given)


@st.composite
def argv_for(draw, leaf: str) -> list[str]:
    """An argument vector for ``leaf``: its words, then chunks (an option with its values, or the
    positionals) in any order, perhaps an extra token.

    A draw first picks its hostility, the chance that each choice goes wrong (a bad value, a
    wrong count, a typo, an option that does not apply): 0 (every value sensible) up to 60 %.
    """
    parser = LEAVES[leaf]
    always = ALWAYS.get(leaf, set())
    options = [o for a in parser._actions for o in a.option_strings]
    hostility = draw(st.sampled_from([0, 0, 0, 0, 3, 10, 30, 60]))

    def roll() -> bool:
        return hostility > 0 and draw(st.integers(0, 99)) < hostility

    presence = draw(st.sampled_from([15, 30, 60]))
    chunks: dict[str, list[list[str]]] = {}  # dest -> its chunks
    values: dict[str, list[str]] = {}  # dest -> the values of its last chunk
    for action in _actions(parser):
        positional = not action.option_strings
        wanted = action.dest in always or (action.dest in WANTED.get(leaf, ()) and not roll())
        if not positional and not wanted and draw(st.integers(0, 99)) >= presence:
            continue
        chunks[action.dest] = []
        for _ in range(2 if not positional and roll() else 1):  # an option is sometimes given twice
            hostile = roll()
            strategy = _hostile_values(leaf, action) if hostile else _good_values(leaf, action)
            vals = [draw(strategy) for _ in range(draw(_count(action, action.dest in always, hostile)))]
            values[action.dest] = vals
            if positional:
                chunks[action.dest].append(vals)
                continue
            flag = draw(_spelling(action, options, roll()))
            if len(vals) == 1 and draw(st.integers(0, 4)) == 0:
                chunks[action.dest].append([f"{flag}={vals[0]}"])
            else:
                chunks[action.dest].append([flag, *vals])
    if leaf == "train":
        kept = _train_consistent(values, roll)
        chunks = {k: c for k, c in chunks.items() if k in kept}
    parts = [c for cs in chunks.values() for c in cs if c]
    if roll():
        parts.append([draw(st.sampled_from(["extra", "-x", "--no-such-option", "-h", "--", *PATHS]) | TEXT)])
    order = draw(st.permutations(range(len(parts))))
    return [*leaf.split(), *(tok for i in order for tok in parts[i])]


REPORT_DEFECTS = [
    ["--out", "file.txt"],
    ["--out", "file.txt/x"],
    ["--out", "/proc/x"],
    ["--out", "/proc"],
    ["--out", "no/such/x"],
    ["--out", "/dev/full"],
    ["--proofs-root", "absent"],
    ["--proofs-root", "file.txt"],
    ["--budget", "huge"],
    ["--device", "gpu"],
    ["unexpected"],
    ["--no-such-option"],
]


@st.composite
def report_argv(draw) -> list[str]:
    """``report`` with at least one defect checked before any work (see the module docstring)."""
    defect = draw(st.sampled_from(REPORT_DEFECTS))
    argv = draw(argv_for("report"))
    if defect[0].startswith("--") and defect[0] in ("--out", "--proofs-root", "--budget", "--device"):
        # drop every spelling of that option (prefixes, --x=v) so nothing given after the defect undoes it
        kept, skip = [], 0
        for tok in argv[1:]:
            if skip:
                skip -= 1
                continue
            head = tok.split("=", 1)[0]
            if len(head) > 2 and defect[0].startswith(head):
                skip = 0 if "=" in tok else 1
                continue
            kept.append(tok)
        argv = ["report", *kept]
    return [*argv, *defect]


# -- running and judging ----------------------------------------------------------------------


def invoke(argv: list[str]) -> tuple[int, str, str, float]:
    """Run ``main(argv)``; stdout and stderr encode as a UTF-8 terminal's do (stdout strictly,
    stderr with backslash escapes), so printing an undecodable argument fails here as it would."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors, and --help
            code = 0 if exc.code is None else exc.code
    seconds = time.perf_counter() - start
    text = [s.buffer.getvalue().decode("utf-8") for s in (out, err)]  # type: ignore[attr-defined]
    return code, text[0], text[1], seconds


def _strict_json(text: str, where: Path) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"{where}: non-finite number {name} in JSON")

    lines = text.splitlines() if where.suffix == ".jsonl" else [text]
    for line in lines:
        json.loads(line, parse_constant=refuse)


def _names_an_argument(message: str, leaf: str, argv: list[str]) -> bool:
    """Whether ``message`` names an option or metavar of the parser, or one of the arguments
    given (a whole word of it, as argparse or the command quotes it)."""
    if any(name in message for name in _names(leaf)):
        return True
    if any(one_line(shlex.quote(tok)) in message for tok in argv if shlex.quote(tok) != tok):  # '' or 'a b'
        return True
    words = {tok for tok in argv if tok.strip()} | {tok.split("=", 1)[-1] for tok in argv if "=" in tok}
    words = {one_line(w) for w in words}  # as the message escapes them
    if not message.startswith("unrecognized arguments"):  # a bare number is named as a path or quoted,
        words = {  # not merely as a digit of "R^1" or "got 1"
            w
            for w in words
            if not re.fullmatch(r"[-+]?[\d.]+", w.strip())
            or re.search(rf"(^|\s){re.escape(w)}:|'{re.escape(w)}'", message)
        }
    if any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", message) for w in words if w.strip()):
        return True
    return any(Path(w.strip("()'\",:")).exists() for w in message.split() if "/" in w or "." in w)  # a file


def judge(leaf: str, argv: list[str], work: Path) -> None:
    code, out, err, seconds = invoke(argv)
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            first = err.strip().splitlines()[0] if err.strip() else ""
            log.write(json.dumps({"leaf": leaf, "code": code, "seconds": round(seconds, 4), "err": first}) + "\n")
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err, err
    if code == 2:
        assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
        line = err.strip()
        assert line.startswith("orthornn") and ": error: " in line, line
        assert _names_an_argument(line.split(": error: ", 1)[1], leaf, argv), f"names no argument: {line!r}"
    scrubbed = out
    for tok in sorted(argv, key=len, reverse=True):
        if len(tok) >= 2:
            scrubbed = scrubbed.replace(tok, " ")
    if not any(a in ("-h", "--help") for a in argv):
        assert not re.search(r"(?<![\w.])-?(nan|inf)(?![\w])", scrubbed, re.IGNORECASE), out
    for path in work.rglob("*.json*"):
        if path.suffix in (".json", ".jsonl") and path.is_file():
            _strict_json(path.read_text(encoding="utf-8", errors="replace"), path)


def _fuzz(leaf: str, argv: list[str], template: Path, base: Path) -> None:
    with _in_fresh_copy(template, base) as work:
        judge(leaf, argv, work)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("examples")


TOP_FIRST = ["prove", "train", "spectrum", "henaff", "report", "", "x", "trai", "-h", "--help", "--version", "-x"]


@_settings("top")
@given(first=st.sampled_from(TOP_FIRST), rest=st.lists(st.sampled_from(["--no-such-option", "-h", "x"]), max_size=2))
def test_top_level(first, rest, template, base):
    """Any first word, then tokens that make a command fail or print its help (a bare ``report``
    would run the whole report: it always gets one of them)."""
    if first == "report" and not rest:
        rest = ["--no-such-option"]
    _fuzz("top", [first, *rest], template, base)


@_settings("prove")
@given(argv=argv_for("prove"))
def test_prove(argv, template, base):
    _fuzz("prove", argv, template, base)


@_settings("train")
@given(argv=argv_for("train"))
def test_train(argv, template, base):
    _fuzz("train", argv, template, base)


@_settings("sweep")
@given(argv=argv_for("sweep"))
def test_sweep(argv, template, base):
    _fuzz("sweep", argv, template, base)


@_settings("spectrum")
@given(argv=argv_for("spectrum"))
def test_spectrum(argv, template, base):
    _fuzz("spectrum", argv, template, base)


@pytest.mark.parametrize("task", ["copy", "figure1", "crosstalk", "adding"])
def test_henaff(task, template, base):
    leaf = f"henaff {task}"

    @_settings(leaf)
    @given(argv=argv_for(leaf))
    def fuzz(argv):
        _fuzz(leaf, argv, template, base)

    fuzz()


@_settings("report")
@given(argv=report_argv())
def test_report(argv, template, base):
    _fuzz("report", argv, template, base)


def test_the_judge_can_fail(template, base, monkeypatch):
    """The checks bite: a traceback, a two-line error, an error naming nothing, a NaN printed."""
    import orthornn.cli.spectrum as spectrum

    def boom(args):
        raise KeyError("boom")

    def two_lines(args):
        print("orthornn spectrum: error: --bins\nsecond line", file=__import__("sys").stderr)
        return 2

    def nameless(args):
        print("orthornn spectrum: error: something went wrong", file=__import__("sys").stderr)
        return 2

    def nan(args):
        print(f"loss {math.nan}")
        return 0

    for fake, raised in ((boom, KeyError), (two_lines, AssertionError), (nameless, AssertionError),
                         (nan, AssertionError)):  # fmt: skip
        monkeypatch.setattr(spectrum, "run", fake)
        with pytest.raises(raised):
            _fuzz("spectrum", ["spectrum", "m.npy"], template, base)


# -- what the fuzz found, each pinned -----------------------------------------------------------


def _in(work: Path, argv: list[str]) -> tuple[int, str, str]:
    old = Path.cwd()
    os.chdir(work)
    try:
        code, out, err, _ = invoke(argv)
    finally:
        os.chdir(old)
    return code, out, err


def _error(work: Path, argv: list[str]) -> str:
    code, _, err = _in(work, argv)
    assert code == 2 and err.count("\n") == 1, (code, err)
    return err.strip()


TINY = ["--T", "3", "--S", "2", "--hidden", "4", "--batch", "2", "--quiet"]


def test_found_an_unrecognized_empty_argument_is_shown_quoted(tmp_path):
    """`orthornn: error: unrecognized arguments:` named nothing visible."""
    assert _error(tmp_path, ["report", ""]) == "orthornn: error: unrecognized arguments: ''"
    assert _error(tmp_path, ["report", "a b", "c"]) == "orthornn: error: unrecognized arguments: 'a b' c"


def test_found_a_newline_in_an_argument_stays_on_one_line(tmp_path):
    """Paths were printed raw: a name holding a newline split the error in two."""
    err = _error(tmp_path, ["henaff", "adding", "--T", "2", "--trials", "1", "--json", "no\nsuch/x.json"])
    assert err == "orthornn henaff: error: --json no\\nsuch/x.json: folder no\\nsuch does not exist"
    err = _error(tmp_path, ["train", "copy", "--model", "rum", *TINY, "--steps", "1", "--out", "a/\x1b[2Jb"])
    assert "\\x1b[2Jb" in err and "\x1b" not in err  # a terminal escape is shown, not obeyed


def test_found_an_empty_path_is_refused(tmp_path):
    """`Path("")` is `.`: `--out ""` (an unset shell variable) wrote into the working directory."""
    for argv in (["train", "copy", "--model", "rum", *TINY, "--out", ""], ["prove", ""],
                 ["spectrum", "explicit:copy:T=5,S=2,d=3", "--json="]):  # fmt: skip
        assert _error(tmp_path, argv).endswith(": an empty path names no file or folder"), argv
    assert os.listdir(tmp_path) == []


def test_found_huge_histogram_and_root_counts_are_refused(tmp_path):
    """--bins 10**12 raised MemoryError (a traceback); --roots 2**31 asked for 16 GiB."""
    spec = ["spectrum", "explicit:copy:T=5,S=2,d=3", "--out", "f.png"]
    assert _error(tmp_path, [*spec, "--bins", str(10**12)]).endswith("--bins must be <= 10000, got 1000000000000")
    assert _error(tmp_path, [*spec, "--roots", str(2**31)]).endswith("--roots must be <= 1000000, got 2147483648")
    assert os.listdir(tmp_path) == []


def test_found_crosstalk_at_one_symbol_prints_no_nan(tmp_path):
    """S = 1: (S − 1)/d = 0, and the ratio column printed `nan`."""
    code, out, _ = _in(tmp_path, ["henaff", "crosstalk", "--S", "1", "2", "--d", "2", "--T", "3", "--trials", "2"])
    assert code == 0 and "nan" not in out.lower()
    assert out.splitlines()[2].rstrip().endswith("—") and not out.splitlines()[3].rstrip().endswith("—")


def test_found_seeds_beyond_64_bits_are_refused(tmp_path):
    """--seed 2**64 reached torch.manual_seed: ValueError (a traceback)."""
    argv = ["train", "copy", "--model", "ltrnn", *TINY, "--steps", "1"]
    err = _error(tmp_path, [*argv, "--seed", str(2**64)])
    assert err == f"orthornn train: error: --seed: must be an integer from 0 to 2**64 - 1, got {2**64}"
    assert _in(tmp_path, [*argv, "--seed", str(2**64 - 1)])[0] == 0


def test_found_a_one_unit_rum_is_refused_up_front(tmp_path):
    """RUM with hidden 1 failed mid-run with a rotation error naming no option."""
    err = _error(tmp_path, ["train", "copy", "--model", "rum", *TINY[:4], "--hidden", "1", "--out", "r"])
    assert err == "orthornn train: error: --hidden: model rum needs hidden >= 2 (SO(1) holds no rotation), got 1"
    assert not (tmp_path / "r").exists()


def test_found_an_undecodable_file_name_prints_escaped(tmp_path):
    """A non-UTF-8 byte in a file name (a lone surrogate in argv) crashed a strict stdout."""
    code, out, err = _in(tmp_path, ["spectrum", "explicit:copy:T=5,S=2,d=3", "--json", "\udcff.json"])
    assert code == 0 and "json                   \\udcff.json" in out, err
    assert json.loads((tmp_path / "\udcff.json").read_text())["n"] == 7


@pytest.mark.parametrize(
    ("extra", "stop"),
    [
        (["--lr", "1e6", "--steps", "1"], "stopped"),  # the fuzz's case: NaN held-out loss in summary.json
        (["--ortho-lr", "1e300", "--steps", "2"], "made a parameter non-finite"),
    ],
)
def test_found_a_run_that_blows_up_writes_no_nan_and_stays_resumable(tmp_path, extra, stop):
    """A finite training loss, then parameters or held-out scores that overflow: summary.json
    held `NaN`, and the checkpoint (with a NaN evaluation) was refused by --resume."""
    argv = ["train", "copy", "--model", "ltrnn", *TINY, *extra]
    code, _, err = _in(tmp_path, [*argv, "--out", "run"])
    assert code == 1 and stop in err and "last good checkpoint" in err, err
    for name in ("summary.json", "metrics.jsonl", "config.json"):
        _strict_json((tmp_path / "run" / name).read_text(), tmp_path / "run" / name)
    code, _, again = _in(tmp_path, ["train", "--resume", "run", "--quiet"])  # resumable: same stop
    assert code == 1 and again.splitlines()[-1] == err.splitlines()[-1]


def _trainer(**kw):
    from orthornn.train import TrainConfig, Trainer

    cfg = TrainConfig(task="copy", model="ltrnn", T=3, S=2, hidden=4, batch=2, steps=4, eval_every=1,
                      checkpoint_every=1, dtype="float64", **kw)  # fmt: skip
    return Trainer(cfg)


def test_found_a_non_finite_gradient_stops_before_the_step():
    """With --clip an infinite gradient norm was recorded (`Infinity` in metrics.jsonl) and
    clipped to NaN parameters."""
    import torch

    for clip in (None, 1.0):
        trainer, saved = _trainer(clip=clip), []
        before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        next(trainer.model.parameters()).register_hook(lambda g, t=trainer: g * math.inf if t.step == 2 else g)
        hist = trainer.run(on_checkpoint=saved.append)
        assert hist.stopped == "non-finite gradient at step 3; stopped, parameters are those after step 2"
        assert [r["step"] for r in hist.train] == [1, 2] and [c["step"] for c in saved] == [1, 2]
        assert trainer.parameters_finite() and not all(
            torch.equal(v, before[k]) for k, v in trainer.model.state_dict().items()
        )
        assert all(math.isfinite(v) for r in hist.train for v in r.values() if isinstance(v, float))


def test_found_non_finite_parameters_or_held_out_loss_stop_before_any_record_of_them(monkeypatch):
    import torch

    trainer, saved = _trainer(), []
    real = trainer.optimizer.step

    def poison(*a, **k):
        real(*a, **k)
        if trainer.step == 1:  # the update of step 2
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(math.inf)

    monkeypatch.setattr(trainer.optimizer, "step", poison)
    hist = trainer.run(on_checkpoint=saved.append)
    assert hist.stopped == "step 2 made a parameter non-finite; stopped"
    assert [e["step"] for e in hist.evals] == [1] and [c["step"] for c in saved] == [1]

    trainer, saved = _trainer(), []
    real_eval = trainer.evaluate
    monkeypatch.setattr(
        trainer, "evaluate", lambda: {**real_eval(), "loss": math.nan} if trainer.step == 3 else real_eval()
    )
    hist = trainer.run(on_checkpoint=saved.append)
    assert hist.stopped == "non-finite held-out loss after step 3; stopped"
    assert [e["step"] for e in hist.evals] == [1, 2] and [c["step"] for c in saved] == [1, 2]
    assert hist.summary["final"]["step"] == 2 and hist.summary["best"]["step"] in (1, 2)
