"""Files replaced atomically: a kill or a crash leaves the old file or the new one, whole.

The run folder of ``orthornn train`` (its checkpoint, metrics and summary) and the sweep's
records are written this way, so a run interrupted at any instant can be resumed from what is
on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace", "sync"]


def sync(path: Path, *, folder: bool = False) -> None:
    """Flush ``path`` (a file, or with ``folder`` a folder's entries) to the disk; a folder only
    where POSIX lets one open it (not on Windows, whose renames need no such step)."""
    if folder and not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(path: Path, data: bytes | None = None) -> None:
    """Atomically make ``path.tmp`` (written here from ``data``, else by the caller) ``path``:
    the temporary file is synced, renamed over ``path`` and the folder synced.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.json"
    >>> replace(p, b"{}")
    >>> p.read_bytes(), p.with_name("a.json.tmp").exists()
    (b'{}', False)
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        if data is not None:
            tmp.write_bytes(data)
        sync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync(path.parent, folder=True)
