r"""Run the stages of a :class:`~orthornn.report.plan.Budget` and return a :class:`ReportData`.

Stages, in order (each a function of the :class:`Context`, looked up in :data:`STAGES` when it
runs, returning its JSON-ready numbers):

1. ``proofs`` — every theorem of the budget's proof files (:func:`orthornn.symbolic.discover`);
2. ``figure1`` — the success grid of Henaff et al.'s copy construction
   (:func:`orthornn.henaff.figure1`);
3. ``training:<key>`` — each training run (:class:`orthornn.train.Trainer`), with the held-out
   loss against the memoryless baseline;
4. ``spectrum`` — the eigenphases of the trained LT-RNN transition :math:`V` compared with the
   explicit clock of the copy solution and with Haar-random rotations: concentration near the
   :math:`(T+S)`-th roots of unity and circular Wasserstein-1 distances (:mod:`orthornn.spectra`);
5. ``memory`` — the eigenphases of RUM's memory :math:`R_t` over one held-out recall sequence.

A stage that raises is recorded as ``failed`` with the exception's last line; the others still
run (a stage that needs a failed one fails saying so). Nothing here prints or writes files; a
``progress`` callback hears each stage start and end.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._conventions import orthogonality_tolerance, wrap_phase
from ..errors import OrthornnError
from ..numeric.validation import orthogonality_defect
from .data import ReportData, Stage
from .plan import Budget

__all__ = ["STAGES", "Context", "Progress", "StageError", "run_report", "spectral_statistics", "stage_plan"]

#: ``progress(index, total, stage)``: called with ``stage.status == "running"`` before a stage and
#: with the finished :class:`Stage` after it (index counts from 1).
Progress = Callable[[int, int, Stage], None]


class StageError(OrthornnError):
    """A stage cannot run (e.g. the stage it builds on failed)."""


@dataclass
class Context:
    """What the stages share: the budget, the device, the working folder and finished stages."""

    budget: Budget
    device: str  # a torch device name (cpu, cuda, cuda:N)
    root: Path | None  # folder the proof paths are relative to; None: where default_theorems() is
    done: dict[str, Stage] = field(default_factory=dict)

    def needs(self, key: str) -> Stage:
        """The finished stage ``key``; :class:`StageError` if it failed or did not run."""
        s = self.done.get(key)
        if s is None or s.status != "ok":
            raise StageError(f"needs stage {key!r}, which {'did not run' if s is None else 'failed'}")
        return s


# ------------------------------------------------------------------------------------------------
# stages
# ------------------------------------------------------------------------------------------------


#: Seconds a theorem may run in the report before it is reported undecided (as `orthornn prove`).
PROOF_TIMEOUT = 300.0


def stage_proofs(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the theorems; the table of ids, statements and statuses."""
    from ..symbolic import Status, default_theorems, discover, to_json

    root = default_theorems().parent if ctx.root is None else ctx.root
    paths = [root / p for p in ctx.budget.proof_paths]
    theorems = discover(paths, ctx.budget.proof_pattern)
    if not theorems:
        raise StageError(f"no theorem matches {ctx.budget.proof_pattern!r} in {', '.join(map(str, paths))}")
    results = [th.run(PROOF_TIMEOUT) for th in theorems]
    doc = to_json(results)
    for rec, r in zip(doc["theorems"], results, strict=True):  # type: ignore[call-overload]
        rec["message"] = r.message or None
        rec["checks"] = len(r.checks)
    doc["all_proved"] = all(r.status is Status.PROVED for r in results)
    doc["pattern"] = ctx.budget.proof_pattern
    return doc, {}


def stage_figure1(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Henaff Figure 1 grid."""
    from ..henaff import figure1

    b = ctx.budget
    f = figure1(b.figure1_K, b.figure1_S, T=b.figure1_T, d=b.figure1_d, trials=b.figure1_trials, seed=b.seed)
    data = {
        "K_values": list(f.K_values),
        "S_values": list(f.S_values),
        "T": f.T,
        "d": f.d,
        "trials": f.trials,
        "seed": f.seed,
        "success": f.success.tolist(),
        "recall_accuracy": f.recall.tolist(),
        "grid_seconds": f.seconds,
    }
    return data, {"figure1": f}


def _training(key: str) -> Callable[[Context], tuple[dict[str, Any], dict[str, Any]]]:
    def stage(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:

        from ..train import Trainer

        run = ctx.budget.training(key)
        config = run.config.replace(device=ctx.device)
        trainer = Trainer(config)
        initial = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
        hist = trainer.run()
        s = hist.summary
        if hist.stopped is not None:
            raise StageError(hist.stopped)
        final = s["final"] or {}
        data = {
            "title": run.title,
            "config": config.to_dict(),
            "steps": s["steps"],
            "wall_seconds": s["wall_seconds"],
            "parameters": s["parameters"],
            "device": s["device"],
            "device_name": s["device_name"],
            "final_loss": final.get("loss"),
            "final_accuracy": final.get("accuracy"),
            "best_loss": (s["best"] or {}).get("loss"),
            "baseline": s["baseline"],
            "baseline_accuracy": s["baseline_accuracy"],
            "beats_baseline": final.get("beats_baseline"),
            "loss_ratio_to_baseline": final["loss"] / s["baseline"] if final else None,
            "eval_steps": [e["step"] for e in hist.evals],
            "eval_loss": [e["loss"] for e in hist.evals],
            "eval_accuracy": [e.get("accuracy") for e in hist.evals] if "accuracy" in (final or {}) else None,
        }
        trained = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
        artifacts = {
            "config": config,
            "history": hist,
            "train_loss": np.array([r["loss"] for r in hist.train]),
            "initial_state": initial,
            "trained_state": trained,
            "model": trainer.model,
            "stream": trainer.stream,
        }
        return data, artifacts

    stage.__name__ = f"stage_training_{key}"
    return stage


def _haar_so(n: int, count: int, seed: int) -> np.ndarray:
    """``count`` Haar-random rotations of SO(n) (scipy's sampler), shape (count, n, n)."""
    from scipy.stats import special_ortho_group

    out = special_ortho_group.rvs(n, size=count, random_state=np.random.default_rng(seed))
    return np.asarray(out).reshape(count, n, n)


def _phases_of(M: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Eigenphases of each matrix: the real-Schur route when orthogonal, the general one otherwise."""
    from ..spectra import departure_from_normality, eigenphases, eigenvalues

    n = M.shape[-1]
    defect = float(np.max(orthogonality_defect(M)))
    info: dict[str, Any] = {"orthogonality_defect": defect}
    if defect <= orthogonality_tolerance(n, M.dtype):
        info["route"] = "orthogonal"
        return eigenphases(M), info
    lam = eigenvalues(M)
    info["route"] = "general"
    info["modulus_min"] = float(np.abs(lam).min())
    info["modulus_max"] = float(np.abs(lam).max())
    info["departure_from_normality_relative"] = float(np.max(departure_from_normality(M, relative=True)))
    return wrap_phase(np.angle(lam)), info


def spectral_statistics(phases: np.ndarray, p: int) -> dict[str, float]:
    r"""Concentration of eigenphases near the p-th roots of unity, and their spacing variance.

    ``root_distance_mean`` is the mean of :math:`\delta_p(\varphi)/(\pi/p)` (0 on the roots, 1/2
    for uniform phases); ``near_root_fraction`` the fraction with :math:`\delta_p < \pi/(4p)`
    (1/4 for uniform phases, 1 for the clock). Rows of a batch are averaged.

    Examples
    --------
    >>> ph = 2 * np.pi * np.arange(-3, 4) / 7        # on the 7th roots (conjugate pairs and 0)
    >>> s = spectral_statistics(ph, 7)
    >>> round(s["root_distance_mean"], 12), s["near_root_fraction"]
    (0.0, 1.0)
    """
    from ..spectra import root_distance, spacing_variance

    dist = root_distance(phases, p, normalized=True)
    return {
        "root_distance_mean": float(dist.mean()),
        "near_root_fraction": float((dist < 0.25).mean()),
        "spacing_variance": float(np.mean(spacing_variance(phases, convention="half"))),
    }


def root_scan(trained: np.ndarray, initial: np.ndarray, haar: np.ndarray, orders: Iterable[int]) -> dict[str, Any]:
    r"""Mean normalised distance to the p-th roots of unity for every order p, against Haar draws.

    Does any period stand out? For each p: the mean of :math:`\delta_p(\varphi)/(\pi/p)` of the
    trained and initial phases, the mean and standard deviation over the Haar draws (rows of
    ``haar``), and the trained value's z-score against them.

    Examples
    --------
    >>> clock = 2 * np.pi * np.arange(-2, 3) / 5
    >>> haar = np.random.default_rng(0).uniform(-np.pi, np.pi, (50, 5))
    >>> scan = root_scan(clock, clock, haar, [4, 5])
    >>> scan["trained"][1], scan["z_trained"][1] < -3      # p = 5: on the roots, far below chance
    (0.0, True)
    """
    from ..spectra import root_distance

    ps = [int(q) for q in orders]
    per = {name: [] for name in ("trained", "initial", "haar_mean", "haar_std", "z_trained")}
    for q in ps:
        t = float(root_distance(trained, q, normalized=True).mean())
        hq = root_distance(haar, q, normalized=True).mean(axis=-1)
        m, sd = float(hq.mean()), float(hq.std())
        per["trained"].append(t)
        per["initial"].append(float(root_distance(initial, q, normalized=True).mean()))
        per["haar_mean"].append(m)
        per["haar_std"].append(sd)
        per["z_trained"].append((t - m) / sd if sd > 0 else None)
    return {"p": ps, **per}


def stage_spectrum(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Trained LT-RNN transition vs the explicit clock and a Haar baseline."""
    from ..henaff import copy_solution
    from ..spectra import circular_wasserstein

    run = ctx.needs(f"training:{ctx.budget.spectrum_run}")
    cfg = run.artifacts["config"]
    key = next(k for k in run.artifacts["trained_state"] if k.endswith("weight_rec"))
    V = run.artifacts["trained_state"][key].numpy()
    V0 = run.artifacts["initial_state"][key].numpy()
    n, p = V.shape[-1], cfg.T + cfg.S
    d = n // 2
    clock = copy_solution(K=cfg.K, S=cfg.S, T=cfg.T, d=d, rng=ctx.budget.seed).V
    haar = _haar_so(n, ctx.budget.haar_samples, ctx.budget.seed)
    phases: dict[str, np.ndarray] = {}
    rows: dict[str, dict[str, Any]] = {}
    for name, M in (("trained", V), ("initial", V0), ("explicit", clock), ("haar", haar)):
        ph, info = _phases_of(M)
        phases[name] = ph
        rows[name] = {"n": int(M.shape[-1]), **info, **spectral_statistics(ph, p)}
    haar_std = {
        k: float(np.std([spectral_statistics(r, p)[k] for r in phases["haar"]]))
        for k in rows["haar"]
        if k in ("root_distance_mean", "near_root_fraction", "spacing_variance")
    }
    rows["haar"]["samples"] = ctx.budget.haar_samples
    rows["haar"]["std"] = haar_std

    def w1(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(circular_wasserstein(a, b)))

    h = phases["haar"]
    distances = {
        "trained_vs_explicit": w1(phases["trained"], phases["explicit"]),
        "initial_vs_explicit": w1(phases["initial"], phases["explicit"]),
        "haar_vs_explicit": w1(h, phases["explicit"]),
        "trained_vs_haar": w1(phases["trained"], h),
        "initial_vs_haar": w1(phases["initial"], h),
        "haar_vs_haar": w1(h, np.roll(h, 1, axis=0)) if len(h) > 1 else None,
    }
    data = {
        "run": ctx.budget.spectrum_run,
        "roots": p,
        "T": cfg.T,
        "S": cfg.S,
        "hidden": n,
        "explicit_d": d,
        "explicit_hidden": 2 * d + 1,
        "statistics": rows,
        "wasserstein": distances,
        "root_scan": root_scan(phases["trained"], phases["initial"], h, range(2, 3 * p + 1)),
    }
    artifacts = {"phases": phases, "V": V, "V0": V0, "roots": p}
    return data, artifacts


#: A memory phase counts as 0 (an untouched direction) below this (rad); R_t is normal, so its
#: eigenvalues move no more than the rounding of R_t (float32: ~1e-6 after tens of steps).
_ZERO_PHASE = 1e-3


def stage_memory(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Eigenphases of a trained RUM λ = 1 memory R_t over one held-out sequence."""
    import torch

    from ..spectra import memory_phases

    if ctx.budget.memory_run is None:
        raise StageError("this budget draws no memory phases")
    run = ctx.needs(f"training:{ctx.budget.memory_run}")
    model, stream = run.artifacts["model"], run.artifacts["stream"]
    cell = model.core.cell
    x = stream.batch(0, "eval").x[:1]
    Rs = []
    model.eval()
    with torch.no_grad():
        state = cell.initial_state(1, like=x)
        for proj_t in cell.input_projection(x).unbind(1):
            state = cell.step(proj_t, state)
            Rs.append(state.R[0].detach().cpu().numpy())
    R_seq = np.stack(Rs)
    ph, defect = memory_phases(R_seq, return_defect=True)
    moved = np.abs(wrap_phase(np.diff(ph, axis=0))).max(axis=-1) if len(ph) > 1 else np.zeros(0)
    # R_t − R_{t−1} = R_{t−1}(Rotation − I) has rank ≤ 2: the phase-0 multiplicity drops by ≤ 2 per step
    at_zero = (np.abs(ph) < _ZERO_PHASE).sum(axis=-1)
    data = {
        "run": ctx.budget.memory_run,
        "steps": int(R_seq.shape[0]),
        "n": int(R_seq.shape[-1]),
        "orthogonality_defect_max": float(np.max(defect)),
        "final_phases": ph[-1].tolist(),
        "largest_phase_change_per_step": moved.tolist(),  # of the sorted phases, step to step
        "zero_phase_tolerance": _ZERO_PHASE,
        "phases_at_zero": at_zero.tolist(),
    }
    return data, {"phases": ph}


#: Stage functions by key; each returns ``(data, artifacts)``. Looked up when the stage runs, so
#: an entry ``"training:<key>"`` replaces that run's training (the default trains its config).
STAGES: dict[str, Callable[[Context], tuple[dict[str, Any], dict[str, Any]]]] = {
    "proofs": stage_proofs,
    "figure1": stage_figure1,
    "spectrum": stage_spectrum,
    "memory": stage_memory,
}


def stage_plan(budget: Budget) -> list[tuple[str, str]]:
    """``(key, title)`` of every stage of ``budget``, in order.

    >>> from orthornn.report.plan import budget
    >>> [k for k, _ in stage_plan(budget("tiny"))][:3]
    ['proofs', 'figure1', 'training:ltornn_copy']
    """
    plan = [("proofs", "proving the theorems"), ("figure1", "Henaff Figure 1 grid")]
    for r in budget.trainings:
        plan.append((f"training:{r.key}", f"training {r.config.model} on {r.config.task} ({r.title})"))
    plan.append(("spectrum", "spectrum of the trained transition vs the explicit clock"))
    if budget.memory_run is not None:
        plan.append(("memory", "RUM memory phases R_t"))
    return plan


def _function(key: str) -> Callable[[Context], tuple[dict[str, Any], dict[str, Any]]]:
    if key.startswith("training:"):
        override = STAGES.get(key)
        return override if override is not None else _training(key.split(":", 1)[1])
    return STAGES[key]


def _environment() -> dict[str, Any]:
    import sympy

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sympy": sympy.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        env["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        env["load_average"] = None
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a dependency
        env["torch"] = None
    return env


def run_report(
    budget: Budget,
    *,
    device: str = "cpu",
    root: str | Path | None = None,
    progress: Progress | None = None,
) -> ReportData:
    """Run every stage of ``budget``; failures are recorded, never raised.

    Parameters
    ----------
    budget : Budget
    device : str
        torch device of the trainings (``cpu``, ``cuda``, ``cuda:N``; resolve ``auto`` first).
    root : path, optional
        Folder the budget's proof paths are relative to. ``None`` (the default): the folder
        holding :func:`orthornn.symbolic.default_theorems`, i.e. the working directory if it has
        a ``proofs/`` folder, else the folder of the theorems shipped with orthornn, so the
        report runs from any folder (as ``orthornn report`` without ``--proofs-root``). Resolved
        when the proofs stage runs; if the shipped theorems are missing, that stage fails.
    progress : callable, optional
        ``progress(index, total, stage)`` before (status ``running``) and after each stage.

    Returns
    -------
    ReportData
    """
    ctx = Context(budget, device, None if root is None else Path(root))
    started = datetime.datetime.now().isoformat(timespec="seconds")
    env = _environment()  # the load average (1, 5, 15 min) before the report loads the machine
    t_all, c_all = time.perf_counter(), time.process_time()
    plan = stage_plan(budget)
    stages: list[Stage] = []
    for i, (key, title) in enumerate(plan, 1):
        if progress is not None:
            progress(i, len(plan), Stage(key, title, "running", 0.0))
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            data, artifacts = _function(key)(ctx)
            stage = Stage(key, title, "ok", time.perf_counter() - t0, data=data, artifacts=artifacts)
        except Exception as exc:
            line = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
            stage = Stage(key, title, "failed", time.perf_counter() - t0, error=line)
        stage.cpu_seconds = time.process_time() - c0
        ctx.done[key] = stage
        stages.append(stage)
        if progress is not None:
            progress(i, len(plan), stage)
    env["load_average_end"] = _environment()["load_average"]
    report = ReportData(budget.name, device, started, time.perf_counter() - t_all, stages, env)
    report.cpu_seconds = time.process_time() - c_all
    report.notes.append(f"Budget {budget.name}: {budget.description}.")
    return report
