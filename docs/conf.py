"""Sphinx configuration for the orthornn documentation site.

Build (CI runs this through tests/test_docs_build.py, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST) with ``$…$`` / ``$$…$$`` math; the API pages use autodoc over
each module's ``__all__``, whose NumPy-style docstrings carry ``.. math::`` directives.
MathJax renders the math in the reader's browser: nothing is fetched at build time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's package, also without an editable install
os.environ.setdefault("MPLBACKEND", "Agg")  # autodoc imports orthornn.plotting

import importlib  # noqa: E402

import orthornn  # noqa: E402

# Modules that load their names lazily (PEP 562 ``__getattr__``, e.g. orthornn.train keeps torch
# out of ``orthornn.train.config``) do not list those names in ``vars(module)``, where autodoc
# looks for members: load every name of ``__all__`` once so that the API pages show them.
for _name in ("orthornn.train",):
    _module = importlib.import_module(_name)
    for _member in _module.__all__:
        vars(_module).setdefault(_member, getattr(_module, _member))

project = "orthornn"
author = "orthornn developers"
copyright = "orthornn developers"
release = version = orthornn.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: $…$ and $$…$$ math, \begin{align} environments, anchors for "page.md#heading" links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# autodoc: members come from each module's __all__; NumPy-style docstrings through napoleon.
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

html_theme = "furo"
html_title = f"orthornn {release}"
pygments_style = "sphinx"
