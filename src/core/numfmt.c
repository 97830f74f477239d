/* numfmt: see include/scalelab/numfmt.h */
#include "scalelab/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1.2e+05 -> 1.2e5, 6.2e-09 -> 6.2e-9, in place */
static void compact_exponent(char *buf)
{
    char *e = strchr(buf, 'e');
    if (!e)
        return;
    char *sign = e + 1, *d = e + 2;
    if (*sign != '+' && *sign != '-')
        return;
    while (*d == '0' && d[1])
        d++;
    if (*sign == '+')
        memmove(e + 1, d, strlen(d) + 1);
    else
        memmove(sign + 1, d, strlen(d) + 1);
}

static void si(char *buf, size_t n, double v)
{
    static const char prefix[] = "kMGTPE";
    int k = 0;
    double x = fabs(v);
    while (x >= 999.5 && k < 6) {
        x /= 1000;
        k++;
    }
    if (k)
        snprintf(buf, n, "%s%.3g%c", v < 0 ? "-" : "", x, prefix[k - 1]);
    else
        snprintf(buf, n, "%.3g", v);
}

char *sl_num_format(char *buf, size_t n, double v, sl_num_style style)
{
    if (n == 0)
        return buf;
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    char tmp[64];
    double a = fabs(v);
    switch (style) {
    case SL_NUM_SHORT:
        snprintf(tmp, sizeof tmp, a < 1000 ? "%.3g" : "%.2g", v);
        break;
    case SL_NUM_PARAM:
        snprintf(tmp, sizeof tmp, a >= 1e4 || (v != 0 && a < 1e-3) ? "%.3g" : "%.4g", v);
        break;
    case SL_NUM_METRIC:
        if (a >= 0.01 && a < 1000)
            snprintf(tmp, sizeof tmp, "%.3f", v);
        else
            sl_num_format(tmp, sizeof tmp, v, SL_NUM_SHORT);
        break;
    case SL_NUM_SI:
        si(tmp, sizeof tmp, v);
        break;
    case SL_NUM_TICK: {
        double e = log10(a);
        if (v != 0 && fabs(e - round(e)) < 1e-9 && (e >= 3 || e <= -2))
            snprintf(tmp, sizeof tmp, "%s1e%d", v < 0 ? "-" : "", (int)round(e));
        else
            si(tmp, sizeof tmp, v);
        break;
    }
    default:
        snprintf(tmp, sizeof tmp, "%.17g", v);
        break;
    }
    compact_exponent(tmp);
    snprintf(buf, n, "%s", tmp);
    return buf;
}
