"""The pytest plugin: declared as a pytest11 entry point, registers the hypothesis profile
``orthornn``, prints the tolerance convention in the header, and loads no torch."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

import orthornn.testing.plugin as plugin

tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11
ROOT = Path(__file__).resolve().parents[2]


def test_entry_point_is_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["pytest11"] == {"orthornn": "orthornn.testing.plugin"}


def test_profile_is_registered():
    profile = settings.get_profile(plugin.PROFILE)
    assert profile.deadline is None and profile.max_examples == 50


def _load_plugin() -> list[str]:
    """The pytest arguments that give a user's suite the plugin: none where orthornn is installed
    with its entry point (pytest loads it; naming it again with -p would register it twice), else
    ``-p orthornn.testing.plugin`` (a checkout imported without installation)."""
    installed = any(ep.value == "orthornn.testing.plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "orthornn.testing.plugin"]


def test_a_user_suite_gets_the_profile_and_header(tmp_path):
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import sys
            from hypothesis import given, settings
            from orthornn.testing import adversarial_rotations, assert_orthogonal

            def test_profile():
                assert settings().max_examples == 50 and "torch" not in sys.modules

            @given(adversarial_rotations(3))
            def test_rotations(R):
                assert_orthogonal(R, special=True)
            """
        )
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *_load_plugin(),
            "--hypothesis-profile=orthornn",
            "test_user.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    header = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", *_load_plugin(), "test_user.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert "orthornn.testing: assert_orthogonal tolerance 32·√n" in header


def test_the_plugin_loads_no_torch():
    code = "import sys, orthornn.testing.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
