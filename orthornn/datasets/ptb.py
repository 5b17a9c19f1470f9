r"""Character-level Penn Treebank as the RUM paper reads it: the raw bytes of the word-level files.

**Corpus.** The Mikolov split ``ptb.{train,valid,test}.txt`` (or ``.txt.gz``) read as bytes,
nothing removed or added: a space begins every line, words are separated by spaces, ``<unk>`` is
five characters and every line ends in ``\n``. The training file holds exactly 50 distinct bytes,
the RUM paper's vocabulary (§4.4.1, appendix D); the validation and test files hold no byte the
training file lacks (a file that does is refused, :class:`DataError` naming the byte, its offset
and its line). Any other text (or binary) file can be a corpus in the same way
(:func:`read_corpus`).

**Layout.** ``DIR/ptb/ptb.{train,valid,test}.txt`` (or ``.txt.gz``; ``DIR/ptb.{…}`` is accepted
too). The folder is the user's (``--data DIR`` or ``ORTHORNN_DATA``); nothing is downloaded.

**Streams.** A split of :math:`L` characters :math:`c_0 \dots c_{L-1}` is cut into :math:`B`
contiguous streams of :math:`n = \lfloor L/B \rfloor` characters (the last :math:`L \bmod B`
are dropped),

.. math:: S_{b,j} = c_{bn + j}, \qquad b < B,\ j < n,

and window :math:`w` of truncated BPTT with length :math:`T` has inputs and targets

.. math:: x^{(w)} = S_{:,\,wT : wT + T_w}, \qquad y^{(w)} = S_{:,\,wT + 1 : wT + T_w + 1},
          \qquad T_w = \min(T,\ n - 1 - wT),

for :math:`w = 0 \dots \lceil (n-1)/T \rceil - 1`: the windows cover every one of the
:math:`B(n-1)` predictions of the streams once (the last window may be shorter), and window
:math:`w + 1` continues window :math:`w` in every row, so a recurrent state carried from one to
the next (and detached) reads each stream as one sequence.

References
----------
M. P. Marcus, M. A. Marcinkiewicz, B. Santorini, "Building a large annotated corpus of English:
the Penn Treebank", Computational Linguistics 1993; T. Mikolov et al., "Subword language
modeling with neural networks", 2012 (the split).
R. Dangovski, L. Jing, M. Soljačić, "Rotational Unit of Memory", 2017, §4.4 and appendix D.

Examples
--------
>>> vocab = ByteVocabulary.from_bytes(b" the cat\n")
>>> len(vocab), vocab.decode(vocab.encode(b"the cat"))
(7, b'the cat')
>>> S = streams(np.arange(10), 3)
>>> S.tolist()
[[0, 1, 2], [3, 4, 5], [6, 7, 8]]
>>> [(x.tolist(), y.tolist()) for x, y in windows(S, 2)]
[([[0, 1], [3, 4], [6, 7]], [[1, 2], [4, 5], [7, 8]])]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tasks._params import check_int
from .files import DataError, read_bytes

__all__ = [
    "SPLITS",
    "ByteVocabulary",
    "CharCorpus",
    "load_ptb",
    "ptb_files",
    "read_corpus",
    "streams",
    "window_count",
    "windows",
]

#: The three splits, in the order they are read.
SPLITS = ("train", "valid", "test")

LAYOUT = "DIR/ptb/ptb.{train,valid,test}.txt (or .txt.gz)"


class ByteVocabulary:
    """Byte ↔ id: the distinct bytes of a training text, sorted (id ``i`` is the ``i``-th smallest).

    >>> v = ByteVocabulary.from_bytes(b"banana")
    >>> v.symbols, v.encode(b"nab").tolist()
    (b'abn', [2, 0, 1])
    """

    def __init__(self, symbols: bytes) -> None:
        if not isinstance(symbols, bytes | bytearray) or not symbols:
            raise DataError("a byte vocabulary needs at least one byte")
        if len(set(symbols)) != len(symbols) or list(symbols) != sorted(symbols):
            raise ValueError("symbols must be distinct bytes in increasing order")
        self.symbols = bytes(symbols)
        table = np.full(256, -1, dtype=np.int64)
        table[np.frombuffer(self.symbols, dtype=np.uint8)] = np.arange(len(self.symbols))
        self._ids = table

    @classmethod
    def from_bytes(cls, data: bytes) -> ByteVocabulary:
        """The vocabulary of the distinct bytes of ``data``."""
        return cls(bytes(sorted(set(data))))

    def __len__(self) -> int:
        return len(self.symbols)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByteVocabulary) and other.symbols == self.symbols

    def __hash__(self) -> int:
        return hash(self.symbols)

    def encode(self, data: bytes, source: str = "<bytes>") -> np.ndarray:
        """Ids of the bytes of ``data`` (int64); :class:`DataError` naming ``source``, the first
        byte outside the vocabulary, its offset and its line."""
        raw = np.frombuffer(data, dtype=np.uint8)
        ids = self._ids[raw]
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            at = int(bad[0])
            line = data[:at].count(b"\n") + 1
            byte = data[at]
            raise DataError(
                f"{source}: line {line}: byte {byte:#04x} ({chr(byte)!r}) at offset {at} is not in the training "
                f"file's vocabulary of {len(self)} bytes"
            )
        return ids

    def decode(self, ids: np.ndarray) -> bytes:
        """The bytes of ``ids``."""
        return bytes(np.frombuffer(self.symbols, dtype=np.uint8)[np.asarray(ids, dtype=np.int64)])


def streams(ids: np.ndarray, batch: int) -> np.ndarray:
    r"""The ``batch`` contiguous streams of ``ids``: row ``b`` is ``ids[b·n : (b+1)·n]`` with
    :math:`n = \lfloor L/B \rfloor` (the last ``L mod B`` ids are dropped); shape (B, n).

    Raises :class:`DataError` when a stream would hold fewer than 2 characters (no prediction).

    >>> streams(np.arange(7), 2).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    batch = check_int("batch", batch, 1)
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-d array, got shape {ids.shape}")
    n = len(ids) // batch
    if n < 2:
        raise DataError(f"{len(ids)} characters cannot make {batch} streams of at least 2 characters each")
    return ids[: batch * n].reshape(batch, n)


def window_count(length: int, bptt: int) -> int:
    r"""Windows of length ``bptt`` that cover the ``length - 1`` predictions of a stream of
    ``length`` characters: :math:`\lceil (n - 1)/T \rceil`.

    >>> window_count(11, 5), window_count(12, 5)
    (2, 3)
    """
    return -(-(check_int("length", length, 2) - 1) // check_int("bptt", bptt, 1))


def windows(S: np.ndarray, bptt: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The truncated-BPTT windows ``(x, y)`` of the streams ``S`` (B, n), in order: ``x`` the
    inputs ``S[:, wT : wT + T_w]``, ``y`` the next characters, each (B, T_w)."""
    n = S.shape[1]
    for w in range(window_count(n, bptt)):
        a = w * bptt
        b = min(a + bptt, n - 1)
        yield S[:, a:b], S[:, a + 1 : b + 1]


@dataclass(frozen=True)
class CharCorpus:
    """A character corpus: the byte vocabulary of its training text and each split's ids."""

    vocab: ByteVocabulary  # built from the training split
    train: np.ndarray  # ids of the training split, int64
    valid: np.ndarray  # ids of the validation split
    test: np.ndarray  # ids of the test split
    files: tuple[str, str, str]  # where the splits were read (train, valid, test)

    @property
    def vocab_size(self) -> int:
        """Input and output size: the distinct bytes of the training split."""
        return len(self.vocab)

    def split(self, name: str) -> np.ndarray:
        """The ids of split ``name`` (``train``, ``valid`` or ``test``)."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
        return getattr(self, name)

    @property
    def unigram_entropy(self) -> float:
        r"""Cross-entropy (nats) of the memoryless predictor, the training split's character
        frequencies :math:`p_c`: :math:`-\sum_c p_c \ln p_c`."""
        p = np.bincount(self.train, minlength=self.vocab_size) / len(self.train)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    @property
    def unigram_accuracy(self) -> float:
        """Accuracy of always predicting the training split's most frequent character."""
        return float(np.bincount(self.train).max() / len(self.train))

    def describe(self) -> dict[str, object]:
        """Files, sizes and the vocabulary, as plain data (for a summary)."""
        return {
            "files": dict(zip(SPLITS, self.files, strict=True)),
            "characters": {s: len(self.split(s)) for s in SPLITS},
            "vocab_size": self.vocab_size,
            "vocab": self.vocab.symbols.decode("latin-1"),
            "unigram_bpc": self.unigram_entropy / math.log(2),
        }


def read_corpus(
    train: str | os.PathLike[str], valid: str | os.PathLike[str], test: str | os.PathLike[str]
) -> CharCorpus:
    """Read three files (``.txt`` or ``.txt.gz``, any bytes) as a character corpus: the vocabulary
    from ``train``; :class:`DataError` naming the file when one is missing, unreadable, empty, or
    (``valid``, ``test``) holds a byte the training file does not."""
    paths = tuple(Path(p) for p in (train, valid, test))
    data = []
    for p in paths:
        raw = read_bytes(p)
        if not raw:
            raise DataError(f"{p}: is empty (a corpus split needs characters)")
        data.append(raw)
    vocab = ByteVocabulary.from_bytes(data[0])
    ids = [vocab.encode(raw, str(p)) for raw, p in zip(data, paths, strict=True)]
    return CharCorpus(vocab, *ids, files=tuple(str(p) for p in paths))  # type: ignore[arg-type]


def ptb_files(root: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """The train, valid and test files under the data folder ``root``: ``root/ptb/ptb.{split}.txt``
    or ``root/ptb.{split}.txt``, each plain or ``.gz``; :class:`DataError` naming the first one
    missing and the layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected {LAYOUT.replace('DIR', str(root))})")
    folder = root / "ptb" if (root / "ptb").is_dir() else root
    found = []
    for split in SPLITS:
        stem = f"ptb.{split}.txt"
        present = [c for c in (folder / stem, folder / f"{stem}.gz") if c.is_file()]
        if not present:
            raise DataError(f"{folder / stem}: no such file (nor {stem}.gz); expected {LAYOUT}")
        found.append(present[0])
    return found[0], found[1], found[2]


def load_ptb(root: str | os.PathLike[str]) -> CharCorpus:
    """Character-level Penn Treebank from the data folder ``root`` (:func:`ptb_files`,
    :func:`read_corpus`)."""
    return read_corpus(*ptb_files(root))
