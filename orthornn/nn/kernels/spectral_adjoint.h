/* The Daleckii-Krein adjoint of X -> X^lambda at blockdiag(M(phi_1), ..., M(phi_m), [1]), in place,
 * for a batch (the backward step of orthornn.nn.rum.spectral; the torch reference is
 * orthornn.nn.functional.lie._plane_adjoint, whose docstring has the equations).
 *
 * Per batch element b, with G the (n x n) matrix dD in the planes of Q' (flipped planes: sign s_k on
 * the second coordinate of plane k):
 *   1. G <- S G S                       (to Q_{t-1}'s planes)
 *   2. glam[b] = sum_k phi_k (cos(lam phi_k)(c_k - b_k) - sin(lam phi_k)(a_k + d_k))
 *      over the diagonal 2x2 blocks [[a, b], [c, d]] of G (the gradient in lambda)
 *   3. every 2x2 block (j, k): p = ((a + d) + i(c - b))/2, q = ((a - d) + i(b + c))/2,
 *      p' = conj(F(phi_j, phi_k)) p, q' = conj(F(phi_j, -phi_k)) q,
 *      a' = Re(p' + q'), b' = Im(q' - p'), c' = Im(p' + q'), d' = Re(p' - q');
 *      odd n: the axis column (x + iy) and row (x - iy) times conj(F(phi_j, 0)), the corner times lam;
 *   4. G <- (G - R G^T R)/2 with R = blockdiag(M(phi_k), [1]): the part tangent to SO(n) at R (the
 *      reference's Newton-Schulz polar step projects there; without it the normal part, which the
 *      loss never sees, grows from step to step until its rounding swamps the gradient).
 * F(x, y) = e^{i(lam-1)(x+y)/2} sin(lam delta)/sin(delta), delta = (x - y)/2, from per-plane sines and
 * cosines (no transcendental per pair), the series near delta = 0 and the clamped reference form
 * near |delta| = pi, exactly as _divided_pairs.
 *
 * Instantiated by kernels.c for T = double and float (the arithmetic is in double).
 */

#ifndef ORTHORNN_SPECTRAL_ADJOINT_ONCE
#define ORTHORNN_SPECTRAL_ADJOINT_ONCE
#include <math.h>
#define SA_SERIES 1e-3
#define SA_PI 3.14159265358979323846

/* The series of sin(lam delta)/sin(delta) (log: delta/sin delta) near delta = 0, in d2 = delta^2. */
static inline double sa_series(double d2, double lam, int is_log) {
    if (is_log) return 1.0 + d2 * (1.0 / 6.0 + d2 * (7.0 / 360.0));
    double l2 = lam * lam;
    return lam * (1.0 + d2 * ((1.0 - l2) / 6.0 + d2 * (7.0 / 360.0 - l2 / 36.0 + l2 * l2 / 120.0)));
}

/* The same ratio at the branch cut |delta| ~ pi: the reference's sinc form, clamped at eps. */
static inline double sa_cut(double delta, double lam, int is_log, double eps) {
    double sd = sin(delta) / delta;
    if (sd < eps) sd = eps;
    if (is_log) return 1.0 / sd;
    double ld = lam * delta;
    double sl = ld == 0.0 ? 1.0 : sin(ld) / ld;
    return lam * sl / sd;
}

/* sin(lam delta)/sin(delta) (log: delta/sin delta when is_log) at one pair, given the outer-product
 * numerator and denominator. */
static inline double sa_ratio(double delta, double num, double den, double lam, int is_log, double eps) {
    double ad = fabs(delta);
    if (ad < SA_SERIES) return sa_series(delta * delta, lam, is_log);
    if (fabs(ad - SA_PI) < SA_SERIES) return sa_cut(delta, lam, is_log, eps);
    return (is_log ? delta : num) / den;
}
#endif

void NAME(spectral_adjoint)(int64_t B, int64_t n, T *G, const double *phi, const double *lam, const uint8_t *flip,
                            int is_log, double eps, double *glam, double *work) {
    int64_t m = n / 2;
    double *hc = work, *hs = work + m, *lc = work + 2 * m, *ls = work + 3 * m, *ec = work + 4 * m, *es = work + 5 * m;
    double *fc = work + 6 * m, *fs = work + 7 * m; /* cos, sin of the angles themselves */
    double *rp = work + 8 * m, *rq = work + 9 * m; /* one block row's ratios F(phi_j, +-phi_k) */
    for (int64_t b = 0; b < B; b++) {
        T *g = G + b * n * n;
        const double *ph = phi + b * m;
        const uint8_t *fl = flip + b * m;
        double la = is_log ? 0.0 : lam[b];
        double mu = is_log ? -0.5 : 0.5 * (la - 1.0);
        /* 1. the flips: rows and columns 2k+1 of flipped planes change sign */
        for (int64_t k = 0; k < m; k++) {
            if (!fl[k]) continue;
            int64_t r = 2 * k + 1;
            for (int64_t c = 0; c < n; c++) g[r * n + c] = -g[r * n + c];
            for (int64_t c = 0; c < n; c++) g[c * n + r] = -g[c * n + r];
        }
        /* 2. the lambda gradient from the diagonal blocks */
        double gl = 0.0;
        for (int64_t k = 0; k < m; k++) {
            double a = g[(2 * k) * n + 2 * k], bb = g[(2 * k) * n + 2 * k + 1];
            double c = g[(2 * k + 1) * n + 2 * k], d = g[(2 * k + 1) * n + 2 * k + 1];
            gl += ph[k] * (cos(la * ph[k]) * (c - bb) - sin(la * ph[k]) * (a + d));
            hc[k] = cos(0.5 * ph[k]);
            hs[k] = sin(0.5 * ph[k]);
            lc[k] = cos(0.5 * la * ph[k]);
            ls[k] = sin(0.5 * la * ph[k]);
            ec[k] = cos(mu * ph[k]);
            es[k] = sin(mu * ph[k]);
            fc[k] = cos(ph[k]);
            fs[k] = sin(ph[k]);
        }
        glam[b] = gl;
        /* 3. the blocks, a block row j at a time: first the ratios of every pair (j, k) in a loop
         * without branches (both forms computed, one selected: it vectorises), the rare pairs at the
         * branch cut after it, then the products */
        for (int64_t j = 0; j < m; j++) {
            T *r0 = g + (2 * j) * n, *r1 = g + (2 * j + 1) * n;
            double phj = ph[j], hsj = hs[j], hcj = hc[j], lsj = ls[j], lcj = lc[j];
#pragma omp simd
            for (int64_t k = 0; k < m; k++) {
                /* F(phi_j, phi_k): delta = (phi_j - phi_k)/2;  F(phi_j, -phi_k): delta = (phi_j + phi_k)/2 */
                double dm = 0.5 * (phj - ph[k]), dp = 0.5 * (phj + ph[k]);
                double den = hsj * hc[k] - hcj * hs[k], denp = hsj * hc[k] + hcj * hs[k];
                double num = is_log ? dm : lsj * lc[k] - lcj * ls[k];
                double nump = is_log ? dp : lsj * lc[k] + lcj * ls[k];
                rp[k] = fabs(dm) < SA_SERIES ? sa_series(dm * dm, la, is_log) : num / den;
                rq[k] = fabs(dp) < SA_SERIES ? sa_series(dp * dp, la, is_log) : nump / denp;
            }
            for (int64_t k = 0; k < m; k++) {
                double dm = 0.5 * (phj - ph[k]), dp = 0.5 * (phj + ph[k]);
                if (fabs(fabs(dm) - SA_PI) < SA_SERIES)
                    rp[k] = sa_cut(dm, la, is_log, eps);
                if (fabs(fabs(dp) - SA_PI) < SA_SERIES)
                    rq[k] = sa_cut(dp, la, is_log, eps);
            }
#pragma omp simd
            for (int64_t k = 0; k < m; k++) {
                /* phases e^{i mu (phi_j + phi_k)} and e^{i mu (phi_j - phi_k)} */
                double pr = (ec[j] * ec[k] - es[j] * es[k]) * rp[k], pi = (es[j] * ec[k] + ec[j] * es[k]) * rp[k];
                double qr = (ec[j] * ec[k] + es[j] * es[k]) * rq[k], qi = (es[j] * ec[k] - ec[j] * es[k]) * rq[k];
                double a = r0[2 * k], bb = r0[2 * k + 1], c = r1[2 * k], d = r1[2 * k + 1];
                double p_re = 0.5 * (a + d), p_im = 0.5 * (c - bb), q_re = 0.5 * (a - d), q_im = 0.5 * (bb + c);
                /* conj(F) * p */
                double P_re = pr * p_re + pi * p_im, P_im = pr * p_im - pi * p_re;
                double Q_re = qr * q_re + qi * q_im, Q_im = qr * q_im - qi * q_re;
                r0[2 * k] = (T)(P_re + Q_re);
                r0[2 * k + 1] = (T)(Q_im - P_im);
                r1[2 * k] = (T)(P_im + Q_im);
                r1[2 * k + 1] = (T)(P_re - Q_re);
            }
        }
        if (n % 2) {
            int64_t z = n - 1;
            for (int64_t j = 0; j < m; j++) {
                double dz = 0.5 * ph[j];
                double rz = sa_ratio(dz, ls[j], hs[j], la, is_log, eps);
                double fr = ec[j] * rz, fi = es[j] * rz;
                double x = g[(2 * j) * n + z], y = g[(2 * j + 1) * n + z]; /* column: x + iy */
                g[(2 * j) * n + z] = (T)(fr * x + fi * y);
                g[(2 * j + 1) * n + z] = (T)(fr * y - fi * x);
                double u = g[z * n + 2 * j], v = -g[z * n + 2 * j + 1]; /* row: u + iv = x - iy */
                double R_re = fr * u + fi * v, R_im = fr * v - fi * u;
                g[z * n + 2 * j] = (T)R_re;
                g[z * n + 2 * j + 1] = (T)(-R_im);
            }
            g[z * n + z] = (T)((is_log ? 1.0 : la) * g[z * n + z]);
        }
        /* 4. the tangent projection, block pair by block pair: G_jk <- (G_jk - M_j G_kj^T M_k)/2 */
        for (int64_t j = 0; j < m; j++) {
            double cj = fc[j], sj = fs[j];
            for (int64_t k = j; k < m; k++) {
                double ck = fc[k], sk = fs[k];
                T *pj0 = g + (2 * j) * n + 2 * k, *pj1 = g + (2 * j + 1) * n + 2 * k;
                T *pk0 = g + (2 * k) * n + 2 * j, *pk1 = g + (2 * k + 1) * n + 2 * j;
                double a = pj0[0], b = pj0[1], c = pj1[0], d = pj1[1]; /* G_jk */
                double e = pk0[0], f = pk0[1], u = pk1[0], v = pk1[1]; /* G_kj */
                /* X = G_kj^T = [[e, u], [f, v]];  M_j X M_k */
                double x00 = cj * e - sj * f, x01 = cj * u - sj * v, x10 = sj * e + cj * f, x11 = sj * u + cj * v;
                double y00 = x00 * ck + x01 * sk, y01 = -x00 * sk + x01 * ck;
                double y10 = x10 * ck + x11 * sk, y11 = -x10 * sk + x11 * ck;
                /* Z = G_jk^T = [[a, c], [b, d]];  M_k Z M_j */
                double z00 = ck * a - sk * b, z01 = ck * c - sk * d, z10 = sk * a + ck * b, z11 = sk * c + ck * d;
                double w00 = z00 * cj + z01 * sj, w01 = -z00 * sj + z01 * cj;
                double w10 = z10 * cj + z11 * sj, w11 = -z10 * sj + z11 * cj;
                pj0[0] = (T)(0.5 * (a - y00));
                pj0[1] = (T)(0.5 * (b - y01));
                pj1[0] = (T)(0.5 * (c - y10));
                pj1[1] = (T)(0.5 * (d - y11));
                if (k != j) {
                    pk0[0] = (T)(0.5 * (e - w00));
                    pk0[1] = (T)(0.5 * (f - w01));
                    pk1[0] = (T)(0.5 * (u - w10));
                    pk1[1] = (T)(0.5 * (v - w11));
                }
            }
        }
        if (n % 2) { /* the axis: (R G^T R)_jz = M_j G_zj^T, (R G^T R)_zj = G_jz^T M_j, the corner vanishes */
            int64_t z = n - 1;
            for (int64_t j = 0; j < m; j++) {
                double cj = fc[j], sj = fs[j];
                double p0 = g[(2 * j) * n + z], p1 = g[(2 * j + 1) * n + z]; /* G_jz */
                double q0 = g[z * n + 2 * j], q1 = g[z * n + 2 * j + 1];     /* G_zj */
                double y0 = cj * q0 - sj * q1, y1 = sj * q0 + cj * q1;         /* M_j G_zj^T */
                double w0 = p0 * cj + p1 * sj, w1 = -p0 * sj + p1 * cj;        /* G_jz^T M_j */
                g[(2 * j) * n + z] = (T)(0.5 * (p0 - y0));
                g[(2 * j + 1) * n + z] = (T)(0.5 * (p1 - y1));
                g[z * n + 2 * j] = (T)(0.5 * (q0 - w0));
                g[z * n + 2 * j + 1] = (T)(0.5 * (q1 - w1));
            }
            g[z * n + z] = (T)0;
        }
    }
}
