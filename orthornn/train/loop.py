r"""The training loop: one engine for every (task, model) pair; returns a History, prints nothing.

.. math:: \theta_{k+1} = \operatorname{opt}\big(\theta_k,\ \nabla_\theta \mathcal L(f_\theta(x_k), y_k)\big),
          \qquad (x_k, y_k) = \operatorname{batch}(\text{seed}, k)

Everything random is a function of ``(seed, step)``: the initial parameters (torch seeded with
``seed``, built on the CPU then moved, so CPU and GPU runs start alike), the training batch
of step ``k`` and the per-step noise (zoneout, orthogonality-penalty directions). With the
optimiser state in the checkpoint, a run resumed at step ``k`` reproduces the uninterrupted
run exactly.

On bAbI the test set is evaluated with the parameters of the best validation evaluation (RUM,
appendix C: the best-validation model is tested), which the trainer keeps, and its
checkpoints hold (``best_model``), beside the current ones. A generated task with a fixed test
set does the same under ``test_at="best"`` (the default ``"final"`` tests the last step's
parameters). A run resumed from a checkpoint of ``test_at="final"`` with ``test_at="best"`` has
no best parameters from before the resume: it chooses among the evaluations after that step,
which the summary and the test record state (``best_since``).

On character-level PTB (task ``ptb``) training batch ``k`` is the ``k``-th window of contiguous
streams (:class:`~orthornn.train.data.CharStream`): the model's final state of window ``k`` —
RUM's ``(h, R)``, FS-RUM's fast and slow states, the LSTM's ``(h, c)`` — is detached and
carried into window ``k + 1`` (truncated BPTT), and starts afresh (zero) at each epoch; the
checkpoint holds it (``carry``), so a resumed run continues the same streams. Evaluation runs the
validation (or test) streams window by window with the state carried from zero, and reports the
cross-entropy per character (``loss``, nats) and its bits per character (``bpc``); the test set is
scored with the best-validation parameters, as on bAbI. The learning rate follows
``config.lr_schedule`` (:mod:`orthornn.train.schedule`).

Given a :class:`~orthornn.train.distributed.World` of several ranks, the trainer is one rank of
a data-parallel run (:mod:`orthornn.train.distributed`): it trains its share of each global
batch through ``DistributedDataParallel``, and takes the steps one process with the whole batch
takes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import OrthornnError
from ..nn.lm import detach_state, state_to_plain
from .checkpoint import FORMAT, CheckpointError, check_checkpoint, check_resumable, to_cpu
from .config import TrainConfig
from .data import stream
from .distributed import World, check_parallel, rank_device, wrap
from .metrics import task_loss
from .optim import build_optimizer, learned_lams, parameter_groups
from .registry import build_model, count_parameters
from .schedule import lr_factor

__all__ = ["History", "Trainer", "resolve_device", "train"]

Record = dict[str, Any]

#: How far below ``stop_accuracy`` an evaluation's accuracy may fall and still reach it. A held-out
#: accuracy is a mean over batches of per-batch floats, so a set answered without one error can
#: come out a few ulps below 1 (10,000 sequences in batches of 128: 0.9999999999999999); one
#: wrong answer in a set of up to 10**9 sequences costs at least 1e-9, far above this.
ACCURACY_ROUNDING = 1e-12


def resolve_device(name: str) -> torch.device:
    """``auto`` -> ``cuda`` if available else ``cpu``; a CUDA device without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise OrthornnError(f"device: {name!r} requested but CUDA is not available")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise OrthornnError(f"device: {name!r} requested but there are {torch.cuda.device_count()} CUDA devices")
    return dev


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step * 7_919 + 12_345) % (2**63 - 1)


@dataclass
class History:
    """What a run produced: per-step training records, evaluation records and the summary."""

    train: list[Record] = field(default_factory=list)
    evals: list[Record] = field(default_factory=list)
    summary: Record = field(default_factory=dict)
    #: Why the run stopped early (a non-finite loss), or None.
    stopped: str | None = None
    #: The evaluation on the test set when the run reached its last step (``test_size``), or None.
    test: Record | None = None
    #: The step whose validation accuracy reached ``config.stop_accuracy`` (the run ended there), or None.
    reached: int | None = None
    #: The step at which the run paused (``run(until=...)``, before ``config.steps``), or None.
    paused: int | None = None


class Trainer:
    """Builds the task stream, model and optimiser of a :class:`TrainConfig` and trains it.

    Examples
    --------
    >>> cfg = TrainConfig(task="adding", model="ltrnn", T=6, hidden=4, steps=3, batch=8,
    ...                   init="identity", eval_every=3, dtype="float64")
    >>> hist = Trainer(cfg).run()
    >>> hist.summary["steps"], len(hist.train), hist.evals[-1]["step"]
    (3, 3, 3)
    """

    def __init__(self, config: TrainConfig, *, world: World | None = None) -> None:
        self.config = config
        #: The ranks this trainer is one of (:mod:`orthornn.train.distributed`); one by default.
        self.world = World() if world is None else world
        check_parallel(config, self.world)
        self.device = rank_device(resolve_device(config.device), self.world)
        self.dtype = getattr(torch, config.dtype)
        share = self.world.share(config.batch) if self.world.parallel else None
        self.stream = stream(config, device=self.device, dtype=self.dtype, share=share)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = build_model(
                config, self.stream.input_size, self.stream.output_size, device=torch.device("cpu"), dtype=self.dtype
            )
        self.model = model.to(self.device)
        #: What a training step calls: the model, or its DistributedDataParallel over the ranks.
        self.network = wrap(self.model, self.world, self.device)
        self.optimizer = build_optimizer(config.optimizer, parameter_groups(self.model, config.lam_lr), config.lr)
        #: Each parameter group's rate before a schedule scales it (lr; lam_lr for a learned λ).
        self.base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        #: The learned λ (``learn_lam``), recorded after every step and at every evaluation.
        self.lams = learned_lams(self.model)
        self.step = 0
        self.elapsed = 0.0
        self.best: Record | None = None
        self.history = History()
        self.n_parameters = count_parameters(self.model)
        #: What was not finite when :meth:`train_step` last returned None: "loss" or "gradient".
        self.failure: str | None = None
        #: Whether the test set is evaluated with the best-validation parameters (bAbI, PTB;
        #: ``test_at="best"``), and those.
        self.test_at_best = config.task in ("babi", "ptb") or config.test_at == "best"
        self.best_model: dict[str, torch.Tensor] | None = None
        #: The step after which the best evaluation is chosen: 0, or where a run resumed with
        #: ``test_at="best"`` from a checkpoint that kept no best parameters.
        self.best_since = 0
        #: Whether the model is a language model over truncated-BPTT windows (task ptb).
        self.carries_state = config.task == "ptb"
        #: The detached state at the end of the last training window (ptb), or None.
        self.carry: Any = None

    # -- one step -----------------------------------------------------------------------------
    def _rng_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def train_step(self) -> Record | None:
        """Take optimiser step ``self.step + 1``; its record, or None if the loss or the gradient
        is not finite (then nothing is updated, and :attr:`failure` says which)."""
        c, k = self.config, self.step
        t0 = time.perf_counter()
        batch = self.stream.batch(k)
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(self.world.noise_seed(_step_seed(c.seed, k)))
            self.model.train()
            if self.carries_state:
                carry = None if self.stream.starts_epoch(k) else self.carry
                scores, state = self.network(batch.x, carry)
            else:
                scores, _ = self.network(batch.x)
            loss, metrics = task_loss(c.task, self.stream.task, scores, batch.y, batch.last)
            metrics = self.world.mean(metrics)  # the global batch's (equal shares); agreed by all ranks
            if not math.isfinite(metrics["loss"]):
                self.failure = "loss"
                return None
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            params = [p for p in self.model.parameters() if p.grad is not None]
            if c.clip is not None:  # the norm before clipping (clipping an infinite one gives NaN)
                grad_norm = torch.nn.utils.clip_grad_norm_(params, c.clip)
            elif params:
                grad_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
            else:  # pragma: no cover - every model has a trainable readout
                grad_norm = torch.zeros(())
            if not self.world.all_true(math.isfinite(float(grad_norm))):
                self.failure = "gradient"
                return None
            if c.clip is not None:
                metrics["grad_norm"] = float(grad_norm)
            if c.lr_schedule not in (None, "constant"):  # constant: the rates the optimiser was built with
                factor = lr_factor(c.lr_schedule, k, c.steps)
                for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
                    group["lr"] = base * factor
                metrics["lr"] = c.lr * factor
            self.optimizer.step()
            if self.carries_state:
                self.carry = detach_state(state)
            if c.ortho_lr:  # None (not an LT-RNN) or 0: off
                torch.manual_seed(_step_seed(c.seed, k))  # the step's directions on every rank (as before:
                self._orthogonality_step()  # an LT-RNN's forward draws nothing)
        self.step += 1
        seconds = time.perf_counter() - t0
        self.elapsed += seconds
        return {"step": self.step, **metrics, "seconds": seconds, **self.learned_lam()}

    def learned_lam(self) -> Record:
        """``{"learned_lam": λ}`` of a model that learns λ (a list of several, in model order), now;
        ``{}`` of one that does not. In every train and evaluation record, so that ``metrics.jsonl``
        holds λ's course however the run was launched."""
        if not self.lams:
            return {}
        values = [float(p.detach()) for p in self.lams]
        return {"learned_lam": values[0] if len(values) == 1 else values}

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (one device sync)."""
        with torch.no_grad():
            flags = [torch.isfinite(p).all() for p in self.model.parameters()]
            return self.world.all_true(bool(torch.stack(flags).all()) if flags else True)

    def _orthogonality_step(self) -> None:
        """Henaff §4.2: one SGD step on the soft orthogonality penalty of V (m = batch points)."""
        core = getattr(self.model, "core", None)
        if not hasattr(core, "orthogonality_penalty"):
            raise OrthornnError(f"ortho_lr: model {self.config.model!r} has no orthogonality penalty (ltrnn only)")
        V = core.weight_rec  # type: ignore[union-attr]
        penalty = core.orthogonality_penalty(self.config.batch)  # type: ignore[union-attr]
        (grad,) = torch.autograd.grad(penalty, V)
        with torch.no_grad():
            V.sub_(self.config.ortho_lr * grad)

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, split: str = "valid") -> Record:
        """Mean loss and metrics on the held-out data, with the memoryless baseline: the fixed
        ``valid`` (or ``test``) set when the config has one (then ``sequences`` is its size),
        else the ``eval_batches`` batches of the held-out stream. Of several ranks the main one
        evaluates (all of the data) and every rank gets its record; a learned λ is in it
        (:meth:`learned_lam`)."""
        return {**self.world.from_main(self._evaluate(split) if self.world.main else None), **self.learned_lam()}

    @torch.no_grad()
    def _evaluate(self, split: str) -> Record:
        c = self.config
        self.model.eval()
        if self.carries_state:
            return self._evaluate_lm(split)
        parts: list[tuple[int, dict[str, float]]] = []
        for b in self.stream.held_out(split):
            scores, _ = self.model(b.x)
            _, m = task_loss(c.task, self.stream.task, scores, b.y, b.last)
            parts.append((len(b.y), m))
        total = sum(n for n, _ in parts)
        equal = all(n == parts[0][0] for n, _ in parts)
        sums: dict[str, float] = {}
        for n, m in parts:  # equal parts: the plain mean (the stream's numbers as they always were)
            for key, v in m.items():
                sums[key] = sums.get(key, 0.0) + (v / len(parts) if equal else v * n / total)
        rec: Record = {"step": self.step, **sums, "baseline": self.stream.baseline}
        if self.stream.baseline_accuracy is not None:
            rec["baseline_accuracy"] = self.stream.baseline_accuracy
        rec["beats_baseline"] = bool(rec["loss"] < self.stream.baseline)
        if (self.stream.test_set if split == "test" else self.stream.valid_set) is not None:
            rec["sequences"] = total
        return rec

    def _evaluate_lm(self, split: str) -> Record:
        r"""Cross-entropy per character of the whole ``split`` (its streams, window after window,
        the state carried from zero): :math:`\mathcal L = -\frac1n \sum \ln p(c_{t+1})` over its
        ``n`` predictions, and ``bpc`` :math:`= \mathcal L/\ln 2`."""
        state, total, correct, n = None, 0.0, 0, 0
        for b in self.stream.held_out(split):
            scores, state = self.model(b.x, state)
            total += float(torch.nn.functional.cross_entropy(scores.transpose(1, 2), b.y, reduction="sum"))
            correct += int((scores.argmax(-1) == b.y).sum())
            n += b.y.numel()
        loss = total / n
        return {
            "step": self.step,
            "loss": loss,
            "bpc": loss / math.log(2),
            "accuracy": correct / n,
            "baseline": self.stream.baseline,
            "baseline_accuracy": self.stream.baseline_accuracy,
            "beats_baseline": bool(loss < self.stream.baseline),
            "characters": n,
        }

    # -- the run ------------------------------------------------------------------------------
    def run(
        self,
        *,
        on_record: Callable[[Record], None] | None = None,
        on_eval: Callable[[Record], None] | None = None,
        on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
        until: int | None = None,
    ) -> History:
        """Train up to ``config.steps``; callbacks receive each record and each checkpoint.

        With ``config.stop_accuracy`` the run ends at the first evaluation whose accuracy reaches
        it (``History.reached``); a checkpoint and the test set follow, as at the last step.
        With ``until`` below ``config.steps`` the run *pauses* after step ``until``
        (``History.paused``): a checkpoint is handed out there (after that step's evaluation, if
        it has one) and the test set waits, so resuming that checkpoint trains on to the result an
        unpaused run reaches. A run already at or past ``until`` trains no step.
        The run stops early (``History.stopped`` says why) at a non-finite training loss or
        gradient (before that optimiser step), at a step that leaves a parameter non-finite, or
        at an evaluation whose held-out loss is not finite: no record, evaluation or checkpoint
        is ever made of non-finite numbers, so every checkpoint handed out can be resumed.
        """
        c, hist = self.config, self.history
        if until is not None and (not isinstance(until, int) or isinstance(until, bool) or until < 1):
            raise OrthornnError(f"until: must be an integer >= 1, got {until!r}")
        end = c.steps if until is None else min(c.steps, until)
        if self._reached_at(hist.evals, self.step):
            hist.reached = self.step  # resumed from the checkpoint of the step that reached it
        while self.step < end and hist.reached is None:
            rec = self.train_step()
            if rec is None:
                what = "gradient" if self.failure == "gradient" else "loss"
                hist.stopped = (
                    f"non-finite {what} at step {self.step + 1}; stopped, parameters are those after step {self.step}"
                )
                break
            hist.train.append(rec)
            if on_record is not None:
                on_record(rec)
            if not self.parameters_finite():  # checked before any evaluation or checkpoint of them
                hist.stopped = f"step {self.step} made a parameter non-finite; stopped"
                break
            if self.step % c.eval_every == 0 or self.step == c.steps:
                ev = self.evaluate()
                if not math.isfinite(ev["loss"]):  # finite parameters, overflowing scores
                    hist.stopped = f"non-finite held-out loss after step {self.step}; stopped"
                    break
                hist.evals.append(ev)
                if self._improves(ev):
                    self.best = ev
                    if self.test_at_best:
                        self.best_model = to_cpu(self.model.state_dict())
                if on_eval is not None:
                    on_eval(ev)
                if self._reaches(ev):
                    hist.reached = self.step
            last = self.step == end or hist.reached is not None
            if on_checkpoint is not None and (self.step % c.checkpoint_every == 0 or last):
                on_checkpoint(self.state_dict())
        finished = self.step == c.steps or hist.reached is not None
        if not finished and hist.stopped is None and self.step >= end:
            hist.paused = self.step
        if self.stream.test_set is not None and hist.stopped is None and finished:
            hist.test = self._test_at_best() if self.test_at_best else self.evaluate("test")
        hist.summary = self.summary()
        return hist

    def _reaches(self, ev: Record) -> bool:
        """Whether evaluation ``ev`` reaches ``config.stop_accuracy`` (never without one), up to
        the rounding of its mean (:data:`ACCURACY_ROUNDING`)."""
        target = self.config.stop_accuracy
        return target is not None and ev.get("accuracy", -1.0) >= target - ACCURACY_ROUNDING

    def _reached_at(self, evals: list[Record], step: int) -> bool:
        """Whether a run at ``step`` with evaluations ``evals`` stopped there: its last evaluation
        is at that step and reaches ``config.stop_accuracy``."""
        return bool(evals) and evals[-1]["step"] == step and self._reaches(evals[-1])

    def _improves(self, ev: Record) -> bool:
        """Whether evaluation ``ev`` is better than the best so far (:meth:`_better`)."""
        return self._better(ev, self.best)

    def _better(self, ev: Record, than: Record | None) -> bool:
        """Whether evaluation ``ev`` is better than ``than`` (None: anything is), by
        ``config.best_by``: a lower loss, or a higher accuracy (a tie keeps the earlier evaluation)."""
        if than is None:
            return True
        if self.config.best_by == "accuracy":
            return ev["accuracy"] > than["accuracy"]
        return ev["loss"] < than["loss"]

    def _best_of(self, evals: list[Record]) -> Record | None:
        """The best of ``evals``, taken in order as an uninterrupted run keeps it."""
        best = None
        for ev in evals:
            if self._better(ev, best):
                best = ev
        return best

    def _test_at_best(self) -> Record:
        """The test evaluation with the best-validation parameters (restored afterwards)."""
        assert self.best is not None and self.best_model is not None  # the last step evaluates
        current = to_cpu(self.model.state_dict())
        self.model.load_state_dict(self.best_model)
        try:
            rec = self.evaluate("test")
        finally:
            self.model.load_state_dict(current)
        since = {"best_since": self.best_since} if self.best_since else {}
        return {**rec, "step": self.best["step"], "parameters_of": "best validation", **since}

    def summary(self) -> Record:
        """Best and final evaluation, steps, wall time, parameter count, device (bAbI: and the
        data read, with the epochs done)."""
        last = self.history.evals[-1] if self.history.evals else None
        extra: Record = {}
        if self.config.task == "babi":
            extra = {"babi": self.stream.task.describe(), "epochs": self.stream.epochs(self.step)}
        elif self.config.task == "ptb":
            test = self.history.test
            extra = {
                "ptb": {**self.stream.task.describe(), "windows_per_epoch": self.stream.windows_per_epoch},
                "epochs": self.stream.epochs(self.step),
                "test_bpc": None if test is None else test["bpc"],
                "best_valid_bpc": None if self.best is None else self.best["bpc"],
            }
        if self.config.stop_accuracy is not None:
            extra["reached_stop_accuracy_at"] = self.history.reached
        if self.best_since:
            extra["best_since"] = self.best_since
        return {
            "task": self.config.task,
            "model": self.config.model,
            "steps": self.step,
            "best": self.best,
            "final": last,
            "baseline": self.stream.baseline,
            "baseline_accuracy": self.stream.baseline_accuracy,
            "wall_seconds": self.elapsed,
            "parameters": self.n_parameters,
            "device": str(self.device),
            "device_name": torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu",
            "stopped": self.history.stopped,
            "test": self.history.test,
            **({"ranks": self.world.size} if self.world.parallel else {}),
            **extra,
        }

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A checkpoint (tensors on the CPU) from which :meth:`load_state_dict` continues exactly."""
        state = {
            "format": FORMAT,
            "config": self.config.to_dict(),
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best": self.best,
            "evals": list(self.history.evals),
            "elapsed": self.elapsed,
        }
        if self.test_at_best:
            state["best_model"] = self.best_model
        if self.best_since:
            state["best_since"] = self.best_since
        if self.carries_state:  # of several ranks: every rank's streams (a collective)
            state["carry"] = state_to_plain(self.world.gather_rows(self.carry))
        return to_cpu(state)

    def _check_carry(self, carry: Any) -> None:
        """Raise :class:`CheckpointError` unless ``carry`` (a checkpoint's carried state) has the
        structure and shapes of this model's state on these streams (one step run to see them)."""
        with torch.no_grad(), torch.random.fork_rng(devices=self._rng_devices()):
            self.model.eval()
            _, ref = self.model(self.stream.batch(0).x[:, :1])
        expected = _shapes(ref)
        if carry is None or not all(isinstance(t, torch.Tensor) for t in _flat(carry)) or _shapes(carry) != expected:
            raise CheckpointError(f"its carried state does not fit this model and batch: expected {expected}, got "
                                  f"{_shapes(carry) if isinstance(carry, list) else type(carry).__name__}")  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint of a compatible config (see :data:`RESUMABLE_CHANGES`).

        Raises :class:`~orthornn.train.checkpoint.CheckpointError` when ``state`` is not a
        checkpoint or its model or optimiser state does not fit this model, and
        :class:`OrthornnError` naming the config field that differs; nothing is changed then.
        """
        saved = check_checkpoint(state)
        check_resumable(saved, self.config)
        if state["step"] > self.config.steps:
            raise OrthornnError(f"steps: the checkpoint is at step {state['step']}, beyond steps={self.config.steps}")
        # a run tested at its final parameters, now to be tested at its best validation's
        switched = self.test_at_best and saved.task not in ("babi", "ptb") and saved.test_at != "best"
        evals = state["evals"]
        stopped_there = self._reached_at(evals, state["step"])
        if switched and (state["step"] >= self.config.steps or stopped_there):
            why = (f"it reached stop_accuracy={self.config.stop_accuracy} there" if stopped_there
                   else f"steps={self.config.steps}")  # fmt: skip
            raise OrthornnError(
                f"test_at: the checkpoint at step {state['step']} kept no best-validation parameters, and no "
                f"evaluation follows it ({why}): give more steps to choose among"
            )
        model_before = {k: v.clone() for k, v in self.model.state_dict().items()}
        optimizer_before = self.optimizer.state_dict()
        best_model = state.get("best_model")
        try:
            if self.test_at_best and state["best"] is not None and not switched:
                if not isinstance(best_model, dict):
                    raise KeyError("best_model: the best-validation parameters are missing")
                self.model.load_state_dict(best_model)  # checks that they fit
            self.model.load_state_dict(state["model"])
            # a copy: torch's optimiser keeps the given CPU tensors as its state and updates them in
            # place, so a second resume from the same in-memory checkpoint would start elsewhere
            self.optimizer.load_state_dict(to_cpu(state["optimizer"]))
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
            self.model.load_state_dict(model_before)
            self.optimizer.load_state_dict(optimizer_before)
            first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            why = f"its model or optimizer state does not fit a {self.config.model} of this config ({first})"
            raise CheckpointError(why) from None
        if self.carries_state:
            carry = state.get("carry")  # every stream's: of several ranks, this rank's streams
            carry = self.world.own_rows(carry, self.config.batch) if self.world.parallel else carry
            try:
                if carry is not None or state["step"] != 0:  # step 0 carries nothing yet
                    self._check_carry(carry)
            except CheckpointError:
                self.model.load_state_dict(model_before)
                self.optimizer.load_state_dict(optimizer_before)
                raise
            self.carry = None if carry is None else _to_device(carry, self.device)
        self.step, self.best, self.elapsed = int(state["step"]), state["best"], float(state["elapsed"])
        self.best_since = int(state.get("best_since", 0))
        if switched:  # the best is chosen among the evaluations from here on
            self.best, self.best_since = None, self.step
        elif self.best_since and not self.test_at_best:  # tested at its end again: the best of every evaluation
            self.best, self.best_since = self._best_of(state["evals"]), 0
        if self.test_at_best:
            self.best_model = best_model if self.best is not None else None
        self.history.evals = list(state["evals"])


def _flat(state: Any) -> list[Any]:
    """The leaves of a nested list/tuple state other than None."""
    if isinstance(state, list | tuple):
        return [leaf for v in state for leaf in _flat(v)]
    return [] if state is None else [state]


def _shapes(state: Any) -> Any:
    """The structure of a state with each tensor replaced by its shape (lists for tuples)."""
    if isinstance(state, torch.Tensor):
        return tuple(state.shape)
    if isinstance(state, list | tuple):
        return [_shapes(v) for v in state]
    return state


def _to_device(obj: Any, device: torch.device) -> Any:
    """Nested lists of tensors (a checkpoint's carried state) moved to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, list | tuple):
        return [_to_device(v, device) for v in obj]
    return obj


def train(config: TrainConfig, **callbacks: Any) -> History:
    """Train ``config`` from scratch: ``Trainer(config).run(**callbacks)``."""
    return Trainer(config).run(**callbacks)
