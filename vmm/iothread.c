/* Epoll loop for device I/O; see iothread.h. */
#include "vmm/iothread.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IOTHREAD_BATCH 8

int
iothread_init (struct iothread *io, pthread_mutex_t *lock, hull_error_t *err)
{
  memset (io, 0, sizeof *io);
  io->lock = lock;
  io->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (io->epfd < 0)
    return hull_error (err, errno, "epoll_create1");
  io->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (io->stop_fd < 0)
    {
      close (io->epfd);
      return hull_error (err, errno, "eventfd");
    }
  io->stop = (struct iothread_watch){ .fd = io->stop_fd };
  if (iothread_watch (io, &io->stop, EPOLLIN, err) < 0)
    {
      close (io->stop_fd);
      close (io->epfd);
      return -1;
    }
  io->initialized = true;
  return 0;
}

int
iothread_watch (struct iothread *io, struct iothread_watch *w, uint32_t events,
                hull_error_t *err)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };

  if (w->added && w->events == events)
    return 0;
  if (events == 0)
    {
      /* Removed rather than armed with no events: epoll reports HUP/ERR
       * even then, and a parked hung-up fd would spin the loop. */
      iothread_unwatch (io, w);
      return 0;
    }
  if (epoll_ctl (io->epfd, w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) < 0)
    return hull_error (err, errno, "epoll_ctl fd %d", w->fd);
  w->added = true;
  w->events = events;
  return 0;
}

void
iothread_unwatch (struct iothread *io, struct iothread_watch *w)
{
  if (!w->added)
    return;
  epoll_ctl (io->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  w->added = false;
  w->events = 0;
}

int
iothread_run_once (struct iothread *io, int timeout_ms)
{
  struct epoll_event evs[IOTHREAD_BATCH];
  int n = epoll_wait (io->epfd, evs, IOTHREAD_BATCH, timeout_ms);

  if (n < 0)
    return errno == EINTR ? 0 : -1;
  if (io->lock)
    pthread_mutex_lock (io->lock);
  for (int i = 0; i < n; i++)
    {
      struct iothread_watch *w = evs[i].data.ptr;
      if (w == &io->stop)
        {
          n = -1;
          break;
        }
      /* A callback earlier in this batch may have parked this watch. */
      if (w->added)
        w->cb (w->opaque, evs[i].events);
    }
  if (io->lock)
    pthread_mutex_unlock (io->lock);
  return n;
}

static void *
iothread_main (void *arg)
{
  struct iothread *io = arg;
  sigset_t set;

  /* A write to a closed pipe must fail with EPIPE here, not kill the VMM. */
  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  while (iothread_run_once (io, -1) >= 0)
    ;
  return NULL;
}

int
iothread_start (struct iothread *io, hull_error_t *err)
{
  int r = pthread_create (&io->thread, NULL, iothread_main, io);
  if (r != 0)
    return hull_error (err, r, "pthread_create (iothread)");
  io->running = true;
  return 0;
}

void
iothread_destroy (struct iothread *io)
{
  if (!io->initialized)
    return;
  if (io->running)
    {
      uint64_t one = 1;
      if (write (io->stop_fd, &one, sizeof one) < 0)
        {
          /* eventfd writes only fail on counter overflow; the loop still
           * sees it readable. */
        }
      pthread_join (io->thread, NULL);
      io->running = false;
    }
  close (io->stop_fd);
  close (io->epfd);
  io->epfd = io->stop_fd = -1;
  io->initialized = false;
}
