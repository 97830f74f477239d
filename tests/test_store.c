/* The run store: metrics trimming (torn lines, rows past the checkpoint),
 * status round trips, refusing a store of a newer format, status and export. */
#include <math.h>

#include "scalelab/store.h"
#include "sweeputil.h"

TestSuite(store, .init = tu_make_dir, .fini = tu_remove_dir);

static const char *hdr = "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s\n";

Test(store, trim_keeps_rows_up_to_the_checkpoint_and_drops_a_torn_line)
{
    char p[512];
    tu_path(p, sizeof p, "metrics.csv");
    char text[1024];
    snprintf(text, sizeof text,
             "%s0,0,0,nan,5.5,0,nan,nan,0\n10,1,1,5,5,0,1,nan,1\n20,2,2,4,4,0,1,nan,2\n30,3,3,3,3,0,1,n",
             hdr);
    tu_write(p, text, strlen(text));
    sl_error err;
    cr_assert_eq(sl_metrics_trim(p, 20, &err), SL_OK);
    sl_metric_row *rows;
    size_t n;
    double *extra;
    cr_assert_eq(sl_metrics_read(p, &rows, &n, &extra, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 3u);
    cr_assert_eq(rows[2].step, 20);
    cr_assert_eq(rows[2].test_loss, 4.0);
    cr_assert(isnan(rows[0].train_loss));
    cr_assert_null(extra);
    free(rows);
    cr_assert_eq(sl_metrics_trim(p, -1, &err), SL_OK);
    char *d = su_read(p);
    cr_assert_str_eq(d, hdr);
    free(d);
}

Test(store, read_ignores_a_torn_last_line)
{
    char p[512];
    tu_path(p, sizeof p, "metrics.csv");
    char text[512];
    snprintf(text, sizeof text, "%s0,0,0,nan,5.5,0,nan,nan,0\n10,1,1,5,4.", hdr);
    tu_write(p, text, strlen(text));
    sl_metric_row *rows;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_metrics_read(p, &rows, &n, NULL, &err), SL_OK);
    cr_assert_eq(n, 1u);
    free(rows);
}

/* A damaged row is bad input naming the file, the line and the column: no
 * field is guessed, and the step is never cast from a NaN or a huge number. */
Test(store, a_damaged_metrics_row_is_refused_naming_line_and_column)
{
    char p[512];
    tu_path(p, sizeof p, "metrics.csv");
    const struct {
        const char *row, *want;
    } bad[] = {
        {",0,0,nan,5.5,0,nan,nan,0\n", ":line 3: step: not a number"},
        {"nan,0,0,nan,5.5,0,nan,nan,0\n", ":line 3: step: not an integer 0..1e15"},
        {"1e300,0,0,nan,5.5,0,nan,nan,0\n", ":line 3: step: not an integer 0..1e15"},
        {"-10,0,0,nan,5.5,0,nan,nan,0\n", ":line 3: step: not an integer 0..1e15"},
        {"10.5,0,0,nan,5.5,0,nan,nan,0\n", ":line 3: step: not an integer 0..1e15"},
        {"10,1,1,5,abc,0,1,nan,1\n", ":line 3: test_loss: not a number"},
        {"10,1,1,5\n", ":line 3: test_loss: missing: the row ends before it"},
        {"10,1,1,5,5,0,1,nan,1,7\n", ":line 3: wall_s: followed by more fields"},
        {"0\t20,1,1,5,5,0,1,nan,1\n", ":line 3: step: not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s0,0,0,nan,5.5,0,nan,nan,0\n%s", hdr, bad[i].row);
        tu_write(p, text, strlen(text));
        sl_metric_row *rows;
        size_t n;
        sl_error err;
        cr_assert_eq(sl_metrics_read(p, &rows, &n, NULL, &err), SL_EINPUT, "accepted: %s", bad[i].row);
        char want[700];
        snprintf(want, sizeof want, "%s%s", p, bad[i].want);
        cr_assert_not_null(strstr(err.msg, want), "%s: %s", bad[i].row, err.msg);
    }
    /* the extra column is named by the header */
    char text[1024];
    snprintf(text, sizeof text,
             "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s,transfer_loss\n"
             "0,0,0,nan,5.5,0,nan,nan,0,x\n");
    tu_write(p, text, strlen(text));
    sl_metric_row *rows;
    size_t n;
    sl_error err;
    cr_assert_eq(sl_metrics_read(p, &rows, &n, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, ":line 2: transfer_loss: not a number (expected 10 numbers"), "%s",
                       err.msg);
}

Test(store, status_json_numbers_out_of_range_are_refused)
{
    char p[512];
    tu_path(p, sizeof p, "status.json");
    const char *bad[] = {"{\"state\": \"done\", \"step\": 1e300}", "{\"state\": \"done\", \"step\": -3}",
                         "{\"state\": \"done\", \"threads\": 1e10}", "{\"state\": \"done\", \"threads\": 1.5}",
                         "{\"state\": \"done\", \"epochs\": -0.5}"};
    const char *field[] = {"status.json:step: 1e+300 is out of range", "status.json:step: -3 is out of range",
                           "status.json:threads: 1e+10 is out of range",
                           "status.json:threads: 1.5 is out of range",
                           "status.json:epochs: -0.5 is out of range (expected a number >= 0)"};
    for (int i = 0; i < 5; i++) {
        tu_write(p, bad[i], strlen(bad[i]));
        sl_run_status s;
        sl_error err;
        cr_assert_eq(sl_status_read(tu_dir, &s, &err), SL_EINPUT, "accepted %s", bad[i]);
        cr_assert_not_null(strstr(err.msg, field[i]), "%s", err.msg);
    }
}

/* a sweep.json that is not JSON, or not an object, says so */
Test(store, a_bad_sweep_json_says_what_is_wrong)
{
    char p[512];
    tu_path(p, sizeof p, "sweep.json");
    const char *text[] = {"{\"name\": \"x\",\n \"sweep\": }", "[1, 2]", "{\"name\": \"x\"}",
                          "{\"format_version\": \"1\"}"};
    const char *want[] = {"sweep.json:2:11: invalid JSON (expected the resolved preset",
                          "sweep.json: is not a JSON object", "sweep.json:format_version: missing",
                          "sweep.json:format_version: is not a number"};
    for (int i = 0; i < 4; i++) {
        tu_write(p, text[i], strlen(text[i]));
        char *json;
        sl_error err;
        cr_assert_eq(sl_sweep_read(tu_dir, &json, &err), SL_EINPUT);
        cr_assert_not_null(strstr(err.msg, want[i]), "%s", err.msg);
    }
    const char *args[] = {"status", tu_dir, NULL};
    tu_write(p, text[0], strlen(text[0]));
    tu_assert_bad_input("sweep.json:2:11: invalid JSON", args);
}

Test(store, status_round_trips_with_bitwise_losses)
{
    sl_run_status s = {0}, t;
    snprintf(s.state, sizeof s.state, "done");
    snprintf(s.reason, sizeof s.reason, "early stopping, \"quoted\"");
    s.step = 120;
    s.best_test_loss = 1.0 / 3.0;
    s.final_test_loss = NAN;
    s.best_test_bpb = 1.0 / 7.0;
    s.epochs = 0.3125;
    s.threads = 2;
    sl_error err;
    cr_assert_eq(sl_status_write(tu_dir, &s, &err), SL_OK);
    cr_assert_eq(sl_status_read(tu_dir, &t, &err), SL_OK);
    cr_assert_eq(t.best_test_bpb, 1.0 / 7.0);
    cr_assert_eq(t.epochs, 0.3125);
    cr_assert_str_eq(t.state, "done");
    cr_assert_str_eq(t.reason, s.reason);
    cr_assert_eq(t.step, 120);
    cr_assert_eq(t.best_test_loss, 1.0 / 3.0);
    cr_assert(isnan(t.final_test_loss));
    cr_assert_eq(t.threads, 2);
}

Test(store, a_newer_store_is_refused_and_left_alone)
{
    char p[512], dir[600];
    su_preset(p, sizeof p, "tiny", "\"n\": [3000]", "\"steps\": 10, \"eval_every\": 5, \"threads\": 1");
    char runs[512];
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, "--quiet", NULL};
    char out[4096], errb[4096];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/tiny", runs);
    char sweep[700];
    snprintf(sweep, sizeof sweep, "%s/sweep.json", dir);
    const char *newer = "{\"format_version\": 7, \"name\": \"tiny\"}";
    tu_write(sweep, newer, strlen(newer));
    const char *r1[] = {"resume", dir, NULL};
    tu_assert_bad_input("sweep.json:format_version: 7 is newer", r1);
    const char *r2[] = {"run", p, "--runs", runs, NULL};
    tu_assert_bad_input("sweep.json:format_version: 7 is newer", r2);
    const char *r3[] = {"status", dir, NULL};
    tu_assert_bad_input("format_version", r3);
    char *d = su_read(sweep);
    cr_assert_str_eq(d, newer);
    free(d);
}

Test(store, status_and_export_describe_a_finished_sweep)
{
    char p[512], runs[512], dir[600], outd[600], path[700];
    su_preset(p, sizeof p, "two", "\"n\": [3000, 12000]",
              "\"steps\": 20, \"eval_every\": 5, \"threads\": 1");
    tu_path(runs, sizeof runs, "runs");
    const char *args[] = {"run", p, "--runs", runs, NULL};
    char out[8192], errb[8192];
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0, "%s", errb);
    snprintf(dir, sizeof dir, "%s/two", runs);
    const char *st[] = {"status", dir, NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, st), 0, "%s", errb);
    cr_assert_not_null(strstr(out, "2 runs: 2 done"), "%s", out);
    cr_assert_not_null(strstr(out, "r000-L1-d16-s1"), "%s", out);
    snprintf(outd, sizeof outd, "%s/export", tu_dir);
    const char *ex[] = {"export", dir, "--csv", outd, NULL};
    cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, ex), 0, "%s", errb);
    snprintf(path, sizeof path, "%s/runs.csv", outd);
    char *d = su_read(path);
    cr_assert_not_null(d);
    cr_assert(!strncmp(d, "id,index,layers,d_model,heads,d_ff,n_ctx,vocab,N,N_total,D,", 58), "%s", d);
    cr_assert_not_null(strstr(d, ",done,"), "%s", d);
    free(d);
    cr_assert_eq(su_count_lines(path), 3);
    snprintf(path, sizeof path, "%s/curves.csv", outd);
    /* header + 5 rows (steps 0, 5, 10, 15, 20) per run */
    cr_assert_eq(su_count_lines(path), 11);
}

Test(store, status_of_a_missing_store_is_bad_input)
{
    char dir[512];
    tu_path(dir, sizeof dir, "nothing");
    const char *args[] = {"status", dir, NULL};
    tu_assert_bad_input("no sweep.json", args);
}

Test(store, every_sweep_command_has_help)
{
    const char *cmds[] = {"run", "resume", "status", "export"};
    for (int i = 0; i < 4; i++) {
        const char *args[] = {cmds[i], "--help", NULL};
        char out[8192], errb[4096];
        cr_assert_eq(tu_run(out, sizeof out, errb, sizeof errb, 0, args), 0);
        char want[64];
        snprintf(want, sizeof want, "usage: scalelab %s", cmds[i]);
        cr_assert(!strncmp(out, want, strlen(want)), "%s", out);
    }
}

Test(store, bad_flags_of_sweep_commands_are_bad_input)
{
    const char *a1[] = {"run", NULL};
    tu_assert_bad_input("PRESET: missing", a1);
    const char *a2[] = {"run", "tiny", "--jobs", "0", NULL};
    tu_assert_bad_input("--jobs: 0 is out of range", a2);
    const char *a3[] = {"resume", "x", "--bogus", "1", NULL};
    tu_assert_bad_input("--bogus: unknown option", a3);
    const char *a4[] = {"export", "x", "--csv", NULL};
    tu_assert_bad_input("--csv: missing value", a4);
}

/* An edit applied to a live sweep is recorded in sweep.json: the edited preset,
 * one revision on, the edit appended to its history; a preset equal to the
 * edited one is still the same sweep, the original is not; a bad revision or
 * history names the field. */
Test(store, an_applied_edit_revises_sweep_json_and_keeps_its_history)
{
    char dir[600];
    tu_path(dir, sizeof dir, "sweep");
    sl_error err;
    cr_assert_eq(sl_mkdirs(dir, &err), SL_OK, "%s", err.msg);
    const char *orig = "{\"name\": \"s\", \"format_version\": 1, \"sweep\": {\"n\": [3000, 12000]}}";
    const char *edit = "{\"name\": \"s\", \"format_version\": 1, \"sweep\": {\"n\": [3000, 12000, 25000]}}";
    cr_assert_eq(sl_sweep_write(dir, orig, &err), SL_OK, "%s", err.msg);
    char *text = NULL, change[128];
    cr_assert_eq(sl_sweep_read(dir, &text, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(sl_sweep_revision(text, change, sizeof change), 1);
    cr_expect_str_eq(change, "");
    free(text);
    int rev = 0;
    cr_assert_eq(sl_sweep_revise(dir, edit, "1 runs added, 0 dropped; changed sweep.n", &rev, &err), SL_OK, "%s",
                 err.msg);
    cr_expect_eq(rev, 2);
    cr_assert_eq(sl_sweep_revise(dir, edit, "0 runs added, 0 dropped", &rev, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(rev, 3);
    cr_assert_eq(sl_sweep_read(dir, &text, &err), SL_OK, "%s", err.msg);
    cr_expect_eq(sl_sweep_revision(text, change, sizeof change), 3);
    cr_expect_str_eq(change, "0 runs added, 0 dropped");
    cr_expect_not_null(strstr(text, "\"change\":\t\"1 runs added, 0 dropped; changed sweep.n\""), "%s", text);
    cr_expect_not_null(strstr(text, "\"time\":\t\"20"), "no UTC time: %s", text);
    sl_preset p;
    cr_assert_eq(sl_preset_parse(&p, text, "sweep.json", &err), SL_OK, "%s", err.msg);
    cr_expect_eq(p.revision, 3);
    sl_preset_free(&p);
    cr_expect(sl_preset_same_sweep(text, edit), "the edited preset is the revised store's sweep");
    cr_expect(!sl_preset_same_sweep(text, orig), "the original preset is another sweep now");
    free(text);
    cr_assert_eq(sl_preset_parse(&p, "{\"name\": \"s\", \"revision\": 0.5, \"sweep\": {\"n\": [3000]}}", "x.json",
                                 &err),
                 SL_EINPUT);
    cr_expect_str_eq(err.msg, "x.json:revision: is not a revision (expected an integer >= 1)");
    cr_assert_eq(sl_preset_parse(&p, "{\"name\": \"s\", \"edits\": 3, \"sweep\": {\"n\": [3000]}}", "x.json", &err),
                 SL_EINPUT);
    cr_expect_str_eq(err.msg, "x.json:edits: is a number (expected an array of edits)");
}

/* metrics.csv gained test_bpb after wall_s: a file from before reads with
 * test_bpb NaN and is written on in its own layout; today's file carries it
 * (before the extra column) to round-trip precision. */
Test(store, test_bpb_is_read_by_name_and_older_files_read_as_nan)
{
    char p[512];
    tu_path(p, sizeof p, "metrics.csv");
    char text[1024];
    snprintf(text, sizeof text, "%s0,0,0,nan,5.5,0,nan,nan,0\n", hdr);
    tu_write(p, text, strlen(text));
    sl_metric_row *rows;
    size_t n;
    double *extra;
    sl_error err;
    cr_assert_eq(sl_metrics_read(p, &rows, &n, &extra, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 1u);
    cr_assert(isnan(rows[0].test_bpb));
    cr_assert_null(extra);
    free(rows);
    cr_assert_eq(sl_metrics_layout(p), SL_METRICS_NO_BPB);
    snprintf(text, sizeof text, "%s", "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s,"
                                      "transfer_loss\n0,0,0,nan,5.5,0,nan,nan,0,6\n");
    tu_write(p, text, strlen(text));
    cr_assert_eq(sl_metrics_layout(p), SL_METRICS_NO_BPB | SL_METRICS_TRANSFER);
    cr_assert_eq(sl_metrics_read(p, &rows, &n, &extra, &err), SL_OK, "%s", err.msg);
    cr_assert(isnan(rows[0].test_bpb));
    cr_assert_eq(extra[0], 6.0);
    free(rows);
    free(extra);
    /* today's layout, written and read back */
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    sl_metrics_header(f, "transfer_loss");
    sl_metric_row r = {0};
    r.step = 10;
    r.test_loss = 1.0 / 3.0;
    r.test_bpb = r.test_loss / log(2.0);
    r.train_loss = r.noise_scale = NAN;
    cr_assert_eq(sl_metrics_write_row(f, &r, SL_METRICS_TRANSFER, 2.5), 0);
    fclose(f);
    char *d = su_read(p);
    cr_assert(!strncmp(d, "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s,test_bpb,"
                          "transfer_loss\n", 89), "%s", d);
    free(d);
    cr_assert_eq(sl_metrics_layout(p), SL_METRICS_TRANSFER);
    cr_assert_eq(sl_metrics_read(p, &rows, &n, &extra, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(rows[0].test_bpb, r.test_bpb, "bitwise");
    cr_assert_eq(extra[0], 2.5);
    free(rows);
    free(extra);
    /* a row of today's file without its test_bpb is bad input naming it */
    const char *cols = "step,tokens,flops,train_loss,test_loss,lr,grad_norm,noise_scale,wall_s,test_bpb\n";
    snprintf(text, sizeof text, "%s0,0,0,nan,5.5,0,nan,nan,0\n", cols);
    tu_write(p, text, strlen(text));
    cr_assert_eq(sl_metrics_read(p, &rows, &n, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, ":line 2: test_bpb: missing: the row ends before it (expected 10 numbers"),
                       "%s", err.msg);
    snprintf(text, sizeof text, "%s0,0,0,nan,5.5,0,nan,nan,0,bits\n", cols);
    tu_write(p, text, strlen(text));
    cr_assert_eq(sl_metrics_read(p, &rows, &n, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, ":line 2: test_bpb: not a number"), "%s", err.msg);
}

/* sources.csv: each source's held-out loss round-trips; a damaged one is bad
 * input naming the file, the line and the column, and status says so, exit 2. */
Test(store, sources_csv_round_trips_and_a_damaged_one_names_line_and_column)
{
    sl_source_loss s[2] = {{"gcide", 4096, 4100, 1.5, 1.5 / log(2.0) * 4096 / 4100},
                           {"fortunes", 0, 0, NAN, NAN}};
    sl_error err;
    cr_assert_eq(sl_sources_write(tu_dir, s, 2, &err), SL_OK, "%s", err.msg);
    sl_source_loss *t;
    int n;
    cr_assert_eq(sl_sources_read(tu_dir, &t, &n, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(t[0].name, "gcide");
    cr_assert_eq(t[0].test_loss, 1.5);
    cr_assert_eq(t[0].test_bpb, s[0].test_bpb, "bitwise");
    cr_assert_eq(t[0].test_tokens, 4096);
    cr_assert(isnan(t[1].test_loss));
    free(t);
    char p[512];
    tu_path(p, sizeof p, "sources.csv");
    const char *bad[] = {"source,test_tokens,test_bytes,test_loss,test_bpb\ngcide,10,10,-1,2\n",
                         "source,test_tokens,test_bytes,test_loss,test_bpb\ngcide,10,10,1,2\nkjv,x,1,1,1\n",
                         "source,test_tokens,test_bytes,test_loss\ngcide,10,10,1\n"};
    const char *want[] = {"sources.csv:line 2: test_loss: '-1' (expected a number >= 0 or nan)",
                          "sources.csv:line 3: test_tokens: 'x' (expected a number >= 0 or nan)",
                          "sources.csv: header: no column test_bpb"};
    for (int i = 0; i < 3; i++) {
        tu_write(p, bad[i], strlen(bad[i]));
        cr_assert_eq(sl_sources_read(tu_dir, &t, &n, &err), SL_EINPUT, "accepted %s", bad[i]);
        cr_assert_not_null(strstr(err.msg, want[i]), "%s", err.msg);
        cr_assert_null(t);
    }
}
