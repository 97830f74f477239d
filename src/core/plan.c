/* plan: a preset planned into the runs of its sweep (preset.h: sl_preset_plan),
 * and the one planner of a run at (N, D, C) that the plan and the lab's
 * selectors share (sl_preset_run_at). Parsing and validation are preset.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/model.h"
#include "scalelab/optim.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"

/* sweep.KEY[i] of a validated preset (preset.c checked every array) */
static double arr_at(const cJSON *o, const char *key, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, key), i)->valuedouble;
}

static void add_run(sl_preset *p, int *cap, const sl_run_spec *r)
{
    if (p->n_runs == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        sl_run_spec *v = realloc(p->runs, (size_t)*cap * sizeof *v);
        if (!v)
            abort();
        p->runs = v;
    }
    p->runs[p->n_runs++] = *r;
}

static long steps_for(double tokens, int batch, int n_ctx)
{
    double s = ceil(tokens / ((double)batch * n_ctx));
    return s < 1 ? 1 : (long)s;
}

void sl_preset_settle_run(const sl_preset *p, sl_run_spec *r)
{
    sl_train_opts *t = &r->train;
    if (t->eval_every > t->steps)
        t->eval_every = (int)t->steps;
    if (p->warmup_n_tokens) {
        long w = steps_for(sl_model_counts(&t->model).n_kaplan, t->batch, t->model.n_ctx);
        t->warmup = w < t->steps ? w : t->steps;
    }
}

int sl_preset_run_at(const sl_preset *p, double n, double d, double c, sl_run_spec *r,
                     sl_error *err)
{
    sl_train_opts *t = &r->train;
    if (n > 0) {
        int rc = sl_model_for_n(n, p->aspect, p->layers, p->head_size, p->ff_mult,
                                t->model.n_ctx, t->model.vocab, &t->model, err);
        if (rc != SL_OK)
            return rc;
        r->n_target = n;
    }
    if (p->kind == SL_SWEEP_ND && d > 0)
        t->data_limit = (size_t)d;
    if (p->kind == SL_SWEEP_ISOFLOP && c > 0) {
        r->budget = c;
        t->steps = steps_for(c / sl_model_flops_per_token(&t->model, p->accounting), t->batch,
                             t->model.n_ctx);
    }
    sl_preset_settle_run(p, r);
    return SL_OK;
}

int sl_preset_plan(sl_preset *p, const sl_corpus *corpus, sl_error *err)
{
    const char *f = p->path;
    cJSON *root = p->json;
    cJSON *sw = cJSON_GetObjectItemCaseSensitive(root, "sweep");
    cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "train");
    cJSON *shapes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "shapes");
    int nN = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "n"));
    int nD = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "d"));
    int nC = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "budgets"));
    int nA = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "aspects"));
    int nB = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "batches"));
    int nS = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tr, "seeds"));
    int nF = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sw, "lr_factors"));
    int vocab = corpus->vocab;
    int cap = 0;
    free(p->runs);
    p->runs = NULL;
    p->n_runs = 0;
    p->max_epochs = 0;
    p->max_epochs_run = -1;
    sl_error e2;
    if (sl_corpus_check_ctx(corpus, p->n_ctx, &e2))
        return sl_fail(err, SL_EINPUT, "%s:model.n_ctx: %d does not fit the corpus (%s)", f, p->n_ctx,
                       e2.msg);

    /* the list of shapes: (config, N asked for, where it came from) */
    int n_shapes = 0, rc = SL_OK;
    int max_shapes = p->kind == SL_SWEEP_SHAPE && shapes ? cJSON_GetArraySize(shapes)
                   : nN * (p->kind == SL_SWEEP_SHAPE ? nA : 1);
    sl_config *cfgs = sl_xmalloc((size_t)(max_shapes > 0 ? max_shapes : 1) * sizeof *cfgs);
    double *targets = sl_xmalloc((size_t)(max_shapes > 0 ? max_shapes : 1) * sizeof *targets);
    if (p->kind == SL_SWEEP_SHAPE && shapes) {
        int i = 0;
        for (cJSON *it = shapes->child; it; it = it->next, i++) {
            cfgs[n_shapes] = (sl_config){
                cJSON_GetObjectItemCaseSensitive(it, "layers")->valueint,
                cJSON_GetObjectItemCaseSensitive(it, "d_model")->valueint,
                cJSON_GetObjectItemCaseSensitive(it, "heads")->valueint,
                cJSON_GetObjectItemCaseSensitive(it, "d_ff")->valueint, p->n_ctx, vocab};
            targets[n_shapes++] = 0;
        }
    } else {
        int na = p->kind == SL_SWEEP_SHAPE ? nA : 1;
        for (int i = 0; i < nN && rc == SL_OK; i++)
            for (int a = 0; a < na && rc == SL_OK; a++) {
                double n = arr_at(sw, "n", i);
                double aspect = p->kind == SL_SWEEP_SHAPE ? arr_at(sw, "aspects", a) : p->aspect;
                if (sl_model_for_n(n, aspect, p->layers, p->head_size, p->ff_mult, p->n_ctx, vocab,
                                   &cfgs[n_shapes], &e2)) {
                    const char *why = strstr(e2.msg, "below") ? "is below the smallest model"
                                                             : "has no shape";
                    int L = p->layers ? p->layers : 1;
                    sl_config smallest = {L, p->head_size, 1, p->ff_mult * p->head_size, p->n_ctx, vocab};
                    char depth[48] = "";
                    if (p->layers)
                        snprintf(depth, sizeof depth, " and %d layers", p->layers);
                    rc = sl_fail(err, SL_EINPUT,
                                 "%s:sweep.n[%d]: %g %s with head size %d%s (expected N >= %.0f)",
                                 f, i, n, why, p->head_size, depth,
                                 sl_model_counts(&smallest).n_kaplan);
                    break;
                }
                targets[n_shapes++] = n;
            }
    }

    int index = 0;
    for (int si = 0; si < n_shapes && rc == SL_OK; si++) {
        int n_inner = p->kind == SL_SWEEP_ND ? nD : p->kind == SL_SWEEP_ISOFLOP ? nC
                    : p->kind == SL_SWEEP_BATCH ? nB : 1;
        for (int k = 0; k < n_inner && rc == SL_OK; k++)
            for (int lf = 0; lf < (nF > 0 ? nF : 1) && rc == SL_OK; lf++)
            for (int s = 0; s < nS && rc == SL_OK; s++) {
                sl_run_spec r;
                memset(&r, 0, sizeof r);
                r.train = p->train;
                r.train.model = cfgs[si];
                r.train.seed = (uint64_t)arr_at(tr, "seeds", s);
                r.n_target = targets[si];
                r.patience = p->patience;
                r.anneal = p->anneal && p->patience > 0;
                r.min_delta = p->min_delta;
                if (p->tokens > 0)
                    r.train.steps = steps_for(p->tokens, r.train.batch, p->n_ctx);
                sl_counts cnt = sl_model_counts(&r.train.model);
                double place_d = 0, place_c = 0, lr_factor = 0;
                if (p->kind == SL_SWEEP_ND) {
                    double d = arr_at(sw, "d", k);
                    if (d > (double)corpus->n_train) {
                        rc = sl_fail(err, SL_EINPUT,
                                     "%s:sweep.d[%d]: %.0f tokens is beyond the train split (expected <= %zu)",
                                     f, k, d, corpus->n_train);
                        break;
                    }
                    if (d < p->n_ctx + 1) {
                        rc = sl_fail(err, SL_EINPUT,
                                     "%s:sweep.d[%d]: %.0f tokens is shorter than one context (expected >= %d)",
                                     f, k, d, p->n_ctx + 1);
                        break;
                    }
                    place_d = d;
                } else if (p->kind == SL_SWEEP_ISOFLOP) {
                    double C = arr_at(sw, "budgets", k);
                    double fpt = sl_model_flops_per_token(&r.train.model, p->accounting);
                    double tokens = C / fpt;
                    if (tokens < (double)r.train.batch * p->n_ctx) {
                        rc = sl_fail(err, SL_EINPUT,
                                     "%s:sweep.budgets[%d]: %g FLOPs is less than one step of the N=%.0f model (expected >= %g)",
                                     f, k, C, cnt.n_kaplan,
                                     fpt * r.train.batch * p->n_ctx);
                        break;
                    }
                    if (tokens / ((double)r.train.batch * p->n_ctx) > SL_MAX_STEPS) {
                        rc = sl_fail(err, SL_EINPUT,
                                     "%s:sweep.budgets[%d]: %g FLOPs needs more than %g steps of the N=%.0f model (expected <= %g FLOPs)",
                                     f, k, C, SL_MAX_STEPS, cnt.n_kaplan,
                                     fpt * r.train.batch * p->n_ctx * SL_MAX_STEPS);
                        break;
                    }
                    place_c = C;
                } else if (p->kind == SL_SWEEP_BATCH) {
                    r.train.batch = (int)arr_at(sw, "batches", k);
                    if (p->tokens > 0)
                        r.train.steps = steps_for(p->tokens, r.train.batch, p->n_ctx);
                }
                if (nF > 0) {
                    double fac = arr_at(sw, "lr_factors", lf);
                    r.train.lr = fac * (p->train.lr > 0 ? p->train.lr : sl_lr_auto(cnt.n_kaplan));
                    lr_factor = fac;
                }
                /* the shape is chosen above (with messages naming sweep.n[i]) */
                sl_preset_run_at(p, 0, place_d, place_c, &r, err);
                /* epochs of the run's train data (the D subset for data-limited runs) */
                double ep = sl_corpus_epochs(corpus, r.train.data_limit,
                                             (double)r.train.steps * r.train.batch * p->n_ctx);
                if (r.train.data_limit == 0 && ep > p->max_epochs) {
                    p->max_epochs = ep;
                    p->max_epochs_run = index;
                }
                r.index = index++;
                sl_run_id(&r, p->kind, lr_factor, r.id);
                add_run(p, &cap, &r);
            }
    }
    free(cfgs);
    free(targets);
    if (rc == SL_OK && p->n_runs == 0)
        rc = sl_fail(err, SL_EINPUT, "%s:sweep: plans no runs (expected at least one)", f);
    return rc;
}

