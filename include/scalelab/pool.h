/* pool: a fixed set of worker threads that run one function on every thread and
 * wait for all of them (fork-join). The caller's thread is worker 0. Used by
 * train to shard a batch across cores; BLAS stays single-threaded inside. */
#ifndef SCALELAB_POOL_H
#define SCALELAB_POOL_H

typedef struct sl_pool sl_pool;
typedef void (*sl_pool_fn)(void *arg, int tid, int nthreads);

sl_pool *sl_pool_new(int nthreads);
void sl_pool_free(sl_pool *p);
int sl_pool_size(const sl_pool *p);
/* Runs fn(arg, tid, n) for tid = 0..n-1 (tid 0 on the calling thread), returns
 * when all have finished. Not reentrant. */
void sl_pool_run(sl_pool *p, sl_pool_fn fn, void *arg);

#endif
