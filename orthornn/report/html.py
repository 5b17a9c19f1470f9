"""Render a :class:`~orthornn.report.data.ReportData` as one self-contained HTML page (string building only).

Every table is plain HTML; every figure is an ``<img>`` pointing at a PNG file in the same
folder (the page needs nothing else: no scripts, no network). A failed stage or figure is
shown in red with its error; a value that does not apply is an em dash, never an empty cell.

Examples
--------
>>> from orthornn.report.data import ReportData, Stage
>>> failed = Stage("figure1", "grid", "failed", 0.1, "ValueError: x")
>>> r = ReportData("tiny", "cpu", "2026-01-01T00:00:00", 0.1, [failed], {})
>>> page = render_html(r)
>>> page.startswith("<!DOCTYPE html>") and 'class="failed"' in page and "ValueError: x" in page
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..spectra import ordinal
from .data import ReportData, Stage

__all__ = ["render_html"]

_DASH = "—"

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; } td.text, th.text { text-align: left; }
tr.failed td, span.failed, div.failed { color: #b00; } div.failed { border: 2px solid #b00; padding: 0.5em; }
td.ok { color: #070; } figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; max-width: 900px; } code { background: #f4f4f4; }
"""


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any, digits: int = 4) -> str:
    """A table cell's text: numbers to ``digits`` significant figures, None as a dash."""
    if v is None:
        return _DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.{digits}g}"
    text = str(v)
    return text if text else _DASH


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, text_cols: int = 1, row_class: Sequence[str] | None = None
) -> str:
    """An HTML table; the first ``text_cols`` columns are left-aligned text."""
    out = [
        "<table>",
        "<tr>"
        + "".join(
            f'<th class="text">{_esc(h)}</th>' if i < text_cols else f"<th>{_esc(h)}</th>" for i, h in enumerate(header)
        )
        + "</tr>",
    ]
    for r, row in enumerate(rows):
        cls = f' class="{row_class[r]}"' if row_class is not None and row_class[r] else ""
        cells = "".join(
            f'<td class="text">{_esc(_fmt(v))}</td>' if i < text_cols else f"<td>{_esc(_fmt(v))}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _failed(stage: Stage | None, what: str) -> str | None:
    """A red box when ``stage`` failed or is missing; None when it is fine."""
    if stage is None:
        return f'<div class="failed">{_esc(what)}: did not run.</div>'
    if stage.status != "ok":
        return f'<div class="failed">{_esc(what)} FAILED: <code>{_esc(stage.error)}</code></div>'
    return None


def _figures(report: ReportData, section: str) -> str:
    out = []
    for f in report.figures:
        if f.section != section:
            continue
        if f.status != "ok":
            out.append(f'<div class="failed">figure {_esc(f.name)} FAILED: <code>{_esc(f.error)}</code></div>')
            continue
        out.append(
            f'<figure><img src="{_esc(f.name)}" alt="{_esc(f.name)}">'
            f"<figcaption><b>{_esc(f.name)}</b> — {_esc(f.caption)}</figcaption></figure>"
        )
    return "\n".join(out)


def _summary(report: ReportData) -> str:
    env = report.environment
    rows = [
        ("budget", report.budget),
        ("device", report.device),
        ("started", report.started),
        ("wall time (s)", f"{report.seconds:.1f}"),
        ("CPU time (s)", _fmt(report.cpu_seconds)),
        ("result", "every stage succeeded" if report.ok else "SOME STAGES FAILED"),
    ]
    rows += [(k, _fmt(v)) for k, v in env.items()]
    parts = ["<h2>Run</h2>", _table(["item", "value"], rows, text_cols=2)]
    stage_rows = [
        (s.title, s.key, s.status, f"{s.seconds:.1f}", _fmt(s.cpu_seconds, 3), s.error) for s in report.stages
    ]
    parts.append(
        _table(
            ["stage", "key", "status", "wall s", "CPU s", "error"],
            stage_rows,
            text_cols=3,
            row_class=["failed" if s.status != "ok" else "" for s in report.stages],
        )
    )
    for note in report.notes:
        parts.append(f"<p>{_esc(note)}</p>")
    return "\n".join(parts)


def _proofs(report: ReportData) -> str:
    s = report.stage("proofs")
    parts = ["<h2>Theorems (proofs/)</h2>"]
    bad = _failed(s, "proofs")
    if bad:
        return "\n".join([*parts, bad])
    assert s is not None
    d = s.data
    parts.append(f"<p>{d['proved']} of {d['total']} theorems proved; every check is exact (sympy).</p>")
    rows = [
        (t["id"], t["family"], t["status"], t["checks"], f"{t['seconds']:.2f}", t["message"]) for t in d["theorems"]
    ]
    cls = ["failed" if t["status"] != "proved" else "" for t in d["theorems"]]
    parts.append(
        _table(["theorem", "family", "status", "exact checks", "seconds", "message"], rows, text_cols=3, row_class=cls)
    )
    return "\n".join(parts)


def _figure1(report: ReportData) -> str:
    s = report.stage("figure1")
    parts = ["<h2>Henaff et al. Figure 1: the explicit copy solution</h2>"]
    bad = _failed(s, "Figure 1")
    if bad:
        return "\n".join([*parts, bad, _figures(report, "figure1")])
    assert s is not None
    d = s.data
    parts.append(
        f"<p>Success rate (%, all S symbols recalled) of the random clock construction, T = {d['T']}, "
        f"d = {d['d']} (hidden size {2 * d['d'] + 1}), {d['trials']} trials per cell, computed in "
        f"{d['grid_seconds']:.1f} s. Rows: alphabet size K; columns: symbols S.</p>"
    )
    rows = [[f"K = {K}", *(f"{100 * v:.1f}" for v in d["success"][a])] for a, K in enumerate(d["K_values"])]
    parts.append(_table(["K \\ S", *(str(S) for S in d["S_values"])], rows))
    parts.append(_figures(report, "figure1"))
    return "\n".join(parts)


def _trainings(report: ReportData) -> str:
    parts = ["<h2>Trainings</h2>"]
    stages = report.trainings()
    if not stages:
        return "\n".join([*parts, '<div class="failed">no training ran.</div>'])
    rows, cls = [], []
    for s in stages:
        if s.status != "ok":
            rows.append((s.title, s.key.split(":", 1)[1], "FAILED", s.error, *([None] * 10)))
            cls.append("failed")
            continue
        d, c = s.data, s.data["config"]
        rows.append(
            (
                d["title"],
                c["model"],
                c["task"],
                c["T"],
                c["hidden"],
                d["steps"],
                d["parameters"],
                f"{d['wall_seconds']:.1f}",
                d["final_loss"],
                d["baseline"],
                d["loss_ratio_to_baseline"],
                d["beats_baseline"],
                d["final_accuracy"],
                d["baseline_accuracy"],
            )
        )
        cls.append("")
    parts.append(
        _table(
            [
                "run",
                "model",
                "task",
                "T",
                "N",
                "steps",
                "parameters",
                "train s",
                "held-out loss",
                "baseline",
                "loss / baseline",
                "below baseline",
                "accuracy",
                "baseline accuracy",
            ],
            rows,
            text_cols=3,
            row_class=cls,
        )
    )
    parts.append(
        "<p>Held-out loss: the mean over fixed evaluation batches after the last step (copy: cross-entropy over "
        "all steps, baseline S ln K/(T+2S); adding: MSE of the last output, baseline 1/6; recall: cross-entropy "
        "of the answer, baseline ln 10). Accuracy: recalled symbols (copy), the answer (recall).</p>"
    )
    parts.append(_figures(report, "trainings"))
    return "\n".join(parts)


def _spectrum(report: ReportData) -> str:
    s = report.stage("spectrum")
    parts = ["<h2>Spectrum of the trained transition vs the explicit clock</h2>"]
    bad = _failed(s, "spectral comparison")
    if bad:
        return "\n".join([*parts, bad, _figures(report, "spectrum")])
    assert s is not None
    d = s.data
    p = d["roots"]
    parts.append(
        f"<p>The LT-ORNN of run <code>{_esc(d['run'])}</code> (copy, T = {d['T']}, S = {d['S']}, N = {d['hidden']}) "
        f"against Henaff et al.'s clock for the same T and S (d = {d['explicit_d']}, all phases on the {ordinal(p)} "
        f"roots of unity) and {d['statistics']['haar']['samples']} Haar-random rotations of SO({d['hidden']}). "
        f"Distance to the roots is normalised by π/{p}: 0 on a root, 0.5 on average for uniform phases; "
        f"'near' means within a quarter of that (uniform: 0.25). Spacing variance of the half spectrum: "
        f"Haar ≈ 0.19 (level repulsion), independent phases ≈ 1.</p>"
    )
    st = d["statistics"]
    names = {
        "trained": "trained V",
        "initial": "V at initialisation",
        "explicit": "explicit clock",
        "haar": "Haar SO(n) (mean)",
    }
    rows = []
    for k, label in names.items():
        r = st[k]
        rows.append(
            (
                label,
                r["route"],
                r["n"],
                r["root_distance_mean"],
                r["near_root_fraction"],
                r["spacing_variance"],
                r["orthogonality_defect"],
                r.get("modulus_min"),
                r.get("modulus_max"),
                r.get("departure_from_normality_relative"),
            )
        )
    parts.append(
        _table(
            [
                "transition",
                "route",
                "n",
                f"mean distance to {ordinal(p)} roots",
                "fraction near a root",
                "spacing variance",
                "orthogonality defect",
                "min |λ|",
                "max |λ|",
                "departure from normality",
            ],
            rows,
            text_cols=2,
        )
    )
    hs = st["haar"]["std"]
    parts.append(
        f"<p>Haar spread (one standard deviation over draws): distance {hs['root_distance_mean']:.3g}, "
        f"near fraction {hs['near_root_fraction']:.3g}, spacing variance {hs['spacing_variance']:.3g}.</p>"
    )
    sc = d["root_scan"]
    zs = [(z, q) for z, q in zip(sc["z_trained"], sc["p"], strict=True) if z is not None]
    if zs:
        z_min, q_min = min(zs)
        z_at = dict(zip(sc["p"], sc["z_trained"], strict=True)).get(p)
        parts.append(
            f"<p>Scan over the orders p = {sc['p'][0]}…{sc['p'][-1]}: the trained phases are closest to the roots, "
            f"relative to Haar, at p = {q_min} (z = {z_min:.2f} standard deviations); at p = T+S = {p} the z-score "
            f"is {_fmt(z_at, 3)}. A learned clock would show a large negative z at p = {p}.</p>"
        )
    w = d["wasserstein"]
    wrows = [(k.replace("_", " "), v) for k, v in w.items()]
    parts.append(_table(["circular Wasserstein-1 (rad)", "value"], wrows))
    parts.append(_figures(report, "spectrum"))
    return "\n".join(parts)


def _memory(report: ReportData) -> str:
    s = report.stage("memory")
    parts = ["<h2>RUM memory phases</h2>"]
    if s is None:
        return "\n".join([*parts, "<p>This budget draws no RUM memory.</p>"])
    bad = _failed(s, "memory phases")
    if bad:
        return "\n".join([*parts, bad, _figures(report, "memory")])
    d = s.data
    parts.append(
        f"<p>RUM λ = 1 of run <code>{_esc(d['run'])}</code>: R_t = R_(t−1) · Rotation(ε_t, τ_t), read step by step "
        f"with the cell's public <code>step</code> over one held-out sequence of {d['steps']} steps, N = {d['n']}.</p>"
    )
    change = [None, *d["largest_phase_change_per_step"]]
    rows = [(str(t), z, c) for t, (z, c) in enumerate(zip(d["phases_at_zero"], change, strict=True), 1)]
    header = ["step t", f"phases at 0 (|φ| < {d['zero_phase_tolerance']:g})", "largest |Δφ| (sorted) from t−1 (rad)"]
    parts.append(_table(header, rows))
    parts.append(
        "<p>R_t − R_(t−1) = R_(t−1)(Rotation − I) has rank at most 2, so the number of phases at 0 (directions the "
        "memory has not touched) can drop by at most 2 per step: the memory fills at most one plane per step.</p>"
    )
    parts.append(f"<p>Largest orthogonality defect of R_t: {d['orthogonality_defect_max']:.3g}.</p>")
    parts.append(_figures(report, "memory"))
    return "\n".join(parts)


def _orphans(report: ReportData) -> str:
    known = {"figure1", "trainings", "spectrum", "memory"}
    extra = [f for f in report.figures if f.section not in known]
    return "\n".join(_figures(report, sec) for sec in dict.fromkeys(f.section for f in extra))


def render_html(report: ReportData, *, title: str = "orthornn report") -> str:
    """The report page: run summary, theorems, Figure 1, trainings, spectra, RUM memory."""
    status = "" if report.ok else ' <span class="failed">(some stages failed)</span>'
    body = [
        f"<h1>{_esc(title)} — budget <code>{_esc(report.budget)}</code>{status}</h1>",
        _summary(report),
        _proofs(report),
        _figure1(report),
        _trainings(report),
        _spectrum(report),
        _memory(report),
        _orphans(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body>\n</html>\n"
    )
