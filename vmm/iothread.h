/* A device I/O thread: one epoll loop that watches ioeventfds (queue kicks)
 * and host fds (console input, sockets), calling back with an optional
 * mutex held so that device code never runs concurrently with the vCPU
 * threads' register accesses.  Stoppable: iothread_destroy wakes the loop
 * through an eventfd and joins it. */
#ifndef HULL_VMM_IOTHREAD_H
#define HULL_VMM_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"

typedef void (*iothread_cb) (void *opaque, uint32_t events);

/* Owned by the caller; must stay valid until unwatched or destroyed. */
struct iothread_watch
{
  int fd;
  iothread_cb cb;
  void *opaque;
  uint32_t events;   /* what is currently armed */
  bool added;
};

struct iothread
{
  int epfd, stop_fd;
  pthread_t thread;
  bool running, initialized;
  pthread_mutex_t *lock;   /* held around callbacks; may be NULL */
  struct iothread_watch stop;
};

int iothread_init (struct iothread *io, pthread_mutex_t *lock, hull_error_t *err);
/* Start the thread; before this, tests may drive iothread_run_once. */
int iothread_start (struct iothread *io, hull_error_t *err);
/* Stop and join the thread (if started) and close everything we own. */
void iothread_destroy (struct iothread *io);

/* (Re)arm w for events (EPOLLIN/EPOLLOUT; 0 takes it out of epoll).
 * A fd that epoll cannot watch (regular file) fails with EPERM. */
int iothread_watch (struct iothread *io, struct iothread_watch *w,
                    uint32_t events, hull_error_t *err);
void iothread_unwatch (struct iothread *io, struct iothread_watch *w);

/* One epoll round: dispatch ready watches; returns how many were ready,
 * -1 when asked to stop. */
int iothread_run_once (struct iothread *io, int timeout_ms);

#endif
