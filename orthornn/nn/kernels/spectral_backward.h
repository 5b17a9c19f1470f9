/* One backward step of the fractional-lambda RUM in spectral form, fused per batch element so
 * that its K (dD) and Q' stay in cache between the three parts (orthornn.nn.rum.spectral; each part
 * has its own kernel and its torch reference, which this calls in sequence on one element):
 *
 *   1. spectral_step_backward  K <- dD (in Q''), the rows back = Q''[...], gc
 *   2. fold_conjugate          dD <- diag(I, H) dD diag(I, H)^T    (when the step was folded: k < n)
 *      fold_right (H^T)        Q'' <- Q' = Q'' diag(I, H^T)
 *   3. spectral_adjoint        the flips, the lambda gradient, L*_lambda and the tangent projection
 *
 * Arguments as in those kernels; kfold = n: not folded (V, S unused). work: 11 n of T; work2: 2 n
 * doubles; work3: 10 m doubles. Instantiated by kernels.c for T = double and float.
 */

void NAME(spectral_backward_fused)(int64_t B, int64_t n, T *K, T *Qp, const T *h, const T *dz, const T *alpha,
                                   const T *om, const T *xi, const T *et, const T *cd, const T *sd, const T *c,
                                   const T *k, T *back, T *gc, int64_t kfold, const T *V, const T *S,
                                   const double *phi, const double *lam, const uint8_t *flip, double eps,
                                   double *glam, T *work, double *work2, double *work3)
{
    int64_t m = n / 2, nz = n - kfold;
    for (int64_t b = 0; b < B; ++b) {
        T *Kb = K + b * n * n, *Qb = Qp + b * n * n;
        NAME(spectral_step_backward)(1, n, Kb, Qb, h + b * n, dz + b * n, alpha + b * n, om + b * n, xi + b * n,
                                     et + b * n, cd + b * m, sd + b * m, c + b, k + b, back + b * 3 * n, gc + b,
                                     work);
        if (kfold < n) {
            NAME(fold_conjugate)(1, n, kfold, Kb, V + b * 2 * nz, S + b * 4, work2);
            NAME(fold_right)(1, n, n, kfold, Qb, V + b * 2 * nz, S + b * 4, 1);
        }
        NAME(spectral_adjoint)(1, n, Kb, phi + b * m, lam + b, flip + b * m, 0, eps, glam + b, work3);
    }
}
