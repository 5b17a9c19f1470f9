"""orthornn.datasets.ptb: bytes read alike plain or gzipped, the byte vocabulary, the files'
layout, and the contiguous streams and windows of truncated BPTT against a slow construction.

Fixtures are written by the tests themselves; the last tests read the real ``../shared/data/ptb``
and skip where it is absent.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orthornn.datasets import ByteVocabulary, DataError, load_ptb, ptb_files, read_corpus, streams, windows
from orthornn.datasets.files import read_bytes
from orthornn.datasets.ptb import window_count

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

TRAIN = b" the cat sat on the mat \n a dog ran <unk> far \n"
VALID = b" the dog sat \n"
TEST = b" a cat ran far \n"


def _write(folder: Path, *, gz: tuple[str, ...] = (), **texts: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        data = texts.get(split, {"train": TRAIN, "valid": VALID, "test": TEST}[split])
        path = folder / f"ptb.{split}.txt"
        if split in gz:
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(data))
        else:
            path.write_bytes(data)
    return folder


# -- files ------------------------------------------------------------------------------------


def test_plain_and_gzipped_files_read_alike(tmp_path):
    plain = _write(tmp_path / "a")
    zipped = _write(tmp_path / "b", gz=("train", "valid", "test"))
    assert read_bytes(plain / "ptb.train.txt") == read_bytes(zipped / "ptb.train.txt.gz") == TRAIN
    a, b = read_corpus(*ptb_files(plain)), read_corpus(*ptb_files(zipped))
    assert a.vocab == b.vocab and all(np.array_equal(a.split(s), b.split(s)) for s in ("train", "valid", "test"))
    assert b.files[0].endswith("ptb.train.txt.gz")


def test_unreadable_files_are_named(tmp_path):
    with pytest.raises(DataError, match=rf"^{tmp_path / 'none.txt'}: no such file$"):
        read_bytes(tmp_path / "none.txt")
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_bytes(tmp_path)
    with pytest.raises(DataError, match=r"^/dev/zero: not a regular file"):  # read to the end, it takes all memory
        read_bytes("/dev/zero")
    os.mkfifo(tmp_path / "fifo.txt")  # opened for reading, it would block until a writer came
    with pytest.raises(DataError, match=r"fifo\.txt: not a regular file"):
        read_bytes(tmp_path / "fifo.txt")
    (tmp_path / "bad.txt.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=rf"^{tmp_path / 'bad.txt.gz'}: not a valid gzip file"):
        read_bytes(tmp_path / "bad.txt.gz")


def test_the_layout_is_found_under_ptb_or_directly(tmp_path):
    _write(tmp_path / "root" / "ptb", gz=("test",))
    files = ptb_files(tmp_path / "root")
    assert [f.name for f in files] == ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt.gz"]
    assert ptb_files(tmp_path / "root" / "ptb") == files


def test_a_missing_folder_or_file_names_it_and_the_layout(tmp_path):
    with pytest.raises(DataError, match=rf"^{tmp_path / 'absent'}: not a folder \(expected .*ptb/ptb"):
        ptb_files(tmp_path / "absent")
    folder = _write(tmp_path / "d" / "ptb")
    (folder / "ptb.valid.txt").unlink()
    with pytest.raises(
        DataError, match=rf"^{folder / 'ptb.valid.txt'}: no such file \(nor ptb.valid.txt.gz\); expected"
    ):
        load_ptb(tmp_path / "d")


def test_an_empty_split_is_refused(tmp_path):
    folder = _write(tmp_path, test=b"")
    with pytest.raises(DataError, match=rf"^{folder / 'ptb.test.txt'}: is empty"):
        load_ptb(folder)


# -- the vocabulary ---------------------------------------------------------------------------


def test_the_vocabulary_is_the_training_split_s_bytes_sorted(tmp_path):
    corpus = load_ptb(_write(tmp_path))
    assert corpus.vocab.symbols == bytes(sorted(set(TRAIN)))
    assert corpus.vocab_size == len(set(TRAIN))
    for split, text in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        ids = corpus.split(split)
        assert ids.dtype == np.int64 and len(ids) == len(text)
        assert [corpus.vocab.symbols[i] for i in ids] == list(text)  # id i is the i-th smallest byte


def test_a_byte_the_training_split_lacks_is_named_with_file_line_and_offset(tmp_path):
    folder = _write(tmp_path, valid=b" the dog \n sat ~ \n")
    with pytest.raises(DataError) as info:
        load_ptb(folder)
    msg = str(info.value)
    assert msg.startswith(f"{folder / 'ptb.valid.txt'}: line 2: byte 0x7e ('~') at offset 15 ")
    assert f"vocabulary of {len(set(TRAIN))} bytes" in msg and len(msg.splitlines()) == 1


def test_any_text_file_is_a_corpus(tmp_path):
    text = "naïve café\n".encode()  # bytes beyond ASCII are symbols like any other
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_bytes(text)
    corpus = read_corpus(tmp_path / "a.md", tmp_path / "b.md", tmp_path / "c.md")
    assert corpus.vocab_size == len(set(text)) and corpus.vocab.decode(corpus.test) == text


@given(st.binary(min_size=1, max_size=200))
def test_encode_decode_round_trip(data):
    vocab = ByteVocabulary.from_bytes(data)
    ids = vocab.encode(data)
    assert vocab.decode(ids) == data
    assert ids.min() >= 0 and ids.max() < len(vocab) == len(set(data))
    assert np.all(np.diff(np.frombuffer(vocab.symbols, dtype=np.uint8).astype(int)) > 0)


def test_unigram_baseline_is_the_entropy_of_the_training_characters(tmp_path):
    corpus = load_ptb(_write(tmp_path))
    counts = {b: TRAIN.count(bytes([b])) for b in set(TRAIN)}
    expected = -sum(c / len(TRAIN) * np.log(c / len(TRAIN)) for c in counts.values())
    assert corpus.unigram_entropy == pytest.approx(expected, rel=1e-12)
    assert corpus.unigram_accuracy == max(counts.values()) / len(TRAIN)


# -- streams and windows ----------------------------------------------------------------------


def _slow_windows(ids: list[int], B: int, T: int) -> list[tuple[list[list[int]], list[list[int]]]]:
    """The windows built character by character from the definition: stream b holds characters
    b·n … b·n + n − 1; window w, row b, column j holds character b·n + w·T + j and its target the
    next, for every j whose target is still in the stream."""
    n = len(ids) // B
    out = []
    w = 0
    while w * T < n - 1:
        cols = [j for j in range(T) if w * T + j + 1 < n]
        x = [[ids[b * n + w * T + j] for j in cols] for b in range(B)]
        y = [[ids[b * n + w * T + j + 1] for j in cols] for b in range(B)]
        out.append((x, y))
        w += 1
    return out


@given(st.integers(1, 6), st.integers(1, 9), st.integers(0, 60))
def test_streams_and_windows_match_the_slow_construction(B, T, extra):
    L = 2 * B + extra
    ids = np.random.default_rng([B, T, extra]).integers(0, 50, L)
    S = streams(ids, B)
    fast = [(x.tolist(), y.tolist()) for x, y in windows(S, T)]
    assert fast == _slow_windows(ids.tolist(), B, T)
    assert len(fast) == window_count(S.shape[1], T)
    # every prediction of every stream exactly once, in order: the windows concatenate to the streams
    xs = np.concatenate([np.asarray(x, dtype=np.int64).reshape(B, -1) for x, _ in fast], axis=1)
    ys = np.concatenate([np.asarray(y, dtype=np.int64).reshape(B, -1) for _, y in fast], axis=1)
    assert np.array_equal(xs, S[:, :-1]) and np.array_equal(ys, S[:, 1:])
    assert np.array_equal(S.reshape(-1), ids[: B * (L // B)])


def test_too_short_a_corpus_for_the_streams_is_refused():
    with pytest.raises(DataError, match="7 characters cannot make 4 streams of at least 2 characters each"):
        streams(np.arange(7), 4)
    with pytest.raises(ValueError, match="1-d"):
        streams(np.zeros((2, 4)), 1)


# -- the real data (../shared/data/ptb; skipped where absent) ---------------------------------

needs_shared = pytest.mark.skipif(not (SHARED / "ptb").is_dir(), reason="../shared/data/ptb is absent")


@needs_shared
def test_the_shared_ptb_has_the_paper_s_50_byte_vocabulary():
    corpus = load_ptb(SHARED)
    assert corpus.vocab_size == 50
    assert {s: len(corpus.split(s)) for s in ("train", "valid", "test")} == {
        "train": 5_101_618,
        "valid": 399_782,
        "test": 449_945,
    }
    raw = read_bytes(SHARED / "ptb" / "ptb.train.txt.gz")
    assert hashlib.md5(raw).hexdigest() == "f26c4b92c5fdc7b3f8c7cdcb991d8420"
    assert len(set(corpus.vocab.decode(corpus.valid))) == 50 and len(set(corpus.vocab.decode(corpus.test))) == 48
    assert 4.0 < corpus.unigram_entropy / np.log(2) < 4.5  # about 4.4 bits: far above any model's
