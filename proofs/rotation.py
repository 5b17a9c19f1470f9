r"""The Rotation operation of RUM (section 3.1, eq. 1), proved in every dimension N.

For non-collinear :math:`a, b \in \mathbb{R}^N` let :math:`u_a = a/\lVert a\rVert`,
:math:`v = b - (u_a\cdot b)u_a`, :math:`u_b = v/\lVert v\rVert`, :math:`\theta \in (0, \pi)` the
angle between ``a`` and ``b``, and

.. math::

    R(a, b) = I - u_a u_a^\top - u_b u_b^\top + [u_a\ u_b]\, M(\theta)\, [u_a\ u_b]^\top,
    \qquad M(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}.

**The frame method.** Nothing here fixes ``N``. Write :math:`F = [u_a\ u_b]`, an ``N×2``
matrix *symbol* with ``N`` a symbolic positive integer and the single hypothesis
:math:`F^\top F = I_2` (orthonormal frame). Every operator of the family lies in the algebra
:math:`\mathcal{A} = \{cI_N + FMF^\top\}` and every vector is :math:`h = Fx + t\,w` with
:math:`F^\top w = 0` (``w`` spans whatever part of ``h`` lies in :math:`\operatorname{span}(a, b)^\perp`,
:math:`\lVert w\rVert^2 = \omega`). Products, transposes and inner products are formed as sympy
matrix expressions in ``F`` and ``w``, distributed by the ring laws, and rewritten with the
exact rules :math:`F^\top F = I_2`, :math:`F^\top w = 0`, :math:`w^\top w = \omega`
(``orthornn.symbolic.frame``). What remains is exact arithmetic on 2×2 matrices, so each
identity below holds for every :math:`N \ge 2`, not for a sample of dimensions.

Two lemmas carry the weight: the **frame algebra** (product, transpose, action and inner
product rules) and **Sylvester's determinant identity**
:math:`\det(I_N + UV) = \det(I_2 + VU)` for :math:`U \in \mathbb{R}^{N\times 2}`,
:math:`V \in \mathbb{R}^{2\times N}`, proved from a block factorisation and the rule that a
block-triangular matrix has the product of its diagonal blocks' determinants.

**Coordinates of a pair.** Given ``(a, b)``, choose ``F`` as their frame; then
:math:`a = F(\rho, 0)^\top` and :math:`b = F(\beta_1, \beta_2)^\top` with
:math:`\rho = \lVert a\rVert > 0`, :math:`\beta_1 = u_a\cdot b` and
:math:`\beta_2 = \lVert v\rVert > 0` (non-collinear pair). This is no loss of generality:
``rotation.frame_coordinates`` checks that Gram–Schmidt applied to these vectors returns
:math:`F e_1, F e_2` itself. Theorems that involve other pairs (``R(b, a)``,
``R(αa, βb)``) run Gram–Schmidt again, from scratch, on the vectors of that pair.

The theorems ``rotation.corollary_*`` check the explicit ``N×N`` matrices of
``orthornn.symbolic.rotation`` (the specification the numeric layers test against) for
``N = 2, 3, 4``; they are corollaries and sanity checks, not the proofs.
"""

from __future__ import annotations

import sympy as sp

from orthornn.symbolic import Derivation, theorem
from orthornn.symbolic.frame import (
    DIM,
    FRAME,
    OMEGA,
    FrameOperator,
    FrameVector,
    frame_inner,
    frame_rotation,
    gram_schmidt,
    reduce_frame,
)
from orthornn.symbolic.rotation import division_free_rotation, plane_rotation, rotate, rotation

N, F = DIM, FRAME
theta = sp.Symbol("theta", real=True)
rho, beta2 = sp.symbols("rho beta_2", positive=True)
beta1 = sp.Symbol("beta_1", real=True)
alpha, beta = sp.symbols("alpha beta", positive=True)
x1, x2, t = sp.symbols("x_1 x_2 t", real=True)

I2 = sp.eye(2)
E1, E2 = sp.Matrix([1, 0]), sp.Matrix([0, 1])
#: J = e₂e₁ᵀ − e₁e₂ᵀ: the generator in frame coordinates.
J = E2 * E1.T - E1 * E2.T
M = plane_rotation(theta)

u_a, u_b = FrameVector(E1), FrameVector(E2)
#: The pair in its own frame: a = F(ρ, 0)ᵀ, b = F(β₁, β₂)ᵀ.
a_vec, b_vec = FrameVector([rho, 0]), FrameVector([beta1, beta2])
r_b = sp.sqrt(beta1**2 + beta2**2)
#: cos θ and sin θ of the pair (a, b) (``rotation.frame_coordinates``).
ANGLE = {sp.cos(theta): beta1 / r_b, sp.sin(theta): beta2 / r_b}


def outer(u: FrameVector, v: FrameVector) -> FrameOperator:
    r"""The rank-one operator :math:`u v^\top`, read back in the frame algebra."""
    return FrameOperator.from_expr(u.expr() * v.expr().T)


def eq1(m: sp.Matrix) -> FrameOperator:
    r"""RUM eq. (1) with frame ``F`` and plane block ``m``: :math:`I - u_au_a^\top - u_bu_b^\top + F m F^\top`."""
    ua, ub = u_a.expr(), u_b.expr()
    return FrameOperator.from_expr(sp.Identity(N) - ua * ua.T - ub * ub.T + F * sp.ImmutableMatrix(m) * F.T)


def generator() -> FrameOperator:
    r""":math:`G = u_b u_a^\top - u_a u_b^\top`."""
    return outer(u_b, u_a) - outer(u_a, u_b)


def equal_ops(d: Derivation, lhs: FrameOperator, rhs: FrameOperator, label: str) -> None:
    """Two operators of the frame algebra are equal iff their (c, M) agree: check both exactly."""
    d.equal(lhs.c, rhs.c, f"{label} (multiple of I_N)")
    d.equal(lhs.M, rhs.M, f"{label} (plane block M)")


def equal_vecs(d: Derivation, lhs: FrameVector, rhs: FrameVector, label: str) -> None:
    """Two vectors F x + t w are equal iff their (x, t) agree: check both exactly."""
    d.equal(lhs.x, rhs.x, f"{label} (plane coordinates x)")
    d.equal(lhs.t, rhs.t, f"{label} (complement coefficient t)")


def latex_op(op: FrameOperator, simplify: bool = True) -> str:
    r"""LaTeX of :math:`c\,I_N + F M F^\top` for display (simplified for reading; checks use the raw form)."""
    c, m = (sp.simplify(op.c), sp.simplify(op.M)) if simplify else (op.c, op.M)
    plane = rf"F {sp.latex(m)} F^\top"
    if c == 0:
        return plane
    scalar = "I_N" if c == 1 else rf"{sp.latex(c)}\,I_N"
    return scalar if m == sp.zeros(2, 2) else rf"{scalar} + {plane}"


# --------------------------------------------------------------------------- lemmas


@theorem(
    "rotation.frame_algebra",
    r"F^\top F = I_2,\ F^\top w = 0 \implies "
    r"(cI_N + FAF^\top)(c'I_N + FBF^\top) = cc'I_N + F(cB + c'A + AB)F^\top,\ "
    r"(cI_N + FAF^\top)^\top = cI_N + FA^\top F^\top,\ "
    r"(cI_N + FAF^\top)(Fx + tw) = F(cx + Ax) + ctw,\ "
    r"(Fx + tw)^\top(Fy + sw) = x^\top y + ts\lVert w\rVert^2",
)
def frame_algebra(d: Derivation) -> None:
    """Lemma: the operators c I + F M Fᵀ form an algebra whose arithmetic is 2×2 arithmetic."""
    c, c2, s = sp.symbols("c c' s", real=True)
    A = sp.Matrix(2, 2, sp.symbols("a_11 a_12 a_21 a_22", real=True))
    B = sp.Matrix(2, 2, sp.symbols("b_11 b_12 b_21 b_22", real=True))
    x = sp.Matrix(sp.symbols("x_1 x_2", real=True))
    y = sp.Matrix(sp.symbols("y_1 y_2", real=True))
    X, Y = FrameOperator(c, A), FrameOperator(c2, B)
    d.step(
        r"Take generic operands: scalars $c, c', t, s$, 2×2 matrices $A, B$ and 2-vectors "
        r"$x, y$ whose entries are free symbols, an $N\times 2$ matrix symbol $F$ and an "
        r"$N\times 1$ symbol $w$, with $N$ a symbolic positive integer.",
    )
    prod = d.step(
        r"Multiply the $N\times N$ matrix expressions and distribute (ring laws only):",
        (X.expr() * Y.expr()),
    )
    d.step(
        r"The terms are words in $F, F^\top, A, B$; the hypothesis $F^\top F = I_2$ deletes "
        r"every inner pair $F^\top F$, e.g. $F A F^\top F B F^\top = F(AB)F^\top$. Collecting, "
        r"the product is",
        latex_op(FrameOperator.from_expr(prod), simplify=False),
    )
    equal_ops(d, X * Y, FrameOperator(c * c2, c * B + c2 * A + A * B), "product rule")
    d.step(r"Transpose with $(XY)^\top = Y^\top X^\top$ and $I_N^\top = I_N$:", X.expr().T)
    equal_ops(d, X.T, FrameOperator(c, A.T), "transpose rule")
    h, g = FrameVector(x, t), FrameVector(y, s)
    d.step(
        r"Apply $X$ to $h = Fx + tw$; the hypothesis $F^\top w = 0$ removes the cross term "
        r"$F A F^\top w$:",
        sp.Eq(X.expr() * h.expr(), X(h).expr(), evaluate=False),
    )
    equal_vecs(d, X(h), FrameVector(c * x + A * x, c * t), "action on vectors")
    d.step(
        r"Inner products: $(Fx + tw)^\top(Fy + sw) = x^\top F^\top F y + t\, x^\top F^\top w "
        r"+ s\, w^\top F y + ts\, w^\top w$, and $F^\top F = I_2$, $F^\top w = 0$:",
        frame_inner(h, g),
    )
    d.equal(frame_inner(h, g), (x.T * y)[0, 0] + t * s * OMEGA, "inner product rule")


@theorem(
    "rotation.sylvester",
    r"\det(I_N + UV) = \det(I_2 + VU)\quad (U \in \mathbb{R}^{N\times 2},\ V \in \mathbb{R}^{2\times N})",
)
def sylvester(d: Derivation) -> None:
    """Lemma: Sylvester's determinant identity for an N×2 / 2×N pair, by block factorisation."""
    U, V = sp.MatrixSymbol("U", N, 2), sp.MatrixSymbol("V", 2, N)
    IN, Id2 = sp.Identity(N), sp.Identity(2)
    T = sp.BlockMatrix([[IN, -U], [V, Id2]])
    L = sp.BlockMatrix([[IN, sp.ZeroMatrix(N, 2)], [V, Id2]])
    up1 = sp.BlockMatrix([[IN, -U], [sp.ZeroMatrix(2, N), Id2 + V * U]])
    up2 = sp.BlockMatrix([[IN + U * V, -U], [sp.ZeroMatrix(2, N), Id2]])
    d.step(r"Consider the $(N+2)\times(N+2)$ block matrix", T)
    p1 = sp.block_collapse(L * up1)
    p2 = sp.block_collapse(up2 * L)
    d.step(r"It factors as lower-triangular times upper-triangular:", rf"{sp.latex(L)}{sp.latex(up1)}")
    d.step(r"and as upper-triangular times lower-triangular:", rf"{sp.latex(up2)}{sp.latex(L)}")
    for name, p in (("first", p1), ("second", p2)):
        blocks_equal = all(
            sp.expand(p.blocks[i, j] - T.blocks[i, j]) == sp.ZeroMatrix(*T.blocks[i, j].shape)
            or sp.expand(p.blocks[i, j] - T.blocks[i, j]) == 0
            for i in range(2)
            for j in range(2)
        )
        d.holds(blocks_equal, f"the {name} factorisation multiplies out to T, block by block")
    d.step(
        r"A block-triangular matrix has determinant $\prod \det(\text{diagonal blocks})$; so "
        r"$\det T = \det(I_N)\det(I_2 + VU) = \det(I_N + UV)\det(I_2)$.",
        sp.Eq(sp.det(L) * sp.det(up1), sp.det(up2) * sp.det(L), evaluate=False),
    )
    d.holds(sp.det(L) == 1, "det of the unit lower-triangular factor is 1")
    d.holds(
        sp.det(up1) == sp.Determinant(Id2 + V * U) and sp.det(up2) == sp.Determinant(IN + U * V),
        "det of the upper factors are det(I_2 + VU) and det(I_N + UV)",
    )


@theorem(
    "rotation.frame_coordinates",
    r"a = F\binom{\rho}{0},\ b = F\binom{\beta_1}{\beta_2},\ \rho, \beta_2 > 0 \implies "
    r"u_a = Fe_1,\ u_b = Fe_2,\ \cos\theta = \tfrac{\beta_1}{\lVert b\rVert},\ "
    r"\sin\theta = \tfrac{\beta_2}{\lVert b\rVert},\ R(a, b) = I - u_au_a^\top - u_bu_b^\top + FM(\theta)F^\top",
)
def frame_coordinates(d: Derivation) -> None:
    """Every non-collinear pair, written in its own frame, reproduces that frame and its angle."""
    d.step(
        r"Any non-collinear pair is $a = \rho\,u_a$, $b = (u_a\cdot b)u_a + v = \beta_1 u_a + "
        r"\beta_2 u_b$ with $\rho = \lVert a\rVert > 0$, $\beta_2 = \lVert v\rVert > 0$. Run "
        r"Gram–Schmidt on $a = F(\rho, 0)^\top$, $b = F(\beta_1, \beta_2)^\top$ with inner "
        r"products of $\mathbb{R}^N$:",
    )
    g = gram_schmidt(a_vec, b_vec)
    equal_vecs(d, g.u_a, u_a, "u_a = a/|a| = F e_1")
    equal_vecs(d, g.u_b, u_b, "u_b = v/|v| = F e_2")
    d.step(
        r"$\cos\theta = a\cdot b/(\lVert a\rVert\lVert b\rVert)$ with $a\cdot b$ and norms from the inner product rule:",
        sp.Eq(sp.Symbol(r"\cos\theta"), frame_inner(a_vec, b_vec) / (rho * r_b)),
    )
    d.equal(g.cos, ANGLE[sp.cos(theta)], "cos θ = β_1/|b|")
    d.equal(frame_inner(a_vec, b_vec) / (rho * r_b), ANGLE[sp.cos(theta)], "cos θ = a·b/(|a||b|)")
    d.step(
        r"$\sin\theta = \lVert v\rVert/\lVert b\rVert = \beta_2/\lVert b\rVert$ is positive and "
        r"$\sin^2\theta + \cos^2\theta = 1$, so $\theta = \arccos(a\cdot b/(\lVert a\rVert\lVert b\rVert)) \in (0, \pi)$:",
        sp.Eq(sp.Symbol(r"\sin\theta"), g.sin),
    )
    d.equal(g.sin, ANGLE[sp.sin(theta)], "sin θ = β_2/|b|")
    d.holds(sp.simplify(g.sin).is_positive is True, "sin θ > 0 (β_2 > 0)")
    d.equal(g.sin**2 + g.cos**2, 1, "sin²θ + cos²θ = 1")
    R = frame_rotation(a_vec, b_vec)
    d.step(r"Eq. (1) assembled from this frame as an $N\times N$ matrix expression reads back as", latex_op(R))
    equal_ops(d, R, eq1(M).subs(ANGLE), "R(a, b) = eq. (1) with F and θ")


# --------------------------------------------------------------------------- the generator


@theorem(
    "rotation.generator",
    r"G = u_bu_a^\top - u_au_b^\top = FJF^\top,\ G^\top = -G,\ G^2 = -(u_au_a^\top + u_bu_b^\top),\ G^3 = -G",
)
def generator_identities(d: Derivation) -> None:
    """The generator is skew, squares to minus the projector onto the plane, and G³ = −G."""
    G = generator()
    d.step(r"In the frame, $u_b u_a^\top - u_a u_b^\top = F(e_2e_1^\top - e_1e_2^\top)F^\top = FJF^\top$:", latex_op(G))
    equal_ops(d, G, FrameOperator(0, J), "G = F J F^T")
    equal_ops(d, G.T, -G, "G^T = -G")
    P = outer(u_a, u_a) + outer(u_b, u_b)
    d.step(r"$P = u_au_a^\top + u_bu_b^\top = FF^\top$ and $G^2 = FJ^2F^\top$ with $J^2 = -I_2$:", latex_op(G * G))
    equal_ops(d, P, FrameOperator(0, I2), "P = F F^T")
    equal_ops(d, G * G, -P, "G^2 = -P")
    equal_ops(d, P * P, P, "P^2 = P")
    d.step(r"$G^3 = F J^3 F^\top = -FJF^\top$:", latex_op(G * G * G))
    equal_ops(d, G * G * G, -G, "G^3 = -G")


@theorem(
    "rotation.rodrigues",
    r"I - u_au_a^\top - u_bu_b^\top + [u_a\ u_b]M(\theta)[u_a\ u_b]^\top = I + \sin\theta\,G + (1 - \cos\theta)\,G^2",
)
def rodrigues(d: Derivation) -> None:
    """RUM eq. (1) is the N-dimensional Rodrigues formula in its generator."""
    R = eq1(M)
    d.step(r"With $[u_a\ u_b] = F$, eq. (1) is $I_N - FF^\top + FM(\theta)F^\top$:", latex_op(R))
    G = generator()
    rod = FrameOperator.identity() + sp.sin(theta) * G + (1 - sp.cos(theta)) * (G * G)
    d.step(r"With $G = FJF^\top$ and $G^2 = -FF^\top$ the right side is", latex_op(rod))
    d.step(
        r"Both are $I_N + F(\cdot)F^\top$; the 2×2 blocks agree because $M(\theta) - I_2 = \sin\theta\,J + (1 - \cos\theta)J^2$."
    )
    equal_ops(d, R, rod, "eq. (1) = I + sinθ G + (1 − cosθ) G²")


@theorem(
    "rotation.exp_series",
    r"\exp(\theta G) = \sum_{n\ge 0}\frac{\theta^n G^n}{n!} = I + \sin\theta\,G + (1 - \cos\theta)\,G^2 = R",
)
def exp_series(d: Derivation) -> None:
    """R = exp(θG): the exponential series regrouped with G³ = −G (and, independently, the ODE)."""
    G = generator()
    G2 = G * G
    k = sp.Symbol("k", integer=True, nonnegative=True)
    sign = (-1) ** k
    d.step(
        r"Powers of $G$ (induction on $k \ge 0$): $G^{2k+1} = (-1)^k G$ and $G^{2k+2} = (-1)^k G^2$. "
        r"The base case $k = 0$ is $G = G$, $G^2 = G^2$; the step multiplies by $G^2$ and uses "
        r"$G^3 = -G$, $G^4 = -G^2$ (lemma ``rotation.generator``), checked below with $k$ a symbolic integer.",
    )
    equal_ops(d, (sign * G) * G2, (-1) ** (k + 1) * G, "G^(2k+3) = (−1)^(k+1) G from G^(2k+1) = (−1)^k G")
    equal_ops(d, (sign * G2) * G2, (-1) ** (k + 1) * G2, "G^(2k+4) = (−1)^(k+1) G² from G^(2k+2) = (−1)^k G²")
    odd = sp.Sum(sign * theta ** (2 * k + 1) / sp.factorial(2 * k + 1), (k, 0, sp.oo))
    even = sp.Sum(sign * theta ** (2 * k + 2) / sp.factorial(2 * k + 2), (k, 0, sp.oo))
    d.step(
        r"The series $\sum_n \theta^n G^n/n!$ converges absolutely (in any norm, "
        r"$\lVert\theta^nG^n/n!\rVert \le (|\theta|\lVert G\rVert)^n/n!$), so its terms may be "
        r"regrouped into $n = 0$, odd $n = 2k+1$ and even $n = 2k+2$: "
        r"$\exp(\theta G) = I + \sigma_1 G + \sigma_2 G^2$ with the scalar series",
        sp.Eq(sp.Symbol(r"\sigma_1"), odd, evaluate=False),
    )
    d.step("and", sp.Eq(sp.Symbol(r"\sigma_2"), even, evaluate=False))
    s1, s2 = odd.doit(), even.doit()
    d.step(r"sympy sums them in closed form:", sp.Matrix([s1, sp.expand(s2)]))
    d.equal(s1, sp.sin(theta), "Σ (−1)^k θ^(2k+1)/(2k+1)! = sin θ")
    d.equal(s2, 1 - sp.cos(theta), "Σ (−1)^k θ^(2k+2)/(2k+2)! = 1 − cos θ")
    exp_g = FrameOperator.identity() + s1 * G + s2 * G2
    equal_ops(d, exp_g, eq1(M), "exp(θG) = eq. (1)")
    d.step(
        r"Independent check by the ODE characterisation: $\exp(\theta G)$ is the unique solution of "
        r"$R'(\theta) = G R(\theta)$, $R(0) = I$. Eq. (1) satisfies both ($F$ does not depend on $\theta$):",
        latex_op(eq1(M).diff(theta)),
    )
    R = eq1(M)
    equal_ops(d, R.diff(theta), G * R, "d/dθ eq. (1) = G · eq. (1)")
    equal_ops(d, R.subs(theta, 0), FrameOperator.identity(), "eq. (1) at θ = 0 is I")


# --------------------------------------------------------------------------- group properties


@theorem("rotation.orthogonal", r"R^\top R = R R^\top = I_N")
def orthogonal(d: Derivation) -> None:
    """R is orthogonal in every dimension N."""
    R = eq1(M)
    RtR = R.T * R
    d.step(
        r"$R = I_N + FXF^\top$ with $X = M(\theta) - I_2$. By the transpose and product rules, "
        r"$R^\top R = I_N + F\big(X^\top + X + X^\top X\big)F^\top = I_N + F\big(M^\top M - I_2\big)F^\top$, "
        r"with plane block",
        RtR.M,
    )
    d.step(
        r"which vanishes because $M(\theta)^\top M(\theta) = I_2$ ($\cos^2\theta + \sin^2\theta = 1$):", latex_op(RtR)
    )
    equal_ops(d, RtR, FrameOperator.identity(), "R^T R = I")
    equal_ops(d, R * R.T, FrameOperator.identity(), "R R^T = I")


@theorem("rotation.determinant", r"\det R = 1")
def determinant(d: Derivation) -> None:
    """det R = 1: Sylvester's identity moves the determinant to the 2×2 block."""
    R = eq1(M)
    X = R.M
    d.step(r"$R = I_N + F X F^\top$ with $X = M(\theta) - I_2$:", X)
    XFtF = reduce_frame(sp.ImmutableMatrix(X) * F.T * F)
    d.step(
        r"Sylvester (lemma ``rotation.sylvester``) with $U = F$, $V = XF^\top$: "
        r"$\det(I_N + FXF^\top) = \det(I_2 + XF^\top F)$, and $XF^\top F = X$ by $F^\top F = I_2$:",
        sp.ImmutableMatrix(XFtF[0][1][0]),
    )
    d.holds(len(XFtF) == 1 and XFtF[0][0] == 1 and XFtF[0][1] == [sp.ImmutableMatrix(X)], "X F^T F = X")
    det2 = (I2 + X).det()
    d.step(
        r"So $\det R = \det(I_2 + X) = \det M(\theta) = \cos^2\theta + \sin^2\theta$:",
        sp.Eq(sp.Symbol(r"\det R"), det2, evaluate=False),
    )
    d.equal(det2, 1, "det M(θ) = cos²θ + sin²θ = 1")


@theorem("rotation.maps_a_to_b", r"R(a, b)\,u_a = \frac{b}{\lVert b\rVert}")
def maps_a_to_b(d: Derivation) -> None:
    """R turns the direction of a into the direction of b."""
    R = frame_rotation(a_vec, b_vec)
    image = R(u_a)
    d.step(
        r"Apply $R(a, b)$ (built from $a = F(\rho, 0)^\top$, $b = F(\beta_1, \beta_2)^\top$) to $u_a = Fe_1$: $R u_a = F M(\theta) e_1 = F(\cos\theta, \sin\theta)^\top$:",
        image.x,
    )
    target = (1 / sp.sqrt(frame_inner(b_vec, b_vec))) * b_vec
    d.step(r"and $b/\lVert b\rVert = F(\beta_1, \beta_2)^\top/\sqrt{\beta_1^2 + \beta_2^2}$:", target.x)
    equal_vecs(d, image, target, "R u_a = b/|b|")
    d.step(r"Also $R u_b = F(-\sin\theta, \cos\theta)^\top$: the plane turns rigidly by $\theta$.")
    equal_vecs(d, R(u_b), FrameVector(sp.Matrix([-beta2, beta1]) / r_b), "R u_b = (−sinθ u_a + cosθ u_b)")


@theorem("rotation.fixes_complement", r"v \perp \operatorname{span}(a, b) \implies R(a, b)\,v = v")
def fixes_complement(d: Derivation) -> None:
    """R is the identity on the orthogonal complement of the plane."""
    R = eq1(M)
    s = sp.Symbol("s", real=True)
    v = FrameVector(sp.zeros(2, 1), s)
    d.step(
        r"A vector $v \perp \operatorname{span}(a, b) = \operatorname{span}(F)$ is $v = s\,w$ with $F^\top w = 0$. "
        r"Then $Rv = s\,w - F(\cdot)F^\top s\,w = s\,w$:",
        R.expr() * v.expr(),
    )
    equal_vecs(d, R(v), v, "R v = v")
    Q = FrameOperator.identity() - FrameOperator(0, I2)
    d.step(
        r"Equivalently, with the projector $Q = I_N - FF^\top$ onto the complement, $RQ = Q$ and $QRQ = Q$:",
        latex_op(R * Q),
    )
    equal_ops(d, R * Q, Q, "R Q = Q")
    equal_ops(d, Q * Q, Q, "Q² = Q (Q is the projector)")


@theorem("rotation.inverse", r"R(a, b)^{-1} = R(a, b)^\top = R(b, a)")
def inverse(d: Derivation) -> None:
    """Rotating back is rotating from b to a."""
    Rab = frame_rotation(a_vec, b_vec)
    Rba = frame_rotation(b_vec, a_vec)
    g = gram_schmidt(b_vec, a_vec)
    d.step(
        r"Gram–Schmidt from scratch on the pair $(b, a)$: $u'_1 = b/\lVert b\rVert$, "
        r"$u'_2 \propto a - (u'_1\cdot a)u'_1$; in frame coordinates $[u'_1\ u'_2] = F\,W$ with $W$ =",
        sp.simplify(sp.Matrix.hstack(g.u_a.x, g.u_b.x)),
    )
    d.step(r"and eq. (1) for $(b, a)$ reads back as", latex_op(Rba))
    equal_ops(d, Rba, Rab.T, "R(b, a) = R(a, b)^T")
    equal_ops(d, Rab * Rba, FrameOperator.identity(), "R(a, b) R(b, a) = I")
    equal_ops(d, Rba * Rab, FrameOperator.identity(), "R(b, a) R(a, b) = I")


@theorem("rotation.scale_invariance", r"R(\alpha a, \beta b) = R(a, b)\quad (\alpha, \beta > 0)")
def scale_invariance(d: Derivation) -> None:
    """Only the directions of a and b matter."""
    Rs = frame_rotation(alpha * a_vec, beta * b_vec)
    g, g0 = gram_schmidt(alpha * a_vec, beta * b_vec), gram_schmidt(a_vec, b_vec)
    d.step(
        r"Gram–Schmidt on $(\alpha a, \beta b)$: $\lVert\alpha a\rVert = \alpha\lVert a\rVert$ for $\alpha > 0$, so $u_{\alpha a} = u_a$; likewise $v$ scales by $\beta$ and $u_{\beta b} = u_b$; $\cos\theta, \sin\theta$ are ratios of degree 0:",
        sp.Matrix([g.cos, g.sin]),
    )
    equal_vecs(d, g.u_a, g0.u_a, "u_(αa) = u_a")
    equal_vecs(d, g.u_b, g0.u_b, "u_(βb) = u_b")
    d.equal(sp.Matrix([g.cos, g.sin]), sp.Matrix([g0.cos, g0.sin]), "θ(αa, βb) = θ(a, b)")
    equal_ops(d, Rs, frame_rotation(a_vec, b_vec), "R(αa, βb) = R(a, b)")


@theorem(
    "rotation.eigenvalues",
    r"\det(xI_N - R) = (x - 1)^{N-2}(x - e^{i\theta})(x - e^{-i\theta}):\ "
    r"\text{eigenvalues } e^{\pm i\theta} \text{ and } 1 \text{ with multiplicity } N - 2\ (0 < \theta < \pi)",
)
def eigenvalues(d: Derivation) -> None:
    """The spectrum: e^{±iθ} on the plane, 1 on its (N−2)-dimensional complement."""
    x = sp.Symbol("x")
    lam = x - 1
    X = M - I2
    d.step(
        r"$xI_N - R = (x - 1)I_N - FXF^\top$ with $X = M(\theta) - I_2$. For $x \ne 1$, "
        r"homogeneity and Sylvester (with $F^\top F = I_2$) give "
        r"$\det(xI_N - R) = (x-1)^N\det\!\big(I_2 - \tfrac{X}{x-1}\big)$.",
    )
    left = lam**N * (I2 - X / lam).det()
    d.step(r"that is,", sp.Eq(sp.Symbol(r"\det(xI_N - R)"), left, evaluate=False))
    d.step(
        r"Pull $(x-1)^2$ into the 2×2 determinant: $(x-1)^N = (x-1)^{N-2}(x-1)^2$,", sp.powsimp(lam**N / lam ** (N - 2))
    )
    d.equal(sp.powsimp(lam**N / lam ** (N - 2)), lam**2, "(x−1)^N = (x−1)^(N−2) (x−1)^2")
    char2 = (x * I2 - M).det()
    d.equal(lam**2 * (I2 - X / lam).det(), char2, "(x−1)² det(I − X/(x−1)) = det(x I_2 − M(θ))")
    d.step(
        r"so $\det(xI_N - R) = (x - 1)^{N-2}\det(xI_2 - M(\theta))$ for all $x \ne 1$, hence as "
        r"polynomials. The 2×2 factor:",
        sp.trigsimp(sp.expand(char2)),
    )
    d.equal(char2, x**2 - 2 * sp.cos(theta) * x + 1, "det(x I_2 − M) = x² − 2 cosθ x + 1")
    d.equal(
        sp.expand((x - sp.exp(sp.I * theta)) * (x - sp.exp(-sp.I * theta))).rewrite(sp.cos),
        x**2 - 2 * sp.cos(theta) * x + 1,
        "x² − 2cosθ x + 1 = (x − e^{iθ})(x − e^{−iθ})",
    )
    roots = sp.solve(sp.expand(char2), x)
    d.step(r"Its roots:", sp.Matrix(roots))
    d.holds(len(roots) == 2, "two roots")
    d.equal(
        sp.Matrix(sorted(roots, key=sp.default_sort_key)),
        sp.Matrix(sorted([sp.exp(sp.I * theta), sp.exp(-sp.I * theta)], key=sp.default_sort_key)),
        "the roots are e^{iθ} and e^{−iθ}",
    )
    interval = sp.Interval.open(0, sp.pi)
    tt = sp.Symbol("t", real=True)
    no_one = sp.solveset(sp.Eq(sp.cos(tt), 1), tt, interval)
    d.step(
        r"For $0 < \theta < \pi$, $e^{\pm i\theta} \ne 1$ ($\cos\theta = 1$ has no solution there), so $1$ has multiplicity exactly $N - 2$:",
        no_one,
    )
    d.holds(no_one == sp.S.EmptySet, "cos θ ≠ 1 on (0, π)")
    d.step(
        r"Eigenvectors: $u_a \mp i u_b$ for $e^{\pm i\theta}$, and every $w \perp \operatorname{span}(a, b)$ for $1$."
    )
    R = eq1(M)
    for sgn in (1, -1):
        v = FrameVector(sp.Matrix([1, -sgn * sp.I]))
        lhs, rhs = R(v), sp.exp(sgn * sp.I * theta) * v
        d.equal(
            sp.expand_complex(lhs.x - rhs.x).rewrite(sp.cos),
            sp.zeros(2, 1),
            f"R(u_a {'-' if sgn > 0 else '+'} i u_b) = e^({'+' if sgn > 0 else '-'}iθ)(u_a {'-' if sgn > 0 else '+'} i u_b)",
        )


@theorem(
    "rotation.norm_and_matrix_free",
    r"\lVert Rh\rVert = \lVert h\rVert,\quad Rh = h + \sin\theta\,\big(u_b(u_a\cdot h) - u_a(u_b\cdot h)\big) + (\cos\theta - 1)\big(u_a(u_a\cdot h) + u_b(u_b\cdot h)\big)",
)
def norm_and_matrix_free(d: Derivation) -> None:
    """R preserves norms, and Rh needs only two inner products and four vector updates: O(N)."""
    R = eq1(M)
    h = FrameVector(sp.Matrix([x1, x2]), t)
    Rh = R(h)
    d.step(
        r"Every $h \in \mathbb{R}^N$ is $h = Fx + tw$ ($x = F^\top h$, $tw = (I - FF^\top)h$). Then $Rh = FM(\theta)x + tw$:",
        Rh.x,
    )
    d.step(r"and $\lVert Rh\rVert^2 = \lVert M(\theta)x\rVert^2 + t^2\omega$:", frame_inner(Rh, Rh))
    d.equal(frame_inner(Rh, Rh), frame_inner(h, h), "|Rh|² = |h|²")
    pa, pb = frame_inner(u_a, h), frame_inner(u_b, h)
    d.step(r"The inner products of the formula are $u_a\cdot h = x_1$, $u_b\cdot h = x_2$:", sp.Matrix([pa, pb]))
    mf = h + sp.sin(theta) * (pa * u_b - pb * u_a) + (sp.cos(theta) - 1) * (pa * u_a + pb * u_b)
    d.step(r"The matrix-free formula evaluates to $F(\cdot) + tw$ with plane part", mf.x)
    equal_vecs(d, mf, Rh, "matrix-free formula = R h")


@theorem(
    "rotation.division_free",
    r"R(a, b) = I + K + \frac{K^2}{1 + c},\quad K = \hat b\hat a^\top - \hat a\hat b^\top,\ c = \hat a\cdot\hat b\ (c \ne -1)",
)
def division_free(d: Derivation) -> None:
    """The Rotation without Gram–Schmidt: a rational function of â and b̂ (valid for c ≠ −1)."""
    ah = (1 / sp.sqrt(frame_inner(a_vec, a_vec))) * a_vec
    bh = (1 / sp.sqrt(frame_inner(b_vec, b_vec))) * b_vec
    K = outer(bh, ah) - outer(ah, bh)
    c = frame_inner(ah, bh)
    d.step(
        r"$\hat a = a/\lVert a\rVert = Fe_1$, $\hat b = F(\cos\theta, \sin\theta)^\top$, $c = \hat a\cdot\hat b = \cos\theta$; $K$ reads back as",
        latex_op(K),
    )
    d.equal(c, ANGLE[sp.cos(theta)], "c = cos θ")
    d.equal(K.M, sp.sin(theta).subs(ANGLE) * J, "K = sin θ · G")
    d.step(
        r"So $K = \sin\theta\,G$ and $K^2/(1 + c) = \sin^2\theta\,G^2/(1 + \cos\theta) = (1 - \cos\theta)G^2$ — the Rodrigues form. $1 + c \ne 0$ because $(1 + c)(1 - c) = \sin^2\theta = \beta_2^2/\lVert b\rVert^2 > 0$:",
        1 + c,
    )
    d.equal((1 + c) * (1 - c), (beta2 / r_b) ** 2, "(1 + c)(1 − c) = sin²θ, which is > 0, so 1 + c ≠ 0")
    Rdf = FrameOperator.identity() + K + (1 / (1 + c)) * (K * K)
    equal_ops(d, Rdf, frame_rotation(a_vec, b_vec), "I + K + K²/(1 + c) = eq. (1)")


# --------------------------------------------------------------------------- corollaries (fixed N)


def _explicit_frame_matrix(n: int) -> sp.Matrix:
    """F = [e₁ e₂] in ℝⁿ."""
    return sp.eye(n)[:, :2]


@theorem(
    "rotation.corollary_explicit_n2_n3_n4",
    r"N \in \{2, 3, 4\}:\ \texttt{rotation}(a, b) = I_N + F(M(\theta) - I_2)F^\top \text{ for } a = \rho e_1,\ b = \beta_1e_1 + \beta_2e_2",
)
def corollary_explicit(d: Derivation) -> None:
    """The explicit N×N matrices of orthornn.symbolic.rotation agree with the frame algebra."""
    Rf = frame_rotation(a_vec, b_vec)
    for n in (2, 3, 4):
        a = sp.Matrix([rho, 0] + [0] * (n - 2))
        b = sp.Matrix([beta1, beta2] + [0] * (n - 2))
        Fn = _explicit_frame_matrix(n)
        R = rotation(a, b)
        d.step(rf"$N = {n}$, $F = [e_1\ e_2]$: the explicit matrix is", R)
        d.equal(R, Rf.c * sp.eye(n) + Fn * Rf.M * Fn.T, f"N = {n}: rotation(a, b) = frame algebra with F = [e_1 e_2]")
        d.equal(R.T * R, sp.eye(n), f"N = {n}: R^T R = I")
        d.equal(R.det(), 1, f"N = {n}: det R = 1")


@theorem(
    "rotation.corollary_n4_general_position",
    r"a = (1, 2, 0, -1)^\top,\ b = (3, -1, 2, 1)^\top:\ R^\top R = I,\ \det R = 1,\ R\hat a = \hat b,\ "
    r"R = I + K + \tfrac{K^2}{1+c},\ Rh = \texttt{rotate}(a, b, h)",
)
def corollary_general_position(d: Derivation) -> None:
    """A pair in general position in R⁴ (no coordinate alignment): exact algebraic numbers."""
    a, b = sp.Matrix([1, 2, 0, -1]), sp.Matrix([3, -1, 2, 1])
    h = sp.Matrix([x1, x2, t, 1])
    R = rotation(a, b)
    d.step(r"The explicit matrix, with radicals:", sp.simplify(R))
    d.equal(R.T * R, sp.eye(4), "R^T R = I")
    d.equal(R.det(), 1, "det R = 1")
    d.equal(R * a / a.norm(), b / b.norm(), "R â = b̂")
    d.equal(division_free_rotation(a, b), R, "division-free form = eq. (1)")
    d.equal(rotate(a, b, h), R * h, "rotate(a, b, h) = R h for symbolic h")
    d.equal(rotation(b, a), R.T, "R(b, a) = R(a, b)^T")
