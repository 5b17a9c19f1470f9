r"""A sweep's grid: the analysis config read and checked, and expanded into its runs.

A sweep config (``analysis/configs/*.json``) is a JSON object::

    {"name": "henaff_fig2_copy",
     "paper": "what it reproduces (optional)",
     "base": {TrainConfig fields shared by every run},
     "panels": [{overrides of one figure panel}, ...],       (optional; default [{}])
     "runs": [{"label": "LT-ORNN", overrides...}, ...],
     "seeds": [0, 1, 2, 3]}

and its grid is the product panels × runs × seeds. Run ``(p, r, s)`` trains the config

.. math:: \text{base} \oplus \text{panels}[p] \oplus \text{runs}[r] \oplus \{\text{seed}: s\}

(later dicts win), a :class:`~orthornn.train.TrainConfig` checked here, before anything runs.
Its folder name, ``<panel>_<label>_seed<s>``, is the stem the one-process
``analysis/run_experiment.py`` gave its ``runs/*.json`` records, so a sweep finds them.

No torch is imported here.

Examples
--------
>>> spec = load_spec({"name": "demo", "base": {"task": "copy", "steps": 5, "T": 4},
...                   "panels": [{"hidden": 4}, {"hidden": 8}],
...                   "runs": [{"label": "RUM", "model": "rum"}, {"label": "LSTM", "model": "lstm"}],
...                   "seeds": [0, 1]})
>>> runs = expand(spec, only=["LSTM"], seeds=1)
>>> [r.name for r in runs]
['hidden_4_LSTM_seed0', 'hidden_8_LSTM_seed0']
>>> runs[1].config.hidden, runs[1].config.model
(8, 'lstm')
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OrthornnError
from ..train.config import TrainConfig

__all__ = ["Run", "Spec", "SweepError", "expand", "load_spec", "slug"]

#: Keys of a sweep config; ``paper`` and ``panels`` may be left out.
SPEC_KEYS = ("name", "paper", "base", "panels", "runs", "seeds")


class SweepError(OrthornnError):
    """A sweep config, a selection from it, or an output folder that cannot be used."""


def slug(text: str) -> str:
    """``text`` as a file-name fragment (the naming ``run_experiment.py`` used).

    >>> slug('{"T": 100}'), slug("RUM lambda=0 N=250")
    ('T_100', 'RUM_lambda=0_N=250')
    """
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", text).strip("_")


@dataclass(frozen=True)
class Spec:
    """A sweep config, checked: what :func:`load_spec` returns."""

    name: str  # the experiment's name (a results folder is usually named after it)
    base: dict[str, Any] = field(hash=False)  # TrainConfig fields of every run
    panels: tuple[dict[str, Any], ...] = field(hash=False)  # overrides of each figure panel
    runs: tuple[dict[str, Any], ...] = field(hash=False)  # overrides of each run, each with its "label"
    seeds: tuple[int, ...] = ()  # the seeds every (panel, run) is trained with
    paper: str = ""  # what the experiment reproduces (the summary's first line)

    @property
    def labels(self) -> tuple[str, ...]:
        """The run labels, in the config's order."""
        return tuple(r["label"] for r in self.runs)


@dataclass(frozen=True)
class Run:
    """One (panel, run, seed) of a sweep: a training config and where its results go."""

    panel_index: int  # index of its panel in Spec.panels
    panel: dict[str, Any] = field(hash=False)  # the panel's overrides
    label: str = ""  # the run's label
    seed: int = 0  # its seed
    config: TrainConfig = field(default_factory=TrainConfig)  # what it trains

    @property
    def name(self) -> str:
        """Its folder name under ``OUT/runs/``: ``<panel>_<label>_seed<s>``."""
        return f"{slug(json.dumps(self.panel))}_{slug(self.label)}_seed{self.seed}"

    @property
    def title(self) -> str:
        """How progress lines name it: ``T=100 LT-ORNN seed 3``."""
        panel = " ".join(f"{k}={v}" for k, v in self.panel.items())
        return f"{panel} {self.label} seed {self.seed}".strip()


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def load_spec(source: str | Path | Mapping[str, Any]) -> Spec:
    """Read and check a sweep config: a JSON file's path, or the parsed object.

    Raises
    ------
    SweepError
        One line naming the file and the first entry that is wrong (a missing or unknown key,
        a run without a label, two runs with one label, a seed that is not an integer…).

    Examples
    --------
    >>> load_spec({"name": "x", "base": {}, "runs": [{"label": "a"}, {"label": "a"}], "seeds": [0]})
    Traceback (most recent call last):
    ...
    orthornn.sweep.plan.SweepError: runs[1]: label 'a' is used twice
    """
    where = ""
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        path = Path(source)
        where = f"{path}: "
        if path.exists() and not path.is_dir() and not path.is_file():  # /dev/zero reads forever, a FIFO blocks
            raise SweepError(f"{path}: not a regular file (a device, pipe or socket), not a sweep config")
        try:
            text = path.read_text(encoding="utf-8")
        except IsADirectoryError:
            raise SweepError(f"{path}: is a folder, not a sweep config") from None
        except FileNotFoundError:
            raise SweepError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise SweepError(f"{path}: cannot read it ({why})") from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (json.JSONDecodeError, ValueError, RecursionError) as exc:
            raise SweepError(f"{path}: not JSON ({str(exc).splitlines()[0] if str(exc) else 'invalid'})") from None
    try:
        return _check(data)
    except SweepError as exc:
        raise SweepError(f"{where}{exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _check(data: Any) -> Spec:
    if not isinstance(data, dict):
        raise SweepError(f"a sweep config is a JSON object with {', '.join(SPEC_KEYS)}; got {_kind(data)}")
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise SweepError(f"unknown keys {', '.join(map(repr, unknown))} (a sweep config has {', '.join(SPEC_KEYS)})")
    missing = [k for k in ("name", "base", "runs", "seeds") if k not in data]
    if missing:
        raise SweepError(f"missing {', '.join(missing)} (a sweep config has {', '.join(SPEC_KEYS)})")
    name, paper = data["name"], data.get("paper", "")
    if not isinstance(name, str) or not name.strip():
        raise SweepError(f"name: must be a non-empty string, got {name!r}")
    if not isinstance(paper, str):
        raise SweepError(f"paper: must be a string, got {_kind(paper)}")
    base = data["base"]
    if not isinstance(base, dict):
        raise SweepError(f"base: must be an object of TrainConfig fields, got {_kind(base)}")
    panels = data.get("panels", [{}])
    if not isinstance(panels, list) or not panels:
        raise SweepError(f"panels: must be a non-empty list of objects, got {_kind(panels)}")
    for i, p in enumerate(panels):
        if not isinstance(p, dict):
            raise SweepError(f"panels[{i}]: must be an object of TrainConfig fields, got {_kind(p)}")
        if "seed" in p:
            raise SweepError(f"panels[{i}]: seed: the seeds come from 'seeds'")
    runs = data["runs"]
    if not isinstance(runs, list) or not runs:
        raise SweepError(f"runs: must be a non-empty list of objects, got {_kind(runs)}")
    labels: set[str] = set()
    for i, r in enumerate(runs):
        if not isinstance(r, dict):
            raise SweepError(f"runs[{i}]: must be an object with a label, got {_kind(r)}")
        label = r.get("label")
        if not isinstance(label, str) or not label.strip():
            raise SweepError(f"runs[{i}]: label: must be a non-empty string, got {label!r}")
        if label in labels:
            raise SweepError(f"runs[{i}]: label {label!r} is used twice")
        if "seed" in r:
            raise SweepError(f"runs[{i}] ({label}): seed: the seeds come from 'seeds'")
        labels.add(label)
    seeds = data["seeds"]
    if not isinstance(seeds, list) or not seeds:
        raise SweepError(f"seeds: must be a non-empty list of integers, got {_kind(seeds)}")
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise SweepError(f"seeds: must be non-negative integers, got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seeds: {seeds} lists a seed twice")
    if "seed" in base:
        raise SweepError("base: seed: the seeds come from 'seeds'")
    return Spec(name=name, base=base, panels=tuple(panels), runs=tuple(runs), seeds=tuple(seeds), paper=paper)


def expand(
    spec: Spec,
    *,
    only: Iterable[str] | None = None,
    seeds: int | None = None,
    panels: Iterable[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[Run]:
    """Every (panel, run, seed) of ``spec`` to train, panel by panel, run by run, seed by seed.

    Parameters
    ----------
    spec : Spec
    only : iterable of str, optional
        Train only the runs with these labels.
    seeds : int, optional
        Train only the first ``seeds`` seeds of the config.
    panels : iterable of int, optional
        Train only the panels of these indices.
    overrides : mapping, optional
        TrainConfig fields set in every run (e.g. ``{"steps": 100}`` to shrink a config).

    Raises
    ------
    SweepError
        An unknown label, a panel index out of range, a seed count below 1 or above the
        config's, or a (panel, run) whose TrainConfig is refused (naming them and the field).
    """
    chosen_labels = list(spec.labels if only is None else only)
    unknown = [label for label in chosen_labels if label not in spec.labels]
    if unknown:
        raise SweepError(
            f"--only {unknown[0]!r}: no run has that label; the labels are {', '.join(map(repr, spec.labels))}"
        )
    if seeds is not None and not 1 <= seeds <= len(spec.seeds):
        raise SweepError(f"--seeds {seeds}: must be from 1 to {len(spec.seeds)} (the config lists {len(spec.seeds)})")
    chosen_seeds = spec.seeds[:seeds] if seeds is not None else spec.seeds
    chosen_panels = list(range(len(spec.panels)) if panels is None else panels)
    for pi in chosen_panels:
        if not (isinstance(pi, int) and 0 <= pi < len(spec.panels)):
            raise SweepError(f"--panels {pi}: the config has panels 0 to {len(spec.panels) - 1}")
    out: list[Run] = []
    for pi in chosen_panels:
        for run in spec.runs:
            if run["label"] not in chosen_labels:
                continue
            for seed in chosen_seeds:
                fields = {**spec.base, **spec.panels[pi], **{k: v for k, v in run.items() if k != "label"}}
                fields.update(overrides or {})
                fields["seed"] = seed
                try:
                    config = TrainConfig.from_dict(fields)
                except (OrthornnError, TypeError) as exc:
                    where = f"panel {json.dumps(spec.panels[pi])}, run {run['label']!r}"
                    raise SweepError(f"{where}: {str(exc).splitlines()[0]}") from None
                out.append(Run(panel_index=pi, panel=spec.panels[pi], label=run["label"], seed=seed, config=config))
    return out
