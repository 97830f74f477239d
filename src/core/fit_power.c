/* fit_power: single power laws L = (X_c/X)^alpha and B_crit = B_star/L^(1/alpha_B).
 * In logs both are straight lines, so ordinary least squares on the logs is the
 * exact minimiser of the squared log residuals: no iterations, no start. The
 * logarithmic law L = a - b ln N is a straight line in (ln N, L) and is fitted
 * the same way on L itself; its R^2 and RMS are reported on ln L, as every
 * other law's, so the two rivals compare. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_internal.h"

int fit_power(sl_fit_law law, const sl_fit_point *p, size_t n, const sl_fit_options *o,
              const double *start, fit_est *e, sl_error *err)
{
    (void)o;
    (void)start;
    double *x = sl_xmalloc(2 * n * sizeof *x), *y = x + n;
    for (size_t i = 0; i < n; i++) {
        x[i] = log(fit_x_of(law, &p[i]));
        y[i] = law == SL_LAW_BCRIT ? log(p[i].bcrit) : law == SL_LAW_LOG_N ? p[i].loss : log(p[i].loss);
    }
    double k, m;
    if (fit_ols(x, y, n, &k, &m) != 0) {
        free(x);
        return sl_fail(err, SL_EINPUT, "%s: the x values have no spread (expected at least 2)",
                       sl_fit_law_name(law));
    }
    double xmin = x[0], xmax = x[0];
    for (size_t i = 1; i < n; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
    }
    /* The fitted ln L changes by |m| (xmax - xmin) over the points. When that
     * is below rounding the losses are constant: the slope is zero whatever its
     * sign, and X_c = exp(k / -m) is 0 or infinite (0 for losses above 1, which
     * looked finite and passed for a fit). */
    int flat = !(fabs(m) * (xmax - xmin) > 1e-12 * (1 + fabs(k)));
    double *pred = sl_xmalloc(n * sizeof *pred);
    for (size_t i = 0; i < n; i++)
        pred[i] = k + m * x[i];
    if (law == SL_LAW_LOG_N) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (pred[i] - y[i]) * (pred[i] - y[i]);
        e->objective = ss; /* squared residuals of L: what the fit minimised */
        for (size_t i = 0; i < n; i++) {
            pred[i] = pred[i] > 0 ? log(pred[i]) : NAN;
            y[i] = log(y[i]);
        }
        fit_r2_rms(pred, y, n, &e->r2, &e->rms_log);
    } else {
        fit_r2_rms(pred, y, n, &e->r2, &e->rms_log);
        e->objective = e->rms_log * e->rms_log * (double)n;
    }
    free(pred);
    free(x);
    if (law == SL_LAW_LOG_N) {
        /* L = k + m ln N = a - b ln N */
        e->theta[0] = k;
        e->theta[1] = m;
        e->value[0] = k;
        e->value[1] = -m;
        e->n_starts = 1;
        e->converged = !flat && isfinite(k) && isfinite(m);
        snprintf(e->reason, sizeof e->reason, "%s",
                 e->converged ? "closed-form least squares on L" : "the losses do not change with N");
        return SL_OK;
    }
    if (law == SL_LAW_BCRIT) {
        /* ln B_crit = ln B_star - (1/alpha_B) ln L */
        e->theta[0] = k;
        e->theta[1] = m;
        e->value[0] = exp(k);
        e->value[1] = -1 / m;
    } else {
        /* ln L = alpha ln X_c - alpha ln X */
        e->theta[0] = m;
        e->theta[1] = k;
        e->value[0] = -m;
        e->value[1] = exp(k / -m);
    }
    e->n_starts = 1;
    e->converged = !flat && isfinite(e->value[0]) && isfinite(e->value[1]) &&
                   (law == SL_LAW_BCRIT || e->value[1] > 0);
    snprintf(e->reason, sizeof e->reason, "%s",
             e->converged ? "closed-form least squares on logs"
                 : flat ? "the slope is zero (constant values): no power law in these points"
                        : "the fitted scale is not a finite positive number");
    return SL_OK;
}
