r"""Task batches as torch tensors, each a pure function of ``(seed, split, index)``.

Batch ``k`` of the training stream is drawn from ``numpy.random.default_rng([seed, 0, k])``
and held-out batch ``i`` from ``default_rng([seed, 1, i])``, so a run resumed at step ``k``
sees exactly the batches an uninterrupted run would, and evaluation data never overlap
training data (different streams of the same seed sequence).

With ``train_size`` the training batches come instead from a fixed set of that many sequences
(:class:`orthornn.tasks.FixedSet` with entropy ``(seed, 2)``), cycled in epochs whose order is a
function of ``(seed, epoch)``; with ``valid_size`` the held-out evaluation runs on a fixed
validation set (entropy ``(seed, 3)``), and ``test_size`` adds a test set (``(seed, 4)``)
evaluated at the end. Each is drawn once, when the stream is built.

Token inputs (copy, variable copy, recall) are one-hot encoded, as in both papers; the adding
task's ``(value, marker)`` pairs are fed as they are.

bAbI (:class:`BabiStream`) is read from the config's data folder: the training file split
90 / 10 by a permutation from ``(seed, 5)`` (:func:`orthornn.datasets.babi.split_train_valid`) of its
questions or, with ``babi_split`` "story", of its stories,
training batch ``k`` the ``k``-th of the length-bucketed epochs of ``(seed, 6)``
(:class:`orthornn.datasets.LengthBuckets`), validation and test sets evaluated whole, sorted by
length in chunks of at most :data:`EVAL_TOKENS` padded steps. Tokens are one-hot encoded as on
the other token tasks: the input kernel's column of a token is its learnt embedding, so the
network reads "words embedded into dense vectors" (RUM, appendix C). A batch carries each
sequence's last position (``Batch.last``): the answer is read from the output there.

Character-level PTB (:class:`CharStream`) is read from the config's data folder
(:func:`orthornn.datasets.load_ptb`): each split cut into ``batch`` contiguous streams
(:func:`orthornn.datasets.ptb.streams`), training batch ``k`` window ``k mod W`` of the training
streams (``W`` windows of ``bptt`` characters per epoch, :func:`orthornn.datasets.ptb.windows`), in
order: the trainer carries the recurrent state from one window to the next and starts it afresh
at each epoch. Inputs are character ids (the language model embeds them), targets the next ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..tasks import FixedSet
from .config import TrainConfig
from .registry import build_task

__all__ = [
    "BABI_ENTROPY",
    "EVAL_CHUNK",
    "EVAL_TOKENS",
    "FIXED_SET_ENTROPY",
    "BabiStream",
    "Batch",
    "CharStream",
    "TaskStream",
    "stream",
]

_SPLITS = {"train": 0, "eval": 1}
#: Second entropy word of the fixed sets (after the seed): training, validation, test.
FIXED_SET_ENTROPY = {"train": 2, "valid": 3, "test": 4}
#: Sequences per forward pass when a fixed validation or test set is evaluated.
EVAL_CHUNK = 1000
#: Second entropy word of bAbI's train/validation split and of its bucketed training epochs.
BABI_ENTROPY = {"split": 5, "epochs": 6}
#: Padded steps (sequences × longest length) per forward pass when a bAbI set is evaluated.
EVAL_TOKENS = 65_536


@dataclass(frozen=True)
class Batch:
    """Inputs ``x`` (B, L, input_size) and targets ``y``: class ids (B, L) for copy tasks,
    (B,) for recall and bAbI, values (B,) for adding; ``last`` (B,): bAbI only, the position of
    each sequence's last token (the rest is padding)."""

    x: Tensor
    y: Tensor
    last: Tensor | None = None


class TaskStream:
    """Seeded, resumable stream of batches of ``config.task`` on ``device``.

    Examples
    --------
    >>> s = TaskStream(TrainConfig(task="copy", T=5, S=3, K=4, batch=2), device="cpu", dtype=torch.float64)
    >>> b = s.batch(7)
    >>> tuple(b.x.shape), tuple(b.y.shape), s.input_size, s.output_size
    ((2, 11, 6), (2, 11), 6, 5)
    >>> bool(torch.equal(b.x, s.batch(7).x)) and not torch.equal(b.x, s.batch(7, "eval").x)
    True
    """

    def __init__(
        self, config: TrainConfig, *, device: torch.device | str, dtype: torch.dtype, share: slice | None = None
    ) -> None:
        self.config, self.device, self.dtype = config, torch.device(device), dtype
        #: The rows of each training batch this stream hands out (a data-parallel rank's share,
        #: :meth:`orthornn.train.distributed.World.share`); all of them by default.
        self.share = slice(None) if share is None else share
        self.task: Any = build_task(config)
        self.tokens = config.task != "adding"
        self.input_size = int(self.task.vocab_size) if self.tokens else 2
        self.output_size = int(self.task.n_classes) if self.tokens else 1
        seed = config.seed
        self.train_set = self.valid_set = self.test_set = None
        if config.train_size is not None:
            shuffle = config.train_order == "shuffle"
            entropy = (seed, FIXED_SET_ENTROPY["train"])
            self.train_set = FixedSet(self.task, config.train_size, entropy, shuffle=shuffle)
        if config.valid_size is not None:
            self.valid_set = FixedSet(self.task, config.valid_size, (seed, FIXED_SET_ENTROPY["valid"]))
        if config.test_size is not None:
            self.test_set = FixedSet(self.task, config.test_size, (seed, FIXED_SET_ENTROPY["test"]))

    @property
    def baseline(self) -> float:
        """The task's memoryless baseline loss (cross-entropy in nats, or MSE for adding)."""
        return float(self.task.baseline)

    @property
    def baseline_accuracy(self) -> float | None:
        """Accuracy of the memoryless predictor: 1/K on copy recall positions, 1/10 on recall."""
        if self.config.task in ("copy", "varcopy"):
            return 1.0 / self.config.K
        if self.config.task == "recall":
            return float(self.task.baseline_accuracy)
        return None

    def batch(self, index: int, split: str = "train") -> Batch:
        """Batch ``index`` of the ``train`` or ``eval`` stream (``train``: of the fixed training
        set when there is one, cycled in epochs; its rows :attr:`share` of the global batch)."""
        if split == "train" and self.train_set is not None:
            x, y = self.train_set.batch(index, self.config.batch)
        else:
            rng = np.random.default_rng([self.config.seed, _SPLITS[split], int(index)])
            x, y = self.task.sample(self.config.batch, rng)
        if split == "train":
            x, y = x[self.share], y[self.share]
        return self.encode(x, y)

    def held_out(self, split: str = "valid") -> Iterator[Batch]:
        """The held-out batches of one evaluation: the whole ``valid`` (or ``test``) set in
        chunks of :data:`EVAL_CHUNK`, or without a validation set the ``eval_batches`` batches
        of the held-out stream."""
        fixed = self.test_set if split == "test" else self.valid_set
        if fixed is None and split == "test":
            raise ValueError("this stream has no test set (test_size is None)")
        if fixed is None:
            for i in range(self.config.eval_batches):
                yield self.batch(i, "eval")
            return
        for x, y in fixed.chunks(EVAL_CHUNK):
            yield self.encode(x, y)

    def encode(self, x: np.ndarray, y: np.ndarray) -> Batch:
        """Task arrays as a :class:`Batch` on the stream's device (token ids one-hot)."""
        if self.tokens:
            xt = torch.nn.functional.one_hot(torch.as_tensor(x), self.input_size)
            yt = torch.as_tensor(y, dtype=torch.int64)
        else:
            xt = torch.as_tensor(x)
            yt = torch.as_tensor(y)
        return Batch(
            xt.to(device=self.device, dtype=self.dtype),
            yt.to(device=self.device, dtype=torch.int64 if self.tokens else self.dtype),
        )


class BabiStream:
    """Seeded, resumable batches of one bAbI task (``config.task == "babi"``) on ``device``.

    The same interface as :class:`TaskStream`: ``batch(k)`` is training batch ``k`` (a function
    of ``(seed, k)``), ``held_out("valid" | "test")`` the whole validation or test set.
    """

    def __init__(self, config: TrainConfig, *, device: torch.device | str, dtype: torch.dtype) -> None:
        from ..datasets import LengthBuckets

        self.config, self.device, self.dtype = config, torch.device(device), dtype
        self.task: Any = build_task(config)
        self.tokens = True
        self.input_size = int(self.task.vocab_size)
        self.output_size = int(self.task.n_classes)
        self.train_set, self.valid_set, self.test_set = self.task.train, self.task.valid, self.task.test
        seed = (config.seed, BABI_ENTROPY["epochs"])
        self.buckets = LengthBuckets(self.train_set.lengths, config.batch, seed)

    @property
    def baseline(self) -> float:
        """Cross-entropy of the training part's answer frequencies (the memoryless predictor)."""
        return float(self.task.baseline)

    @property
    def baseline_accuracy(self) -> float:
        """Accuracy of always giving the training part's most frequent answer."""
        return float(self.task.baseline_accuracy)

    def batch(self, index: int, split: str = "train") -> Batch:
        """Training batch ``index`` (``split`` must be ``train``: bAbI has no held-out stream)."""
        if split != "train":
            raise ValueError("bAbI has no held-out stream: evaluate with held_out('valid' | 'test')")
        return self.encode(*self.train_set.pad(self.buckets.indices(int(index))))

    def held_out(self, split: str = "valid") -> Iterator[Batch]:
        """The whole validation (or test) set, sorted by length, in chunks of at most
        :data:`EVAL_CHUNK` sequences and :data:`EVAL_TOKENS` padded steps."""
        from ..datasets import length_chunks

        part = self.test_set if split == "test" else self.valid_set
        for idx in length_chunks(part.lengths, EVAL_TOKENS, EVAL_CHUNK):
            yield self.encode(*part.pad(idx))

    def epochs(self, steps: int) -> float:
        """Epochs of the training part completed after ``steps`` batches."""
        return self.buckets.epochs_done(steps)

    def encode(self, x: np.ndarray, y: np.ndarray, last: np.ndarray) -> Batch:
        """Padded ids, answers and last positions as a :class:`Batch` (ids one-hot)."""
        xt = torch.nn.functional.one_hot(torch.as_tensor(x), self.input_size)
        return Batch(
            xt.to(device=self.device, dtype=self.dtype),
            torch.as_tensor(y, dtype=torch.int64).to(self.device),
            torch.as_tensor(last, dtype=torch.int64).to(self.device),
        )


class CharStream:
    """Truncated-BPTT windows of a character corpus (``config.task == "ptb"``) on ``device``.

    ``batch(k)`` is window ``k mod W`` of the training streams (:attr:`windows_per_epoch` ``W``),
    ids (B, T_w) and next ids (B, T_w); :meth:`starts_epoch` says where the carried state starts
    afresh; ``held_out("valid" | "test")`` the windows of that split's streams, in order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for s in ("train", "valid", "test"):
    ...     _ = (d / f"ptb.{s}.txt").write_bytes(b" the cat sat on the mat \\n" * 4)
    >>> cs = CharStream(TrainConfig(task="ptb", model="lstm", data=str(d), batch=2, bptt=5), device="cpu")
    >>> cs.windows_per_epoch, tuple(cs.batch(0).x.shape), cs.starts_epoch(cs.windows_per_epoch)
    (10, (2, 5), True)
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        device: torch.device | str,
        dtype: torch.dtype | None = None,
        share: slice | None = None,
    ) -> None:
        from ..datasets import DataError
        from ..datasets.ptb import streams

        self.config, self.device, self.dtype = config, torch.device(device), dtype
        #: The training streams (rows of each window) this stream hands out: a data-parallel
        #: rank's share (:meth:`orthornn.train.distributed.World.share`); all of them by default.
        self.share = slice(None) if share is None else share
        self.task: Any = build_task(config)
        self.tokens = True
        self.input_size = self.output_size = int(self.task.vocab_size)
        self.bptt = int(config.bptt)
        self.streams: dict[str, np.ndarray] = {}
        for split, path in zip(("train", "valid", "test"), self.task.files, strict=True):
            try:
                self.streams[split] = streams(self.task.split(split), config.batch)
            except DataError as exc:
                raise DataError(f"{path}: {exc} (lower --batch)") from None
        self._train = [self._batch(x[self.share], y[self.share]) for x, y in self._windows("train")]
        self.windows_per_epoch = len(self._train)
        #: Predictions scored per evaluation of each held-out split (B · (n − 1)).
        self.characters = {s: int(S.shape[0] * (S.shape[1] - 1)) for s, S in self.streams.items()}
        self.valid_set, self.test_set = self.streams["valid"], self.streams["test"]

    def _windows(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        from ..datasets.ptb import windows

        return windows(self.streams[split], self.bptt)

    def _batch(self, x: np.ndarray, y: np.ndarray) -> Batch:
        return Batch(torch.as_tensor(x).to(self.device), torch.as_tensor(y).to(self.device))

    @property
    def baseline(self) -> float:
        """Cross-entropy (nats) of the training split's character frequencies (memoryless)."""
        return float(self.task.unigram_entropy)

    @property
    def baseline_accuracy(self) -> float:
        """Accuracy of always predicting the training split's most frequent character."""
        return float(self.task.unigram_accuracy)

    def batch(self, index: int, split: str = "train") -> Batch:
        """Training window ``index mod W`` (``split`` must be ``train``)."""
        if split != "train":
            raise ValueError("ptb has no held-out stream: evaluate with held_out('valid' | 'test')")
        return self._train[int(index) % self.windows_per_epoch]

    def starts_epoch(self, index: int) -> bool:
        """Whether training batch ``index`` is the first window of an epoch (the state restarts)."""
        return int(index) % self.windows_per_epoch == 0

    def held_out(self, split: str = "valid") -> Iterator[Batch]:
        """The windows of the validation (or test) streams, in order (carry the state through)."""
        for x, y in self._windows("test" if split == "test" else "valid"):
            yield self._batch(x, y)

    def epochs(self, steps: int) -> float:
        """Epochs of the training split completed after ``steps`` windows."""
        return steps / self.windows_per_epoch


def stream(
    config: TrainConfig, *, device: torch.device | str, dtype: torch.dtype, share: slice | None = None
) -> TaskStream | BabiStream | CharStream:
    """The batch stream of ``config``'s task: :class:`BabiStream` for bAbI, :class:`CharStream`
    for ptb, else :class:`TaskStream` (whose training batches, and ptb's, are rows ``share`` of
    the global batch, all of them by default; bAbI's batches are handed out whole)."""
    if config.task == "babi":
        if share is not None and share != slice(None):
            raise ValueError(f"task babi: its stream hands out whole batches only (no share {share})")
        return BabiStream(config, device=device, dtype=dtype)
    cls = CharStream if config.task == "ptb" else TaskStream
    return cls(config, device=device, dtype=dtype, share=share)
