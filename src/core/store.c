/* store: see include/scalelab/store.h.
 *
 * Crash safety rests on two rules. Files that are replaced (status.json,
 * config.json, sweep.json, checkpoint.bin) go through sl_write_atomic, so a
 * reader sees the old or the new file, never a mix. metrics.csv is only
 * appended to, and a run writes a row before the checkpoint that accounts for
 * it: after a crash the rows past the checkpoint (and a torn last line) are
 * dropped and the resumed run writes them again, bit for bit the same. */
#define _DEFAULT_SOURCE /* realpath */
#include "scalelab/store.h"

#include "scalelab/corpus.h"
#include "scalelab/csv.h"
#include "scalelab/run.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *metrics_cols =
    "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s";
/* Added in store format 2; a file from before has no such column (its rows
 * read with test_bpb NaN, and a resumed run goes on in its layout). */
static const char *bpb_col = "test_bpb";

void sl_metrics_header(FILE *f, const char *extra_col)
{
    if (extra_col)
        fprintf(f, "%s,%s,%s\n", metrics_cols, bpb_col, extra_col);
    else
        fprintf(f, "%s,%s\n", metrics_cols, bpb_col);
    fflush(f);
}

int sl_metrics_write_row(FILE *f, const sl_metric_row *r, int layout, double extra)
{
    /* losses to round-trip precision: a resumed run reads its rows back and
     * must report the same best and final loss, bit for bit */
    fprintf(f, "%ld,%.0f,%.6e,%.17g,%.17g,%.6e,%.6f,%.6e,%.3f", r->step, r->tokens, r->flops,
            r->train_loss, r->test_loss, r->lr, r->grad_norm, r->noise_scale, r->wall_s);
    if (!(layout & SL_METRICS_NO_BPB))
        fprintf(f, ",%.17g", r->test_bpb);
    if (layout & SL_METRICS_TRANSFER)
        fprintf(f, ",%.17g", extra);
    fputc('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}

/* The layout of a header line (len bytes, without its line end): -1 when it
 * is not a metrics header; *extra_at where the extra column's name starts. */
static int header_layout(const char *h, size_t len, size_t *extra_at)
{
    size_t base = strlen(metrics_cols), nb = strlen(bpb_col);
    if (len < base || strncmp(h, metrics_cols, base) != 0 || (len > base && h[base] != ','))
        return -1;
    int layout = SL_METRICS_NO_BPB;
    size_t at = base;
    if (len >= at + 1 + nb && !strncmp(h + at + 1, bpb_col, nb) &&
        (len == at + 1 + nb || h[at + 1 + nb] == ',')) {
        layout = 0;
        at += 1 + nb;
    }
    if (len > at) {
        layout |= SL_METRICS_TRANSFER;
        *extra_at = at + 1;
    }
    return layout;
}

int sl_metrics_layout(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int layout = 0;
    if (fgets(line, sizeof line, f) && strchr(line, '\n')) {
        size_t len = strcspn(line, "\r\n"), at = 0;
        layout = header_layout(line, len, &at);
        if (layout < 0)
            layout = 0;
    }
    fclose(f);
    return layout;
}

/* The step at the start of a metrics row ("STEP,"): an integer
 * 0..SL_MAX_STEPS, else -1 (a damaged row; it is never cast). */
static long row_step(const char *line)
{
    char *end;
    double v = strtod(line, &end);
    if (end == line || *end != ',' || !(v >= 0 && v <= SL_MAX_STEPS) || v != floor(v))
        return -1;
    return (long)v;
}

int sl_metrics_trim(const char *path, long step, sl_error *err)
{
    char *data;
    size_t len;
    if (access(path, F_OK) != 0)
        return SL_OK;
    int rc = sl_read_file(path, &data, &len, err);
    if (rc)
        return rc;
    size_t keep = 0;
    char *line = data;
    while (line < data + len) {
        char *nl = memchr(line, '\n', (size_t)(data + len - line));
        if (!nl)
            break; /* torn */
        long s = line == data ? 0 : row_step(line);
        if (line == data || (s >= 0 && s <= step))
            keep = (size_t)(nl + 1 - data);
        else
            break;
        line = nl + 1;
    }
    rc = keep == len ? SL_OK : sl_write_atomic(path, data, keep, err);
    free(data);
    return rc;
}

/* One number of a row and the comma after it: 0, or -1 when the field is
 * not a number (empty, text, or missing). "nan" is a number here. */
static int field(char **p, double *v)
{
    char *end;
    *v = strtod(*p, &end);
    if (end == *p || (*end != ',' && *end != 0))
        return -1;
    *p = *end == ',' ? end + 1 : end;
    return 0;
}

int sl_metrics_read(const char *path, sl_metric_row **rows, size_t *n, double **extra,
                    sl_error *err)
{
    *rows = NULL;
    *n = 0;
    if (extra)
        *extra = NULL;
    char *data;
    size_t len;
    int rc = sl_read_file(path, &data, &len, err);
    if (rc)
        return rc;
    char *nl = memchr(data, '\n', len);
    if (!nl) { /* empty, or a header torn by a crash: no rows yet */
        free(data);
        *rows = sl_xmalloc(sizeof **rows);
        return SL_OK;
    }
    size_t hlen = (size_t)(nl - data), extra_at = 0;
    if (hlen && data[hlen - 1] == '\r')
        hlen--;
    int layout = header_layout(data, hlen, &extra_at);
    if (layout < 0) {
        free(data);
        return sl_fail(err, SL_EINPUT, "%s: header: not a metrics file (expected %s,%s)", path,
                       metrics_cols, bpb_col);
    }
    int has_extra = (layout & SL_METRICS_TRANSFER) != 0, has_bpb = !(layout & SL_METRICS_NO_BPB);
    size_t cap = 64;
    sl_metric_row *r = sl_xmalloc(cap * sizeof *r);
    double *x = sl_xmalloc(cap * sizeof *x);
    char *line = nl + 1;
    while (line < data + len) {
        char *end = memchr(line, '\n', (size_t)(data + len - line));
        if (!end)
            break; /* a torn last line */
        *end = 0;
        if (*n == cap) {
            cap *= 2;
            r = realloc(r, cap * sizeof *r);
            x = realloc(x, cap * sizeof *x);
            if (!r || !x) {
                free(data);
                free(r);
                free(x);
                return sl_fail(err, SL_ERUNTIME, "%s: out of memory", path);
            }
        }
        char *p = line;
        sl_metric_row *m = &r[*n];
        /* every field a number, as many as the header, the step an integer */
        static const char *const names[] = {"step",   "tokens",    "flops",
                                            "train_loss", "test_loss", "lr",
                                            "grad_norm",  "noise_scale", "wall_s", "test_bpb"};
        double v[11];
        int nf = 9 + has_bpb + has_extra, bad = -1;
        const char *why = "not a number";
        for (int k = 0; k < nf && bad < 0; k++) {
            if (field(&p, &v[k]) != 0)
                bad = k;
            else if (k + 1 < nf && p[-1] != ',') {
                bad = k + 1;
                why = "missing: the row ends before it";
            } else if (k + 1 == nf && *p) {
                bad = k;
                why = "followed by more fields than the header has";
            }
        }
        long step = bad < 0 ? row_step(line) : -1;
        if (bad < 0 && step < 0) {
            bad = 0;
            why = "not an integer 0..1e15";
        }
        if (bad >= 0) {
            int is_extra = has_extra && bad == nf - 1;
            const char *col = is_extra ? data + extra_at : names[bad];
            int col_len = is_extra ? (int)(hlen - extra_at) : (int)strlen(col);
            rc = sl_fail(err, SL_EINPUT, "%s:line %zu: %.*s: %s (expected %d numbers, as the header)",
                         path, 2 + *n, col_len, col, why, nf);
            free(data);
            free(r);
            free(x);
            return rc;
        }
        m->step = step;
        m->tokens = v[1];
        m->flops = v[2];
        m->train_loss = v[3];
        m->test_loss = v[4];
        m->lr = v[5];
        m->grad_norm = v[6];
        m->noise_scale = v[7];
        m->wall_s = v[8];
        m->test_bpb = has_bpb ? v[9] : NAN;
        x[*n] = has_extra ? v[nf - 1] : NAN;
        (*n)++;
        line = end + 1;
    }
    free(data);
    *rows = r;
    if (extra && has_extra)
        *extra = x;
    else
        free(x);
    return SL_OK;
}

static void num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

int sl_status_write(const char *run_dir, const sl_run_status *s, sl_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "state", s->state);
    cJSON_AddStringToObject(o, "reason", s->reason);
    cJSON_AddNumberToObject(o, "step", (double)s->step);
    num(o, "best_test_loss", s->best_test_loss);
    num(o, "final_test_loss", s->final_test_loss);
    num(o, "best_test_bpb", s->best_test_bpb);
    num(o, "epochs", s->epochs);
    cJSON_AddNumberToObject(o, "threads", s->threads);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char path[1200];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_STATUS_FILE);
    size_t len = strlen(text);
    int rc = sl_write_atomic(path, text, len, err);
    free(text);
    return rc;
}

static double getnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int sl_status_read(const char *run_dir, sl_run_status *s, sl_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->state, sizeof s->state, "queued");
    s->best_test_loss = s->final_test_loss = s->best_test_bpb = s->epochs = NAN;
    char path[1200];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_STATUS_FILE);
    if (access(path, F_OK) != 0)
        return SL_OK;
    char *text;
    size_t len;
    int rc = sl_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s: not valid JSON (expected a run status object)", path);
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(o, "reason");
    if (cJSON_IsString(st))
        snprintf(s->state, sizeof s->state, "%s", st->valuestring);
    if (cJSON_IsString(re))
        snprintf(s->reason, sizeof s->reason, "%s", re->valuestring);
    double step = getnum(o, "step"), thr = getnum(o, "threads");
    s->best_test_loss = getnum(o, "best_test_loss");
    s->final_test_loss = getnum(o, "final_test_loss");
    s->best_test_bpb = getnum(o, "best_test_bpb");
    s->epochs = getnum(o, "epochs");
    cJSON_Delete(o);
    /* range-checked before the casts: a damaged file is bad input */
    if (!isnan(step) && !(step >= 0 && step <= SL_MAX_STEPS && step == floor(step)))
        return sl_fail(err, SL_EINPUT, "%s:step: %g is out of range (expected an integer 0..%g)", path,
                       step, SL_MAX_STEPS);
    if (!isnan(s->epochs) && !(s->epochs >= 0))
        return sl_fail(err, SL_EINPUT, "%s:epochs: %g is out of range (expected a number >= 0)", path,
                       s->epochs);
    if (!isnan(thr) && !(thr >= 0 && thr <= 256 && thr == floor(thr)))
        return sl_fail(err, SL_EINPUT, "%s:threads: %g is out of range (expected an integer 0..256)",
                       path, thr);
    s->step = isnan(step) ? 0 : (long)step;
    s->threads = isnan(thr) ? 0 : (int)thr;
    return SL_OK;
}

int sl_sweep_read(const char *sweep_dir, char **json, sl_error *err)
{
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_SWEEP_FILE);
    *json = NULL;
    if (access(path, F_OK) != 0)
        return sl_fail(err, SL_EINPUT, "%s: no sweep.json (expected a run store made by scalelab run)",
                       sweep_dir);
    char *text;
    size_t len;
    int rc = sl_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    const char *bad_at = NULL;
    cJSON *o = cJSON_ParseWithOpts(text, &bad_at, 1);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "format_version");
    if (!o) {
        int line = 1, col = 1;
        for (const char *c = text; bad_at && c < bad_at && *c; c++, col++)
            if (*c == '\n') {
                line++;
                col = 0;
            }
        free(text);
        return sl_fail(err, SL_EINPUT, "%s:%d:%d: invalid JSON (expected the resolved preset of a run store)",
                       path, line, col);
    }
    if (!cJSON_IsObject(o) || !cJSON_IsNumber(v)) {
        int obj = cJSON_IsObject(o);
        cJSON_Delete(o);
        free(text);
        if (!obj)
            return sl_fail(err, SL_EINPUT, "%s: is not a JSON object (expected the resolved preset of a run store)",
                           path);
        return sl_fail(err, SL_EINPUT, "%s:format_version: %s (expected a number <= %d)", path,
                       v ? "is not a number" : "missing", SL_STORE_VERSION);
    }
    if (v->valuedouble > SL_STORE_VERSION) {
        double ver = v->valuedouble;
        cJSON_Delete(o);
        free(text);
        return sl_fail(err, SL_EINPUT,
                       "%s:format_version: %g is newer than this scalelab reads (expected <= %d; "
                       "use a newer scalelab)",
                       path, ver, SL_STORE_VERSION);
    }
    cJSON_Delete(o);
    *json = text;
    return SL_OK;
}

int sl_sweep_write(const char *sweep_dir, const char *json, sl_error *err)
{
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_SWEEP_FILE);
    return sl_write_atomic(path, json, strlen(json), err);
}

/* Writes o (consumed) to path as indented JSON and a newline, atomically. */
static int write_json_line(const char *path, cJSON *o, sl_error *err)
{
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return sl_fail(err, SL_ERUNTIME, "%s: out of memory", path);
    size_t len = strlen(text);
    char *line = sl_xmalloc(len + 1);
    memcpy(line, text, len);
    line[len] = '\n';
    free(text);
    int rc = sl_write_atomic(path, line, len + 1, err);
    free(line);
    return rc;
}

int sl_sweep_revision(const char *json, char *change, size_t n)
{
    if (change && n)
        change[0] = 0;
    cJSON *o = cJSON_Parse(json);
    if (!o)
        return 1;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "revision");
    int rev = cJSON_IsNumber(r) && r->valuedouble >= 1 && r->valuedouble < 1e9 ? (int)r->valuedouble : 1;
    const cJSON *edits = cJSON_GetObjectItemCaseSensitive(o, "edits");
    int k = cJSON_GetArraySize(edits);
    const cJSON *c = k > 0 ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(edits, k - 1), "change") : NULL;
    if (change && n && cJSON_IsString(c))
        snprintf(change, n, "%s", c->valuestring);
    cJSON_Delete(o);
    return rev;
}

int sl_sweep_revise(const char *sweep_dir, const char *resolved_json, const char *change, int *revision,
                    sl_error *err)
{
    char *old = NULL;
    int rc = sl_sweep_read(sweep_dir, &old, err);
    if (rc)
        return rc;
    char path[1200];
    sl_run_path(path, sizeof path, sweep_dir, SL_SWEEP_FILE);
    cJSON *was = cJSON_Parse(old), *now = cJSON_Parse(resolved_json);
    free(old);
    if (!was || !now || !cJSON_IsObject(now)) {
        cJSON_Delete(was);
        cJSON_Delete(now);
        return sl_fail(err, SL_EINPUT, "%s: cannot be revised (expected JSON objects, the store's and the edit's)",
                       path);
    }
    int rev = 1;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(was, "revision");
    if (cJSON_IsNumber(r) && r->valuedouble >= 1 && r->valuedouble < 1e9)
        rev = (int)r->valuedouble;
    rev++;
    cJSON *edits = cJSON_DetachItemFromObjectCaseSensitive(was, "edits");
    if (!cJSON_IsArray(edits)) {
        cJSON_Delete(edits);
        edits = cJSON_CreateArray();
    }
    cJSON_Delete(was);
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "revision", rev);
    cJSON_AddStringToObject(e, "time", when);
    cJSON_AddStringToObject(e, "change", change ? change : "");
    cJSON_AddItemToArray(edits, e);
    cJSON_DeleteItemFromObjectCaseSensitive(now, "revision");
    cJSON_DeleteItemFromObjectCaseSensitive(now, "edits");
    cJSON_AddNumberToObject(now, "revision", rev);
    cJSON_AddItemToObject(now, "edits", edits);
    rc = write_json_line(path, now, err);
    if (rc == SL_OK && revision)
        *revision = rev;
    return rc;
}

void sl_corpus_identity(const sl_corpus *c, char hash[17])
{
    if (c->hash[0]) {
        snprintf(hash, 17, "%s", c->hash);
        return;
    }
    uint64_t h = sl_fnv1a(SL_FNV_INIT, c->tokens, c->n_tokens * sizeof *c->tokens);
    snprintf(hash, 17, "%016llx", (unsigned long long)h);
}

static cJSON *corpus_record(const sl_corpus *c)
{
    char hash[17], abs[4096] = "";
    sl_corpus_identity(c, hash);
    if (!c->n_sources && c->source[0] && !realpath(c->source, abs))
        abs[0] = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "format_version", 1);
    cJSON_AddStringToObject(o, "name", c->name[0] ? c->name : c->source);
    cJSON_AddStringToObject(o, "path", abs);
    cJSON_AddStringToObject(o, "tokenizer", c->tokenizer);
    cJSON_AddStringToObject(o, "format", c->format[0] ? c->format : "text");
    cJSON_AddNumberToObject(o, "vocab", c->vocab);
    cJSON_AddNumberToObject(o, "train_tokens", (double)c->n_train);
    cJSON_AddNumberToObject(o, "test_tokens", (double)(c->n_tokens - c->n_train));
    cJSON_AddNumberToObject(o, "train_bytes", (double)c->n_train_bytes);
    cJSON_AddNumberToObject(o, "test_bytes", (double)(c->n_bytes - c->n_train_bytes));
    cJSON_AddStringToObject(o, "hash", hash);
    if (c->has_manifest) {
        char *m = sl_manifest_to_json(&c->manifest);
        cJSON *mj = m ? cJSON_Parse(m) : NULL;
        free(m);
        if (mj)
            cJSON_AddItemToObject(o, "manifest", mj);
    }
    return o;
}

int sl_corpus_record_path(const char *dir, char *path, size_t n)
{
    path[0] = 0;
    char file[1200], *text;
    size_t len;
    sl_error e;
    sl_run_path(file, sizeof file, dir, SL_CORPUS_RECORD_FILE);
    if (access(file, F_OK) != 0 || sl_read_file(file, &text, &len, &e) != SL_OK)
        return 0;
    cJSON *o = cJSON_Parse(text);
    free(text);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");
    if (cJSON_IsString(p))
        snprintf(path, n, "%s", p->valuestring);
    cJSON_Delete(o);
    return path[0] != 0;
}

int sl_corpus_record_check(const char *dir, const sl_corpus *c, sl_error *err)
{
    char file[1200];
    sl_run_path(file, sizeof file, dir, SL_CORPUS_RECORD_FILE);
    if (access(file, F_OK) != 0)
        return write_json_line(file, corpus_record(c), err);
    char *text;
    size_t len;
    int rc = sl_read_file(file, &text, &len, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s: is not JSON (expected the corpus record scalelab writes)", file);
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hash"), *tk = cJSON_GetObjectItemCaseSensitive(o, "tokenizer"),
                *nm = cJSON_GetObjectItemCaseSensitive(o, "name"), *tr = cJSON_GetObjectItemCaseSensitive(o, "train_tokens"),
                *te = cJSON_GetObjectItemCaseSensitive(o, "test_tokens");
    if (!cJSON_IsString(h) || !cJSON_IsString(tk) || !cJSON_IsNumber(tr) || !cJSON_IsNumber(te)) {
        cJSON_Delete(o);
        return sl_fail(err, SL_EINPUT, "%s: hash: missing or of the wrong type (expected the corpus record scalelab writes)",
                       file);
    }
    char hash[17];
    sl_corpus_identity(c, hash);
    const char *was = cJSON_IsString(nm) ? nm->valuestring : "?";
    if (strcmp(h->valuestring, hash) != 0)
        rc = sl_fail(err, SL_EINPUT,
                     "%s: hash: the store was trained on %s (hash %s), this corpus is %s (hash %s) (expected the "
                     "same corpus: prepare it as it was, or train into another store)",
                     file, was, h->valuestring, c->name[0] ? c->name : c->source, hash);
    else if (strcmp(tk->valuestring, c->tokenizer) != 0)
        rc = sl_fail(err, SL_EINPUT, "%s: tokenizer: the store was trained with %s (hash %s), this corpus is tokenized %s (expected %s)",
                     file, tk->valuestring, hash, c->tokenizer, tk->valuestring);
    else if ((size_t)tr->valuedouble != c->n_train || (size_t)te->valuedouble != c->n_tokens - c->n_train)
        rc = sl_fail(err, SL_EINPUT,
                     "%s: train_tokens: the store's split is %.0f + %.0f tokens (hash %s), this one %zu + %zu (expected the same test_fraction)",
                     file, tr->valuedouble, te->valuedouble, hash, c->n_train, c->n_tokens - c->n_train);
    cJSON_Delete(o);
    return rc;
}

int sl_store_is_sweep(const char *dir)
{
    char path[1200];
    sl_run_path(path, sizeof path, dir, SL_SWEEP_FILE);
    return access(path, F_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_store_list_runs(const char *sweep_dir, char ***ids, int *n, sl_error *err)
{
    *ids = NULL;
    *n = 0;
    DIR *d = opendir(sweep_dir);
    if (!d)
        return sl_fail(err, SL_EINPUT, "%s: cannot open: %s", sweep_dir, strerror(errno));
    int cap = 16;
    char **v = sl_xmalloc((size_t)cap * sizeof *v);
    struct dirent *e;
    char path[1200];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/" SL_RUN_CONFIG_FILE, sweep_dir, e->d_name);
        if (access(path, F_OK) != 0)
            continue;
        if (*n == cap) {
            cap *= 2;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                closedir(d);
                sl_store_free_list(v, *n);
                return sl_fail(err, SL_ERUNTIME, "%s: out of memory", sweep_dir);
            }
            v = nv;
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    *ids = v;
    return SL_OK;
}

void sl_store_free_list(char **ids, int n)
{
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int sl_store_remove_run(const char *run_dir, sl_error *err)
{
    /* config.json goes first: a crash half way leaves a directory that is no
     * longer listed as a run. */
    char path[1200];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_CONFIG_FILE);
    if (unlink(path) != 0 && errno != ENOENT)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot remove: %s", path, strerror(errno));
    DIR *d = opendir(run_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    if (rmdir(run_dir) != 0 && errno != ENOENT)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot remove: %s", run_dir, strerror(errno));
    return SL_OK;
}

int sl_context_write(const char *run_dir, const double *pos, int n_ctx, sl_error *err)
{
    size_t cap = (size_t)n_ctx * 40 + 64, used = 0;
    char *buf = sl_xmalloc(cap);
    used += (size_t)snprintf(buf, cap, "position,test_loss\n");
    for (int i = 0; i < n_ctx; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%d,%.6f\n", i + 1, pos[i]);
    char path[1300];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_CONTEXT_FILE);
    int rc = sl_write_atomic(path, buf, used, err);
    free(buf);
    return rc;
}

/* ---- sources.csv ---------------------------------------------------------------- */

static const char *const sources_cols[] = {"source", "test_tokens", "test_bytes", "test_loss",
                                           "test_bpb"};

int sl_sources_write(const char *run_dir, const sl_source_loss *s, int n, sl_error *err)
{
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    for (int k = 0; k < 5; k++)
        sl_csv_field(&w, sources_cols[k]);
    sl_csv_end_row(&w);
    for (int i = 0; i < n; i++) {
        sl_csv_field(&w, s[i].name);
        sl_csv_field_double(&w, s[i].test_tokens);
        sl_csv_field_double(&w, s[i].test_bytes);
        sl_csv_field_double(&w, s[i].test_loss);
        sl_csv_field_double(&w, s[i].test_bpb);
        sl_csv_end_row(&w);
    }
    char path[1300];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_SOURCES_FILE);
    int rc = sl_csv_save(&w, path, err);
    sl_csv_writer_free(&w);
    return rc;
}

int sl_sources_read(const char *run_dir, sl_source_loss **out, int *n, sl_error *err)
{
    *out = NULL;
    *n = 0;
    char path[1300];
    sl_run_path(path, sizeof path, run_dir, SL_RUN_SOURCES_FILE);
    if (access(path, F_OK) != 0)
        return SL_OK;
    sl_csv t;
    int rc = sl_csv_read(path, &t, err);
    if (rc)
        return rc;
    int col[5];
    for (int k = 0; k < 5; k++)
        if ((col[k] = sl_csv_column(&t, sources_cols[k])) < 0) {
            rc = sl_fail(err, SL_EINPUT, "%s: header: no column %s (expected source,test_tokens,"
                         "test_bytes,test_loss,test_bpb)", path, sources_cols[k]);
            sl_csv_free(&t);
            return rc;
        }
    sl_source_loss *s = sl_xcalloc(t.n_rows ? t.n_rows : 1, sizeof *s);
    for (size_t i = 0; i < t.n_rows && rc == SL_OK; i++) {
        snprintf(s[i].name, sizeof s[i].name, "%s", sl_csv_cell(&t, i, (size_t)col[0]));
        double *dst[4] = {&s[i].test_tokens, &s[i].test_bytes, &s[i].test_loss, &s[i].test_bpb};
        for (int k = 0; k < 4 && rc == SL_OK; k++) {
            const char *cell = sl_csv_cell(&t, i, (size_t)col[k + 1]);
            char *end;
            *dst[k] = strtod(cell, &end);
            if (end == cell || *end || (!isnan(*dst[k]) && !(*dst[k] >= 0 && isfinite(*dst[k]))))
                rc = sl_fail(err, SL_EINPUT, "%s:line %zu: %s: '%s' (expected a number >= 0 or nan)",
                             path, t.line[i], sources_cols[k + 1], cell);
        }
    }
    if (rc == SL_OK) {
        *out = s;
        *n = (int)t.n_rows;
    } else
        free(s);
    sl_csv_free(&t);
    return rc;
}
