/* checkpoint: a trainer saved and loaded (sl_trainer_save, sl_trainer_load),
 * and a checkpoint's model or header read alone (sl_checkpoint_model,
 * sl_checkpoint_peek); the contracts are train.h's, the trainer's state is
 * train_int.h's.
 *
 * Layout (docs/FORMATS.md): a fixed header of little-endian fields, then
 * params, Adam m, Adam v as float32, then an FNV-1a 64 checksum of everything
 * before it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/train.h"
#include "train_int.h"

#define CKPT_MAGIC "SLCKPT\r\n"
/* 2 added the precision; a version-1 header (without it) reads as fp32 */
#define CKPT_VERSION 2u

typedef struct {
    char magic[8];
    uint32_t version, header_bytes;
    int32_t n_layer, d_model, n_head, d_ff, n_ctx, vocab;
    int32_t batch, threads;
    int64_t step, n_params;
    uint64_t rng[4];
    uint64_t data_limit;
    double wall_s, loss_accum, ema_g2, ema_tr, last_lr, last_grad_norm;
    int64_t loss_count;
    int32_t precision, reserved; /* version 2 */
} ckpt_header;

#define CKPT_V1_BYTES offsetof(ckpt_header, precision)

/* The header at the start of buf (len bytes): magic and version checked, a
 * version-1 header taken as fp32. *hb gets the header's size in the file. */
static int header_read(const char *buf, size_t len, ckpt_header *h, size_t *hb, const char *path,
                       sl_error *err)
{
    memset(h, 0, sizeof *h);
    if (len < CKPT_V1_BYTES)
        return sl_fail(err, SL_EINPUT, "%s: header: file is %zu bytes (expected a checkpoint)", path,
                       len);
    memcpy(h, buf, CKPT_V1_BYTES);
    if (memcmp(h->magic, CKPT_MAGIC, 8) != 0)
        return sl_fail(err, SL_EINPUT, "%s: magic: not a scalelab checkpoint", path);
    size_t want = h->version == 1 ? CKPT_V1_BYTES : sizeof *h;
    if ((h->version != 1 && h->version != CKPT_VERSION) || h->header_bytes != want)
        return sl_fail(err, SL_EINPUT, "%s: version: %u is not supported (expected 1 or %u)", path,
                       h->version, CKPT_VERSION);
    if (len < want)
        return sl_fail(err, SL_EINPUT, "%s: header: file is %zu bytes (expected a checkpoint)", path,
                       len);
    if (h->version == CKPT_VERSION)
        memcpy(h, buf, sizeof *h);
    if (h->precision != SL_PREC_FP32 && h->precision != SL_PREC_BF16)
        return sl_fail(err, SL_EINPUT, "%s: precision: %d is not a precision (expected 0 fp32 or 1 bf16)",
                       path, (int)h->precision);
    *hb = want;
    return SL_OK;
}

/* A checkpoint file read whole: its bytes and its header (hb its size). */
typedef struct {
    char *buf;
    size_t len, hb;
    ckpt_header h;
} ckpt_file;

/* The file at path and its header into *f; the caller frees f->buf, which is
 * freed already on failure. */
static int file_read(const char *path, ckpt_file *f, sl_error *err)
{
    int rc = sl_read_file(path, &f->buf, &f->len, err);
    if (rc)
        return rc;
    if ((rc = header_read(f->buf, f->len, &f->h, &f->hb, path, err)))
        free(f->buf);
    return rc;
}

/* What follows the header: P parameters and two moments, then the checksum. */
static int body_check(const ckpt_file *f, size_t P, const char *path, sl_error *err)
{
    size_t want = f->hb + 3 * P * sizeof(float) + sizeof(uint64_t);
    if ((size_t)f->h.n_params != P || f->len != want)
        return sl_fail(err, SL_EINPUT, "%s: length: %zu bytes (expected %zu)", path, f->len, want);
    uint64_t stored, sum = sl_fnv1a(SL_FNV_INIT, f->buf, f->len - sizeof stored);
    memcpy(&stored, f->buf + f->len - sizeof stored, sizeof stored);
    if (stored != sum)
        return sl_fail(err, SL_EINPUT, "%s: checksum: mismatch (the file is damaged)", path);
    return SL_OK;
}

int sl_trainer_save(const sl_trainer *t, const char *path, sl_error *err)
{
    size_t P = t->m.n_params;
    size_t len = sizeof(ckpt_header) + 3 * P * sizeof(float) + sizeof(uint64_t);
    char *buf = malloc(len);
    if (!buf)
        return sl_fail(err, SL_ERUNTIME, "%s: out of memory for a %zu-byte checkpoint", path, len);
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CKPT_MAGIC, 8);
    h.version = CKPT_VERSION;
    h.header_bytes = sizeof h;
    h.n_layer = t->o.model.n_layer;
    h.d_model = t->o.model.d_model;
    h.n_head = t->o.model.n_head;
    h.d_ff = t->o.model.d_ff;
    h.n_ctx = t->o.model.n_ctx;
    h.vocab = t->o.model.vocab;
    h.batch = t->o.batch;
    h.threads = t->nthr;
    h.step = t->step;
    h.n_params = (int64_t)P;
    memcpy(h.rng, t->sampler.rng.s, sizeof h.rng);
    h.data_limit = t->sampler.limit;
    h.wall_s = t->wall_s;
    h.loss_accum = t->loss_accum;
    h.loss_count = t->loss_count;
    h.ema_g2 = t->ema_g2;
    h.ema_tr = t->ema_tr;
    h.last_lr = t->last_lr;
    h.last_grad_norm = t->last_grad_norm;
    h.precision = (int32_t)t->o.precision;
    char *p = buf;
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    memcpy(p, t->m.params, P * sizeof(float));
    p += P * sizeof(float);
    memcpy(p, t->adam_m, P * sizeof(float));
    p += P * sizeof(float);
    memcpy(p, t->adam_v, P * sizeof(float));
    p += P * sizeof(float);
    uint64_t sum = sl_fnv1a(SL_FNV_INIT, buf, (size_t)(p - buf));
    memcpy(p, &sum, sizeof sum);
    int rc = sl_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int sl_checkpoint_model(const char *path, sl_model *m, long *step, sl_error *err)
{
    memset(m, 0, sizeof *m);
    ckpt_file f;
    int rc = file_read(path, &f, err);
    if (rc)
        return rc;
    sl_config c = {f.h.n_layer, f.h.d_model, f.h.n_head, f.h.d_ff, f.h.n_ctx, f.h.vocab};
    sl_error e;
    if (sl_config_validate(&c, &e) != SL_OK) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT, "%s: config: %s", path, e.msg);
    }
    sl_tensor_info info[SL_NUM_PARAM_TENSORS];
    size_t P = sl_param_layout(&c, info);
    if ((rc = body_check(&f, P, path, err))) {
        free(f.buf);
        return rc;
    }
    rc = sl_model_init(m, &c, err);
    if (rc == SL_OK) {
        memcpy(m->params, f.buf + f.hb, P * sizeof(float));
        if (step)
            *step = (long)f.h.step;
    }
    free(f.buf);
    return rc;
}

int sl_checkpoint_peek(const char *path, sl_checkpoint_info *info, sl_error *err)
{
    memset(info, 0, sizeof *info);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_fail(err, SL_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    ckpt_header h;
    char raw[sizeof h];
    size_t got = fread(raw, 1, sizeof raw, f), hb;
    fclose(f);
    int rc = header_read(raw, got, &h, &hb, path, err);
    if (rc)
        return rc;
    if (h.step < 0 || (double)h.step > SL_MAX_STEPS)
        return sl_fail(err, SL_EINPUT, "%s: step: %lld is out of range (expected 0..%g)", path,
                       (long long)h.step, SL_MAX_STEPS);
    info->model = (sl_config){h.n_layer, h.d_model, h.n_head, h.d_ff, h.n_ctx, h.vocab};
    info->batch = h.batch;
    info->threads = h.threads;
    info->precision = (sl_precision)h.precision;
    info->step = (long)h.step;
    return SL_OK;
}

int sl_trainer_load(sl_trainer *t, const char *path, sl_error *err)
{
    ckpt_file f;
    int rc = file_read(path, &f, err);
    if (rc)
        return rc;
    size_t P = t->m.n_params;
    const sl_config *c = &t->o.model;
    if (f.h.n_layer != c->n_layer || f.h.d_model != c->d_model || f.h.n_head != c->n_head ||
        f.h.d_ff != c->d_ff || f.h.n_ctx != c->n_ctx || f.h.vocab != c->vocab) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT,
                       "%s: config: checkpoint is L=%d d=%d heads=%d d_ff=%d ctx=%d vocab=%d "
                       "(expected L=%d d=%d heads=%d d_ff=%d ctx=%d vocab=%d)",
                       path, f.h.n_layer, f.h.d_model, f.h.n_head, f.h.d_ff, f.h.n_ctx, f.h.vocab,
                       c->n_layer, c->d_model, c->n_head, c->d_ff, c->n_ctx, c->vocab);
    }
    if (f.h.batch != t->o.batch) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT, "%s: batch: checkpoint has %d (expected %d)", path,
                       f.h.batch, t->o.batch);
    }
    if (f.h.threads != t->nthr && !t->o.any_threads) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT,
                       "%s: threads: checkpoint trained on %d threads, this run has %d (expected %d: "
                       "another count is not bitwise an uninterrupted run; --any-threads allows it)",
                       path, f.h.threads, t->nthr, f.h.threads);
    }
    if (f.h.precision != (int32_t)t->o.precision) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT,
                       "%s: precision: checkpoint trained in %s, this run is %s (expected %s)", path,
                       sl_precision_name((sl_precision)f.h.precision),
                       sl_precision_name(t->o.precision),
                       sl_precision_name((sl_precision)f.h.precision));
    }
    if (f.h.data_limit != (uint64_t)t->sampler.limit) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT, "%s: data_limit: checkpoint trained on %llu tokens (expected %zu)",
                       path, (unsigned long long)f.h.data_limit, t->sampler.limit);
    }
    if ((rc = body_check(&f, P, path, err))) {
        free(f.buf);
        return rc;
    }
    if (f.h.step < 0 || f.h.step > t->o.steps) {
        free(f.buf);
        return sl_fail(err, SL_EINPUT, "%s: step: %lld is beyond the run's %ld steps", path,
                       (long long)f.h.step, t->o.steps);
    }
    const char *p = f.buf + f.hb;
    memcpy(t->m.params, p, P * sizeof(float));
    memcpy(t->adam_m, p + P * sizeof(float), P * sizeof(float));
    memcpy(t->adam_v, p + 2 * P * sizeof(float), P * sizeof(float));
    free(f.buf);
    t->step = f.h.step;
    memcpy(t->sampler.rng.s, f.h.rng, sizeof f.h.rng);
    t->wall_s = f.h.wall_s;
    t->loss_accum = f.h.loss_accum;
    t->loss_count = f.h.loss_count;
    t->ema_g2 = f.h.ema_g2;
    t->ema_tr = f.h.ema_tr;
    t->last_lr = f.h.last_lr;
    t->last_grad_norm = f.h.last_grad_norm;
    return SL_OK;
}
