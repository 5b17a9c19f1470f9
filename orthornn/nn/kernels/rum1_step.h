/* Body of the lambda = 1 RUM sequence for one element type; included by kernels.c once per type with
 * T (float or double) and NAME(x) defined.
 *
 * Batch-outer, time-inner: one batch element's memory R_b (n x n), its gradient G_b and W_hh stay
 * in cache for the whole sequence.  A call runs the batch elements b0 <= b < b1 of B (the arrays'
 * strides use B), so that disjoint ranges can run on several threads at once, so the O(n^2) work of a step (the W_hh product, three products
 * with R and the rank-2 update forward; the rebuild of R_{t-1}, the products with dL/dR and its
 * rank-3 update backward) never streams through main memory. */

static inline T NAME(dot)(const T *restrict a, const T *restrict b, int64_t n)
{
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; ++j)
        s += a[j] * b[j];
    return s;
}

/* The frame of (eps, tau): a^, b^, w = b^ - c a^, x = w - (1 - c) a^, y = -(a^ + k w) into F (rows
 * a, b, w, x, y) and the scalars (c, k = 1/(1 + c), 1/|eps|, 1/|tau|); returns 1 when the pair is
 * zero or nearly antiparallel (1 + c < min1pc). */
static int NAME(frame)(const T *restrict e, const T *restrict tau, int64_t n, double min1pc, T *restrict F,
                       T *c_, T *k_, T *ie_, T *it_)
{
    T se = NAME(dot)(e, e, n), st = NAME(dot)(tau, tau, n), et = NAME(dot)(e, tau, n);
    if (!(se > 0) || !(st > 0))
        return 1;
    T ie = 1 / sqrt(se), it = 1 / sqrt(st);
    T c = et * ie * it;
    if (!(1 + c >= min1pc))
        return 1;
    T k = 1 / (1 + c);
    T *restrict a = F, *restrict bh = F + n, *restrict w = F + 2 * n, *restrict x = F + 3 * n, *restrict y = F + 4 * n;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) {
        a[j] = e[j] * ie;
        bh[j] = tau[j] * it;
        w[j] = bh[j] - c * a[j];
        x[j] = w[j] - (1 - c) * a[j];
        y[j] = -(a[j] + k * w[j]);
    }
    *c_ = c, *k_ = k, *ie_ = ie, *it_ = it;
    return 0;
}

/* Forward.  PB (T, B, 3n): on entry the input projections (u~, tau, eps) less W_hh h; on return
 * u = sigmoid(u~ + ...) and tau complete (eps unchanged).  Wt = W_hh^T (n, 2n); H (T + 1, B, n)
 * with H[0] = h_0; R (B, n, n): R_0 on entry, R_T on return; Sr (T, B): the eta scale r of each
 * step.  work: 11n, zeroed.  Returns the number of degenerate (t, b); the outputs are then not to be used. */
int64_t NAME(rum1_forward)(int64_t T_, int64_t B, int64_t b0, int64_t b1, int64_t n, T *PB, const T *Wt, T *H,
                           T *R, T *Sr, int has_eta, double eta, double min1pc, T *work)
{
    int64_t bad = 0;
    T *F = work, *Rx = work + 5 * n, *Ry = work + 6 * n, *Rh = work + 7 * n, *Rpad = work + 8 * n;
    for (int64_t b = b0; b < b1; ++b) {
        T *Rb = R + b * n * n;
        for (int64_t t = 0; t < T_; ++t) {
            T *g = PB + (t * B + b) * 3 * n, *tau = g + n, *e = g + 2 * n;
            const T *h = H + (t * B + b) * n;
            T *ho = H + ((t + 1) * B + b) * n;
            for (int64_t j = 0; j < n; ++j) { /* (u~, tau) += W_hh h, column by column (no reductions) */
                const T *wc = Wt + j * 2 * n;
                T hj = h[j];
#pragma omp simd
                for (int64_t i = 0; i < 2 * n; ++i)
                    g[i] += hj * wc[i];
            }
            for (int64_t i = 0; i < n; ++i)
                g[i] = NAME(sigmoid)(g[i]);
            T c, k, ie, it;
            if (NAME(frame)(e, tau, n, min1pc, F, &c, &k, &ie, &it)) {
                ++bad;
                continue;
            }
            const T *a = F, *w = F + 2 * n, *x = F + 3 * n, *y = F + 4 * n;
            for (int64_t i0 = 0; i0 < n; i0 += 4) { /* R_t = R_{t-1} + (R x) a^T + (R y) w^T, 4 rows at once */
                T *r0 = Rb + i0 * n; /* a partial last block is padded with scratch rows */
                T *r1 = i0 + 1 < n ? r0 + n : Rpad, *r2 = i0 + 2 < n ? r0 + 2 * n : Rpad + n;
                T *r3 = i0 + 3 < n ? r0 + 3 * n : Rpad + 2 * n;
                T x0 = 0, y0 = 0, h0 = 0, x1 = 0, y1 = 0, h1 = 0, x2 = 0, y2 = 0, h2 = 0, x3 = 0, y3 = 0, h3 = 0;
#pragma omp simd reduction(+ : x0, y0, h0, x1, y1, h1, x2, y2, h2, x3, y3, h3)
                for (int64_t j = 0; j < n; ++j) {
                    T xj = x[j], yj = y[j], hj = h[j];
                    x0 += r0[j] * xj, y0 += r0[j] * yj, h0 += r0[j] * hj;
                    x1 += r1[j] * xj, y1 += r1[j] * yj, h1 += r1[j] * hj;
                    x2 += r2[j] * xj, y2 += r2[j] * yj, h2 += r2[j] * hj;
                    x3 += r3[j] * xj, y3 += r3[j] * yj, h3 += r3[j] * hj;
                }
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) {
                    T aj = a[j], wj = w[j];
                    r0[j] += x0 * aj + y0 * wj;
                    r1[j] += x1 * aj + y1 * wj;
                    r2[j] += x2 * aj + y2 * wj;
                    r3[j] += x3 * aj + y3 * wj;
                }
                T px[4] = {x0, x1, x2, x3}, py[4] = {y0, y1, y2, y3}, ph[4] = {h0, h1, h2, h3};
                for (int q = 0; q < 4 && i0 + q < n; ++q)
                    Rx[i0 + q] = px[q], Ry[i0 + q] = py[q], Rh[i0 + q] = ph[q];
            }
            T pa = NAME(dot)(a, h, n), pw = NAME(dot)(w, h, n), ss = 0;
#pragma omp simd reduction(+ : ss)
            for (int64_t j = 0; j < n; ++j) { /* h' = lerp(ReLU(eps + R_t h), h, u) */
                T z = e[j] + Rh[j] + Rx[j] * pa + Ry[j] * pw;
                T cand = z > 0 ? z : 0;
                T hp = cand + g[j] * (h[j] - cand);
                ho[j] = hp;
                ss += hp * hp;
            }
            T r = 1;
            if (has_eta) {
                r = ss > 0 ? (T)eta / sqrt(ss) : 0;
#pragma omp simd
                for (int64_t j = 0; j < n; ++j)
                    ho[j] *= r;
            }
            Sr[t * B + b] = r;
        }
    }
    return bad;
}

/* The rank-1 accumulations of four memory rows at once (so the five accumulators are loaded and
 * stored once per four rows): da += sum p0_m g_m, dw += sum p1_m g_m, (dx, dy, dh) += sum
 * (d0_m, d1_m, d2_m) r_m, and g_m += d0_m x + d1_m y + d2_m h (dL/dR_{t-1}).  A row with all
 * coefficients 0 (pointing to scratch) pads the last block. */
static inline void NAME(accumulate4)(int64_t n, T *const r[4], T *const g[4], const T *cf, const T *restrict x,
                                     const T *restrict y, const T *restrict h, T *restrict da, T *restrict dw,
                                     T *restrict dx, T *restrict dy, T *restrict dh)
{
    const T *p0 = cf, *p1 = cf + 4, *d0 = cf + 8, *d1 = cf + 12, *d2 = cf + 16;
    const T *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];
    T *g0 = g[0], *g1 = g[1], *g2 = g[2], *g3 = g[3];
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) {
        T a0 = g0[j], a1 = g1[j], a2 = g2[j], a3 = g3[j];
        T b0 = r0[j], b1 = r1[j], b2 = r2[j], b3 = r3[j];
        da[j] += p0[0] * a0 + p0[1] * a1 + p0[2] * a2 + p0[3] * a3;
        dw[j] += p1[0] * a0 + p1[1] * a1 + p1[2] * a2 + p1[3] * a3;
        dx[j] += d0[0] * b0 + d0[1] * b1 + d0[2] * b2 + d0[3] * b3;
        dy[j] += d1[0] * b0 + d1[1] * b1 + d1[2] * b2 + d1[3] * b3;
        dh[j] += d2[0] * b0 + d2[1] * b1 + d2[2] * b2 + d2[3] * b3;
        T xj = x[j], yj = y[j], hj = h[j];
        g0[j] = a0 + d0[0] * xj + d1[0] * yj + d2[0] * hj;
        g1[j] = a1 + d0[1] * xj + d1[1] * yj + d2[1] * hj;
        g2[j] = a2 + d0[2] * xj + d1[2] * yj + d2[2] * hj;
        g3[j] = a3 + d0[3] * xj + d1[3] * yj + d2[3] * hj;
    }
}

/* Backward.  gH (T, B, n): dL/dh_t from the outputs; R (B, n, n): R_T on entry (a copy: it is
 * rebuilt down to R_0 in place); G (B, n, n): dL/dR_T on entry, dL/dR_0 on return.  Writes
 * d(u~, tau, eps) of every step to dPB (T, B, 3n) and dL/dh_0 to gh0 (B, n).  work: 19n + 20, zeroed. */
void NAME(rum1_backward)(int64_t T_, int64_t B, int64_t b0, int64_t b1, int64_t n, const T *PB, const T *W,
                         const T *H, const T *Sr, const T *gH, T *R, T *G, int has_eta, double eta, T *dPB, T *gh0,
                         T *work)
{
    T *F = work, *Gh = work + 5 * n, *z = work + 6 * n, *gz = work + 7 * n, *carry = work + 8 * n;
    T *dAW = work + 9 * n, *dC = work + 11 * n, *ga = work + 14 * n, *gw = work + 15 * n, *gb = work + 16 * n;
    T *pad = work + 17 * n, *cf = work + 19 * n; /* two scratch rows; 20 block coefficients */
    for (int64_t b = b0; b < b1; ++b) {
        T *Rb = R + b * n * n, *Gb = G + b * n * n;
        for (int64_t j = 0; j < n; ++j)
            carry[j] = 0;
        for (int64_t t = T_ - 1; t >= 0; --t) {
            const T *g = PB + (t * B + b) * 3 * n, *u = g, *tau = g + n, *e = g + 2 * n;
            const T *h = H + (t * B + b) * n, *ht = H + ((t + 1) * B + b) * n, *gHt = gH + (t * B + b) * n;
            T *dP = dPB + (t * B + b) * 3 * n, *du = dP, *dtau = dP + n, *de = dP + 2 * n;
            for (int64_t j = 0; j < n; ++j)
                Gh[j] = gHt[j] + carry[j];
            if (has_eta) { /* dL/dh' = r (G - h_t (h_t . G) / eta^2) */
                T r = Sr[t * B + b], hg = NAME(dot)(ht, Gh, n) / (T)(eta * eta);
                for (int64_t j = 0; j < n; ++j)
                    Gh[j] = r * (Gh[j] - ht[j] * hg);
            }
            T c = 0, k = 0, ie = 0, it = 0;
            NAME(frame)(e, tau, n, 0.0, F, &c, &k, &ie, &it); /* the forward checked this step */
            const T *a = F, *bh = F + n, *w = F + 2 * n, *x = F + 3 * n, *y = F + 4 * n;
            T pa = NAME(dot)(a, h, n), pw = NAME(dot)(w, h, n);
            for (int64_t j = 0; j < 5 * n; ++j)
                dAW[j] = 0; /* dAW (2n) and dC (3n) */
            T dpa = 0, dpw = 0;
            T *rows[4], *grows[4];
            for (int64_t i = 0; i < n; ++i) {
                T *r = Rb + i * n, *gr = Gb + i * n;
                int m = (int)(i % 4);
                T qa = 0, qw = 0, qh = 0, gai = 0, gwi = 0; /* row i of R_t (a^, w, h) and of G (a^, w) */
#pragma omp simd reduction(+ : qa, qw, qh, gai, gwi)
                for (int64_t j = 0; j < n; ++j) {
                    T aj = a[j], wj = w[j];
                    qa += r[j] * aj;
                    qw += r[j] * wj;
                    qh += r[j] * h[j];
                    gai += gr[j] * aj;
                    gwi += gr[j] * wj;
                }
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) /* R_{t-1} = R_t + (R_t a^) x^T + (R_t w) y^T */
                    r[j] += qa * x[j] + qw * y[j];
                /* row i of R_{t-1} x and R_{t-1} y, from x.x = 2(1 - c), x.y = 0, y.y = 2k */
                T p0 = qw + (1 - c) * qa, p1 = k * qw - qa;
                T zi = e[i] + qh;
                T gzi = zi > 0 ? Gh[i] * (1 - u[i]) : 0;
                z[i] = zi, gz[i] = gzi;
                dpa += gzi * p0, dpw += gzi * p1;
                rows[m] = r, grows[m] = gr;
                cf[m] = p0, cf[4 + m] = p1, cf[8 + m] = gzi * pa + gai, cf[12 + m] = gzi * pw + gwi, cf[16 + m] = gzi;
                if (m == 3 || i == n - 1) {
                    for (int q = m + 1; q < 4; ++q) { /* pad the last block with zero rows */
                        rows[q] = pad, grows[q] = pad + n;
                        cf[q] = cf[4 + q] = cf[8 + q] = cf[12 + q] = cf[16 + q] = 0;
                    }
                    NAME(accumulate4)(n, rows, grows, cf, x, y, h, dAW, dAW + n, dC, dC + n, dC + 2 * n);
                }
            }
            const T *dx = dC, *dy = dC + n, *dhc = dC + 2 * n, *da = dAW, *dw = dAW + n;
            /* the cell: gate, candidate and the frame (x = w - (1 - c) a^, y = -(a^ + k w)) */
            T adx = 0, wdy = 0;
            for (int64_t j = 0; j < n; ++j) {
                T cand = z[j] > 0 ? z[j] : 0;
                du[j] = Gh[j] * (h[j] - cand) * u[j] * (1 - u[j]);
                carry[j] = Gh[j] * u[j] + dhc[j] + dpa * a[j] + dpw * w[j]; /* direct dL/dh_{t-1} */
                ga[j] = da[j] + dpa * h[j] - (1 - c) * dx[j] - dy[j];
                gw[j] = dw[j] + dpw * h[j] + dx[j] - k * dy[j];
                adx += a[j] * dx[j], wdy += w[j] * dy[j];
            }
            T gc = adx + k * k * wdy - NAME(dot)(gw, a, n); /* c = a^.b^ and w = b^ - c a^ */
            for (int64_t j = 0; j < n; ++j) {
                ga[j] = ga[j] - c * gw[j] + gc * bh[j];
                gb[j] = gw[j] + gc * a[j];
            }
            T aga = NAME(dot)(a, ga, n), bgb = NAME(dot)(bh, gb, n);
            for (int64_t j = 0; j < n; ++j) {
                de[j] = gz[j] + ie * (ga[j] - a[j] * aga); /* a^ = eps/|eps| */
                dtau[j] = it * (gb[j] - bh[j] * bgb);      /* b^ = tau/|tau| */
            }
            for (int64_t i = 0; i < 2 * n; ++i) { /* + W_hh^T d(u~, tau) */
                const T *wr = W + i * n;
                T d = dP[i];
#pragma omp simd
                for (int64_t j = 0; j < n; ++j)
                    carry[j] += d * wr[j];
            }
        }
        for (int64_t j = 0; j < n; ++j)
            gh0[b * n + j] = carry[j];
    }
}
