/* Body of the fused lambda = 0 RUM step for one element type; included by kernels.c once per type
 * with T (float or double) and NAME(x) (the suffixed function name) defined. */

/* Forward: g = (u~, tau) of the step (u~ is overwritten by u = sigmoid(u~)), h = h_{t-1} and eps
 * (rows of the input projection); writes h_t to out and (p, s, 1/|tau|, c, gamma, delta, r) to
 * sc (B, 7).  Returns the number of degenerate rows (eps = 0, tau = 0 or 1 + c < min1pc). */
int64_t NAME(rum0_forward)(int64_t B, int64_t n, T *g, int64_t sg, const T *h, int64_t sh,
                           const T *eps, int64_t se, T *out, int64_t so, T *sc,
                           int has_eta, double eta, double min1pc)
{
    int64_t bad = 0;
    for (int64_t b = 0; b < B; ++b) {
        T *restrict u = g + b * sg;
        const T *restrict tau = u + n, *restrict hb = h + b * sh, *restrict e = eps + b * se;
        T *restrict o = out + b * so, *restrict S = sc + b * NSC;
        T ee = 0, tt = 0, et = 0, eh = 0, th = 0;
#pragma omp simd reduction(+ : ee, tt, et, eh, th)
        for (int64_t i = 0; i < n; ++i) {
            ee += e[i] * e[i];
            tt += tau[i] * tau[i];
            et += e[i] * tau[i];
            eh += e[i] * hb[i];
            th += tau[i] * hb[i];
        }
        T ie = ee > 0 ? 1 / sqrt(ee) : 1;
        T inv = 1 / sqrt(tt); /* inf for tau = 0: counted as degenerate below */
        T c = et * ie * inv, p = eh * ie, s = th;
        T gam = (p + s * inv) / (1 + c); /* gamma = (a^ + b^).h / (1 + c) */
        T dl = (2 * p - gam) * inv;      /* delta = (2 a^.h - gamma) / |tau| */
        T ga = gam * ie;                 /* gamma a^ = (gamma ie) eps */
        if (!(ee > 0) || !isfinite(inv) || !(1 + c >= min1pc))
            ++bad;
        T ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < n; ++i) {
            T z = e[i] + hb[i] - ga * e[i] + dl * tau[i]; /* eps + R h */
            T cand = z > 0 ? z : 0;
            T ui = NAME(sigmoid)(u[i]);
            T hp = cand + ui * (hb[i] - cand);
            u[i] = ui;
            o[i] = hp;
            ss += hp * hp;
        }
        T r = 1;
        if (has_eta) { /* h_t = r h' with r = eta / |h'| (0 for h' = 0) */
            r = ss > 0 ? (T)eta / sqrt(ss) : 0;
#pragma omp simd
            for (int64_t i = 0; i < n; ++i)
                o[i] *= r;
        }
        S[0] = p, S[1] = s, S[2] = inv, S[3] = c, S[4] = gam, S[5] = dl, S[6] = r;
    }
    return bad;
}

/* Backward: dL/dh_t = G (+ the carry in gh when has_carry), the forward's h_{t-1}, eps,
 * g = (u, tau), sc and h_t; writes d(u~, tau, eps) to dP (rows of 3n) and the direct part of
 * dL/dh_{t-1} over gh.  Between the passes gh holds dL/dh_t (then G u) and dP's eps block holds
 * gz = dL/dz. */
void NAME(rum0_backward)(int64_t B, int64_t n, const T *G, int64_t sG, int has_carry,
                         const T *h, int64_t sh, const T *eps, int64_t se, const T *g, int64_t sg,
                         const T *sc, const T *ht, int64_t sht, int has_eta, double eta,
                         T *dP, int64_t sdP, T *gh, int64_t sgh)
{
    for (int64_t b = 0; b < B; ++b) {
        const T *restrict Gb = G + b * sG, *restrict hb = h + b * sh, *restrict e = eps + b * se;
        const T *restrict u = g + b * sg, *restrict tau = u + n, *restrict htb = ht + b * sht;
        const T *restrict S = sc + b * NSC;
        T *restrict du = dP + b * sdP, *restrict dtau = du + n, *restrict deps = du + 2 * n;
        T *restrict go = gh + b * sgh;
        T p = S[0], s = S[1], inv = S[2], c = S[3], gam = S[4], dl = S[5], r = S[6];
        if (has_carry) {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i)
                go[i] += Gb[i];
        } else {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i)
                go[i] = Gb[i];
        }
        T ee = 0, hG = 0;
#pragma omp simd reduction(+ : ee, hG)
        for (int64_t i = 0; i < n; ++i) {
            ee += e[i] * e[i];
            hG += htb[i] * go[i];
        }
        T ie = ee > 0 ? 1 / sqrt(ee) : 1;
        T ga = gam * ie;
        /* with eta: dL/dh' = r (G - h_t (h_t . G) / eta^2) */
        T gr = has_eta ? r : 1, gk = has_eta ? hG / (T)(eta * eta) : 0;
        T gdl = 0, gge = 0;
#pragma omp simd reduction(+ : gdl, gge)
        for (int64_t i = 0; i < n; ++i) {
            T Gi = gr * (go[i] - htb[i] * gk);
            T z = e[i] + hb[i] - ga * e[i] + dl * tau[i];
            T cand = z > 0 ? z : 0;
            T Gu = Gi * u[i];
            T gz = z > 0 ? Gi - Gu : 0;
            du[i] = (hb[i] - cand) * Gi * u[i] * (1 - u[i]);
            deps[i] = gz;
            go[i] = Gu;
            gdl += gz * tau[i];
            gge += gz * e[i];
        }
        T gga = gge * ie; /* gz . a^ */
        T km = (gga + inv * gdl) / (1 + c);
        T gp = 2 * inv * gdl - km;
        T gs = -inv * km;
        T d = c / inv; /* a^ . tau */
        T gd = inv * gam * km;
        T ginv = (dl / inv) * gdl - s * km + d * gd / inv;
        T a_ga = p * gp + d * gd - gam * gga; /* a^ . d a^, removed by the normalisation */
        /* coefficients of (h, eps, tau) in d tau, d eps and gh (a^ = ie eps) */
        T t_e = gd * ie, t_t = -inv * inv * inv * ginv;
        T e_z = 1 - ie * gam, e_h = ie * gp, e_e = -ie * ie * a_ga, e_t = ie * gd;
        T h_e = gp * ie;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
            T gz = deps[i];
            dtau[i] = gz * dl + hb[i] * gs + e[i] * t_e + tau[i] * t_t;
            deps[i] = gz * e_z + hb[i] * e_h + e[i] * e_e + tau[i] * e_t;
            go[i] = gz + go[i] + e[i] * h_e + tau[i] * gs;
        }
    }
}
