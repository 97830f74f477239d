/* train: see include/scalelab/train.h.
 *
 * A step shards the batch across the run's threads: each thread runs forward
 * and backward on its sequences into its own gradient buffer (BLAS is
 * single-threaded inside), then the buffers are summed in thread order (so a
 * fixed thread count is bitwise reproducible) and AdamW updates disjoint
 * parameter ranges in parallel. The per-thread gradients double as the small
 * batch of the gradient-noise-scale estimate (McCandlish et al. 2018).
 * Checkpoints of a trainer are checkpoint.c's; the state both read is
 * train_int.h's. */
#include "scalelab/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalelab/bf16.h"
#include "scalelab/machine.h"
#include "train_int.h"

long sl_train_warmup(const sl_train_opts *o)
{
    return o->warmup >= 0 ? o->warmup : (o->steps / 10 < 3000 ? o->steps / 10 : 3000);
}

void sl_train_optim_opts(const sl_train_opts *o, sl_optim_opts *oo)
{
    memset(oo, 0, sizeof *oo);
    oo->lr = o->lr > 0 ? o->lr : sl_lr_auto(sl_model_counts(&o->model).n_kaplan);
    oo->beta1 = o->beta1;
    oo->beta2 = o->beta2;
    oo->eps = o->eps;
    oo->weight_decay = o->weight_decay;
    oo->clip = o->clip;
    oo->schedule = o->schedule;
    oo->total = o->steps;
    oo->warmup = sl_train_warmup(o);
}

void sl_train_defaults(sl_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 16;
    o->steps = 1000;
    o->lr = 0.0;
    o->warmup = -1;
    o->schedule = SL_SCHED_COSINE;
    o->weight_decay = 0.1;
    o->beta1 = 0.9;
    o->beta2 = 0.95;
    o->eps = 1e-8;
    o->clip = 1.0;
    o->eval_every = 100;
    o->eval_tokens = 32768;
    o->seed = 1;
    o->threads = 1;
}

const char *sl_precision_name(sl_precision p) { return p == SL_PREC_BF16 ? "bf16" : "fp32"; }

int sl_precision_from_name(const char *name)
{
    if (!strcmp(name, "fp32"))
        return SL_PREC_FP32;
    if (!strcmp(name, "bf16"))
        return SL_PREC_BF16;
    return -1;
}

static int shard_lo(int B, int n, int tid) { return (int)((long)B * tid / n); }

double sl_train_memory(const sl_train_opts *o)
{
    int nthr = o->threads < o->batch ? o->threads : o->batch;
    if (nthr < 1)
        nthr = 1;
    int cap = (o->batch + nthr - 1) / nthr;
    sl_tensor_info info[SL_NUM_PARAM_TENSORS];
    double P = (double)sl_param_layout(&o->model, info);
    /* in double: the products of user sizes can overflow size_t */
    double acts = 0.0, BT = (double)cap * o->model.n_ctx, C = o->model.d_model;
    double L = o->model.n_layer, F = o->model.d_ff, V = o->model.vocab;
    double T = o->model.n_ctx, NH = o->model.n_head;
    acts = BT * C * (L * 9 + 8) + L * BT * (3 * C + 2 * F + 4) + L * cap * NH * T * T +
           BT * (2 * V + 3) + 2 * BT * F + T * T;
    double lowp = 0.0; /* bf16: each thread's rounded weights and two operands */
    if (o->precision == SL_PREC_BF16) {
        double cols = fmax(fmax(3 * C, F), V);
        lowp = 2.0 * (P + 2 * BT * cols);
    }
    return 4.0 * (P * (3 + nthr) + nthr * acts) + nthr * lowp;
}

/* Sizes come from the user: refuse a run that cannot fit in this machine's
 * memory with a message, rather than abort in the allocator or be OOM-killed. */
static int check_memory(const sl_train_opts *o, sl_error *err)
{
    double bytes = sl_train_memory(o);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && psize > 0 ? (double)pages * psize : 0;
    if (phys > 0 && bytes > 0.9 * phys)
        return sl_fail(err, SL_EINPUT,
                       "--batch/--ctx/--d-model: the run needs %.1f GiB (expected at most %.1f "
                       "GiB, 90%% of this machine's memory)",
                       bytes / 1073741824.0, 0.9 * phys / 1073741824.0);
    /* what is free now, under a cgroup limit too: waiting may help (exit 1) */
    double avail = sl_mem_available();
    if (bytes > avail)
        return sl_fail(err, SL_ERUNTIME,
                       "out of memory: the run needs %.2f GiB and %.2f GiB are available "
                       "(MemAvailable, cgroup memory limit)",
                       bytes / 1073741824.0, avail / 1073741824.0);
    return SL_OK;
}

int sl_trainer_new(sl_trainer **out, const sl_train_opts *o, const sl_corpus *c, sl_error *err)
{
    *out = NULL;
    if (c->vocab > SL_MAX_VOCAB)
        return sl_fail(err, SL_EINPUT, "%s: vocab: its tokens need %d ids (expected at most %d)",
                       c->source, c->vocab, SL_MAX_VOCAB);
    int rc = sl_config_validate(&o->model, err);
    if (rc)
        return rc;
    if (o->batch < 1 || o->batch > 65536)
        return sl_fail(err, SL_EINPUT, "--batch: %d is out of range (expected 1..65536)", o->batch);
    if (o->steps < 1)
        return sl_fail(err, SL_EINPUT, "--steps: %ld is not positive (expected >= 1)", o->steps);
    if (o->threads < 1 || o->threads > 256)
        return sl_fail(err, SL_EINPUT, "--threads: %d is out of range (expected 1..256)",
                       o->threads);
    if (o->eval_every < 0)
        return sl_fail(err, SL_EINPUT, "--eval-every: %d is negative (expected >= 0)",
                       o->eval_every);
    if (!(o->lr >= 0.0) || !isfinite(o->lr) || o->lr > 10.0)
        return sl_fail(err, SL_EINPUT, "--lr: %g is out of range (expected 0 < lr <= 10, or auto)",
                       o->lr);
    if (o->model.vocab < c->vocab)
        return sl_fail(err, SL_EINPUT, "%s: vocab %d does not fit the model's vocab %d",
                       c->source, c->vocab, o->model.vocab);
    rc = sl_corpus_check_ctx(c, o->model.n_ctx, err);
    if (rc)
        return rc;
    if (o->data_limit > 0 && o->data_limit < (size_t)o->model.n_ctx + 1)
        return sl_fail(err, SL_EINPUT, "--data-tokens: %zu is shorter than n_ctx+1 = %d tokens",
                       o->data_limit, o->model.n_ctx + 1);
    if (o->data_limit > c->n_train)
        return sl_fail(err, SL_EINPUT,
                       "--data-tokens: %zu is beyond the train part of %s (expected <= %zu tokens)",
                       o->data_limit, c->source, c->n_train);

    if ((rc = check_memory(o, err)))
        return rc;
    sl_trainer *t = sl_xcalloc(1, sizeof *t);
    t->o = *o;
    t->c = c;
    rc = sl_model_init(&t->m, &o->model, err);
    if (rc) {
        free(t);
        return rc;
    }
    sl_model_init_weights(&t->m, o->seed);
    sl_train_optim_opts(o, &t->oo);
    t->adam_m = sl_try_alloc_floats(t->m.n_params);
    t->adam_v = sl_try_alloc_floats(t->m.n_params);

    t->nthr = o->threads < o->batch ? o->threads : o->batch;
    t->pool = sl_pool_new(t->nthr);
    t->nthr = sl_pool_size(t->pool); /* fewer if a thread could not start */
    t->shard_cap = (o->batch + t->nthr - 1) / t->nthr;
    t->acts = sl_xcalloc((size_t)t->nthr, sizeof *t->acts);
    t->gbuf = sl_xcalloc((size_t)t->nthr, sizeof *t->gbuf);
    int short_of_memory = !t->adam_m || !t->adam_v;
    if (o->precision == SL_PREC_BF16) {
        char why[160];
        if (!sl_bf16_available(why, sizeof why)) {
            sl_trainer_free(t);
            return sl_fail(err, SL_EINPUT, "precision bf16: %s; use fp32", why);
        }
    }
    for (int i = 0; i < t->nthr; i++) {
        t->acts[i] = sl_acts_new(&o->model, t->shard_cap);
        if (t->acts[i] && o->precision == SL_PREC_BF16 && sl_acts_use_bf16(t->acts[i], &t->m))
            short_of_memory = 1;
        t->gbuf[i] = i == 0 ? t->m.grads : sl_try_alloc_floats(t->m.n_params);
        short_of_memory |= !t->acts[i] || !t->gbuf[i];
    }
    if (short_of_memory) {
        /* the sizes are the user's: a message and exit status 1, not abort() */
        sl_trainer_free(t);
        return sl_fail(err, SL_ERUNTIME,
                       "out of memory: the run needs %.2f GiB (parameters, optimizer state and "
                       "activations of %d threads)",
                       sl_train_memory(o) / 1073741824.0, o->threads < o->batch ? o->threads : o->batch);
    }
    t->shard_loss = sl_xcalloc((size_t)t->nthr, sizeof(double));
    t->shard_sq = sl_xcalloc((size_t)t->nthr, sizeof(double));
    t->range_sq = sl_xcalloc((size_t)t->nthr * (t->nthr + 1), sizeof(double));
    size_t bt = (size_t)o->batch * o->model.n_ctx;
    t->inp = sl_xcalloc(bt, sizeof(int32_t));
    t->tgt = sl_xcalloc(bt, sizeof(int32_t));
    sl_sampler_init(&t->sampler, o->seed ^ 0x5ca1ab1e5ca1ab1eULL, c, o->data_limit);
    /* at least one window, however few eval tokens were asked for */
    size_t et = o->eval_tokens > (size_t)o->model.n_ctx + 1 ? o->eval_tokens : (size_t)o->model.n_ctx + 1;
    t->eval_seqs = sl_eval_sequences(c, o->model.n_ctx, et);
    t->ema_g2 = t->ema_tr = NAN;
    t->last_loss = t->last_grad_norm = NAN;
    t->last_lr = sl_lr_at(&t->oo, 0);
    *out = t;
    return SL_OK;
}

void sl_trainer_free(sl_trainer *t)
{
    if (!t)
        return;
    sl_pool_free(t->pool);
    for (int i = 0; i < t->nthr; i++) {
        sl_acts_free(t->acts[i]);
        if (i > 0)
            free(t->gbuf[i]);
    }
    free(t->acts);
    free(t->gbuf);
    free(t->shard_loss);
    free(t->shard_sq);
    free(t->range_sq);
    free(t->inp);
    free(t->tgt);
    free(t->adam_m);
    free(t->adam_v);
    sl_model_free(&t->m);
    free(t);
}

/* In 8 double lanes combined in a fixed order, so that the loop vectorises;
 * the result depends only on [lo, hi), which the thread count fixes. */
static double sumsq(const float *g, size_t lo, size_t hi)
{
    double acc[8] = {0};
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)g[i + k] * g[i + k];
    for (int k = 0; i < hi; i++, k++)
        acc[k] += (double)g[i] * g[i];
    double s = 0.0;
    for (int k = 0; k < 8; k++)
        s += acc[k];
    return s;
}

static void step_worker(void *arg, int tid, int n)
{
    sl_trainer *t = arg;
    const int T = t->o.model.n_ctx, B = t->o.batch;
    int b0 = shard_lo(B, n, tid), bs = shard_lo(B, n, tid + 1) - b0;
    float *g = t->gbuf[tid];
    /* The reduction and the update leave every buffer zero; only a step that
     * stopped half-way (a diverged loss) leaves something to clear. */
    if (t->grads_dirty)
        memset(g, 0, t->m.n_params * sizeof(float));
    const int32_t *inp = t->inp + (size_t)b0 * T, *tgt = t->tgt + (size_t)b0 * T;
    t->shard_loss[tid] = sl_model_forward_backward(&t->m, t->acts[tid], g, inp, tgt, bs, T,
                                                   1.0f / (float)((size_t)B * T));
}

static void range_of(size_t P, int n, int tid, size_t *lo, size_t *hi)
{
    /* 16-float boundaries keep each thread on its own cache lines */
    *lo = (P * (size_t)tid / (size_t)n) & ~(size_t)15;
    *hi = tid + 1 == n ? P : (P * (size_t)(tid + 1) / (size_t)n) & ~(size_t)15;
}

/* One pass over the thread's parameter range, in chunks that stay in L1: the
 * squared norm of every shard's gradient (the small batch of the noise scale),
 * their sum into buffer 0 (the other buffers are cleared as they are read), and
 * the squared norm of the sum (for clipping). range_sq holds n + 1 values per
 * thread: the n shards' and the sum's. */
#define REDUCE_CHUNK 2048

static void reduce_worker(void *arg, int tid, int n)
{
    sl_trainer *t = arg;
    size_t lo, hi;
    range_of(t->m.n_params, n, tid, &lo, &hi);
    float *g0 = t->gbuf[0];
    double *sq = t->range_sq + (size_t)tid * (n + 1);
    for (int k = 0; k <= n; k++)
        sq[k] = 0.0;
    for (size_t c = lo; c < hi; c += REDUCE_CHUNK) {
        size_t e = hi - c < REDUCE_CHUNK ? hi : c + REDUCE_CHUNK;
        if (n > 1)
            sq[0] += sumsq(g0, c, e);
        for (int k = 1; k < n; k++) {
            float *gk = t->gbuf[k];
            sq[k] += sumsq(gk, c, e);
            for (size_t i = c; i < e; i++) {
                g0[i] += gk[i];
                gk[i] = 0.0f;
            }
        }
        sq[n] += sumsq(g0, c, e);
    }
}

typedef struct {
    sl_trainer *t;
    double lr;
    float gscale;
} adam_job;

static void adam_worker(void *arg, int tid, int n)
{
    adam_job *j = arg;
    size_t lo, hi;
    range_of(j->t->m.n_params, n, tid, &lo, &hi);
    sl_adamw_update(&j->t->m, j->t->adam_m, j->t->adam_v, lo, hi, j->t->step + 1, j->lr, j->gscale,
                    &j->t->oo);
}

/* B_simple from the shard gradients: |G|^2 and tr(Sigma) from the norms at the
 * shard batch and the full batch, each smoothed by an EMA before the ratio, as
 * their ratio of noisy estimates is biased otherwise. */
static void update_noise_scale(sl_trainer *t, double big_sq)
{
    if (t->nthr < 2)
        return;
    const double T = t->o.model.n_ctx, B = t->o.batch;
    double small_sq = 0.0, b_small = 0.0;
    for (int i = 0; i < t->nthr; i++) {
        double bs = shard_lo(t->o.batch, t->nthr, i + 1) - shard_lo(t->o.batch, t->nthr, i);
        double f = B / bs; /* the shard's own mean gradient is gbuf * B/bs */
        small_sq += t->shard_sq[i] * f * f;
        b_small += bs;
    }
    small_sq /= t->nthr;
    b_small = b_small / t->nthr * T;
    double b_big = B * T;
    double g2 = (b_big * big_sq - b_small * small_sq) / (b_big - b_small);
    double tr = (small_sq - big_sq) / (1.0 / b_small - 1.0 / b_big);
    const double a = 0.95;
    if (isnan(t->ema_g2)) {
        t->ema_g2 = g2;
        t->ema_tr = tr;
    } else {
        t->ema_g2 = a * t->ema_g2 + (1 - a) * g2;
        t->ema_tr = a * t->ema_tr + (1 - a) * tr;
    }
}

typedef struct {
    sl_trainer *t;
    double *sums;
} eval_job;

static void eval_worker(void *arg, int tid, int n)
{
    eval_job *j = arg;
    sl_trainer *t = j->t;
    const int T = t->o.model.n_ctx;
    size_t s0 = t->eval_seqs * (size_t)tid / (size_t)n, s1 = t->eval_seqs * (size_t)(tid + 1) / (size_t)n;
    size_t cap = (size_t)t->shard_cap;
    int32_t *inp = sl_xmalloc(cap * T * sizeof(int32_t)), *tgt = sl_xmalloc(cap * T * sizeof(int32_t));
    double sum = 0.0;
    for (size_t s = s0; s < s1; s += cap) {
        int bs = (int)(s1 - s < cap ? s1 - s : cap);
        sl_eval_batch(t->c, T, s, bs, inp, tgt);
        sum += sl_model_forward(&t->m, t->acts[tid], inp, tgt, bs, T, 0);
    }
    free(inp);
    free(tgt);
    j->sums[tid] = sum;
}

double sl_trainer_evaluate(sl_trainer *t)
{
    double sums[256] = {0};
    eval_job j = {t, sums};
    double t0 = sl_now();
    sl_pool_run(t->pool, eval_worker, &j);
    double total = 0.0;
    for (int i = 0; i < t->nthr; i++)
        total += sums[i];
    t->wall_s += sl_now() - t0;
    return total / ((double)t->eval_seqs * t->o.model.n_ctx);
}

void sl_trainer_row(sl_trainer *t, sl_metric_row *row)
{
    sl_counts k = sl_model_counts(&t->o.model);
    row->step = t->step;
    row->tokens = (double)t->step * t->o.batch * t->o.model.n_ctx;
    row->flops = row->tokens * k.flops_per_token;
    row->test_loss = sl_trainer_evaluate(t);
    row->test_bpb = sl_corpus_bpb(t->c, row->test_loss);
    row->train_loss = t->loss_count > 0 ? t->loss_accum / t->loss_count : NAN;
    t->loss_accum = 0.0;
    t->loss_count = 0;
    row->lr = t->last_lr;
    row->grad_norm = t->last_grad_norm;
    row->noise_scale = isnan(t->ema_g2) || t->ema_g2 <= 0 ? NAN : t->ema_tr / t->ema_g2;
    row->wall_s = t->wall_s;
}

int sl_trainer_step(sl_trainer *t, sl_metric_row *row, sl_error *err)
{
    if (t->step >= t->o.steps)
        return sl_fail(err, SL_EINPUT, "the run has finished (%ld steps)", t->o.steps);
    double t0 = sl_now();
    const int T = t->o.model.n_ctx;
    sl_sampler_next(&t->sampler, t->c, t->o.batch, T, t->inp, t->tgt);
    sl_pool_run(t->pool, step_worker, t);
    t->grads_dirty = 1; /* until the update has consumed them */
    double loss = 0.0;
    for (int i = 0; i < t->nthr; i++)
        loss += t->shard_loss[i];
    loss /= (double)t->o.batch * T;
    t->last_loss = loss;
    if (!isfinite(loss) && (t->diverged = 1))
        return sl_fail(err, SL_ERUNTIME, "step %ld: training loss is %g (the run diverged)",
                       t->step + 1, loss);
    sl_pool_run(t->pool, reduce_worker, t);
    const int n = t->nthr;
    double sq = 0.0;
    for (int k = 0; k < n; k++)
        t->shard_sq[k] = 0.0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++)
            t->shard_sq[k] += t->range_sq[(size_t)i * (n + 1) + k];
        sq += t->range_sq[(size_t)i * (n + 1) + n];
    }
    double norm = sqrt(sq);
    if (!isfinite(norm) && (t->diverged = 1))
        return sl_fail(err, SL_ERUNTIME, "step %ld: gradient norm is %g (the run diverged)",
                       t->step + 1, norm);
    update_noise_scale(t, sq);
    float gscale = t->oo.clip > 0 && norm > t->oo.clip ? (float)(t->oo.clip / norm) : 1.0f;
    adam_job j = {t, sl_lr_at(&t->oo, t->step), gscale};
    sl_pool_run(t->pool, adam_worker, &j);
    t->grads_dirty = 0;
    t->step++;
    t->last_lr = j.lr;
    t->last_grad_norm = norm;
    t->loss_accum += loss;
    t->loss_count++;
    t->wall_s += sl_now() - t0;
    int due = (t->o.eval_every > 0 && t->step % t->o.eval_every == 0) || t->step == t->o.steps;
    if (!due)
        return 0;
    sl_trainer_row(t, row);
    if (!isfinite(row->test_loss) && (t->diverged = 1))
        return sl_fail(err, SL_ERUNTIME, "step %ld: test loss is %g (the run diverged)", t->step,
                       row->test_loss);
    return 1;
}

long sl_trainer_steps_done(const sl_trainer *t) { return t->step; }
int sl_trainer_finished(const sl_trainer *t) { return t->step >= t->o.steps; }
int sl_trainer_diverged(const sl_trainer *t) { return t->diverged; }
const sl_model *sl_trainer_model(const sl_trainer *t) { return &t->m; }
const sl_train_opts *sl_trainer_opts(const sl_trainer *t) { return &t->o; }
double sl_trainer_last_loss(const sl_trainer *t) { return t->last_loss; }

/* ---- evaluation outside the training loop ----------------------------------
 * The engine's transfer loss on a second corpus and the per-position losses of
 * context.csv. */


double sl_eval_loss(const sl_model *m, const sl_corpus *c, size_t max_tokens)
{
    const int T = m->cfg.n_ctx, B = 8;
    size_t nseq = sl_eval_sequences(c, T, max_tokens);
    sl_acts *a = sl_acts_new(&m->cfg, B);
    int32_t *inp = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    int32_t *tgt = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    double sum = 0;
    for (size_t s = 0; s < nseq; s += B) {
        int bs = (int)(nseq - s < (size_t)B ? nseq - s : (size_t)B);
        sl_eval_batch(c, T, s, bs, inp, tgt);
        sum += sl_model_forward(m, a, inp, tgt, bs, T, 0);
    }
    free(inp);
    free(tgt);
    sl_acts_free(a);
    return sum / ((double)nseq * T);
}

int sl_eval_sources(const sl_model *m, const sl_corpus *c, size_t max_tokens, sl_source_loss *out)
{
    const int T = m->cfg.n_ctx, B = 8;
    int ns = c->n_sources > 1 ? c->n_sources : 1;
    sl_acts *a = sl_acts_new(&m->cfg, B);
    int32_t *inp = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    int32_t *tgt = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    for (int k = 0; k < ns; k++) {
        sl_source_loss *o = &out[k];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", c->n_sources > 1 ? c->src[k].name : "all");
        size_t nseq = sl_eval_sequences_source(c, T, k, max_tokens);
        o->test_loss = o->test_bpb = NAN;
        if (nseq == 0)
            continue;
        double sum = 0;
        for (size_t s = 0; s < nseq; s += B) {
            int bs = (int)(nseq - s < (size_t)B ? nseq - s : (size_t)B);
            sl_eval_batch_source(c, T, k, s, bs, inp, tgt);
            sum += sl_model_forward(m, a, inp, tgt, bs, T, 0);
        }
        o->test_tokens = (double)nseq * T;
        o->test_loss = sum / o->test_tokens;
        /* bits per byte at the source's own tokens per byte */
        size_t tl = c->n_sources > 1 ? c->src[k].test_len : c->n_tokens - c->n_train;
        size_t bl = c->n_sources > 1 ? c->src[k].btest_len : c->n_bytes - c->n_train_bytes;
        if (c->bytes && tl > 0 && bl > 0) {
            o->test_bytes = o->test_tokens * (double)bl / (double)tl;
            o->test_bpb = o->test_loss * ((double)tl / (double)bl) / log(2.0);
        }
    }
    free(inp);
    free(tgt);
    sl_acts_free(a);
    return ns;
}

/* Mean test loss at each position of up to CONTEXT_WINDOWS windows of n_ctx
 * tokens, their starts evenly spaced over the whole test split (they overlap
 * when the split is short): each position averages thousands of targets, where
 * the evaluation's non-overlapping windows give a few hundred. Returns the
 * number of windows (0 if the split is shorter than one window). */
#define CONTEXT_WINDOWS 16384
size_t sl_eval_positions(const sl_model *m, const sl_corpus *c, double *pos)
{
    const int T = m->cfg.n_ctx, B = 8;
    size_t n_test = c->n_tokens - c->n_train;
    if (n_test < (size_t)T + 1)
        return 0;
    size_t span = n_test - (size_t)T - 1; /* the last start */
    size_t stride = span / CONTEXT_WINDOWS + 1, nwin = span / stride + 1;
    const uint16_t *test = c->tokens + c->n_train;
    sl_acts *a = sl_acts_new(&m->cfg, B);
    int32_t *inp = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    int32_t *tgt = sl_xmalloc((size_t)B * T * sizeof(int32_t));
    for (size_t w = 0; w < nwin; w += B) {
        int bs = (int)(nwin - w < (size_t)B ? nwin - w : (size_t)B);
        for (int b = 0; b < bs; b++) {
            const uint16_t *x = test + (w + (size_t)b) * stride;
            for (int i = 0; i < T; i++) {
                inp[(size_t)b * T + i] = x[i];
                tgt[(size_t)b * T + i] = x[i + 1];
            }
        }
        sl_model_forward(m, a, inp, tgt, bs, T, 0);
        const float *l = sl_acts_losses(a);
        for (int b = 0; b < bs; b++)
            for (int t = 0; t < T; t++)
                pos[t] += l[(size_t)b * T + t];
    }
    for (int t = 0; t < T; t++)
        pos[t] /= (double)nwin;
    free(inp);
    free(tgt);
    sl_acts_free(a);
    return nwin;
}
