r"""Data-parallel training: the ranks ``torchrun`` starts, each training its share of the batch.

With :math:`W` ranks and the global batch :math:`B` (``config.batch``), rank :math:`r` trains
rows :math:`rB/W \ldots (r+1)B/W - 1` of training batch :math:`k`, the batch a one-process run
draws from ``(seed, k)`` (:class:`orthornn.train.data.TaskStream`: every rank draws the global
batch and keeps its rows). :class:`torch.nn.parallel.DistributedDataParallel` averages the
gradients over the ranks, and with equal shares the mean of the per-rank means is the mean
over the global batch,

.. math:: \frac1W \sum_{r=0}^{W-1} \frac{W}{B} \sum_{i \in \text{share}_r} \nabla \ell_i
          = \frac1B \sum_{i=1}^{B} \nabla \ell_i ,

so every rank takes the optimiser step a one-process run with batch :math:`B` takes (equal up
to rounding: tested to 1e-10 in float64, ``tests/train/test_ddp.py``). The losses are the
mean over the token positions of a sequence, each sequence the same length, so the same
holds for the recorded loss and accuracies, averaged over the ranks (:meth:`World.mean`).
``B`` must divide by ``W``.

On ptb the ``B`` contiguous streams are split the same way: rank :math:`r` trains streams
:math:`rB/W \ldots (r+1)B/W - 1` and carries their state from window to window; a checkpoint
holds every stream's state, gathered from the ranks (:meth:`World.gather_rows`, so every rank
must make it: give every rank the same callbacks), and each rank takes back its own rows
(:meth:`World.own_rows`), so a checkpoint resumes with any number of ranks. bAbI is refused
(:func:`check_parallel`): the last length bucket of an epoch is smaller than ``B``.

Every decision that ends the run is taken by all ranks together, so none waits forever in a
collective the others have left: a non-finite loss, gradient or parameter on any rank stops
them all (:meth:`World.all_true`), and the held-out evaluation runs on the main rank (rank 0,
the whole held-out data, the module itself), whose record every rank receives
(:meth:`World.from_main`). Per-step noise (zoneout, dropout) is drawn per rank: rank 0 from the
step's seed as a one-process run, rank :math:`r` from an independent seed of ``(step seed, r)``
(:meth:`World.noise_seed`), so the ranks' shares get independent masks, not the bitwise masks
of one process; the orthogonality-penalty directions of the LT-RNN are the step's own on every
rank.

Here ``torchrun`` (or SLURM's ``srun`` running it) starts the processes and sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``
(:func:`from_environment`); :func:`joined` joins the process group (NCCL on CUDA, gloo on
the CPU) and leaves it. A rank on CUDA uses ``cuda:LOCAL_RANK`` (:func:`rank_device`).

Examples
--------
>>> world = World(rank=1, size=4)
>>> world.share(8), world.main, World().share(8)
(slice(2, 4, None), False, slice(0, 8, None))
>>> World().mean({"loss": 0.5}), World().all_true(False), World().from_main("record")
({'loss': 0.5}, False, 'record')
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import numpy as np
import torch

from ..errors import OrthornnError
from .config import SYNTHETIC_TASKS, TrainConfig

__all__ = [
    "ENVIRONMENT",
    "PARALLEL_TASKS",
    "World",
    "backend_for",
    "check_parallel",
    "end_process",
    "from_environment",
    "joined",
    "rank_device",
    "wrap",
]

#: Whether this process has joined a process group in :func:`joined` (see :func:`end_process`).
_joined = False

#: The tasks a data-parallel run trains: the generated ones and ptb (its streams split over the ranks).
PARALLEL_TASKS = (*SYNTHETIC_TASKS, "ptb")
#: The variables ``torchrun`` sets for each rank (env:// rendezvous of the process group).
ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")

_T = TypeVar("_T")


@dataclass(frozen=True)
class World:
    """The ranks of a data-parallel run and this process's place among them.

    ``World()`` is one process: every collective is then the identity and nothing needs
    :mod:`torch.distributed`. With ``size > 1`` the collectives need the process group
    (:func:`joined`) and must be entered by every rank in the same order.
    """

    rank: int = 0  # this process's rank, 0 <= rank < size
    size: int = 1  # number of ranks W
    local_rank: int = 0  # rank on this node: the CUDA device index of this rank

    def __post_init__(self) -> None:
        for name in ("rank", "size", "local_rank"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool):
                raise OrthornnError(f"{name}: must be an integer, got {v!r}")
        if self.size < 1 or not 0 <= self.rank < self.size or self.local_rank < 0:
            where = f"rank {self.rank}, local rank {self.local_rank}"
            raise OrthornnError(f"{where} of {self.size} ranks: not a rank of that world")

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the rank that evaluates, reports and writes."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        """Whether there is more than one rank."""
        return self.size > 1

    def share(self, batch: int) -> slice:
        """The rows of a global batch of ``batch`` sequences that this rank trains: the
        ``rank``-th of ``size`` equal parts.

        Raises :class:`OrthornnError` (naming ``batch``) when ``size`` does not divide it.
        """
        if batch % self.size:
            raise OrthornnError(
                f"batch: the global batch {batch} does not divide by the {self.size} ranks "
                f"(each rank trains batch/ranks sequences of it)"
            )
        n = batch // self.size
        return slice(self.rank * n, (self.rank + 1) * n)

    def noise_seed(self, seed: int) -> int:
        """The seed of this rank's per-step noise from the step's ``seed``: ``seed`` on rank 0,
        an independent one of ``(seed, rank)`` elsewhere (a 63-bit integer)."""
        if self.rank == 0:
            return seed
        (word,) = np.random.SeedSequence([seed, self.rank]).generate_state(1, np.uint64)
        return int(word) % (2**63 - 1)

    def mean(self, values: Mapping[str, float]) -> dict[str, float]:
        """The mean of each value over the ranks (every rank gets it); a NaN or infinity on any
        rank makes that mean non-finite."""
        if not self.parallel:
            return dict(values)
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=_collective_device())
        torch.distributed.all_reduce(t)
        means = (t / self.size).tolist()
        return {k: means[keys.index(k)] for k in values}

    def all_true(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank (every rank gets the same answer)."""
        if not self.parallel:
            return bool(flag)
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_collective_device())
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MIN)
        return bool(t.item())

    def gather_rows(self, state: Any) -> Any:
        """A nested list/tuple of batch-first tensors (a carried recurrent state) with every
        rank's rows, in rank order (every rank gets it; lists for tuples, None kept)."""
        if not self.parallel or state is None:
            return state
        if isinstance(state, torch.Tensor):
            parts = [torch.empty_like(state) for _ in range(self.size)]
            torch.distributed.all_gather(parts, state.contiguous())
            return torch.cat(parts, 0)
        if isinstance(state, list | tuple):
            return [self.gather_rows(v) for v in state]
        return state

    def own_rows(self, state: Any, batch: int) -> Any:
        """This rank's rows (:meth:`share` of ``batch``) of every tensor of a nested list of
        batch-first tensors (the inverse of :meth:`gather_rows`; other leaves kept)."""
        if isinstance(state, torch.Tensor):
            return state[self.share(batch)]
        if isinstance(state, list | tuple):
            return [self.own_rows(v, batch) for v in state]
        return state

    def from_main(self, obj: _T) -> _T:
        """Rank 0's ``obj`` (picklable), on every rank."""
        if not self.parallel:
            return obj
        box = [obj if self.main else None]
        torch.distributed.broadcast_object_list(box, src=0, device=_collective_device())
        return box[0]  # type: ignore[return-value]


def _collective_device() -> torch.device:
    """Where the tensors of a collective live: the current CUDA device under NCCL, else the CPU."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def from_environment(environ: Mapping[str, str] | None = None) -> World:
    """The :class:`World` ``torchrun`` describes in the environment (:data:`ENVIRONMENT`).

    Raises :class:`OrthornnError` naming what is missing or malformed (a process not started by
    ``torchrun``).

    >>> from_environment({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "localhost",
    ...                   "MASTER_PORT": "29500"})
    World(rank=1, size=2, local_rank=1)
    """
    env = os.environ if environ is None else environ
    missing = [k for k in ENVIRONMENT if not env.get(k)]
    if missing:
        raise OrthornnError(
            f"not started by torchrun: {', '.join(missing)} not set (launch it with "
            f"torchrun --nproc_per_node N -m orthornn train ...)"
        )
    values = {}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        text = env[key]
        if not (text.isascii() and text.isdigit()):
            raise OrthornnError(f"{key}={text!r} in the environment: expected a non-negative integer")
        values[key] = int(text)
    return World(rank=values["RANK"], size=values["WORLD_SIZE"], local_rank=values["LOCAL_RANK"])


def check_parallel(config: TrainConfig, world: World) -> None:
    """Raise :class:`OrthornnError` (naming the field) unless ``config`` can train on ``world``'s
    ranks: not bAbI (the last length bucket of an epoch is smaller than the batch, so the ranks'
    shares could not be equal), and a global batch that divides by the number of ranks."""
    if not world.parallel:
        return
    if config.task == "babi":
        raise OrthornnError(
            f"task: data-parallel training runs the tasks {', '.join(PARALLEL_TASKS)}, not 'babi' "
            "(an epoch's last length bucket is smaller than the batch)"
        )
    world.share(config.batch)


def rank_device(device: torch.device, world: World) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` for ``cuda`` when there are several ranks, else
    ``device`` as it is.

    Raises :class:`OrthornnError` naming ``device`` for one fixed CUDA device shared by several
    ranks, or a local rank beyond the node's CUDA devices.
    """
    if device.type != "cuda" or not world.parallel:
        return device
    if device.index is not None:
        raise OrthornnError(
            f"device: each rank of a data-parallel run uses cuda:LOCAL_RANK; give 'cuda' or 'auto', not {str(device)!r}"
        )
    count = torch.cuda.device_count()
    if world.local_rank >= count:
        where = f"rank {world.rank} has LOCAL_RANK {world.local_rank}"
        raise OrthornnError(f"device: {where}, beyond the {count} CUDA devices of this node")
    return torch.device("cuda", world.local_rank)


def backend_for(device: torch.device) -> str:
    """The process group's backend for ranks on ``device``: ``nccl`` on CUDA, else ``gloo``.

    >>> backend_for(torch.device("cpu"))
    'gloo'
    """
    return "nccl" if device.type == "cuda" else "gloo"


@contextlib.contextmanager
def joined(world: World, device: torch.device, *, timeout: datetime.timedelta | None = None) -> Iterator[None]:
    """Join the process group of ``world`` (rendezvous from the environment, the backend of
    ``device``), wait for every rank, and leave it at the end. One process joins nothing.

    Leaving: at a normal end every rank waits for all the others, then all destroy the group. A
    rank that raises leaves at once under gloo, closing its connections (a peer waiting in a
    collective then fails instead of timing out); under NCCL, where destroying is collective, it
    does not wait for peers that may never come. End the process with :func:`end_process`.

    ``timeout``: how long a collective waits for the other ranks before it raises (None:
    torch's default, 10 minutes under NCCL, 30 under gloo).
    """
    if not world.parallel:
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    extra = {} if timeout is None else {"timeout": timeout}
    torch.distributed.init_process_group(backend_for(device), rank=world.rank, world_size=world.size, **extra)
    global _joined
    _joined = True
    try:
        torch.distributed.barrier()  # every rank has read and checked its arguments and files
        yield
    except BaseException:
        # a rank that fails leaves at once. Under gloo leaving is local and closes this rank's
        # connections, so a peer waiting in a collective errors out instead of timing out; under
        # NCCL it is collective and would wait for peers that may never come: the launcher ends them
        if backend_for(device) == "gloo":
            torch.distributed.destroy_process_group()
        raise
    # every rank waits until all are done (rank 0 writes the run's files last): all leave together
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def end_process(code: int) -> NoReturn:
    """Exit with status ``code``: through ``sys.exit`` if this process never joined a process
    group, else with ``os._exit`` once stdout and stderr are flushed, skipping the interpreter's
    teardown. The command line ends every process this way.

    Why: DistributedDataParallel keeps its process group, and gloo's worker threads, alive after
    :func:`joined` has destroyed the group (torch 2.13: the group's references stay raised once the
    wrapper is collected, and the threads run on). When the interpreter finalizes while such a
    thread drops the last reference to a tensor, the thread needs the GIL, Python ends it, and the
    C++ runtime aborts the process ("terminate called without an active exception", SIGABRT): a
    finished rank reported as failed. It struck about one two-rank ``torchrun`` in 30 on a loaded
    machine. A process that skips the teardown cannot meet it. Every file the command line writes
    is closed before :func:`~orthornn.cli.main` returns, so nothing is left unwritten.

    A script of one's own ends each rank the same way::

        with joined(world, device):
            ...  # train
        end_process(0)
    """
    if not _joined:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wrap(module: torch.nn.Module, world: World, device: torch.device) -> Any:
    """``module`` in :class:`~torch.nn.parallel.DistributedDataParallel` over ``world``'s ranks
    (``module`` itself for one process); its gradients are averaged over the ranks in backward."""
    if not world.parallel:
        return module
    if not torch.distributed.is_initialized():
        raise OrthornnError("a data-parallel Trainer needs the process group: train inside distributed.joined(...)")
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)
