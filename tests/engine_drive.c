/* Drives the engine API the way a front end does (snapshots in a loop while
 * workers train; pause, resume, cancel, priority, duplicate, add, drop, stop)
 * for tests/threads.sh, which builds it against the ThreadSanitizer library:
 * Criterion cannot start under TSan, so the in-process scenario runs here.
 *   engine_drive PRESET RUNS_DIR     exit 0 when every step behaved */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scalelab/engine.h"

static int fail(const char *what)
{
    fprintf(stderr, "engine_drive: %s\n", what);
    return 1;
}

static void nap(void)
{
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
}

static const sl_run_view *find(const sl_snapshot *s, const char *id)
{
    for (int i = 0; i < s->n_runs; i++)
        if (!strcmp(s->runs[i].id, id))
            return &s->runs[i];
    return NULL;
}

/* Snapshots until run id is in state st (at most ~60 s). */
static int await(sl_engine *e, sl_snapshot *s, const char *id, sl_run_state st)
{
    for (int i = 0; i < 12000; i++) {
        sl_engine_snapshot(e, s);
        const sl_run_view *v = find(s, id);
        if (v && v->state == st)
            return 1;
        nap();
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fail("usage: engine_drive PRESET RUNS_DIR");
    sl_preset p;
    sl_error err;
    if (sl_preset_load(&p, argv[1], &err))
        return fail(err.msg);
    sl_engine_opts o;
    sl_engine_opts_default(&o);
    o.runs_dir = argv[2];
    o.cores = 2;
    o.jobs = 1;
    sl_engine *e;
    if (sl_engine_new(&e, &p, &o, &err))
        return fail(err.msg);
    sl_preset_free(&p);
    sl_snapshot s;
    memset(&s, 0, sizeof s);
    sl_engine_snapshot(e, &s);
    if (s.n_runs < 3)
        return fail("expected three runs");
    char a[SL_RUN_ID_MAX], b[SL_RUN_ID_MAX], c[SL_RUN_ID_MAX], dup[SL_RUN_ID_MAX];
    snprintf(a, sizeof a, "%s", s.runs[0].id);
    snprintf(b, sizeof b, "%s", s.runs[1].id);
    snprintf(c, sizeof c, "%s", s.runs[2].id);
    int rc = 0;
    if (sl_engine_set_priority(e, a, -1, &err) || sl_engine_start(e, &err))
        rc = fail(err.msg);
    if (!rc && !await(e, &s, a, SL_RUN_RUNNING))
        rc = fail("the first run did not start");
    if (!rc && (sl_engine_pause(e, a, &err) || !await(e, &s, a, SL_RUN_PAUSED)))
        rc = fail("pause");
    if (!rc && (sl_engine_cancel(e, c, &err) || !await(e, &s, c, SL_RUN_STOPPED)))
        rc = fail("cancel");
    if (!rc && (sl_engine_duplicate(e, b, 9, dup, &err) || sl_engine_drop(e, dup, &err)))
        rc = fail(err.msg);
    if (!rc && (sl_engine_resume_run(e, a, &err) || sl_engine_resume_run(e, c, &err)))
        rc = fail(err.msg);
    /* snapshots while the workers publish */
    for (int i = 0; !rc && i < 200; i++) {
        sl_engine_snapshot(e, &s);
        nap();
    }
    sl_engine_stop(e);
    sl_engine_snapshot(e, &s);
    for (int i = 0; !rc && i < s.n_runs; i++)
        if (s.runs[i].state == SL_RUN_RUNNING)
            rc = fail("a run still runs after stop");
    sl_snapshot_free(&s);
    sl_engine_free(e);
    return rc;
}
