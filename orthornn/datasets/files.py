"""Text files of a data set, read alike whether plain (``.txt``) or gzip-compressed (``.txt.gz``).

The project never copies or downloads data: its user names a folder and the readers here open
the files in it. Every failure (a missing file, an unreadable one, a broken gzip stream, bytes
that are not UTF-8) is a :class:`DataError` whose one-line message names the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ..errors import OrthornnError

__all__ = ["DataError", "read_bytes", "read_lines"]


class DataError(OrthornnError):
    """A data file or folder that is missing, unreadable or not in the expected format."""


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    r"""The lines of the UTF-8 text file ``path`` (gzip-decompressed when its name ends in
    ``.gz``), without their line endings.

    Raises :class:`DataError` naming ``path`` when the file cannot be read or decoded.

    Examples
    --------
    >>> import gzip, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("1 Mary moved.\n2 Where is Mary?\tx\t1\n")
    >>> _ = (folder / "a.txt.gz").write_bytes(gzip.compress((folder / "a.txt").read_bytes()))
    >>> read_lines(folder / "a.txt") == read_lines(folder / "a.txt.gz")
    True
    """
    path = Path(path)
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not UTF-8 text") from None
    return text.splitlines()


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path`` (gzip-decompressed when its name ends in ``.gz``); :class:`DataError`
    naming the file when it cannot be read or is not valid gzip.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt.gz").write_bytes(gzip.compress(b" a b\\n"))
    >>> read_bytes(folder / "a.txt.gz")
    b' a b\\n'
    """
    path = Path(path)
    if path.exists() and not path.is_dir() and not path.is_file():  # /dev/zero reads forever, a FIFO blocks
        raise DataError(f"{path}: not a regular file (a device, pipe or socket)")
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a file") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a valid gzip file ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
