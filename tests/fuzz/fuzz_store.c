/* Fuzzes the run-store readers: a store of one run is written from a valid
 * template, with one of its files (the first input byte chooses: status.json,
 * config.json, metrics.csv or sweep.json) replaced by the rest of the input;
 * then the whole store is read back the ways status, export and fit read it.
 * SCALELAB_FUZZ_WRITE_SEED=DIR writes the template's four files as seeds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scalelab/export.h"
#include "scalelab/run.h"
#include "scalelab/store.h"

static const char preset_text[] =
    "{\"name\": \"fz\", \"data\": {\"corpus\": \"kjv\"},"
    " \"model\": {\"n_ctx\": 8, \"head_size\": 4, \"aspect\": 8},"
    " \"sweep\": {\"kind\": \"n\", \"n\": [1000]},"
    " \"train\": {\"batch\": 2, \"steps\": 20, \"eval_every\": 10, \"threads\": 1},"
    " \"fit\": [\"power-n\"]}";

enum { F_STATUS, F_CONFIG, F_METRICS, F_SWEEP, F_COUNT };
static const char *const file_name[F_COUNT] = {"status.json", "config.json", "metrics.csv",
                                               "sweep.json"};
static char *template_text[F_COUNT];
static char run_id[SL_RUN_ID_MAX];

static void fail_setup(const sl_error *err)
{
    fprintf(stderr, "scalelab-fuzz: template: %s\n", err->msg);
    exit(1);
}

static char *file_text(const char *path)
{
    char *d;
    size_t n;
    sl_error err = {{0}};
    if (sl_read_file(path, &d, &n, &err))
        fail_setup(&err);
    return d;
}

static void make_template(void)
{
    sl_corpus c = {0};
    c.n_tokens = 65536;
    c.n_train = 60000;
    c.tokens = calloc(c.n_tokens, sizeof *c.tokens);
    c.vocab = 256;
    sl_preset p;
    sl_error err = {{0}};
    if (sl_preset_parse(&p, preset_text, "fz.json", &err) || sl_preset_plan(&p, &c, &err))
        fail_setup(&err);
    free(c.tokens);
    snprintf(run_id, sizeof run_id, "%s", p.runs[0].id);
    template_text[F_SWEEP] = sl_preset_resolved_json(&p);
    template_text[F_CONFIG] = sl_run_spec_to_json(&p.runs[0]);
    char path[512];
    fz_path(path, sizeof path, "template");
    sl_run_status s = {0};
    snprintf(s.state, sizeof s.state, "done");
    s.step = 20;
    s.best_test_loss = 4.5;
    s.final_test_loss = 4.6;
    s.threads = 1;
    if (sl_mkdirs(path, &err) || sl_status_write(path, &s, &err))
        fail_setup(&err);
    fz_path(path, sizeof path, "template/status.json");
    template_text[F_STATUS] = file_text(path);
    fz_path(path, sizeof path, "template/metrics.csv");
    FILE *f = fopen(path, "w");
    sl_metrics_header(f, NULL);
    for (int i = 0; i <= 2; i++) {
        sl_metric_row r = {i * 10, i * 160.0, i * 1e6, i ? 5.0 - i : NAN, 5.5 - i, 1e-3, 1.0, NAN,
                           0.1 * i, (5.5 - i) / 0.69314718055994530942};
        sl_metrics_write_row(f, &r, 0, NAN);
    }
    fclose(f);
    template_text[F_METRICS] = file_text(path);
    sl_preset_free(&p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_template();
    const char *seed = getenv("SCALELAB_FUZZ_WRITE_SEED");
    if (seed && *seed) {
        for (int i = 0; i < F_COUNT; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", seed, file_name[i]);
            size_t n = strlen(template_text[i]);
            char *buf = malloc(n + 1);
            buf[0] = (char)i;
            memcpy(buf + 1, template_text[i], n);
            fz_write(path, buf, n + 1);
            free(buf);
        }
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % F_COUNT;
    char sweep[512], run[600], path[700];
    fz_path(sweep, sizeof sweep, "store");
    snprintf(run, sizeof run, "%s/%s", sweep, run_id);
    sl_error err = {{0}};
    FZ_CHECK(sl_mkdirs(run, &err) == SL_OK, "%s", err.msg);
    for (int i = 0; i < F_COUNT; i++) {
        snprintf(path, sizeof path, "%s/%s", i == F_SWEEP ? sweep : run, file_name[i]);
        if (i == which)
            fz_write(path, data + 1, size - 1);
        else
            fz_write(path, template_text[i], strlen(template_text[i]));
    }

    sl_run_status st;
    fz_check_message(sl_status_read(run, &st, &err), &err);
    char *json;
    int rc = sl_sweep_read(sweep, &json, &err);
    fz_check_message(rc, &err);
    if (rc == SL_OK)
        free(json);
    snprintf(path, sizeof path, "%s/config.json", run);
    char *cfg = file_text(path);
    sl_run_spec spec;
    fz_check_message(sl_run_spec_from_json(&spec, cfg, path, &err), &err);
    free(cfg);

    sl_run *runs;
    int n;
    rc = sl_runs_load(sweep, &runs, &n, &err);
    fz_check_message(rc, &err);
    if (rc == SL_OK)
        sl_runs_free(runs, n);
    const sl_fit_point_rule rules[] = {SL_POINTS_BEST, SL_POINTS_CURVES, SL_POINTS_NOISE};
    for (int k = 0; k < 3; k++) {
        char *text;
        rc = sl_export_points_csv(sweep, rules[k], 0, &text, &err);
        fz_check_message(rc, &err);
        if (rc == SL_OK)
            free(text);
    }

    snprintf(path, sizeof path, "%s/metrics.csv", run);
    sl_metric_row *rows;
    size_t nr;
    double *extra;
    rc = sl_metrics_read(path, &rows, &nr, &extra, &err);
    fz_check_message(rc, &err);
    if (rc == SL_OK) {
        long step = nr ? rows[nr / 2].step : 0;
        free(rows);
        free(extra);
        rc = sl_metrics_trim(path, step, &err);
        fz_check_message(rc, &err);
        if (rc == SL_OK) {
            rc = sl_metrics_read(path, &rows, &nr, &extra, &err);
            FZ_CHECK(rc == SL_OK, "a trimmed metrics.csv does not read back: %s", err.msg);
            for (size_t i = 0; i < nr; i++)
                FZ_CHECK(rows[i].step <= step, "row %zu: step %ld kept past %ld", i, rows[i].step,
                         step);
            free(rows);
            free(extra);
        }
    }
    return 0;
}
