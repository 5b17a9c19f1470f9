r"""Henaff, Szlam & LeCun (2016): why the explicit solutions of the long-memory tasks work.

The copy solution is an LT-RNN :math:`h_t = U x_t + V h_{t-1}` (one-hot inputs, no σ) with
hidden size :math:`2d+1`, :math:`V = \operatorname{blockdiag}(Q, 1)` and the *clock*
:math:`Q = \operatorname{blockdiag}(B(\alpha_1), …, B(\alpha_d))`, where

.. math:: B(\alpha) = \begin{pmatrix} \cos\alpha & \sin\alpha \\ -\sin\alpha & \cos\alpha \end{pmatrix},
    \qquad \alpha_j = \frac{2\pi l_j}{T+S},\ l_j \in \mathbb Z

is the paper's clock block, :math:`B(\alpha) = M(-\alpha) = M(\alpha)^\top` in the project's
convention (``docs/conventions.md``: ``M`` rotates counter-clockwise).

The inputs are S data symbols (codes :math:`u_i`, columns of :math:`\tilde U`), :math:`T-1`
blanks, the delimiter and S blanks; the last row of ``U`` is ``(−1/S, …, −1/S, −1, T+S+1)``
and the decoder scores symbol ``c`` by :math:`u_c^\top \tilde h` and the blank by
:math:`-(S+1)\,h_{2d+1}`.

Theorems (all checks exact):

* ``henaff.rotation_power`` — :math:`B(\alpha)^m = B(m\alpha)` for every integer m (induction).
* ``henaff.clock_period`` — :math:`Q^{T+S} = I` for integer :math:`l_j` (so :math:`V^{T+S} = I`).
* ``henaff.trace`` — the symbol part of the state: :math:`\tilde h_t = \sum_{j \le \min(t,S)} Q^{t-j}
  u_{i_j}`; after S inputs :math:`\sum_j Q^{S-j}u_{i_j}`; at :math:`T+S+k` it is
  :math:`\sum_j Q^{k-j} u_{i_j}`, which at ``k = 1`` is :math:`u_{i_1} + \sum_{j\ge2} Q^{1-j}u_{i_j}`
  (symbolic S, T, t, j, l, by induction on t and coefficient comparison).
* ``henaff.trace_run`` — the same, by running the actual ``U`` and ``V`` with symbolic T, l
  and symbol codes, for S = 1 … 4 (the blank phase is jumped with a proved induction).
* ``henaff.counter`` — the counter :math:`h_{2d+1}` in every phase, the sign of the blank score,
  and that the blank wins every step before the delimiter.
* ``henaff.adding_exact`` — the ReLU solution of the adding problem is exact for all values
  in [0, 1] (case split on the marker), and the LSTM reading of eq. (7).
* ``henaff.gradient_norm`` — in an LT-RNN :math:`\partial h_T/\partial h_t = V^{T-t}`, and when V is
  orthogonal :math:`(V^m)^\top V^m = I`: all singular values are 1.
"""

from __future__ import annotations

import sympy as sp

from orthornn.symbolic import Derivation, theorem


def B(angle: sp.Expr) -> sp.Matrix:
    """The paper's 2×2 clock block ``[[cos, sin], [−sin, cos]]`` (``= M(−angle)`` in conventions.md)."""
    return sp.Matrix([[sp.cos(angle), sp.sin(angle)], [-sp.sin(angle), sp.cos(angle)]])


alpha, theta, x = sp.symbols("alpha theta x", real=True)
m = sp.Symbol("m", integer=True, nonnegative=True)
l = sp.Symbol("l", integer=True)
T, S = sp.symbols("T S", integer=True, positive=True)
t, j, k = sp.symbols("t j k", integer=True, positive=True)


@theorem("henaff.rotation_power", r"B(\alpha)^m = B(m\alpha)\quad (m \in \mathbb Z)")
def rotation_power(d: Derivation) -> None:
    """Powers of a clock block rotate by multiples of its angle."""
    d.step(r"Base case $m = 0$: $B(\alpha)^0 = I = B(0)$", B(0))
    d.equal(B(0 * alpha), sp.eye(2), "B(0) = I")
    d.step(
        r"Inductive step: if $B(\alpha)^m = B(m\alpha)$ then $B(\alpha)^{m+1} = B(m\alpha)B(\alpha)$, "
        r"which is $B((m+1)\alpha)$ by the angle-addition formulas",
        B(m * alpha) * B(alpha),
    )
    d.equal(B(m * alpha) * B(alpha), B(m * alpha + alpha), "B(m a) B(a) = B((m+1) a)")
    d.step(r"Negative powers: $B(\alpha)B(-\alpha) = I$, so $B(\alpha)^{-m} = B(-m\alpha)$", B(alpha) * B(-alpha))
    d.equal(B(alpha) * B(-alpha), sp.eye(2), "B(a) B(-a) = I")
    d.step(r"Blocks compose additively (used throughout): $B(\theta)B(x) = B(\theta + x)$")
    d.equal(B(theta) * B(x), B(theta + x), "B(theta) B(x) = B(theta + x)")


@theorem("henaff.clock_period", r"Q^{T+S} = I \text{ for } \alpha_j = 2\pi l_j/(T+S),\ l_j \in \mathbb Z")
def clock_period(d: Derivation) -> None:
    """The clock returns to the identity after T + S steps."""
    P1, P2, P3, P4 = (sp.Matrix(2, 2, sp.symbols(f"p{i}_1:5")) for i in range(1, 5))
    d.step(
        r"Block-diagonal matrices multiply blockwise, so by induction "
        r"$\operatorname{blockdiag}(Q_1,…,Q_d)^m = \operatorname{blockdiag}(Q_1^m,…,Q_d^m)$",
        sp.diag(P1, P2) * sp.diag(P3, P4),
    )
    d.equal(
        sp.diag(P1, P2) * sp.diag(P3, P4),
        sp.diag(P1 * P3, P2 * P4),
        "blockdiag(P1,P2) blockdiag(P3,P4) = blockdiag(P1 P3, P2 P4)",
    )
    period = T + S
    block_angle = 2 * sp.pi * l / period
    power = period * block_angle
    d.step(r"By henaff.rotation_power, $Q_j^{T+S} = B((T+S)\alpha_j) = B(2\pi l_j)$", power)
    d.equal(power, 2 * sp.pi * l, "(T+S) alpha_j = 2 pi l_j")
    d.step(r"and $B(2\pi l) = I$ for every integer $l$", B(2 * sp.pi * l))
    d.equal(B(2 * sp.pi * l), sp.eye(2), "B(2 pi l) = I")
    d.step(r"A whole turn can be split off any angle: $B(2\pi l + x) = B(x)$", B(2 * sp.pi * l + x))
    d.equal(B(2 * sp.pi * l + x), B(x), "B(2 pi l + x) = B(x)")
    d.step(r"Hence $Q^{T+S} = I$ and $V^{T+S} = \operatorname{blockdiag}(Q^{T+S}, 1^{T+S}) = I$")
    l2 = sp.Symbol("l_2", integer=True)
    d.equal(sp.diag(B(2 * sp.pi * l), B(2 * sp.pi * l2), 1), sp.eye(5), "V^{T+S} = I (two blocks, l_1 and l_2)")


@theorem(
    "henaff.trace",
    r"\tilde h_{T+S+k} = \sum_{j=1}^{S} Q^{k-j} u_{i_j};\ \ \tilde h_{T+S+1} = u_{i_1} + \sum_{j\ge2} Q^{1-j}u_{i_j}",
)
def trace(d: Derivation) -> None:
    r"""The symbol part of the state, for symbolic S, T, l (induction on t, coefficient by coefficient)."""
    a = 2 * sp.pi * l / (T + S)
    d.step(
        r"The symbol part obeys $\tilde h_t = Q\tilde h_{t-1} + [t \le S]\,u_{i_t}$: the blank and delimiter "
        r"columns of $U$ are zero in the first $2d$ rows. Claim: $\tilde h_t = \sum_{j \le \min(t,S)} Q^{t-j}u_{i_j}$. "
        r"Both sides are linear in the codes $u_{i_j}$; compare the coefficient of each (blockwise, "
        r"$Q^{p}$ has blocks $B(p\alpha)$ by henaff.rotation_power)."
    )
    d.step(
        r"Base $t = 0$: the empty sum, $\tilde h_0 = 0$. Step, an old code ($j \le t$): $Q \cdot Q^{t-j} = Q^{t+1-j}$"
    )
    d.equal(B(alpha) * B((t - j) * alpha), B((t - j) * alpha + alpha), "B(a) B((t-j) a) = B((t+1-j) a)")
    d.step(r"Step, the new code $j = t+1 \le S$ enters with coefficient $I = Q^{0} = Q^{(t+1)-j}$")
    d.equal(B((t + 1 - (t + 1)) * a), sp.eye(2), "Q^0 = I")
    d.step(r"So after the S inputs, $\tilde h_S = \sum_{j=1}^S Q^{S-j}u_{i_j}$; at $t = T+S+k$ the coefficient is")
    arg = (T + S + k - j) * a
    d.step(r"$Q^{T+S+k-j}$, whose block angle is a whole number of turns plus $(k-j)\alpha$", arg)
    d.equal(arg, 2 * sp.pi * l + (k - j) * a, "(T+S+k-j) alpha = 2 pi l + (k-j) alpha")
    d.equal(B(2 * sp.pi * l + x).subs(x, (k - j) * a), B((k - j) * a), "Q^{T+S+k-j} = Q^{k-j}")
    d.step(r"At $k = 1$: the first code comes back with coefficient $Q^0 = I$, the others with $Q^{1-j}$")
    d.equal(B((1 - 1) * a), sp.eye(2), "coefficient of u_{i_1} at T+S+1 is I")
    d.step(r"and in general at $k$ the $k$-th code surfaces: coefficient of $u_{i_k}$ is $Q^{k-k} = I$")
    d.equal(B((k - k) * a), sp.eye(2), "coefficient of u_{i_k} at T+S+k is I")


@theorem(
    "henaff.trace_run",
    r"\text{running } U, V \text{ (symbolic } T, l, u\text{) gives } \tilde h_{T+S+k} = \sum_j Q^{k-j}u_{i_j},\ "
    r"h_{2d+1} = S+1-k \quad (S = 1,…,4)",
)
def trace_run(d: Derivation) -> None:
    r"""The actual matrices, run step by step, for S = 1 … 4 with symbolic T, clock integer l and codes."""
    a = sp.Symbol("alpha", real=True)
    s = sp.Symbol("s", integer=True, nonnegative=True)
    c0, y1, y2 = sp.symbols("c_0 y_1 y_2", real=True)
    d.step(
        r"One block ($d = 1$) is no loss: blocks evolve independently. Blank phase lemma: "
        r"$s$ blank inputs take $(\tilde h, c)$ to $(B(s\alpha)\tilde h, c - s)$ — induction on $s$"
    )
    start = sp.Matrix([y1, y2, c0])
    after = sp.Matrix([*(B(s * a) * start[:2, 0]), c0 - s])
    step_ = sp.diag(B(a), 1) * after + sp.Matrix([0, 0, -1])
    d.equal(step_, sp.Matrix([*(B(s * a + a) * start[:2, 0]), c0 - (s + 1)]), "blank phase: one more blank step")
    n_s = sp.Symbol("S", integer=True, positive=True)
    a_clock = 2 * sp.pi * l / (T + n_s)
    d.step(r"The $T - 1$ blanks rotate by $B((T-1)\alpha)$, a whole number of turns minus $(S+1)\alpha$:")
    d.equal((T - 1) * a_clock, 2 * sp.pi * l - (n_s + 1) * a_clock, "(T-1) alpha = 2 pi l - (S+1) alpha")
    d.step(
        r"so by henaff.rotation_power and henaff.clock_period the jump is $R^{-(S+1)} = (R^\top)^{S+1}$ with "
        r"$R = B(\alpha)$. Write $C = \cos\alpha$, $\Sigma = \sin\alpha$: every state is then a polynomial in "
        r"$C, \Sigma$, the codes and $T$, and an identity holds iff the difference lies in the ideal $(C^2 + \Sigma^2 - 1)$"
    )
    C, Sg = sp.symbols("C Sigma", real=True)
    R = sp.Matrix([[C, Sg], [-Sg, C]])
    d.equal(R.T * R - sp.eye(2), (C**2 + Sg**2 - 1) * sp.eye(2), "R^T R - I = (C^2 + Sigma^2 - 1) I")

    def power(p: int) -> sp.Matrix:
        return R**p if p >= 0 else (R.T) ** (-p)

    def mod_circle(e: sp.Expr) -> sp.Expr:
        return sp.reduced(sp.expand(e), [C**2 + Sg**2 - 1], Sg, C)[1]

    V = sp.diag(R, 1)
    for n_sym in range(1, 5):
        codes = [sp.Matrix(sp.symbols(f"u{i}_1:3", real=True)) for i in range(1, n_sym + 1)]
        K = n_sym  # one column per input step: repeated symbols are a special case of distinct codes
        U = sp.zeros(3, K + 2)
        for c in range(K):
            U[:2, c] = codes[c]
            U[2, c] = sp.Rational(-1, n_sym)
        U[2, K] = -1
        U[2, K + 1] = T + n_sym + 1
        h = sp.zeros(3, 1)
        for step_i in range(n_sym):  # the S data inputs
            h = V * h + U[:, step_i]
        h = sp.Matrix([*(power(-(n_sym + 1)) * h[:2, 0]), h[2] - (T - 1)])  # the T - 1 blanks (lemma)
        h = V * h + U[:, K + 1]  # the delimiter
        d.equal(h[2], n_sym + 1, f"S={n_sym}: counter after the delimiter is S+1")
        for kk in range(1, n_sym + 1):  # the S recall steps (blank inputs)
            h = V * h + U[:, K]
            expected = sp.zeros(2, 1)
            for jj in range(1, n_sym + 1):
                expected += power(kk - jj) * codes[jj - 1]
            d.zero((h[:2, 0] - expected).applyfunc(mod_circle), f"S={n_sym}, k={kk}: h~ = sum_j Q^(k-j) u_j")
            d.equal(h[2], n_sym + 1 - kk, f"S={n_sym}, k={kk}: counter = S+1-k")


@theorem(
    "henaff.counter",
    r"h_{2d+1}(t) = -\tfrac tS,\ -(1 + t - S),\ S+1-k;\quad \text{blank wins iff } t < T+S",
)
def counter(d: Derivation) -> None:
    r"""The last unit counts the phases; its blank score is positive exactly before the delimiter."""
    r = sp.Symbol("r", integer=True, nonnegative=True)
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    c_data = -t / S
    d.step(r"Data phase ($1 \le t \le S$): each data input adds $-1/S$, so $h_{2d+1}(t) = -t/S$ (induction)", c_data)
    d.equal(c_data.subs(t, t + 1), c_data - 1 / S, "data step: c(t+1) = c(t) - 1/S")
    d.equal(c_data.subs(t, S), -1, "c(S) = -1")
    c_blank = -(1 + r)
    d.step(r"Blank phase ($t = S + r$, $0 \le r \le T-1$): each blank adds $-1$: $h_{2d+1} = -(1 + r)$", c_blank)
    d.equal(c_blank.subs(r, r + 1), c_blank - 1, "blank step: c -> c - 1")
    d.equal(c_blank.subs(r, T - 1), -T, "c(T+S-1) = -T")
    c_delim = c_blank.subs(r, T - 1) + (T + S + 1)
    d.step(r"Delimiter ($t = T+S$): it adds $T+S+1$", c_delim)
    d.equal(c_delim, S + 1, "c(T+S) = S+1")
    c_recall = S + 1 - kk
    d.step(r"Recall phase ($t = T+S+k$, $0 \le k \le S$): blanks again, $h_{2d+1} = S+1-k \ge 1$", c_recall)
    d.equal(c_recall.subs(kk, kk + 1), c_recall - 1, "recall step: c -> c - 1")
    d.step(
        r"Blank score $-(S+1)h_{2d+1}$: positive in the data and blank phases, negative from the delimiter on "
        r"(write $S = k + q$ with $q \ge 0$ in the recall phase)"
    )
    q = sp.Symbol("q", integer=True, nonnegative=True)
    d.holds(bool(sp.expand(-(S + 1) * c_data).is_positive), "data phase: blank score (S+1)t/S > 0")
    d.holds(bool(sp.expand(-(S + 1) * c_blank).is_positive), "blank phase: blank score (S+1)(1+r) > 0")
    d.holds(bool(sp.expand((S + 1) * c_recall.subs(S, kk + q)).is_positive), "from the delimiter on: blank score < 0")
    d.step(
        r"The blank wins every step before the delimiter: a symbol's score is $|u_c^\top \tilde h_t| \le "
        r"\|\tilde h_t\| \le \min(t, S)$ (unit codes, orthogonal $Q$), the delimiter row scores $0$, and"
    )
    d.holds(bool(sp.expand(-(S + 1) * c_data - t).is_positive), "data phase: (S+1)t/S > t")
    d.holds(bool(sp.expand(-(S + 1) * c_blank - S).is_positive), "blank phase: (S+1)(1+r) > S")


@theorem(
    "henaff.adding_exact",
    r"h_T = \sum_{t=1}^T (v_t + m_t - 1)_+ = v_{j_1} + v_{j_2}\ \ \forall v_t \in [0,1],\ m_t \in \{0,1\}",
)
def adding_exact(d: Derivation) -> None:
    """The one-unit ReLU LT-RNN U = [1 1], b = −1, V = W = 1 adds the two marked values exactly."""
    v = sp.Symbol("v", nonnegative=True)
    w = sp.Symbol("w", nonnegative=True)  # 1 - v, so v <= 1 iff w >= 0
    relu = lambda z: sp.Max(0, z)  # noqa: E731
    d.step(
        r"Claim: $(v + m - 1)_+ = m v$ for $m \in \{0, 1\}$ and $0 \le v \le 1$. Case $m = 0$: write $v = 1 - w$, $w \ge 0$"
    )
    d.equal(relu((1 - w) + 0 - 1), 0 * (1 - w), "m = 0: (v - 1)_+ = 0")
    d.step(r"Case $m = 1$: $(v)_+ = v$ since $v \ge 0$")
    d.equal(relu(v + 1 - 1), 1 * v, "m = 1: (v)_+ = v")
    d.step(r"So $h_t = h_{t-1} + m_t v_t$ and by induction $h_T = \sum_t m_t v_t$; with markers at $j_1 < j_2 \le T$:")
    tt = sp.Symbol("t", integer=True, positive=True)
    j1 = sp.Symbol("j_1", integer=True, positive=True)
    gap, rest = sp.symbols("g r", integer=True, nonnegative=True)
    j2 = j1 + gap + 1
    Tn = j2 + rest
    vals = sp.IndexedBase("v")
    total = sp.Sum((sp.KroneckerDelta(tt, j1) + sp.KroneckerDelta(tt, j2)) * vals[tt], (tt, 1, Tn)).doit()
    d.equal(total, vals[j1] + vals[j2], "sum_t m_t v_t = v_{j1} + v_{j2}")
    h_prev = sp.Symbol("h_prev", real=True)
    d.step(
        r"LSTM reading (eq. 7, no tanh): $c_t = f c_{t-1} + i g$, $f = o = 1$. Gated: $i = m$, $g = v$: $c_t = c_{t-1} + mv$"
    )
    for mv, vv in ((0, 1 - w), (1, v)):
        d.equal(h_prev + mv * vv, h_prev + relu(vv + mv - 1), f"m={mv}: gated LSTM update = LT-RNN update")
    d.step(r"As printed, eq. (7) has $i = v$, $g = (m - 1)_+$, which is $0$ for both markers: the cell adds nothing")
    d.equal(relu(sp.Integer(0) - 1), 0, "printed g at m = 0")
    d.equal(relu(sp.Integer(1) - 1), 0, "printed g at m = 1")


@theorem(
    "henaff.gradient_norm",
    r"\frac{\partial h_T}{\partial h_t} = V^{T-t},\quad V^\top V = I \Rightarrow (V^m)^\top V^m = I",
)
def gradient_norm(d: Derivation) -> None:
    """In an LT-RNN the state Jacobian is a power of V; if V is orthogonal it preserves norms."""
    n = sp.Symbol("n", integer=True, positive=True)
    V2 = sp.Matrix(2, 2, sp.symbols("v1:5", real=True))
    h0 = sp.Matrix(sp.symbols("h1:3", real=True))
    sigma = sp.Function("sigma")
    drive = [sp.Matrix([sigma(sp.Symbol(f"z{s}_1")), sigma(sp.Symbol(f"z{s}_2"))]) for s in range(1, 4)]
    d.step(
        r"$h_t = \sigma(Ux_t + b) + Vh_{t-1}$: $\sigma$ acts on the input only, so $\partial h_t/\partial h_{t-1} = V$"
    )
    h = h0
    for s in range(3):
        h = drive[s] + V2 * h
    d.equal(h.jacobian(h0), V2**3, "chain rule over 3 steps: dh_3/dh_0 = V^3 (generic 2x2 V)")
    P = sp.MatrixSymbol("P", n, n)
    V = sp.MatrixSymbol("V", n, n)
    d.step(r"Orthogonal powers, induction on $m$. Base: $(V^0)^\top V^0 = I$. Step, with $P = V^m$, $P^\top P = I$:")
    expr = ((P * V).T * (P * V)).subs(P.T * P, sp.Identity(n))
    d.step(r"$(PV)^\top(PV) = V^\top (P^\top P) V = V^\top V$", expr)
    d.holds(expr == V.T * V, "(PV)^T (PV) = V^T V given P^T P = I")
    d.holds(expr.subs(V.T * V, sp.Identity(n)) == sp.Identity(n), "= I given V^T V = I")
    d.step(
        r"The singular values of $V^m$ are the square roots of the eigenvalues of $(V^m)^\top V^m = I$: all 1. "
        r"For the clock blocks, directly: $(B^m)^\top B^m = B(m\theta)^\top B(m\theta) = I$"
    )
    d.equal(B(m * theta).T * B(m * theta), sp.eye(2), "B(m theta)^T B(m theta) = I")
