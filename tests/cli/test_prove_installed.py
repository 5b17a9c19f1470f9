"""`orthornn prove` as its users install it: the shipped theorems from any folder, a user's own
theorem file (docs/proofs.md's example, run exactly as the page says), and a built wheel that
carries the theorems and the C kernel sources and runs them from an empty folder."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from orthornn.symbolic import DiscoveryError, default_theorems, discover, shipped_theorems

discover_module = importlib.import_module("orthornn.symbolic.discover")  # the attribute is the function

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "proofs").glob("*.py") if not p.name.startswith("_"))
KERNEL_SOURCES = sorted(p.name for p in (ROOT / "orthornn" / "nn" / "kernels").iterdir() if p.suffix in (".c", ".h"))


def _my_theorems() -> str:
    """The ``# my_theorems.py`` block of docs/proofs.md."""
    blocks = re.findall(
        r"^```python\n(# my_theorems\.py\n.*?)^```", (ROOT / "docs" / "proofs.md").read_text(), re.S | re.M
    )
    assert len(blocks) == 1, "docs/proofs.md must show exactly one '# my_theorems.py' block"
    return blocks[0]


def _orthornn(*argv: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "orthornn", *argv], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


# ------------------------------------------------------------------------------------------------
# where the theorems are
# ------------------------------------------------------------------------------------------------


def test_the_shipped_theorems_are_the_checkouts_proofs():
    """In the checkout's editable install this is proofs/ itself; in an installation, a copy."""
    shipped = shipped_theorems()
    assert SHIPPED and sorted(p.name for p in shipped.glob("*.py") if not p.name.startswith("_")) == SHIPPED
    assert all((shipped / name).read_bytes() == (ROOT / "proofs" / name).read_bytes() for name in SHIPPED)


def test_default_is_a_local_proofs_folder_else_the_shipped_theorems(tmp_path):
    assert default_theorems(tmp_path) == shipped_theorems()
    (tmp_path / "proofs").write_text("not a folder")
    assert default_theorems(tmp_path) == shipped_theorems()  # a file called proofs is not a theorem folder
    (tmp_path / "proofs").unlink()
    (tmp_path / "proofs").mkdir()
    assert default_theorems(tmp_path) == tmp_path / "proofs"


def test_missing_shipped_theorems_are_an_error_naming_both_places(tmp_path, monkeypatch):
    package = tmp_path / "site" / "orthornn"
    package.mkdir(parents=True)
    monkeypatch.setattr(discover_module, "_PACKAGE", package)
    with pytest.raises(DiscoveryError, match="the shipped theorems are missing") as info:
        shipped_theorems()
    assert str(package / "proofs") in str(info.value)


def test_prove_without_path_runs_the_shipped_theorems_from_an_empty_folder(tmp_path):
    proc = _orthornn("prove", "-k", "henaff.clock*", "--json", "r.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ids = [t["id"] for t in json.loads((tmp_path / "r.json").read_text())["theorems"]]
    assert ids == [t.id for t in discover([ROOT / "proofs"], "henaff.clock*")] and ids


# ------------------------------------------------------------------------------------------------
# a user's own theorem file
# ------------------------------------------------------------------------------------------------


def test_a_users_own_theorem_file_runs_as_docs_proofs_md_shows(tmp_path):
    (tmp_path / "my_theorems.py").write_text(_my_theorems())
    proc = _orthornn("prove", "my_theorems.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [r[:2] for r in rows if r and r[0].startswith("mine.")] == [
        ["mine.rotations_add", "proved"],
        ["mine.cayley_orthogonal", "proved"],
    ]
    assert "2/2 proved" in proc.stdout


def test_a_users_wrong_theorem_fails_with_exit_1(tmp_path):
    wrong = _my_theorems().replace("d.equal(Q.det(), 1,", "d.equal(Q.det(), -1,")
    assert wrong != _my_theorems()
    (tmp_path / "my_theorems.py").write_text(wrong)
    proc = _orthornn("prove", "my_theorems.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert re.search(r"^mine\.cayley_orthogonal\s+failed", proc.stdout, re.M), proc.stdout
    assert "1/2 proved" in proc.stdout


# ------------------------------------------------------------------------------------------------
# the built distributions
# ------------------------------------------------------------------------------------------------


_WHERE = """
import orthornn, orthornn.symbolic as s
from orthornn.cli.report import _proofs_root
print(orthornn.__file__, s.shipped_theorems(), _proofs_root(None))
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel built from this checkout (offline: the test extra has the backend);
    ``python -m build`` builds the wheel from the sdist, so the wheel also vouches for the sdist."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_the_wheel_and_the_sdist_carry_the_theorems_and_the_kernel_sources(dist):
    (wheel,) = dist.glob("orthornn-*.whl")
    (sdist,) = dist.glob("orthornn-*.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for name in SHIPPED:
            assert z.read(f"orthornn/proofs/{name}") == (ROOT / "proofs" / name).read_bytes(), name
        for name in KERNEL_SOURCES:
            assert z.read(f"orthornn/nn/kernels/{name}") == (ROOT / "orthornn/nn/kernels" / name).read_bytes()
    assert "orthornn/py.typed" in names and "orthornn/cli/__init__.py" in names
    package = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "orthornn").rglob("*.py") if "__pycache__" not in p.parts
    }
    assert package <= names, f"modules missing from the wheel: {sorted(package - names)}"
    with tarfile.open(sdist) as t:
        top = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {f"proofs/{name}" for name in SHIPPED} <= top and "pyproject.toml" in top


def test_the_installed_wheel_proves_from_an_empty_folder(dist, tmp_path):
    """The wheel unpacked as an installer would (pure Python: an unzip), first on the path, so the
    checkout plays no part; run from an empty folder."""
    (wheel,) = dist.glob("orthornn-*.whl")
    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    where = subprocess.run(
        [sys.executable, "-c", _WHERE],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # the package, its theorems and `orthornn report`'s proofs root (it proves <root>/proofs)
    assert where == [str(site / "orthornn" / "__init__.py"), str(site / "orthornn" / "proofs"), str(site / "orthornn")]

    proc = _orthornn("prove", "-k", "henaff.clock*", "--json", "r.json", cwd=work, pythonpath=site)
    assert proc.returncode == 0, proc.stderr
    ids = [t["id"] for t in json.loads((work / "r.json").read_text())["theorems"]]
    assert ids == [t.id for t in discover([ROOT / "proofs"], "henaff.clock*")] and ids

    (work / "my_theorems.py").write_text(_my_theorems())
    proc = _orthornn("prove", "my_theorems.py", cwd=work, pythonpath=site)
    assert proc.returncode == 0 and "2/2 proved" in proc.stdout, proc.stdout + proc.stderr
