"""Real data sets read from a folder the user names (numpy; nothing is copied or downloaded).

* :mod:`orthornn.datasets.files` — text files read alike plain or gzipped, :class:`DataError`;
* :mod:`orthornn.datasets.babi` — bAbI question answering: parser, vocabulary, the RUM
  paper's encoding, the 90 / 10 split (``docs/babi.md``);
* :mod:`orthornn.datasets.buckets` — length-bucketed batches, so padding stays small;
* :mod:`orthornn.datasets.ptb` — character-level Penn Treebank (or any text) as bytes, its
  vocabulary and the contiguous streams of truncated BPTT (``docs/ptb.md``).
"""

from __future__ import annotations

from .babi import BabiTask, Question, Vocabulary, load_babi, parse_babi, read_babi, task_files
from .buckets import LengthBuckets, length_chunks, padding_fraction
from .files import DataError, read_lines
from .ptb import ByteVocabulary, CharCorpus, load_ptb, ptb_files, read_corpus, streams, windows

__all__ = [
    "BabiTask",
    "ByteVocabulary",
    "CharCorpus",
    "DataError",
    "LengthBuckets",
    "Question",
    "Vocabulary",
    "length_chunks",
    "load_babi",
    "load_ptb",
    "padding_fraction",
    "parse_babi",
    "ptb_files",
    "read_babi",
    "read_corpus",
    "read_lines",
    "streams",
    "task_files",
    "windows",
]
