/* panel_editor: see panel_editor.h. The preset is held as the JSON tree of
 * its resolved text (every default written out), so an edit is a change of
 * one node and its check is sl_preset_parse of the whole tree printed. */
#include "panel_editor.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEAVES 128

#include "scalelab/store.h"
#include "scalelab/numfmt.h"

/* The preview of an edit: the edited preset planned against its corpus on a
 * thread of its own (loading a corpus takes a while), compared run by run
 * with the store's runs. Written by its thread until `done` is released. */
typedef struct {
    pthread_t th;
    atomic_int done;
    char *text;
    char path[1024], dir[1024], data_dir[1024];
    int has_data_dir;
    double gflops;
    int rc;
    sl_error err;
    int add, drop, keep_running, keep_trained;
    double flops, seconds;
    sl_run_spec *adds;
    int n_adds;
    char (*drops)[SL_RUN_ID_MAX];
    int n_drops;
    sl_preset planned; /* the edited preset, planned (when rc is SL_OK) */
    int has_planned;
} PlanJob;

typedef enum { ED_BROWSE, ED_VALUE, ED_NAME } EdMode;

struct Editor {
    cJSON *root;
    char path[1024]; /* the preset's file, for messages as loading gives them */
    char name[64];
    int n;
    char key[MAX_LEAVES][96];
    cJSON *node[MAX_LEAVES];
    int changed[MAX_LEAVES];
    int sel, scroll;
    EdMode mode;
    char buf[512];
    char msg[2600];
    int msg_bad;
    char store[1024];   /* the sweep's store, whose runs the preview compares */
    PlanJob *plan;
    int plan_stale;     /* an edit came while planning: plan again */
    int data_changed;   /* a data.* key changed: the corpus is another one */
    int plan_seen;      /* the finished plan was reported to the screen */
};

/* A run's spec as text without what is not the run itself (its id, index,
 * priority, threads, the N asked for), so that equal runs compare equal. */
static char *signature(const sl_run_spec *r)
{
    char *t = sl_run_spec_to_json(r);
    cJSON *o = cJSON_Parse(t);
    free(t);
    if (!o)
        return NULL;
    static const char *const drop[] = {"id", "index", "priority", "threads", "n_target"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, drop[i]);
    char *sig = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return sig;
}

static void *plan_run(void *arg)
{
    PlanJob *j = arg;
    sl_preset p;
    memset(&p, 0, sizeof p);
    sl_corpus c;
    memset(&c, 0, sizeof c);
    char **ids = NULL;
    int n_ids = 0;
    j->rc = sl_preset_parse(&p, j->text, j->path, &j->err);
    if (j->rc == SL_OK) {
        sl_corpus_opts co;
        sl_preset_corpus_opts(&p, j->has_data_dir ? j->data_dir : NULL, &co);
        j->rc = sl_corpus_load(&c, &co, &j->err);
    }
    if (j->rc == SL_OK)
        j->rc = sl_preset_plan(&p, &c, &j->err);
    if (j->rc == SL_OK)
        j->rc = sl_store_list_runs(j->dir, &ids, &n_ids, &j->err);
    if (j->rc == SL_OK) {
        char **have = sl_xcalloc((size_t)n_ids + 1, sizeof *have);
        int *state = sl_xcalloc((size_t)n_ids + 1, sizeof *state), *used = sl_xcalloc((size_t)n_ids + 1, sizeof *used);
        for (int i = 0; i < n_ids; i++) {
            char path[2200], *text = NULL;
            size_t len;
            sl_run_spec r;
            sl_run_status st;
            snprintf(path, sizeof path, "%s/%s/config.json", j->dir, ids[i]);
            if (sl_read_file(path, &text, &len, NULL) == SL_OK && sl_run_spec_from_json(&r, text, path, NULL) == SL_OK)
                have[i] = signature(&r);
            free(text);
            snprintf(path, sizeof path, "%s/%s", j->dir, ids[i]);
            state[i] = sl_status_read(path, &st, NULL) == SL_OK ? sl_run_state_parse(st.state) : -1;
            if (state[i] == SL_RUN_QUEUED && st.step > 0)
                state[i] = SL_RUN_PAUSED; /* trained some: kept, as a paused run */
        }
        j->adds = sl_xcalloc((size_t)p.n_runs + 1, sizeof *j->adds);
        for (int k = 0; k < p.n_runs; k++) {
            char *sig = signature(&p.runs[k]);
            int found = 0;
            for (int i = 0; i < n_ids && !found && sig; i++)
                if (!used[i] && have[i] && !strcmp(have[i], sig))
                    found = used[i] = 1;
            free(sig);
            if (found)
                continue;
            const sl_train_opts *t = &p.runs[k].train;
            sl_counts cnt = sl_model_counts(&t->model);
            j->flops += cnt.flops_per_token * (double)t->batch * t->model.n_ctx * (double)t->steps;
            j->adds[j->n_adds] = p.runs[k];
            j->adds[j->n_adds++].id[0] = 0;
        }
        j->add = j->n_adds;
        j->drops = sl_xcalloc((size_t)n_ids + 1, sizeof *j->drops);
        for (int i = 0; i < n_ids; i++) {
            if (used[i])
                continue;
            if (state[i] == SL_RUN_QUEUED)
                snprintf(j->drops[j->n_drops++], SL_RUN_ID_MAX, "%s", ids[i]);
            else if (state[i] == SL_RUN_RUNNING)
                j->keep_running++;
            else
                j->keep_trained++;
        }
        j->drop = j->n_drops;
        j->seconds = j->gflops > 0 ? j->flops / (j->gflops * 1e9) : NAN;
        for (int i = 0; i < n_ids; i++)
            free(have[i]);
        free(have);
        free(state);
        free(used);
        sl_store_free_list(ids, n_ids);
    }
    sl_corpus_free(&c);
    if (j->rc == SL_OK) {
        j->planned = p; /* what applying the edit puts in force */
        j->has_planned = 1;
    } else {
        sl_preset_free(&p);
    }
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

static void plan_free(PlanJob *j)
{
    if (!j)
        return;
    pthread_join(j->th, NULL);
    free(j->text);
    free(j->adds);
    free(j->drops);
    if (j->has_planned)
        sl_preset_free(&j->planned);
    free(j);
}

static int plan_done(const PlanJob *j)
{
    return j && atomic_load_explicit(&((PlanJob *)j)->done, memory_order_acquire);
}

static void plan_start(Editor *e, const Lab *lab)
{
    if (e->plan && !plan_done(e->plan)) {
        e->plan_stale = 1;
        return;
    }
    plan_free(e->plan);
    e->plan = NULL;
    e->plan_stale = 0;
    if (!e->store[0])
        return;
    PlanJob *j = sl_xcalloc(1, sizeof *j);
    j->text = cJSON_Print(e->root);
    snprintf(j->path, sizeof j->path, "%s", e->path);
    snprintf(j->dir, sizeof j->dir, "%s", e->store);
    if (lab->opts && lab->opts->data_dir) {
        snprintf(j->data_dir, sizeof j->data_dir, "%s", lab->opts->data_dir);
        j->has_data_dir = 1;
    }
    j->gflops = lab->snap.gflops > 0 ? lab->snap.gflops : lab->gflops_seen;
    atomic_init(&j->done, 0);
    if (pthread_create(&j->th, NULL, plan_run, j) != 0) {
        free(j->text);
        free(j);
        return;
    }
    e->plan = j;
    e->plan_seen = 0;
}

int Editor_poll(Editor *e, Lab *lab)
{
    if (!e || !e->plan || !plan_done(e->plan))
        return 0;
    if (e->plan_stale) {
        plan_start(e, lab);
        return 1;
    }
    if (!e->plan_seen) {
        e->plan_seen = 1;
        return 1;
    }
    return 0;
}


void Editor_presetsDir(char *out, size_t n) { sl_user_dir(out, n, "presets"); }

/* Every leaf (arrays are leaves) as a dotted path, in the file's order. */
static void collect(Editor *e, cJSON *o, const char *prefix)
{
    for (cJSON *it = o->child; it && e->n < MAX_LEAVES; it = it->next) {
        char k[96];
        snprintf(k, sizeof k, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        if (cJSON_IsObject(it)) {
            collect(e, it, k);
            continue;
        }
        snprintf(e->key[e->n], sizeof e->key[e->n], "%s", k);
        e->node[e->n++] = it;
    }
}

Editor *Editor_open(const sl_preset *p, const char *store, sl_error *err)
{
    if (!p)
        return sl_fail(err, SL_EINPUT, "no preset in force"), NULL;
    char *text = sl_preset_resolved_json(p);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root)
        return sl_fail(err, SL_ERUNTIME, "%s: cannot read the resolved preset", p->path), NULL;
    /* a store's edit history is not a key to edit, nor part of a preset saved from it */
    cJSON_DeleteItemFromObjectCaseSensitive(root, "revision");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "edits");
    Editor *e = sl_xcalloc(1, sizeof *e);
    e->root = root;
    snprintf(e->path, sizeof e->path, "%s", p->path);
    snprintf(e->name, sizeof e->name, "%s", p->name);
    snprintf(e->store, sizeof e->store, "%s", store ? store : "");
    collect(e, root, "");
    snprintf(e->msg, sizeof e->msg, "Enter edits a value, s saves as a new preset, Esc closes");
    return e;
}

void Editor_free(Editor *e)
{
    if (!e)
        return;
    plan_free(e->plan);
    cJSON_Delete(e->root);
    free(e);
}

/* The documentation of a key, or of the object it belongs to. */
static const sl_preset_doc *doc_of(const char *key)
{
    char k[96];
    snprintf(k, sizeof k, "%s", key);
    for (;;) {
        const sl_preset_doc *d = sl_preset_doc_find(k);
        if (d)
            return d;
        char *dot = strrchr(k, '.');
        if (!dot)
            return NULL;
        *dot = 0;
    }
}

static void value_text(const cJSON *v, char *out, size_t n)
{
    char *t = cJSON_PrintUnformatted(v);
    snprintf(out, n, "%s", t ? t : "?");
    free(t);
}

/* Checks the tree as loading a preset file does; 0 when it passes. */
static int check(Editor *e, sl_error *err)
{
    char *text = cJSON_Print(e->root);
    sl_preset p;
    memset(&p, 0, sizeof p);
    int rc = sl_preset_parse(&p, text, e->path, err);
    sl_preset_free(&p);
    free(text);
    return rc;
}

static void set_msg(Editor *e, int bad, const char *fmt, const char *a, const char *b)
{
    snprintf(e->msg, sizeof e->msg, fmt, a, b ? b : "");
    e->msg_bad = bad;
}

/* Puts the edited value in place; keeps it only if the preset still loads. */
static void commit_value(Editor *e, const Lab *lab)
{
    int i = e->sel;
    cJSON *v = cJSON_Parse(e->buf);
    if (!v && e->buf[0] && cJSON_IsString(e->node[i]))
        v = cJSON_CreateString(e->buf); /* a bare word for a string key */
    if (!v) {
        set_msg(e, 1, "%s: '%s' is not a JSON value (expected a number, \"text\", true/false or [list])",
                e->key[i], e->buf);
        return;
    }
    cJSON *parent = e->root;
    /* the parent object of the leaf, and the leaf's own name */
    char k[96];
    snprintf(k, sizeof k, "%s", e->key[i]);
    char *leaf = k;
    for (char *dot; (dot = strchr(leaf, '.'));) {
        *dot = 0;
        parent = cJSON_GetObjectItemCaseSensitive(parent, leaf);
        leaf = dot + 1;
    }
    cJSON *keep = cJSON_Duplicate(e->node[i], 1);
    cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, v);
    e->node[i] = v;
    sl_error err;
    if (check(e, &err) != SL_OK) {
        cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, keep);
        e->node[i] = keep;
        set_msg(e, 1, "%s%s", err.msg, " (not applied)");
        return;
    }
    cJSON_Delete(keep);
    e->changed[i] = 1;
    if (!strncmp(e->key[i], "data.", 5))
        e->data_changed = 1;
    plan_start(e, lab);
    set_msg(e, 0, "%s: valid, as loading the preset checks it%s", e->key[i],
            "; s saves the edited preset as a new one");
}

/* The leaves again after a node was replaced (the order is the same, so the
 * selection and the edit marks stay right). */
static void relink(Editor *e)
{
    e->n = 0;
    collect(e, e->root, "");
}

static int good_name(const char *s)
{
    if (!s[0] || strlen(s) > 60 || s[0] == '.')
        return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return 0;
    return 1;
}

static void save_as(Editor *e, Lab *lab)
{
    char dir[1024], path[1200];
    Editor_presetsDir(dir, sizeof dir);
    if (!good_name(e->buf)) {
        set_msg(e, 1, "%s: not a preset name (expected letters, digits, '-', '_' or '.')%s", e->buf, NULL);
        return;
    }
    if (!dir[0]) {
        set_msg(e, 1, "no presets folder (neither XDG_CONFIG_HOME nor HOME is set)%s%s", "", NULL);
        return;
    }
    cJSON *name = cJSON_GetObjectItemCaseSensitive(e->root, "name");
    char old[64];
    snprintf(old, sizeof old, "%s", cJSON_IsString(name) ? name->valuestring : e->name);
    cJSON_ReplaceItemInObjectCaseSensitive(e->root, "name", cJSON_CreateString(e->buf));
    relink(e);
    sl_error err;
    snprintf(path, sizeof path, "%.900s/%.64s.json", dir, e->buf);
    char *text = NULL;
    int rc = check(e, &err);
    if (rc == SL_OK)
        rc = sl_mkdirs(dir, &err);
    if (rc == SL_OK) {
        text = cJSON_Print(e->root);
        size_t n = strlen(text);
        char *t = sl_xmalloc(n + 2);
        memcpy(t, text, n);
        t[n] = '\n';
        rc = sl_write_atomic(path, t, n + 1, &err);
        free(t);
        free(text);
    }
    if (rc != SL_OK) {
        cJSON_ReplaceItemInObjectCaseSensitive(e->root, "name", cJSON_CreateString(old));
        relink(e);
        set_msg(e, 1, "%s%s", err.msg, " (not saved)");
        return;
    }
    set_msg(e, 0, "saved %s (p opens it; scalelab --preset %s)", path, path);
    Lab_message(lab, "preset saved as %s", path);
}

/* Adds the planned runs the store lacks and drops its queued runs the edit no
 * longer plans, through the engine as the selectors do; running and trained
 * runs keep their spec. */
static void apply(Editor *e, Lab *lab)
{
    const PlanJob *j = e->plan;
    if (!lab->engine) {
        set_msg(e, 1, "watching a store: the process that trains it owns its runs%s%s", "", NULL);
        return;
    }
    if (!j || !plan_done(j) || e->plan_stale) {
        set_msg(e, 1, "the preview is not ready yet%s%s", "", NULL);
        return;
    }
    if (j->rc != SL_OK) {
        set_msg(e, 1, "%s%s", j->err.msg, " (nothing to apply)");
        return;
    }
    if (e->data_changed) {
        set_msg(e, 1, "data keys change the corpus the sweep trains on: save as a new preset instead%s%s", "", NULL);
        return;
    }
    int added = 0, dropped = 0;
    sl_error err;
    char id[SL_RUN_ID_MAX], first_err[1024] = "";
    for (int k = 0; k < j->n_adds; k++) {
        if (sl_engine_add_run(lab->engine, &j->adds[k], id, &err) == SL_OK)
            added++;
        else if (!first_err[0])
            snprintf(first_err, sizeof first_err, "%s", err.msg);
    }
    for (int k = 0; k < j->n_drops; k++) {
        if (sl_engine_drop(lab->engine, j->drops[k], &err) == SL_OK)
            dropped++;
        else if (!first_err[0])
            snprintf(first_err, sizeof first_err, "%s", err.msg);
    }
    char a[64];
    snprintf(a, sizeof a, "%d runs added, %d dropped", added, dropped);
    /* the store records the edit: sweep.json becomes the edited preset, one
     * revision on, so that resume and status see the sweep the lab now trains */
    char change[1024];
    int o = snprintf(change, sizeof change, "%s", a), keys = 0, rev = 0;
    for (int i = 0; i < e->n && o < (int)sizeof change; i++)
        if (e->changed[i])
            o += snprintf(change + o, sizeof change - o, "%s%s", keys++ ? ", " : "; changed ", e->key[i]);
    char *text = cJSON_Print(e->root);
    int printed = text != NULL;
    int rec = printed ? sl_sweep_revise(sl_engine_dir(lab->engine), text, change, &rev, &err) : SL_ERUNTIME;
    free(text);
    if (rec == SL_OK) {
        memset(e->changed, 0, sizeof e->changed);
        /* the revision is the preset in force: the selectors and v plan from it */
        e->plan->planned.revision = rev;
        Lab_adoptPreset(lab, &e->plan->planned);
        e->plan->has_planned = 0;
    } else if (!first_err[0]) {
        snprintf(first_err, sizeof first_err, "%s", printed ? err.msg : "out of memory recording the edit");
    }
    if (first_err[0])
        set_msg(e, 1, "applied: %s; %s", a, first_err);
    else {
        char done[96];
        snprintf(done, sizeof done, "%s, sweep.json revision %d", a, rev);
        set_msg(e, 0, "applied to the live sweep: %s%s", done, j->keep_running ? " (running runs keep their spec)" : "");
    }
    Lab_message(lab, "preset edit applied: %s", a);
    /* the store changed: preview again against it */
    plan_start(e, lab);
}

void Editor_draw(Editor *e, WINDOW *w)
{
    char title[160];
    snprintf(title, sizeof title, "Preset %s: Enter edits, A applies, s saves as, Esc closes", e->name);
    CRT_box(w, COL_FOCUS, title);
    int iw = getmaxx(w) - 4, rows = getmaxy(w) - 8;
    if (rows < 1)
        return;
    if (e->sel < e->scroll)
        e->scroll = e->sel;
    if (e->sel >= e->scroll + rows)
        e->scroll = e->sel - rows + 1;
    CRT_color(w, COL_HEADER);
    char line[1400];
    snprintf(line, sizeof line, "  %-30s %-18s %s", "key", "value", "type, default: meaning (range)");
    CRT_text(w, 1, 2, iw, line);
    for (int r = 0; r < rows && e->scroll + r < e->n; r++) {
        int i = e->scroll + r, on = i == e->sel;
        char v[256];
        value_text(e->node[i], v, sizeof v);
        const sl_preset_doc *d = doc_of(e->key[i]);
        CRT_color(w, on ? COL_SELECTION : e->changed[i] ? COL_WARN : COL_TEXT);
        if (on)
            mvwhline(w, 2 + r, 1, ' ', getmaxx(w) - 2);
        snprintf(line, sizeof line, "%s %-30.30s %-18.18s", on ? ">" : e->changed[i] ? "*" : " ", e->key[i], v);
        CRT_text(w, 2 + r, 2, iw, line);
        if (d) {
            if (!on)
                CRT_color(w, COL_DIM);
            snprintf(line, sizeof line, "%s, %s: %s", d->type, d->def, d->meaning);
            CRT_text(w, 2 + r, 54, iw - 52, line);
        }
    }
    Lab_scrollCue(w, e->scroll, rows, e->n);
    int y = getmaxy(w) - 5;
    const sl_preset_doc *d = e->n ? doc_of(e->key[e->sel]) : NULL;
    /* the preview of the edits against the store's runs */
    const PlanJob *j = e->plan;
    CRT_color(w, COL_WARN);
    if (!j) {
        CRT_color(w, COL_DIM);
        CRT_text(w, y + 3, 2, iw, "preview: no edits yet");
    } else if (!plan_done(j) || e->plan_stale) {
        CRT_text(w, y + 3, 2, iw, "preview: planning the edited preset against its corpus ...");
    } else if (j->rc != SL_OK) {
        CRT_color(w, COL_BAD);
        snprintf(line, sizeof line, "preview: %s", j->err.msg);
        CRT_text(w, y + 3, 2, iw, line);
    } else {
        char fl[16], pf[16], dur[16], keep[96] = "";
        sl_num_format(fl, sizeof fl, j->flops, SL_NUM_SHORT);
        sl_num_format(pf, sizeof pf, j->flops / SL_PF_DAY, SL_NUM_SHORT);
        sl_fmt_duration(dur, sizeof dur, j->seconds, "?");
        if (j->keep_running || j->keep_trained)
            snprintf(keep, sizeof keep, "; %d running and %d trained runs keep their spec", j->keep_running,
                     j->keep_trained);
        snprintf(line, sizeof line, "preview: +%d -%d runs, %s FLOP = %s PF-days, ~%s at %.2f GFLOP/s%s%s", j->add,
                 j->drop, fl, pf, dur, j->gflops, keep, j->add || j->drop ? "; A applies" : "");
        CRT_text(w, y + 3, 2, iw, line);
    }
    CRT_color(w, COL_TEXT);
    if (d) {
        snprintf(line, sizeof line, "%s (%s, default %s): %s", e->key[e->sel], d->type, d->def, d->meaning);
        CRT_text(w, y, 2, iw, line);
    }
    if (e->mode != ED_BROWSE) {
        CRT_color(w, COL_SELECTION);
        mvwhline(w, y + 1, 2, ' ', iw);
        snprintf(line, sizeof line, "%s = %s", e->mode == ED_NAME ? "save as (name)" : e->key[e->sel], e->buf);
        CRT_text(w, y + 1, 2, iw, line);
    }
    CRT_color(w, e->msg_bad ? COL_BAD : COL_DIM);
    CRT_text(w, y + 2, 2, iw, e->msg);
}

int Editor_key(Editor *e, Lab *lab, int ch)
{
    if (e->mode != ED_BROWSE) {
        size_t l = strlen(e->buf);
        if (ch == 27) {
            e->mode = ED_BROWSE;
            set_msg(e, 0, "%s%s", "edit cancelled", NULL);
        } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            if (e->mode == ED_VALUE)
                commit_value(e, lab);
            else
                save_as(e, lab);
            e->mode = ED_BROWSE;
        } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && l > 0) {
            e->buf[l - 1] = 0;
        } else if (ch >= 32 && ch < 127 && l + 1 < sizeof e->buf) {
            e->buf[l] = (char)ch;
            e->buf[l + 1] = 0;
        }
        return 0;
    }
    switch (ch) {
    case KEY_UP: case 'k': if (e->sel > 0) e->sel--; break;
    case KEY_DOWN: case 'j': if (e->sel + 1 < e->n) e->sel++; break;
    case KEY_PPAGE: e->sel = e->sel > 10 ? e->sel - 10 : 0; break;
    case KEY_NPAGE: e->sel = e->sel + 10 < e->n ? e->sel + 10 : e->n - 1; break;
    case '\n': case '\r': case KEY_ENTER:
        if (e->n) {
            value_text(e->node[e->sel], e->buf, sizeof e->buf);
            /* a string edits as its bare text */
            if (cJSON_IsString(e->node[e->sel]))
                snprintf(e->buf, sizeof e->buf, "%s", e->node[e->sel]->valuestring);
            e->mode = ED_VALUE;
        }
        break;
    case 's':
        snprintf(e->buf, sizeof e->buf, "%s-edited", e->name);
        e->mode = ED_NAME;
        break;
    case 'A':
        apply(e, lab);
        break;
    case 27: case 'q': case 'E':
        return 1;
    }
    return 0;
}
