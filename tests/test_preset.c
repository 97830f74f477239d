/* Presets: parsing, defaults, every kind of bad preset through the binary (one
 * line naming file, field and expectation, exit 2, nothing under runs/), and
 * the shipped presets. */
#include <cjson/cJSON.h>
#include <glob.h>
#include <math.h>

#include "scalelab/optim.h"
#include "scalelab/preset.h"
#include "scalelab/run.h"
#include "scalelab/export.h"
#include "scalelab/store.h"
#include "sweeputil.h"

TestSuite(preset, .init = tu_make_dir, .fini = tu_remove_dir);

/* scalelab run PRESET --runs tu_dir/runs must fail with `want` and create nothing. */
static void assert_bad_preset(const char *preset, const char *want)
{
    char runs[512];
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", preset, "--runs", runs, NULL};
    tu_assert_bad_input(want, args);
    struct stat st;
    cr_assert_neq(stat(runs, &st), 0, "%s was created", runs);
}

static const char *write_text(char *buf, size_t len, const char *name, const char *text)
{
    tu_path(buf, len, name);
    tu_write(buf, text, strlen(text));
    return buf;
}

Test(preset, invalid_json_names_line_and_column)
{
    char p[512];
    write_text(p, sizeof p, "bad.json", "{\n  \"name\": \"x\",\n  \"sweep\": {\"n\": [1e4,]}\n}\n");
    assert_bad_preset(p, "bad.json:3:");
    assert_bad_preset(p, "invalid JSON");
}

Test(preset, unknown_key_suggests_the_misspelt_one)
{
    char p[512];
    su_preset(p, sizeof p, "typo", "\"n\": [3000]", "\"bacth\": 8");
    assert_bad_preset(p, "typo.json:train.bacth: unknown key (did you mean 'batch'?");
}

Test(preset, unknown_key_without_a_near_one)
{
    char p[512];
    su_preset(p, sizeof p, "odd", "\"n\": [3000]", "\"zzzzzzzz\": 8");
    assert_bad_preset(p, "odd.json:train.zzzzzzzz: unknown key (expected one of batch");
}

Test(preset, wrong_type_names_the_type)
{
    char p[512];
    su_preset(p, sizeof p, "type", "\"n\": [3000]", "\"batch\": \"eight\"");
    assert_bad_preset(p, "type.json:train.batch: is a string (expected an integer");
}

Test(preset, out_of_range_batch)
{
    char p[512];
    su_preset(p, sizeof p, "range", "\"n\": [3000]", "\"batch\": 0");
    assert_bad_preset(p, "range.json:train.batch: 0 is out of range (expected 1..65536)");
}

Test(preset, n_below_the_smallest_model)
{
    char p[512];
    su_preset(p, sizeof p, "small", "\"n\": [3000, 10]", "\"steps\": 5");
    assert_bad_preset(p, "small.json:sweep.n[1]: 10 is below the smallest model");
}

Test(preset, d_beyond_the_train_split)
{
    char p[512];
    su_preset(p, sizeof p, "big", "\"kind\": \"nd\", \"n\": [3000], \"d\": [1000, 1e9]", "\"steps\": 5");
    assert_bad_preset(p, "big.json:sweep.d[1]: 1000000000 tokens is beyond the train split (expected <=");
}

Test(preset, negative_budget)
{
    char p[512];
    su_preset(p, sizeof p, "neg", "\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e12, -5]",
              "\"steps\": 5");
    assert_bad_preset(p, "neg.json:sweep.budgets[1]: -5 is out of range (expected compute budgets C > 0");
}

Test(preset, empty_sweep)
{
    char p[512];
    su_preset(p, sizeof p, "empty", "\"n\": []", "\"steps\": 5");
    assert_bad_preset(p, "empty.json:sweep.n: is empty (expected at least one");
}

Test(preset, missing_preset_is_bad_input)
{
    assert_bad_preset("no-such-preset", "no-such-preset: no such preset");
}

Test(preset, mpi_without_the_mpi_build_says_how_to_rebuild)
{
#ifndef SL_WITH_MPI
    char p[512], runs[512];
    su_preset(p, sizeof p, "m", "\"n\": [3000]", "\"steps\": 5");
    const char *args[] = {"run", p, "--mpi", "--runs", tu_path(runs, sizeof runs, "runs"), NULL};
    tu_assert_bad_input("make MPI=1", args);
#endif
}

Test(preset, defaults_are_filled_and_the_resolved_json_parses_to_the_same)
{
    const char *text = "{\"sweep\": {\"n\": [3000, 12000]}, \"train\": {\"seeds\": [1, 2]}}";
    sl_preset p, q;
    sl_error err;
    cr_assert_eq(sl_preset_parse(&p, text, "dir/mine.json", &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(p.name, "mine");
    cr_assert_str_eq(p.corpus, "debian");
    cr_assert_eq(p.train.batch, 16);
    cr_assert_eq(p.train.lr, 0.0);
    cr_assert_eq(p.n_ctx, 64);
    cr_assert_eq(p.n_laws, 1);
    cr_assert_str_eq(p.laws[0], "power-n");
    char *j = sl_preset_resolved_json(&p);
    cr_assert_not_null(strstr(j, "\"format_version\""));
    /* model.layers is left out at its default: stores made before it existed
     * still hold the same resolved sweep */
    cr_expect_null(strstr(j, "\"layers\""), "%s", j);
    cr_assert_eq(sl_preset_parse(&q, j, "sweep.json", &err), SL_OK, "%s", err.msg);
    char *k = sl_preset_resolved_json(&q);
    cr_assert_str_eq(j, k);
    free(j);
    free(k);
    sl_preset_free(&p);
    sl_preset_free(&q);
}

Test(preset, newer_format_version_is_refused)
{
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_parse(&p, "{\"format_version\": 99, \"sweep\": {\"n\": [3000]}}", "s.json", &err),
                 SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "s.json:format_version: 99 is newer"), "%s", err.msg);
}

Test(preset, edit_distance)
{
    cr_assert_eq(sl_edit_distance("batch", "bacth"), 2);
    cr_assert_eq(sl_edit_distance("", "abc"), 3);
    cr_assert_eq(sl_edit_distance("steps", "steps"), 0);
}

Test(preset, run_spec_round_trips_through_config_json)
{
    sl_run_spec r, s;
    memset(&r, 0, sizeof r);
    sl_train_defaults(&r.train);
    r.train.model = (sl_config){2, 32, 2, 128, 32, 256};
    snprintf(r.id, sizeof r.id, "r001-x");
    r.index = 1;
    r.train.seed = 123456789;
    r.train.threads = 2;
    r.train.data_limit = 5000;
    r.patience = 3;
    r.min_delta = 0.01;
    char *j = sl_run_spec_to_json(&r);
    sl_error err;
    cr_assert_eq(sl_run_spec_from_json(&s, j, "config.json", &err), SL_OK, "%s", err.msg);
    free(j);
    cr_assert_str_eq(s.id, "r001-x");
    cr_assert_eq(s.train.seed, 123456789u);
    cr_assert_eq(s.train.threads, 2);
    cr_assert_eq(s.train.data_limit, 5000u);
    cr_assert_eq(s.patience, 3);
    cr_assert_eq(s.train.model.d_ff, 128);
    cr_assert_eq(s.train.lr, sl_lr_auto(sl_model_counts(&r.train.model).n_kaplan));
}

Test(preset, shipped_presets_parse_and_have_a_description_and_figure)
{
    glob_t g;
    cr_assert_eq(glob(SL_SOURCE_DIR "/presets/*.json", 0, NULL, &g), 0);
    cr_assert_geq(g.gl_pathc, 11u, "expected the shipped presets, found %zu", g.gl_pathc);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        sl_preset p;
        sl_error err;
        cr_assert_eq(sl_preset_load(&p, g.gl_pathv[i], &err), SL_OK, "%s", err.msg);
        cr_assert(p.description[0] && p.figure[0], "%s: description or figure missing",
                  g.gl_pathv[i]);
        sl_preset_free(&p);
    }
    globfree(&g);
}

/* Plans a preset text against the test corpus. */
static void plan(sl_preset *p, sl_corpus *c, const char *sweep, const char *train)
{
    char path[512];
    su_preset(path, sizeof path, "plan", sweep, train);
    sl_error err;
    cr_assert_eq(sl_preset_load(p, path, &err), SL_OK, "%s", err.msg);
    sl_corpus_opts co = {0};
    co.path = p->corpus;
    co.data_dir = tu_dir;
    cr_assert_eq(sl_corpus_load(c, &co, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_preset_plan(p, c, &err), SL_OK, "%s", err.msg);
}

/* config.json of r with `key` set to the JSON value `value`, parsed back */
static int spec_with(const sl_run_spec *r, const char *key, const char *value, sl_error *err)
{
    char *j = sl_run_spec_to_json(r);
    cJSON *o = cJSON_Parse(j);
    free(j);
    cJSON *v = cJSON_Parse(value);
    cr_assert_not_null(v, "%s", value);
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    j = cJSON_Print(o);
    cJSON_Delete(o);
    sl_run_spec s;
    int rc = sl_run_spec_from_json(&s, j, "r/config.json", err);
    free(j);
    return rc;
}

/* Every number of config.json is range-checked before it is cast: a damaged
 * or hand-edited file is refused naming the file and the field. */
Test(preset, config_json_numbers_out_of_range_are_refused_naming_the_field)
{
    sl_run_spec r;
    memset(&r, 0, sizeof r);
    sl_train_defaults(&r.train);
    r.train.model = (sl_config){2, 32, 2, 128, 32, 256};
    snprintf(r.id, sizeof r.id, "r000-x");
    sl_error err;
    const struct {
        const char *key, *value, *want;
    } bad[] = {
        {"layers", "1e300", "r/config.json:layers: 1e+300 is out of range (expected 1..1024)"},
        {"d_model", "-5", "r/config.json:d_model: -5 is out of range"},
        {"batch", "2.5", "r/config.json:batch: 2.5 is not an integer"},
        {"index", "3e9", "r/config.json:index: 3e+09 is out of range"},
        {"steps", "1e300", "r/config.json:steps: 1e+300 is out of range"},
        {"seed", "-1", "r/config.json:seed: -1 is out of range"},
        {"threads", "1000", "r/config.json:threads: 1000 is out of range (expected 0..256)"},
        {"data_limit", "1e30", "r/config.json:data_limit: 1e+30 is out of range"},
        {"priority", "1e20", "r/config.json:priority: 1e+20 is out of range"},
        {"eval_tokens", "\"many\"", "r/config.json:eval_tokens: is not a number"},
        {"vocab", "65537", "r/config.json:vocab: 65537 is out of range (expected 2..65536)"},
        {"heads", "3", "r/config.json:heads: 3 does not divide d_model 32"},
        {"id", "\"\"", "r/config.json:id: missing, empty or too long"},
        {"schedule", "\"step\"", "r/config.json:schedule: missing or not a schedule"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(spec_with(&r, bad[i].key, bad[i].value, &err), SL_EINPUT, "%s = %s accepted",
                     bad[i].key, bad[i].value);
        cr_assert_not_null(strstr(err.msg, bad[i].want), "%s = %s: %s", bad[i].key, bad[i].value,
                           err.msg);
    }
    cr_assert_eq(spec_with(&r, "threads", "2", &err), SL_OK, "%s", err.msg);
}

/* ... and a store with such a file is bad input for status: one line, exit 2 */
Test(preset, status_of_a_store_with_a_damaged_config_json_is_bad_input)
{
    char p[512], runs[512], dir[600], cfg[700];
    su_preset(p, sizeof p, "dmg", "\"n\": [3000]", "\"steps\": 5, \"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(su_wait(su_spawn(args)), 0);
    snprintf(dir, sizeof dir, "%s/dmg", runs);
    snprintf(cfg, sizeof cfg, "%s/r000-L1-d16-s1/config.json", dir);
    char *text = su_read(cfg);
    cr_assert_not_null(text, "%s", cfg);
    char *at = strstr(text, "\"n_ctx\":");
    cr_assert_not_null(at);
    /* n_ctx: 32 -> 9e99 */
    char out[4096];
    snprintf(out, sizeof out, "%.*s\"n_ctx\":\t9e99%s", (int)(at - text), text, strchr(at, ','));
    char orig[4096];
    snprintf(orig, sizeof orig, "%s", text);
    free(text);
    tu_write(cfg, out, strlen(out));
    const char *st[] = {"status", dir, NULL};
    tu_assert_bad_input("r000-L1-d16-s1/config.json:n_ctx: 9e+99 is out of range (expected 1..65536)", st);
    /* the intact file with an unknown precision */
    char *brace = strrchr(orig, '}');
    cr_assert_not_null(brace);
    snprintf(out, sizeof out, "%.*s,\"precision\": \"fp8\"}\n", (int)(brace - orig), orig);
    tu_write(cfg, out, strlen(out));
    tu_assert_bad_input("r000-L1-d16-s1/config.json:precision: is not a precision (expected fp32 or bf16)", st);
}

/* sizes beyond any fixed table: 300 N give 300 runs */
Test(preset, three_hundred_sizes_plan_three_hundred_runs)
{
    char sweep[8192] = "\"n\": [";
    for (int i = 0; i < 300; i++) {
        size_t l = strlen(sweep);
        snprintf(sweep + l, sizeof sweep - l, "%s%d", i ? ", " : "", 4000 + 1000 * i);
    }
    strcat(sweep, "]");
    sl_preset p;
    sl_corpus c;
    plan(&p, &c, sweep, "\"steps\": 5");
    cr_assert_eq(p.n_runs, 300);
    cr_assert_eq(p.runs[299].index, 299);
    cr_assert_eq(p.runs[299].n_target, 303000);
    sl_preset_free(&p);
    sl_corpus_free(&c);
}

/* every law in a preset's fit list is kept (none is cut off); one listed twice is refused */
Test(preset, fit_lists_every_law_and_refuses_a_law_twice)
{
    char list[1024] = "";
    for (int l = 0; l < SL_LAW_COUNT; l++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s\"%s\"", l ? ", " : "", sl_fit_law_name((sl_fit_law)l));
    }
    char text[2048];
    snprintf(text, sizeof text, "{\"sweep\": {\"n\": [3000]}, \"fit\": [%s]}", list);
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_parse(&p, text, "all.json", &err), SL_OK, "%s", err.msg);
    cr_assert_eq(p.n_laws, SL_LAW_COUNT);
    cr_assert_str_eq(p.laws[SL_LAW_COUNT - 1], sl_fit_law_name((sl_fit_law)(SL_LAW_COUNT - 1)));
    sl_preset_free(&p);
    snprintf(text, sizeof text, "{\"sweep\": {\"n\": [3000]}, \"fit\": [%s, \"power-n\"]}", list);
    cr_assert_eq(sl_preset_parse(&p, text, "twice.json", &err), SL_EINPUT);
    char want[128];
    snprintf(want, sizeof want, "twice.json:fit[%d]: 'power-n' is listed twice (expected each law once)",
             SL_LAW_COUNT);
    cr_assert_str_eq(err.msg, want);
}

Test(preset, a_bad_tokenizer_names_data_tokenizer)
{
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_parse(&p, "{\"data\": {\"tokenizer\": \"bpe:70000\"}, \"sweep\": {\"n\": [3000]}}",
                                 "tok.json", &err),
                 SL_EINPUT);
    cr_assert_str_eq(err.msg, "tok.json:data.tokenizer: 'bpe:70000' is not a tokenizer (expected byte or "
                              "bpe:VOCAB with VOCAB 257..65535)");
}

Test(preset, a_budget_beyond_any_step_count_is_refused)
{
    char p[512];
    su_preset(p, sizeof p, "huge", "\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e30]", "\"batch\": 4");
    assert_bad_preset(p, "huge.json:sweep.budgets[0]: 1e+30 FLOPs needs more than 1e+15 steps");
}

Test(preset, an_unknown_warmup_word_is_refused)
{
    char p[512];
    su_preset(p, sizeof p, "wu", "\"n\": [3000]", "\"warmup\": \"tokens\"");
    assert_bad_preset(p, "wu.json:train.warmup: 'tokens' is not a warmup (expected \"auto\", \"n-tokens\" or an integer");
}

Test(preset, n_tokens_warmup_is_as_many_tokens_as_parameters_per_run)
{
    sl_preset p;
    sl_corpus c;
    /* batch 4 x context 32 = 128 tokens a step */
    plan(&p, &c, "\"n\": [3000, 12000, 100000]",
         "\"batch\": 4, \"warmup\": \"n-tokens\", \"steps\": 200");
    cr_assert_eq(p.n_runs, 3);
    for (int i = 0; i < 3; i++) {
        double n = sl_model_counts(&p.runs[i].train.model).n_kaplan;
        long want = (long)ceil(n / 128);
        if (want > 200)
            want = 200;
        cr_expect_eq(p.runs[i].train.warmup, want, "run %d: N %.0f", i, n);
    }
    cr_expect_lt(p.runs[0].train.warmup, p.runs[1].train.warmup);
    cr_expect_eq(p.runs[2].train.warmup, 200, "capped at the run's steps");
    /* a run built outside the plan (the lab's selectors copy the first run and
     * change its model) gets its own model's warmup */
    sl_run_spec r = p.runs[0];
    r.train.model = p.runs[1].train.model;
    sl_preset_settle_run(&p, &r);
    cr_expect_eq(r.train.warmup, p.runs[1].train.warmup);
    sl_preset_free(&p);
    sl_corpus_free(&c);
}

Test(preset, plans_every_sweep_kind)
{
    sl_preset p;
    sl_corpus c;
    /* N x D x seeds, in index order */
    plan(&p, &c, "\"kind\": \"nd\", \"n\": [3000, 12000], \"d\": [500, 2000]",
         "\"seeds\": [1, 2], \"steps\": 7");
    cr_assert_eq(p.n_runs, 8);
    cr_assert_eq(p.runs[0].train.data_limit, 500u);
    cr_assert_eq(p.runs[2].train.data_limit, 2000u);
    cr_assert_eq(p.runs[1].train.seed, 2u);
    cr_assert_eq(p.runs[7].index, 7);
    cr_assert_str_eq(p.runs[2].id, "r002-L1-d16-D2000-s1");
    cr_assert_eq(p.runs[0].train.eval_every, 7, "eval_every is capped at the steps");
    sl_preset_free(&p);
    sl_corpus_free(&c);

    /* isoflop: steps = C / (flops per token * batch * n_ctx), rounded up, the
     * flops per token in the sweep's accounting: Kaplan's 6N by default */
    plan(&p, &c, "\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e11]", "\"batch\": 4");
    cr_assert_eq(p.n_runs, 1);
    sl_counts k = sl_model_counts(&p.runs[0].train.model);
    cr_assert_eq(p.accounting, SL_ACCT_KAPLAN);
    cr_assert_eq(p.runs[0].train.steps, (long)ceil(1e11 / (6 * k.n_kaplan) / (4.0 * 32)));
    cr_assert_eq(p.runs[0].budget, 1e11);
    sl_preset_free(&p);
    sl_corpus_free(&c);
    plan(&p, &c, "\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e11], \"accounting\": \"attn\"",
         "\"batch\": 4");
    k = sl_model_counts(&p.runs[0].train.model);
    cr_assert_eq(p.runs[0].train.steps, (long)ceil(1e11 / k.flops_per_token / (4.0 * 32)));
    sl_preset_free(&p);
    sl_corpus_free(&c);

    /* batch sizes at equal tokens */
    plan(&p, &c, "\"kind\": \"batch\", \"n\": [3000], \"batches\": [4, 16]", "\"tokens\": 8192");
    cr_assert_eq(p.n_runs, 2);
    cr_assert_eq(p.runs[0].train.batch, 4);
    cr_assert_eq(p.runs[0].train.steps, 64);
    cr_assert_eq(p.runs[1].train.steps, 16);
    sl_preset_free(&p);
    sl_corpus_free(&c);

    /* a learning-rate scan at each batch size: factors of LR(N) */
    plan(&p, &c, "\"kind\": \"batch\", \"n\": [3000], \"batches\": [4, 16], \"lr_factors\": [0.5, 2]",
         "\"tokens\": 8192");
    cr_assert_eq(p.n_runs, 4);
    double auto_lr = sl_lr_auto(sl_model_counts(&p.runs[0].train.model).n_kaplan);
    cr_assert_float_eq(p.runs[0].train.lr, 0.5 * auto_lr, 1e-12);
    cr_assert_float_eq(p.runs[1].train.lr, 2 * auto_lr, 1e-12);
    cr_assert_eq(p.runs[1].train.batch, 4);
    cr_assert_eq(p.runs[2].train.batch, 16);
    cr_assert_str_eq(p.runs[1].id, "r001-L1-d16-B4-lr2-s1");
    sl_preset_free(&p);
    sl_corpus_free(&c);

    /* shapes at one N: deeper for a smaller aspect ratio */
    plan(&p, &c, "\"kind\": \"shape\", \"n\": [100000], \"aspects\": [4, 64]", "\"steps\": 5");
    cr_assert_eq(p.n_runs, 2);
    cr_assert_gt(p.runs[0].train.model.n_layer, p.runs[1].train.model.n_layer);
    sl_preset_free(&p);
    sl_corpus_free(&c);
}

/* Writes tu_dir/NAME.json over su_corpus with its own model object. */
static const char *model_preset(char *buf, size_t len, const char *name, const char *model,
                                const char *sweep)
{
    char corpus[512], text[2048];
    su_corpus(corpus, sizeof corpus);
    snprintf(text, sizeof text,
             "{\"name\": \"%s\", \"data\": {\"corpus\": \"%s\"},\n \"model\": {%s},\n"
             " \"sweep\": {%s}, \"train\": {\"steps\": 5}}\n",
             name, corpus, model, sweep);
    char file[64];
    snprintf(file, sizeof file, "%s.json", name);
    return write_text(buf, len, file, text);
}

Test(preset, layers_fixes_the_depth_of_every_size)
{
    char path[512];
    model_preset(path, sizeof path, "deep",
                 "\"n_ctx\": 32, \"head_size\": 8, \"aspect\": 16, \"layers\": 2",
                 "\"kind\": \"isoflop\", \"n\": [6000, 12000, 50000, 200000], \"budgets\": [1e10]");
    sl_preset p;
    sl_corpus c;
    sl_error err;
    cr_assert_eq(sl_preset_load(&p, path, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(p.layers, 2);
    char *j = sl_preset_resolved_json(&p);
    cr_expect_not_null(strstr(j, "\"layers\""), "the resolved sweep keeps its depth: %s", j);
    free(j);
    sl_corpus_opts co = {0};
    co.path = p.corpus;
    co.data_dir = tu_dir;
    cr_assert_eq(sl_corpus_load(&c, &co, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_preset_plan(&p, &c, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(p.n_runs, 4);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(p.runs[i].train.model.n_layer, 2, "run %d", i);
    cr_expect_lt(p.runs[0].train.model.d_model, p.runs[3].train.model.d_model);
    sl_preset_free(&p);
    sl_corpus_free(&c);
}

Test(preset, bad_layers_are_refused)
{
    char p[512];
    model_preset(p, sizeof p, "l129", "\"layers\": 129", "\"n\": [3000]");
    assert_bad_preset(p, "l129.json:model.layers: 129 is out of range (expected 0..128)");
    model_preset(p, sizeof p, "lshape", "\"layers\": 2",
                 "\"kind\": \"shape\", \"n\": [100000], \"aspects\": [4, 64]");
    assert_bad_preset(p, "lshape.json:model.layers: is set in a shape sweep");
    model_preset(p, sizeof p, "lsmall", "\"head_size\": 16, \"layers\": 4", "\"n\": [12000, 5000]");
    assert_bad_preset(p, "lsmall.json:sweep.n[1]: 5000 is below the smallest model with head size 16 and 4 layers (expected N >= 12288)");
}

Test(preset, fit_reads_a_run_store)
{
    char p[512], runs[512], dir[600];
    su_preset(p, sizeof p, "fitme", "\"n\": [3000, 12000, 25000]",
              "\"steps\": 30, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    char out[8192], errb[8192];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/fitme", runs);
    const char *fit[] = {"fit", dir, "--law", "power-n", "--bootstrap", "0", NULL};
    int rc = tu_run(out, sizeof out, errb, sizeof errb, 0, fit);
    cr_assert(rc == 0 || rc == 1, "fit exited %d: %s", rc, errb);
    cr_assert_not_null(strstr(out, "alpha"), "%s%s", out, errb);

    /* every learning-curve point carries C in each accounting: c is Kaplan's
     * 6N per token (C = 6NBS), c_attn adds attention's context term, c_head
     * the output head, c_total both; and the run's warmup in steps */
    char *text;
    sl_error e;
    cr_assert_eq(sl_export_points_csv(dir, SL_POINTS_CURVES, 0, &text, &e), SL_OK, "%s", e.msg);
    const char *head = "n,d,c,s,b,loss,run,n_total,data_limit,c_total,noise_scale,c_attn,c_head,warmup,bpb\n";
    cr_assert(!strncmp(text, head, strlen(head)), "%.100s", text);
    int rows = 0;
    for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        double n, d, c, b, loss, n_total, dl, c_total, c_attn, c_head, bpb;
        long st, wu;
        char id[128];
        /* noise_scale is empty on one thread */
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf,%ld,%lf,%lf,%127[^,],%lf,%lf,%lf,,%lf,%lf,%ld,%lf", &n, &d,
                            &c, &st, &b, &loss, id, &n_total, &dl, &c_total, &c_attn, &c_head, &wu, &bpb),
                     14, "%.160s", line);
        /* byte tokens: bits per byte are nats per token / ln 2 (to rounding) */
        cr_assert_float_eq(bpb, loss / log(2.0), 1e-12 * bpb, "%s: bpb %g, loss %g", id, bpb, loss);
        /* tiny presets: n_ctx 32, vocab 256; layers and d_model from the id */
        const char *dm = strstr(id, "-d"), *lm = strstr(id, "-L");
        cr_assert(dm && lm, "%s", id);
        double width = atof(dm + 2), layers = atof(lm + 2);
        cr_assert_float_eq(c, 6 * n * d, 1e-9 * c, "%s: kaplan C %g", id, c);
        cr_assert_float_eq(c_attn - c, d * 6 * layers * 32 * width, 1e-9 * c_attn, "%s", id);
        cr_assert_float_eq(c_head - c, d * 6 * width * 256, 1e-9 * c_head, "%s", id);
        cr_assert_float_eq(c_total, c_attn + c_head - c, 1e-9 * c_total, "%s", id);
        cr_assert_eq(wu, 3, "%s: warmup %ld (10%% of 30 steps)", id, wu);
    }
    cr_assert_eq(rows, 9, "3 runs x 3 evaluations after step 0");
    free(text);
    const char *fit2[] = {"fit", dir, "--law", "approach1", "--n", "n_total", "--accounting",
                          "total", "--bootstrap", "0", NULL};
    rc = tu_run(out, sizeof out, errb, sizeof errb, 0, fit2);
    cr_assert(rc == 0 || rc == 1, "fit exited %d: %s", rc, errb);
    cr_assert_not_null(strstr(out, "N_0"), "%s%s", out, errb);
    cr_assert_not_null(strstr(out, "compute   C in the total accounting"), "%s", out);
    const char *fit_k[] = {"fit", dir, "--law", "cfixed", "--bootstrap", "0", NULL};
    rc = tu_run(out, sizeof out, errb, sizeof errb, 0, fit_k);
    cr_assert(rc == 0 || rc == 1, "fit exited %d: %s", rc, errb);
    cr_assert_not_null(strstr(out, "compute   C in the kaplan accounting: 6N per token"), "%s", out);
    const char *fit_bad[] = {"fit", dir, "--law", "cmin", "--accounting", "6nd", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, fit_bad), 2);
    cr_assert_not_null(strstr(errb, "--accounting: '6nd' is not an accounting"), "%s", errb);

    /* cmin on the trimmed envelope tells the runs apart by N: the smallest
     * model's first evaluation, before any other has one, is left out */
    int k[2];
    for (int trim = 0; trim < 2; trim++) {
        const char *fit3[] = {"fit", dir, "--law", "cmin", "--bootstrap", "0",
                              trim ? "--trim-envelope" : NULL, NULL};
        rc = tu_run(out, sizeof out, errb, sizeof errb, 0, fit3);
        cr_assert(rc == 0 || rc == 1, "fit exited %d: %s", rc, errb);
        const char *at = strstr(out, "least squares on ");
        cr_assert_not_null(at, "%s%s", out, errb);
        k[trim] = atoi(at + strlen("least squares on "));
    }
    cr_assert_lt(k[1], k[0], "frontier points: %d trimmed, %d whole", k[1], k[0]);
}

Test(preset, bcrit_is_fitted_to_the_noise_scales_a_store_measured)
{
    char p[512], runs[512], dir[600], out[8192], errb[8192];
    tu_path(runs, sizeof runs, "runs");
    /* two threads per run: each evaluation row carries B_simple */
    su_preset(p, sizeof p, "noisy", "\"kind\": \"batch\", \"n\": [3000], \"batches\": [8, 16]",
              "\"tokens\": 20480, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 2");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/noisy", runs);
    char *text;
    sl_error e;
    cr_assert_eq(sl_export_points_csv(dir, SL_POINTS_NOISE, 0, &text, &e), SL_OK, "%s", e.msg);
    /* 80 and 40 steps at equal tokens: 8 + 4 evaluations, each with a positive noise scale */
    int rows = 0;
    for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        const char *last = strchr(line, '\n');
        while (last > line && last[-1] != ',')
            last--;
        cr_assert_gt(atof(last), 0, "noise_scale: %.120s", line);
    }
    free(text);
    cr_assert_eq(rows, 12);
    const char *fit[] = {"fit", dir, "--law", "bcrit", "--bootstrap", "0", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, fit), 0, "%s", errb);
    cr_assert_not_null(strstr(out, "points    12"), "%s", out);
    cr_assert_not_null(strstr(out, "alpha_B"), "%s", out);

    /* one thread per run measures no noise scale: one line, exit 2 */
    su_preset(p, sizeof p, "quiet1", "\"n\": [3000]",
              "\"steps\": 20, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 1");
    const char *args1[] = {"run", p, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args1), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/quiet1", runs);
    const char *fit1[] = {"fit", dir, "--law", "bcrit", NULL};
    tu_assert_bad_input("noise_scale: no metric row measured the gradient noise scale (expected runs trained with train.threads >= 2)", fit1);
}

Test(preset, early_stopping_anneal_reruns_a_stopped_run_to_its_best_step)
{
    char p[512], runs[512], dir[600], out[8192], errb[8192];
    tu_path(runs, sizeof runs, "runs");
    /* a tiny data limit overfits fast; patience 2 stops it well before 400 steps */
    su_preset(p, sizeof p, "ann", "\"kind\": \"nd\", \"n\": [12000], \"d\": [600]",
              "\"steps\": 400, \"eval_every\": 10, \"eval_tokens\": 1024, \"threads\": 1, "
              "\"early_stopping\": {\"patience\": 2, \"anneal\": true}");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/ann", runs);
    sl_run *r;
    int n;
    sl_error e;
    cr_assert_eq(sl_runs_load(dir, &r, &n, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(n, 2, "the stopped run and its re-run");
    const sl_run *a = !strcmp(r[0].spec.annealed_from, "") ? &r[0] : &r[1];
    const sl_run *b = a == &r[0] ? &r[1] : &r[0];
    cr_assert(strstr(a->status.reason, "early stopping"), "%s", a->status.reason);
    cr_assert(a->spec.anneal, "the planned run asks for the anneal");
    cr_assert_str_eq(b->spec.annealed_from, a->spec.id);
    long best = a->rows[sl_run_best_row(a->rows, a->n_rows)].step;
    cr_assert_eq(b->spec.train.steps, best, "re-run to the best step %ld", best);
    cr_assert_eq(b->spec.patience, 0);
    cr_assert_eq(b->spec.train.warmup, sl_train_warmup(&a->spec.train) < best
                                            ? sl_train_warmup(&a->spec.train) : best);
    cr_assert_eq(b->spec.train.seed, a->spec.train.seed);
    cr_assert_eq(sl_run_state_of(b), SL_RUN_DONE);
    cr_assert_eq(b->rows[b->n_rows - 1].step, best, "trained to the end of its schedule");
    /* the fit of best losses takes the re-run in place of the stopped run */
    sl_fit_point *pts;
    size_t np;
    sl_runs_points(r, n, SL_POINTS_BEST, 0, &pts, &np);
    cr_assert_eq(np, 1);
    cr_assert_float_eq(pts[0].loss, sl_run_best_loss(b->rows, b->n_rows), 1e-15);
    free(pts);
    sl_runs_free(r, n);
    /* resuming adds no second re-run */
    const char *again[] = {"resume", dir, "--quiet", NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, again), 0, "%s", errb);
    cr_assert_eq(sl_runs_load(dir, &r, &n, &e), SL_OK, "%s", e.msg);
    cr_assert_eq(n, 2);
    sl_runs_free(r, n);
}

/* A store's sweep.json written before sweep.accounting existed planned its
 * budgets in attn and keeps doing so; a preset without the key plans in
 * kaplan; an unknown accounting names the field. */
Test(preset, isoflop_accounting_defaults_to_kaplan_and_old_stores_keep_attn)
{
    const char *old_json = "{\"format_version\": 1, \"name\": \"iso\", \"data\": {\"corpus\": \"kjv\"}, "
                           "\"sweep\": {\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e11]}}";
    sl_preset p;
    sl_error err;
    cr_assert_eq(sl_preset_parse(&p, old_json, "runs/iso/sweep.json", &err), SL_OK, "%s", err.msg);
    cr_expect_eq(p.accounting, SL_ACCT_ATTN);
    char *resolved = sl_preset_resolved_json(&p);
    cr_expect_not_null(strstr(resolved, "\"accounting\":\t\"attn\""), "%s", resolved);
    free(resolved);
    sl_preset_free(&p);
    const char *preset = "{\"name\": \"iso\", \"data\": {\"corpus\": \"kjv\"}, "
                         "\"sweep\": {\"kind\": \"isoflop\", \"n\": [3000], \"budgets\": [1e11]}}";
    cr_assert_eq(sl_preset_parse(&p, preset, "iso.json", &err), SL_OK, "%s", err.msg);
    cr_expect_eq(p.accounting, SL_ACCT_KAPLAN);
    sl_preset_free(&p);
    const char *bad = "{\"name\": \"iso\", \"data\": {\"corpus\": \"kjv\"}, \"sweep\": {\"kind\": \"isoflop\", "
                      "\"n\": [3000], \"budgets\": [1e11], \"accounting\": \"6nd\"}}";
    cr_assert_eq(sl_preset_parse(&p, bad, "iso.json", &err), SL_EINPUT);
    cr_expect_str_eq(err.msg, "iso.json:sweep.accounting: '6nd' is not an accounting (expected kaplan, attn, head or total)");
}
