/* A time bound for a test that could hang (a child process, a socket).
 *
 * Do not use Criterion's own `.timeout` for this.  In libcriterion 2.4.1
 * the runner keeps pending timeouts in a list sorted by deadline and
 * inserts a new one without linking the rest after it: a test whose
 * deadline is earlier than a running one's (a shorter `.timeout`, under
 * --jobs 2) silently drops the pending entries.  Those tests lose their
 * bound, and the dropped records are the 48-byte LeakSanitizer report at
 * the runner's exit.  Its timeout is also a SIGPROF, which a test that
 * blocks signals never receives.
 *
 * test_watchdog() instead starts a thread in the test's own process that
 * aborts it after `seconds`: Criterion reports the test as crashed
 * (SIGABRT) and the message below names the bound.  The thread blocks
 * every signal, so signals meant for the test (SIGCHLD, a signalfd, a
 * SIGTERM it ignores) never land on it, and it works whatever mask the
 * test sets later.  Call it first in the test (or in the suite's .init). */
#ifndef HULL_TESTS_WATCHDOG_H
#define HULL_TESTS_WATCHDOG_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *
test_watchdog_thread (void *arg)
{
  unsigned seconds = (unsigned) (uintptr_t) arg;
  struct timespec left = { .tv_sec = seconds };

  while (nanosleep (&left, &left) < 0 && errno == EINTR)
    ;
  fprintf (stderr, "test watchdog: still running after %u s, aborting the test\n", seconds);
  abort (); /* unblocks SIGABRT itself */
}

static inline void
test_watchdog (unsigned seconds)
{
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_t t;
  int r;

  sigfillset (&all);
  cr_assert_eq (pthread_attr_init (&attr), 0);
  cr_assert_eq (pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED), 0);
  /* The new thread inherits this mask. */
  cr_assert_eq (pthread_sigmask (SIG_SETMASK, &all, &old), 0);
  r = pthread_create (&t, &attr, test_watchdog_thread, (void *) (uintptr_t) seconds);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  cr_assert_eq (r, 0, "test watchdog thread: %s", strerror (r));
}

#endif
