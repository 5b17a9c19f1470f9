"""The documentation site builds with warnings as errors, and shows every page and public name.

The build command is the one docs/conf.py and docs/index.md give:
``python -m sphinx -W --keep-going -b html docs <out>``. Sphinx, myst-parser and furo come with
the ``test`` extra (through ``docs``), so this test always runs.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# The API pages and the modules each documents with ``automodule`` (members from ``__all__``).
API_PAGES = {
    "orthornn": ["orthornn", "orthornn._conventions"],
    "symbolic": ["orthornn.symbolic"],
    "nn": ["orthornn.nn", "orthornn.nn.functional"],
    "tasks": ["orthornn.tasks"],
    "henaff": ["orthornn.henaff"],
    "spectra": ["orthornn.spectra"],
    "plotting": ["orthornn.plotting"],
    "testing": ["orthornn.testing"],
    "train": ["orthornn.train"],
    "report": ["orthornn.report"],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": ""}
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees")]
    proc = subprocess.run([*cmd, str(DOCS), str(out / "html")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, f"sphinx failed (warnings are errors):\n{proc.stderr}\n{proc.stdout}"
    return out / "html"


def test_every_page_is_built(site: Path) -> None:
    pages = [p.stem for p in DOCS.glob("*.md")]
    missing = [p for p in pages if not (site / f"{p}.html").is_file()]
    assert pages and not missing, missing


def test_every_page_is_in_the_toctree(site: Path) -> None:
    # The navigation (on every page, from the toctrees of index.md) links each page and API page.
    nav = (site / "index.html").read_text()
    pages = [p.stem for p in DOCS.glob("*.md") if p.stem != "index"] + [f"api/{a}" for a in API_PAGES]
    missing = [p for p in pages if f'href="{p}.html"' not in nav]
    assert not missing, f"not in the toctree of docs/index.md: {missing}"


def test_api_pages_cover_the_modules(site: Path) -> None:
    # Each API page names every page in API_PAGES (and no page is left out of it) ...
    assert {p.stem for p in (DOCS / "api").glob("*.rst")} == set(API_PAGES)
    missing: list[str] = []
    for page, modules in API_PAGES.items():
        html = (site / "api" / f"{page}.html").read_text()
        for name in modules:
            module = importlib.import_module(name)
            assert f"automodule:: {name}\n" in (DOCS / "api" / f"{page}.rst").read_text()
            # ... and shows every public class and function of the module's __all__.
            for member in module.__all__:
                obj = getattr(module, member)
                if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__doc__:
                    if f'id="{name}.{member}"' not in html:
                        missing.append(f"{name}.{member}")
    assert not missing, f"public names missing from the API pages: {missing}"


def test_math_is_rendered_by_mathjax(site: Path) -> None:
    # ``.. math::`` in the docstrings and $$…$$ display math in the pages become MathJax math.
    pages = ["api/orthornn"] + [p.stem for p in DOCS.glob("*.md") if re.search(r"^\$\$", p.read_text(), re.M)]
    for page in pages:
        html = (site / f"{page}.html").read_text()
        assert "mathjax" in html.lower() and re.search(r'class="math[^"]*"', html), page


def test_gallery_images_are_copied(site: Path) -> None:
    images = re.findall(r'<img[^>]+src="([^"]+)"', (site / "gallery.html").read_text())
    assert images
    missing = [src for src in images if not (site / src).is_file()]
    assert not missing, missing
