/* Eigen-update of a block-diagonal rotation by a plane rotation (double only; included once by
 * kernels.c, outside the per-type blocks).
 *
 * For each batch row: A = Bd(d) G, Bd(d) block-diagonal with 2x2 blocks M(d_k) on (2k, 2k+1) (a 1
 * on the last coordinate for odd n), G = I + (cos t - 1)(a a^T + w w^T) + sin t (w a^T - a w^T).
 * Output W (orthogonal) and phi in [0, pi] with A = W Bd(phi) W^T, status 0 ok / 1 eigenvalue at
 * or within pi_tol of -1 / 2 numerical failure.
 *
 * Method (RUM §3.2/§5.2 memory in real Schur form; secular equation of a rank-2 unitary update, after
 * Golub 1973 and Bunch-Nielsen-Sorensen 1978).  In the complex coordinates v_k+- = (e_2k -+ i
 * e_2k+1)/sqrt2 the poles are e^{+-i d_k}, the update rows Y_j = (v_j^H y+, v_j^H y-), y+- = (a -+ i
 * w)/sqrt2, and an eigen-angle w that is not a pole solves det(H(w) + kappa sigma) = 0 with
 * H(w) = sum_j cot((w - psi_j)/2) Y_j^H Y_j, kappa = cot(t/2), sigma = diag(-1, 1).  Both eigenvalue
 * branches of H + kappa sigma decrease between poles, so each arc holds at most one root of each
 * branch.  Only the roots in the upper half circle are solved (the real structure gives the
 * conjugates).  Poles closer than SU_TOL are merged and their rank <= 2 part split off by a
 * Householder QR (deflation); poles at 0 and pi are treated in real coordinates.  The root finder
 * fits, as LAPACK dlaed4 does, a rational model with BOTH neighbouring poles (each side's weight
 * matched to its share of the branch derivative), starts from the model at the arc's midpoint,
 * stores the root as an offset from the nearer pole, adds that pole in its own eigenbasis, and is
 * safeguarded by the bracket.  Eigenvectors are Cauchy-like, x_j = (-1/2 - i/2 cot) Y_j c (c the
 * null vector of the 2x2 matrix, orthogonal to its larger row); vectors of close roots are
 * re-orthogonalised in groups (classical Gram-Schmidt, a second pass where needed); a random probe
 * checks W W^T and the reconstruction (status 2). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SU_TOL 1e-13   /* pole merging and deflation */
#define SU_GTOL 1e-2   /* roots closer than this are re-orthogonalised together */
#define SU_MAXIT 64
#define SU_REORTH 1e-8 /* a vector's second Gram-Schmidt pass runs when its first removed more */
/* the a-posteriori probe's bound on |W W^T z - z| and |W Bd(phi) W^T z - A z| (per entry, times
 * sqrt(n)): 1e-11 keeps every generic matrix (errors ~1e-14) and refuses the near-coincident ones
 * whose basis lost more than ~1e-10 of orthogonality (1e-10 let one through at 2.6e-10) */
#define SU_PROBE 1e-11
#ifndef SU_FAIL
#define SU_FAIL 2
#endif
#define SU_PI 3.14159265358979323846
#define SU_R2 0.70710678118654752440

typedef struct {
    double re, im;
} su_cx;

static inline su_cx su_c(double re, double im)
{
    su_cx z = {re, im};
    return z;
}
static inline su_cx su_mul(su_cx a, su_cx b) { return su_c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re); }
static inline su_cx su_cmul(su_cx a, su_cx b) /* conj(a) b */
{
    return su_c(a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re);
}
static inline su_cx su_add(su_cx a, su_cx b) { return su_c(a.re + b.re, a.im + b.im); }
static inline su_cx su_sub(su_cx a, su_cx b) { return su_c(a.re - b.re, a.im - b.im); }
static inline su_cx su_conj(su_cx a) { return su_c(a.re, -a.im); }
static inline su_cx su_sc(su_cx a, double s) { return su_c(a.re * s, a.im * s); }
static inline double su_a2(su_cx a) { return a.re * a.re + a.im * a.im; }

typedef struct {
    double ang, sh, ch;       /* angle psi, sin(psi/2), cos(psi/2) */
    double p11, p22, pr, pim; /* weight P = sum of row^H row (Hermitian 2x2), P12 = pr + i pim */
    double lam[2];            /* eigenvalues of P, lam[0] >= lam[1] (0 for rank 1) */
    su_cx E[2][2];            /* E[a][k]: eigenvectors of P (u = column 0, v = column 1) */
    su_cx row[2][2];          /* effective rows row[i][a], i < rank */
    su_cx re[2][2];           /* rows in E's basis */
    double rnorm;             /* rank 1: |row| */
    int rank, kind, j;        /* kind 0: pole at 0, 1: interior, 2: its mirror, 3: pole at pi */
} su_pole;

typedef struct {
    int nc, r;
    int *idx;  /* planes k (interior) or real coordinates (0, pi) */
    su_cx *B;  /* nc x r basis, column-major; NULL for a singleton interior cluster */
} su_clu;

typedef struct {
    int64_t n, m;
    double kappa;
    int J, h0, hpi, K;
    su_pole *cp;
    su_clu *cup, c0, cpi;
    double *sb, *cb, *p11, *p22, *pr, *pim, *tr, *cotp, *cotm;
    double cot0, cotpi;
    int64_t evals;
} su_ctx;

typedef struct {
    int iL, iR, o, jo, jt; /* arc ends, origin (0 left, 1 right), their pairs (-1 if none) */
    double L, x, g, cotL, cotR, cot_o, e;
    su_cx cr[2], cs[2];
} su_pt;

static inline int su_pair(const su_ctx *C, int i) { return C->cp[i].kind == 1 || C->cp[i].kind == 2 ? C->cp[i].j : -1; }
static inline int su_iup(const su_ctx *C, int j) { return C->J + C->h0 + j; }
static inline int su_imir(const su_ctx *C, int j) { return C->J - 1 - j; }

static void su_setcot(su_ctx *C, int i, double v)
{
    const su_pole *p = &C->cp[i];
    if (p->kind == 1)
        C->cotp[p->j] = v;
    else if (p->kind == 2)
        C->cotm[p->j] = v;
    else if (p->kind == 0)
        C->cot0 = v;
    else
        C->cotpi = v;
}
static double su_getcot(const su_ctx *C, int i)
{
    const su_pole *p = &C->cp[i];
    return p->kind == 1 ? C->cotp[p->j] : p->kind == 2 ? C->cotm[p->j] : p->kind == 0 ? C->cot0 : C->cotpi;
}

/* sum over pairs j0 <= j < j1 of cot P at the point (sin, cos of w/2) = (sa, ca); stores the cots */
static void su_pass1(su_ctx *C, int j0, int j1, double sa, double ca, double *acc)
{
    double m11 = 0, m22 = 0, mr = 0, mi = 0, e = 0;
    const double *restrict sb = C->sb, *restrict cb = C->cb, *restrict p11 = C->p11, *restrict p22 = C->p22;
    const double *restrict pr = C->pr, *restrict pim = C->pim, *restrict tr = C->tr;
    double *restrict cp = C->cotp, *restrict cm = C->cotm;
#pragma omp simd reduction(+ : m11, m22, mr, mi, e)
    for (int j = j0; j < j1; ++j) {
        double s1 = sa * cb[j], s2 = ca * sb[j], c1 = ca * cb[j], c2 = sa * sb[j];
        double dp = s1 - s2, dm = s1 + s2;
        double inv = 1.0 / (dp * dm);
        double tp = (c1 + c2) * dm * inv, tm = (c1 - c2) * dp * inv;
        cp[j] = tp;
        cm[j] = tm;
        m11 += tp * p11[j] + tm * p22[j];
        m22 += tp * p22[j] + tm * p11[j];
        mr += (tp + tm) * pr[j];
        mi += (tp + tm) * pim[j];
        e += (fabs(tp) + fabs(tm)) * tr[j];
    }
    acc[0] += m11, acc[1] += m22, acc[2] += mr, acc[3] += mi, acc[4] += e;
}

/* derivative shares: sum (1 + cot^2) c^H P c, split by the side (sign of cot) */
static void su_pass2(const su_ctx *C, int j0, int j1, double al, double be, double gr, double gi, double *acc)
{
    double dl = 0, dr = 0;
    const double *restrict p11 = C->p11, *restrict p22 = C->p22, *restrict pr = C->pr, *restrict pim = C->pim;
    const double *restrict cp = C->cotp, *restrict cm = C->cotm;
#pragma omp simd reduction(+ : dl, dr)
    for (int j = j0; j < j1; ++j) {
        double cross = 2 * (gr * pr[j] - gi * pim[j]);
        double wp = al * p11[j] + be * p22[j] + cross, wm = al * p22[j] + be * p11[j] + cross;
        double tp = cp[j], tm = cm[j];
        double dp = (1 + tp * tp) * wp, dm = (1 + tm * tm) * wm;
        dl += (tp > 0 ? dp : 0) + (tm > 0 ? dm : 0);
        dr += (tp > 0 ? 0 : dp) + (tm > 0 ? 0 : dm);
    }
    acc[0] += dl, acc[1] += dr;
}

static inline void su_addP(double *acc, double c, const su_pole *p)
{
    acc[0] += c * p->p11, acc[1] += c * p->p22, acc[2] += c * p->pr, acc[3] += c * p->pim;
    acc[4] += fabs(c) * (p->p11 + p->p22);
}
static inline double su_gcot(const su_pole *p, double sa, double ca)
{
    return (ca * p->ch + sa * p->sh) / (sa * p->ch - ca * p->sh);
}

/* pass 1 over every pole except the pairs ex0, ex1 (done one by one; skip is not added, forced
 * has the value fval instead of the generic cot) */
static void su_sumall(su_ctx *C, int ex0, int ex1, double sa, double ca, int skip, int forced, double fval,
                      double *acc)
{
    int a = ex0 < ex1 ? ex0 : ex1, b = ex0 < ex1 ? ex1 : ex0;
    if (a < 0)
        a = b, b = -1;
    if (a < 0)
        su_pass1(C, 0, C->J, sa, ca, acc);
    else if (b < 0 || b == a) {
        su_pass1(C, 0, a, sa, ca, acc);
        su_pass1(C, a + 1, C->J, sa, ca, acc);
        b = -1;
    } else {
        su_pass1(C, 0, a, sa, ca, acc);
        su_pass1(C, a + 1, b, sa, ca, acc);
        su_pass1(C, b + 1, C->J, sa, ca, acc);
    }
    int list[6], nl = 0;
    if (a >= 0)
        list[nl++] = su_iup(C, a), list[nl++] = su_imir(C, a);
    if (b >= 0)
        list[nl++] = su_iup(C, b), list[nl++] = su_imir(C, b);
    if (C->h0)
        list[nl++] = C->J;
    if (C->hpi)
        list[nl++] = C->K - 1;
    for (int t = 0; t < nl; ++t) {
        int i = list[t];
        if (i == skip)
            continue;
        double c = i == forced ? fval : su_gcot(&C->cp[i], sa, ca);
        su_setcot(C, i, c);
        su_addP(acc, c, &C->cp[i]);
    }
}

/* M = acc + kappa sigma in the basis E of pole po, plus cot_o diag(lam) */
static void su_rot(const su_ctx *C, const double *acc, const su_pole *po, double cot_o, double *p, double *s,
                   su_cx *q)
{
    double m11 = acc[0] - C->kappa, m22 = acc[1] + C->kappa;
    su_cx m12 = su_c(acc[2], acc[3]);
    su_cx u0 = po->E[0][0], u1 = po->E[1][0], v0 = po->E[0][1], v1 = po->E[1][1];
    /* M u, M v */
    su_cx Mu0 = su_add(su_sc(u0, m11), su_mul(m12, u1)), Mu1 = su_add(su_mul(su_conj(m12), u0), su_sc(u1, m22));
    su_cx Mv0 = su_add(su_sc(v0, m11), su_mul(m12, v1)), Mv1 = su_add(su_mul(su_conj(m12), v0), su_sc(v1, m22));
    *p = su_add(su_cmul(u0, Mu0), su_cmul(u1, Mu1)).re + cot_o * po->lam[0];
    *s = su_add(su_cmul(v0, Mv0), su_cmul(v1, Mv1)).re + cot_o * po->lam[1];
    *q = su_add(su_cmul(u0, Mv0), su_cmul(u1, Mv1));
}

/* branch value of the Hermitian [[p, q], [q*, s]] and its unit null vector c (orthogonal to the larger row) */
static double su_branch(double p, double s, su_cx q, int br, su_cx *c)
{
    double mid = 0.5 * (p + s), half = 0.5 * (p - s), aq = sqrt(su_a2(q));
    double rad = hypot(half, aq), det = p * s - aq * aq, g;
    double bp = mid + rad, bn = mid - rad;
    if (mid >= 0)
        g = br == 0 ? (bp != 0 ? det / bp : 0) : bp;
    else
        g = br == 0 ? bn : (bn != 0 ? det / bn : 0);
    double r0 = fabs(p - g) + aq, r1 = aq + fabs(s - g);
    su_cx c0, c1;
    if (r0 >= r1)
        c0 = su_c(-q.re, -q.im), c1 = su_c(p - g, 0);
    else
        c0 = su_c(-(s - g), 0), c1 = su_conj(q);
    double nn = sqrt(su_a2(c0) + su_a2(c1));
    if (nn > 0)
        c[0] = su_sc(c0, 1 / nn), c[1] = su_sc(c1, 1 / nn);
    else
        c[0] = su_c(1, 0), c[1] = su_c(0, 0);
    return g;
}

/* evaluate the branch at offset P->x from the origin; with deriv, the model's derivative shares */
static void su_eval(su_ctx *C, su_pt *P, int br, int deriv, double *dLR)
{
    const su_pole *po = &C->cp[P->o ? P->iR : P->iL];
    int io = P->o ? P->iR : P->iL, it = P->o ? P->iL : P->iR, single = P->iL == P->iR;
    double sx = sin(0.5 * P->x), cx = cos(0.5 * P->x), sa, ca, cot_o, cot_t = 0;
    if (P->o == 0)
        sa = po->sh * cx + po->ch * sx, ca = po->ch * cx - po->sh * sx, cot_o = cx / sx;
    else
        sa = po->sh * cx - po->ch * sx, ca = po->ch * cx + po->sh * sx, cot_o = -cx / sx;
    if (!single) {
        double y = 0.5 * (P->L - P->x);
        cot_t = cos(y) / sin(y);
        if (P->o == 0)
            cot_t = -cot_t;
    }
    double acc[5] = {0, 0, 0, 0, 0};
    su_sumall(C, P->jo, single ? -1 : P->jt, sa, ca, io, single ? -1 : it, cot_t, acc);
    su_setcot(C, io, cot_o);
    P->cot_o = cot_o;
    P->cotL = P->o == 0 ? cot_o : (single ? cot_o : cot_t);
    P->cotR = P->o == 1 ? cot_o : (single ? cot_o : cot_t);
    double p, s;
    su_cx q;
    su_rot(C, acc, po, cot_o, &p, &s, &q);
    P->g = su_branch(p, s, q, br, P->cr);
    P->cs[0] = su_add(su_mul(po->E[0][0], P->cr[0]), su_mul(po->E[0][1], P->cr[1]));
    P->cs[1] = su_add(su_mul(po->E[1][0], P->cr[0]), su_mul(po->E[1][1], P->cr[1]));
    double rest = acc[4] + fabs(C->kappa), big = fabs(cot_o) * po->lam[0];
    P->e = rest + fabs(cot_o) * po->lam[1] + (big < rest ? big : rest);
    C->evals++;
    (void)deriv, (void)dLR;
}

/* the model's derivative shares at the point of the last su_eval */
static void su_deriv(su_ctx *C, su_pt *P, double *dLR)
{
    int io = P->o ? P->iR : P->iL;
    const su_pole *po = &C->cp[io];
    double al = su_a2(P->cs[0]), be = su_a2(P->cs[1]);
    su_cx gm = su_cmul(P->cs[0], P->cs[1]);
    double d2[2] = {0, 0};
    int jo = P->jo;
    if (jo < 0)
        su_pass2(C, 0, C->J, al, be, gm.re, gm.im, d2);
    else {
        su_pass2(C, 0, jo, al, be, gm.re, gm.im, d2);
        su_pass2(C, jo + 1, C->J, al, be, gm.re, gm.im, d2);
    }
    int list[4], nl = 0;
    if (jo >= 0)
        list[nl++] = su_iup(C, jo), list[nl++] = su_imir(C, jo);
    if (C->h0)
        list[nl++] = C->J;
    if (C->hpi)
        list[nl++] = C->K - 1;
    for (int t = 0; t < nl; ++t) {
        int i = list[t];
        const su_pole *pp = &C->cp[i];
        double c = su_getcot(C, i), wq;
        if (i == io)
            wq = po->lam[0] * su_a2(P->cr[0]) + po->lam[1] * su_a2(P->cr[1]);
        else
            wq = al * pp->p11 + be * pp->p22 + 2 * (gm.re * pp->pr - gm.im * pp->pim);
        double dd = (1 + c * c) * wq;
        if (c > 0)
            d2[0] += dd;
        else
            d2[1] += dd;
    }
    dLR[0] = d2[0], dLR[1] = d2[1];
}

/* zero in the origin variable of A' + b_o cot(x/2) - b_t cot((L - x)/2) */
static double su_model(double A, double bo, double bt, double L)
{
    double sL = sin(0.5 * L), cL = cos(0.5 * L);
    double a2 = bo * sL, a1 = A * sL - (bo + bt) * cL, a0 = -(A * cL + bt * sL), X;
    if (a2 > 0) {
        double D = a1 * a1 - 4 * a2 * a0;
        D = D > 0 ? sqrt(D) : 0;
        X = a1 <= 0 ? (-a1 + D) / (2 * a2) : 2 * a0 / (-a1 - D);
    } else
        X = a1 != 0 ? -a0 / a1 : 0;
    return 2 * atan2(1.0, X);
}

/* root of branch br in the arc (iL, iR) of length L, within t in [tlo, thi]; returns 0 ok */
static int su_solve(su_ctx *C, int iL, int iR, double L, int br, double tlo, double thi, su_pt *P)
{
    const double eps = 2.220446049250313e-16;
    P->iL = iL, P->iR = iR, P->L = L;
    int jl = su_pair(C, iL), jr = su_pair(C, iR);
    double dLR[2];
    double tm = 0.5 * (tlo + thi);
    P->o = tm <= 0.5 * L ? 0 : 1;
    P->jo = P->o ? jr : jl, P->jt = P->o ? jl : jr;
    P->x = P->o ? L - tm : tm;
    su_eval(C, P, br, 1, dLR);
    su_deriv(C, P, dLR);
    if (P->g > 0)
        tlo = tm;
    else
        thi = tm;
    double A = P->g - dLR[0] / (1 + P->cotL * P->cotL) * P->cotL - dLR[1] / (1 + P->cotR * P->cotR) * P->cotR;
    double bL = dLR[0] / (1 + P->cotL * P->cotL), bR = dLR[1] / (1 + P->cotR * P->cotR);
    int o = 0.5 * (tlo + thi) <= 0.5 * L ? 0 : 1;
    double lo = o ? L - thi : tlo, hi = o ? L - tlo : thi;
    double xn = o ? su_model(-A, bR, bL, L) : su_model(A, bL, bR, L);
    P->o = o, P->jo = o ? jr : jl, P->jt = o ? jl : jr;
    for (int it = 0; it < SU_MAXIT; ++it) {
        if (!(xn > lo && xn < hi))
            xn = (lo > 0 && hi > 64 * lo) ? sqrt(lo * hi) : 0.5 * (lo + hi);
        P->x = xn;
        su_eval(C, P, br, 0, dLR);
        double go = o ? -P->g : P->g;
        if (fabs(P->g) <= 2 * eps * P->e || hi - lo <= 4 * eps * hi)
            return 0;
        if (go > 0)
            lo = xn;
        else
            hi = xn;
        su_deriv(C, P, dLR);
        bL = dLR[0] / (1 + P->cotL * P->cotL), bR = dLR[1] / (1 + P->cotR * P->cotR);
        A = P->g - bL * P->cotL - bR * P->cotR;
        double xx = o ? su_model(-A, bR, bL, L) : su_model(A, bL, bR, L);
        if (fabs(xx - xn) <= (it < 8 ? 4 : 64) * eps * xn)
            return 0; /* later: rounding noise in the branch, not the model, sets the step */
        xn = xx;
    }
    return 1;
}

/* the eigenvector at the current cots: coef of basis vector i of pole q is f_q (row_i c), except
 * the pole io whose coefficients are given; writes the complex vector (fr, fi) in real coordinates */
static void su_vector(const su_ctx *C, const su_cx *cs, int io, const su_cx *ocoef, double *fr, double *fi)
{
    int64_t n = C->n;
    memset(fr, 0, n * sizeof(double));
    memset(fi, 0, n * sizeof(double));
    for (int j = 0; j < C->J; ++j) {
        const su_clu *cl = &C->cup[j];
        int iu = su_iup(C, j), im = su_imir(C, j);
        const su_pole *pu = &C->cp[iu], *pm = &C->cp[im];
        double cp = C->cotp[j], cm = C->cotm[j];
        su_cx fp = su_c(-0.5, -0.5 * cp), fm = su_c(-0.5, -0.5 * cm), kp[2], km[2];
        for (int i = 0; i < pu->rank; ++i) {
            kp[i] = iu == io ? ocoef[i] : su_mul(fp, su_add(su_mul(pu->row[i][0], cs[0]), su_mul(pu->row[i][1], cs[1])));
            km[i] = im == io ? ocoef[i] : su_mul(fm, su_add(su_mul(pm->row[i][0], cs[0]), su_mul(pm->row[i][1], cs[1])));
        }
        for (int l = 0; l < cl->nc; ++l) {
            su_cx xp, xm;
            if (!cl->B)
                xp = kp[0], xm = km[0];
            else {
                xp = su_c(0, 0), xm = su_c(0, 0);
                for (int i = 0; i < cl->r; ++i) {
                    su_cx b = cl->B[i * cl->nc + l];
                    xp = su_add(xp, su_mul(b, kp[i]));
                    xm = su_add(xm, su_mul(su_conj(b), km[i]));
                }
            }
            int k = cl->idx[l];
            fr[2 * k] = SU_R2 * (xp.re + xm.re), fi[2 * k] = SU_R2 * (xp.im + xm.im);
            /* -i (xp - xm) / sqrt2 */
            fr[2 * k + 1] = SU_R2 * (xp.im - xm.im), fi[2 * k + 1] = -SU_R2 * (xp.re - xm.re);
        }
    }
    for (int h = 0; h < 2; ++h) {
        if (h == 0 ? !C->h0 : !C->hpi)
            continue;
        int i = h == 0 ? C->J : C->K - 1;
        const su_pole *pp = &C->cp[i];
        const su_clu *cl = h == 0 ? &C->c0 : &C->cpi;
        double c = h == 0 ? C->cot0 : C->cotpi;
        su_cx f = su_c(-0.5, -0.5 * c), kk[2];
        for (int r = 0; r < pp->rank; ++r)
            kk[r] = i == io ? ocoef[r] : su_mul(f, su_add(su_mul(pp->row[r][0], cs[0]), su_mul(pp->row[r][1], cs[1])));
        for (int l = 0; l < cl->nc; ++l) {
            su_cx x = su_c(0, 0);
            for (int r = 0; r < pp->rank; ++r)
                x = su_add(x, su_mul(cl->B[r * cl->nc + l], kk[r]));
            fr[cl->idx[l]] += x.re, fi[cl->idx[l]] += x.im;
        }
    }
}

/* Householder QR with column pivoting of the nc x 2 matrix Y: Q (nc x nc, column-major), rank, R rows */
static int su_qr2(int nc, const su_cx *Y, double tol, su_cx *Q, su_cx R[2][2], su_cx *wk)
{
    const su_cx *y0 = Y, *y1 = Y + nc;
    double n0 = 0, n1 = 0;
    for (int i = 0; i < nc; ++i)
        n0 += su_a2(y0[i]), n1 += su_a2(y1[i]);
    int sw = n1 > n0;
    su_cx *v = wk, *y = wk + nc, *v2 = wk + 2 * nc;
    for (int i = 0; i < nc; ++i)
        v[i] = sw ? y1[i] : y0[i], y[i] = sw ? y0[i] : y1[i];
    memset(Q, 0, (size_t)nc * nc * sizeof(su_cx));
    for (int i = 0; i < nc; ++i)
        Q[i * nc + i] = su_c(1, 0);
    R[0][0] = R[0][1] = R[1][0] = R[1][1] = su_c(0, 0);
    double alpha = sqrt(sw ? n1 : n0);
    if (!(alpha > tol))
        return 0;
    double ax = sqrt(su_a2(v[0]));
    su_cx ph = ax > 0 ? su_sc(v[0], 1 / ax) : su_c(1, 0), beta = su_sc(ph, -alpha);
    v[0] = su_sub(v[0], beta);
    double h1 = 1 / (alpha * (alpha + ax)); /* 2 / |v|^2 */
    su_cx t = su_c(0, 0);
    for (int i = 0; i < nc; ++i)
        t = su_add(t, su_cmul(v[i], y[i]));
    t = su_sc(t, h1);
    for (int i = 0; i < nc; ++i)
        y[i] = su_sub(y[i], su_mul(v[i], t));
    su_cx r00 = beta, r01 = y[0], r11 = su_c(0, 0);
    double n22 = 0;
    for (int i = 1; i < nc; ++i)
        n22 += su_a2(y[i]);
    n22 = sqrt(n22);
    int rank = n22 > tol ? 2 : 1;
    double h2 = 0;
    if (rank == 2) {
        double az = sqrt(su_a2(y[1]));
        su_cx p2 = az > 0 ? su_sc(y[1], 1 / az) : su_c(1, 0), b2 = su_sc(p2, -n22);
        for (int i = 1; i < nc; ++i)
            v2[i] = y[i];
        v2[1] = su_sub(v2[1], b2);
        h2 = 1 / (n22 * (n22 + az));
        r11 = b2;
    }
    for (int k = 0; k < nc; ++k) {
        su_cx *q = Q + (size_t)k * nc;
        if (rank == 2) {
            su_cx s = su_c(0, 0);
            for (int i = 1; i < nc; ++i)
                s = su_add(s, su_cmul(v2[i], q[i]));
            s = su_sc(s, h2);
            for (int i = 1; i < nc; ++i)
                q[i] = su_sub(q[i], su_mul(v2[i], s));
        }
        su_cx s = su_c(0, 0);
        for (int i = 0; i < nc; ++i)
            s = su_add(s, su_cmul(v[i], q[i]));
        s = su_sc(s, h1);
        for (int i = 0; i < nc; ++i)
            q[i] = su_sub(q[i], su_mul(v[i], s));
    }
    /* Q is Hermitian (H1 H2 with H's Hermitian): Q e_k computed; R = Q^H Y in pivot order */
    R[0][sw] = r00, R[0][1 - sw] = r01, R[1][sw] = su_c(0, 0), R[1][1 - sw] = r11;
    return rank;
}

/* fill the pole's P, E, lam, re from its rows */
static void su_finish_pole(su_pole *p)
{
    p->p11 = p->p22 = p->pr = p->pim = 0;
    for (int i = 0; i < p->rank; ++i) {
        p->p11 += su_a2(p->row[i][0]), p->p22 += su_a2(p->row[i][1]);
        su_cx x = su_cmul(p->row[i][0], p->row[i][1]);
        p->pr += x.re, p->pim += x.im;
    }
    if (p->rank == 1) {
        double r = sqrt(su_a2(p->row[0][0]) + su_a2(p->row[0][1]));
        p->rnorm = r;
        su_cx u0 = su_sc(su_conj(p->row[0][0]), 1 / r), u1 = su_sc(su_conj(p->row[0][1]), 1 / r);
        p->E[0][0] = u0, p->E[1][0] = u1, p->E[0][1] = su_c(-u1.re, u1.im), p->E[1][1] = su_conj(u0);
        p->lam[0] = r * r, p->lam[1] = 0;
        p->re[0][0] = su_c(r, 0), p->re[0][1] = su_c(0, 0);
        return;
    }
    double mid = 0.5 * (p->p11 + p->p22), half = 0.5 * (p->p11 - p->p22);
    su_cx q = su_c(p->pr, p->pim);
    double rad = hypot(half, sqrt(su_a2(q)));
    double l1 = mid + rad, l2 = (p->p11 * p->p22 - su_a2(q)) / l1;
    su_cx e0, e1;
    if (su_a2(q) == 0) {
        e0 = p->p11 >= p->p22 ? su_c(1, 0) : su_c(0, 0);
        e1 = p->p11 >= p->p22 ? su_c(0, 0) : su_c(1, 0);
    } else {
        su_cx a0 = q, a1 = su_c(l1 - p->p11, 0), b0 = su_c(l1 - p->p22, 0), b1 = su_conj(q);
        if (su_a2(a0) + su_a2(a1) >= su_a2(b0) + su_a2(b1))
            e0 = a0, e1 = a1;
        else
            e0 = b0, e1 = b1;
        double nn = 1 / sqrt(su_a2(e0) + su_a2(e1));
        e0 = su_sc(e0, nn), e1 = su_sc(e1, nn);
    }
    p->E[0][0] = e0, p->E[1][0] = e1, p->E[0][1] = su_c(-e1.re, e1.im), p->E[1][1] = su_conj(e0);
    p->lam[0] = l1, p->lam[1] = l2;
    p->rnorm = sqrt(l1);
    for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 2; ++k)
            p->re[i][k] = su_add(su_mul(p->row[i][0], p->E[0][k]), su_mul(p->row[i][1], p->E[1][k]));
}

static void su_mirror(const su_pole *u, su_pole *m)
{
    *m = *u;
    m->ang = -u->ang, m->sh = -u->sh, m->kind = 2;
    m->p11 = u->p22, m->p22 = u->p11;
    for (int k = 0; k < 2; ++k)
        m->E[0][k] = su_conj(u->E[1][k]), m->E[1][k] = su_conj(u->E[0][k]);
    for (int i = 0; i < 2; ++i) {
        m->row[i][0] = su_conj(u->row[i][1]), m->row[i][1] = su_conj(u->row[i][0]);
        m->re[i][0] = su_conj(u->re[i][0]), m->re[i][1] = su_conj(u->re[i][1]);
    }
}

typedef struct {
    double d;
    int k;
} su_dk;
static int su_cmp(const void *a, const void *b)
{
    double x = ((const su_dk *)a)->d, y = ((const su_dk *)b)->d;
    return x < y ? -1 : x > y ? 1 : 0;
}
typedef struct {
    double ang;
    int row, cnt;
} su_item;
static int su_icmp(const void *a, const void *b)
{
    double x = ((const su_item *)a)->ang, y = ((const su_item *)b)->ang;
    return x < y ? -1 : x > y ? 1 : 0;
}

static inline double su_dot(const double *a, const double *b, int64_t n)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}
static inline void su_axpy(double *y, double al, const double *x, int64_t n)
{
#pragma omp simd
    for (int64_t i = 0; i < n; ++i)
        y[i] += al * x[i];
}
static int su_normalize(double *x, int64_t n)
{
    double s = sqrt(su_dot(x, x, n));
    if (!(s > 0.5 && s < 2))
        return 1;
    for (int64_t i = 0; i < n; ++i)
        x[i] /= s;
    return 0;
}

typedef struct {
    su_pole *cp, *up;
    su_clu *cup;
    int *idx;
    su_cx *pool, *Y, *Q, *wk;
    double *arr, *Wt, *fr, *fi, *z, *y, *y2;
    su_item *items;
    su_dk *dk;
} su_ws;

/* Classical Gram-Schmidt with a second pass ("twice is enough", Giraud et al. 2005) over the rows
 * of Wt of the items g0 <= t < g1 (a group of close roots), in order: each vector's projections on
 * the vectors before it are independent dot products (no chain through the vector, unlike modified
 * Gram-Schmidt), and its second pass runs only when the first removed more than SU_REORTH (the
 * vectors are then far from orthogonal).  Returns 1 if a vector collapses. */
static int su_orthogonalise(su_ws *ws, int g0, int g1, int64_t n)
{
    double *rows[1000], *dots = ws->arr; /* n <= 1000 (spectral_update_f64); arr is free here */
    int r = 0;
    for (int t = g0; t < g1; ++t)
        for (int c = 0; c < ws->items[t].cnt; ++c)
            rows[r++] = ws->Wt + (ws->items[t].row + c) * n;
    for (int i = 0; i < r; ++i) {
        double *v = rows[i];
        for (int pass = 0; pass < 2 && i > 0; ++pass) {
            double removed = 0;
            int j = 0;
            for (; j + 4 <= i; j += 4) { /* four dot products at once: four independent chains */
                const double *u0 = rows[j], *u1 = rows[j + 1], *u2 = rows[j + 2], *u3 = rows[j + 3];
                double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
                for (int64_t e = 0; e < n; ++e)
                    a0 += u0[e] * v[e], a1 += u1[e] * v[e], a2 += u2[e] * v[e], a3 += u3[e] * v[e];
                dots[j] = a0, dots[j + 1] = a1, dots[j + 2] = a2, dots[j + 3] = a3;
            }
            for (; j < i; ++j)
                dots[j] = su_dot(rows[j], v, n);
            for (j = 0; j < i; ++j)
                removed = fmax(removed, fabs(dots[j]));
            int64_t e = 0;
            for (; e + 16 <= n; e += 16) { /* v -= sum_j dots_j u_j, sixteen entries (four chains) at a time */
                double acc[16] = {0};
                for (int q = 0; q < i; ++q) {
                    const double *u = rows[q] + e, dj = dots[q];
#pragma omp simd
                    for (int l = 0; l < 16; ++l)
                        acc[l] += dj * u[l];
                }
                for (int l = 0; l < 16; ++l)
                    v[e + l] -= acc[l];
            }
            for (; e < n; ++e) {
                double acc = 0;
                for (j = 0; j < i; ++j)
                    acc += dots[j] * rows[j][e];
                v[e] -= acc;
            }
            if (removed <= SU_REORTH)
                break;
        }
        if (su_normalize(v, n))
            return 1;
    }
    return 0;
}

/* one matrix: returns the status */
static int su_one(su_ctx *C, su_ws *ws, const double *d, const double *a, const double *w, double theta,
                  double pi_tol, double *W, double *phi)
{
    int64_t n = C->n, m = n / 2;
    double *Wt = ws->Wt;
    for (int64_t i = 0; i < n; ++i)
        if (!isfinite(a[i]) || !isfinite(w[i]))
            return SU_FAIL;
    for (int64_t k = 0; k < m; ++k)
        if (!isfinite(d[k]))
            return SU_FAIL;
    if (!isfinite(theta))
        return SU_FAIL;
    if (theta == 0) {
        memset(W, 0, n * n * sizeof(double));
        for (int64_t i = 0; i < n; ++i)
            W[i * n + i] = 1;
        int st = 0;
        for (int64_t k = 0; k < m; ++k)
            phi[k] = d[k], st |= d[k] >= SU_PI - pi_tol;
        return st;
    }
    C->kappa = cos(0.5 * theta) / sin(0.5 * theta);
    memset(Wt, 0, n * n * sizeof(double));
    int top = 0, bot = (int)n; /* planes fill rows from the top, eigenvalue-1 vectors from the bottom */
    int nitem = 0;
    for (int64_t k = 0; k < m; ++k)
        ws->dk[k].d = d[k], ws->dk[k].k = (int)k;
    qsort(ws->dk, m, sizeof(su_dk), su_cmp);
    /* clusters */
    int *idx = ws->idx, nidx = 0, J = 0;
    su_cx *pool = ws->pool;
    int npool = 0;
    C->h0 = C->hpi = 0;
    C->c0.nc = 0;
    int64_t s = 0;
    while (s < m || (s == m && !C->h0 && (n & 1))) {
        int64_t e = s;
        if (s < m)
            while (e + 1 < m && ws->dk[e + 1].d - ws->dk[e].d <= SU_TOL)
                ++e;
        int zero = (s == m) || (s == 0 && ws->dk[0].d <= SU_TOL);
        int pi = !zero && ws->dk[e].d >= SU_PI - SU_TOL;
        int nplanes = s < m ? (int)(e - s + 1) : 0;
        if (zero || pi) {
            /* real coordinates */
            su_clu *cl = zero ? &C->c0 : &C->cpi;
            int nc = 0;
            cl->idx = idx + nidx;
            for (int l = 0; l < nplanes; ++l)
                cl->idx[nc++] = 2 * ws->dk[s + l].k, cl->idx[nc++] = 2 * ws->dk[s + l].k + 1;
            if (zero && (n & 1))
                cl->idx[nc++] = (int)n - 1;
            nidx += nc;
            for (int l = 0; l < nc; ++l)
                ws->Y[l] = su_c(a[cl->idx[l]], 0), ws->Y[nc + l] = su_c(w[cl->idx[l]], 0);
            su_cx R[2][2];
            int r = su_qr2(nc, ws->Y, SU_TOL, ws->Q, R, ws->wk);
            cl->nc = nc, cl->r = r;
            if (pi && r < nc)
                return 1;
            if (zero)
                for (int k = r; k < nc; ++k) {
                    --bot;
                    if (bot < top)
                        return SU_FAIL;
                    for (int l = 0; l < nc; ++l)
                        Wt[bot * n + cl->idx[l]] = ws->Q[(size_t)k * nc + l].re;
                }
            cl->B = pool + npool;
            memcpy(cl->B, ws->Q, (size_t)r * nc * sizeof(su_cx));
            npool += r * nc;
            if (r) {
                su_pole *p = zero ? &ws->up[m] : &ws->up[m + 1];
                memset(p, 0, sizeof(*p));
                p->rank = r, p->kind = zero ? 0 : 3;
                p->ang = zero ? 0 : SU_PI, p->sh = zero ? 0 : 1, p->ch = zero ? 1 : 0;
                for (int i = 0; i < r; ++i) { /* rows R T, T = [[1, 1], [-i, i]] / sqrt2 */
                    su_cx r0 = R[i][0], r1 = R[i][1];
                    p->row[i][0] = su_sc(su_c(r0.re + r1.im, r0.im - r1.re), SU_R2);
                    p->row[i][1] = su_sc(su_c(r0.re - r1.im, r0.im + r1.re), SU_R2);
                }
                su_finish_pole(p);
                if (zero)
                    C->h0 = 1;
                else
                    C->hpi = 1;
            }
        } else {
            su_clu *cl = &ws->cup[J];
            double ang = 0;
            cl->idx = idx + nidx;
            for (int l = 0; l < nplanes; ++l)
                cl->idx[l] = ws->dk[s + l].k, ang += ws->dk[s + l].d;
            ang /= nplanes;
            nidx += nplanes;
            cl->nc = nplanes;
            su_pole *p = &ws->up[J];
            memset(p, 0, sizeof(*p));
            for (int l = 0; l < nplanes; ++l) {
                int k = cl->idx[l];
                double a0 = a[2 * k], a1 = a[2 * k + 1], b0 = w[2 * k], b1 = w[2 * k + 1];
                ws->Y[l] = su_c(0.5 * (a0 + b1), 0.5 * (a1 - b0));
                ws->Y[nplanes + l] = su_c(0.5 * (a0 - b1), 0.5 * (a1 + b0));
            }
            int r;
            if (nplanes == 1) {
                r = su_a2(ws->Y[0]) + su_a2(ws->Y[1]) > SU_TOL * SU_TOL ? 1 : 0;
                cl->B = NULL;
                p->row[0][0] = ws->Y[0], p->row[0][1] = ws->Y[1];
                ws->Q[0] = su_c(1, 0);
            } else {
                su_cx R[2][2];
                r = su_qr2(nplanes, ws->Y, SU_TOL, ws->Q, R, ws->wk);
                for (int i = 0; i < r; ++i)
                    p->row[i][0] = R[i][0], p->row[i][1] = R[i][1];
                cl->B = pool + npool;
                memcpy(cl->B, ws->Q, (size_t)r * nplanes * sizeof(su_cx));
                npool += r * nplanes;
            }
            cl->r = r;
            for (int k = r; k < nplanes; ++k) { /* deflated planes, angle ang */
                if (top + 2 > bot)
                    return SU_FAIL;
                for (int l = 0; l < nplanes; ++l) {
                    su_cx u = ws->Q[(size_t)k * nplanes + l];
                    int pk = cl->idx[l];
                    Wt[top * n + 2 * pk] = u.re, Wt[top * n + 2 * pk + 1] = u.im;
                    Wt[(top + 1) * n + 2 * pk] = -u.im, Wt[(top + 1) * n + 2 * pk + 1] = u.re;
                }
                phi[top / 2] = ang;
                top += 2;
            }
            if (r) {
                p->rank = r, p->kind = 1, p->j = J, p->ang = ang;
                p->sh = sin(0.5 * ang), p->ch = cos(0.5 * ang);
                su_finish_pole(p);
                ++J;
            }
        }
        s = e + 1;
    }
    if (C->hpi && ws->up[m + 1].rank == 1)
        return 1; /* forced root at -1 */
    /* circle */
    C->J = J, C->K = 2 * J + C->h0 + C->hpi;
    su_pole *cp = ws->cp;
    C->cp = cp, C->cup = ws->cup;
    for (int j = 0; j < J; ++j) {
        ws->up[j].j = j;
        cp[C->J + C->h0 + j] = ws->up[j];
        su_mirror(&ws->up[j], &cp[C->J - 1 - j]);
        C->sb[j] = ws->up[j].sh, C->cb[j] = ws->up[j].ch;
        C->p11[j] = ws->up[j].p11, C->p22[j] = ws->up[j].p22, C->pr[j] = ws->up[j].pr, C->pim[j] = ws->up[j].pim;
        C->tr[j] = ws->up[j].p11 + ws->up[j].p22;
    }
    if (C->h0)
        cp[J] = ws->up[m];
    if (C->hpi)
        cp[C->K - 1] = ws->up[m + 1];
    if (C->K == 0)
        return SU_FAIL;
    /* limits of the finite branch at rank-1 upper poles; at-pole roots */
    double *ell = ws->arr; /* by circle index */
    for (int i = J; i < C->K; ++i) {
        su_pole *p = &cp[i];
        ell[i] = 0;
        if (p->rank != 1)
            continue;
        double acc[5] = {0, 0, 0, 0, 0};
        su_sumall(C, su_pair(C, i), -1, p->sh, p->ch, i, -1, 0, acc);
        double F11 = acc[0] - C->kappa, F22 = acc[1] + C->kappa;
        su_cx F12 = su_c(acc[2], acc[3]);
        su_cx u0 = p->E[0][0], u1 = p->E[1][0], v0 = p->E[0][1], v1 = p->E[1][1];
        su_cx Fv0 = su_add(su_sc(v0, F11), su_mul(F12, v1)), Fv1 = su_add(su_mul(su_conj(F12), v0), su_sc(v1, F22));
        double l = su_add(su_cmul(v0, Fv0), su_cmul(v1, Fv1)).re;
        su_cx uv = su_add(su_cmul(u0, Fv0), su_cmul(u1, Fv1));
        double scale = 1 + fabs(C->kappa) + acc[4];
        if (p->kind == 0 || fabs(l) <= 1e-13 * scale) {
            ell[i] = 0;
            su_cx oc[2] = {su_sc(su_c(-uv.im, uv.re), 0.5 / p->rnorm), su_c(0, 0)};
            su_cx cs[2] = {v0, v1};
            su_setcot(C, i, 0);
            su_vector(C, cs, i, oc, ws->fr, ws->fi);
            if (p->kind == 0) { /* real up to a phase */
                int64_t jm = 0;
                double best = -1;
                for (int64_t q = 0; q < n; ++q) {
                    double t = ws->fr[q] * ws->fr[q] + ws->fi[q] * ws->fi[q];
                    if (t > best)
                        best = t, jm = q;
                }
                double ph = atan2(ws->fi[jm], ws->fr[jm]), c = cos(ph), sn = sin(ph);
                if (--bot < top)
                    return SU_FAIL;
                for (int64_t q = 0; q < n; ++q)
                    Wt[bot * n + q] = c * ws->fr[q] + sn * ws->fi[q];
                double nv = sqrt(su_dot(Wt + bot * n, Wt + bot * n, n));
                if (!(nv > 0) || !isfinite(nv))
                    return SU_FAIL;
                for (int64_t q = 0; q < n; ++q)
                    Wt[bot * n + q] /= nv;
                ws->items[nitem].ang = 0, ws->items[nitem].row = bot, ws->items[nitem++].cnt = 1;
            } else {
                if (top + 2 > bot)
                    return SU_FAIL;
                double nn = sqrt(su_dot(ws->fr, ws->fr, n) + su_dot(ws->fi, ws->fi, n));
                for (int64_t q = 0; q < n; ++q)
                    Wt[top * n + q] = ws->fr[q] * (1.4142135623730951 / nn),
                                 Wt[(top + 1) * n + q] = -ws->fi[q] * (1.4142135623730951 / nn);
                phi[top / 2] = p->ang;
                ws->items[nitem].ang = p->ang, ws->items[nitem].row = top, ws->items[nitem++].cnt = 2;
                top += 2;
            }
        } else
            ell[i] = l;
    }
    /* arcs of the upper half circle */
    int K = C->K, first = J, last = K - 1;
    int arcs[4 * 256 + 16][2];
    double abr[4 * 256 + 16][3];
    int na = 0;
#define SU_LIMR(i) (cp[i].rank == 2 ? -1.0 : ell[i])
#define SU_LIML(i) (cp[i].rank == 2 ? 1.0 : ell[i])
    for (int i = first; i < last; ++i) {
        double L = cp[i + 1].ang - cp[i].ang;
        if (SU_LIML(i) > 0)
            arcs[na][0] = i, arcs[na][1] = i + 1, abr[na][0] = L, abr[na][1] = 0, abr[na][2] = L, ++na;
        if (SU_LIMR(i + 1) < 0)
            arcs[na][0] = i, arcs[na][1] = i + 1 + (1 << 16), abr[na][0] = L, abr[na][1] = 0, abr[na][2] = L, ++na;
    }
    if (!C->h0 && SU_LIMR(first) < 0) { /* the arc through 0: upper branch, t in [t0, L) */
        int il = (first - 1 + K) % K;
        double L = K == 1 ? 2 * SU_PI : cp[first].ang - cp[il].ang;
        if (L <= 0)
            L += 2 * SU_PI;
        arcs[na][0] = il, arcs[na][1] = first + (1 << 16), abr[na][0] = L, abr[na][1] = L - cp[first].ang,
        abr[na][2] = L, ++na;
    }
    if (!C->hpi && SU_LIML(last) > 0) { /* the arc through pi: lower branch, t in (0, pi - psi] */
        int ir = (last + 1) % K;
        double L = K == 1 ? 2 * SU_PI : cp[ir].ang + 2 * SU_PI - cp[last].ang;
        arcs[na][0] = last, arcs[na][1] = ir, abr[na][0] = L, abr[na][1] = 0, abr[na][2] = SU_PI - cp[last].ang, ++na;
    }
#undef SU_LIMR
#undef SU_LIML
    for (int t = 0; t < na; ++t) {
        int iL = arcs[t][0], iR = arcs[t][1] & 0xffff, br = arcs[t][1] >> 16;
        su_pt P;
        if (su_solve(C, iL, iR, abr[t][0], br, abr[t][1], abr[t][2], &P))
            return SU_FAIL;
        double om = P.o == 0 ? cp[iL].ang + P.x : cp[iR].ang + ((iR < iL || iR == iL) ? 2 * SU_PI : 0) - P.x;
        if (om > SU_PI)
            om -= 2 * SU_PI;
        if (om < 0)
            om = -om; /* a root at 0 approached from below */
        if (om >= SU_PI - pi_tol)
            return 1;
        int io = P.o ? iR : iL;
        const su_pole *po = &cp[io];
        su_cx f = su_c(-0.5, -0.5 * P.cot_o), oc[2];
        for (int r = 0; r < po->rank; ++r)
            oc[r] = su_mul(f, su_add(su_mul(po->re[r][0], P.cr[0]), su_mul(po->re[r][1], P.cr[1])));
        su_vector(C, P.cs, io, oc, ws->fr, ws->fi);
        if (top + 2 > bot)
            return SU_FAIL;
        double nn = sqrt(su_dot(ws->fr, ws->fr, n) + su_dot(ws->fi, ws->fi, n));
        if (!(nn > 0) || !isfinite(nn))
            return SU_FAIL;
        double sc = 1.4142135623730951 / nn;
        for (int64_t q = 0; q < n; ++q)
            Wt[top * n + q] = ws->fr[q] * sc, Wt[(top + 1) * n + q] = -ws->fi[q] * sc;
        phi[top / 2] = om;
        ws->items[nitem].ang = om, ws->items[nitem].row = top, ws->items[nitem++].cnt = 2;
        top += 2;
    }
    if (top != bot)
        return SU_FAIL;
    for (int k = top / 2; k < m; ++k)
        phi[k] = 0;
    /* re-orthogonalisation: within each plane, then in groups of close angles */
    qsort(ws->items, nitem, sizeof(su_item), su_icmp);
    for (int t = 0; t < nitem; ++t)
        if (ws->items[t].cnt == 2) {
            double *p = Wt + ws->items[t].row * n, *q = p + n;
            if (su_normalize(p, n))
                return SU_FAIL;
            su_axpy(q, -su_dot(p, q, n), p, n);
            if (su_normalize(q, n))
                return SU_FAIL;
        }
    for (int g0 = 0; g0 < nitem;) {
        int g1 = g0 + 1;
        while (g1 < nitem && ws->items[g1].ang - ws->items[g1 - 1].ang <= SU_GTOL)
            ++g1;
        if (g1 - g0 > 1 && su_orthogonalise(ws, g0, g1, n))
            return SU_FAIL;
        g0 = g1;
    }
    /* a-posteriori probe: W W^T z = z and W Bd(phi) W^T z = A z */
    double *z = ws->z, *y = ws->y, *y2 = ws->y2;
    uint64_t sd = 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < n; ++i) {
        sd = sd * 6364136223846793005ull + 1442695040888963407ull;
        z[i] = (double)(sd >> 11) * (2.0 / 9007199254740992.0) - 1.0;
    }
    for (int64_t r = 0; r < n; ++r)
        y[r] = su_dot(Wt + r * n, z, n);
    double errs = 0, erro = 0;
    double az = su_dot(a, z, n), wz = su_dot(w, z, n), ct = cos(theta), st = sin(theta);
    for (int64_t i = 0; i < n; ++i)
        y2[i] = z[i] + (ct - 1) * (a[i] * az + w[i] * wz) + st * (w[i] * az - a[i] * wz);
    for (int64_t k = 0; k < m; ++k) { /* A z = Bd(d) G z, into fi */
        double c = cos(d[k]), sn = sin(d[k]), u = y2[2 * k], v = y2[2 * k + 1];
        ws->fi[2 * k] = c * u - sn * v, ws->fi[2 * k + 1] = sn * u + c * v;
    }
    if (n & 1)
        ws->fi[n - 1] = y2[n - 1];
    memset(ws->fr, 0, n * sizeof(double));
    memcpy(y2, y, n * sizeof(double));
    for (int64_t k = 0; k < m; ++k) {
        double c = cos(phi[k]), sn = sin(phi[k]), u = y[2 * k], v = y[2 * k + 1];
        y2[2 * k] = c * u - sn * v, y2[2 * k + 1] = sn * u + c * v;
    }
    for (int64_t r = 0; r < n; ++r)
        su_axpy(ws->fr, y2[r], Wt + r * n, n);
    double *zz = ws->arr;
    memset(zz, 0, n * sizeof(double));
    for (int64_t r = 0; r < n; ++r)
        su_axpy(zz, y[r], Wt + r * n, n);
    for (int64_t i = 0; i < n; ++i) {
        erro = fmax(erro, fabs(zz[i] - z[i]));
        errs = fmax(errs, fabs(ws->fr[i] - ws->fi[i]));
    }
    if (!(erro <= SU_PROBE * sqrt((double)n)) || !(errs <= SU_PROBE * sqrt((double)n)))
        return SU_FAIL;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < n; ++r)
            W[i * n + r] = Wt[r * n + i];
    return 0;
}

/* batch rows b0 <= b < b1: d (B, m), a, w (B, n), theta (B,); W (B, n, n), phi (B, m), status (B,);
 * stats[0] += roots-evaluations, stats[1] += roots.  Returns 0, or -1 when out of memory. */
int64_t spectral_update_f64(int64_t B, int64_t b0, int64_t b1, int64_t n, const double *d, const double *a,
                            const double *w, const double *theta, double pi_tol, double *W, double *phi,
                            int32_t *status, int64_t *stats)
{
    (void)B;
    int64_t m = n / 2;
    if (n > 1000)
        return -1;
    su_ctx C;
    su_ws ws;
    size_t nd = (size_t)(9 * m + 8) + (size_t)n * n + 8 * (size_t)n + 16;
    double *db = malloc(nd * sizeof(double));
    su_cx *cb = malloc(((size_t)n * n + 8 * (size_t)n + 16) * sizeof(su_cx));
    su_pole *pb = malloc(((size_t)2 * n + 8) * sizeof(su_pole));
    su_clu *clb = malloc(((size_t)m + 2) * sizeof(su_clu));
    int *ib = malloc(((size_t)2 * n + 8) * sizeof(int));
    su_item *it = malloc(((size_t)n + 8) * sizeof(su_item));
    su_dk *dk = malloc(((size_t)m + 2) * sizeof(su_dk));
    if (!db || !cb || !pb || !clb || !ib || !it || !dk) {
        free(db), free(cb), free(pb), free(clb), free(ib), free(it), free(dk);
        return -1;
    }
    double *q = db;
    C.sb = q, q += m + 1;
    C.cb = q, q += m + 1;
    C.p11 = q, q += m + 1;
    C.p22 = q, q += m + 1;
    C.pr = q, q += m + 1;
    C.pim = q, q += m + 1;
    C.tr = q, q += m + 1;
    C.cotp = q, q += m + 1;
    C.cotm = q, q += m + 1;
    ws.Wt = q, q += n * n;
    ws.arr = q, q += n + 2;
    ws.fr = q, q += n + 2;
    ws.fi = q, q += n + 2;
    ws.z = q, q += n + 2;
    ws.y = q, q += n + 2;
    ws.y2 = q, q += n + 2;
    ws.Q = cb, ws.Y = cb + n * n, ws.wk = ws.Y + 2 * n + 2, ws.pool = ws.wk + 3 * n + 4;
    ws.up = pb, ws.cp = pb + m + 4;
    ws.cup = clb, ws.idx = ib, ws.items = it, ws.dk = dk;
    C.n = n, C.m = m, C.evals = 0;
    int64_t roots = 0;
    for (int64_t b = b0; b < b1; ++b) {
        int st = su_one(&C, &ws, d + b * m, a + b * n, w + b * n, theta[b], pi_tol, W + b * n * n, phi + b * m);
        if (st == 0) {
            for (int64_t i = 0; i < n * n && st == 0; ++i)
                if (!isfinite(W[b * n * n + i]))
                    st = 2;
            for (int64_t k = 0; k < m && st == 0; ++k)
                if (!isfinite(phi[b * m + k]))
                    st = 2;
        }
        status[b] = st;
        roots += m;
    }
    stats[0] += C.evals, stats[1] += roots;
    free(db), free(cb), free(pb), free(clb), free(ib), free(it), free(dk);
    return 0;
}
