/* sigpipe: see include/scalelab/sigpipe.h. */
#include "scalelab/sigpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIGS 8

static int pipe_fd[2] = {-1, -1};
static volatile sig_atomic_t last_sig;
static int caught[MAX_SIGS], n_caught;
static struct sigaction saved[MAX_SIGS];

static void on_signal(int sig)
{
    int e = errno;
    last_sig = sig;
    unsigned char c = (unsigned char)sig;
    if (pipe_fd[1] >= 0 && write(pipe_fd[1], &c, 1) < 0) {
        /* the pipe is full: a signal of each kind is pending already */
    }
    errno = e;
}

int sl_sigpipe_open(const int *sigs, int n)
{
    last_sig = 0;
    if (pipe(pipe_fd) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(pipe_fd[i], F_SETFL, fcntl(pipe_fd[i], F_GETFL) | O_NONBLOCK);
            fcntl(pipe_fd[i], F_SETFD, FD_CLOEXEC);
        }
    } else
        pipe_fd[0] = pipe_fd[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    n_caught = n < MAX_SIGS ? n : MAX_SIGS;
    for (int i = 0; i < n_caught; i++) {
        caught[i] = sigs[i];
        sigaction(sigs[i], &sa, &saved[i]);
    }
    return pipe_fd[0];
}

int sl_sigpipe_fd(void) { return pipe_fd[0]; }

int sl_sigpipe_next(void)
{
    unsigned char c;
    if (pipe_fd[0] >= 0 && read(pipe_fd[0], &c, 1) == 1)
        return c;
    return 0;
}

int sl_sigpipe_last(void) { return last_sig; }

void sl_sigpipe_close(void)
{
    for (int i = 0; i < n_caught; i++)
        sigaction(caught[i], &saved[i], NULL);
    n_caught = 0;
    for (int i = 0; i < 2; i++)
        if (pipe_fd[i] >= 0) {
            close(pipe_fd[i]);
            pipe_fd[i] = -1;
        }
}
