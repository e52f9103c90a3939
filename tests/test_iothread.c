/* The device I/O thread: callbacks run under the given lock, parking a
 * watch stops callbacks, and destroy stops the thread promptly. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/iothread.h"

struct counter
{
  pthread_mutex_t *lock;
  int fd;
  int calls;
  bool lock_held;
};

static void
on_event (void *opaque, uint32_t events)
{
  struct counter *c = opaque;
  uint64_t v;

  (void) events;
  /* trylock fails when the iothread holds it for us, as promised */
  c->lock_held = pthread_mutex_trylock (c->lock) != 0;
  if (!c->lock_held)
    pthread_mutex_unlock (c->lock);
  if (read (c->fd, &v, sizeof v) == sizeof v)
    c->calls++;
}

Test (iothread, runs_callbacks_and_stops)
{
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  struct iothread io;
  struct counter c = { .lock = &lock };
  struct iothread_watch w;
  hull_error_t err = NULL;
  uint64_t one = 1;
  int calls = 0;

  c.fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  w = (struct iothread_watch){ .fd = c.fd, .cb = on_event, .opaque = &c };
  cr_assert_eq (iothread_init (&io, &lock, &err), 0);
  cr_assert_eq (iothread_watch (&io, &w, EPOLLIN, &err), 0);
  cr_assert_eq (iothread_start (&io, &err), 0);
  cr_assert_eq (write (c.fd, &one, sizeof one), sizeof one);
  for (int i = 0; i < 2000 && calls == 0; i++)
    {
      usleep (1000);
      pthread_mutex_lock (&lock);
      calls = c.calls;
      pthread_mutex_unlock (&lock);
    }
  cr_assert_eq (calls, 1);
  cr_assert (c.lock_held);

  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  iothread_destroy (&io);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  cr_assert_lt (t1.tv_sec - t0.tv_sec, 2, "destroy wakes and joins the thread");
  iothread_destroy (&io); /* idempotent */
  close (c.fd);
}

Test (iothread, parked_watch_is_quiet)
{
  struct iothread io;
  struct counter c = { 0 };
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  struct iothread_watch w;
  hull_error_t err = NULL;
  int p[2];

  c.lock = &lock;
  cr_assert_eq (pipe (p), 0);
  c.fd = p[0];
  w = (struct iothread_watch){ .fd = p[0], .cb = on_event, .opaque = &c };
  cr_assert_eq (iothread_init (&io, NULL, &err), 0);
  cr_assert_eq (iothread_watch (&io, &w, EPOLLIN, &err), 0);
  cr_assert_eq (iothread_watch (&io, &w, 0, &err), 0);
  /* A hung-up pipe reports EPOLLHUP even with no events requested; a
   * parked watch must not see it (or the loop would spin). */
  close (p[1]);
  cr_assert_eq (iothread_run_once (&io, 0), 0);
  cr_assert_eq (c.calls, 0);
  cr_assert_eq (iothread_watch (&io, &w, EPOLLIN, &err), 0);
  cr_assert_eq (iothread_run_once (&io, 0), 1);
  iothread_destroy (&io);
  close (p[0]);
}

Test (iothread, unpollable_fd_is_reported)
{
  struct iothread io;
  struct iothread_watch w;
  hull_error_t err = NULL;
  char path[] = "/tmp/hull-iothread-XXXXXX";
  int fd = mkstemp (path);

  cr_assert_geq (fd, 0);
  unlink (path);
  w = (struct iothread_watch){ .fd = fd, .cb = on_event };
  cr_assert_eq (iothread_init (&io, NULL, &err), 0);
  cr_assert_lt (iothread_watch (&io, &w, EPOLLIN, &err), 0);
  cr_assert_eq (err->status, EPERM);
  hull_error_free (&err);
  iothread_destroy (&io);
  close (fd);
}
