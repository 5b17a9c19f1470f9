r"""bAbI question answering (Weston et al. 2015, tasks_1-20_v1-2): the text format, a vocabulary,
the RUM paper's encoding and its 90 / 10 train / validation split.

**Format.** One numbered line per sentence; numbering restarts at 1 for a new story; a question
line is ``N question?<TAB>answer<TAB>supporting fact ids``::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? \tbathroom\t1
    1 Sandra travelled to the office.       ← a new story

A question sees every statement of its story before it (earlier questions are not part of the
story); the supporting ids name statements of that story.

**Layout.** ``DIR/babi/{en,en-10k}/qa{N}_{name}_{train,test}.txt`` (or ``.txt.gz``; ``DIR/{en,en-10k}/``,
the unpacked ``tasks_1-20_v1-2`` folder, is accepted too): ``en`` the 1k set, ``en-10k`` the
10k set. The folder is the user's (``--data DIR`` or ``ORTHORNN_DATA``); nothing is downloaded.

**Encoding** (RUM paper, appendix C). Tokens are words and punctuation marks, case kept. The
story's statements and the question are concatenated into one sequence of token ids

.. math:: x = (s_{1,1}, \dots, s_{1,n_1}, \dots, s_{m,n_m}, q_1, \dots, q_k), \qquad
          \hat y = \operatorname{softmax}(V h_{|x|} + c)

fed to the RNN one token per step; sequences of a batch are padded at the end with the blank
token (id 0) to a common length, and the answer (one token: ``apple,football`` of the lists
task is one answer) is predicted through a softmax over the vocabulary from the output
:math:`h_{|x|}` at the sequence's own last token, the end of the question — the paper's "answer
prediction at the end of the question". A causal RNN's :math:`h_{|x|}` does not depend on the
blanks after it, so the prediction of a question does not depend on the batch it is in (the
official code, ``babi_task.py`` of jingli9111/RUM-Tensorflow, pads the story at the start and
the question at the end and reads the output after the padding). The vocabulary is built from
the training file alone: id 0 is the blank, id 1 stands for a token the training file does not
hold (a test answer never seen in training is thus scored wrong in practice), then the
training file's tokens and answers, sorted.

**Split.** The training file's questions are split 90 / 10 into training and validation by a
permutation drawn from the seed (:func:`split_train_valid`); the test file is the test set.
``split="question"`` (the default, the paper's split of the training file) permutes the
questions, so a validation question usually shares its story with training questions (the
questions of a story see the same statements: in task 3's 1k file 200 stories hold the 1,000
questions, five each); ``split="story"`` permutes the stories and holds out whole ones (about
10 % of the questions), so that no validation question's story is seen in training.

References
----------
J. Weston, A. Bordes, S. Chopra, A. M. Rush, B. van Merriënboer, A. Joulin, T. Mikolov,
"Towards AI-complete question answering: a set of prerequisite toy tasks", ICLR 2016.
R. Dangovski, L. Jing, M. Soljačić, "Rotational Unit of Memory", 2017, §4.3 and appendix C.

Examples
--------
>>> qs = parse_babi(["1 Mary moved to the bathroom.", "2 Where is Mary?\tbathroom\t1"])
>>> vocab = Vocabulary.from_questions(qs)
>>> [vocab.tokens[i] for i in vocab.encode(qs[0].tokens)]
['Mary', 'moved', 'to', 'the', 'bathroom', '.', 'Where', 'is', 'Mary', '?']
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import DataError, read_lines

__all__ = [
    "BLANK",
    "SETS",
    "SPLITS",
    "TASKS",
    "UNKNOWN",
    "BabiTask",
    "Encoded",
    "Question",
    "Vocabulary",
    "find_set_folder",
    "load_babi",
    "parse_babi",
    "read_babi",
    "split_train_valid",
    "task_files",
    "tokenize",
]

#: Task number -> its name in the file names of tasks_1-20_v1-2.
TASKS = {
    1: "single-supporting-fact",
    2: "two-supporting-facts",
    3: "three-supporting-facts",
    4: "two-arg-relations",
    5: "three-arg-relations",
    6: "yes-no-questions",
    7: "counting",
    8: "lists-sets",
    9: "simple-negation",
    10: "indefinite-knowledge",
    11: "basic-coreference",
    12: "conjunction",
    13: "compound-coreference",
    14: "time-reasoning",
    15: "basic-deduction",
    16: "basic-induction",
    17: "positional-reasoning",
    18: "size-reasoning",
    19: "path-finding",
    20: "agents-motivations",
}
#: The sets of tasks_1-20_v1-2 read here: 1,000 and 10,000 training questions per task.
SETS = ("en", "en-10k")
#: How the training file is split into training and validation parts: by question (the paper's) or by story.
SPLITS = ("question", "story")
#: The padding token (id 0) and the stand-in for a token the training file lacks (id 1).
BLANK, UNKNOWN = "<blank>", "<unk>"

LAYOUT = "DIR/babi/{en,en-10k}/qa{N}_{name}_{train,test}.txt (or .txt.gz)"

_TOKEN = re.compile(r"\w+|[^\w\s]")
_LINE = re.compile(r"(\d+) (.*)")


def tokenize(text: str) -> tuple[str, ...]:
    """Words and punctuation marks of ``text``, case kept.

    >>> tokenize("Where is the apple? ")
    ('Where', 'is', 'the', 'apple', '?')
    """
    return tuple(_TOKEN.findall(text))


@dataclass(frozen=True)
class Question:
    """One question of a bAbI file with the statements of its story before it."""

    story: tuple[tuple[str, ...], ...]  # the story's statements so far, tokenised
    question: tuple[str, ...]  # the question, tokenised
    answer: str  # the answer, one token (``apple,football`` for a list)
    supporting: tuple[int, ...]  # line numbers of the supporting statements
    line: int  # line of the file the question is on (1-based)
    story_index: int  # which story of its file the question belongs to (0-based, in file order)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Story and question concatenated: the sequence the network reads."""
        return tuple(t for s in self.story for t in s) + self.question


def parse_babi(lines: Iterable[str], source: str = "<lines>") -> list[Question]:
    r"""The questions of bAbI-format ``lines``, each with the statements of its story before it.

    Raises :class:`DataError` naming ``source`` and the line when a line is not ``N text`` or
    ``N question<TAB>answer<TAB>ids``, when numbering neither continues (``N`` = previous + 1)
    nor restarts a story at 1, or when a supporting id is not an earlier statement of the story.
    Empty lines are skipped.

    >>> qs = parse_babi(["1 A b.", "2 B?\tx\t1", "3 C c.", "4 D?\ty\t3 1", "1 E e.", "2 F?\tz\t1"])
    >>> [(len(q.story), q.answer, q.supporting, q.story_index) for q in qs]
    [(1, 'x', (1,), 0), (2, 'y', (3, 1), 0), (1, 'z', (1,), 1)]
    """
    questions: list[Question] = []
    stories = 0
    story: list[tuple[str, ...]] = []
    statements: set[int] = set()
    previous = 0
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        where = f"{source}: line {number}"
        m = _LINE.fullmatch(line.lstrip())
        if m is None:
            raise DataError(f"{where}: expected 'N sentence' or 'N question<TAB>answer<TAB>ids', got {line[:60]!r}")
        n, text = int(m.group(1)), m.group(2)
        if n == 1:
            story, statements = [], set()
            stories += 1
        elif n != previous + 1:
            raise DataError(
                f"{where}: line number {n} follows {previous} (a story continues with {previous + 1} or restarts at 1)"
            )
        previous = n
        fields = text.split("\t")
        if len(fields) == 1:
            story.append(tokenize(text))
            statements.add(n)
            continue
        if len(fields) != 3:
            raise DataError(
                f"{where}: a question line has 3 tab-separated fields (question, answer, ids), got {len(fields)}"
            )
        q, answer, ids = (f.strip() for f in fields)
        if not q or not answer or " " in answer:
            raise DataError(f"{where}: a question needs a question and a one-token answer, got {q!r} and {answer!r}")
        try:
            supporting = tuple(int(i) for i in ids.split())
        except ValueError:
            raise DataError(f"{where}: supporting fact ids must be integers, got {ids!r}") from None
        bad = [i for i in supporting if i not in statements]
        if bad:
            raise DataError(f"{where}: supporting id {bad[0]} is not an earlier statement of this story")
        questions.append(Question(tuple(story), tokenize(q), answer, supporting, number, stories - 1))
    return questions


def read_babi(path: str | os.PathLike[str]) -> list[Question]:
    """The questions of the bAbI file ``path`` (``.txt`` or ``.txt.gz``); :class:`DataError`
    naming the file when it is missing, unreadable, malformed or holds no question."""
    questions = parse_babi(read_lines(path), str(path))
    if not questions:
        raise DataError(f"{path}: holds no question (expected bAbI lines 'N question?<TAB>answer<TAB>ids')")
    return questions


def find_set_folder(root: str | os.PathLike[str], babi_set: str) -> Path:
    """The folder of set ``babi_set`` under the data folder ``root``: ``root/babi/<set>`` or
    ``root/<set>``; :class:`DataError` stating the expected layout when neither exists."""
    if babi_set not in SETS:
        raise DataError(f"unknown bAbI set {babi_set!r}; choose one of {', '.join(SETS)}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected {LAYOUT.replace('DIR', str(root))})")
    for folder in (root / "babi" / babi_set, root / babi_set):
        if folder.is_dir():
            return folder
    raise DataError(f"{root}: no folder babi/{babi_set} (expected {LAYOUT.replace('DIR', str(root))})")


def task_files(root: str | os.PathLike[str], task: int, babi_set: str = "en") -> tuple[Path, Path]:
    """The training and test files of task ``task`` (1..20) of set ``babi_set`` under ``root``.

    Each is ``qa{task}_{name}_{split}.txt`` or ``.txt.gz``; a missing one is a
    :class:`DataError` naming it and the layout (en-10k as shipped with this project lacks task
    3's training file: the message says so and names the way out).
    """
    if task not in TASKS:
        raise DataError(f"unknown bAbI task {task!r}; tasks are 1 to 20")
    folder = find_set_folder(root, babi_set)
    found = []
    for split in ("train", "test"):
        stem = f"qa{task}_{TASKS[task]}_{split}.txt"
        candidates = [folder / stem, folder / f"{stem}.gz"]
        present = [c for c in candidates if c.is_file()]
        if not present:
            hint = ""
            if babi_set == "en-10k" and task == 3 and split == "train":
                hint = "; en-10k as distributed here has no task-3 training file: train task 3 on the 1k set (en)"
            raise DataError(f"{candidates[0]}: no such file (nor {stem}.gz); expected {LAYOUT}{hint}")
        found.append(present[0])
    return found[0], found[1]


class Vocabulary:
    """Token ↔ id: 0 the blank, 1 the unknown token, then ``tokens`` (sorted, no repeats).

    >>> v = Vocabulary(["b", "a", "b"])
    >>> v.tokens, v.id("a"), v.id("zebra"), len(v)
    (('<blank>', '<unk>', 'a', 'b'), 2, 1, 4)
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        words = sorted(set(tokens) - {BLANK, UNKNOWN})
        self.tokens: tuple[str, ...] = (BLANK, UNKNOWN, *words)
        self._ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_questions(cls, questions: Iterable[Question]) -> Vocabulary:
        """Every token of the stories, questions and answers of ``questions``."""
        words: set[str] = set()
        for q in questions:
            words.update(q.tokens)
            words.add(q.answer)
        return cls(words)

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        """The id of ``token`` (1, the unknown token, when absent)."""
        return self._ids.get(token, 1)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` as an int64 array."""
        return np.fromiter((self.id(t) for t in tokens), dtype=np.int64)


class Encoded:
    """Questions as id sequences (story then question) and answer ids, padded by :meth:`pad`."""

    def __init__(self, questions: Sequence[Question], vocab: Vocabulary) -> None:
        self.sequences = [vocab.encode(q.tokens) for q in questions]
        self.answers = np.fromiter((vocab.id(q.answer) for q in questions), dtype=np.int64, count=len(questions))
        self.lengths = np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(questions))

    def __len__(self) -> int:
        return len(self.sequences)

    def pad(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, last)`` of the questions ``indices``: ids (b, L) padded at the end with the
        blank (0) to the longest, answer ids (b,), and each sequence's last position (b,).

        >>> e = Encoded(parse_babi(["1 A b.", "2 B?\\tb\\t1", "3 C c c.", "4 C?\\tc\\t3"]), Vocabulary("ABCbc.?"))
        >>> x, y, last = e.pad([0, 1])
        >>> x.shape, last.tolist(), bool((x[0, last[0] + 1 :] == 0).all()), bool((x[1] != 0).all())
        ((2, 9), [4, 8], True, True)
        """
        idx = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths[idx]
        x = np.zeros((len(idx), int(lengths.max(initial=1))), dtype=np.int64)
        for row, i in enumerate(idx):
            x[row, : lengths[row]] = self.sequences[i]
        return x, self.answers[idx], lengths - 1


def split_train_valid(
    n: int, seed: Sequence[int], valid_fraction: float = 0.1, groups: Sequence[int] | np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Indices of a training and a validation part of ``n`` questions: a permutation drawn from
    ``default_rng(seed)``, its first :math:`n_v = \operatorname{round}(f n)` (at least 1, at most
    :math:`n - 1`) the validation part; each part sorted.

    With ``groups`` (one group id per question, e.g. :attr:`Question.story_index`) the
    permutation is of the :math:`G` distinct groups, the first :math:`\operatorname{round}(f G)`
    of them (at least 1, at most :math:`G - 1`) are held out whole, and the validation part is
    every question of theirs: no group has questions in both parts.

    >>> train, valid = split_train_valid(1000, (0, 5))
    >>> len(train), len(valid), len(set(train) | set(valid))
    (900, 100, 1000)
    >>> train, valid = split_train_valid(6, (0, 5), 0.5, groups=[0, 0, 1, 1, 2, 2])
    >>> len(valid) in (2, 4), set(train).isdisjoint(valid), sorted([*train, *valid]) == list(range(6))
    (True, True, True)
    """
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    ids = np.arange(n) if groups is None else np.asarray(groups)  # by question: each its own group
    if ids.shape != (n,):
        raise ValueError(f"groups: expected one group id per question, shape ({n},), got {ids.shape}")
    distinct = np.unique(ids)
    if len(distinct) < 2:
        what = "needs at least 2 questions" if groups is None else "by story needs at least 2 stories"
        raise DataError(f"a train/validation split {what}, got {len(distinct)}")
    g_valid = min(max(1, round(valid_fraction * len(distinct))), len(distinct) - 1)
    held = np.isin(ids, np.random.default_rng([int(s) for s in seed]).permutation(distinct)[:g_valid])
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclass(frozen=True)
class BabiTask:
    """One bAbI task of one set, read, encoded and split (:func:`load_babi`)."""

    task: int  # task number 1..20
    babi_set: str  # en | en-10k
    split: str  # question | story: how the training file was split (:data:`SPLITS`)
    train_file: Path  # the training file read (training and validation parts)
    test_file: Path  # the test file read
    vocab: Vocabulary  # built from the training file
    train: Encoded  # the training part (90 % of the training file)
    valid: Encoded  # the validation part (10 %)
    test: Encoded  # the test file

    @property
    def vocab_size(self) -> int:
        """Input (one-hot) size: every token id."""
        return len(self.vocab)

    @property
    def n_classes(self) -> int:
        """Output size: the softmax is over the whole vocabulary (as the official code)."""
        return len(self.vocab)

    @property
    def baseline(self) -> float:
        r"""Cross-entropy (nats) of the memoryless predictor, the training part's answer
        frequencies :math:`p_a`: their entropy :math:`-\sum_a p_a \ln p_a`."""
        counts = np.bincount(self.train.answers).astype(float)
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())

    @property
    def baseline_accuracy(self) -> float:
        """Accuracy of always answering the training part's most frequent answer."""
        return float(Counter(self.train.answers.tolist()).most_common(1)[0][1] / len(self.train))

    def describe(self) -> dict[str, object]:
        """Counts and lengths of the three parts, as plain data (for a summary)."""
        parts = {"train": self.train, "valid": self.valid, "test": self.test}
        return {
            "task": self.task,
            "name": TASKS[self.task],
            "babi_set": self.babi_set,
            "split": self.split,
            "train_file": str(self.train_file),
            "test_file": str(self.test_file),
            "vocab_size": self.vocab_size,
            "questions": {k: len(v) for k, v in parts.items()},
            "max_length": {k: int(v.lengths.max()) for k, v in parts.items()},
            "mean_length": {k: round(float(v.lengths.mean()), 2) for k, v in parts.items()},
        }


def load_babi(
    root: str | os.PathLike[str], task: int, babi_set: str = "en", seed: Sequence[int] = (0,), split: str = "question"
) -> BabiTask:
    """Read task ``task`` of set ``babi_set`` under the data folder ``root``, build the
    vocabulary from its training file, encode it and split the training file 90 / 10 with a
    permutation from ``default_rng(seed)``: of its questions (``split="question"``, the
    paper's) or of its stories (``split="story"``, whole stories held out).

    Raises :class:`DataError` naming the file (or folder) and the expected layout when one is
    missing or malformed.
    """
    if split not in SPLITS:
        raise DataError(f"unknown bAbI split {split!r}; choose one of {', '.join(SPLITS)}")
    train_file, test_file = task_files(root, task, babi_set)
    train_qs = read_babi(train_file)
    test_qs = read_babi(test_file)
    vocab = Vocabulary.from_questions(train_qs)
    groups = [q.story_index for q in train_qs] if split == "story" else None
    train_idx, valid_idx = split_train_valid(len(train_qs), seed, groups=groups)
    return BabiTask(
        task=task,
        babi_set=babi_set,
        split=split,
        train_file=train_file,
        test_file=test_file,
        vocab=vocab,
        train=Encoded([train_qs[i] for i in train_idx], vocab),
        valid=Encoded([train_qs[i] for i in valid_idx], vocab),
        test=Encoded(test_qs, vocab),
    )
