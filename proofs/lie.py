r"""The Lie-algebra logarithm and real powers on SO(n) (RUM paper §5.2; ``docs/lie.md``).

Notation. :math:`J = \bigl[\begin{smallmatrix}0 & -1\\ 1 & 0\end{smallmatrix}\bigr]`,
:math:`M(\varphi) = \bigl[\begin{smallmatrix}\cos\varphi & -\sin\varphi\\ \sin\varphi & \cos\varphi\end{smallmatrix}\bigr]`.
For a Rotation :math:`R(a, b)` with orthonormal frame :math:`F = [u_a\ u_b]` (:math:`F^\top F = I_2`)
and angle :math:`\theta \in [0, \pi)`, the generator is :math:`G = u_bu_a^\top - u_au_b^\top = FJF^\top`.

Dimension-free method. Every operator below has the form :math:`\mathcal O(c, M) = cI_N + FMF^\top`
with ``N`` a symbol: the frame algebra :class:`orthornn.symbolic.frame.FrameOperator`, whose
products are exact matrix-expression reductions with :math:`F^\top F = I_2` (the lemma
``rotation.frame_algebra`` of ``proofs/rotation.py``: :math:`\mathcal O(c_1, M_1)\mathcal O(c_2, M_2)
= \mathcal O(c_1c_2, c_1M_2 + c_2M_1 + M_1M_2)`). So every identity among them is a 2×2 identity plus
a scalar one, valid for every :math:`N \ge 2` at once; two operators are equal when their pairs
:math:`(c, M)` are. Theorem ``lie.frame_series`` adds :math:`\mathcal O(0, X)^k = \mathcal O(0, X^k)`
(:math:`k \ge 1`), so a matrix series :math:`\sum_k x_k\,\mathcal O(0, X)^k` is
:math:`\mathcal O(x_0, \sum_k x_k X^k - x_0 I_2)`, e.g. :math:`\exp(FXF^\top) = \mathcal O(1, e^X - I_2)`.

For general :math:`R \in SO(n)` we use block-diagonal matrices with blocks of symbolic size
(sympy ``BlockDiagMatrix`` of ``MatrixSymbol`` s, again dimension-free) and orthogonal
similarity with non-commuting symbols. Two classical facts are cited, not re-proved: the
real Schur form of a normal matrix (every :math:`R \in SO(n)` is :math:`Q\,\mathrm{blockdiag}(
M(\varphi_1), …, M(\varphi_k), I)\,Q^\top` with :math:`Q` orthogonal, −1 eigenvalues pairing
into :math:`M(\pi)` blocks because :math:`\det R = 1`), and the principal logarithm theorem
(a matrix with no eigenvalue on :math:`(-\infty, 0]` has a unique logarithm with eigenvalues
in the strip :math:`|\mathrm{Im}\,z| < \pi`; Higham, *Functions of Matrices*, Thm 1.31).

Theorems: ``lie.frame_series``, ``lie.rotation_log`` (1), ``lie.rotation_power`` (2),
``lie.block_form`` and ``lie.similarity`` (3), ``lie.det_exp`` (4), ``lie.branch_pi`` (5).
"""

from __future__ import annotations

import sympy as sp

from orthornn.symbolic import Derivation, theorem
from orthornn.symbolic.frame import FrameOperator
from orthornn.symbolic.lie import J, exp2, frame_exp, generator
from orthornn.symbolic.lie import rotation_power as power_closed_form
from orthornn.symbolic.rotation import plane_rotation

theta, lam, mu, phi, alpha = sp.symbols("theta lambda mu phi alpha", real=True)
t, h, tau = sp.symbols("t h tau", real=True)
I2 = sp.eye(2)
Jm = sp.Matrix(J)


def rotation_op(angle: sp.Expr) -> FrameOperator:
    """RUM eq. (1): :math:`R = I - FF^\\top + F M(\\theta) F^\\top = \\mathcal O(1, M(\\theta) - I_2)`."""
    return FrameOperator(1, plane_rotation(angle) - I2)


def pair(A: FrameOperator, B: FrameOperator) -> sp.Matrix:
    """``(c_A − c_B, M_A − M_B)``: zero iff A and B have the same pair, hence are equal for every N."""
    return sp.Matrix([A.c - B.c, *list(A.M - B.M)])


# ---------------------------------------------------------------------------------------------


@theorem(
    "lie.frame_series",
    r"(FXF^\top)^k = FX^kF^\top\ (k \ge 1),\ \text{hence } \exp(FXF^\top) = I_N + F(e^X - I_2)F^\top\ \text{(symbolic } N)",
)
def frame_series(d: Derivation) -> None:
    """Powers and the exponential series of a frame operator, in every dimension."""
    X = sp.Matrix(2, 2, sp.symbols("x_11 x_12 x_21 x_22"))
    Xk = sp.Matrix(2, 2, sp.symbols("p_11 p_12 p_21 p_22"))
    step = FrameOperator(0, X) * FrameOperator(0, Xk)
    d.step(r"Induction on $k$: $(FXF^\top)(FX^kF^\top)$ reduced with $F^\top F = I_2$ (symbolic $N$)", step.M)
    d.zero(pair(step, FrameOperator(0, X * Xk)), "(FXFᵀ)(FX^kFᵀ) = F X^{k+1} Fᵀ")
    d.zero(pair(FrameOperator(0, X) ** 3, FrameOperator(0, X**3)), "k = 3 by repeated products")
    d.step(
        r"Summing termwise (the series converges absolutely): $\exp(FXF^\top) = I_N + \sum_{k\ge1}FX^kF^\top/k! "
        r"= I_N + F(e^X - I_2)F^\top$. With $X = \theta J$ the partial sums are checked against $e^{\theta J}$:"
    )
    th = sp.Symbol("theta", real=True)
    partial = sum(((th * sp.Matrix(J)) ** k / sp.factorial(k) for k in range(12)), sp.zeros(2))
    series = sp.Matrix(2, 2, lambda i, j: sp.series(exp2(th * sp.Matrix(J))[i, j], th, 0, 12).removeO())
    d.equal(partial, series, "Taylor coefficients of e^{θJ} through θ¹¹ equal Σ (θJ)^k/k!")


@theorem(
    "lie.rotation_log",
    r"\exp(\theta G) = R(a,b) = I + \sin\theta\,G + (1-\cos\theta)G^2,\ (\theta G)^\top = -\theta G,"
    r"\ \operatorname{spec}(\theta G) \subset \{0, \pm i\theta\},\ \text{so } \log R(a,b) = \theta G\ (\theta\in[0,\pi))",
)
def rotation_log(d: Derivation) -> None:
    """log of one Rotation is θG on the principal branch, in every dimension n ≥ 2."""
    G = generator()
    R = rotation_op(theta)
    d.step(r"$G = FJF^\top = \mathcal O(0, J)$ and RUM eq. (1) $R = \mathcal O(1, M(\theta) - I_2)$", R.M)
    E = exp2(theta * Jm)
    d.step(r"$\exp(\theta G) = \mathcal O(1, e^{\theta J} - I_2)$ (frame algebra, series termwise); $e^{\theta J}$ =", E)
    d.equal(E, plane_rotation(theta), "e^{θJ} = M(θ)")
    d.zero(pair(frame_exp(theta * Jm), R), "exp(θG) = R(a, b)")
    d.step(r"$J^2 = -I_2$, $J^3 = -J$: the series splits into cosine and sine parts (Rodrigues)", Jm**3)
    rod = FrameOperator.identity() + sp.sin(theta) * G + (1 - sp.cos(theta)) * (G * G)
    d.zero(pair(rod, R), "R = I + sinθ G + (1 − cosθ) G²")
    d.zero(pair((theta * G).T, -(theta * G)), "θG is skew-symmetric")
    x = sp.Symbol("x")
    charpoly = (theta * Jm).charpoly(x).as_expr()
    d.step(r"On span(F): characteristic polynomial of $\theta J$; on span(F)$^\perp$: $Gv = 0$", charpoly)
    d.zero(sp.expand(charpoly - (x - sp.I * theta) * (x + sp.I * theta)), "eigenvalues ±iθ (and 0 on the complement)")
    d.step(
        r"For $\theta \in [0, \pi)$ every eigenvalue of $\theta G$ lies in $|\mathrm{Im}\,z| < \pi$ and $R$ has no "
        r"eigenvalue on $(-\infty, 0]$ (they are $e^{\pm i\theta}$ and 1), so by the principal-logarithm theorem "
        r"$\theta G$ is THE principal logarithm."
    )
    d.holds(sp.Interval.Ropen(0, sp.pi).is_subset(sp.Interval.open(-sp.pi, sp.pi)), "θ ∈ [0, π) ⇒ |Im(±iθ)| < π")


@theorem(
    "lie.rotation_power",
    r"R^\lambda := e^{\lambda\theta G} = I + \sin(\lambda\theta)G + (1-\cos\lambda\theta)G^2,\ R^\lambda R^\mu = R^{\lambda+\mu},"
    r"\ (R^\lambda)^\top R^\lambda = I,\ \tfrac{d}{d\lambda}R^\lambda = (\log R)R^\lambda,\ R^1 = R,\ R^0 = I",
)
def rotation_power(d: Derivation) -> None:
    """Real powers of one Rotation through its logarithm, in every dimension n ≥ 2."""
    G = generator()
    P = frame_exp(lam * theta * Jm)
    d.step(r"$R^\lambda = \exp(\lambda\log R) = \exp(\lambda\theta G) = \mathcal O(1, e^{\lambda\theta J} - I_2)$", P.M)
    d.zero(pair(P, rotation_op(lam * theta)), "R^λ = O(1, M(λθ) − I): the Rotation of angle λθ")
    d.zero(pair(P, power_closed_form(theta, lam)), "R^λ = I + sin(λθ)G + (1 − cos λθ)G²")
    Q = frame_exp(mu * theta * Jm)
    d.step(r"Group law with the product rule of the frame algebra", (P * Q).M)
    d.zero(pair(P * Q, frame_exp((lam + mu) * theta * Jm)), "R^λ R^μ = R^{λ+μ}")
    d.zero(pair(P.T * P, FrameOperator.identity()), "(R^λ)ᵀ R^λ = I")
    dP = P.diff(lam)
    d.step(r"Differentiate in $\lambda$ ($F$ is fixed)", dP.M)
    d.zero(pair(dP, (theta * G) * P), "d/dλ R^λ = (θG) R^λ = (log R) R^λ")
    d.zero(pair(P.subs(lam, 1), rotation_op(theta)), "R^1 = R")
    d.zero(pair(P.subs(lam, 0), FrameOperator.identity()), "R^0 = I")


@theorem(
    "lie.block_form",
    r"\log\,\mathrm{blockdiag}(M(\varphi_1),\dots,M(\varphi_k), I_r) = \mathrm{blockdiag}(\varphi_1J,\dots,\varphi_kJ, 0_r)"
    r"\ \text{(skew)},\ \varphi_j\in(-\pi,\pi),\ \text{every } k, r",
)
def block_form(d: Derivation) -> None:
    """The canonical (real Schur) form: log and exp act block by block, for any number of blocks."""
    p, q = sp.symbols("p q", integer=True, positive=True)
    A1, B1 = sp.MatrixSymbol("A_1", p, p), sp.MatrixSymbol("B_1", p, p)
    A2, B2 = sp.MatrixSymbol("A_2", q, q), sp.MatrixSymbol("B_2", q, q)
    prod = sp.block_collapse(sp.BlockDiagMatrix(A1, A2) * sp.BlockDiagMatrix(B1, B2))
    d.step(r"Block-diagonal matrices with blocks of any sizes $p, q$ multiply block by block", prod)
    d.holds(prod == sp.BlockDiagMatrix(A1 * B1, A2 * B2), "blockdiag product is blockwise")
    tr = sp.block_collapse(sp.BlockDiagMatrix(A1, A2).T)
    d.holds(tr == sp.BlockDiagMatrix(A1.T, A2.T), "blockdiag transpose is blockwise")
    d.step(
        r"By induction on the power (product rule above) and on the number of blocks, "
        r"$\mathrm{blockdiag}(X_j)^m = \mathrm{blockdiag}(X_j^m)$, so $\exp$ of a block-diagonal matrix is the "
        r"block diagonal of the exponentials, and the principal log (a primary matrix function) acts blockwise too."
    )
    E = exp2(phi * Jm)
    d.equal(E, plane_rotation(phi), "one block: exp(φJ) = M(φ)")
    d.equal((phi * Jm).T, -phi * Jm, "one block: (φJ)ᵀ = −φJ")
    x = sp.Symbol("x")
    d.zero(sp.expand((phi * Jm).charpoly(x).as_expr() - (x - sp.I * phi) * (x + sp.I * phi)), "one block: eigenvalues ±iφ")
    d.equal(sp.zeros(3).exp(), sp.eye(3), "identity part: exp(0_r) = I_r (here r = 3; 0^m = 0 for m ≥ 1)")
    d.step(
        r"With $\varphi_j \in (-\pi, \pi)$ every eigenvalue $\pm i\varphi_j$, 0 lies in the open strip: the block "
        r"logarithm is the principal one. Corollaries for k = 1, 2, 3 blocks and r = 1 (explicit 2k+1 matrices):"
    )
    phis = sp.symbols("phi_1:4", real=True)
    for k in (1, 2, 3):
        L = sp.diag(*[ph * Jm for ph in phis[:k]], sp.zeros(1))
        R = sp.diag(*[plane_rotation(ph) for ph in phis[:k]], sp.eye(1))
        blocks_exp = sp.diag(*[exp2(ph * Jm) for ph in phis[:k]], sp.eye(1))
        d.equal(L.T, -L, f"k = {k}: log is skew")
        d.equal(blocks_exp, R, f"k = {k}: exp(log R) = R blockwise")


@theorem(
    "lie.similarity",
    r"Q^\top Q = I \Rightarrow \exp(QAQ^\top) = Q\exp(A)Q^\top,\ A^\top = -A \Rightarrow (QAQ^\top)^\top = -QAQ^\top;"
    r"\ \text{so } \log(Q\,\mathrm{blockdiag}(M(\varphi_j), I)Q^\top) = Q\,\mathrm{blockdiag}(\varphi_jJ, 0)Q^\top",
)
def similarity(d: Derivation) -> None:
    """Orthogonal similarity carries the block form to every R ∈ SO(n)."""
    Q, Qt, A, Ak = sp.symbols("Q Q^T A A_k", commutative=False)
    step = sp.expand((Q * A * Qt) * (Q * Ak * Qt)).subs(Qt * Q, 1)
    d.step(r"Induction: $(QAQ^\top)(QA^kQ^\top)$ with $Q^\top Q = I$", step)
    d.zero(sp.expand(step - Q * A * Ak * Qt), "(QAQᵀ)^{k+1} = Q A^{k+1} Qᵀ")
    d.step(
        r"Summing the series termwise: $\exp(QAQ^\top) = \sum_k Q A^k Q^\top/k! = Q\exp(A)Q^\top$; likewise "
        r"$\log(QRQ^\top) = Q\log(R)Q^\top$ (the eigenvalues are unchanged, so the branch is too)."
    )
    n = sp.Symbol("n", integer=True, positive=True)
    Qm, Am = sp.MatrixSymbol("Q", n, n), sp.MatrixSymbol("A", n, n)
    conj_t = (Qm * Am * Qm.T).T
    d.step(r"Transpose of $QAQ^\top$ (any $n$)", conj_t)
    d.holds((conj_t.subs(Am.T, -Am) + Qm * Am * Qm.T).doit() == sp.ZeroMatrix(n, n), "skew A ⇒ (QAQᵀ)ᵀ + QAQᵀ = 0")
    d.step(
        r"Real Schur form of the normal matrix $R \in SO(n)$ (cited): $R = Q\,\mathrm{blockdiag}(M(\varphi_j), I)Q^\top$. "
        r"With lie.block_form: $\log R = Q\,\mathrm{blockdiag}(\varphi_jJ, 0)Q^\top$ is real, skew, and "
        r"$\exp(\log R) = Q\,\mathrm{blockdiag}(M(\varphi_j), I)Q^\top = R$."
    )
    Q2 = plane_rotation(alpha)
    L2 = Q2 * (phi * Jm) * Q2.T
    d.equal(sp.simplify(L2), phi * Jm, "n = 2 corollary: J commutes with rotations, log is conjugation-invariant")


@theorem(
    "lie.det_exp",
    r"\det e^{A} = e^{\operatorname{tr}A};\ \text{so } \det R = -1 \Rightarrow \nexists\text{ real } A: e^A = R,"
    r"\ \text{and } A^\top = -A \Rightarrow \det e^A = 1",
)
def det_exp(d: Derivation) -> None:
    """Jacobi's formula along t ↦ exp(tA), and its two consequences."""
    for n in (2, 3, 4):
        X = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"x_{i}{j}"))
        poly = sp.expand((sp.eye(n) + h * X).det(method="berkowitz"))
        d.zero(poly.coeff(h, 0) - 1, f"n = {n}: det(I + hX) has constant term 1")
        d.zero(poly.coeff(h, 1) - X.trace(), f"n = {n}: det(I + hX) has h-coefficient tr X")
    d.step(
        r"For every $n$: in the Leibniz expansion of $\det(I + hX + h^2Y)$ every term containing an entry of $Y$ "
        r"is $O(h^2)$, and every permutation other than the identity takes at least two off-diagonal entries, "
        r"each $O(h)$; the identity gives $\prod_i(1 + hX_{ii}) = 1 + h\,\mathrm{tr}X + O(h^2)$ (checked above "
        r"for n = 2, 3, 4)."
    )
    f = sp.Function("f")
    d.step(
        r"$f(t) = \det e^{tA}$: $f(t+h) = \det(e^{tA}e^{hA}) = f(t)\det(I + hA + O(h^2))$, hence "
        r"$f'(t) = \mathrm{tr}(A)\,f(t)$, $f(0) = 1$ (Jacobi's formula along the curve)."
    )
    g = f(t) * sp.exp(-t * tau)
    dg = sp.diff(g, t).subs(sp.Derivative(f(t), t), tau * f(t))
    d.zero(dg, "g = f e^{−t tr A} has g' = 0 when f' = (tr A) f")
    d.step(r"So $g \equiv g(0) = 1$ and $\det e^{tA} = e^{t\,\mathrm{tr}A}$; at $t = 1$: $\det e^A = e^{\mathrm{tr}A}$.")
    d.equal(plane_rotation(phi).det(), sp.exp((phi * Jm).trace()), "check on a block: det e^{φJ} = 1 = e^{tr φJ}")
    a = sp.Symbol("a", real=True)
    d.holds(sp.exp(a).is_positive, "real tr A ⇒ det e^A = e^{tr A} > 0: det R = −1 has no real logarithm")
    n = sp.Symbol("n", integer=True, positive=True)
    Am = sp.MatrixSymbol("A", n, n)
    d.holds(sp.Trace(Am.T).doit() == sp.Trace(Am).doit(), "tr Aᵀ = tr A (any n)")
    d.step(r"Skew $A$: $\mathrm{tr}A = \mathrm{tr}A^\top = -\mathrm{tr}A$, so $\mathrm{tr}A = 0$ and $\det e^A = e^0 = 1$.")
    d.equal(sp.exp(0), 1, "det e^A = 1 for skew A")


@theorem(
    "lie.branch_pi",
    r"e^{\pi J} = e^{-\pi J} = -I_2:\ \log \text{ is not unique at } \varphi = \pi;"
    r"\ \text{orthornn returns } +\pi J \text{ in the canonical planes } (w_1, w_2), \dots",
)
def branch_pi(d: Derivation) -> None:
    """At an eigenvalue −1 both ±π blocks (indeed every complex structure) exponentiate to −I."""
    Ep, Em = exp2(sp.pi * Jm), exp2(-sp.pi * Jm)
    d.step(r"$e^{\pm\pi J}$", Ep)
    d.equal(Ep, -I2, "e^{πJ} = −I₂")
    d.equal(Em, -I2, "e^{−πJ} = −I₂")
    d.holds((sp.pi * Jm - (-sp.pi * Jm)) != sp.zeros(2), "πJ ≠ −πJ: two distinct real skew logarithms")
    d.zero(pair(frame_exp(sp.pi * Jm), frame_exp(-sp.pi * Jm)), "any N: exp(πG) = exp(−πG)")
    d.zero(pair(frame_exp(sp.pi * Jm), FrameOperator(1, -2 * I2)), "= I − 2FFᵀ (rotation by π in span F)")
    U = plane_rotation(alpha)
    Jr = sp.diag(1, -1) * Jm * sp.diag(1, -1)
    d.equal(Jr, -Jm, "conjugating J by a reflection gives −J")
    d.equal(sp.simplify(U * Jm * U.T), Jm, "conjugating by a rotation keeps J: on a 2-plane the choices are ±πJ")
    d.step(
        r"Both $\pm i\pi$ lie on the boundary of the strip, so no principal logarithm exists in Higham's sense "
        r"and a convention is needed (``orthornn._conventions.LOG_BRANCH``): on the −1 eigenspace $E$ take "
        r"$w_1, w_2, \dots$ by pivoted Gram–Schmidt of $P_Ee_i$ and return $\pi\sum_j(w_{2j}w_{2j-1}^\top - "
        r"w_{2j-1}w_{2j}^\top)$. For $R = -I_2$: $P_E = I_2$, $w_1 = e_1$, $w_2 = e_2$, so $\log(-I_2) = \pi J$."
    )
    d.equal(exp2(sp.Matrix([[0, -sp.pi], [sp.pi, 0]])), -I2, "the convention's log(−I₂) = [[0, −π], [π, 0]] exponentiates back")
    d.holds(sp.Interval.Lopen(-sp.pi, sp.pi).contains(sp.pi) == sp.true, "the angle +π is in the phase interval (−π, π]")
