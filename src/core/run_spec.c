/* run_spec: a run's spec as <run>/config.json holds it (preset.h declares
 * sl_run_spec and these): written with every value resolved, read back with
 * each number range-checked before any cast, and compared the way a resumed
 * or half-created store needs. The preset that plans the specs is preset.c
 * and plan.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/model.h"
#include "scalelab/preset.h"

char *sl_run_spec_to_json(const sl_run_spec *r)
{
    const sl_train_opts *t = &r->train;
    sl_counts k = sl_model_counts(&t->model);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddNumberToObject(o, "n_target", r->n_target);
    cJSON_AddNumberToObject(o, "budget", r->budget);
    cJSON_AddNumberToObject(o, "N", k.n_kaplan);
    cJSON_AddNumberToObject(o, "N_total", k.n_total);
    cJSON_AddNumberToObject(o, "layers", t->model.n_layer);
    cJSON_AddNumberToObject(o, "d_model", t->model.d_model);
    cJSON_AddNumberToObject(o, "heads", t->model.n_head);
    cJSON_AddNumberToObject(o, "d_ff", t->model.d_ff);
    cJSON_AddNumberToObject(o, "n_ctx", t->model.n_ctx);
    cJSON_AddNumberToObject(o, "vocab", t->model.vocab);
    cJSON_AddNumberToObject(o, "batch", t->batch);
    cJSON_AddNumberToObject(o, "steps", (double)t->steps);
    cJSON_AddNumberToObject(o, "lr", t->lr > 0 ? t->lr : sl_lr_auto(k.n_kaplan));
    cJSON_AddNumberToObject(o, "warmup", (double)t->warmup);
    cJSON_AddStringToObject(o, "schedule", sl_schedule_name(t->schedule));
    cJSON_AddNumberToObject(o, "weight_decay", t->weight_decay);
    cJSON_AddNumberToObject(o, "beta1", t->beta1);
    cJSON_AddNumberToObject(o, "beta2", t->beta2);
    cJSON_AddNumberToObject(o, "eps", t->eps);
    cJSON_AddNumberToObject(o, "clip", t->clip);
    cJSON_AddNumberToObject(o, "eval_every", t->eval_every);
    cJSON_AddNumberToObject(o, "eval_tokens", (double)t->eval_tokens);
    cJSON_AddNumberToObject(o, "seed", (double)t->seed);
    cJSON_AddNumberToObject(o, "threads", t->threads);
    cJSON_AddNumberToObject(o, "data_limit", (double)t->data_limit);
    cJSON_AddNumberToObject(o, "patience", r->patience);
    cJSON_AddNumberToObject(o, "min_delta", r->min_delta);
    cJSON_AddNumberToObject(o, "priority", r->priority);
    /* optional keys (a config.json without them reads as 0 and "") */
    if (r->anneal)
        cJSON_AddTrueToObject(o, "anneal");
    if (r->annealed_from[0])
        cJSON_AddStringToObject(o, "annealed_from", r->annealed_from);
    if (t->precision != SL_PREC_FP32)
        cJSON_AddStringToObject(o, "precision", sl_precision_name(t->precision));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* The numbers of config.json, each with its range: a value outside it (or a
 * fraction where an integer belongs) is refused naming the field, before any
 * cast, so a damaged or hand-edited file cannot put an out-of-range number
 * into an int. */
static const struct {
    const char *key;
    double lo, hi;
    int integer;
} spec_fields[] = {
    {"index", 0, 1e9, 1},        {"layers", 1, 1024, 1},
    {"d_model", 1, 65536, 1},    {"heads", 1, 65536, 1},
    {"d_ff", 1, 1 << 20, 1},     {"n_ctx", 1, 65536, 1},
    {"vocab", 2, SL_MAX_VOCAB, 1}, {"batch", 1, 65536, 1},
    {"steps", 1, SL_MAX_STEPS, 1}, {"lr", 1e-12, 10, 0},
    {"warmup", -1, SL_MAX_STEPS, 1}, {"weight_decay", 0, 10, 0},
    {"beta1", 0, 1, 0},          {"beta2", 0, 1, 0},
    {"eps", 0, 1, 0},            {"clip", 0, 1e6, 0},
    {"eval_every", 1, 1e9, 1},   {"eval_tokens", 1, 1e12, 1},
    {"seed", 0, 9007199254740992.0, 1}, {"threads", 0, 256, 1},
    {"data_limit", 0, 1e15, 1},  {"patience", 0, 1e6, 1},
    {"min_delta", 0, 10, 0},     {"priority", -1e9, 1e9, 1},
    {"n_target", 0, 1e12, 0},    {"budget", 0, 1e30, 0},
};
enum { N_SPEC_FIELDS = sizeof spec_fields / sizeof spec_fields[0] };

int sl_run_spec_same(const sl_run_spec *have, const sl_run_spec *want)
{
    sl_run_spec h = *have;
    if (want->train.threads == 0)
        h.train.threads = 0;
    h.priority = want->priority;
    char *a = sl_run_spec_to_json(&h), *b = sl_run_spec_to_json(want);
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    return same;
}

int sl_run_spec_from_json(sl_run_spec *r, const char *text, const char *path, sl_error *err)
{
    memset(r, 0, sizeof *r);
    cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s: invalid JSON (expected a run config object)", path);
    }
    double v[N_SPEC_FIELDS];
    for (int i = 0; i < N_SPEC_FIELDS; i++) {
        const char *k = spec_fields[i].key;
        double lo = spec_fields[i].lo, hi = spec_fields[i].hi;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
        if (!cJSON_IsNumber(x)) {
            cJSON_Delete(o);
            return sl_fail(err, SL_EINPUT, "%s:%s: %s (expected a number %g..%g)", path, k,
                           x ? "is not a number" : "missing", lo, hi);
        }
        v[i] = x->valuedouble;
        if (!(v[i] >= lo && v[i] <= hi)) {
            cJSON_Delete(o);
            return sl_fail(err, SL_EINPUT, "%s:%s: %g is out of range (expected %g..%g)", path, k,
                           v[i], lo, hi);
        }
        if (spec_fields[i].integer && v[i] != floor(v[i])) {
            cJSON_Delete(o);
            return sl_fail(err, SL_EINPUT, "%s:%s: %g is not an integer (expected an integer %g..%g)",
                           path, k, v[i], lo, hi);
        }
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(o, "schedule");
    sl_error e2;
    if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= SL_RUN_ID_MAX) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s:id: missing, empty or too long (expected the run's name, under %d bytes)",
                       path, SL_RUN_ID_MAX);
    }
    if (!cJSON_IsString(sch) || sl_schedule_parse(sch->valuestring, &r->train.schedule, &e2)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s:schedule: missing or not a schedule (expected cosine, constant or linear)",
                       path);
    }
    snprintf(r->id, sizeof r->id, "%s", id->valuestring);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(o, "anneal");
    const cJSON *af = cJSON_GetObjectItemCaseSensitive(o, "annealed_from");
    if ((an && !cJSON_IsBool(an)) ||
        (af && (!cJSON_IsString(af) || strlen(af->valuestring) >= SL_RUN_ID_MAX))) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT,
                       "%s:%s: is not %s (expected %s)", path, an && !cJSON_IsBool(an) ? "anneal" : "annealed_from",
                       an && !cJSON_IsBool(an) ? "a boolean" : "a run id",
                       an && !cJSON_IsBool(an) ? "true or false" : "the id of a run, under 64 bytes");
    }
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "precision");
    int prec = SL_PREC_FP32;
    if (pr && (!cJSON_IsString(pr) || (prec = sl_precision_from_name(pr->valuestring)) < 0)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s:precision: is not a precision (expected fp32 or bf16)",
                       path);
    }
    r->train.precision = (sl_precision)prec;
    r->anneal = cJSON_IsTrue(an);
    if (af)
        snprintf(r->annealed_from, sizeof r->annealed_from, "%s", af->valuestring);
    cJSON_Delete(o);
    sl_train_opts *t = &r->train;
    r->index = (int)v[0];
    t->model = (sl_config){(int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6]};
    t->batch = (int)v[7];
    t->steps = (long)v[8];
    t->lr = v[9];
    t->warmup = (long)v[10];
    t->weight_decay = v[11];
    t->beta1 = v[12];
    t->beta2 = v[13];
    t->eps = v[14];
    t->clip = v[15];
    t->eval_every = (int)v[16];
    t->eval_tokens = (size_t)v[17];
    t->seed = (uint64_t)v[18];
    t->threads = (int)v[19];
    t->data_limit = (size_t)v[20];
    r->patience = (int)v[21];
    r->min_delta = v[22];
    r->priority = (int)v[23];
    r->n_target = v[24];
    r->budget = v[25];
    if (t->model.n_head > t->model.d_model || t->model.d_model % t->model.n_head != 0)
        return sl_fail(err, SL_EINPUT, "%s:heads: %d does not divide d_model %d (expected a divisor of d_model)",
                       path, t->model.n_head, t->model.d_model);
    if (sl_config_validate(&t->model, &e2))
        return sl_fail(err, SL_EINPUT, "%s:layers..vocab: %s", path, e2.msg);
    return SL_OK;
}
