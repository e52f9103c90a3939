/* State-dir locks: exclusive between processes and threads; released
 * when the holder dies; a missing lock file is ENOENT without create. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/lock.h"

static char path[64];

static void
setup (void)
{
  snprintf (path, sizeof (path), "/tmp/hull-test-lock.%d", getpid ());
  unlink (path);
}

static void
teardown (void)
{
  unlink (path);
}

/* The child reports each step through the pipe, so nothing depends on
 * how fast it is scheduled: 't' once its try failed with EWOULDBLOCK
 * ('n' if it did not), 'y' once its blocking acquire returned. */
Test (lock, processes_contend, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  int fd = lock_acquire (path, true, true, &err), pipefd[2];
  struct pollfd p;
  pid_t parent = getpid (), child;
  char c;

  cr_assert_geq (fd, 0, "%s", hull_error_msg (&err));
  cr_assert_eq (pipe (pipefd), 0);
  child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      hull_error_t e = NULL;
      int t;
      /* Never outlive the test, whatever happens to it. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (3);
      close (fd); /* our copy of the parent's lock would keep it held */
      t = lock_try_acquire (path, true, &e);
      /* A try that got the lock would make the blocking acquire below
       * wait on ourselves forever: report and stop instead. */
      c = t < 0 && e->status == EWOULDBLOCK ? 't' : 'n';
      if (write (pipefd[1], &c, 1) != 1 || c != 't')
        _exit (2);
      c = lock_acquire (path, true, false, &e) >= 0 ? 'y' : 'n';
      if (write (pipefd[1], &c, 1) != 1)
        _exit (2);
      _exit (0);
    }
  close (pipefd[1]);
  cr_assert_eq (read (pipefd[0], &c, 1), 1);
  cr_assert_eq (c, 't', "the try did not fail with EWOULDBLOCK while we held the lock");
  /* The child must still be waiting while we hold the lock. */
  p = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
  cr_assert_eq (poll (&p, 1, 200), 0, "child got the lock while we held it");
  close (fd);
  cr_assert_eq (read (pipefd[0], &c, 1), 1);
  cr_assert_eq (c, 'y');
  waitpid (child, NULL, 0);
}

struct counter
{
  int value;
  int races;
};

static void *
bump (void *arg)
{
  struct counter *c = arg;
  for (int i = 0; i < 200; i++)
    {
      hull_error_t err = NULL;
      int fd = lock_acquire (path, true, true, &err), v;
      if (fd < 0)
        {
          c->races++;
          continue;
        }
      v = c->value;
      usleep (10);
      if (c->value != v)
        c->races++;
      c->value = v + 1;
      close (fd);
    }
  return NULL;
}

/* flock locks belong to open file descriptions, so threads contend too. */
Test (lock, threads_contend, .init = setup, .fini = teardown)
{
  struct counter c = { 0 };
  pthread_t t[4];

  for (int i = 0; i < 4; i++)
    pthread_create (&t[i], NULL, bump, &c);
  for (int i = 0; i < 4; i++)
    pthread_join (t[i], NULL);
  cr_assert_eq (c.races, 0);
  cr_assert_eq (c.value, 800);
}

Test (lock, released_when_holder_dies, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  int fd, pipefd[2];
  pid_t parent = getpid (), child;
  char c = 0;

  cr_assert_eq (pipe (pipefd), 0);
  child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      hull_error_t e = NULL;
      /* A failed assertion below must not leave the holder behind. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (3);
      c = lock_acquire (path, true, true, &e) >= 0 ? 'y' : 'n';
      if (write (pipefd[1], &c, 1) != 1)
        _exit (2);
      pause ();
      _exit (0);
    }
  close (pipefd[1]);
  /* Held from here on, however late the child got to it. */
  cr_assert_eq (read (pipefd[0], &c, 1), 1);
  cr_assert_eq (c, 'y');
  close (pipefd[0]);
  fd = lock_try_acquire (path, true, &err);
  if (fd >= 0)
    close (fd);
  cr_assert_lt (fd, 0, "got the lock while the child held it");
  hull_error_free (&err);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  fd = lock_try_acquire (path, true, &err);
  cr_assert_geq (fd, 0, "%s", hull_error_msg (&err));
  close (fd);
}

Test (lock, missing_without_create, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;

  cr_assert_lt (lock_acquire (path, true, false, &err), 0);
  cr_assert_eq (err->status, ENOENT);
  cr_assert_not_null (strstr (hull_error_msg (&err), path));
  hull_error_free (&err);
}

Test (lock, shared_locks_coexist, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  int a = lock_acquire (path, false, true, &err);
  int b = lock_try_acquire (path, false, &err);

  cr_assert_geq (a, 0);
  cr_assert_geq (b, 0, "%s", hull_error_msg (&err));
  cr_assert_lt (lock_try_acquire (path, true, &err), 0);
  hull_error_free (&err);
  close (a);
  close (b);
}
