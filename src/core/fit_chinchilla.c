/* fit_chinchilla: Hoffmann et al.'s approach 3, L = E + A/N^alpha + B/D^beta, fitted
 * as published: the summed Huber loss (delta 1e-3) of LSE(a - alpha ln N,
 * b - beta ln D, e) - ln L, L-BFGS from the 4500-point grid; and the maximum-
 * likelihood variant (Gaussian log residuals: squared loss, sigma fitted).
 *
 * Speed comes from three choices: an analytic gradient computed in the same pass
 * as the objective; cheap exponentials (four points per vector call with AVX2,
 * else two exp() and one log() per point); and centring ln N and ln D so that a
 * and alpha (b and beta) are not nearly collinear, which is what makes L-BFGS
 * crawl on the raw parameterisation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

/* With AVX2 and glibc, the objective runs four points at a time through glibc's
 * vector exp and log (libmvec, which -lm brings in); elsewhere it is scalar. */
#if defined(__AVX2__) && defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>
#define CHIN_SIMD 1
__m256d _ZGVdN4v_exp(__m256d x);
__m256d _ZGVdN4v_log(__m256d x);
#endif

#define NP 5    /* a', b', e, alpha, beta (a', b' for centred logs) */
#define HIST 10 /* L-BFGS memory */

typedef struct {
    const double *x, *y, *l; /* ln N - mean, ln D - mean, ln L */
    size_t n;
    double delta;
    int squared;
} chin_data;

/* Objective and gradient over points i0..n-1, one at a time. */
static double chin_fg_scalar(const double *t, double *g, const chin_data *D, size_t i0)
{
    double f = 0, g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0;
    const double a = t[0], b = t[1], e = t[2], al = t[3], be = t[4], delta = D->delta;
    for (size_t i = i0; i < D->n; i++) {
        double x = D->x[i], y = D->y[i];
        double t1 = a - al * x, t2 = b - be * y;
        double e1, e2, e3;
        /* The largest term's exponential is 1: two exp() calls, not three. */
        if (t1 >= t2 && t1 >= e) {
            e1 = 1, e2 = exp(t2 - t1), e3 = exp(e - t1);
        } else if (t2 >= e) {
            e2 = 1, e1 = exp(t1 - t2), e3 = exp(e - t2);
        } else {
            e3 = 1, e1 = exp(t1 - e), e2 = exp(t2 - e);
        }
        double m = t1 >= t2 ? (t1 >= e ? t1 : e) : (t2 >= e ? t2 : e);
        double s = e1 + e2 + e3;
        double r = m + log(s) - D->l[i];
        double h;
        if (D->squared || fabs(r) <= delta) {
            f += 0.5 * r * r;
            h = r;
        } else {
            f += delta * (fabs(r) - 0.5 * delta);
            h = r > 0 ? delta : -delta;
        }
        h /= s;
        double w1 = e1 * h, w2 = e2 * h;
        g0 += w1;
        g1 += w2;
        g2 += e3 * h;
        g3 -= w1 * x;
        g4 -= w2 * y;
    }
    g[0] += g0, g[1] += g1, g[2] += g2, g[3] += g3, g[4] += g4;
    return f;
}


#ifdef CHIN_SIMD
static double hsum(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}
#endif

/* Objective and its gradient in one pass over the points. */
static double chin_fg(const double *t, double *g, const chin_data *D)
{
    size_t i0 = 0;
    double f = 0;
    g[0] = g[1] = g[2] = g[3] = g[4] = 0;
#ifdef CHIN_SIMD
    const __m256d a = _mm256_set1_pd(t[0]), b = _mm256_set1_pd(t[1]), e = _mm256_set1_pd(t[2]);
    const __m256d al = _mm256_set1_pd(t[3]), be = _mm256_set1_pd(t[4]);
    const __m256d delta = _mm256_set1_pd(D->delta), half = _mm256_set1_pd(0.5);
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d vf = _mm256_setzero_pd(), v0 = vf, v1 = vf, v2 = vf, v3 = vf, v4 = vf;
    for (; i0 + 4 <= D->n; i0 += 4) {
        __m256d x = _mm256_loadu_pd(D->x + i0), y = _mm256_loadu_pd(D->y + i0);
        __m256d l = _mm256_loadu_pd(D->l + i0);
        __m256d t1 = _mm256_sub_pd(a, _mm256_mul_pd(al, x));
        __m256d t2 = _mm256_sub_pd(b, _mm256_mul_pd(be, y));
        __m256d m = _mm256_max_pd(_mm256_max_pd(t1, t2), e);
        __m256d e1 = _ZGVdN4v_exp(_mm256_sub_pd(t1, m));
        __m256d e2 = _ZGVdN4v_exp(_mm256_sub_pd(t2, m));
        __m256d e3 = _ZGVdN4v_exp(_mm256_sub_pd(e, m));
        __m256d s = _mm256_add_pd(_mm256_add_pd(e1, e2), e3);
        __m256d r = _mm256_sub_pd(_mm256_add_pd(m, _ZGVdN4v_log(s)), l);
        __m256d quad = _mm256_mul_pd(half, _mm256_mul_pd(r, r)), h = r;
        if (!D->squared) {
            __m256d absr = _mm256_andnot_pd(sign, r);
            __m256d in = _mm256_cmp_pd(absr, delta, _CMP_LE_OQ);
            __m256d lin = _mm256_mul_pd(delta, _mm256_sub_pd(absr, _mm256_mul_pd(half, delta)));
            quad = _mm256_blendv_pd(lin, quad, in);
            h = _mm256_blendv_pd(_mm256_or_pd(_mm256_and_pd(sign, r), delta), r, in);
        }
        vf = _mm256_add_pd(vf, quad);
        h = _mm256_div_pd(h, s);
        __m256d w1 = _mm256_mul_pd(e1, h), w2 = _mm256_mul_pd(e2, h);
        v0 = _mm256_add_pd(v0, w1);
        v1 = _mm256_add_pd(v1, w2);
        v2 = _mm256_add_pd(v2, _mm256_mul_pd(e3, h));
        v3 = _mm256_sub_pd(v3, _mm256_mul_pd(w1, x));
        v4 = _mm256_sub_pd(v4, _mm256_mul_pd(w2, y));
    }
    f = hsum(vf);
    g[0] = hsum(v0), g[1] = hsum(v1), g[2] = hsum(v2), g[3] = hsum(v3), g[4] = hsum(v4);
#endif
    return f + chin_fg_scalar(t, g, D, i0);
}

static double dot(const double *u, const double *v)
{
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2] + u[3] * v[3] + u[4] * v[4];
}

typedef struct {
    int converged, iters;
    double gnorm;
    const char *why;
} lbfgs_info;

/* Far from the optimum most residuals sit on the linear arms of the Huber loss,
 * where the objective is nearly flat in curvature and the quasi-Newton step is
 * too short. While the slope along d stays steep (the Wolfe curvature test
 * fails) and the objective keeps falling, the step doubles. */
static double expand(const double *x, const double *d, double f, double gd, double step,
                     double *xn, double *fn, double *gn, const chin_data *D)
{
    double x2[NP], g2[NP];
    for (int k = 0; k < 30 && dot(gn, d) < 0.9 * gd; k++) {
        double s2 = 2 * step;
        for (int j = 0; j < NP; j++)
            x2[j] = x[j] + s2 * d[j];
        double f2 = chin_fg(x2, g2, D);
        if (!(f2 <= f + 1e-4 * s2 * gd) || !(f2 < *fn))
            break;
        step = s2;
        *fn = f2;
        memcpy(xn, x2, sizeof x2);
        memcpy(gn, g2, sizeof g2);
    }
    return step;
}

/* L-BFGS with a backtracking (Armijo) line search that interpolates its step.
 * Stops on a small gradient, or when the objective stops falling relative to its
 * size for three iterations in a row (the Huber kink makes the last digits of
 * the gradient noisy, so the objective is the steadier test). */
static double lbfgs(double *x, const chin_data *D, int max_iter, double gtol, double ftol,
                    lbfgs_info *info)
{
    double g[NP], xn[NP], gn[NP], d[NP];
    double S[HIST][NP], Y[HIST][NP], rho[HIST], alpha[HIST];
    int count = 0, head = 0, flat = 0;
    double f = chin_fg(x, g, D);
    info->converged = 0;
    info->why = "iteration limit reached";
    int it;
    for (it = 0; it < max_iter; it++) {
        double gmax = 0;
        for (int k = 0; k < NP; k++)
            gmax = fmax(gmax, fabs(g[k]));
        info->gnorm = gmax;
        if (!isfinite(f) || !isfinite(gmax)) {
            info->why = "objective became non-finite";
            break;
        }
        if (gmax <= gtol) {
            info->converged = 1;
            info->why = "small gradient";
            break;
        }
        /* Two-loop recursion: d = -H g. */
        memcpy(d, g, sizeof d);
        for (int j = 0; j < count; j++) {
            int i = (head - 1 - j + HIST) % HIST;
            alpha[i] = rho[i] * dot(S[i], d);
            for (int k = 0; k < NP; k++)
                d[k] -= alpha[i] * Y[i][k];
        }
        double gamma;
        if (count > 0) {
            int i = (head - 1 + HIST) % HIST;
            gamma = dot(S[i], Y[i]) / dot(Y[i], Y[i]);
        } else {
            gamma = 1 / sqrt(dot(g, g));
        }
        for (int k = 0; k < NP; k++)
            d[k] *= gamma;
        for (int j = count - 1; j >= 0; j--) {
            int i = (head - 1 - j + HIST) % HIST;
            double beta = rho[i] * dot(Y[i], d);
            for (int k = 0; k < NP; k++)
                d[k] += S[i][k] * (alpha[i] - beta);
        }
        for (int k = 0; k < NP; k++)
            d[k] = -d[k];
        double gd = dot(g, d);
        if (!(gd < 0)) {
            /* Not a descent direction: forget the curvature pairs. */
            count = 0;
            gamma = 1 / sqrt(dot(g, g));
            for (int k = 0; k < NP; k++)
                d[k] = -gamma * g[k];
            gd = dot(g, d);
        }
        double step = 1, fn = 0;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int k = 0; k < NP; k++)
                xn[k] = x[k] + step * d[k];
            fn = chin_fg(xn, gn, D);
            if (isfinite(fn) && fn <= f + 1e-4 * step * gd) {
                ok = 1;
                if (ls == 0)
                    step = expand(x, d, f, gd, step, xn, &fn, gn, D);
                break;
            }
            double next = isfinite(fn) ? -gd * step * step / (2 * (fn - f - gd * step)) : 0;
            step = isfinite(next) ? fmin(fmax(next, 0.1 * step), 0.5 * step) : 0.5 * step;
        }
        if (!ok) {
            if (count > 0) {
                count = 0;
                continue;
            }
            info->why = "line search found no decrease";
            /* At a kink of the Huber loss this is the optimum to working precision. */
            info->converged = gmax <= 1e3 * gtol;
            break;
        }
        double sy = 0, yy = 0;
        for (int k = 0; k < NP; k++) {
            S[head][k] = xn[k] - x[k];
            Y[head][k] = gn[k] - g[k];
        }
        sy = dot(S[head], Y[head]);
        yy = dot(Y[head], Y[head]);
        if (sy > 1e-300 && yy > 0) {
            rho[head] = 1 / sy;
            head = (head + 1) % HIST;
            if (count < HIST)
                count++;
        }
        double df = f - fn;
        memcpy(x, xn, sizeof xn);
        memcpy(g, gn, sizeof gn);
        f = fn;
        flat = df <= ftol * fabs(f) ? flat + 1 : 0;
        if (flat >= 3) {
            info->converged = 1;
            info->why = "objective stopped decreasing";
            break;
        }
    }
    info->iters = it;
    return f;
}

/* Solver parameters (centred a', b') to the published ones and back. */
static void to_values(const double *t, double mx, double my, double *theta, double *v)
{
    double a = t[0] + t[3] * mx, b = t[1] + t[4] * my;
    theta[0] = a, theta[1] = b, theta[2] = t[2], theta[3] = t[3], theta[4] = t[4];
    v[0] = exp(t[2]);
    v[1] = exp(a);
    v[2] = exp(b);
    v[3] = t[3];
    v[4] = t[4];
}

int fit_chinchilla(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
                   const double *start, fit_est *e, sl_error *err)
{
    (void)err;
    double *buf = sl_xmalloc(3 * n * sizeof *buf);
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        buf[i] = log(p[i].n);
        buf[n + i] = log(p[i].d);
        buf[2 * n + i] = log(p[i].loss);
        mx += buf[i];
        my += buf[n + i];
    }
    mx /= (double)n, my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        buf[i] -= mx;
        buf[n + i] -= my;
    }
    chin_data D = {buf, buf + n, buf + 2 * n, n, o->huber_delta, law == SL_LAW_CHINCHILLA_ML};
    /* Each start stops when the objective is flat to 1e-10 of itself; the best
     * is then polished to the limit of double precision. */
    const double gtol = 1e-12, ftol_start = 1e-10, ftol_polish = 1e-15;
    const int iter_start = o->max_iter > 0 ? o->max_iter : 400;
    const int iter_polish = o->max_iter > 0 ? o->max_iter : 5000;

    double best[NP], best_f = INFINITY, t[NP];
    lbfgs_info info = {0}, best_info = {0};
    size_t n_starts = 0;
    if (start) {
        /* Warm start: one run from the previous optimum (published a, b). */
        t[0] = start[0] - start[3] * mx, t[1] = start[1] - start[4] * my;
        t[2] = start[2], t[3] = start[3], t[4] = start[4];
        best_f = lbfgs(t, &D, iter_polish, gtol, ftol_polish, &best_info);
        memcpy(best, t, sizeof t);
        n_starts = 1;
    } else {
        /* Hoffmann's grid: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
         * a, b in {0, 5, ..., 25}: 4500 starts, or o->starts of them taken at even
         * strides (the whole grid in its order when starts is 0). */
        const size_t grid = 6 * 6 * 5 * 5 * 5;
        size_t want = o->starts > 0 && (size_t)o->starts < grid ? (size_t)o->starts : grid;
        for (size_t j = 0; j < want; j++) {
            size_t g = j * grid / want;
            int ibe = (int)(g % 5), ial = (int)(g / 5 % 5), ie = (int)(g / 25 % 5);
            int ib = (int)(g / 125 % 6), ia = (int)(g / 750);
            double al = 0.5 * ial, be = 0.5 * ibe;
            t[0] = 5.0 * ia - al * mx;
            t[1] = 5.0 * ib - be * my;
            t[2] = -1 + 0.5 * ie;
            t[3] = al, t[4] = be;
            double f = lbfgs(t, &D, iter_start, gtol, ftol_start, &info);
            n_starts++;
            if (f < best_f) {
                best_f = f;
                memcpy(best, t, sizeof t);
                best_info = info;
            }
            if (o->progress)
                o->progress(o->progress_user, "starts", j + 1, want);
            if (fit_cancelled(o))
                break;
        }
        memcpy(t, best, sizeof t);
        best_f = lbfgs(t, &D, iter_polish, gtol, ftol_polish, &best_info);
        memcpy(best, t, sizeof t);
    }
    e->n_starts = n_starts;
    to_values(best, mx, my, e->theta, e->value);
    e->objective = best_f;
    e->converged = best_info.converged && isfinite(best_f);
    if (start)
        snprintf(e->reason, sizeof e->reason,
                 "L-BFGS warm-started from the last fit: %s after %d iterations (gradient %.2g)",
                 best_info.why, best_info.iters, best_info.gnorm);
    else
        snprintf(e->reason, sizeof e->reason,
                 "L-BFGS from %zu starts, best polished: %s after %d more iterations "
                 "(gradient %.2g)",
                 n_starts, best_info.why, best_info.iters, best_info.gnorm);
    double *pred = sl_xmalloc(n * sizeof *pred), ss = 0;
    for (size_t i = 0; i < n; i++) {
        double lp = log(fit_eval(law, e->value, SL_FIT_Q_LOSS, &p[i]));
        pred[i] = lp;
        ss += (lp - D.l[i]) * (lp - D.l[i]);
    }
    fit_r2_rms(pred, D.l, n, &e->r2, &e->rms_log);
    if (law == SL_LAW_CHINCHILLA_ML) {
        /* With sigma at its maximum-likelihood value the likelihood is a function of
         * the squared residuals alone, so sigma^2 is their mean. */
        e->value[5] = sqrt(ss / (double)n);
        e->theta[5] = e->value[5];
    }
    free(pred);
    free(buf);
    return SL_OK;
}
