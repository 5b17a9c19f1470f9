r"""Research prototype (issue 12): the eigen-update of ``D · Rotation`` by a 2×2 secular equation.

Not library code: a numpy study of the spectral route to a fast fractional-λ RUM memory, kept
so that the library implementation (torch, batched, with its backward) starts from a measured
algorithm. ``stress.py`` beside it measures where it holds and where it does not yet.

The problem. The memory in spectral form, ``R_{t−1}^λ = V diag(e^{iψ}) Vᴴ`` (``ψ = λφ``), and
``Rotation(ε, τ) = I + Y E Yᴴ`` with ``Y = [y₊, y₋]``, ``y± = (â ∓ i ŵ)/√2`` (ŵ the unit
vector of ``τ̂ − (ε̂·τ̂) ε̂``) and ``E = diag(e^{iθ} − 1, e^{−iθ} − 1)``. In ``V``'s coordinates
(``Ỹ = Vᴴ Y``) the next memory is ``U = D (I + Ỹ E Ỹᴴ)``, ``D = diag(e^{iψ})``. An eigenvalue
``z = e^{iω}`` of ``U`` that is not a pole ``e^{iψ_j}`` satisfies

.. math::

    \det\big(H(\omega) + \cot(\theta/2)\,\sigma\big) = 0,\qquad
    H(\omega) = \sum_j \cot\frac{\omega - \psi_j}{2}\, \tilde Y_j^{H} \tilde Y_j,\qquad
    \sigma = \operatorname{diag}(-1, 1)

(from ``d/(z − d) = −½ − (i/2) cot((ω − ψ)/2)`` and ``I − E K = Φ σ sin(θ/2) (H + κσ)``,
``Φ = diag(e^{iθ/2}, e^{−iθ/2})``). ``H`` is Hermitian and decreasing in ω between poles, so
each of the two eigenvalue branches of ``H + κσ`` has at most one zero per arc, and the limits
at the arc's ends say which: bisection on monotone functions, no missed or doubled roots. The
eigenvector of a root is Cauchy-like, ``x_j = (−½ − (i/2) cot((ω − ψ_j)/2)) Ỹ_j c`` with ``c``
the null vector of the 2×2 matrix. Poles closer than ``tol`` are merged and their rank-≤2
part separated by an SVD (deflation: ``R_0 = I`` is one pole of multiplicity n).

What made it accurate (each found by the stress test):
- roots are stored as (arc, offset t from the arc's left pole); the pole that dominates a root
  (the nearer end) is added in its own eigenbasis, never rotated (rotating a ``2p/t`` term
  into another basis puts ``eps · 2p/t`` into the small entry);
- the small branch is ``det / (large branch)``, the null vector is orthogonal to the larger row;
- a rank-1 dominant pole's row is exactly ``(ỹ·u, 0)`` in its eigenbasis ``(u, v)``;
- real structure forces roots *at* a pole (odd n: the eigenvalue 1): when the finite branch's
  limit there vanishes, the root is the pole and its eigenvector is the limit
  ``x_k = (i/2) (ỹ_k·u) F_uv / p_k``, the others ``x_q = f_q ỹ_q·v``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["update"]

SIGMA = np.array([-1.0, 1.0])  # σ = diag(−1, 1)

#: counters of the root finder (``timing.py`` and ``stress.py`` report them): evaluation rounds
#: over all roots of a step, root evaluations, roots.
STATS = {"rounds": 0, "evaluations": 0, "roots": 0}


def _null_vector(A: np.ndarray) -> np.ndarray:
    """Unit null vectors of singular 2×2 matrices ``A`` (R, 2, 2), orthogonal to the larger row
    (the accurate one when a pole's term dominates it); ``(1, 0)`` where ``A = 0``."""
    use0 = np.abs(A[:, 0, 0]) + np.abs(A[:, 0, 1]) >= np.abs(A[:, 1, 0]) + np.abs(A[:, 1, 1])
    v = np.where(use0[:, None], np.stack([-A[:, 0, 1], A[:, 0, 0]], 1), np.stack([-A[:, 1, 1], A[:, 1, 0]], 1))
    nv = np.linalg.norm(v, axis=1, keepdims=True)
    return np.where(nv > 0, v / np.where(nv > 0, nv, 1.0), np.array([1.0, 0.0]))


def _newton(rotated, branch, lo, hi, inner, br, max_rounds: int = 200):
    """The roots' offsets ``t`` by safeguarded rational Newton on the decreasing branches: the zero
    of ``α/(t − t_p) + β`` matched to the branch's value and slope (``t_p`` the arc end where the
    branch is infinite), a bisection where that leaves the bracket; each evaluation narrows
    ``[lo, hi]`` by the sign of the branch. A root stops when its step is below 64 eps of its
    distance to the nearer pole."""
    eps = np.finfo(float).eps
    arc = hi.copy()
    t = (lo + hi) / 2
    active = np.ones(t.shape, dtype=bool)
    rounds = evals = 0
    for _ in range(max_rounds):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        rounds += 1
        evals += idx.size
        Gr, _, _, dG = rotated(inner(t), deriv=True)
        g = branch(Gr)
        v = _null_vector(Gr - g[:, None, None] * np.eye(2))
        gp = np.einsum("ri,rij,rj->r", v.conj(), dG, v).real  # branch derivative (< 0)
        pos = g > 0
        lo = np.where(active & pos, t, lo)
        hi = np.where(active & ~pos, t, hi)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # the rational step: g ≈ α/(t − t_p) + β through (g, g'), t_p the pole where this
            # branch is infinite (the lower one at the arc's right end, the upper at its left)
            tp = np.where(br == 0, arc, 0.0)
            d = t - tp
            tn = tp + gp * d * d / (g + gp * d)
        bad = ~np.isfinite(tn) | (tn <= lo) | (tn >= hi)
        tn = np.where(bad, (lo + hi) / 2, tn)
        scale = np.minimum(tn, arc - tn)  # distance to the nearer pole
        conv = (np.abs(tn - t) <= 64 * eps * np.maximum(scale, np.finfo(float).tiny)) | (hi - lo <= 2 * eps * hi)
        t = np.where(active, tn, t)
        newly = active & conv
        if "hist" in STATS:
            STATS["hist"].extend([rounds] * int(newly.sum()))
        active &= ~conv
    STATS["rounds"] += rounds
    STATS["evaluations"] += evals
    return t


def _clusters(psi: np.ndarray, tol: float) -> list[np.ndarray]:
    """Indices of poles grouped by angle: consecutive sorted angles closer than ``tol`` (and the
    wrap-around gap)."""
    order = np.argsort(psi, kind="stable")
    ps = psi[order]
    groups = np.split(order, np.nonzero(np.diff(ps) > tol)[0] + 1)
    if len(groups) > 1 and ps[0] + 2 * np.pi - ps[-1] <= tol:
        groups[0] = np.concatenate([groups.pop(), groups[0]])
    return groups


def update(
    psi: np.ndarray, Y: np.ndarray, theta: float, tol: float = 1e-13, solver: str = "newton"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigen-decomposition of ``U = diag(e^{iψ}) (I + Y E Yᴴ)``: ``U = X diag(e^{iω}) Xᴴ``.

    Parameters
    ----------
    psi : (n,) pole angles; Y : (n, 2) complex with orthonormal columns (``Ỹ`` above);
    theta : rotation angle in (0, π]; tol : pole-merging and deflation tolerance;
    solver : ``"newton"`` (safeguarded Newton on the monotone branches) or ``"bisect"``.

    Returns
    -------
    omega : (n,) eigen-angles in (−π, π]; X : (n, n) unitary, columns the eigenvectors.
    """
    n = psi.shape[0]
    kappa = 1.0 / np.tan(theta / 2)
    psi = np.mod(psi + np.pi, 2 * np.pi) - np.pi
    X = np.zeros((n, n), complex)
    omega = np.zeros(n)
    col = 0
    eff_psi, eff_rows, eff_vecs = [], [], []  # per effective pole: angle, rows (r, 2), basis (n, r)
    for idx in _clusters(psi, tol):
        ang = np.angle(np.exp(1j * psi[idx]).mean()) if len(idx) > 1 else psi[idx[0]]
        U, S, Wh = np.linalg.svd(Y[idx], full_matrices=True)
        r = int(np.sum(S > tol))
        for k in range(r, len(idx)):  # deflated: untouched by the rotation, eigenvalue unchanged
            X[idx, col] = U[:, k]
            omega[col] = ang
            col += 1
        if r:
            basis = np.zeros((n, r), complex)
            basis[idx] = U[:, :r]
            eff_psi.append(ang)
            eff_rows.append(S[:r, None] * Wh[:r])
            eff_vecs.append(basis)
    K = len(eff_psi)
    if K == 0:
        return omega, X
    eff_psi = np.array(eff_psi)
    P = np.array([r.conj().T @ r for r in eff_rows])  # (K, 2, 2) the poles' weights, Σ P = I
    rank = np.array([r.shape[0] for r in eff_rows])
    allrows = np.concatenate(eff_rows)
    pole_of = np.repeat(np.arange(K), rank)
    allvec = np.concatenate(eff_vecs, axis=1)
    L = np.diff(np.append(eff_psi, eff_psi[0] + 2 * np.pi))  # arc k runs from pole k to pole k+1
    dkq = eff_psi[:, None] - eff_psi[None, :]
    Pw, Pv = np.linalg.eigh(P)
    Ub = Pv[:, :, ::-1]  # each pole's eigenbasis, largest weight first: (u, v)
    Pdiag = Pw[:, ::-1].copy()
    Pdiag[rank == 1, 1] = 0.0

    # the finite branch's limit at each rank-1 pole decides which neighbouring arc holds its root
    lim, at_pole = {}, []
    for k in np.nonzero(rank == 1)[0]:
        others = np.arange(K) != k
        cc = np.zeros(K)
        cc[others] = 1.0 / np.tan(dkq[k, others] / 2)
        F = np.einsum("q,qab->ab", cc, P) + np.diag(kappa * SIGMA)
        u, v = Ub[k][:, 0], Ub[k][:, 1]
        ell = float((v.conj() @ F @ v).real)
        scale = 1 + abs(kappa) + np.abs(cc).max(initial=0)
        if abs(ell) <= 1e-12 * scale:
            ell = 0.0
            at_pole.append((k, v, (u.conj() @ F @ v) * (eff_rows[k][0] @ u) / Pdiag[k, 0]))
        lim[k] = ell
    roots = []
    for k in range(K):
        nk = (k + 1) % K
        if (np.inf if rank[k] == 2 else lim[k]) > 0:
            roots.append((k, 0))  # the lower branch crosses zero in arc k
        if (-np.inf if rank[nk] == 2 else lim[nk]) < 0:
            roots.append((k, 1))  # the upper branch
    if len(roots) + len(at_pole) != allrows.shape[0]:
        raise ArithmeticError(f"secular root count {len(roots) + len(at_pole)} != {allrows.shape[0]}")

    for k, v, x_own in at_pole:
        own = pole_of == k
        f = -0.5 - 0.5j / np.tan(np.where(own, 1.0, (eff_psi[k] - eff_psi[pole_of]) / 2))
        xe = f * (allrows @ v)
        xe[own] = 0.5j * x_own
        X[:, col] = allvec @ (xe / np.linalg.norm(xe))
        omega[col] = eff_psi[k]
        col += 1
    if not roots:
        return omega, _lowdin(X, n - len(at_pole))

    ka = np.array([r[0] for r in roots])
    br = np.array([r[1] for r in roots])
    m = len(roots)
    rows_ = np.arange(m)

    def rotated(t: np.ndarray, deriv: bool = False):
        """``H(ψ_k + t) + κσ`` in the eigenbasis of the dominant pole, that pole added exactly
        (and, with ``deriv``, its t-derivative ``Σ −½ csc²((ω − ψ_q)/2) P_q`` in the same basis)."""
        dom = np.where(t <= L[ka] / 2, ka, (ka + 1) % K)
        isdom = np.arange(K)[None, :] == dom[:, None]
        c = 1.0 / np.tan(np.where(isdom, 1.0, (dkq[ka] + t[:, None]) / 2))
        c[rows_, ka] = 1.0 / np.tan(t / 2)
        if K > 1:
            c[rows_, (ka + 1) % K] = -1.0 / np.tan((L[ka] - t) / 2)
        cdom = c[rows_, dom].copy()
        c[rows_, dom] = 0.0
        G = np.einsum("rq,qab->rab", c, P)
        G[:, 0, 0] += kappa * SIGMA[0]
        G[:, 1, 1] += kappa * SIGMA[1]
        B = Ub[dom]
        Gr = np.einsum("rai,rab,rbj->rij", B.conj(), G, B)
        Gr[:, 0, 0] += cdom * Pdiag[dom, 0]
        Gr[:, 1, 1] += cdom * Pdiag[dom, 1]
        if not deriv:
            return Gr, B, dom
        d = -0.5 * (1.0 + c * c)
        d[rows_, dom] = 0.0
        dG = np.einsum("rai,rab,rbj->rij", B.conj(), np.einsum("rq,qab->rab", d, P), B)
        ddom = -0.5 * (1.0 + cdom * cdom)
        dG[:, 0, 0] += ddom * Pdiag[dom, 0]
        dG[:, 1, 1] += ddom * Pdiag[dom, 1]
        return Gr, B, dom, dG

    def branch(Gr: np.ndarray) -> np.ndarray:
        p, s, q = Gr[:, 0, 0].real, Gr[:, 1, 1].real, Gr[:, 0, 1]
        mid, half = (p + s) / 2, (p - s) / 2
        rad = np.sqrt(half * half + np.abs(q) ** 2)
        det = p * s - np.abs(q) ** 2
        big_pos, big_neg = mid + rad, mid - rad
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.where(mid >= 0, det / big_pos, big_neg)
            hi = np.where(mid >= 0, big_pos, det / big_neg)
        return np.where(br == 0, lo, hi)

    lo, hi = np.zeros(m), L[ka].copy()
    inner = lambda t_: np.clip(t_, 1e-300 * L[ka], L[ka] * (1 - 2.0**-52))  # noqa: E731
    if solver == "newton":
        t = _newton(rotated, branch, lo, hi, inner, br)
    else:
        rounds = 0
        for _ in range(2100):  # bisection to the last bit (offsets may be tiny)
            t = (lo + hi) / 2
            done = (t <= lo) | (t >= hi)
            if done.all():
                break
            rounds += 1
            pos = branch(rotated(inner(t))[0]) > 0
            lo = np.where(pos & ~done, t, lo)
            hi = np.where(~pos & ~done, t, hi)
        STATS["rounds"] += rounds
        STATS["evaluations"] += rounds * m
        t = (lo + hi) / 2
    STATS["roots"] += m
    t = inner(t)  # a root pushed onto an arc's end sits at that pole; keep it inside the arc
    Gr, B, dom = rotated(t)
    cb = _null_vector(Gr - branch(Gr)[:, None, None] * np.eye(2))
    # a double root (both branches vanish together: G = 0, e.g. −1 twice when θ = π): its
    # eigenspace is the whole of C², any orthonormal pair of c spans it
    for k in np.unique(ka):
        pair = np.nonzero(ka == k)[0]
        if len(pair) == 2 and abs(t[pair[0]] - t[pair[1]]) <= 64 * np.finfo(float).eps * L[k]:
            cb[pair[0]], cb[pair[1]] = (1.0, 0.0), (0.0, 1.0)
    proj = np.einsum("rij,rj->ri", B, cb) @ allrows.T  # Ỹ_q · c
    for r_ in range(m):  # a rank-1 dominant pole's row is exactly (ỹ·u, 0) in its eigenbasis
        if rank[dom[r_]] == 1:
            j = np.nonzero(pole_of == dom[r_])[0][0]
            proj[r_, j] = (allrows[j] @ B[r_][:, 0]) * cb[r_, 0]
    own = pole_of[None, :] == ka[:, None]
    nxt = pole_of[None, :] == ((ka + 1) % K)[:, None]
    a = np.where(own | nxt, 1.0, (dkq[ka][:, pole_of] + t[:, None]) / 2)
    cot = np.where(own, (1.0 / np.tan(t / 2))[:, None], 1.0 / np.tan(a))
    if K > 1:
        cot = np.where(nxt, (-1.0 / np.tan((L[ka] - t) / 2))[:, None], cot)
    xe = (-0.5 - 0.5j * cot) * proj
    xe /= np.linalg.norm(xe, axis=1, keepdims=True)
    X[:, col : col + m] = allvec @ xe.T
    omega[col : col + m] = np.angle(np.exp(1j * (eff_psi[ka] + t)))
    return omega, _lowdin(X, n - m - len(at_pole))


def _lowdin(X: np.ndarray, first: int) -> np.ndarray:
    r"""Symmetric re-orthogonalisation ``X_r ← X_r (X_rᴴ X_r)^{−1/2}`` of the computed eigenvectors
    (the columns from ``first`` on; the deflated ones before are exact).

    Cauchy-like eigenvectors of close roots lose orthogonality like ``eps / gap``; the symmetric
    correction mixes two eigenvectors by about that much, which moves the represented matrix by
    ``(eps / gap) · gap = eps``: harmless to accuracy whatever the gaps.
    """
    Xr = X[:, first:]
    w, V = np.linalg.eigh(Xr.conj().T @ Xr)
    X[:, first:] = Xr @ (V * (1 / np.sqrt(w))) @ V.conj().T
    return X
