"""``orthornn spectrum SOURCE [--out FILE.png] [--json FILE] [--roots P] [--bins B]``.

SOURCE is one of

* ``DIR`` or ``DIR/checkpoint.pt`` — an LT-RNN run of ``orthornn train --out DIR``: its trained
  transition ``V`` (``--roots`` defaults to ``T + S`` for the copy task);
* ``FILE.npy`` — a transition matrix ``(n, n)`` or a batch ``(..., n, n)`` saved with
  :func:`numpy.save`;
* ``explicit:copy:T=500,S=10,d=128`` — the clock ``V`` of Henaff et al.'s explicit copy solution
  (:func:`orthornn.henaff.copy_solution`), with optional keys ``K`` (alphabet, default 8) and
  ``seed`` (default 0); ``--roots`` defaults to ``T + S``.

Orthogonal input (defect within :func:`orthornn._conventions.orthogonality_tolerance`) is read
by the real-Schur route (:func:`orthornn.spectra.eigenphases`); anything else by the general
route (:func:`orthornn.spectra.eigenvalues`), which also reports the moduli and the departure
from normality. Prints a summary; ``--out`` writes the figure (eigenvalues on the unit circle
beside the phase histogram), ``--json`` the phases and the statistics.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._conventions import orthogonality_tolerance, wrap_phase
from ..numeric.validation import as_float_array, check_square, orthogonality_defect
from ..spectra import (
    departure_from_normality,
    eigenphases,
    eigenvalues,
    ordinal,
    root_distance,
    spacing_variance,
)
from .usage import UsageError, check_writable, path_arg, writing

__all__ = ["EXPLICIT_SOURCES", "MAX_BINS", "MAX_ROOTS", "Source", "analyse", "load_source", "register", "run"]

#: Keys of ``explicit:copy:...``: name → (required, default).
_COPY_KEYS: dict[str, tuple[bool, int | None]] = {
    "T": (True, None),
    "S": (True, None),
    "d": (True, None),
    "K": (False, 8),
    "seed": (False, 0),
}

#: Explicit solutions ``explicit:NAME:...`` and the keys each takes.
EXPLICIT_SOURCES = {"copy": _COPY_KEYS}

_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")

#: Most histogram bins ``--bins`` takes: more than a figure has pixels across draw nothing more,
#: and a histogram of 10**12 bins would first try to allocate terabytes.
MAX_BINS = 10_000
#: Largest root order ``--roots`` takes: the figure marks every root (10**6 marks take half a
#: minute to draw; 2**31 of them would need 16 GiB), and the roots' spacing 2π/p is then 6e-6.
MAX_ROOTS = 1_000_000


@dataclass(frozen=True)
class Source:
    """What SOURCE resolved to: the matrices, a label, and the default root order."""

    label: str
    matrices: np.ndarray
    roots: int | None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``spectrum`` subcommand."""
    p = sub.add_parser(
        "spectrum",
        help="eigenphases and their statistics for a transition (LT-RNN run, .npy, explicit solution)",
        description=(
            "Spectrum of a recurrent transition: eigenphases, orthogonality defect, spacing "
            "variance, distance to p-th roots of unity; optional figure and JSON."
        ),
        epilog=(
            "SOURCE: an LT-RNN run DIR (or its checkpoint.pt), FILE.npy, "
            "or explicit:copy:T=500,S=10,d=128[,K=8][,seed=0]"
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="run DIR, FILE.npy or explicit:copy:T=..,S=..,d=..")
    p.add_argument("--out", type=path_arg, metavar="FILE.png", help="write the figure (.png, .svg or .pdf)")
    p.add_argument("--json", dest="json_file", type=path_arg, metavar="FILE", help="write phases and statistics")
    p.add_argument("--roots", type=int, metavar="P", help="order p of the roots of unity to measure against")
    p.add_argument(
        "--bins",
        type=int,
        default=None,
        metavar="B",
        help="histogram bins (default: the odd integer near √(number of phases), orthornn.plotting.phase_bins)",
    )
    p.set_defaults(handler=run)


def _parse_int(key: str, text: str, source: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"SOURCE {source!r}: {key}={text!r} is not an integer") from None


def _explicit(source: str) -> Source:
    parts = source.split(":", 2)
    name = parts[1] if len(parts) > 1 else ""
    if name not in EXPLICIT_SOURCES:
        raise UsageError(f"SOURCE {source!r}: unknown explicit solution {name!r}; valid: {', '.join(EXPLICIT_SOURCES)}")
    keys = EXPLICIT_SOURCES[name]
    given: dict[str, int] = {}
    spec = parts[2] if len(parts) > 2 else ""
    for item in filter(None, spec.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in keys:
            raise UsageError(f"SOURCE {source!r}: bad item {item!r}; keys are {', '.join(keys)} as KEY=INT")
        if key in given:
            raise UsageError(f"SOURCE {source!r}: {key} given twice")
        given[key] = _parse_int(key, value.strip(), source)
    missing = [k for k, (required, _) in keys.items() if required and k not in given]
    if missing:
        raise UsageError(f"SOURCE {source!r}: missing {', '.join(missing)} (e.g. explicit:copy:T=500,S=10,d=128)")
    values = {k: given.get(k, default) for k, (_, default) in keys.items()}
    from ..henaff import copy_solution

    sol = copy_solution(K=values["K"], S=values["S"], T=values["T"], d=values["d"], rng=values["seed"])
    label = f"explicit:copy:T={values['T']},S={values['S']},d={values['d']},K={values['K']},seed={values['seed']}"
    return Source(label, sol.V, values["T"] + values["S"])


def _checkpoint(source: str, path: Path) -> Source:
    """The transition ``V`` of an LT-RNN training run (``orthornn train --out DIR``)."""
    if not path.is_file():
        raise UsageError(f"SOURCE {source!r}: no checkpoint at {path} (a run directory of `orthornn train --out`)")
    from ..train.checkpoint import CheckpointError, load_checkpoint

    try:
        state = load_checkpoint(path)  # weights_only: a crafted pickle is refused, never run
    except CheckpointError as exc:
        raise UsageError(f"SOURCE {source!r}: {exc}") from None
    cfg = state["config"]
    keys = [k for k in state["model"] if k == "weight_rec" or k.endswith(".weight_rec")]
    if cfg.get("model") != "ltrnn" or len(keys) != 1:
        raise UsageError(
            f"SOURCE {source!r}: a {cfg.get('model')!r} checkpoint has no fixed transition matrix "
            "(only LT-RNN runs do); for RUM's memory R_t use orthornn.spectra.memory_phases on a forward pass"
        )
    V = state["model"][keys[0]].detach().numpy()
    roots = int(cfg["T"]) + int(cfg["S"]) if cfg.get("task") == "copy" else None
    label = f"{source} (ltrnn on {cfg.get('task')}, T={cfg.get('T')}, hidden {V.shape[0]}, step {state['step']})"
    return Source(label, as_float_array(V, "weight_rec", min_ndim=2), roots)


def load_source(source: str) -> Source:
    """Resolve SOURCE to matrices; :class:`UsageError` (exit 2, one line) if it cannot be read."""
    if source.startswith("explicit:"):
        return _explicit(source)
    path = Path(source)
    if path.is_dir() or path.suffix in (".pt", ".pth"):
        return _checkpoint(source, path / "checkpoint.pt" if path.is_dir() else path)
    if path.suffix != ".npy":
        raise UsageError(f"SOURCE {source!r}: expected a run DIR, FILE.npy or explicit:copy:T=..,S=..,d=..")
    if not path.is_file():
        raise UsageError(f"SOURCE {source!r}: no such file")
    try:
        raw = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UsageError(f"SOURCE {source!r}: not a readable .npy array ({exc})") from None
    try:
        arr = as_float_array(raw, "SOURCE", min_ndim=2)
    except TypeError as exc:
        raise UsageError(f"SOURCE {source!r}: {exc}") from None
    check_square(arr, f"SOURCE {source!r}")
    if arr.shape[-1] == 0 or arr.size == 0:
        raise UsageError(f"SOURCE {source!r}: empty array {arr.shape}")
    return Source(str(path), arr, None)


def analyse(src: Source, roots: int | None) -> dict[str, Any]:
    """The JSON document: shape, route, phases (and eigenvalues), statistics."""
    M = src.matrices
    n = M.shape[-1]
    batch = M.shape[:-2]
    defect = orthogonality_defect(M)
    tol = orthogonality_tolerance(n, M.dtype)
    orthogonal = bool(defect.max(initial=0.0) <= tol)
    doc: dict[str, Any] = {"source": src.label, "n": n, "batch_shape": list(batch)}
    stats: dict[str, Any] = {
        "orthogonality_defect": float(defect.max(initial=0.0)),
        "orthogonality_tolerance": tol,
    }
    if orthogonal:
        phases = eigenphases(M)
        doc["route"] = "orthogonal"
    else:
        lam = eigenvalues(M)
        phases = wrap_phase(np.angle(lam))
        doc["route"] = "general"
        doc["eigenvalues"] = np.stack([lam.real, lam.imag], axis=-1).tolist()
        stats["modulus_min"] = float(np.abs(lam).min())
        stats["modulus_max"] = float(np.abs(lam).max())
        stats["departure_from_normality_relative"] = float(departure_from_normality(M, relative=True).max())
    var = spacing_variance(phases, convention="half")
    stats["spacing_convention"] = "half"
    stats["spacing_variance"] = float(np.mean(var))
    stats["roots"] = roots
    if roots is not None:
        dist = root_distance(phases, roots)
        stats["root_distance_max"] = float(dist.max())
        stats["root_distance_mean_normalized"] = float((dist / (np.pi / roots)).mean())
    doc["statistics"] = stats
    doc["per_matrix"] = {"orthogonality_defect": np.ravel(defect).tolist(), "spacing_variance": np.ravel(var).tolist()}
    doc["phases"] = phases.tolist()
    return doc


def _row(key: str, value: str) -> str:
    return f"{key:<23}{value}"


def _summary(doc: dict[str, Any]) -> list[str]:
    s = doc["statistics"]
    count = int(np.prod(doc["batch_shape"])) if doc["batch_shape"] else 1
    orthogonal = doc["route"] == "orthogonal"
    defect, tol = s["orthogonality_defect"], s["orthogonality_tolerance"]
    lines = [
        _row("source", doc["source"]),
        _row("matrices", f"{count} of size {doc['n']}×{doc['n']}"),
        _row("route", "orthogonal: real-Schur eigenphases" if orthogonal else "not orthogonal: general eigenvalues"),
        _row("orthogonality defect", f"{defect:.3g} (max ‖MᵀM − I‖_max; tolerance {tol:.3g})"),
    ]
    if not orthogonal:
        lines.append(_row("|λ| range", f"[{s['modulus_min']:.4g}, {s['modulus_max']:.4g}]"))
        lines.append(_row("departure from normal", f"{s['departure_from_normality_relative']:.3g} (relative, max)"))
    var = s["spacing_variance"]
    lines.append(_row("spacing variance", f"{var:.3f} (half spectrum; Haar SO(n) ≈ 0.19, independent phases ≈ 1)"))
    if s["roots"] is not None:
        mean, worst = s["root_distance_mean_normalized"], s["root_distance_max"]
        lines.append(
            _row(
                f"{ordinal(s['roots'])} roots",
                f"mean normalised distance {mean:.3f} (0 on the roots, 0.5 uniform); max {worst:.3g} rad",
            )
        )
    return lines


def run(args: argparse.Namespace) -> int:
    """Load SOURCE, print the summary, write the figure and the JSON."""
    check_writable(args.out, "--out")
    check_writable(args.json_file, "--json")
    if args.out is not None and args.out.suffix.lower() not in _FIGURE_SUFFIXES:
        raise UsageError(f"--out {args.out}: the figure must be {', '.join(_FIGURE_SUFFIXES)}")
    if args.roots is not None and args.roots < 1:
        raise UsageError(f"--roots must be >= 1, got {args.roots}")
    if args.roots is not None and args.roots > MAX_ROOTS:
        raise UsageError(f"--roots must be <= {MAX_ROOTS}, got {args.roots}")
    if args.bins is not None and args.bins < 1:
        raise UsageError(f"--bins must be >= 1, got {args.bins}")
    if args.bins is not None and args.bins > MAX_BINS:
        raise UsageError(f"--bins must be <= {MAX_BINS}, got {args.bins}")
    src = load_source(args.source)
    roots = args.roots if args.roots is not None else src.roots
    doc = analyse(src, roots)
    for line in _summary(doc):
        print(line)
    if args.out is not None:
        from ..plotting import spectrum_figure

        values = (
            np.asarray(doc["phases"])
            if doc["route"] == "orthogonal"
            else np.asarray(doc["eigenvalues"])[..., 0] + 1j * np.asarray(doc["eigenvalues"])[..., 1]
        )
        fig = spectrum_figure(
            values,
            phases=np.asarray(doc["phases"]),
            roots=roots,
            haar_n=doc["n"] if doc["route"] == "orthogonal" else None,
            bins=args.bins,
            title=doc["source"],
        )
        with writing(args.out, "--out"):
            fig.savefig(args.out, dpi=110)
        print(_row("figure", str(args.out)))
    if args.json_file is not None:
        with writing(args.json_file, "--json"):
            args.json_file.write_text(json.dumps(doc) + "\n")
        print(_row("json", str(args.json_file)))
    return 0
