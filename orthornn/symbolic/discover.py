"""Find theorem files and the :class:`~orthornn.symbolic.theorem.Theorem` objects they define.

A theorem file is any ``*.py`` file (not starting with ``_``) under the given paths; its
theorems are the module-level :class:`Theorem` objects, in definition order. A file that fails
to import yields one theorem ``<stem>.load`` whose status is ``error``, so a broken file is
reported, never silently skipped.

The theorems of ``proofs/`` ship with orthornn: :func:`shipped_theorems` says where they are
(inside the installed package, or the source checkout's ``proofs/``), and
:func:`default_theorems` is what ``orthornn prove`` and ``orthornn report`` run when not told:
``./proofs`` if the working directory has such a folder, else the shipped theorems.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import OrthornnError
from .theorem import Derivation, Theorem

__all__ = ["DiscoveryError", "default_theorems", "discover", "load_theorems", "shipped_theorems"]


class DiscoveryError(OrthornnError):
    """A path given to discovery does not exist or holds no theorem file, or the shipped theorems are missing."""


_PACKAGE = Path(__file__).resolve().parents[1]  # the orthornn package folder


def shipped_theorems() -> Path:
    """The folder of the theorem files that ship with orthornn.

    In an installed wheel they are ``orthornn/proofs/`` inside the package (the build maps the
    source's top-level ``proofs/`` there); in a source checkout (an editable install, or the
    package run from the clone) they are that ``proofs/`` itself. Raises
    :class:`DiscoveryError` if neither exists (a broken installation).

    >>> (shipped_theorems() / "rotation.py").is_file()
    True
    """
    installed = _PACKAGE / "proofs"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "proofs").is_dir():
        return checkout / "proofs"
    raise DiscoveryError(f"the shipped theorems are missing: neither {installed} nor {checkout / 'proofs'} exists")


def default_theorems(cwd: str | Path | None = None) -> Path:
    """The theorem folder run when none is named: ``cwd/proofs`` if it is a folder, else :func:`shipped_theorems`.

    ``cwd`` defaults to the working directory. A folder of your own called ``proofs`` thus wins
    over the shipped theorems; name the theorem files explicitly to run anything else.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     default_theorems(empty) == shipped_theorems()
    True
    """
    local = Path.cwd() / "proofs" if cwd is None else Path(cwd) / "proofs"
    return local if local.is_dir() else shipped_theorems()


def _files(paths: Iterable[str | Path]) -> list[Path]:
    """The theorem files under ``paths``; an error names a path as given (``0/``, not the ``0``
    that :class:`~pathlib.Path` makes of it)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.py")) if not p.name.startswith("_"))
        elif path.is_file() and path.suffix == ".py":
            files.append(path)
        elif path.exists():
            raise DiscoveryError(f"{given}: not a .py file or a directory")
        else:
            raise DiscoveryError(f"{given}: no such file or directory")
    return files


def _load_failure(stem: str, exc: BaseException) -> Theorem:
    def proof(d: Derivation) -> None:
        raise exc

    return Theorem(id=f"{stem.lower()}.load", statement=f"\\text{{{stem}.py imports}}", proof=proof)


def load_theorems(file: Path) -> list[Theorem]:
    """Import one theorem file and return its theorems in definition order."""
    name = f"orthornn_proofs_{file.stem}_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - only for exotic paths
        raise DiscoveryError(f"{file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        return [_load_failure(file.stem, exc)]
    return [v for v in vars(module).values() if isinstance(v, Theorem)]


def _matches(theorem: Theorem, pattern: str) -> bool:
    p = pattern.lower()
    if any(ch in p for ch in "*?["):
        return fnmatch.fnmatch(theorem.id.lower(), p)
    return p in theorem.id.lower()


def discover(paths: Sequence[str | Path], pattern: str | None = None) -> list[Theorem]:
    """All theorems under ``paths`` whose id matches ``pattern``.

    ``pattern`` is a case-insensitive substring of the id, or a glob if it contains ``*?[``.
    Raises :class:`DiscoveryError` for a missing path, a path with no theorem file, or two
    theorems with the same id.
    """
    files = _files(paths)
    if not files:
        raise DiscoveryError(f"no theorem files (*.py) under {', '.join(map(str, paths))}")
    theorems: list[Theorem] = []
    seen: set[str] = set()
    for file in files:
        for th in load_theorems(file):
            if th.id in seen:
                raise DiscoveryError(f"theorem id {th.id!r} is defined twice (again in {file})")
            seen.add(th.id)
            if pattern is None or _matches(th, pattern):
                theorems.append(th)
    return theorems
