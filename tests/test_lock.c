/* State-dir locks: exclusive between processes and threads; released
 * when the holder dies; a missing lock file is ENOENT without create. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

Test (lock, processes_contend, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  int fd = lock_acquire (path, true, true, &err), pipefd[2];
  pid_t child;
  char c;

  cr_assert_geq (fd, 0, "%s", hull_error_msg (&err));
  cr_assert_eq (pipe (pipefd), 0);
  child = fork ();
  if (child == 0)
    {
      hull_error_t e = NULL;
      int busy;
      close (fd); /* our copy of the parent's lock would keep it held */
      busy = lock_try_acquire (path, true, &e) < 0 && e->status == EWOULDBLOCK;
      int got = lock_acquire (path, true, false, &e); /* blocks until released */
      c = busy && got >= 0 ? 'y' : 'n';
      if (write (pipefd[1], &c, 1) != 1)
        _exit (2);
      _exit (0);
    }
  usleep (200000);
  /* The child must still be waiting. */
  cr_assert_eq (waitpid (child, NULL, WNOHANG), 0, "child got the lock while we held it");
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
  pid_t child = fork ();
  int fd;

  if (child == 0)
    {
      hull_error_t e = NULL;
      lock_acquire (path, true, true, &e);
      pause ();
      _exit (0);
    }
  usleep (100000);
  cr_assert_lt (lock_try_acquire (path, true, &err), 0);
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
