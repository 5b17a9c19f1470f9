/* The rank-2 reflector products of the folded angle-0 block (orthornn.nn.rum.deflation; its torch
 * form is the reference), per batch element in cache.
 *
 * H = H1 H2 = I - V S V^T on the columns k..n-1, V = [v1, v2] (nz = n - k rows; passed as the two
 * contiguous vectors v1, v2 of each batch element, (B, 2, nz)), S = [[2, -4 v1.v2], [0, 2]] (B, 2, 2).
 *
 * fold_right:      X_Z <- X_Z H (transpose = 0) or X_Z H^T (transpose = 1), for the r rows of
 *                  each (r x n) matrix X_b: per row, p = x_Z V, q = p S (or p S^T), x_Z -= V q.
 * fold_conjugate:  G <- diag(I, H) G diag(I, H)^T for each (n x n) G_b: the rows k.. by
 *                  G_Z <- G_Z - (V S)(V^T G_Z), then the columns by fold_right with H^T.
 *
 * Instantiated by kernels.c for T = double and float (the dot products accumulate in double).
 */

static void NAME(fold_rows_right)(int64_t r, int64_t n, int64_t k, T *X, const T *v1, const T *v2, double s00,
                                  double s01, double s10, double s11)
{
    int64_t nz = n - k;
    for (int64_t i = 0; i < r; ++i) {
        T *x = X + i * n + k;
        double p0 = 0, p1 = 0;
#pragma omp simd reduction(+ : p0, p1)
        for (int64_t j = 0; j < nz; ++j) {
            p0 += (double)x[j] * v1[j];
            p1 += (double)x[j] * v2[j];
        }
        T q0 = (T)(p0 * s00 + p1 * s10), q1 = (T)(p0 * s01 + p1 * s11);
#pragma omp simd
        for (int64_t j = 0; j < nz; ++j)
            x[j] -= q0 * v1[j] + q1 * v2[j];
    }
}

void NAME(fold_right)(int64_t B, int64_t r, int64_t n, int64_t k, T *X, const T *V, const T *S, int64_t transpose)
{
    int64_t nz = n - k;
    for (int64_t b = 0; b < B; ++b) {
        const T *v1 = V + b * 2 * nz, *v2 = v1 + nz, *s = S + b * 4;
        double s01 = transpose ? s[2] : s[1], s10 = transpose ? s[1] : s[2];
        NAME(fold_rows_right)(r, n, k, X + b * r * n, v1, v2, s[0], s01, s10, s[3]);
    }
}

/* work: 2 n doubles */
void NAME(fold_conjugate)(int64_t B, int64_t n, int64_t k, T *G, const T *V, const T *S, double *work)
{
    int64_t nz = n - k;
    double *u0 = work, *u1 = work + n;
    for (int64_t b = 0; b < B; ++b) {
        T *g = G + b * n * n;
        const T *v1 = V + b * 2 * nz, *v2 = v1 + nz, *s = S + b * 4;
        for (int64_t c = 0; c < n; ++c)
            u0[c] = 0, u1[c] = 0;
        for (int64_t j = 0; j < nz; ++j) { /* V^T G_Z */
            const T *row = g + (k + j) * n;
            double a = v1[j], e = v2[j];
#pragma omp simd
            for (int64_t c = 0; c < n; ++c) {
                u0[c] += a * row[c];
                u1[c] += e * row[c];
            }
        }
        for (int64_t j = 0; j < nz; ++j) { /* G_Z -= (V S) u */
            T *row = g + (k + j) * n;
            double w0 = v1[j] * s[0] + v2[j] * s[2], w1 = v1[j] * s[1] + v2[j] * s[3];
#pragma omp simd
            for (int64_t c = 0; c < n; ++c)
                row[c] -= (T)(w0 * u0[c] + w1 * u1[c]);
        }
        NAME(fold_rows_right)(n, n, k, g, v1, v2, s[0], s[2], s[1], s[3]); /* G_Z-columns H^T */
    }
}
