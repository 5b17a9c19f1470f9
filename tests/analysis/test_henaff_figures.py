"""Henaff Figures 4–6 (analysis/): the pooling and variable-length-copy configs are valid
grids of the paper's settings, their CPU-scale configs name runs the full configs continue,
and analysis/henaff_figure6/make_figure6.py rebuilds a pooled LT-ORNN from a run folder and
records the states the recurrence gives (checked against the recurrence written out)."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tolerances import ROLLOUT_PER_STEP

from orthornn.sweep.plan import expand, load_spec

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "analysis" / "configs"
FIGURE6 = ROOT / "analysis" / "henaff_figure6" / "make_figure6.py"
NAMES = ["henaff_fig4_pooling", "henaff_fig4_pooling_cpu", "henaff_fig5_varcopy", "henaff_fig5_varcopy_cpu"]


@pytest.mark.parametrize("name", NAMES)
def test_the_configs_are_the_papers_settings(name):
    runs = expand(load_spec(CONFIGS / f"{name}.json"))  # every run a valid TrainConfig
    for run in runs:
        c = run.config
        assert c.batch == 50 and c.optimizer == "rmsprop"
        assert c.hidden == (128 if c.task == "adding" else 80)
        if c.model == "lstm":
            assert c.lr == 1e-3 and c.act_clip is None
            continue
        assert c.model == "ltrnn" and c.lr == 1e-4 and c.act_clip == 1000.0
        assert c.init == ("identity" if run.label == "LT-IRNN" else "orthogonal")
        pooled = run.label == "LT-ORNN pool"
        assert (c.pool, bool(c.ortho_lr)) == ((2, True) if pooled else (None, False))
    tasks = {r.config.task for r in runs}
    assert tasks == ({"varcopy"} if "fig5" in name else {"copy", "adding"})


@pytest.mark.parametrize("name", ["henaff_fig4_pooling", "henaff_fig5_varcopy"])
def test_the_cpu_runs_are_the_full_configs_runs_at_fewer_steps(name):
    full = {r.name: r.config for r in expand(load_spec(CONFIGS / f"{name}.json"))}
    shared = 0
    for run in expand(load_spec(CONFIGS / f"{name}_cpu.json")):
        if run.name in full:  # the full config resumes it: only the steps differ
            a, b = run.config.to_dict(), full[run.name].to_dict()
            assert {k for k in a if a[k] != b.get(k)} == {"steps"}
            shared += 1
    assert shared >= 4


def _figure6():
    spec = importlib.util.spec_from_file_location("make_figure6", FIGURE6)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A pooled LT-ORNN trained a few steps on adding T = 16 (N = 6), float64."""
    out = tmp_path_factory.mktemp("run")
    cmd = [sys.executable, "-m", "orthornn", "train", "adding", "--model", "ltrnn", "--pool", "2", "--ortho-lr", "1",
           "--act-clip", "1000", "--hidden", "6", "--T", "16", "--steps", "4", "--batch", "4", "--eval-every", "4",
           "--dtype", "float64", "--quiet", "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, env={"OMP_NUM_THREADS": "1", "PATH": ""})
    return out


@pytest.mark.slow
def test_figure6_records_the_states_of_the_recurrence(tiny_run):
    fig6 = _figure6()
    config, model = fig6.load_model(tiny_run)
    assert (config.T, config.steps, config.pool) == (16, 4, 2)
    x, target = fig6.sequence(16, (5, 12), seed=3)
    assert x[:, 1].sum() == 2 and target == pytest.approx(x[5, 0] + x[12, 0])
    H, prediction = fig6.hidden_states(model, x)
    core = model.core
    U, b, V = (p.detach().numpy() for p in (core.weight_in, core.bias, core.weight_rec))
    h, states = np.zeros(6), []
    for x_t in x:  # h_t = relu(U x_t + b) + V h_{t-1}; the norms stay far below the clip 1000
        h = np.maximum(U @ x_t + b, 0.0) + V @ h
        states.append(h)
    np.testing.assert_allclose(H, states, rtol=0, atol=ROLLOUT_PER_STEP["float64"] * 16)
    r, phi = fig6.pairs(H)
    np.testing.assert_allclose(r * np.cos(phi), H[:, 0::2], atol=1e-12)
    np.testing.assert_allclose(r * np.sin(phi), H[:, 1::2], atol=1e-12)
    readout = core.readout
    y = H[-1] @ readout.weight.detach().numpy().T + r[-1] @ readout.weight_pool.detach().numpy().T
    assert prediction == pytest.approx(float(y[0] + readout.bias.detach().numpy()[0]), abs=1e-12)
    raw, pooled, _ = fig6.readout_parts(model, H, r)
    assert raw[-1] + pooled[-1] == pytest.approx(prediction, abs=1e-12)


@pytest.mark.slow
def test_figure6_writes_its_figure_table_and_record(tiny_run, tmp_path):
    fig6 = _figure6()
    assert fig6.main([str(tiny_run), "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "figure6.json").read_text())
    assert record["T"] == 16 and record["marks"] == [round(264 * 16 / 750), round(463 * 16 / 750)]
    with open(tmp_path / "figure6.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 17 and len(rows[0]) == 3 + 6 + 3 + 3
    assert (tmp_path / "figure6.png").stat().st_size > 10_000
    with pytest.raises(SystemExit):
        fig6.main([str(tiny_run), "--out", str(tmp_path), "--marks", "9", "3"])
