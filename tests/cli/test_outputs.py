"""Every output option of every command (--out, --json, --markdown): checked before any work,
written with one-line errors (exit 2), never a traceback; the checks leave nothing behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

import orthornn.cli.spectrum
from orthornn.cli import main
from orthornn.cli.usage import UsageError, check_folder, check_writable

ROOT = Path(__file__).resolve().parents[2]
SPEC = "explicit:copy:T=5,S=2,d=4"

#: (command, its output option, kind): every output option the command line has
FILE_OUTPUTS = [
    (["spectrum", SPEC], "--json"),
    (["spectrum", SPEC], "--out"),
    (["henaff", "copy", "--T", "5", "--S", "2", "--d", "4", "--trials", "2"], "--json"),
    (["henaff", "crosstalk", "--S", "2", "--d", "4", "--trials", "2"], "--json"),
    (["henaff", "adding", "--T", "5", "--trials", "2"], "--json"),
    (["prove", str(ROOT / "proofs"), "-k", "henaff.clock*"], "--json"),
    (["prove", str(ROOT / "proofs"), "-k", "henaff.clock*"], "--markdown"),
]
FOLDER_OUTPUTS = [
    ("train copy --model ltrnn --T 3 --S 2 --hidden 4 --batch 2 --steps 1 --quiet".split(), "--out"),
    (["henaff", "figure1", "--K", "2", "--S", "2", "--T", "5", "--d", "4", "--trials", "2"], "--out"),
    (["report", "--budget", "tiny", "--device", "cpu"], "--out"),
]


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize(("argv", "flag"), FILE_OUTPUTS, ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]))
def test_file_outputs_are_checked_before_any_work(argv, flag, tmp_path, capsys):
    cmd = argv[0]
    suffix = ".png" if flag == "--out" else ".json"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        f"/proc/x{suffix}": "cannot write a file there (No such file or directory)",
        str(tmp_path / "no" / f"x{suffix}"): f"folder {tmp_path / 'no'} does not exist",
        str(a_file / f"x{suffix}"): f"{a_file} is not a folder",
    }
    if suffix == ".json":  # spectrum's --out must end in .png/.svg/.pdf, a folder does not
        cases[str(tmp_path)] = "is a folder, not a file"
    for path, why in cases.items():
        code, out, err = _run([*argv, flag, path], capsys)
        assert code == 2, (path, err)
        assert _one_line(err) == f"orthornn {cmd}: error: {flag} {path}: {why}"
        assert out == "", out  # nothing ran
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]  # the checks left nothing behind


@pytest.mark.parametrize(
    ("argv", "flag"),
    [o for o in FILE_OUTPUTS if o[1] != "--out"],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_write_that_fails_is_one_line(argv, flag, capsys):
    """/dev/full accepts the open and fails the write (ENOSPC): the error names the file."""
    code, _, err = _run([*argv, flag, "/dev/full"], capsys)
    assert code == 2
    assert _one_line(err) == f"orthornn {argv[0]}: error: {flag} /dev/full: cannot write (No space left on device)"


def test_a_figure_write_that_fails_is_one_line(tmp_path, capsys):
    """The figure must end in .png: a link of that name to /dev/full."""
    link = tmp_path / "full.png"
    link.symlink_to("/dev/full")
    code, _, err = _run(["spectrum", SPEC, "--out", str(link)], capsys)
    assert (
        code == 2
        and _one_line(err) == f"orthornn spectrum: error: --out {link}: cannot write (No space left on device)"
    )


@pytest.mark.parametrize(("argv", "flag"), FOLDER_OUTPUTS, ids=lambda v: v if isinstance(v, str) else v[0])
def test_folder_outputs_are_checked_before_any_work(argv, flag, tmp_path, capsys):
    cmd = argv[0]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        "/proc/x": "cannot create a folder there (No such file or directory)",
        str(a_file): "exists and is not a folder",
        str(tmp_path / "no" / "dir"): f"folder {tmp_path / 'no'} does not exist",
        str(a_file / "dir"): f"{a_file} is not a folder",
    }
    for path, why in cases.items():
        code, out, err = _run([*argv, flag, path], capsys)
        assert code == 2, (path, err)
        assert _one_line(err) == f"orthornn {cmd}: error: {flag} {path}: {why}"
        assert out == ""
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


def test_the_checks_themselves(tmp_path):
    existing = tmp_path / "kept.json"
    existing.write_text("data")
    check_writable(existing, "--json")
    assert existing.read_text() == "data"  # opened for appending, not truncated
    check_writable(tmp_path / "new.json", "--json")
    check_folder(tmp_path, "--out")
    check_folder(tmp_path / "new", "--out")
    check_writable(None, "--json")
    check_folder(None, "--out")
    assert sorted(os.listdir(tmp_path)) == ["kept.json"]
    with pytest.raises(UsageError, match="cannot create a folder there"):
        check_folder(Path("/proc/x"), "--out")


def _unwritable_folders(tmp_path: Path) -> list[Path]:
    """Folders that exist and take no new file: /proc for every user, root included (procfs
    creates no entry on request), and a mode-0500 folder too where the tests do not run as root
    (root writes into it; CI runs as root, so /proc is the case that always runs)."""
    folders = [Path("/proc")]
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        folders.append(ro)
    return folders


def test_a_folder_that_takes_no_file_is_refused(tmp_path):
    folders = _unwritable_folders(tmp_path)
    try:
        for folder in folders:
            with pytest.raises(UsageError, match=rf"^--out {folder}: cannot write into that folder \("):
                check_folder(folder, "--out")
            with pytest.raises(UsageError, match=rf"^--json {folder / 'x.json'}: cannot write a file there \("):
                check_writable(folder / "x.json", "--json")
    finally:
        for folder in folders[1:]:
            folder.chmod(0o700)


@pytest.mark.parametrize(("argv", "flag"), FOLDER_OUTPUTS, ids=lambda v: v if isinstance(v, str) else v[0])
def test_a_folder_output_that_takes_no_file_is_one_line(argv, flag, capsys):
    """`--out /proc`: the folder exists, the probe file cannot be made; refused before any work."""
    code, out, err = _run([*argv, flag, "/proc"], capsys)
    assert code == 2 and out == ""
    assert _one_line(err).startswith(f"orthornn {argv[0]}: error: {flag} /proc: cannot write into that folder (")


def test_an_os_error_the_command_did_not_wrap_is_one_line(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/file")

    monkeypatch.setattr(orthornn.cli.spectrum, "run", denied)
    code, _, err = _run(["spectrum", SPEC], capsys)
    assert code == 2 and _one_line(err) == "orthornn spectrum: error: /some/file: Permission denied"


def test_a_spectrum_run_still_writes_where_it_can(tmp_path, capsys):
    np.save(tmp_path / "m.npy", np.eye(3))
    code, _, err = _run(["spectrum", str(tmp_path / "m.npy"), "--json", str(tmp_path / "s.json")], capsys)
    assert code == 0, err
    assert (tmp_path / "s.json").read_text().startswith("{")
