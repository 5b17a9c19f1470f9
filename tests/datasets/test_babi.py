"""orthornn.datasets.babi: the bAbI parser, files, vocabulary, encoding and split.

Fixtures are written by the tests themselves (small bAbI-format files, one of them gzipped);
the last tests read the real ``../shared/data/babi`` and skip where it is absent.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orthornn.datasets import DataError, load_babi, parse_babi, read_babi, read_lines, task_files
from orthornn.datasets.babi import BLANK, TASKS, UNKNOWN, Encoded, Vocabulary, split_train_valid, tokenize

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

#: Two stories; the second restarts the numbering at 1. 4 questions in all.
TRAIN = """\
1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel? \thallway\t4
1 Sandra travelled to the office.
2 Where is Sandra? \toffice\t1
3 Mary went to the garden.
4 Where is Mary? \tgarden\t3
"""
TEST = """\
1 John moved to the office.
2 Where is John? \toffice\t1
"""


def _write(folder: Path, task: int, train: str = TRAIN, test: str = TEST, *, gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split, text in (("train", train), ("test", test)):
        path = folder / f"qa{task}_{TASKS[task]}_{split}.txt"
        if gz:
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)


# -- the parser ---------------------------------------------------------------------------------


def test_questions_see_their_own_story_and_numbering_restarts_it():
    qs = parse_babi(TRAIN.splitlines(), "train.txt")
    assert [q.answer for q in qs] == ["bathroom", "hallway", "office", "garden"]
    assert [len(q.story) for q in qs] == [2, 3, 1, 2]  # statements only, never earlier questions
    assert qs[2].story == (tokenize("Sandra travelled to the office."),)  # line 1 again: a new story
    assert [q.supporting for q in qs] == [(1,), (4,), (1,), (3,)]
    assert [q.story_index for q in qs] == [0, 0, 1, 1]  # the story each question belongs to, in file order
    assert qs[1].question == ("Where", "is", "Daniel", "?") and qs[1].line == 5
    assert qs[3].tokens == (*tokenize("Sandra travelled to the office."), *tokenize("Mary went to the garden."),
                            "Where", "is", "Mary", "?")  # fmt: skip


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        (["1 A.", "3 B?\tx\t1"], "line 2: line number 3 follows 1"),
        (["2 A."], "line 1: line number 2 follows 0"),
        (["one A."], "line 1: expected 'N sentence'"),
        (["1 A.", "2 B?\tx"], "line 2: a question line has 3 tab-separated fields"),
        (["1 A.", "2 B?\t\t1"], "line 2: a question needs a question and a one-token answer"),
        (["1 A.", "2 B?\tx\tone"], "line 2: supporting fact ids must be integers"),
        (["1 A.", "2 B?\tx\t2"], "line 2: supporting id 2 is not an earlier statement"),
        (["1 A.", "2 B?\tx\t1", "1 C.", "2 D?\ty\t3"], "line 4: supporting id 3 is not an earlier statement"),
    ],
)
def test_a_malformed_line_is_named_with_its_file_and_line(lines, needle):
    with pytest.raises(DataError, match=rf"^bad\.txt: {needle}"):
        parse_babi(lines, "bad.txt")


words = st.text(st.sampled_from("abcdeXYZ"), min_size=1, max_size=5)


@st.composite
def stories(draw):
    """Random bAbI files: stories of statements and questions whose support is a statement."""
    lines, expected = [], []
    for _ in range(draw(st.integers(1, 4))):
        n, statements, story = 0, [], []
        for _ in range(draw(st.integers(1, 6))):
            n += 1
            if statements and draw(st.booleans()):
                q, a = draw(st.lists(words, min_size=1, max_size=3)), draw(words)
                ids = draw(st.lists(st.sampled_from(statements), min_size=1, max_size=2))
                lines.append(f"{n} {' '.join(q)}?\t{a}\t{' '.join(map(str, ids))}")
                expected.append((tuple(story), (*q, "?"), a, tuple(ids)))
            else:
                s = draw(st.lists(words, min_size=1, max_size=4))
                lines.append(f"{n} {' '.join(s)}.")
                statements.append(n)
                story.append((*s, "."))
    return lines, expected


@given(stories())
def test_parser_recovers_what_was_written(case):
    lines, expected = case
    got = [(q.story, q.question, q.answer, q.supporting) for q in parse_babi(lines)]
    assert got == expected


def test_txt_and_txt_gz_read_alike(tmp_path):
    _write(tmp_path / "plain" / "babi" / "en", 1)
    _write(tmp_path / "zipped" / "babi" / "en", 1, gz=True)
    (plain_train, _), (gz_train, _) = task_files(tmp_path / "plain", 1), task_files(tmp_path / "zipped", 1)
    assert gz_train.name.endswith(".txt.gz") and not plain_train.name.endswith(".gz")
    assert read_lines(plain_train) == read_lines(gz_train) == TRAIN.splitlines()
    assert read_babi(plain_train) == read_babi(gz_train)


def test_bad_files_are_named(tmp_path):
    (tmp_path / "broken.txt.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"broken\.txt\.gz: not a valid gzip file"):
        read_lines(tmp_path / "broken.txt.gz")
    (tmp_path / "latin.txt").write_bytes("1 A.\n2 Caf\xe9?\tx\t1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.txt: line 2: not UTF-8 text"):
        read_lines(tmp_path / "latin.txt")
    _write(tmp_path / "babi" / "en", 1, train=TRAIN.replace("5 Where is Daniel? ", "6 Where is Daniel? "))
    with pytest.raises(DataError, match=r"qa1_single-supporting-fact_train\.txt: line 5: line number 6 follows 4"):
        load_babi(tmp_path, 1)
    (tmp_path / "empty.txt").write_text("1 Only statements.\n")
    with pytest.raises(DataError, match=r"empty\.txt: holds no question"):
        read_babi(tmp_path / "empty.txt")


def test_a_missing_folder_or_file_names_it_and_the_layout(tmp_path):
    with pytest.raises(DataError, match=r"absent: not a folder \(expected .*absent/babi/\{en,en-10k\}/qa\{N\}"):
        task_files(tmp_path / "absent", 1)
    with pytest.raises(DataError, match=r": no folder babi/en \(expected "):
        task_files(tmp_path, 1)
    _write(tmp_path / "babi" / "en", 1)
    (tmp_path / "babi" / "en" / "qa1_single-supporting-fact_test.txt").unlink()
    with pytest.raises(DataError, match=r"qa1_single-supporting-fact_test\.txt: no such file \(nor .*\.gz\); expected"):
        task_files(tmp_path, 1)
    with pytest.raises(DataError, match=r"unknown bAbI task 21"):
        task_files(tmp_path, 21)
    with pytest.raises(DataError, match=r"unknown bAbI set 'fr'"):
        task_files(tmp_path, 1, "fr")


def test_en10k_without_task_3_training_says_how_to_go_on(tmp_path):
    _write(tmp_path / "babi" / "en-10k", 3)
    (tmp_path / "babi" / "en-10k" / "qa3_three-supporting-facts_train.txt").unlink()
    with pytest.raises(DataError, match=r"no task-3 training file: train task 3 on the 1k set \(en\)$"):
        task_files(tmp_path, 3, "en-10k")


def test_the_unpacked_archive_layout_is_accepted(tmp_path):
    _write(tmp_path / "tasks_1-20_v1-2" / "en-10k", 2)
    train, test = task_files(tmp_path / "tasks_1-20_v1-2", 2, "en-10k")
    assert train.parent == test.parent == tmp_path / "tasks_1-20_v1-2" / "en-10k"


# -- vocabulary, encoding, split ----------------------------------------------------------------


def test_vocabulary_comes_from_the_training_file_alone(tmp_path):
    _write(tmp_path / "babi" / "en", 1, test="1 Zed moved to the moon.\n2 Where is Zed? \tmoon\t1\n")
    task = load_babi(tmp_path, 1, seed=(0,))
    train_words = {t for q in parse_babi(TRAIN.splitlines()) for t in (*q.tokens, q.answer)}
    assert set(task.vocab.tokens) == train_words | {BLANK, UNKNOWN}
    assert task.vocab.tokens[:2] == (BLANK, UNKNOWN) and list(task.vocab.tokens[2:]) == sorted(train_words)
    (seq,) = task.test.sequences
    assert [task.vocab.tokens[i] for i in seq] == [UNKNOWN, "moved", "to", "the", UNKNOWN, ".", "Where", "is",
                                                   UNKNOWN, "?"]  # fmt: skip
    assert task.test.answers.tolist() == [1]  # an answer never seen in training: the unknown id


@given(st.lists(st.lists(st.sampled_from("abcd"), min_size=1, max_size=9), min_size=1, max_size=8), st.data())
def test_padding_puts_blanks_after_each_sequence_and_last_is_its_end(seqs, data):
    lines = [ln for i, s in enumerate(seqs) for ln in (f"1 {' '.join(s)}.", f"2 q?\t{s[0]}\t1")]
    qs = parse_babi(lines)
    vocab = Vocabulary.from_questions(qs)
    enc = Encoded(qs, vocab)
    idx = data.draw(st.lists(st.integers(0, len(qs) - 1), min_size=1, max_size=5))
    x, y, last = enc.pad(idx)
    assert x.shape == (len(idx), max(len(qs[i].tokens) for i in idx))
    for row, i in enumerate(idx):
        n = len(qs[i].tokens)
        assert last[row] == n - 1 and x[row, n - 1] == vocab.id("?")
        assert [vocab.tokens[t] for t in x[row, :n]] == list(qs[i].tokens)
        assert (x[row, n:] == 0).all() and y[row] == vocab.id(qs[i].answer)


@given(st.integers(2, 3000), st.integers(0, 2**32))
def test_split_is_a_seeded_90_10_partition(n, seed):
    train, valid = split_train_valid(n, (seed, 5))
    assert len(valid) == min(max(1, round(0.1 * n)), n - 1) and len(train) + len(valid) == n
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(n))
    again, _ = split_train_valid(n, (seed, 5))
    assert np.array_equal(train, again)


def test_split_depends_on_the_seed_and_refuses_one_question():
    assert not np.array_equal(split_train_valid(1000, (0, 5))[1], split_train_valid(1000, (1, 5))[1])
    with pytest.raises(DataError, match="at least 2 questions"):
        split_train_valid(1, (0,))


@given(st.lists(st.integers(1, 6), min_size=2, max_size=300), st.integers(0, 2**32))
def test_split_by_story_holds_out_whole_stories(sizes, seed):
    """Questions of one story (``groups``: its id, repeated) never fall on both sides."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    n = len(groups)
    train, valid = split_train_valid(n, (seed, 5), groups=groups)
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(n))
    held = set(groups[valid].tolist())
    assert held.isdisjoint(groups[train].tolist())
    assert len(held) == min(max(1, round(0.1 * len(sizes))), len(sizes) - 1)
    assert len(valid) == sum(sizes[g] for g in held)
    again = split_train_valid(n, (seed, 5), groups=groups)
    assert np.array_equal(valid, again[1]) and np.array_equal(train, again[0])


def test_split_by_story_depends_on_the_seed_and_refuses_one_story():
    groups = np.repeat(np.arange(200), 5)
    assert not np.array_equal(split_train_valid(1000, (0, 5), groups=groups)[1],
                              split_train_valid(1000, (1, 5), groups=groups)[1])  # fmt: skip
    with pytest.raises(DataError, match="at least 2 stories, got 1"):
        split_train_valid(3, (0,), groups=[4, 4, 4])
    with pytest.raises(ValueError, match="one group id per question"):
        split_train_valid(3, (0,), groups=[0, 1])


def test_load_by_story_holds_out_one_of_the_two_stories(tmp_path):
    _write(tmp_path / "babi" / "en", 1)
    task = load_babi(tmp_path, 1, seed=(3, 5), split="story")
    assert task.split == "story" and task.describe()["split"] == "story"
    assert (len(task.train), len(task.valid)) == (2, 2)  # two stories of two questions: one held out
    by_story = [sorted(task.vocab.tokens[a] for a in part.answers) for part in (task.train, task.valid)]
    assert sorted(by_story) == [["bathroom", "hallway"], ["garden", "office"]]
    assert load_babi(tmp_path, 1, seed=(3, 5)).split == "question"
    with pytest.raises(DataError, match="unknown bAbI split 'page'; choose one of question, story"):
        load_babi(tmp_path, 1, split="page")


def test_load_splits_the_training_file_and_keeps_the_test_file(tmp_path):
    _write(tmp_path / "babi" / "en", 1)
    task = load_babi(tmp_path, 1, seed=(3, 5))
    assert (len(task.train), len(task.valid), len(task.test)) == (3, 1, 1)
    train_qs = parse_babi(TRAIN.splitlines())
    answers = sorted(task.vocab.tokens[a] for a in [*task.train.answers, *task.valid.answers])
    assert answers == sorted(q.answer for q in train_qs)
    counts = np.bincount(task.train.answers)
    assert task.baseline_accuracy == counts.max() / 3
    p = counts[counts > 0] / 3
    assert task.baseline == pytest.approx(float(-(p * np.log(p)).sum()))
    assert task.describe()["questions"] == {"train": 3, "valid": 1, "test": 1}


# -- the real data (extra: skipped where ../shared/data is absent) -------------------------------

needs_shared = pytest.mark.skipif(not (SHARED / "babi" / "en").is_dir(), reason="../shared/data/babi is absent")


@needs_shared
def test_real_en_task_1_has_the_counts_the_data_readme_states():
    """README: en is the 1k version with all 40 files; numbering restarts at 1 for a new story."""
    en = SHARED / "babi" / "en"
    assert len(list(en.glob("qa*_*_t*.txt*"))) == 40
    train_file, test_file = task_files(SHARED, 1, "en")
    train, test = read_babi(train_file), read_babi(test_file)
    assert len(train) == len(test) == 1000  # the 1k version: 1,000 questions per file
    assert sum(ln.startswith("1 ") for ln in read_lines(train_file)) > 1  # many stories, each from line 1
    task = load_babi(SHARED, 1, "en", seed=(0, 5))
    assert (len(task.train), len(task.valid), len(task.test)) == (900, 100, 1000)  # the paper's 90 / 10


@needs_shared
def test_real_en10k_lacks_task_3_training_and_shares_its_test_file():
    """README: en-10k holds 39 files, no qa3 training file, and the same test files as en."""
    ten = SHARED / "babi" / "en-10k"
    assert len(list(ten.glob("qa*_*_t*.txt*"))) == 39
    with pytest.raises(DataError, match="no task-3 training file"):
        task_files(SHARED, 3, "en-10k")
    name = "qa3_three-supporting-facts_test.txt"
    digest = [hashlib.md5((SHARED / "babi" / s / name).read_bytes()).hexdigest() for s in ("en", "en-10k")]
    assert digest[0] == digest[1]
    assert len(read_babi(task_files(SHARED, 1, "en-10k")[0])) == 10_000


@needs_shared
def test_real_task_3_stories_are_long():
    """README: task 3 stories reach ≈ 1,400 words (tokens here count punctuation too)."""
    task = load_babi(SHARED, 3, "en", seed=(0, 5))
    longest = max(int(part.lengths.max()) for part in (task.train, task.valid, task.test))
    assert 1_000 < longest < 1_600


@needs_shared
def test_real_task_3_split_by_question_shares_stories_and_by_story_does_not():
    """Task 3's 1k file: 200 stories of 5 questions. By question (the paper's split) most
    validation questions have story-mates in training; by story none has."""
    questions = read_babi(task_files(SHARED, 3, "en")[0])
    groups = np.array([q.story_index for q in questions])
    assert len(questions) == 1000 and np.bincount(groups).tolist() == [5] * 200
    for split, shared_stories in (("question", True), ("story", False)):
        task = load_babi(SHARED, 3, "en", seed=(0, 5), split=split)
        assert (len(task.train), len(task.valid)) == (900, 100)
        train, valid = split_train_valid(1000, (0, 5), groups=groups if split == "story" else None)
        overlap = set(groups[train].tolist()) & set(groups[valid].tolist())
        assert bool(overlap) == shared_stories
