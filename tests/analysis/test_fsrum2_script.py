"""analysis/ptb/fsrum2_paper.sh, the paper's FS-RUM-2 (RUM appendix D) "ready for a GPU": the
script runs as written through the installed ``orthornn`` command, with only the sizes of one
training step lowered (``--device cpu --batch 2 --bptt 8 --steps 1``, appended after the
script's own flags, so argparse takes them), and the run it starts is the paper's model: the
hyper-parameters of Tables 5 and 6 in its config.json and the 11.2M parameters docs/ptb.md
quotes. Its step budget is 360 epochs of the real corpus's windows at batch 128, window 150.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli.test_train_ptb import write_ptb

from orthornn.datasets.ptb import streams, window_count

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "analysis" / "ptb" / "fsrum2_paper.sh"
# characters of ptb.train.txt (the Mikolov split read as bytes; ../shared/data/README.md and the
# "characters" of every recorded run's summary.json in analysis/ptb/runs/)
PTB_TRAIN_CHARACTERS = 5_101_618


def _flags(text: str) -> dict[str, str]:
    line = text.split("exec orthornn train ptb", 1)[1].replace("\\\n", " ").split("\n", 1)[0]
    return dict(re.findall(r"--([a-z-]+) (\S+)", line))


def test_the_script_budgets_360_epochs_of_the_paper_windows():
    flags = _flags(SCRIPT.read_text())
    assert (flags["batch"], flags["bptt"], flags["device"]) == ("128", "150", "cuda")
    per_epoch = window_count(len(streams(np.arange(PTB_TRAIN_CHARACTERS), 128)[0]), 150)
    assert per_epoch == 266 == int(flags["eval-every"]) == int(flags["checkpoint-every"])
    assert int(flags["steps"]) == 360 * per_epoch


def test_the_recorded_runs_read_the_corpus_size_this_file_assumes():
    for summary in (ROOT / "analysis" / "ptb" / "runs").glob("*/summary.json"):
        assert json.loads(summary.read_text())["ptb"]["characters"]["train"] == PTB_TRAIN_CHARACTERS


@pytest.mark.skipif(shutil.which("bash") is None, reason="the script is a bash script")
def test_the_script_starts_the_paper_model(tmp_path):
    data, out = tmp_path / "data", tmp_path / "run"
    write_ptb(data / "ptb", lines=40)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    lowered = ["--device", "cpu", "--batch", "2", "--bptt", "8", "--steps", "1", "--eval-every", "1",
               "--checkpoint-every", "1", "--quiet"]  # fmt: skip
    argv = ["bash", str(SCRIPT), str(data), str(out), *lowered]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    config = json.loads((out / "config.json").read_text())
    paper = {"task": "ptb", "model": "fsrum", "hidden": 1000, "fast_hidden": 700, "fast_cells": 2, "lam": 0.0,
             "eta": 1.0, "embed": 128, "dropout": 0.35, "zoneout": 0.1, "cell_zoneout": 0.5,
             "optimizer": "adam", "lr": 0.002, "lr_schedule": "paper", "clip": 1.0}  # fmt: skip
    assert {k: config[k] for k in paper} == paper
    summary = json.loads((out / "summary.json").read_text())
    assert round(summary["parameters"] / 1e6, 1) == 11.2
    assert summary["test"]["parameters_of"] == "best validation"
