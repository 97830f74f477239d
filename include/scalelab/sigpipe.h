/* sigpipe: the one self-pipe through which signals reach the thread that acts
 * on them: the lab's UI thread, and the main thread of run, resume and train.
 * OpenBLAS starts its threads before main with every signal unblocked, so a
 * signal may land on any thread; the handler only writes the signal's number
 * to a non-blocking pipe (async-signal-safe), and the caller reads it back
 * when its poll says so. Installing handlers also keeps curses from installing
 * its own. Open and close from the main thread, once at a time. */
#ifndef SCALELAB_SIGPIPE_H
#define SCALELAB_SIGPIPE_H

/* Catches the n signals sigs (SA_RESTART: a signal inside a write is not a
 * write error); returns the read end of the pipe, or -1 if no pipe could be
 * made (the signals are then still noted, see sl_sigpipe_last). */
int sl_sigpipe_open(const int *sigs, int n);
/* The read end (-1 when closed). */
int sl_sigpipe_fd(void);
/* The next signal read from the pipe, 0 when none is pending. */
int sl_sigpipe_next(void);
/* The latest signal caught since open (0: none), whether or not it was read. */
int sl_sigpipe_last(void);
/* Restores the handlers that were there before and closes the pipe. */
void sl_sigpipe_close(void);

#endif
