"""run_report's orchestration (stages stubbed), the spectral statistics, and real stages on tiny inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orthornn.henaff import copy_solution, figure1
from orthornn.report import STAGES, budget, run_report, stage_plan
from orthornn.report.run import Context, spectral_statistics, stage_figure1, stage_proofs
from orthornn.spectra import eigenphases, spacing_variance

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stubbed(monkeypatch):
    """Every stage replaced by a stub that records the order (nothing is trained)."""
    calls: list[str] = []
    plan = stage_plan(budget("tiny"))
    for key, _ in plan:

        def stub(ctx, key=key):
            calls.append(key)
            return {"key": key}, {}

        monkeypatch.setitem(STAGES, key, stub)
    return calls, plan


def test_stages_run_in_order_and_report_progress(stubbed):
    calls, plan = stubbed
    seen = []
    report = run_report(budget("tiny"), progress=lambda i, n, s: seen.append((i, n, s.key, s.status)))
    assert calls == [k for k, _ in plan]
    n = len(plan)
    assert seen == [x for i, (k, _) in enumerate(plan, 1) for x in ((i, n, k, "running"), (i, n, k, "ok"))]
    assert report.ok and [s.key for s in report.stages] == calls
    assert all(s.cpu_seconds is not None and s.cpu_seconds >= 0 for s in report.stages)
    doc = report.to_json()
    assert doc["figure1"] == {"status": "ok", "seconds": doc["figure1"]["seconds"],
                              "cpu_seconds": doc["figure1"]["cpu_seconds"], "error": None, "key": "figure1"}  # fmt: skip
    assert set(doc["trainings"]) == {"ltornn_copy", "ltirnn_adding", "rum_recall", "rum_copy"}


def test_a_stage_that_raises_is_recorded_and_the_rest_still_runs(stubbed, monkeypatch):
    calls, plan = stubbed

    def boom(ctx):
        raise ZeroDivisionError("division by zero in the grid")

    monkeypatch.setitem(STAGES, "figure1", boom)
    report = run_report(budget("tiny"))
    assert not report.ok
    s = report.stage("figure1")
    assert s is not None and s.status == "failed"
    assert s.error == "ZeroDivisionError: division by zero in the grid"
    assert calls == [k for k, _ in plan if k != "figure1"]
    assert [x.status for x in report.stages if x.key != "figure1"] == ["ok"] * (len(plan) - 1)
    assert report.to_json()["figure1"]["status"] == "failed"


def test_a_stage_needing_a_failed_one_fails_saying_so(stubbed, monkeypatch):
    def boom(ctx):
        raise RuntimeError("diverged")

    monkeypatch.setitem(STAGES, "training:ltornn_copy", boom)
    monkeypatch.delitem(STAGES, "spectrum")
    monkeypatch.setitem(STAGES, "spectrum", __import__("orthornn.report.run", fromlist=["x"]).stage_spectrum)
    report = run_report(budget("tiny"))
    spec = report.stage("spectrum")
    assert spec is not None and spec.status == "failed"
    assert spec.error == "orthornn.report.run.StageError: needs stage 'training:ltornn_copy', which failed"


def test_spectral_statistics_of_the_clock_and_of_uniform_phases(rng):
    sol = copy_solution(K=8, S=10, T=40, d=32, rng=0)
    s = spectral_statistics(eigenphases(sol.V), 50)
    assert s["root_distance_mean"] < 1e-12 and s["near_root_fraction"] == 1.0
    assert s["spacing_variance"] == pytest.approx(float(spacing_variance(eigenphases(sol.V))), abs=1e-15)
    # independent check: uniform phases have normalised distance uniform on [0, 1]
    half = rng.uniform(0, np.pi, size=(200, 50))
    ph = np.concatenate([half, -half], axis=-1)  # conjugate pairs, as the spectrum of a real matrix
    u = spectral_statistics(ph, 7)
    step = 2 * np.pi / 7
    direct = np.abs(ph - step * np.round(ph / step)) / (np.pi / 7)
    assert u["root_distance_mean"] == pytest.approx(direct.mean(), abs=1e-12)
    assert u["near_root_fraction"] == pytest.approx((direct < 0.25).mean(), abs=1e-12)
    assert abs(u["root_distance_mean"] - 0.5) < 0.01 and abs(u["near_root_fraction"] - 0.25) < 0.01


def test_figure1_stage_is_the_library_grid():
    b = budget("tiny")
    data, art = stage_figure1(Context(b, "cpu", ROOT))
    direct = figure1(b.figure1_K, b.figure1_S, T=b.figure1_T, d=b.figure1_d, trials=b.figure1_trials, seed=b.seed)
    np.testing.assert_array_equal(data["success"], direct.success)
    np.testing.assert_array_equal(data["recall_accuracy"], direct.recall)
    assert art["figure1"].K_values == tuple(data["K_values"])


def test_proofs_stage_reports_every_selected_theorem():
    data, _ = stage_proofs(Context(budget("tiny"), "cpu", ROOT))
    ids = [t["id"] for t in data["theorems"]]
    assert ids and all(i.startswith("henaff.clock") for i in ids)
    assert data["total"] == len(ids) and data["proved"] == len(ids) and data["all_proved"]
    assert all(t["checks"] >= 1 for t in data["theorems"])


def test_run_report_finds_the_theorems_from_an_empty_folder(stubbed, tmp_path, monkeypatch):
    """root=None: ./proofs if there is one, else the shipped theorems (was ".": DiscoveryError here)."""
    from orthornn.symbolic import discover, shipped_theorems

    calls, plan = stubbed
    monkeypatch.setitem(STAGES, "proofs", stage_proofs)  # the real stage; the others stay stubbed
    monkeypatch.chdir(tmp_path)
    assert not any(tmp_path.iterdir())
    report = run_report(budget("tiny"))
    proofs = report.stage("proofs")
    assert proofs is not None and proofs.status == "ok", proofs.error if proofs else None
    ids = [t["id"] for t in proofs.data["theorems"]]
    assert ids == [th.id for th in discover([shipped_theorems()], budget("tiny").proof_pattern)]
    assert ids and proofs.data["all_proved"]
    assert calls == [k for k, _ in plan if k != "proofs"]  # only the proofs stage really ran
    # a proofs/ folder in the working directory wins, as for `orthornn prove`
    (tmp_path / "proofs").mkdir()
    (tmp_path / "proofs" / "henaff.py").write_text(
        "from orthornn.symbolic import Theorem\n\n"
        "def _proof(d):\n    d.equal(1, 1, 'one')\n\n"
        "local = Theorem(id='henaff.clock_local', statement='1 = 1', proof=_proof)\n"
    )
    mine = run_report(budget("tiny")).stage("proofs")
    assert mine is not None and mine.status == "ok", mine.error if mine else None
    assert [t["id"] for t in mine.data["theorems"]] == ["henaff.clock_local"]
    given = run_report(budget("tiny"), root=ROOT).stage("proofs")  # an explicit root wins over both
    assert given is not None and [t["id"] for t in given.data["theorems"]] == ids
