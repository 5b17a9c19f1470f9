/* The O(N^2) middle of a backward step of the fractional-lambda RUM in spectral form
 * (orthornn.nn.rum.spectral, whose torch code is the reference), per batch element, in place:
 *
 *   hh = Q'^T h,  gg = Q'^T dz                                   (one pass over Q')
 *   Kv = [K a, K om] + gg [hh.a, hh.om],  KtD = K^T [D xi, D et] + hh [gg.D xi, gg.D et]   (one pass over K)
 *   d_xi = D^T Kv_a,  d_et = D^T Kv_om,  d_al = KtD_xi,  d_om = KtD_et
 *   ga = d_al - (1 - c) d_xi - d_et,  gw = d_om + d_xi - k d_et,
 *   gc = a.d_xi + k^2 om.d_et,  dv = D^T gg + a (xi.D^T gg) + om (et.D^T gg)
 *   [back_h, back_a, back_w] = Q' [dv, ga, gw]                   (one pass over Q')
 *   K <- K + gg hh^T + Kv_a xi^T + Kv_om et^T                    (dD, one pass over K)
 *
 * K = W G W^T (the carried gradient in Q' coordinates), a = alpha, om = s beta, xi, et the frame in
 * Q' coordinates, D = blockdiag(M(d_k)) given by (cd, sd). Outputs: back (B, 3, n) rows and gc (B).
 * work: 11 n elements of T per call. Instantiated for T = double and float.
 */

void NAME(spectral_step_backward)(int64_t B, int64_t n, T *K, const T *Qp, const T *h, const T *dz,
                                  const T *alpha, const T *om, const T *xi, const T *et, const T *cd,
                                  const T *sd, const T *c, const T *k, T *back, T *gc, T *work) {
    int64_t m = n / 2;
    T *hh = work, *gg = work + n, *va = work + 2 * n, *vo = work + 3 * n;
    T *Dx = work + 4 * n, *De = work + 5 * n, *ta = work + 6 * n, *te = work + 7 * n;
    T *dxi = work + 8 * n, *det = work + 9 * n, *dv = work + 10 * n;
    for (int64_t b = 0; b < B; b++) {
        T *Kb = K + b * n * n;
        const T *Q = Qp + b * n * n;
        const T *hb = h + b * n, *zb = dz + b * n, *al = alpha + b * n, *ob = om + b * n;
        const T *xb = xi + b * n, *eb = et + b * n, *cb = cd + b * m, *sb = sd + b * m;
        T cc = c[b], kk = k[b];
        T *bk = back + b * 3 * n;
        /* hh = Q'^T h, gg = Q'^T dz: rows of Q' scaled and accumulated */
        for (int64_t j = 0; j < n; j++) hh[j] = gg[j] = 0;
        for (int64_t i = 0; i < n; i++) {
            const T *q = Q + i * n;
            T hi = hb[i], zi = zb[i];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) {
                hh[j] += q[j] * hi;
                gg[j] += q[j] * zi;
            }
        }
        /* D xi, D et */
        for (int64_t j = 0; j < n; j++) {
            Dx[j] = xb[j];
            De[j] = eb[j];
        }
        for (int64_t q = 0; q < m; q++) {
            T x0 = xb[2 * q], x1 = xb[2 * q + 1], e0 = eb[2 * q], e1 = eb[2 * q + 1];
            Dx[2 * q] = cb[q] * x0 - sb[q] * x1;
            Dx[2 * q + 1] = sb[q] * x0 + cb[q] * x1;
            De[2 * q] = cb[q] * e0 - sb[q] * e1;
            De[2 * q + 1] = sb[q] * e0 + cb[q] * e1;
        }
        /* K a, K om (row dots) and K^T D xi, K^T D et (row axpys): one pass over K */
        for (int64_t j = 0; j < n; j++) ta[j] = te[j] = 0;
        for (int64_t i = 0; i < n; i++) {
            const T *r = Kb + i * n;
            T s1 = 0, s2 = 0, dxi = Dx[i], dei = De[i];
#pragma omp simd reduction(+ : s1, s2)
            for (int64_t j = 0; j < n; j++) {
                s1 += r[j] * al[j];
                s2 += r[j] * ob[j];
                ta[j] += r[j] * dxi;
                te[j] += r[j] * dei;
            }
            va[i] = s1;
            vo[i] = s2;
        }
        T ha = 0, ho = 0, gx = 0, ge = 0;
        for (int64_t j = 0; j < n; j++) {
            ha += hh[j] * al[j];
            ho += hh[j] * ob[j];
            gx += gg[j] * Dx[j];
            ge += gg[j] * De[j];
        }
        for (int64_t j = 0; j < n; j++) {
            va[j] += gg[j] * ha; /* (K + gg hh^T) a */
            vo[j] += gg[j] * ho;
            ta[j] += hh[j] * gx; /* (K + gg hh^T)^T D xi */
            te[j] += hh[j] * ge;
        }
        /* d_xi = D^T va, d_et = D^T vo, dv = D^T gg */
        for (int64_t j = 0; j < n; j++) {
            dxi[j] = va[j];
            det[j] = vo[j];
            dv[j] = gg[j];
        }
        for (int64_t q = 0; q < m; q++) {
            T a0 = va[2 * q], a1 = va[2 * q + 1], o0 = vo[2 * q], o1 = vo[2 * q + 1];
            T g0 = gg[2 * q], g1 = gg[2 * q + 1];
            dxi[2 * q] = cb[q] * a0 + sb[q] * a1;
            dxi[2 * q + 1] = -sb[q] * a0 + cb[q] * a1;
            det[2 * q] = cb[q] * o0 + sb[q] * o1;
            det[2 * q + 1] = -sb[q] * o0 + cb[q] * o1;
            dv[2 * q] = cb[q] * g0 + sb[q] * g1;
            dv[2 * q + 1] = -sb[q] * g0 + cb[q] * g1;
        }
        T g_c = 0, xv = 0, ev = 0;
        for (int64_t j = 0; j < n; j++) {
            g_c += al[j] * dxi[j] + kk * kk * ob[j] * det[j];
            xv += xb[j] * dv[j];
            ev += eb[j] * dv[j];
        }
        gc[b] = g_c;
        /* ga, gw (over K^T D xi, K^T D et, consumed here) and the rest of dv */
        for (int64_t j = 0; j < n; j++) {
            T d_al = ta[j], d_om = te[j];
            ta[j] = d_al - (1 - cc) * dxi[j] - det[j];
            te[j] = d_om + dxi[j] - kk * det[j];
            dv[j] += al[j] * xv + ob[j] * ev;
        }
        /* back = Q' [dv, ga, gw]: row dots over Q' */
        T *b0 = bk, *b1 = bk + n, *b2 = bk + 2 * n;
        for (int64_t i = 0; i < n; i++) {
            const T *q = Q + i * n;
            T s0 = 0, s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s0, s1, s2)
            for (int64_t j = 0; j < n; j++) {
                s0 += q[j] * dv[j];
                s1 += q[j] * ta[j];
                s2 += q[j] * te[j];
            }
            b0[i] = s0;
            b1[i] = s1;
            b2[i] = s2;
        }
        /* dD = K + gg hh^T + va xi^T + vo et^T (va, vo: the corrected K a, K om) */
        for (int64_t i = 0; i < n; i++) {
            T *r = Kb + i * n;
            T gi = gg[i], ai = va[i], oi = vo[i];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) r[j] += gi * hh[j] + ai * xb[j] + oi * eb[j];
        }
    }
}
