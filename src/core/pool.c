/* pool: see include/scalelab/pool.h. Workers sleep on a condition variable
 * between jobs, so an idle pool costs nothing while another run trains. */
#include "scalelab/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "scalelab/util.h"

struct sl_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    unsigned long generation;
    int pending, quit;
    sl_pool_fn fn;
    void *arg;
};

typedef struct {
    sl_pool *p;
    int tid;
} worker_arg;

static void *worker(void *vp)
{
    worker_arg *wa = vp;
    sl_pool *p = wa->p;
    int tid = wa->tid;
    free(wa);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        sl_pool_fn fn = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        fn(arg, tid, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

sl_pool *sl_pool_new(int nthreads)
{
    sl_pool *p = sl_xcalloc(1, sizeof *p);
    p->n = nthreads < 1 ? 1 : nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = sl_xcalloc((size_t)p->n, sizeof *p->threads);
    /* Workers never take signals: the thread that owns the run handles them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 1; i < p->n; i++) {
        worker_arg *wa = sl_xmalloc(sizeof *wa);
        wa->p = p;
        wa->tid = i;
        if (pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
            free(wa);
            p->n = i; /* run with the threads we have */
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;
}

int sl_pool_size(const sl_pool *p) { return p->n; }

void sl_pool_run(sl_pool *p, sl_pool_fn fn, void *arg)
{
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sl_pool_free(sl_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}
