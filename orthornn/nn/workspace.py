r"""Scratch buffers kept from one pass to the next for the hand-written sequence nodes.

A λ = 0 RUM pass over ``T`` steps keeps a ``(T, B, 3N)`` buffer of gate pre-activations for its
backward (84 MB at T = 220, B = 128, N = 250 in float32). Freshly allocated every training
iteration, such a buffer costs its page faults again each time (glibc returns blocks above 32 MiB
to the system on free): 10–15 % of a CPU iteration in a profile. A :class:`Workspace` hands out
buffers and takes them back once their owner — the autograd node that saved them — is gone, so
the next pass reuses the same, already mapped memory.

A buffer is only ever reused after the object it was lent to has been garbage-collected
(:func:`weakref.finalize`), so a retained graph (``retain_graph=True``, a second backward) keeps
its buffers. At most ``max_free_bytes`` of free buffers are kept (the oldest go first);
:meth:`Workspace.clear` drops them all.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["SEQUENCE_WORKSPACE", "Workspace"]


class Workspace:
    """Free buffers by (dtype, device), reused for any request that fits in them.

    Parameters
    ----------
    max_free_bytes : int
        Free buffers kept at most (in bytes); beyond that the oldest are released.

    Examples
    --------
    >>> ws = Workspace(max_free_bytes=1 << 20)
    >>> class Owner: pass
    >>> owner, other = Owner(), Owner()
    >>> a = ws.take((4, 3), torch.float64, torch.device("cpu"), owner)
    >>> ptr = a.data_ptr()
    >>> del owner, a  # the owner is gone: the buffer is free again
    >>> ws.take((2, 5), torch.float64, torch.device("cpu"), other).data_ptr() == ptr
    True
    """

    def __init__(self, max_free_bytes: int) -> None:
        self.max_free_bytes = int(max_free_bytes)
        self._free: list[Tensor] = []  # flat buffers, oldest first
        self._lock = threading.Lock()

    def take(self, shape: Sequence[int], dtype: torch.dtype, device: torch.device, owner: object) -> Tensor:
        """An uninitialised tensor of ``shape``, lent to ``owner`` until ``owner`` is collected.

        The smallest free buffer of the dtype and device that is large enough is reused; otherwise
        a new one is allocated. The caller must reach the tensor only through ``owner`` (for an
        autograd node: its saved tensors), since it is handed out again once ``owner`` is gone.
        ``owner`` must support weak references."""
        numel = 1
        for s in shape:
            numel *= int(s)
        with self._lock:
            free = self._free
            fits = [i for i, b in enumerate(free) if (b.dtype, b.device) == (dtype, device) and b.numel() >= numel]
            buf = self._free.pop(min(fits, key=lambda i: self._free[i].numel())) if fits else None
        if buf is None:
            buf = torch.empty(numel, dtype=dtype, device=device)
        weakref.finalize(owner, self._give_back, buf)
        return buf[:numel].view(tuple(shape))

    def _give_back(self, buf: Tensor) -> None:
        with self._lock:
            self._free.append(buf)
            total = sum(b.numel() * b.element_size() for b in self._free)
            while self._free and total > self.max_free_bytes:
                old = self._free.pop(0)
                total -= old.numel() * old.element_size()

    def free_bytes(self) -> int:
        """Bytes held in free buffers."""
        with self._lock:
            return sum(b.numel() * b.element_size() for b in self._free)

    def clear(self) -> None:
        """Release every free buffer (buffers still lent out are released when their owners go)."""
        with self._lock:
            self._free.clear()


#: The workspace of :func:`orthornn.nn.rum.sequence0` (at most 1 GiB of free buffers kept).
SEQUENCE_WORKSPACE = Workspace(max_free_bytes=1 << 30)
