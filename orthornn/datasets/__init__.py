"""Real data sets read from a folder the user names (numpy; nothing is copied or downloaded).

* :mod:`orthornn.datasets.files` — text files read alike plain or gzipped, :class:`DataError`;
* :mod:`orthornn.datasets.babi` — bAbI question answering: parser, vocabulary, the RUM
  paper's encoding, the 90 / 10 split (``docs/babi.md``);
* :mod:`orthornn.datasets.buckets` — length-bucketed batches, so padding stays small.
"""

from __future__ import annotations

from .babi import BabiTask, Question, Vocabulary, load_babi, parse_babi, read_babi, task_files
from .buckets import LengthBuckets, length_chunks, padding_fraction
from .files import DataError, read_lines

__all__ = [
    "BabiTask",
    "DataError",
    "LengthBuckets",
    "Question",
    "Vocabulary",
    "length_chunks",
    "load_babi",
    "padding_fraction",
    "parse_babi",
    "read_babi",
    "read_lines",
    "task_files",
]
