/* Requests from the supervisor's thread to the agent, carried by the I/O
 * thread (which alone touches the protocol connection): queue a struct
 * vm_call, wake the I/O thread, wait on the condition variable. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "runtime/sandbox_vm.h"
#include "vmm/machine.h"

struct vm_call *
vm_call_new (struct sandbox *sb, uint16_t op, bool with_container)
{
  struct vm_call *c = calloc (1, sizeof (*c));
  uint32_t id;

  if (c == NULL)
    return NULL;
  pthread_mutex_lock (&sb->lock);
  id = sb->next_id++;
  if (sb->next_id == 0)
    sb->next_id = 1;
  pthread_mutex_unlock (&sb->lock);
  c->kind = VM_CALL_REQUEST;
  hull_msgbuf_init (&c->mb, HULL_FRAME_REQUEST, op, id);
  if (with_container)
    hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONTAINER_ID, sb->id);
  return c;
}

void
vm_call_free (struct vm_call *c)
{
  if (c == NULL)
    return;
  hull_msgbuf_free (&c->mb);
  vm_proc_free (c->attach);
  free (c->errmsg);
  free (c->payload);
  free (c);
}

void
vm_call_complete_locked (struct sandbox *sb, struct vm_call *c)
{
  c->done = true;
  if (c->detached)
    vm_call_free (c);
  else
    pthread_cond_broadcast (&sb->cond);
}

static void
wake (int fd)
{
  uint64_t one = 1;
  ssize_t r = write (fd, &one, sizeof (one));
  (void) r; /* an eventfd at its maximum is already awake */
}

static void
deadline_after (struct timespec *ts, int ms)
{
  clock_gettime (CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long) (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L)
    {
      ts->tv_sec++;
      ts->tv_nsec -= 1000000000L;
    }
}

/* Why requests cannot be answered any more, or NULL.  Under lock. */
static const char *
dead_reason_locked (struct sandbox *sb, char *buf, size_t len)
{
  if (sb->io_dead)
    {
      snprintf (buf, len, "%s", sb->io_error ? sb->io_error : "the agent channel is closed");
      return buf;
    }
  if (sb->vm_done)
    {
      snprintf (buf, len, "the microVM stopped (%s: %s)", vm_exit_reason_name (sb->vm_reason),
                sb->vm_msg);
      return buf;
    }
  return NULL;
}

int
vm_call_run (struct sandbox *sb, struct vm_call *c, int timeout_ms, hull_error_t *err)
{
  const char *op = c->kind == VM_CALL_FIN ? "close stdin" : hull_op_name (c->mb.op);
  struct timespec dl;
  char why[512];
  int r = 0;

  deadline_after (&dl, timeout_ms);
  pthread_mutex_lock (&sb->lock);
  if (dead_reason_locked (sb, why, sizeof (why)) != NULL)
    {
      pthread_mutex_unlock (&sb->lock);
      vm_call_free (c);
      return hull_error (err, EPIPE, "%s: %s", op, why);
    }
  c->next = sb->calls_new;
  sb->calls_new = c;
  wake (sb->wake_fd);
  while (!c->done && r == 0 && !sb->io_dead)
    r = pthread_cond_timedwait (&sb->cond, &sb->lock, &dl);
  if (c->done)
    {
      pthread_mutex_unlock (&sb->lock);
      if (c->errmsg != NULL || c->errnum != 0)
        {
          /* The agent's message already says why (with its strerror). */
          r = hull_error (err, 0, "%s: %s", op, c->errmsg ? c->errmsg : "failed");
          (*err)->status = c->errnum;
          vm_call_free (c);
          return r;
        }
      return 0;
    }
  /* Not answered: the I/O thread frees it whenever it completes. */
  c->detached = true;
  if (sb->io_dead)
    {
      dead_reason_locked (sb, why, sizeof (why));
      pthread_mutex_unlock (&sb->lock);
      return hull_error (err, EPIPE, "%s: %s", op, why);
    }
  pthread_mutex_unlock (&sb->lock);
  return hull_error (err, ETIMEDOUT, "%s: hull-agent did not answer within %d ms", op,
                     timeout_ms);
}

int
vm_wait_ready (struct sandbox *sb, int timeout_ms, hull_error_t *err)
{
  struct timespec dl;
  char why[512];
  int r = 0;

  deadline_after (&dl, timeout_ms);
  pthread_mutex_lock (&sb->lock);
  while (!sb->ready && r == 0 && dead_reason_locked (sb, why, sizeof (why)) == NULL)
    r = pthread_cond_timedwait (&sb->cond, &sb->lock, &dl);
  if (sb->ready)
    {
      pthread_mutex_unlock (&sb->lock);
      return 0;
    }
  if (dead_reason_locked (sb, why, sizeof (why)) != NULL)
    {
      pthread_mutex_unlock (&sb->lock);
      return hull_error (err, EPIPE, "the guest never answered the agent handshake: %s", why);
    }
  pthread_mutex_unlock (&sb->lock);
  return hull_error (err, ETIMEDOUT,
                     "the guest's hull-agent did not answer the handshake within %d ms "
                     "(settings bootTimeoutMs)",
                     timeout_ms);
}

uint32_t
vm_next_stream_locked (struct sandbox *sb)
{
  uint32_t id = sb->next_stream++;
  if (sb->next_stream == 0)
    sb->next_stream = 1;
  return id;
}
