/* sampletext: a short text sample of a run, computed on a thread of its own
 * (loading a BPE corpus and the forward passes take a while) so that the UI
 * thread only starts it and polls it; the UI thread draws the result. */
#ifndef SL_TUI_SAMPLETEXT_H
#define SL_TUI_SAMPLETEXT_H

#include <stdint.h>

#include "scalelab/preset.h"

#define SAMPLE_TOKENS 160
#define SAMPLE_TEMPERATURE 0.8
#define SAMPLE_SEED 1

typedef struct SampleJob SampleJob;

/* Starts sampling the run in run_dir; NULL if a thread cannot be started. */
SampleJob *SampleJob_start(const char *run_dir, const char *run_id, const char *data_dir);
/* 1 when the thread has finished (then text or error is set). */
int SampleJob_done(const SampleJob *j);
/* Valid after done: the text (NULL on failure), the error, the checkpoint's step. */
const char *SampleJob_text(const SampleJob *j);
const char *SampleJob_error(const SampleJob *j);
long SampleJob_step(const SampleJob *j);
const char *SampleJob_id(const SampleJob *j);
const char *SampleJob_tokenizer(const SampleJob *j);
/* Waits for the thread and frees the job; NULL is fine. */
void SampleJob_free(SampleJob *j);

#endif
