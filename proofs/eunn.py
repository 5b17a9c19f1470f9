r"""EUNN phase decomposition (RUM paper §5.2, eq. 2; Jing et al. 2017; ``docs/eunn.md``).

Notation. :math:`G(i, j, \theta)` rotates :math:`e_i` toward :math:`e_j` (``G[j, i] = sin θ``),
:math:`M(\theta) = \bigl[\begin{smallmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{smallmatrix}\bigr]`
is its 2×2 block. A *layer* :math:`\Lambda_\pi(\theta)` with pairing :math:`\pi` (disjoint pairs
:math:`(i_k, j_k)`) is :math:`\prod_k G(i_k, j_k, \theta_k)`; a *mesh* is
:math:`D\,\Lambda_{L-1}\cdots\Lambda_0` with :math:`D = \operatorname{diag}(\pm1)`.

Dimension-free method. Let :math:`P_\pi` be a permutation matrix listing the paired indices
first, pair by pair. Then :math:`\Lambda_\pi(\theta) = P_\pi^\top\,(M(\theta_1) \oplus \cdots \oplus M(\theta_k)
\oplus I_m)\,P_\pi` — a direct sum of 2×2 rotations and an identity of any size :math:`m`
(for the tunable pairings :math:`P_\pi` is the identity or a shift by one). Every claim about
layers with one pairing therefore reduces, by the *direct-sum product rule*
:math:`(A \oplus B)(C \oplus D) = AC \oplus BD`, :math:`(A \oplus B)^\top = A^\top \oplus B^\top`
(checked with symbolic blocks of symbolic sizes) and :math:`P_\pi P_\pi^\top = I`, to the same
claim for one 2×2 block, by induction on the number of blocks :math:`k`. Concrete layers for
n = 2 … 7 are checked explicitly as corollaries.

Theorems (all checks exact):

* ``eunn.givens_convention`` — the convention, orthogonality, and
  ``sympy.rot_givens(i, j, θ) = G(i, j, −θ) = G(j, i, θ) = G(i, j, θ)ᵀ``.
* ``eunn.direct_sum`` — the direct-sum product and transpose rules (symbolic block sizes).
* ``eunn.layer_group`` — :math:`\Lambda_\pi(\theta)\Lambda_\pi(\varphi) = \Lambda_\pi(\theta + \varphi)`,
  :math:`\Lambda_\pi(-\theta) = \Lambda_\pi(\theta)^\top = \Lambda_\pi(\theta)^{-1}` for every n, k.
* ``eunn.forgetting`` — RUM eq. (2): adjacent layers of memory and rotation with one pairing
  merge by adding phases, so :math:`\varphi = -\theta` deletes a layer; the mirrored mesh with
  negated phases erases the memory.
* ``eunn.sign_moves`` — how a sign diagonal crosses a rotation (used to normalise :math:`D`).
* ``eunn.counting`` — a tunable mesh of capacity L has :math:`\lceil L/2\rceil\lfloor n/2\rfloor
  + \lfloor L/2\rfloor\lfloor (n-1)/2\rfloor` phases; at L = n, and for the Reck and Clements
  nulling sequences, :math:`n(n-1)/2 = \dim SO(n)` (symbolic n, ``sympy.summation``).
* ``eunn.schedule`` — the implemented Clements/Reck sequences null exactly the strict lower
  triangle and never refill it, and Clements packs into the tunable layout of capacity n.
* ``eunn.decomposition`` — the exact decomposition: the implemented ``givens_decompose`` (det flip,
  nulling with :math:`\theta = \operatorname{atan2}(-a, b)`, phase placement, sign absorption) run
  in sympy on :math:`U = D_0\,\mathrm{mesh}(\theta)` with symbolic phases
  :math:`\theta_k = 2\arctan t_k`, :math:`t_k > 0` (entries rational in :math:`t`), both meshes and
  every sign diagonal, n = 2, 3; and on the generic rotation of the Cayley chart (symbolic entries),
  n = 2, 3: the remainder is a ±1 diagonal and the mesh composes back to :math:`U` exactly.
* ``eunn.decomposition_4`` — the same for n = 4 (six symbolic phases, det ±1), plus the degenerate
  inputs :math:`-I`, sign diagonals and permutations (zero and π nulling steps).
* ``eunn.decomposition_general`` — the algorithm for *every* :math:`U \in O(n)`, n ≤ 5, by three
  lemmas with symbolic entries: (A) each nulling rotation makes its target exactly 0 and keeps every
  earlier zero, checked on the state matrix with independent symbols off the zero pattern, so the
  remainder is upper triangular; (B) an upper-triangular orthogonal matrix is
  :math:`\operatorname{diag}(\pm1)`; (C) for symbolic :math:`(c_k, s_k)` and every sign pattern
  :math:`D`, the mesh with the phases placed as the implementation places them equals
  :math:`L_1^\top\cdots L_K^\top D R_M^\top\cdots R_1^\top`, which is :math:`U`.
* ``eunn.remainder_identity`` — for :math:`U \in SO(n)` (after the det flip), n ≤ 12, the remainder is
  exactly :math:`I`: every diagonal entry but at most one is last set as a nulling partner
  :math:`\rho \ge 0`, and the determinant fixes the last one. The sign absorption never acts.

Scope: ``eunn.decomposition`` and ``eunn.decomposition_4`` run the whole implemented pipeline on
matrices of the mesh with phases in :math:`(0, \pi)` times a sign diagonal (an open subset of each
component of :math:`O(n)`), and for n ≤ 3 on every rotation without eigenvalue −1;
``eunn.decomposition_general`` with ``eunn.remainder_identity`` covers all of :math:`O(n)`, n ≤ 5
(the sign normalisation is then the det flip alone).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix
from sympy.polys.polyerrors import CoercionFailed

from orthornn.numeric.eunn import _absorb_signs, schedule
from orthornn.numeric.givens import tunable_layout
from orthornn.symbolic import Derivation, theorem
from orthornn.symbolic.givens import givens, givens_cs, layer, mesh, rotation_block, tunable_pairs

theta, phi, x = sp.symbols("theta phi x", real=True)


def phases(name: str, k: int) -> list[sp.Symbol]:
    """k real phase symbols."""
    return list(sp.symbols(f"{name}1:{k + 1}", real=True)) if k else []


@theorem(
    "eunn.givens_convention",
    r"G(i,j,\theta)e_i = \cos\theta\,e_i + \sin\theta\,e_j,\ G^\top G = I,\ "
    r"\mathtt{rot\_givens}(i,j,\theta) = G(i,j,-\theta) = G(j,i,\theta) = G(i,j,\theta)^\top",
)
def givens_convention(d: Derivation) -> None:
    """The Givens convention of orthornn and its relation to ``sympy.rot_givens``."""
    d.step(r"$G(0, 1, \theta)$ in $\mathbb R^2$ is the block $M(\theta)$ of RUM eq. (1)", givens(0, 1, theta, 2))
    d.equal(givens(0, 1, theta, 2), rotation_block(theta), "G(0,1,θ) = M(θ)")
    d.step(r"sympy's rotation is the transpose", sp.rot_givens(0, 1, theta, 2))
    for n in range(2, N_GENERAL + 1):
        e = sp.eye(n)
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                g = givens(i, j, theta, n)
                tag = f"n={n}, (i,j)=({i},{j})"
                d.equal(g * e[:, i], sp.cos(theta) * e[:, i] + sp.sin(theta) * e[:, j], f"G e_i, {tag}")
                d.equal(g * e[:, j], -sp.sin(theta) * e[:, i] + sp.cos(theta) * e[:, j], f"G e_j, {tag}")
                d.holds(g[j, i] == sp.sin(theta), f"G[j,i] = sin θ, {tag}")
                d.equal(g.T * g, e, f"GᵀG = I, {tag}")
                d.equal(g.det(), 1, f"det G = 1, {tag}")
                r = sp.rot_givens(i, j, theta, n)
                d.equal(r, givens(i, j, -theta, n), f"rot_givens(i,j,θ) = G(i,j,−θ), {tag}")
                d.equal(r, givens(j, i, theta, n), f"rot_givens(i,j,θ) = G(j,i,θ), {tag}")
                d.equal(r, g.T, f"rot_givens(i,j,θ) = G(i,j,θ)ᵀ, {tag}")


@theorem("eunn.direct_sum", r"(A \oplus B)(C \oplus D) = AC \oplus BD,\quad (A\oplus B)^\top = A^\top \oplus B^\top")
def direct_sum(d: Derivation) -> None:
    """The direct-sum product rule, for blocks of symbolic sizes p and q."""
    p, q = sp.symbols("p q", integer=True, positive=True)
    A, C = sp.MatrixSymbol("A", p, p), sp.MatrixSymbol("C", p, p)
    B, D = sp.MatrixSymbol("B", q, q), sp.MatrixSymbol("D", q, q)
    prod = d.step(
        r"Block multiplication of two direct sums",
        sp.block_collapse(sp.BlockDiagMatrix(A, B) * sp.BlockDiagMatrix(C, D)),
    )
    d.holds(prod == sp.BlockDiagMatrix(A * C, B * D), "(A⊕B)(C⊕D) = AC ⊕ BD")
    d.holds(sp.block_collapse(sp.BlockDiagMatrix(A, B).T) == sp.BlockDiagMatrix(A.T, B.T), "(A⊕B)ᵀ = Aᵀ ⊕ Bᵀ")
    eye_prod = sp.block_collapse(sp.BlockDiagMatrix(sp.Identity(p), sp.Identity(q)) * sp.BlockDiagMatrix(C, D))
    d.holds(eye_prod == sp.BlockDiagMatrix(C, D), "identity blocks act as identity")
    d.step(
        r"Conjugation by a permutation: $P^\top X P\,P^\top Y P = P^\top XY P$ since $PP^\top = I$; "
        r"checked with non-commuting symbols"
    )
    P, X, Y = sp.symbols("P X Y", commutative=False)
    Pt = sp.Symbol("P^T", commutative=False)
    d.equal((Pt * X * P * Pt * Y * P).subs(P * Pt, 1), Pt * X * Y * P, "PᵀXP·PᵀYP = PᵀXYP")


@theorem(
    "eunn.layer_group",
    r"\Lambda_\pi(\theta)\Lambda_\pi(\varphi) = \Lambda_\pi(\theta+\varphi),\quad "
    r"\Lambda_\pi(-\theta) = \Lambda_\pi(\theta)^\top = \Lambda_\pi(\theta)^{-1}",
)
def layer_group(d: Derivation) -> None:
    """Layers with one pairing form a group isomorphic to the torus: phases add."""
    d.step(
        r"Base: one block, $M(\theta)M(\varphi) = M(\theta+\varphi)$ (angle addition)",
        rotation_block(theta) * rotation_block(phi),
    )
    d.equal(rotation_block(theta) * rotation_block(phi), rotation_block(theta + phi), "M(θ)M(φ) = M(θ+φ)")
    d.equal(rotation_block(-theta), rotation_block(theta).T, "M(−θ) = M(θ)ᵀ")
    d.equal(rotation_block(theta) * rotation_block(-theta), sp.eye(2), "M(θ)M(−θ) = I")
    d.equal(rotation_block(0), sp.eye(2), "M(0) = I")
    d.step(
        r"Induction on the number of blocks $k$: $\Lambda^{(k+1)}(\theta) = M(\theta_{k+1}) \oplus \Lambda^{(k)}(\theta)$. "
        r"With the hypothesis $\Lambda^{(k)}(\theta)\Lambda^{(k)}(\varphi) = \Lambda^{(k)}(\theta+\varphi)$ (symbols $X Y = Z$ "
        r"of symbolic size $q$), the direct-sum rule gives the claim for $k + 1$; the base $k = 0$ is $I_m I_m = I_m$"
    )
    q = sp.Symbol("q", integer=True, positive=True)
    X, Y = sp.MatrixSymbol("X", q, q), sp.MatrixSymbol("Y", q, q)
    a1, b1 = sp.symbols("a1 b1", real=True)
    step = sp.block_collapse(sp.BlockDiagMatrix(rotation_block(a1), X) * sp.BlockDiagMatrix(rotation_block(b1), Y))
    d.holds(
        step == sp.BlockDiagMatrix(rotation_block(a1) * rotation_block(b1), X * Y), "(M(a)⊕X)(M(b)⊕Y) = M(a)M(b) ⊕ XY"
    )
    step_t = sp.block_collapse(sp.BlockDiagMatrix(rotation_block(a1), X).T)
    d.holds(step_t == sp.BlockDiagMatrix(rotation_block(a1).T, X.T), "(M(a)⊕X)ᵀ = M(a)ᵀ ⊕ Xᵀ")
    d.step(
        r"so with $M(a)M(b) = M(a+b)$ and $XY = Z$ the product is $M(a+b) \oplus Z = \Lambda^{(k+1)}(\theta+\varphi)$; "
        r"for a general pairing conjugate by $P_\pi$ (``eunn.direct_sum``)"
    )
    d.step("Corollaries: explicit layers of both tunable pairings and of a strided (fft-type) pairing, n = 2 … 7")
    for n in range(2, 8):
        pairings = [tunable_pairs(n, 0), tunable_pairs(n, 1)]
        if n % 4 == 0:
            pairings.append([(i, i + 2) for i in range(n) if (i // 2) % 2 == 0])
        for pairs in pairings:
            if not pairs:
                continue
            t, f = phases("t", len(pairs)), phases("f", len(pairs))
            lt, lf = layer(pairs, t, n), layer(pairs, f, n)
            tag = f"n={n}, pairs={pairs}"
            d.equal(lt * lf, layer(pairs, [a + b for a, b in zip(t, f, strict=True)], n), f"Λ(θ)Λ(φ) = Λ(θ+φ), {tag}")
            d.equal(layer(pairs, [-a for a in t], n), lt.T, f"Λ(−θ) = Λ(θ)ᵀ, {tag}")
            d.equal(layer(pairs, [-a for a in t], n) * lt, sp.eye(n), f"Λ(−θ)Λ(θ) = I, {tag}")


@theorem(
    "eunn.forgetting",
    r"R_{t-1}\,\mathrm{Rot}_t = \cdots\Lambda_\pi(\theta^0)\Lambda_\pi(\varphi^{L-1})\cdots"
    r" = \cdots\Lambda_\pi(\theta^0+\varphi^{L-1})\cdots,\quad \varphi^{L-1} = -\theta^0 \Rightarrow \text{layer erased}",
)
def forgetting(d: Derivation) -> None:
    """RUM eq. (2): forgetting is built into the phase encoding (no reset gate needed)."""
    d.step(
        r"$R_t = R_{t-1}\,\mathrm{Rot}_t$ with $R_{t-1} = \Lambda_{L-1}(\theta^{L-1})\cdots\Lambda_0(\theta^0)$ and "
        r"$\mathrm{Rot}_t = \Lambda'_{L'-1}(\varphi^{L'-1})\cdots\Lambda'_0(\varphi^0)$. The two layers that meet, "
        r"$\Lambda_0(\theta^0)\Lambda'_{L'-1}(\varphi^{L'-1})$, share a pairing in the tunable layout when the parities "
        r"match; by ``eunn.layer_group`` they merge into one layer with phases $\theta^0 + \varphi^{L'-1}$: every entry "
        r"of the merged layer depends on one element of $\theta^0$ and one of $\varphi^{L'-1}$, and $\varphi^{L'-1} = -\theta^0$ erases it"
    )
    n, L = 5, 3
    pair_layers = [tunable_pairs(n, l) for l in range(L)]
    th = [phases(f"theta{l}_", len(p)) for l, p in enumerate(pair_layers)]
    memory = [layer(p, t, n) for p, t in zip(pair_layers, th, strict=True)]
    R_prev = mesh(memory)
    d.step(r"Concretely, n = 5, L = 3, symbolic phases: $R_{t-1}$", R_prev)
    ph = phases("phi", len(pair_layers[0]))
    rot_last = layer(pair_layers[0], ph, n)  # Rot_t's last-applied layer, same pairing as Λ_0
    merged = mesh([layer(pair_layers[0], [a + b for a, b in zip(th[0], ph, strict=True)], n), *memory[1:]])
    d.equal(R_prev * rot_last, merged, "R_{t−1} Λ(φ) = Λ_2Λ_1Λ_0(θ⁰+φ)")
    d.step(
        r"$\varphi = -\theta^0$: $R_{t-1}\Lambda_0(-\theta^0) = \Lambda_2\Lambda_1\,(\Lambda_0(\theta^0)\Lambda_0(-\theta^0))$ by associativity"
    )
    for l, (p, t) in enumerate(zip(pair_layers, th, strict=True)):
        d.equal(memory[l] * layer(p, [-a for a in t], n), sp.eye(n), f"Λ_{l}(θ^{l}) Λ_{l}(−θ^{l}) = I, n = {n}")
    d.step(
        r"So the layer is erased, and the mirrored mesh $\Lambda_0(-\theta^0)\cdots\Lambda_{L-1}(-\theta^{L-1})$ erases the "
        r"whole memory: with non-commuting layer symbols and $\Lambda_l\Lambda_l^{-} = I$ (``eunn.layer_group``) it telescopes"
    )
    Ls = sp.symbols("L0:4", commutative=False)
    Li = sp.symbols("Li0:4", commutative=False)
    expr = Ls[3] * Ls[2] * Ls[1] * Ls[0] * Li[0] * Li[1] * Li[2] * Li[3]
    for k in range(4):
        expr = expr.subs(Ls[k] * Li[k], 1)
    d.equal(expr, 1, "Λ₃Λ₂Λ₁Λ₀ · Λ₀⁻Λ₁⁻Λ₂⁻Λ₃⁻ = I")


@theorem(
    "eunn.sign_moves",
    r"E_iG(\theta) = G(-\theta)E_i = G(\pi-\theta)E_j,\quad E_iE_jG(\theta) = G(\theta+\pi),\quad "
    r"D\,G(i,j,\theta)\,D = G(i,j,d_id_j\theta)",
)
def sign_moves(d: Derivation) -> None:
    """How a ±1 diagonal crosses a rotation (the rules behind the sign normalisation of ``givens_decompose``)."""
    Ei, Ej = sp.diag(-1, 1), sp.diag(1, -1)
    G = rotation_block
    d.equal(Ei * G(theta), G(-theta) * Ei, "E_i G(θ) = G(−θ) E_i (stay)")
    d.equal(Ej * G(theta), G(-theta) * Ej, "E_j G(θ) = G(−θ) E_j (stay)")
    d.equal(Ei * G(theta), G(sp.pi - theta) * Ej, "E_i G(θ) = G(π−θ) E_j (hop up)")
    d.equal(Ej * G(theta), G(sp.pi - theta) * Ei, "E_j G(θ) = G(π−θ) E_i (hop down)")
    d.equal(Ei * Ej * G(theta), G(theta + sp.pi), "E_iE_j G(θ) = G(θ+π) (absorb)")
    d.equal(Ei * Ej * G(theta), G(theta) * Ei * Ej, "−I commutes (two signs of different pairs)")
    for di in (1, -1):
        for dj in (1, -1):
            D = sp.diag(di, dj)
            d.equal(D * G(theta) * D, G(di * dj * theta), f"D G D = G(d_i d_j θ), d=({di},{dj})")
            d.equal(G(-theta) * D, D * G(-di * dj * theta), f"G(θ)ᵀ D = D G(−d_i d_j θ), d=({di},{dj})")


@theorem(
    "eunn.counting",
    r"P(n, L) = \lceil L/2\rceil\lfloor n/2\rfloor + \lfloor L/2\rfloor\lfloor (n-1)/2\rfloor,\ "
    r"P(n, n) = \sum_{r=1}^{n-1} r = \sum_{i=0}^{n-2}(i+1) = \tfrac{n(n-1)}{2} = \dim SO(n)",
)
def counting(d: Derivation) -> None:
    """Phase counts of the tunable, Reck and Clements meshes, for symbolic n."""
    m, l, t = sp.symbols("m l t", integer=True, nonnegative=True)
    r, i = sp.symbols("r i", integer=True, nonnegative=True)
    n = sp.Symbol("n", integer=True, positive=True)
    d.step(
        r"Layer $l$ of the tunable mesh pairs $(k, k+1)$ for $k \equiv l$ (mod 2), $k + 1 < n$: "
        r"$\lfloor n/2\rfloor$ pairs for even $l$, $\lfloor (n-1)/2\rfloor$ for odd $l$. Sum over $L$ layers "
        r"in the four parity cases $n = 2m$ or $2m+1$, $L = 2l$ or $2l+1$"
    )
    for n_expr, A, B in ((2 * m, m, m - 1), (2 * m + 1, m, m)):
        for L_expr, extra in ((2 * l, 0), (2 * l + 1, A)):
            total = sp.summation(A + B, (t, 0, l - 1)) + extra
            formula = sp.ceiling(L_expr / 2) * sp.floor(n_expr / 2) + sp.floor(L_expr / 2) * sp.floor((n_expr - 1) / 2)
            d.equal(total, formula, f"P(n={n_expr}, L={L_expr}) = summation over layers")
            d.equal(sp.floor(n_expr / 2), A, f"⌊n/2⌋ = {A} for n = {n_expr}")
            d.equal(sp.floor((n_expr - 1) / 2), B, f"⌊(n−1)/2⌋ = {B} for n = {n_expr}")
    d.step(r"Capacity $L = n$: $n = 2m$ gives $m\cdot m + m(m-1)$; $n = 2m+1$ gives $(m+1)m + m\cdot m$")
    d.equal(m * m + m * (m - 1), (2 * m) * (2 * m - 1) / 2, "P(2m, 2m) = n(n−1)/2")
    d.equal((m + 1) * m + m * m, (2 * m + 1) * (2 * m) / 2, "P(2m+1, 2m+1) = n(n−1)/2")
    dim_so = d.step(
        r"$\dim SO(n) = \dim\mathfrak{so}(n)$ = number of entries above the diagonal", sp.summation(r, (r, 0, n - 1))
    )
    d.equal(dim_so, n * (n - 1) / 2, "Σ_{j<n} j = n(n−1)/2 = dim SO(n)")
    d.equal(sp.summation(r, (r, 1, n - 1)), n * (n - 1) / 2, "Reck: row r needs r rotations, Σ_{r=1}^{n−1} r")
    d.equal(
        sp.summation(i + 1, (i, 0, n - 2)),
        n * (n - 1) / 2,
        "Clements: anti-diagonal i has i+1 entries, Σ_{i=0}^{n−2}(i+1)",
    )
    for nn in range(1, 13):
        for name in ("clements", "reck"):
            s = schedule(nn, name)
            d.holds(
                len(s.ops) == nn * (nn - 1) // 2 == sum(len(p) for p in s.layers), f"implemented {name} count, n={nn}"
            )
        for L in range(0, 6):
            count = sum(len(p) for p in tunable_layout(nn, L))
            d.holds(
                count == -(-L // 2) * (nn // 2) + (L // 2) * ((nn - 1) // 2),
                f"implemented tunable count, n={nn}, L={L}",
            )


@theorem(
    "eunn.schedule",
    r"\text{Clements/Reck sequences null } \{(r, c): r > c\} \text{ exactly once and never refill; Clements layout} = \text{tunable}(n, L = n)",
)
def schedule_structure(d: Derivation) -> None:
    """The nulling sequences produce an upper-triangular (hence ±1 diagonal) remainder."""
    d.step(
        r"Track the zero pattern: a rotation of rows (columns) $p, p+1$ keeps an entry zero iff it is zero in both rows "
        r"(columns) before; the target entry becomes exactly zero (``eunn.decomposition`` step 1)"
    )
    for n in range(1, 11):
        for name in ("clements", "reck"):
            zero: set[tuple[int, int]] = set()
            ok = True
            for side, r, c, p in schedule(n, name).ops:
                if side == "R":
                    zero = {(a, b) for (a, b) in zero if b not in (p, p + 1) or ((a, p) in zero and (a, p + 1) in zero)}
                    ok &= c in (p, p + 1) and p + 1 < n
                else:
                    zero = {(a, b) for (a, b) in zero if a not in (p, p + 1) or ((p, b) in zero and (p + 1, b) in zero)}
                    ok &= r in (p, p + 1) and p + 1 < n
                zero.add((r, c))
            lower = {(a, b) for a in range(n) for b in range(a)}
            d.holds(ok and zero == lower, f"{name}, n={n}: remainder is upper triangular")
        clem = schedule(n, "clements").layers
        d.holds(
            len(clem) == n
            and all(
                sorted(map(tuple, a.tolist())) == sorted(map(tuple, b.tolist()))
                for a, b in zip(clem, tunable_layout(n, n), strict=True)
            ),
            f"Clements layout = tunable(n={n}, capacity n)",
        )
    d.step(r"An upper-triangular orthogonal matrix is diagonal with entries ±1: $T^\top T = I$, solved for n = 3")
    T = sp.Matrix(3, 3, lambda a, b: sp.Symbol(f"t{a}{b}", real=True) if a <= b else 0)
    sols = sp.solve(list(T.T * T - sp.eye(3)), list(T.free_symbols), dict=True)
    d.holds(
        len(sols) == 8
        and all(T.subs(s).is_diagonal() and all(T.subs(s)[k, k] ** 2 == 1 for k in range(3)) for s in sols),
        "all 8 solutions are diag(±1, ±1, ±1)",
    )


def cayley(n: int, entries: list[sp.Expr]) -> sp.Matrix:
    r"""The Cayley rotation :math:`(I - A)(I + A)^{-1}` of the skew matrix with the given upper entries."""
    A = sp.zeros(n)
    k = 0
    for a in range(n):
        for b in range(a + 1, n):
            A[a, b], A[b, a] = entries[k], -entries[k]
            k += 1
    return ((sp.eye(n) - A) * (sp.eye(n) + A).inv()).applyfunc(sp.cancel)


def half_angle(t: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r""":math:`(\cos\theta, \sin\theta) = \bigl(\tfrac{1 - t^2}{1 + t^2}, \tfrac{2t}{1 + t^2}\bigr)` for :math:`t = \tan(\theta/2)`."""
    return (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)


def half_angle_mesh(n: int, name: str, t: list[sp.Expr], signs: list[int]) -> sp.Matrix:
    r"""The mesh :math:`D\,\Lambda_{L-1}\cdots\Lambda_0` of the ``name`` layout with phases :math:`2\arctan t_k`."""
    layers, k = [], 0
    for pairs in schedule(n, name).layers:
        lam = sp.eye(n)
        for p, q in pairs.tolist():
            lam = givens_cs(p, q, *half_angle(t[k]), n) * lam
            k += 1
        layers.append(lam)
    return _product(layers, signs)


def _field(M: sp.Matrix) -> DomainMatrix | None:
    """``M`` over a field of rational functions (exact arithmetic in canonical form), or ``None``
    when its entries are not rational functions (radicals)."""
    dm = DomainMatrix.from_Matrix(M)
    K = dm.domain
    if not (K.is_ZZ or K.is_QQ or K.is_PolynomialRing or K.is_FractionField):
        return None
    return dm.to_field()


def _product(layers: list[sp.Matrix], signs: list[int] | None = None) -> sp.Matrix:
    """``mesh(layers, signs)`` with every entry a reduced quotient of polynomials (canonical form)."""
    n = layers[0].shape[0] if layers else len(signs or [])
    out = sp.eye(n) if signs is None else sp.diag(*signs)
    fields = [_field(lam) for lam in layers]
    if all(f is not None for f in fields):
        acc = _field(out)
        for f in reversed(fields):  # D Λ_{L-1} ⋯ Λ_0
            acc, f = acc.unify(f)
            acc = acc * f
        return acc.to_Matrix()
    for lam in reversed(layers):
        out = (out * lam).applyfunc(sp.cancel)
    return out


class ExactPhase:
    r"""An angle held exactly as :math:`(\cos\theta, \sin\theta)`, for running the numeric sign moves.

    ``_absorb_signs`` of :mod:`orthornn.numeric.eunn` changes phases only by :math:`\theta \to -\theta`,
    :math:`\theta \to \pi - \theta` and :math:`\theta \to \theta + \pi` (with the float ``np.pi``);
    this class interprets exactly those three moves on :math:`(c, s)` and refuses anything else, so
    the implemented routine runs unchanged on exact phases.
    """

    def __init__(self, c: sp.Expr, s: sp.Expr) -> None:
        self.c, self.s = c, s

    def __neg__(self) -> ExactPhase:
        return ExactPhase(self.c, -self.s)

    def __add__(self, other: object) -> ExactPhase:
        if other != np.pi:
            raise TypeError(f"only θ + π is exact, got θ + {other!r}")
        return ExactPhase(-self.c, -self.s)

    def __rsub__(self, other: object) -> ExactPhase:
        if other != np.pi:
            raise TypeError(f"only π − θ is exact, got {other!r} − θ")
        return ExactPhase(-self.c, self.s)


def nulling_cs(x_: sp.Expr, y_: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Cosine and sine of the implemented nulling angle :math:`\theta = \operatorname{atan2}(-a, b)`.

    :math:`c = b/\rho`, :math:`s = -a/\rho`, :math:`\rho = \sqrt{a^2 + b^2}`; ``atan2(0, 0) = 0`` gives
    :math:`(1, 0)` when both entries are exactly zero.
    """
    if x_ == 0 and y_ == 0:
        return sp.Integer(1), sp.Integer(0)
    rho = sp.sqrt(sp.factor(sp.cancel(x_**2 + y_**2)))
    return sp.cancel(y_ / rho), sp.cancel(-x_ / rho)


def _null_exact(U: sp.Matrix, name: str) -> tuple[sp.Matrix, list[tuple[str, int, sp.Expr, sp.Expr]]]:
    """The nulling loop of ``givens_decompose``, exactly: ``U ← U G`` (R) or ``U ← G U`` (L).

    Runs in the field of rational functions when every :math:`\rho` is rational there (fast,
    canonical), otherwise on sympy expressions reduced by ``sp.cancel``.
    """
    a = _field(U)
    if a is not None:
        try:
            return _null_field(a, name)
        except (CoercionFailed, ValueError):  # some ρ is not a rational function: exact fallback below
            pass
    n = U.shape[0]
    b = U.applyfunc(sp.cancel)
    steps = []
    for side, r, c, p in schedule(n, name).ops:
        x_, y_ = (b[r, c], b[r, c + 1]) if side == "R" else (b[r, c], b[r - 1, c])
        cs, sn = nulling_cs(x_, y_)
        g = givens_cs(p, p + 1, cs, sn, n)
        b = (b * g if side == "R" else g * b).applyfunc(sp.cancel)
        steps.append((side, p, cs, sn))
    return b, steps


def _null_field(a: DomainMatrix, name: str) -> tuple[sp.Matrix, list[tuple[str, int, sp.Expr, sp.Expr]]]:
    """``_null_exact`` over a field ``K``: ρ = √(a² + b²) via ``sp.factor``, brought back into ``K``."""
    K, n = a.domain, a.shape[0]
    steps = []
    for side, r, c, p in schedule(n, name).ops:
        x_ = a[r, c].element
        y_ = (a[r, c + 1] if side == "R" else a[r - 1, c]).element
        if not x_ and not y_:
            cs, sn = K.one, K.zero
        else:
            rho = K.from_sympy(sp.sqrt(sp.factor(K.to_sympy(x_ * x_ + y_ * y_))))
            cs, sn = y_ / rho, -x_ / rho
        rows = [[K.one if i == j else K.zero for j in range(n)] for i in range(n)]
        rows[p][p] = rows[p + 1][p + 1] = cs
        rows[p + 1][p], rows[p][p + 1] = sn, -sn
        g = DomainMatrix(rows, (n, n), K)
        a = a * g if side == "R" else g * a
        steps.append((side, p, K.to_sympy(cs), K.to_sympy(sn)))
    return a.to_Matrix(), steps


def _placed(steps: list[tuple[str, int, sp.Expr, sp.Expr]], dg: list[sp.Expr], name: str, n: int) -> list[ExactPhase]:
    """The mesh phases, layer-major, as ``givens_decompose`` places them (``Rᵀ = G(−θ)``, ``Lᵀ D = D G(−d_p d_{p+1} θ)``)."""
    sched = schedule(n, name)
    phases: list[ExactPhase] = [ExactPhase(sp.Integer(1), sp.Integer(0))] * len(steps)
    for k, (side, p, cs, sn) in enumerate(steps):
        flip = 1 if side == "R" else dg[p] * dg[p + 1]
        phases[int(sched.position[k])] = ExactPhase(cs, -flip * sn)
    return phases


def _mesh_layers(phases: list[ExactPhase], name: str, n: int) -> list[sp.Matrix]:
    layers, k = [], 0
    for pairs in schedule(n, name).layers:
        lam = sp.eye(n)
        for p, q in pairs.tolist():
            lam = givens_cs(p, q, phases[k].c, phases[k].s, n) * lam
            k += 1
        layers.append(lam)
    return layers


def exact_decompose(U: sp.Matrix, name: str) -> tuple[sp.Matrix, list[sp.Matrix]]:
    """Run the implemented nulling sequence exactly: cos/sin from the entries, ρ = √(a²+b²).

    Returns the remainder and the mesh layers, built exactly as ``givens_decompose`` places the
    phases (``Rᵀ = G(−θ)``, ``Lᵀ D = D G(−d_p d_{p+1} θ)``), before the sign normalisation.
    """
    n = U.shape[0]
    a, steps = _null_exact(U, name)
    return a, _mesh_layers(_placed(steps, [a[k, k] for k in range(n)], name, n), name, n)


def exact_givens_decompose(U: sp.Matrix, name: str) -> tuple[sp.Matrix, list[ExactPhase], list[int]]:
    r"""``givens_decompose`` run exactly, sign normalisation included.

    ``U`` has entries rational in positive symbols (no pole for positive values): :math:`\det U`
    is a continuous function with values in :math:`\{\pm1\}` on a connected set, hence
    constant, and is computed exactly with every symbol set to 1 (the remainder and the final
    composition check confirm it). Flip row 0 when :math:`\det U = -1`, null (``_null_exact``), place the phases, push the −1
    entries of the remainder into the mesh with the implemented ``_absorb_signs`` on
    :class:`ExactPhase` values. Returns the remainder, the phases and the signs
    :math:`(\det U, 1, \ldots, 1)`.
    """
    n = U.shape[0]
    det = int(U.subs({v: 1 for v in U.free_symbols}).det())
    a, steps = _null_exact(sp.diag(det, *([1] * (n - 1))) * U, name)
    dg = [a[k, k] for k in range(n)]
    phases = np.empty(len(steps), dtype=object)
    phases[:] = _placed(steps, dg, name, n)
    if any(v == -1 for v in dg) and not _absorb_signs(n, name, phases, np.array([float(v) for v in dg])):
        raise AssertionError("the signs were not absorbed")
    return a, list(phases), [det] + [1] * (n - 1)


#: Sign diagonals :math:`D_0` of the test matrices :math:`U = D_0\,\mathrm{mesh}(t)`: every pattern for
#: n = 2, 3; for n = 4 the identity, det −1, a pair of −1 at both ends and :math:`-I`.
SIGN_CASES = {
    2: [list(s) for s in itertools.product((1, -1), repeat=2)],
    3: [list(s) for s in itertools.product((1, -1), repeat=3)],
    4: [[1, 1, 1, 1], [1, 1, 1, -1], [-1, 1, 1, -1], [-1, -1, -1, -1]],
}


def _round_trip(d: Derivation, n: int) -> None:
    """Step 3 of ``eunn.decomposition`` for one n: both meshes, the sign patterns of ``SIGN_CASES``."""
    t_syms = list(sp.symbols(f"t1:{n * (n - 1) // 2 + 1}", positive=True))
    for name in ("clements", "reck"):
        for d0 in SIGN_CASES[n]:
            U = half_angle_mesh(n, name, t_syms, d0)
            tag = f"n={n}, {name}, D0={d0}"
            rem, ph, signs = exact_givens_decompose(U, name)
            d.holds(rem.is_diagonal() and all(rem[k, k] in (1, -1) for k in range(n)), f"remainder ±1 diagonal, {tag}")
            d.holds(signs == [sp.prod(d0)] + [1] * (n - 1), f"signs = (det U, 1, …), {tag}")
            d.holds(all(sp.cancel(p.c**2 + p.s**2) == 1 for p in ph), f"every phase has c² + s² = 1, {tag}")
            d.equal(_product(_mesh_layers(ph, name, n), signs), U, f"compose(decompose(U)) = U, {tag}")


@theorem(
    "eunn.decomposition",
    r"U = D_0\,\Lambda_{L-1}(2\arctan t)\cdots\Lambda_0(2\arctan t),\ t_k > 0,\ n \le 4:\ "
    r"\mathtt{givens\_compose}(\mathtt{givens\_decompose}(U)) = U",
)
def decomposition(d: Derivation) -> None:
    """The decomposition algorithm, run exactly on symbolic matrices, returns a mesh that composes to U."""
    x_, y_ = sp.symbols("a b", real=True)
    rho = sp.sqrt(x_**2 + y_**2)
    d.step(
        r"Step 1 (nulling): the implemented angle $\theta = \operatorname{atan2}(-a, b)$ has "
        r"$c = b/\rho$, $s = -a/\rho$, $\rho = \sqrt{a^2+b^2} > 0$; it sends $(a, b)$ to $(0, \rho)$ "
        r"for a column pair, and $(b, a)^\top$ to $(\rho, 0)^\top$ for a row pair "
        r"(and $\operatorname{atan2}(0, 0) = 0$ leaves $(0, 0)$ alone)"
    )
    d.equal(sp.cos(sp.atan2(-x_, y_)), y_ / rho, "cos atan2(−a, b) = b/ρ")
    d.equal(sp.sin(sp.atan2(-x_, y_)), -x_ / rho, "sin atan2(−a, b) = −a/ρ")
    d.equal(sp.Matrix([[x_, y_]]) * givens_cs(0, 1, y_ / rho, -x_ / rho, 2), sp.Matrix([[0, rho]]), "(a, b) G = (0, ρ)")
    d.equal(
        givens_cs(0, 1, y_ / rho, -x_ / rho, 2) * sp.Matrix([y_, x_]), sp.Matrix([rho, 0]), "G (b, a)ᵀ = (ρ, 0)ᵀ (rows)"
    )
    d.equal((y_ / rho) ** 2 + (x_ / rho) ** 2, 1, "c² + s² = 1")
    d.step(
        r"Step 2: a symbolic matrix in every component of $O(n)$: $U = D_0\,\Lambda_{L-1}\cdots\Lambda_0$ in the "
        r"layout of the mesh, with phases $\theta_k = 2\arctan t_k$, $t_k > 0$ symbolic (so $\theta_k \in (0, \pi)$), "
        r"entries rational in $t$ by the half-angle substitution $\cos\theta = (1-t^2)/(1+t^2)$, "
        r"$\sin\theta = 2t/(1+t^2)$; every sign pattern $D_0$ for n = 2, 3 (four for n = 4)"
    )
    t = sp.Symbol("t", positive=True)
    c_, s_ = half_angle(t)
    d.equal(c_**2 + s_**2, 1, "half angle: c² + s² = 1")
    d.equal(sp.cos(2 * sp.atan(t)), c_, "cos(2 arctan t) = (1 − t²)/(1 + t²)")
    d.equal(sp.sin(2 * sp.atan(t)), s_, "sin(2 arctan t) = 2t/(1 + t²)")
    d.step(
        r"Step 3: run the implemented algorithm exactly on $U$: the det flip of row 0, the nulling sequence "
        r"(every $\rho$ is a perfect square of a rational function of $t$, taken positive since $t_k > 0$), the "
        r"phase placement, and the implemented sign absorption ``_absorb_signs`` acting on exact "
        r"$(\cos\theta, \sin\theta)$ pairs ($\theta \to -\theta$, $\pi - \theta$, $\theta + \pi$; ``eunn.sign_moves``). "
        r"Checks: the remainder is a $\pm1$ diagonal, the returned signs are $(\det U, 1, \ldots, 1)$, every phase has "
        r"$c^2 + s^2 = 1$, and $\operatorname{diag}(\det U, 1, \ldots)\,\Lambda_{L-1}\cdots\Lambda_0 = U$ as rational functions"
    )
    for n in (2, 3):
        _round_trip(d, n)
    d.step(
        r"Step 4: generic rotations with no sign restriction on their entries: the Cayley chart "
        r"$U = (I - A)(I + A)^{-1}$, symbolic skew $A$ (every rotation without eigenvalue −1), n = 2, 3"
    )
    for n in (2, 3):
        U = cayley(n, list(sp.symbols(f"x1:{n * (n - 1) // 2 + 1}", real=True)))
        d.equal(U.T * U, sp.eye(n), f"UᵀU = I, Cayley n={n}")
        for name in ("clements", "reck"):
            rem, layers = exact_decompose(U, name)
            d.equal(rem, sp.eye(n), f"remainder D = I, {name}, Cayley n={n}")
            d.equal(mesh(layers), U, f"compose(decompose(U)) = U, {name}, Cayley n={n}")


@theorem(
    "eunn.decomposition_4",
    r"U = D_0\,\Lambda_3(2\arctan t)\cdots\Lambda_0(2\arctan t) \in O(4),\ t_k > 0:\ "
    r"\mathtt{givens\_compose}(\mathtt{givens\_decompose}(U)) = U;\ \text{also } -I_4, \text{ permutations}",
)
def decomposition_4(d: Derivation) -> None:
    """n = 4 with six symbolic phases, and degenerate inputs (zero and π nulling steps)."""
    d.step(
        r"As step 3 of ``eunn.decomposition``, n = 4: $U = D_0\,\Lambda_3\Lambda_2\Lambda_1\Lambda_0$ in the "
        r"Clements and the Reck layout, six symbolic half-angle phases $t_k > 0$, four sign patterns $D_0$ "
        r"(both determinants); the "
        r"implemented algorithm run exactly composes back to $U$ as rational functions of $t$"
    )
    _round_trip(d, 4)
    d.step(
        r"Degenerate inputs, where nulling steps meet $\rho = 0$ ($\operatorname{atan2}(0, 0) = 0$) or a rotation by "
        r"$\pi$ ($a = 0$, $b < 0$): $-I_4$, $\operatorname{diag}(1, -1, -1, 1)$, a cyclic permutation (det −1) and a "
        r"transposition composed with a block rotation at angle $\pi$. The remainder is $I$ after the det flip "
        r"(so ``_absorb_signs`` has nothing to move) and the mesh composes back to $U$"
    )
    cyc = sp.Matrix(4, 4, lambda a, b: 1 if b == (a + 1) % 4 else 0)
    swap = sp.Matrix([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, -1, 0], [0, 0, 0, -1]])
    for tag, U in (
        ("−I", -sp.eye(4)),
        ("diag(1,−1,−1,1)", sp.diag(1, -1, -1, 1)),
        ("cyclic", cyc),
        ("swap·R(π)", swap),
    ):
        for name in ("clements", "reck"):
            rem, ph, signs = exact_givens_decompose(U, name)
            d.equal(rem, sp.eye(4), f"remainder D = I after the det flip, {name}, {tag}")
            d.holds(signs == [U.det(), 1, 1, 1], f"signs = (det U, 1, 1, 1), {name}, {tag}")
            d.equal(_product(_mesh_layers(ph, name, 4), signs), U, f"compose(decompose(U)) = U, {name}, {tag}")


def assembly_sides(
    n: int, name: str, signs: list[int], placement_signs: list[int] | None = None
) -> tuple[sp.Matrix, sp.Matrix]:
    r"""Both sides of Lemma C of ``eunn.decomposition_general``, with symbolic :math:`(c_k, s_k)` per step.

    Returns :math:`D\,\mathrm{mesh}(\text{placed})` (phases placed with the signs
    ``placement_signs``, default ``signs``) and :math:`L_1^\top\cdots L_K^\top D R_M^\top\cdots R_1^\top`.
    """
    ops = schedule(n, name).ops
    cs_ = sp.symbols(f"c0:{len(ops)}", real=True)
    sn_ = sp.symbols(f"s0:{len(ops)}", real=True)
    right, left = sp.eye(n), sp.eye(n)
    for k, (side, _, _, p) in enumerate(ops):
        g = givens_cs(p, p + 1, cs_[k], sn_[k], n)
        if side == "R":
            right = g.T * right  # R_Mᵀ ⋯ R_1ᵀ: R_1ᵀ acts first
        else:
            left = left * g.T  # L_1ᵀ ⋯ L_Kᵀ: L_1ᵀ leftmost
    steps = [(op[0], op[3], cs_[k], sn_[k]) for k, op in enumerate(ops)]
    placed = _placed(steps, list(placement_signs or signs), name, n)
    return mesh(_mesh_layers(placed, name, n), signs), left * sp.diag(*signs) * right


#: Largest n of ``eunn.decomposition_general``.
N_GENERAL = 5


@theorem(
    "eunn.decomposition_general",
    r"\forall U \in O(n),\ n \le 5:\ L_K\cdots L_1\,U\,R_1\cdots R_M = D = \operatorname{diag}(\pm1),\ "
    r"U = D\,\Lambda_{L-1}\cdots\Lambda_0 \text{ with the placed phases}",
)
def decomposition_general(d: Derivation) -> None:
    """The algorithm is correct for every orthogonal U (n ≤ 5), by three lemmas with symbolic entries."""
    d.step(
        r"Lemma A (zeros): track the state of the nulling loop as a matrix whose entries are 0 on the set $Z$ "
        r"of entries nulled so far and *independent symbols* elsewhere (so the check covers every matrix with "
        r"that zero pattern, whatever the earlier steps produced). The step's rotation, with "
        r"$c = b/\rho$, $s = -a/\rho$ from its target $a$ and partner $b$ (``eunn.decomposition`` step 1), "
        r"makes the target exactly 0 and leaves every entry of $Z$ exactly 0; if $\rho = 0$ the rotation is "
        r"$I$ and the target is already 0. So the remainder of every real matrix is upper triangular"
    )
    for n in range(2, N_GENERAL + 1):
        for name in ("clements", "reck"):
            zero: set[tuple[int, int]] = set()
            for k, (side, r, c, p) in enumerate(schedule(n, name).ops):
                A = sp.Matrix(
                    n,
                    n,
                    [0 if (i, j) in zero else sp.Symbol(f"a{i}{j}", real=True) for i in range(n) for j in range(n)],
                )
                x_, y_ = (A[r, c], A[r, c + 1]) if side == "R" else (A[r, c], A[r - 1, c])
                rho = sp.sqrt(x_**2 + y_**2)
                g = givens_cs(p, p + 1, y_ / rho, -x_ / rho, n)
                B = A * g if side == "R" else g * A
                d.zero(B[r, c], f"target ({r},{c}) nulled, step {k}, {name}, n={n}")
                d.holds(all(B[i, j] == 0 for i, j in zero), f"earlier zeros kept, step {k}, {name}, n={n}")
                zero.add((r, c))
            d.holds(zero == {(i, j) for i in range(n) for j in range(i)}, f"Z = strict lower triangle, {name}, n={n}")
    d.step(
        r"Lemma B: an upper-triangular $T$ with $T^\top T = I$ is $\operatorname{diag}(\pm1)$. Column $k$, with "
        r"$t_{ik} = 0$ for $i < k$ already shown: $(T^\top T)_{kk} = t_{kk}^2 = 1$, and for $j > k$ "
        r"$(T^\top T)_{kj} = t_{kk}t_{kj} = 0$, so $t_{kj} = t_{kk}\,(t_{kk}t_{kj}) = 0$"
    )
    for n in range(2, N_GENERAL + 1):
        T = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"t{i}{j}", real=True) if i <= j else 0)
        E = T.T * T - sp.eye(n)
        shown: dict[sp.Symbol, int] = {}
        for k in range(n):
            tkk = T[k, k]
            d.equal(E[k, k].subs(shown), tkk**2 - 1, f"(TᵀT)_kk = t_kk² − 1 given the zeros, k={k}, n={n}")
            for j in range(k + 1, n):
                d.equal(E[k, j].subs(shown), tkk * T[k, j], f"(TᵀT)_kj = t_kk t_kj, k={k}, j={j}, n={n}")
                d.equal(
                    tkk * (tkk * T[k, j]), T[k, j] * (tkk**2 - 1) + T[k, j], f"t_kk(t_kk t_kj) = t_kj, k={k}, j={j}"
                )
                shown[T[k, j]] = 0
    d.step(
        r"Lemma C (assembly): for any cosines and sines $(c_k, s_k)$ of the steps and any $D = \operatorname{diag}(d)$, "
        r"$d_i = \pm 1$, the mesh with the phases placed as the implementation places them "
        r"($R^\top = G(c, -s)$; $L^\top D = D\,G(c, -d_pd_{p+1}s)$, then disjoint rotations commute into layers) "
        r"equals $L_1^\top\cdots L_K^\top\,D\,R_M^\top\cdots R_1^\top$; with $G^\top G = I$ ($c^2 + s^2 = 1$) this is $U$ "
        r"whenever $L_K\cdots L_1 U R_1\cdots R_M = D$ (Lemmas A, B)"
    )
    for n in range(2, N_GENERAL + 1):
        for name in ("clements", "reck"):
            for dg in itertools.product((1, -1), repeat=n):
                placed, product = assembly_sides(n, name, list(dg))
                d.equal(placed, product, f"D·mesh(placed) = L₁ᵀ⋯L_Kᵀ D R_Mᵀ⋯R₁ᵀ, {name}, n={n}, d={dg}")
    d.step(
        r"Hence $U = D\,\Lambda_{L-1}\cdots\Lambda_0$ for every $U \in O(n)$, n ≤ 5; the det flip of row 0 and the "
        r"sign absorption that follow rewrite $D$ by the moves of ``eunn.sign_moves`` (their routing is checked "
        r"numerically, not here)"
    )


def last_touch(n: int, name: str) -> dict[tuple[int, int], str]:
    """For each entry, how the last nulling step that can change it treats it: ``'partner'`` (it
    becomes ρ), ``'target'`` (it becomes 0) or ``'mixed'``; entries never changed are absent.

    A rotation of columns (rows) p, p+1 changes an entry unless both entries of its row (column)
    pair are already structurally zero (``eunn.schedule``).
    """
    zero: set[tuple[int, int]] = set()
    last: dict[tuple[int, int], str] = {}
    for side, r, c, p in schedule(n, name).ops:
        partner = (r, c + 1) if side == "R" else (r - 1, c)
        if side == "R":
            touched = [(i, j) for i in range(n) for j in (p, p + 1) if not {(i, p), (i, p + 1)} <= zero]
        else:
            touched = [(i, j) for j in range(n) for i in (p, p + 1) if not {(p, j), (p + 1, j)} <= zero]
        for e in touched:
            last[e] = "partner" if e == partner else "target" if e == (r, c) else "mixed"
        zero.add((r, c))
    return last


@theorem(
    "eunn.remainder_identity",
    r"U \in SO(n),\ n \le 12:\ L_K\cdots L_1\,U\,R_1\cdots R_M = I \text{ (no sign to absorb)}",
)
def remainder_identity(d: Derivation) -> None:
    """After the det flip the remainder of the nulling is exactly I, for both meshes."""
    d.step(
        r"The remainder is $\operatorname{diag}(d)$, $d_k = \pm1$ (``eunn.decomposition_general``), with "
        r"$\prod_k d_k = \det U = 1$ after the det flip. If the last step that changes $(k, k)$ makes it the "
        r"partner, then $d_k = \rho \ge 0$ (step 1 of ``eunn.decomposition``), so $d_k = 1$ ($\rho = 0$ would leave "
        r"the old value, which that step found to be 0, not ±1). Below: every diagonal entry but at most one "
        r"is last changed as a partner, so the product forces the remaining one to be 1 as well"
    )
    for n in range(1, 13):
        for name in ("clements", "reck"):
            last = last_touch(n, name)
            others = [k for k in range(n) if last.get((k, k)) != "partner"]
            d.holds(len(others) <= 1, f"{name}, n={n}: diagonal entries not last set as partner: {others}")
    d.step(
        r"Consequently ``givens_decompose`` never has a −1 to push into the mesh for these two meshes: the "
        r"sign absorption of the implementation is a safeguard that these schedules do not reach"
    )
