"""`orthornn spectrum`: sources, summary, JSON contract, figure, and one-line usage errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats

from orthornn.cli import main
from orthornn.henaff import copy_solution
from orthornn.spectra import eigenphases, spacing_variance


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_explicit_copy_clock_sits_on_the_roots(tmp_path, capsys):
    js, png = tmp_path / "s.json", tmp_path / "s.png"
    code, out, err = run(["spectrum", "explicit:copy:T=500,S=10,d=128", "--json", str(js), "--out", str(png)], capsys)
    assert code == 0, err
    doc = json.loads(js.read_text())
    assert doc["n"] == 257 and doc["batch_shape"] == [] and doc["route"] == "orthogonal"
    s = doc["statistics"]
    assert s["roots"] == 510  # inferred: T + S
    assert s["root_distance_max"] < 1e-13 and s["root_distance_mean_normalized"] < 1e-10
    # the same clock, built directly (seed 0, K 8 are the documented defaults)
    V = copy_solution(K=8, S=10, T=500, d=128, rng=0).V
    np.testing.assert_array_equal(doc["phases"], eigenphases(V))
    assert s["spacing_variance"] == pytest.approx(float(spacing_variance(eigenphases(V))), abs=1e-15)
    assert "510th roots" in out and "orthogonal: real-Schur" in out and "257×257" in out
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000


def test_npy_batch_with_roots_option(tmp_path, capsys):
    M = scipy.stats.special_ortho_group.rvs(12, size=4, random_state=np.random.default_rng(0)).reshape(2, 2, 12, 12)
    src, js = tmp_path / "m.npy", tmp_path / "m.json"
    np.save(src, M)
    code, out, err = run(["spectrum", str(src), "--roots", "7", "--json", str(js)], capsys)
    assert code == 0, err
    doc = json.loads(js.read_text())
    assert doc["batch_shape"] == [2, 2] and np.asarray(doc["phases"]).shape == (2, 2, 12)
    assert doc["statistics"]["roots"] == 7
    np.testing.assert_allclose(doc["per_matrix"]["spacing_variance"], spacing_variance(eigenphases(M)).ravel())
    assert doc["statistics"]["spacing_variance"] == pytest.approx(float(spacing_variance(eigenphases(M)).mean()))
    assert "4 of size 12×12" in out


def test_non_orthogonal_matrix_takes_the_general_route(tmp_path, capsys):
    J = np.array([[0.9, 1.0, 0.0], [0.0, 0.9, 0.0], [0.0, 0.0, -0.5]])
    src, js, png = tmp_path / "j.npy", tmp_path / "j.json", tmp_path / "j.png"
    np.save(src, J)
    code, out, err = run(["spectrum", str(src), "--json", str(js), "--out", str(png)], capsys)
    assert code == 0, err
    doc = json.loads(js.read_text())
    assert doc["route"] == "general"
    s = doc["statistics"]
    assert s["modulus_min"] == pytest.approx(0.5) and s["modulus_max"] == pytest.approx(0.9)
    assert s["departure_from_normality_relative"] == pytest.approx(1 / np.linalg.norm(J))
    assert sorted(doc["phases"]) == pytest.approx([0.0, 0.0, np.pi])
    assert "not orthogonal" in out and png.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("explicit:copy:T=500,S=10", "missing d"),
        ("explicit:copy:T=500,S=10,d=x", "d='x' is not an integer"),
        ("explicit:copy:T=500,S=10,d=4,Q=3", "bad item 'Q=3'"),
        ("explicit:copy:T=5,T=6,S=1,d=2", "T given twice"),
        ("explicit:adding:T=5", "unknown explicit solution 'adding'; valid: copy"),
        ("explicit:copy:T=0,S=10,d=4", "T must be an integer >= 1"),
        ("nothing.npy", "no such file"),
        ("matrix.txt", "expected a run DIR, FILE.npy"),
        ("run.pt", "no checkpoint at run.pt"),
    ],
)
def test_bad_sources_exit_2_with_one_line(source, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(["spectrum", source], capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("orthornn spectrum: error:")


def test_bad_arrays_and_options_exit_2(tmp_path, capsys):
    np.save(tmp_path / "rect.npy", np.ones((2, 3)))
    np.save(tmp_path / "cplx.npy", np.eye(2) * 1j)
    np.save(tmp_path / "nan.npy", np.full((2, 2), np.nan))
    np.save(tmp_path / "ok.npy", np.eye(2))
    (tmp_path / "bad.npy").write_bytes(b"not an array")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cases = [
        ([str(tmp_path / "rect.npy")], "square"),
        ([str(tmp_path / "cplx.npy")], "must be real"),
        ([str(tmp_path / "nan.npy")], "NaN"),
        ([str(tmp_path / "bad.npy")], "not a readable .npy"),
        ([str(run_dir)], "no checkpoint at"),
        ([str(tmp_path / "ok.npy"), "--roots", "0"], "--roots must be >= 1"),
        ([str(tmp_path / "ok.npy"), "--out", str(tmp_path / "f.jpg")], "must be .png"),
        ([str(tmp_path / "ok.npy"), "--json", str(tmp_path / "no" / "f.json")], "does not exist"),
    ]
    for argv, message in cases:
        code, _, err = run(["spectrum", *argv], capsys)
        assert code == 2, argv
        assert err.count("\n") == 1 and message in err, (argv, err)


def test_ltrnn_training_run_gives_its_trained_transition(tmp_path, capsys):
    import torch

    run_dir, js = tmp_path / "run", tmp_path / "r.json"
    argv = [
        "train",
        "copy",
        "--model",
        "ltrnn",
        "--T",
        "10",
        "--S",
        "3",
        "--hidden",
        "12",
        "--steps",
        "2",
        "--batch",
        "8",
        "--eval-every",
        "2",
        "--checkpoint-every",
        "2",
        "--dtype",
        "float64",
        "--out",
        str(run_dir),
        "--quiet",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    code, out, err = run(["spectrum", str(run_dir), "--json", str(js)], capsys)
    assert code == 0, err
    V = torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"]["core.weight_rec"].numpy()
    doc = json.loads(js.read_text())
    assert doc["n"] == 12 and doc["statistics"]["roots"] == 13  # T + S of the copy task
    if doc["route"] == "orthogonal":
        np.testing.assert_array_equal(doc["phases"], eigenphases(V))
    else:  # two RMSProp steps move V off the group
        lam = np.asarray(doc["eigenvalues"])
        np.testing.assert_allclose(
            np.sort_complex(lam[:, 0] + 1j * lam[:, 1]), np.sort_complex(np.linalg.eigvals(V)), atol=1e-12
        )
    assert "ltrnn on copy" in out
    # the checkpoint file itself works too
    assert run(["spectrum", str(run_dir / "checkpoint.pt")], capsys)[0] == 0


def test_checkpoints_without_a_fixed_transition_or_format_exit_2(tmp_path, capsys):
    import torch

    run_dir = tmp_path / "rum"
    argv = [
        "train",
        "copy",
        "--model",
        "rum",
        "--T",
        "5",
        "--S",
        "2",
        "--hidden",
        "6",
        "--steps",
        "1",
        "--batch",
        "4",
        "--eval-every",
        "1",
        "--checkpoint-every",
        "1",
        "--out",
        str(run_dir),
        "--quiet",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    code, _, err = run(["spectrum", str(run_dir)], capsys)
    assert code == 2 and "'rum' checkpoint has no fixed transition" in err and err.count("\n") == 1
    torch.save({"something": 1}, tmp_path / "x.pt")
    code, _, err = run(["spectrum", str(tmp_path / "x.pt")], capsys)
    assert code == 2 and "not an orthornn checkpoint" in err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    code, _, err = run(["spectrum", str(tmp_path / "junk.pt")], capsys)
    assert code == 2 and "cannot read" in err and err.count("\n") == 1


def test_default_bins_follow_the_number_of_phases(tmp_path, monkeypatch):
    # without --bins the command leaves the bins to plotting.phase_bins (9 for n = 64; the
    # command used to force 64, a barcode of 0/1/2 counts)
    from orthornn import plotting

    seen = []
    real = plotting.spectrum_figure

    def spy(*args, **kwargs):
        seen.append(kwargs.get("bins"))
        return real(*args, **kwargs)

    monkeypatch.setattr(plotting, "spectrum_figure", spy)
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((64, 64)))
    np.save(tmp_path / "q.npy", q)
    assert main(["spectrum", str(tmp_path / "q.npy"), "--out", str(tmp_path / "f.png")]) == 0
    assert seen == [None] and plotting.phase_bins(64) == 9
    assert main(["spectrum", str(tmp_path / "q.npy"), "--out", str(tmp_path / "g.png"), "--bins", "30"]) == 0
    assert seen == [None, 30]
