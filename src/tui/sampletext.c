/* sampletext: see sampletext.h. The job is written by its thread alone until
 * `done` is released; the UI thread reads it after acquiring `done`. */
#include "sampletext.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/sample.h"

struct SampleJob {
    pthread_t th;
    atomic_int done;
    char dir[1100], id[SL_RUN_ID_MAX], data_dir[1024];
    int has_data_dir;
    char *text;
    sl_error err;
    long step;
    char tokenizer[32];
};

static void *run(void *arg)
{
    SampleJob *j = arg;
    sl_textgen g;
    sl_textgen_source src = {.data_dir = j->has_data_dir ? j->data_dir : NULL};
    if (sl_textgen_open(&g, j->dir, &src, &j->err) == SL_OK) {
        sl_sample_opts o = {.prompt = NULL, .tokens = SAMPLE_TOKENS, .temperature = SAMPLE_TEMPERATURE,
                            .seed = SAMPLE_SEED};
        size_t len;
        j->step = g.step;
        snprintf(j->tokenizer, sizeof j->tokenizer, "%s", g.tokenizer);
        if (sl_textgen_sample(&g, &o, &j->text, &len, &j->err) != SL_OK)
            j->text = NULL;
        sl_textgen_free(&g);
    }
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

SampleJob *SampleJob_start(const char *run_dir, const char *run_id, const char *data_dir)
{
    SampleJob *j = sl_xcalloc(1, sizeof *j);
    snprintf(j->dir, sizeof j->dir, "%s", run_dir);
    snprintf(j->id, sizeof j->id, "%s", run_id);
    if (data_dir) {
        snprintf(j->data_dir, sizeof j->data_dir, "%s", data_dir);
        j->has_data_dir = 1;
    }
    atomic_init(&j->done, 0);
    if (pthread_create(&j->th, NULL, run, j) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

int SampleJob_done(const SampleJob *j)
{
    return j && atomic_load_explicit(&((SampleJob *)j)->done, memory_order_acquire);
}

const char *SampleJob_text(const SampleJob *j) { return j->text; }
const char *SampleJob_error(const SampleJob *j) { return j->err.msg; }
long SampleJob_step(const SampleJob *j) { return j->step; }
const char *SampleJob_id(const SampleJob *j) { return j->id; }
const char *SampleJob_tokenizer(const SampleJob *j) { return j->tokenizer; }

void SampleJob_free(SampleJob *j)
{
    if (!j)
        return;
    pthread_join(j->th, NULL);
    free(j->text);
    free(j);
}
