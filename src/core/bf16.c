/* bf16: weight products in bfloat16 through oneDNN's matmul primitive
 * (include/scalelab/bf16.h states the contract).
 *
 * Each product kind is a primitive created on first use for its shapes and
 * kept in the thread's small cache; memory objects are created once per
 * primitive without data and pointed at the operands on every call. The
 * primitives use a scratchpad of their own (user mode), so two threads never
 * share one. */
#include "scalelab/bf16.h"

#include <dnnl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scalelab/util.h"

/* aligned_alloc wants a multiple of the alignment */
#define ROUND64(n) (((n) + 63) & ~(size_t)63)

enum { K_FWD, K_DIN, K_DW };

typedef struct {
    int kind, M, K, N, bias; /* dst[M,N] = src[M,K] · wei[K,N] */
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bia, dst, scr;
    void *scratch;
} entry;

#define CACHE 48

struct sl_bf16 {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    uint16_t *w;        /* the weights, rounded */
    uint16_t *x, *d;    /* an operand and a gradient, rounded */
    size_t n_params, n_op;
    entry cache[CACHE];
    int used, next;
};

/* Round to nearest even; NaN stays NaN (quietened), infinities stay. */
static inline uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    uint32_t q = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? q : r);
}

void sl_bf16_round(unsigned short *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = to_bf16(src[i]);
}

float sl_bf16_to_float(unsigned short h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int sl_bf16_available(char *why, size_t n)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) ==
        (unsigned)dnnl_cpu_isa_avx512_core_bf16)
        return 1;
    if (why && n)
        snprintf(why, n,
                 "this CPU has no bf16 matrix instructions (AVX512_BF16 or AMX) that oneDNN "
                 "%d.%d can use",
                 dnnl_version()->major, dnnl_version()->minor);
    return 0;
}

sl_bf16 *sl_bf16_new(size_t n_params, int max_rows, int max_cols)
{
    sl_bf16 *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->n_params = n_params;
    b->n_op = (size_t)max_rows * (size_t)max_cols;
    b->w = aligned_alloc(64, ROUND64(n_params * 2));
    b->x = aligned_alloc(64, ROUND64(b->n_op * 2));
    b->d = aligned_alloc(64, ROUND64(b->n_op * 2));
    if (!b->w || !b->x || !b->d || dnnl_engine_create(&b->eng, dnnl_cpu, 0) != dnnl_success) {
        sl_bf16_free(b);
        return NULL;
    }
    if (dnnl_stream_create(&b->st, b->eng, dnnl_stream_default_flags) != dnnl_success) {
        sl_bf16_free(b);
        return NULL;
    }
    return b;
}

static void entry_free(entry *e)
{
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    dnnl_memory_t *m[] = {&e->src, &e->wei, &e->bia, &e->dst, &e->scr};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i])
            dnnl_memory_destroy(*m[i]);
    free(e->scratch);
    memset(e, 0, sizeof *e);
}

void sl_bf16_free(sl_bf16 *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->used; i++)
        entry_free(&b->cache[i]);
    if (b->st)
        dnnl_stream_destroy(b->st);
    if (b->eng)
        dnnl_engine_destroy(b->eng);
    free(b->w), free(b->x), free(b->d);
    free(b);
}

void sl_bf16_load_weights(sl_bf16 *b, const float *params, size_t n)
{
    sl_bf16_round(b->w, params, n < b->n_params ? n : b->n_params);
}

/* A failure here is a programming error (shapes the engine was not sized
 * for) or oneDNN out of memory: either way the step cannot go on. */
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        dnnl_status_t s_ = (x);                                                                    \
        if (s_ != dnnl_success) {                                                                  \
            fprintf(stderr, "scalelab: oneDNN: %s failed (status %d)\n", #x, (int)s_);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* src[M,K]: K_DW's is the transpose of a row-major [K,M] gradient (strides
 * 1, M); wei[K,N]: K_FWD's is the transpose of the row-major [N,K] weight. */
static void make(sl_bf16 *b, entry *e)
{
    dnnl_memory_desc_t src, wei, bia, dst, scr;
    dnnl_dims_t ds = {e->M, e->K}, dw = {e->K, e->N}, dd = {e->M, e->N}, db = {1, e->N};
    CHECK(dnnl_memory_desc_init_by_tag(&src, 2, ds, dnnl_bf16, e->kind == K_DW ? dnnl_ba : dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&wei, 2, dw, dnnl_bf16, e->kind == K_FWD ? dnnl_ba : dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&bia, 2, db, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &src, &wei, e->bias ? &bia : NULL, &dst));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (e->kind == K_DW) { /* dw += ...: the sum post-op adds to what dst holds */
        dnnl_post_ops_t po;
        CHECK(dnnl_post_ops_create(&po));
        CHECK(dnnl_post_ops_append_sum(po, 1.0f));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, attr, b->eng, NULL));
    dnnl_primitive_attr_destroy(attr);
    CHECK(dnnl_primitive_create(&e->prim, pd));
    scr = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t ns = dnnl_memory_desc_get_size(&scr);
    CHECK(dnnl_memory_create(&e->src, &src, b->eng, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&e->wei, &wei, b->eng, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&e->dst, &dst, b->eng, DNNL_MEMORY_NONE));
    if (e->bias)
        CHECK(dnnl_memory_create(&e->bia, &bia, b->eng, DNNL_MEMORY_NONE));
    if (ns) {
        e->scratch = aligned_alloc(64, ROUND64(ns));
        if (!e->scratch) {
            fprintf(stderr, "scalelab: out of memory for a bf16 product's scratchpad\n");
            abort();
        }
        CHECK(dnnl_memory_create(&e->scr, &scr, b->eng, e->scratch));
    }
    dnnl_primitive_desc_destroy(pd);
}

static entry *lookup(sl_bf16 *b, int kind, int M, int K, int N, int bias)
{
    for (int i = 0; i < b->used; i++) {
        entry *e = &b->cache[i];
        if (e->kind == kind && e->M == M && e->K == K && e->N == N && e->bias == bias)
            return e;
    }
    entry *e;
    if (b->used < CACHE)
        e = &b->cache[b->used++];
    else { /* shapes beyond the cache (rare: shard sizes that vary) replace in turn */
        e = &b->cache[b->next];
        b->next = (b->next + 1) % CACHE;
        entry_free(e);
    }
    e->kind = kind, e->M = M, e->K = K, e->N = N, e->bias = bias;
    make(b, e);
    return e;
}

static void run(sl_bf16 *b, int kind, int M, int K, int N, const void *src, const void *wei,
                const float *bias, float *dst)
{
    /* oneDNN's OpenMP runtime would start a team of its own inside each of
     * our threads; one thread per calling thread keeps the pool the only
     * parallelism (an OpenMP setting is per calling thread) */
    static _Thread_local int one_thread;
    if (!one_thread) {
        omp_set_num_threads(1);
        one_thread = 1;
    }
    entry *e = lookup(b, kind, M, K, N, bias != NULL);
    CHECK(dnnl_memory_set_data_handle(e->src, (void *)src));
    CHECK(dnnl_memory_set_data_handle(e->wei, (void *)wei));
    CHECK(dnnl_memory_set_data_handle(e->dst, dst));
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei},
                               {DNNL_ARG_DST, e->dst}};
    int n = 3;
    if (bias) {
        CHECK(dnnl_memory_set_data_handle(e->bia, (void *)bias));
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bia};
    }
    if (e->scr)
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->scr};
    CHECK(dnnl_primitive_execute(e->prim, b->st, n, args));
    CHECK(dnnl_stream_wait(b->st));
}

void sl_bf16_matmul_forward(sl_bf16 *b, float *out, const float *inp, size_t w_off,
                            const float *bias, int N, int C, int OC)
{
    sl_bf16_round(b->x, inp, (size_t)N * C);
    run(b, K_FWD, N, C, OC, b->x, b->w + w_off, bias, out);
}

void sl_bf16_matmul_backward_write(sl_bf16 *b, float *dinp, float *dw, float *dbias,
                                   const float *dout, const float *inp, size_t w_off, int N, int C,
                                   int OC)
{
    sl_bf16_round(b->d, dout, (size_t)N * OC);
    run(b, K_DIN, N, OC, C, b->d, b->w + w_off, NULL, dinp);
    sl_bf16_round(b->x, inp, (size_t)N * C);
    run(b, K_DW, OC, N, C, b->d, b->x, NULL, dw);
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++)
                dbias[o] += d[o];
        }
}
