/* optim: see include/scalelab/optim.h */
#include "scalelab/optim.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double sl_lr_auto(double n_kaplan)
{
    double lr = 0.003239 - 0.0001395 * log(n_kaplan);
    /* the rule goes negative past N ~ 1e10; never hand back a useless rate */
    return lr > 1e-5 ? lr : 1e-5;
}

double sl_lr_at(const sl_optim_opts *o, long step)
{
    if (o->warmup > 0 && step < o->warmup)
        return o->lr * (double)(step + 1) / (double)o->warmup;
    long span = o->total - o->warmup;
    double frac = span > 0 ? (double)(step - o->warmup) / (double)span : 1.0;
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    switch (o->schedule) {
    case SL_SCHED_CONSTANT:
        return o->lr;
    case SL_SCHED_LINEAR:
        return o->lr * (1.0 - frac);
    case SL_SCHED_COSINE:
    default:
        return o->lr * 0.5 * (1.0 + cos(M_PI * frac));
    }
}

int sl_schedule_parse(const char *s, sl_schedule *out, sl_error *err)
{
    if (!strcmp(s, "cosine"))
        *out = SL_SCHED_COSINE;
    else if (!strcmp(s, "constant"))
        *out = SL_SCHED_CONSTANT;
    else if (!strcmp(s, "linear"))
        *out = SL_SCHED_LINEAR;
    else
        return sl_fail(err, SL_EINPUT,
                       "--schedule: '%s' is not a schedule (expected cosine, constant or linear)", s);
    return SL_OK;
}

const char *sl_schedule_name(sl_schedule s)
{
    return s == SL_SCHED_CONSTANT ? "constant" : s == SL_SCHED_LINEAR ? "linear" : "cosine";
}

double sl_grad_norm(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}

void sl_adamw_update(const sl_model *mdl, float *m, float *v, size_t lo, size_t hi, long t, double lr,
                     float gscale, const sl_optim_opts *o)
{
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
    const float c1 = (float)(1.0 / (1.0 - pow(o->beta1, (double)t)));
    const float c2 = (float)(1.0 / (1.0 - pow(o->beta2, (double)t)));
    const float flr = (float)lr;
    for (int k = 0; k < SL_NUM_PARAM_TENSORS; k++) {
        size_t a = mdl->info[k].offset, b = a + mdl->info[k].size;
        a = a > lo ? a : lo;
        b = b < hi ? b : hi;
        if (a >= b)
            continue;
        const float wd = mdl->info[k].decay ? (float)(o->weight_decay * lr) : 0.0f;
        float *p = mdl->params, *g = mdl->grads;
        for (size_t i = a; i < b; i++) {
            float gi = g[i] * gscale;
            float mi = b1 * m[i] + (1.0f - b1) * gi;
            float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= flr * (mi * c1) / (sqrtf(vi * c2) + eps) + wd * p[i];
            g[i] = 0.0f; /* consumed: the next step accumulates from zero */
        }
    }
}
