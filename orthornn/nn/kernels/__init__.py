r"""Native CPU kernels: plain C99 sources shipped with the package, compiled on first use with the
system C compiler and called through :mod:`ctypes`.

Four kernels:

* :func:`rum0`, the fused per-step work of the λ = 0 RUM sequence
  (:class:`orthornn.nn.rum.lambda0._Sequence0`): between two GEMMs a step does five row dot
  products and about twenty elementwise operations on (B, N) tensors, which as separate torch
  operations cost 3–4× the GEMMs themselves (``benchmarks/models.py --floor``). One C loop over
  the rows does them in two passes that stay in cache.
* :func:`rum1`, the whole λ = 1 RUM sequence (:class:`orthornn.nn.rum.native._Sequence1`),
  forward and adjoint, batch-outer and time-inner, so that one batch element's ``N×N`` memory,
  its gradient and ``W_hh`` stay in cache instead of streaming ``B×N×N`` through main memory
  several times per step.

* :func:`spectral_adjoint`, the O(N²) heart of the backward step of the fractional-λ RUM
  (:mod:`orthornn.nn.rum.spectral`): the Daleckii–Krein adjoint of ``X ↦ X^λ`` at
  ``blockdiag(M(φ_k))``, elementwise in the plane basis, in place, with the λ gradient — one pass
  per matrix instead of some twenty strided torch operations
  (:func:`orthornn.nn.functional.lie._plane_adjoint` is the reference it is tested against);
  :func:`spectral_step`, the rest of that step's O(N²) work (the products with ``Q'`` and ``K``,
  the frame's gradients and the rank-3 update), one element in cache at a time instead of seven
  batched thin products.
* :func:`spectral_update`, the forward eigen-update of the fractional-λ RUM memory in real Schur
  form: ``A = Bd(d)·G = W·Bd(φ)·Wᵀ`` for a block-diagonal rotation ``Bd(d)`` and a plane rotation
  ``G``, by a 2×2 secular equation in O(N²) per matrix instead of a dense O(N³) decomposition
  (``analysis/spectral_update`` is the numpy prototype it was derived from; double only).

Nothing here is required: without a C compiler, with ``ORTHORNN_NATIVE=0`` in the environment
(or inside :func:`native` ``(False)``), on a non-CPU device or for a dtype other than
float32/float64 the torch implementation runs instead (same equations, same results to rounding;
the tests compare the two).

The shared library is cached under ``$ORTHORNN_CACHE`` (default ``$XDG_CACHE_HOME/orthornn``,
else ``~/.cache/orthornn``), named by a hash of the source, the compiler, the flags and the
machine, so a changed source or another machine never loads a stale build. The compiler is
``$CC`` if set, else ``cc``.

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory", 2017, §3.2 (the cell these kernels run).
Golub, "Some modified matrix eigenvalue problems", SIAM Review 15, 1973 (the secular equation).
Bunch, Nielsen, Sorensen, "Rank-one modification of the symmetric eigenproblem", Numer. Math. 31,
1978, and LAPACK ``dlaed4`` (the root finder's rational model fitted to both neighbouring poles).
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "FoldKernel",
    "Rum0Kernel",
    "Rum1Kernel",
    "SpectralAdjointKernel",
    "SpectralBackwardKernel",
    "SpectralStepKernel",
    "SpectralUpdateKernel",
    "fold",
    "native",
    "native_enabled",
    "rum0",
    "rum1",
    "spectral_adjoint",
    "spectral_backward",
    "spectral_step",
    "spectral_update",
]

_SOURCE_DIR = Path(__file__).resolve().parent
# -fno-trapping-math lets gcc turn the ReLU's branch into a select and vectorise the loops (5–10×
# faster here); no kernel reads the floating-point exception flags. -ffp-contract=fast: fused
# multiply-adds (ISO C mode turns them off). -march=native is tried first.
_FLAGS = ["-O3", "-std=c99", "-fPIC", "-shared", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math"]
_FLAGS += ["-ffp-contract=fast"]
_NATIVE = ["-march=native"]
_SUFFIX = {torch.float64: "f64", torch.float32: "f32"}
_I64, _PTR, _INT, _DBL = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int, ctypes.c_double


_override: contextvars.ContextVar[bool | None] = contextvars.ContextVar("orthornn_native", default=None)


def native_enabled() -> bool:
    """Whether native kernels may run: the innermost :func:`native` context (of this thread or
    task) decides; outside any, False when ``ORTHORNN_NATIVE`` is ``0`` (or ``false``/``no``/``off``)."""
    chosen = _override.get()
    if chosen is not None:
        return chosen
    return os.environ.get("ORTHORNN_NATIVE", "1").strip().lower() not in {"0", "false", "no", "off"}


@contextlib.contextmanager
def native(enabled: bool) -> Iterator[None]:
    """Within the block, use the native kernels (``True``, where they build) or the torch
    implementation (``False``) — e.g. to compare the two.

    >>> with native(False):
    ...     rum0() is None
    True
    """
    token = _override.set(bool(enabled))
    try:
        yield
    finally:
        _override.reset(token)


def _cache_dir() -> Path:
    if "ORTHORNN_CACHE" in os.environ:
        return Path(os.environ["ORTHORNN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "orthornn"


def _machine_id() -> bytes:
    """The CPU's identity for the cache key (a ``-march=native`` build runs only where it was built)."""
    try:
        with open("/proc/cpuinfo", "rb") as f:
            lines = [ln for ln in f if ln.startswith((b"model name", b"flags", b"Features", b"CPU part"))]
        return b"".join(sorted(set(lines)))
    except OSError:
        return (platform.machine() + platform.processor()).encode()


def _build(cc: list[str], src: Path, out: str) -> None:
    """Compile ``src`` to the shared library ``out``: tuned for this CPU, else generic."""
    for flags in (_FLAGS + _NATIVE, _FLAGS):
        try:
            subprocess.run([*cc, *flags, "-o", out, str(src), "-lm"], check=True, capture_output=True, timeout=120)
            return
        except subprocess.CalledProcessError:
            if flags == _FLAGS:
                raise


def _compile(name: str) -> Path:
    """Build ``<name>.c`` into the cache (once per source/compiler/flags/CPU); return its path.

    Concurrent builders (pytest-xdist workers) each compile to a private file and rename it into
    place atomically."""
    sources = sorted(_SOURCE_DIR.glob("*.[ch]"))  # every kernel source and header: includes are shared
    cc = shlex.split(os.environ.get("CC", "cc"))
    parts = [p.read_bytes() for p in sources] + [*map(str.encode, cc + _FLAGS + _NATIVE), _machine_id()]
    key = hashlib.sha256(b"\0".join(parts))
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    for d in (_cache_dir(), Path(tempfile.gettempdir()) / f"orthornn-{user}"):
        lib = d / f"{name}-{key.hexdigest()[:16]}.so"
        if lib.exists():
            return lib
        try:
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=d)
        except OSError:
            continue  # not writable: try the next directory
        os.close(fd)
        try:
            _build(cc, _SOURCE_DIR / f"{name}.c", tmp)
            os.replace(tmp, lib)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return lib
    raise OSError("no writable cache directory for the native kernels")


def _row(t: Tensor) -> tuple[int, int]:
    """A (B, ·) tensor for C: data pointer and row stride (the last dimension is contiguous)."""
    return t.data_ptr(), t.stride(0)


def _eta(eta: float | None) -> tuple[bool, float]:
    """η for C: whether time normalisation is on, and its value."""
    return eta is not None, 0.0 if eta is None else float(eta)


def _cpu_float(*tensors: Tensor) -> bool:
    """CPU, float32 or float64, one dtype: what the kernels run on."""
    dtype = tensors[0].dtype
    return dtype in _SUFFIX and all(t.device.type == "cpu" and t.dtype == dtype for t in tensors)


class Rum0Kernel:
    r"""The fused λ = 0 RUM step (``rum0_step.h``), forward and adjoint, for float32 and float64 rows.

    Both calls take (B, ·) CPU tensors whose last dimension is contiguous (row strides are passed
    to C) and write into preallocated outputs; no shape checks here (the caller, a sequence loop,
    checks once per sequence)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        row = [_PTR, _I64]  # a (B, ·) array: data pointer, row stride
        self._fwd, self._bwd = {}, {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"rum0_forward_{suf}")
            f.argtypes = [_I64, _I64, *row * 4, _PTR, _INT, _DBL, _DBL]
            f.restype = _I64
            b = getattr(lib, f"rum0_backward_{suf}")
            b.argtypes = [_I64, _I64, *row, _INT, *row * 3, _PTR, *row, _INT, _DBL, *row * 2]
            b.restype = None
            self._fwd[dtype], self._bwd[dtype] = f, b

    def forward(
        self, g: Tensor, h: Tensor, eps: Tensor, out: Tensor, sc: Tensor, eta: float | None, min1pc: float
    ) -> int:
        """One forward step: ``g = (ũ, τ)`` (``ũ`` is overwritten by ``u = sigmoid(ũ)``), ``h = h_{t−1}``,
        ``ε``; writes ``h_t`` to ``out`` and ``(p, s, 1/‖τ‖, c, γ, δ, r)`` to ``sc`` (B, 7).
        Returns the number of degenerate rows (zero ``ε`` or ``τ``, ``1 + c < min1pc``)."""
        B, n = h.shape
        args = (*_row(g), *_row(h), *_row(eps), *_row(out), sc.data_ptr(), *_eta(eta), min1pc)
        return int(self._fwd[h.dtype](B, n, *args))

    def backward(
        self,
        G: Tensor,
        has_carry: bool,
        h: Tensor,
        eps: Tensor,
        g: Tensor,
        sc: Tensor,
        ht: Tensor,
        eta: float | None,
        dP: Tensor,
        gh: Tensor,
    ) -> None:
        """The adjoint of :meth:`forward` from ``∂L/∂h_t = G`` (``+ gh`` when ``has_carry``): writes
        ``∂(ũ, τ, ε)`` to ``dP`` (B, 3N) and the direct part of ``∂L/∂h_{t−1}`` over ``gh`` (the
        caller adds ``∂g W_{hh}`` in place, which makes ``gh`` the next step's carry)."""
        B, n = h.shape
        args = (*_row(G), has_carry, *_row(h), *_row(eps), *_row(g), sc.data_ptr(), *_row(ht), *_eta(eta))
        self._bwd[h.dtype](B, n, *args, *_row(dP), *_row(gh))

    supports = staticmethod(_cpu_float)  #: whether the kernel can run on these tensors


def _over_batch(run: Callable[[int, int], Any], B: int) -> list[Any]:
    """``run(b0, b1)`` over ``torch.get_num_threads()`` contiguous ranges of the batch, on that many
    threads (ctypes releases the GIL during the C call); the results in range order."""
    k = max(1, min(torch.get_num_threads(), B))
    if k == 1:
        return [run(0, B)]
    bounds = [B * i // k for i in range(k + 1)]
    with ThreadPoolExecutor(max_workers=k) as pool:
        return list(pool.map(run, bounds[:-1], bounds[1:]))


class Rum1Kernel:
    r"""The λ = 1 RUM over a whole sequence (``rum1_step.h``), forward and adjoint, batch-outer and
    time-inner so that one batch element's memory ``R_b``, its gradient and ``W_{hh}`` stay in
    cache for the whole sequence. The batch is split over ``torch.get_num_threads()`` threads
    (the elements are independent). Contiguous CPU tensors of one dtype; no checks here (the
    sequence node checks once)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._fwd, self._bwd = {}, {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"rum1_forward_{suf}")
            f.argtypes = [*[_I64] * 5, *[_PTR] * 5, _INT, _DBL, _DBL, _PTR]
            f.restype = _I64
            b = getattr(lib, f"rum1_backward_{suf}")
            b.argtypes = [*[_I64] * 5, *[_PTR] * 7, _INT, _DBL, _PTR, _PTR, _PTR]
            b.restype = None
            self._fwd[dtype], self._bwd[dtype] = f, b

    def forward(
        self, PB: Tensor, Wt: Tensor, H: Tensor, R: Tensor, Sr: Tensor, eta: float | None, min1pc: float
    ) -> int:
        """``PB`` (T, B, 3N): input projections in, ``(u, τ, ε)`` out; ``Wt = W_{hh}ᵀ`` (N, 2N), contiguous;
        ``H`` (T + 1, B, N) with ``H[0] = h_0``, filled; ``R`` (B, N, N): ``R_0`` in, ``R_T`` out;
        ``Sr`` (T, B): the η scale of each step. Returns the number of degenerate steps."""
        T, B, n = H.shape[0] - 1, H.shape[1], H.shape[2]
        ptrs = (PB.data_ptr(), Wt.data_ptr(), H.data_ptr(), R.data_ptr(), Sr.data_ptr())
        fwd = self._fwd[PB.dtype]

        def run(b0: int, b1: int) -> int:
            work = PB.new_zeros(11 * n)  # zeroed: three padding rows for the last block of memory rows
            return int(fwd(T, B, b0, b1, n, *ptrs, *_eta(eta), min1pc, work.data_ptr()))

        return sum(_over_batch(run, B))

    def backward(
        self,
        PB: Tensor,
        W: Tensor,
        H: Tensor,
        Sr: Tensor,
        gH: Tensor,
        R: Tensor,
        G: Tensor,
        eta: float | None,
        dPB: Tensor,
        gh0: Tensor,
    ) -> None:
        """``gH`` (T, B, N) = ``∂L/∂h_t``; ``R`` = a copy of ``R_T`` (rebuilt to ``R_0`` in place);
        ``G`` = ``∂L/∂R_T`` in, ``∂L/∂R_0`` out; writes ``∂(ũ, τ, ε)`` to ``dPB`` and ``∂L/∂h_0`` to ``gh0``."""
        T, B, n = gH.shape
        ptrs = (PB.data_ptr(), W.data_ptr(), H.data_ptr(), Sr.data_ptr(), gH.data_ptr(), R.data_ptr(), G.data_ptr())
        bwd = self._bwd[PB.dtype]

        def run(b0: int, b1: int) -> None:
            work = PB.new_zeros(19 * n + 20)  # zeroed: the padding rows of the last block of rows
            bwd(T, B, b0, b1, n, *ptrs, *_eta(eta), dPB.data_ptr(), gh0.data_ptr(), work.data_ptr())

        _over_batch(run, B)

    supports = staticmethod(_cpu_float)  #: whether the kernel can run on these tensors


class SpectralAdjointKernel:
    r"""The Daleckii–Krein adjoint of ``X ↦ X^λ`` at ``blockdiag(M(φ_k), [1])`` in place
    (``spectral_adjoint.h``), batch split over ``torch.get_num_threads()`` threads.

    .. math:: G \leftarrow \mathcal L^*_\lambda(S G S),\qquad
              \partial\lambda_b = \sum_k \varphi_k \langle (S G S)_{kk}, M'(\lambda\varphi_k)\rangle

    (``S``: −1 on the second coordinate of the planes in ``flip``). The equations and the divided
    differences are those of :func:`orthornn.nn.functional.lie._plane_adjoint` and
    ``_divided_pairs``; the arithmetic is in double for both dtypes."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._fn = {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"spectral_adjoint_{suf}")
            f.argtypes = [_I64, _I64, _PTR, _PTR, _PTR, _PTR, _INT, _DBL, _PTR, _PTR]
            f.restype = None
            self._fn[dtype] = f

    def __call__(self, G: Tensor, phi: Tensor, lam: Tensor, flip: Tensor, eps: float) -> Tensor:
        """``G`` (B, N, N) contiguous, overwritten; ``phi`` (B, N//2) and ``lam`` (B,) float64,
        ``flip`` (B, N//2) bool, all CPU. Returns the λ gradient per matrix (B,) float64."""
        B, n = G.shape[0], G.shape[-1]
        phi, lam = phi.contiguous(), lam.contiguous()
        fl = flip.to(torch.uint8).contiguous()
        glam = torch.empty(B, dtype=torch.float64)
        m, size = n // 2, G.element_size()
        fn = self._fn[G.dtype]

        def run(b0: int, b1: int) -> None:
            work = torch.empty(10 * max(m, 1), dtype=torch.float64)
            ptrs = (
                G.data_ptr() + b0 * n * n * size,
                phi.data_ptr() + b0 * m * 8,
                lam.data_ptr() + b0 * 8,
                fl.data_ptr() + b0 * m,
            )
            fn(b1 - b0, n, *ptrs, 0, eps, glam.data_ptr() + b0 * 8, work.data_ptr())

        _over_batch(run, B)
        return glam

    supports = staticmethod(_cpu_float)  #: whether the kernel can run on these tensors


class SpectralUpdateKernel:
    r"""The eigen-update of a block-diagonal rotation by a plane rotation (``spectral_update.h``),
    float64 CPU tensors, the batch split over ``torch.get_num_threads()`` threads.

    .. math::

        A = \operatorname{Bd}(d)\,G = W \operatorname{Bd}(\varphi) W^\top,\qquad
        G = I + (\cos\theta - 1)(a a^\top + w w^\top) + \sin\theta\,(w a^\top - a w^\top),

    ``Bd(d)`` with the 2×2 blocks ``M(d_k) = [[cos, −sin], [sin, cos]]`` on ``(2k, 2k+1)`` (and a 1 on
    the last coordinate for odd N): one step ``R ← R^λ · Rotation`` of the RUM memory (Dangovski et
    al. 2017, §3.2/§5.2) kept as ``R = Q Bd(φ) Qᵀ``, written in ``Q``'s basis. In the complex plane
    coordinates the new eigen-angles ω solve the 2×2 secular equation
    ``det(Σ_j cot((ω − ψ_j)/2) Y_jᴴY_j + cot(θ/2) diag(−1, 1)) = 0`` (poles ``ψ = ±d_k``; Golub 1973,
    Bunch–Nielsen–Sorensen 1978), whose two eigenvalue branches decrease between poles; each root is
    found by a rational model fitted to both neighbouring poles as in LAPACK ``dlaed4``, its
    eigenvector is Cauchy-like, O(N) per root."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        f = lib.spectral_update_f64
        f.argtypes = [_I64, _I64, _I64, _I64, *[_PTR] * 4, _DBL, *[_PTR] * 4]
        f.restype = _I64
        self._fn = f
        #: evaluations of the secular function and roots solved by the last call (a counter)
        self.last_stats = (0, 0)

    def __call__(
        self, d: Tensor, a: Tensor, w: Tensor, theta: Tensor, pi_tol: float = 1e-12, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``d`` (B, N//2) angles in [0, π], ``a``, ``w`` (B, N) orthonormal rows, ``theta`` (B,) in
        [0, π]. Returns ``W`` (B, N, N), ``phi`` (B, N//2) in [0, π] and ``status`` (B,) int32: 0 ok;
        1 an eigenvalue at −1 or within ``pi_tol`` of it (the caller's dense fallback fixes the
        canonical −1 planes); 2 a numerical failure detected (non-finite, lost orthogonality or
        reconstruction, a root that did not converge). ``W``/``phi`` of a row with status ≠ 0 are
        unspecified. ``out``: a contiguous float64 (B, N, N) buffer to write ``W`` into (a sequence
        calls this every step: no fresh 10 MB allocation, and its page faults, each time)."""
        B, n = a.shape
        m = n // 2
        d, a, w = (t.to(torch.float64).contiguous() for t in (d, a, w))
        theta = theta.to(torch.float64).reshape(B).contiguous()
        use_out = out is not None and out.shape == (B, n, n) and out.dtype == torch.float64 and out.is_contiguous()
        W = out if use_out else torch.empty(B, n, n, dtype=torch.float64)
        phi = torch.empty(B, m, dtype=torch.float64)
        status = torch.zeros(B, dtype=torch.int32)
        ptrs = (d.data_ptr(), a.data_ptr(), w.data_ptr(), theta.data_ptr())
        outs = (W.data_ptr(), phi.data_ptr(), status.data_ptr())
        fn = self._fn

        def run(b0: int, b1: int) -> tuple[int, int]:
            stats = torch.zeros(2, dtype=torch.int64)
            if fn(B, b0, b1, n, *ptrs, float(pi_tol), *outs, stats.data_ptr()) != 0:
                raise MemoryError("spectral_update: out of memory (or N > 1000)")
            return int(stats[0]), int(stats[1])

        res = _over_batch(run, B) if B else []
        self.last_stats = (sum(r[0] for r in res), sum(r[1] for r in res))
        return W, phi, status

    takes_out = True  #: ``__call__`` accepts ``out=`` (the dense reference solver does not)

    @staticmethod
    def supports(*tensors: Tensor) -> bool:
        """Whether the kernel can run on these tensors (CPU, float64)."""
        return all(t.device.type == "cpu" and t.dtype == torch.float64 for t in tensors)


@functools.cache
def _library() -> ctypes.CDLL | None:
    """``kernels.c`` built and loaded once per process, or None (no compiler, not loadable)."""
    try:
        return ctypes.CDLL(str(_compile("kernels")))
    except (OSError, subprocess.SubprocessError):
        return None  # the torch implementation runs


@functools.cache
def _load_rum0() -> Rum0Kernel | None:
    lib = _library()
    return None if lib is None else Rum0Kernel(lib)


@functools.cache
def _load_rum1() -> Rum1Kernel | None:
    lib = _library()
    return None if lib is None else Rum1Kernel(lib)


class SpectralStepKernel:
    r"""The O(N²) middle of a backward step of the spectral fractional-λ RUM
    (``spectral_step.h``; the torch code of :class:`orthornn.nn.rum.spectral._SequenceFractional`
    is the reference), batch split over ``torch.get_num_threads()`` threads.

    .. math:: \hat h = Q'^T h,\ \hat g = Q'^T \partial z,\quad
              \partial D = K + \hat g\hat h^T + (K_+\alpha)\xi^T + (K_+\omega)\eta^T,\quad K_+ = K + \hat g\hat h^T

    and the rows ``Q'[Dᵀĝ + α(ξ·Dᵀĝ) + ω(η·Dᵀĝ), ∂α̂, ∂ŵ]`` with ``∂c`` (the module docstring of
    :mod:`orthornn.nn.rum.spectral`)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._fn = {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"spectral_step_backward_{suf}")
            f.argtypes = [_I64, _I64, *[_PTR] * 15]
            f.restype = None
            self._fn[dtype] = f

    def backward(self, K: Tensor, Qp: Tensor, vecs: tuple[Tensor, ...], cd: Tensor, sd: Tensor, c: Tensor, k: Tensor):
        """``K`` (B, N, N) → ``∂D`` in place; ``Qp`` (B, N, N); ``vecs = (h, ∂z, α, ω, ξ, η)`` (B, N);
        ``cd, sd`` (B, N//2); ``c, k`` (B,). Contiguous, one dtype. Returns ``back`` (B, 3, N), ``∂c`` (B,)."""
        B, n = K.shape[0], K.shape[-1]
        vecs = tuple(v.contiguous() for v in vecs)
        cd, sd, c, k = cd.contiguous(), sd.contiguous(), c.contiguous(), k.contiguous()
        back, gc = K.new_empty(B, 3, n), K.new_empty(B)
        size, m = K.element_size(), n // 2
        fn = self._fn[K.dtype]

        def run(b0: int, b1: int) -> None:
            work = K.new_empty(11 * n)
            mats = (K.data_ptr() + b0 * n * n * size, Qp.data_ptr() + b0 * n * n * size)
            rows = tuple(v.data_ptr() + b0 * n * size for v in vecs)
            planes = (cd.data_ptr() + b0 * m * size, sd.data_ptr() + b0 * m * size)
            scal = (c.data_ptr() + b0 * size, k.data_ptr() + b0 * size)
            out = (back.data_ptr() + b0 * 3 * n * size, gc.data_ptr() + b0 * size)
            fn(b1 - b0, n, *mats, *rows, *planes, *scal, *out, work.data_ptr())

        _over_batch(run, B)
        return back, gc

    supports = staticmethod(_cpu_float)  #: whether the kernel can run on these tensors


class FoldKernel:
    r"""The rank-2 reflector products of the folded angle-0 block (``fold_wy.h``; the torch form of
    :class:`orthornn.nn.rum.deflation.Deflation` is the reference), batch split over
    ``torch.get_num_threads()`` threads, each matrix in cache.

    .. math:: H = H_1H_2 = I - V S V^T \ 	ext{on the columns } k{:},\qquad
              S = egin{pmatrix} 2 & -4\,v_1\cdot v_2 \ 0 & 2 \end{pmatrix}

    (the compact WY form; Golub & Van Loan, *Matrix Computations*, §5.1.7)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._right, self._conj = {}, {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"fold_right_{suf}")
            f.argtypes = [_I64, _I64, _I64, _I64, _PTR, _PTR, _PTR, _I64]
            f.restype = None
            g = getattr(lib, f"fold_conjugate_{suf}")
            g.argtypes = [_I64, _I64, _I64, _PTR, _PTR, _PTR, _PTR]
            g.restype = None
            self._right[dtype], self._conj[dtype] = f, g

    def right(self, X: Tensor, V: Tensor, S: Tensor, k: int, transpose: bool) -> None:
        """``X_Z ← X_Z H`` (``transpose``: ``X_Z Hᵀ``) for ``X`` (B, r, N) contiguous, in place;
        ``V`` (B, 2, N − k), ``S`` (B, 2, 2) contiguous, ``X``'s dtype."""
        B, r, n = X.shape
        size, nz = X.element_size(), n - k
        fn = self._right[X.dtype]

        def run(b0: int, b1: int) -> None:
            ptrs = (X.data_ptr() + b0 * r * n * size, V.data_ptr() + b0 * 2 * nz * size, S.data_ptr() + b0 * 4 * size)
            fn(b1 - b0, r, n, k, *ptrs, int(transpose))

        _over_batch(run, B)

    def conjugate(self, G: Tensor, V: Tensor, S: Tensor, k: int) -> None:
        """``G ← diag(I, H) G diag(I, H)ᵀ`` for ``G`` (B, N, N) contiguous, in place."""
        B, n = G.shape[0], G.shape[-1]
        size, nz = G.element_size(), n - k
        fn = self._conj[G.dtype]

        def run(b0: int, b1: int) -> None:
            work = torch.empty(2 * n, dtype=torch.float64)
            ptrs = (G.data_ptr() + b0 * n * n * size, V.data_ptr() + b0 * 2 * nz * size, S.data_ptr() + b0 * 4 * size)
            fn(b1 - b0, n, k, *ptrs, work.data_ptr())

        _over_batch(run, B)

    @staticmethod
    def supports(X: Tensor) -> bool:
        """Whether the kernel can run on ``X``: CPU, float32 or float64, contiguous."""
        return _cpu_float(X) and X.is_contiguous()


class SpectralBackwardKernel:
    r"""One backward step of the spectral fractional-λ RUM fused per batch element
    (``spectral_backward.h``): :class:`SpectralStepKernel`'s middle, the folded block's
    ``diag(I, H) ∂D diag(I, H)ᵀ`` and ``Q' = Q'' diag(I, Hᵀ)`` (:class:`FoldKernel`), then
    :class:`SpectralAdjointKernel`'s flips, ∂λ, ``𝓛*_λ`` and projection, with the element's ``K``
    and ``Q'`` in cache across the three (each part is tested against its torch reference, and
    this against the three calls in sequence)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._fn = {}
        for dtype, suf in _SUFFIX.items():
            f = getattr(lib, f"spectral_backward_fused_{suf}")
            f.argtypes = [_I64, _I64, *[_PTR] * 14, _I64, _PTR, _PTR, _PTR, _PTR, _PTR, _DBL, *[_PTR] * 4]
            f.restype = None
            self._fn[dtype] = f

    def __call__(
        self,
        K: Tensor,
        Qp: Tensor,
        vecs: tuple[Tensor, ...],
        cd: Tensor,
        sd: Tensor,
        c: Tensor,
        k: Tensor,
        fold: tuple[int, Tensor, Tensor] | None,
        phi: Tensor,
        lam: Tensor,
        flip: Tensor,
        eps: float,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``K`` (B, N, N) → Ĝ_{t−1} and ``Qp`` (``Q''``) → ``Q'`` in place, as the three kernels;
        ``fold = (k, V, S)`` or None. Returns ``back`` (B, 3, N), ``∂c`` (B,) and ``∂λ`` per matrix (B,)."""
        B, n = K.shape[0], K.shape[-1]
        vecs = tuple(v.contiguous() for v in vecs)
        cd, sd, c, k = cd.contiguous(), sd.contiguous(), c.contiguous(), k.contiguous()
        phi, lam = phi.contiguous(), lam.contiguous()
        fl = flip.to(torch.uint8).contiguous()
        kf, V, S = (n, K, K) if fold is None else fold
        back, gc, glam = K.new_empty(B, 3, n), K.new_empty(B), torch.empty(B, dtype=torch.float64)
        size, m, nz = K.element_size(), n // 2, n - kf
        fn = self._fn[K.dtype]

        def run(b0: int, b1: int) -> None:
            f64 = torch.float64
            work, work2, work3 = (
                K.new_empty(11 * n),
                torch.empty(2 * n, dtype=f64),
                torch.empty(10 * max(m, 1), dtype=f64),
            )
            mats = (K.data_ptr() + b0 * n * n * size, Qp.data_ptr() + b0 * n * n * size)
            rows = tuple(v.data_ptr() + b0 * n * size for v in vecs)
            planes = (cd.data_ptr() + b0 * m * size, sd.data_ptr() + b0 * m * size)
            scal = (c.data_ptr() + b0 * size, k.data_ptr() + b0 * size)
            out = (back.data_ptr() + b0 * 3 * n * size, gc.data_ptr() + b0 * size)
            wy = (V.data_ptr() + b0 * 2 * nz * size, S.data_ptr() + b0 * 4 * size) if fold else (0, 0)
            adj = (phi.data_ptr() + b0 * m * 8, lam.data_ptr() + b0 * 8, fl.data_ptr() + b0 * m)
            fn(
                b1 - b0,
                n,
                *mats,
                *rows,
                *planes,
                *scal,
                *out,
                kf,
                *wy,
                *adj,
                eps,
                glam.data_ptr() + b0 * 8,
                work.data_ptr(),
                work2.data_ptr(),
                work3.data_ptr(),
            )

        _over_batch(run, B)
        return back, gc, glam

    supports = staticmethod(_cpu_float)  #: whether the kernel can run on these tensors


@functools.cache
def _load_spectral_backward() -> SpectralBackwardKernel | None:
    lib = _library()
    return None if lib is None else SpectralBackwardKernel(lib)


def spectral_backward() -> SpectralBackwardKernel | None:
    """The compiled fused backward step of the spectral fractional-λ RUM, or None.

    Examples
    --------
    >>> k = spectral_backward()
    >>> k is None or k.supports(torch.zeros(2, 3, 3))
    True
    """
    return _load_spectral_backward() if native_enabled() else None


@functools.cache
def _load_fold() -> FoldKernel | None:
    lib = _library()
    return None if lib is None else FoldKernel(lib)


def fold() -> FoldKernel | None:
    """The compiled reflector products of the folded angle-0 block, or None.

    Examples
    --------
    >>> k = fold()
    >>> k is None or k.supports(torch.zeros(2, 3, 3))
    True
    """
    return _load_fold() if native_enabled() else None


@functools.cache
def _load_spectral_step() -> SpectralStepKernel | None:
    lib = _library()
    return None if lib is None else SpectralStepKernel(lib)


def spectral_step() -> SpectralStepKernel | None:
    """The compiled middle of the spectral fractional-λ backward step, or None.

    Examples
    --------
    >>> k = spectral_step()
    >>> k is None or k.supports(torch.zeros(2, 3, 3))
    True
    """
    return _load_spectral_step() if native_enabled() else None


@functools.cache
def _load_spectral_adjoint() -> SpectralAdjointKernel | None:
    lib = _library()
    return None if lib is None else SpectralAdjointKernel(lib)


def spectral_adjoint() -> SpectralAdjointKernel | None:
    """The compiled plane-basis adjoint of the fractional-λ backward, or None (native kernels off
    or not buildable).

    Examples
    --------
    >>> k = spectral_adjoint()
    >>> k is None or k.supports(torch.zeros(2, 3, 3))
    True
    """
    return _load_spectral_adjoint() if native_enabled() else None


@functools.cache
def _load_spectral_update() -> SpectralUpdateKernel | None:
    lib = _library()
    return None if lib is None else SpectralUpdateKernel(lib)


def spectral_update() -> SpectralUpdateKernel | None:
    """The compiled eigen-update ``Bd(d)·G = W·Bd(φ)·Wᵀ`` (:class:`SpectralUpdateKernel`), or None
    when native kernels are off or cannot be built.

    Examples
    --------
    >>> k = spectral_update()
    >>> k is None or k.supports(torch.zeros(2, 3, dtype=torch.float64))
    True
    """
    return _load_spectral_update() if native_enabled() else None


def rum0() -> Rum0Kernel | None:
    """The compiled λ = 0 RUM step kernel, or None when native kernels are off or cannot be built.

    Examples
    --------
    >>> k = rum0()
    >>> k is None or k.supports(torch.zeros(2, 3, dtype=torch.float64))
    True
    """
    return _load_rum0() if native_enabled() else None


def rum1() -> Rum1Kernel | None:
    """The compiled λ = 1 RUM sequence kernel, or None when native kernels are off or cannot be built.

    Examples
    --------
    >>> k = rum1()
    >>> k is None or k.supports(torch.zeros(2, 3, 3, dtype=torch.float64))
    True
    """
    return _load_rum1() if native_enabled() else None
