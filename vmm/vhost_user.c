/* vhost-user front-end: connection, message exchange, reply checks, and
 * the requests hull uses. */
#include "vmm/vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/unix_socket.h"
#include "vmm/guest_mem.h"

const char *
vhost_user_request_name (uint32_t request)
{
  switch (request)
    {
    case VHOST_USER_GET_FEATURES: return "GET_FEATURES";
    case VHOST_USER_SET_FEATURES: return "SET_FEATURES";
    case VHOST_USER_SET_OWNER: return "SET_OWNER";
    case VHOST_USER_SET_MEM_TABLE: return "SET_MEM_TABLE";
    case VHOST_USER_SET_VRING_NUM: return "SET_VRING_NUM";
    case VHOST_USER_SET_VRING_ADDR: return "SET_VRING_ADDR";
    case VHOST_USER_SET_VRING_BASE: return "SET_VRING_BASE";
    case VHOST_USER_GET_VRING_BASE: return "GET_VRING_BASE";
    case VHOST_USER_SET_VRING_KICK: return "SET_VRING_KICK";
    case VHOST_USER_SET_VRING_CALL: return "SET_VRING_CALL";
    case VHOST_USER_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
    case VHOST_USER_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
    case VHOST_USER_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
    case VHOST_USER_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
    default: return "UNKNOWN";
    }
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
report_dead (struct vhost_user *vu, const char *msg)
{
  atomic_store (&vu->dead, true);
  if (vu->on_error != NULL && !atomic_exchange (&vu->reported, true))
    vu->on_error (vu->opaque, msg);
}

/* Marks the connection dead (the stream can no longer be trusted to be in
 * step), reports it, and returns -1 with err filled. */
static int
fail_dead (struct vhost_user *vu, hull_error_t *err, int errno_,
           const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

static int
fail_dead (struct vhost_user *vu, hull_error_t *err, int errno_,
           const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  hull_verror (err, errno_, fmt, ap);
  va_end (ap);
  hull_error_prefix (err, "vhost-user `%s`", vu->name ? vu->name : "?");
  atomic_store (&vu->dead, true);
  return -1;
}

static void
vhost_user_reset_fields (struct vhost_user *vu)
{
  memset (vu, 0, sizeof (*vu));
  vu->fd = -1;
  vu->monitor_stop = -1;
}

int
vhost_user_init_fd (struct vhost_user *vu, int fd, const char *name,
                    int timeout_ms, hull_error_t *err)
{
  cleanup_close int owned = fd;
  struct timeval tv = { .tv_sec = timeout_ms / 1000,
                        .tv_usec = (timeout_ms % 1000) * 1000 };

  vhost_user_reset_fields (vu);
  /* A back-end that stops reading must not block the VMM forever. */
  if (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv)) < 0)
    return hull_error (err, errno, "vhost-user `%s`: set send timeout", name);
  vu->name = strdup (name);
  if (vu->name == NULL)
    return hull_error (err, ENOMEM, "vhost-user `%s`", name);
  pthread_mutex_init (&vu->lock, NULL);
  vu->timeout_ms = timeout_ms;
  vu->fd = hull_steal_fd (&owned);
  return 0;
}

/* One connect attempt: the fd, or -1 with *retry set when the back-end is
 * not there yet or bound but not listening yet. */
static int
try_connect (const char *path, bool *retry, hull_error_t *err)
{
  hull_error_t e = NULL;
  int fd = unix_socket_connect (path, SOCK_STREAM | SOCK_CLOEXEC, &e);
  int code = fd < 0 && e != NULL ? e->status : 0;

  *retry = fd < 0 && (code == ENOENT || code == ECONNREFUSED
                      || code == EAGAIN || code == EINTR);
  if (fd < 0 && !*retry)
    {
      *err = e;
      return hull_error_prefix (err, "vhost-user");
    }
  hull_error_free (&e);
  return fd;
}

int
vhost_user_connect (struct vhost_user *vu, const char *path, int timeout_ms,
                    hull_error_t *err)
{
  int64_t deadline = now_ms () + timeout_ms;
  bool retry;

  vhost_user_reset_fields (vu);
  for (;;)
    {
      cleanup_close int fd = try_connect (path, &retry, err);
      if (fd >= 0)
        return vhost_user_init_fd (vu, hull_steal_fd (&fd), path, timeout_ms,
                                   err);
      if (!retry)
        return -1;
      if (now_ms () >= deadline)
        return hull_error (err, ETIMEDOUT,
                           "vhost-user: `%s` not accepting connections after "
                           "%d ms",
                           path, timeout_ms);
      usleep (10 * 1000);
    }
}

void
vhost_user_close (struct vhost_user *vu)
{
  uint64_t one = 1;

  if (vu->monitor_running)
    {
      if (write (vu->monitor_stop, &one, sizeof (one)) < 0)
        { /* eventfd cannot fail to count one; nothing to do */ }
      pthread_join (vu->monitor, NULL);
      vu->monitor_running = false;
    }
  if (vu->monitor_stop >= 0)
    close (vu->monitor_stop);
  vu->monitor_stop = -1;
  if (vu->fd >= 0)
    {
      close (vu->fd);
      pthread_mutex_destroy (&vu->lock);
    }
  vu->fd = -1;
  free (vu->name);
  vu->name = NULL;
}

void
vhost_user_set_error_cb (struct vhost_user *vu, vhost_user_error_fn fn,
                         void *opaque)
{
  vu->on_error = fn;
  vu->opaque = opaque;
}

bool
vhost_user_is_dead (struct vhost_user *vu)
{
  return atomic_load (&vu->dead);
}

/* Waits for hang-up only: POLLIN is not asked for, so replies being read by
 * the thread doing an exchange never wake (or get stolen by) the monitor. */
static void *
monitor_main (void *arg)
{
  struct vhost_user *vu = arg;
  struct pollfd p[2] = { { .fd = vu->fd, .events = POLLRDHUP },
                         { .fd = vu->monitor_stop, .events = POLLIN } };
  char msg[320];

  for (;;)
    {
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return NULL;
        }
      if (p[1].revents != 0)
        return NULL;
      if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR))
        {
          snprintf (msg, sizeof (msg),
                    "vhost-user `%s`: back-end closed the connection", vu->name);
          report_dead (vu, msg);
          return NULL;
        }
    }
}

int
vhost_user_monitor_start (struct vhost_user *vu, hull_error_t *err)
{
  int r;

  if (vu->monitor_running)
    return 0;
  vu->monitor_stop = eventfd (0, EFD_CLOEXEC);
  if (vu->monitor_stop < 0)
    return hull_error (err, errno, "vhost-user `%s`: eventfd", vu->name);
  r = pthread_create (&vu->monitor, NULL, monitor_main, vu);
  if (r != 0)
    return hull_error (err, r, "vhost-user `%s`: monitor thread", vu->name);
  vu->monitor_running = true;
  return 0;
}

static int
send_all (struct vhost_user *vu, const struct vhost_user_hdr *hdr,
          const void *payload, const int *fds, unsigned nfds, hull_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * VHOST_USER_MAX_FDS)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov[2] = { { (void *) hdr, sizeof (*hdr) },
                          { (void *) payload, hdr->size } };
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->size ? 2 : 1 };
  size_t total = sizeof (*hdr) + hdr->size, sent = 0;
  ssize_t n;

  if (nfds > 0)
    {
      struct cmsghdr *c;
      memset (&ctl, 0, sizeof (ctl));
      mh.msg_control = ctl.buf;
      mh.msg_controllen = CMSG_SPACE (sizeof (int) * nfds);
      c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * nfds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * nfds);
    }
  while (sent < total)
    {
      n = sendmsg (vu->fd, &mh, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail_dead (vu, err, errno, "send %s",
                          vhost_user_request_name (hdr->request));
      sent += (size_t) n;
      /* The fds travel with the first byte; the rest goes without. */
      mh.msg_control = NULL;
      mh.msg_controllen = 0;
      while (mh.msg_iovlen > 0 && (size_t) n >= mh.msg_iov[0].iov_len)
        {
          n -= (ssize_t) mh.msg_iov[0].iov_len;
          mh.msg_iov++;
          mh.msg_iovlen--;
        }
      if (mh.msg_iovlen > 0)
        {
          mh.msg_iov[0].iov_base = (char *) mh.msg_iov[0].iov_base + n;
          mh.msg_iov[0].iov_len -= (size_t) n;
        }
    }
  return 0;
}

/* Closes fds a back-end passed along with a reply: none are expected. */
static void
drop_fds (struct msghdr *mh)
{
  struct cmsghdr *c;

  for (c = CMSG_FIRSTHDR (mh); c != NULL; c = CMSG_NXTHDR (mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        int fds[VHOST_USER_MAX_FDS];
        if (n > VHOST_USER_MAX_FDS)
          n = VHOST_USER_MAX_FDS;
        memcpy (fds, CMSG_DATA (c), n * sizeof (int));
        for (size_t i = 0; i < n; i++)
          close (fds[i]);
      }
}

/* Reads exactly len bytes before the deadline. */
static int
recv_exact (struct vhost_user *vu, void *buf, size_t len, int64_t deadline,
            uint32_t request, hull_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * VHOST_USER_MAX_FDS)];
    struct cmsghdr align;
  } ctl;
  size_t got = 0;

  while (got < len)
    {
      struct pollfd p = { .fd = vu->fd, .events = POLLIN };
      struct iovec iov = { (char *) buf + got, len - got };
      struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof (ctl.buf) };
      int64_t left = deadline - now_ms ();
      int r;
      ssize_t n;

      if (left < 0)
        left = 0;
      r = poll (&p, 1, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return fail_dead (vu, err, errno, "wait for %s reply",
                          vhost_user_request_name (request));
      if (r == 0)
        return fail_dead (vu, err, ETIMEDOUT, "no reply to %s within %d ms",
                          vhost_user_request_name (request), vu->timeout_ms);
      n = recvmsg (vu->fd, &mh, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail_dead (vu, err, errno, "read %s reply",
                          vhost_user_request_name (request));
      drop_fds (&mh);
      if (n == 0)
        return fail_dead (vu, err, ECONNRESET,
                          "back-end closed the connection during %s (%zu of "
                          "%zu reply bytes read)",
                          vhost_user_request_name (request), got, len);
      got += (size_t) n;
    }
  return 0;
}

int
vhost_user_msg_check_reply (const struct vhost_user_hdr *hdr, uint32_t request,
                            uint32_t expect_size, hull_error_t *err)
{
  const char *name = vhost_user_request_name (request);

  if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
    return hull_error (err, EPROTO, "%s reply has version %u, want %u", name,
                       hdr->flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
  if (!(hdr->flags & VHOST_USER_FLAG_REPLY))
    return hull_error (err, EPROTO, "%s reply lacks the reply flag", name);
  if (hdr->request != request)
    return hull_error (err, EPROTO, "%s answered with request %u (%s)", name,
                       hdr->request, vhost_user_request_name (hdr->request));
  if (hdr->size != expect_size)
    return hull_error (err, EPROTO, "%s reply payload is %u bytes, want %u",
                       name, hdr->size, expect_size);
  return 0;
}

/* Sends one request; when reply != NULL reads a reply of exactly
 * reply_size bytes.  Caller holds vu->lock. */
static int
exchange_locked (struct vhost_user *vu, uint32_t request, uint32_t flags,
                 const void *payload, uint32_t size, const int *fds,
                 unsigned nfds, void *reply, uint32_t reply_size,
                 hull_error_t *err)
{
  struct vhost_user_hdr hdr = { request, VHOST_USER_VERSION | flags, size };
  struct vhost_user_hdr rhdr;
  int64_t deadline;

  if (atomic_load (&vu->dead))
    return hull_error (err, ECONNRESET,
                       "vhost-user `%s`: %s: connection to the back-end is "
                       "lost",
                       vu->name, vhost_user_request_name (request));
  if (send_all (vu, &hdr, payload, fds, nfds, err) < 0)
    return -1;
  if (reply == NULL)
    return 0;
  deadline = now_ms () + vu->timeout_ms;
  if (recv_exact (vu, &rhdr, sizeof (rhdr), deadline, request, err) < 0)
    return -1;
  if (vhost_user_msg_check_reply (&rhdr, request, reply_size, err) < 0)
    {
      hull_error_prefix (err, "vhost-user `%s`", vu->name);
      atomic_store (&vu->dead, true); /* the stream is out of step now */
      return -1;
    }
  return recv_exact (vu, reply, reply_size, deadline, request, err);
}

int
vhost_user_exchange (struct vhost_user *vu, uint32_t request,
                     const void *payload, uint32_t size, const int *fds,
                     unsigned nfds, void *reply, uint32_t reply_size,
                     hull_error_t *err)
{
  uint64_t ack = 0;
  bool want_ack = reply == NULL
                  && (vu->protocol_features
                      & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
  int r;

  if (vu->fd < 0)
    return hull_error (err, ENOTCONN, "vhost-user: %s: not connected",
                       vhost_user_request_name (request));
  pthread_mutex_lock (&vu->lock);
  if (want_ack)
    r = exchange_locked (vu, request, VHOST_USER_FLAG_NEED_REPLY, payload,
                         size, fds, nfds, &ack, sizeof (ack), err);
  else
    r = exchange_locked (vu, request, 0, payload, size, fds, nfds, reply,
                         reply_size, err);
  pthread_mutex_unlock (&vu->lock);
  if (r < 0)
    {
      if (atomic_load (&vu->dead))
        report_dead (vu, hull_error_msg (err));
      return -1;
    }
  if (want_ack && ack != 0)
    return hull_error (err, EIO, "vhost-user `%s`: back-end rejected %s "
                       "(status %llu)", vu->name,
                       vhost_user_request_name (request),
                       (unsigned long long) ack);
  return 0;
}

/* ---- requests ---------------------------------------------------------- */

static int
get_u64 (struct vhost_user *vu, uint32_t request, uint64_t *val,
         hull_error_t *err)
{
  return vhost_user_exchange (vu, request, NULL, 0, NULL, 0, val,
                              sizeof (*val), err);
}

static int
set_u64 (struct vhost_user *vu, uint32_t request, uint64_t val,
         const int *fds, unsigned nfds, hull_error_t *err)
{
  return vhost_user_exchange (vu, request, &val, sizeof (val), fds, nfds, NULL,
                              0, err);
}

static int
set_state (struct vhost_user *vu, uint32_t request, uint32_t index,
           uint32_t num, hull_error_t *err)
{
  struct vhost_user_vring_state s = { index, num };
  return vhost_user_exchange (vu, request, &s, sizeof (s), NULL, 0, NULL, 0,
                              err);
}

int
vhost_user_get_features (struct vhost_user *vu, uint64_t *features,
                         hull_error_t *err)
{
  if (get_u64 (vu, VHOST_USER_GET_FEATURES, features, err) < 0)
    return -1;
  vu->backend_features = *features;
  return 0;
}

int
vhost_user_set_features (struct vhost_user *vu, uint64_t features,
                         hull_error_t *err)
{
  /* Keeping bit 30 in the acknowledged set is what makes rings start
   * disabled until SET_VRING_ENABLE, the behaviour the device relies on. */
  features |= vu->backend_features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
  if (features & ~vu->backend_features)
    return hull_error (err, EINVAL,
                       "vhost-user `%s`: SET_FEATURES %#llx includes bits the "
                       "back-end did not offer (%#llx)",
                       vu->name, (unsigned long long) features,
                       (unsigned long long) vu->backend_features);
  return set_u64 (vu, VHOST_USER_SET_FEATURES, features, NULL, 0, err);
}

int
vhost_user_get_protocol_features (struct vhost_user *vu, uint64_t *f,
                                  hull_error_t *err)
{
  if (!(vu->backend_features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
    return hull_error (err, ENOTSUP,
                       "vhost-user `%s`: back-end has no protocol features",
                       vu->name);
  return get_u64 (vu, VHOST_USER_GET_PROTOCOL_FEATURES, f, err);
}

int
vhost_user_set_protocol_features (struct vhost_user *vu, uint64_t f,
                                  hull_error_t *err)
{
  /* The set message itself goes without NEED_REPLY: REPLY_ACK is only in
   * force once the back-end has processed it. */
  vu->protocol_features = 0;
  if (set_u64 (vu, VHOST_USER_SET_PROTOCOL_FEATURES, f, NULL, 0, err) < 0)
    return -1;
  vu->protocol_features = f;
  return 0;
}

int
vhost_user_set_owner (struct vhost_user *vu, hull_error_t *err)
{
  if (vhost_user_exchange (vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0,
                           err)
      < 0)
    return -1;
  vu->owned = true;
  return 0;
}

int
vhost_user_handshake (struct vhost_user *vu, uint64_t wanted_protocol,
                      hull_error_t *err)
{
  uint64_t features, offered;

  if (vhost_user_get_features (vu, &features, err) < 0)
    return -1;
  if (features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
    {
      wanted_protocol |= 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
      if (vhost_user_get_protocol_features (vu, &offered, err) < 0
          || vhost_user_set_protocol_features (vu, offered & wanted_protocol,
                                               err)
                 < 0)
        return -1;
    }
  return vhost_user_set_owner (vu, err);
}

int
vhost_user_get_queue_num (struct vhost_user *vu, uint64_t *n,
                          hull_error_t *err)
{
  if (!(vu->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ)))
    return hull_error (err, ENOTSUP,
                       "vhost-user `%s`: GET_QUEUE_NUM needs the MQ protocol "
                       "feature",
                       vu->name);
  return get_u64 (vu, VHOST_USER_GET_QUEUE_NUM, n, err);
}

int
vhost_user_set_mem_table (struct vhost_user *vu, const struct guest_mem *m,
                          hull_error_t *err)
{
  struct vhost_user_mem_table t = { 0 };
  int fds[VHOST_USER_MAX_FDS];
  uint32_t size;

  if (m->memfd < 0)
    return hull_error (err, EINVAL,
                       "vhost-user `%s`: guest memory has no memfd to share",
                       vu->name);
  if (m->nregions == 0 || m->nregions > VHOST_USER_MAX_REGIONS)
    return hull_error (err, EINVAL, "vhost-user `%s`: %u memory regions",
                       vu->name, m->nregions);
  t.nregions = m->nregions;
  for (unsigned i = 0; i < m->nregions; i++)
    {
      t.regions[i].guest_phys_addr = m->regions[i].gpa;
      t.regions[i].memory_size = m->regions[i].size;
      t.regions[i].userspace_addr = (uint64_t) (uintptr_t) m->regions[i].host;
      t.regions[i].mmap_offset = m->regions[i].fd_offset;
      fds[i] = m->memfd; /* one fd per region, all the same memfd */
    }
  /* Only the used regions go on the wire. */
  size = (uint32_t) (8 + m->nregions * sizeof (struct vhost_user_region));
  return vhost_user_exchange (vu, VHOST_USER_SET_MEM_TABLE, &t, size, fds,
                              m->nregions, NULL, 0, err);
}

int
vhost_user_set_vring_num (struct vhost_user *vu, uint32_t index, uint32_t num,
                          hull_error_t *err)
{
  return set_state (vu, VHOST_USER_SET_VRING_NUM, index, num, err);
}

int
vhost_user_set_vring_addr (struct vhost_user *vu, uint32_t index,
                           uint64_t desc, uint64_t avail, uint64_t used,
                           hull_error_t *err)
{
  struct vhost_user_vring_addr a = {
    .index = index, .flags = 0, .desc = desc, .used = used, .avail = avail,
    .log = 0,
  };
  return vhost_user_exchange (vu, VHOST_USER_SET_VRING_ADDR, &a, sizeof (a),
                              NULL, 0, NULL, 0, err);
}

int
vhost_user_set_vring_base (struct vhost_user *vu, uint32_t index,
                           uint32_t base, hull_error_t *err)
{
  return set_state (vu, VHOST_USER_SET_VRING_BASE, index, base, err);
}

int
vhost_user_get_vring_base (struct vhost_user *vu, uint32_t index,
                           uint32_t *base, hull_error_t *err)
{
  struct vhost_user_vring_state s = { index, 0 }, r = { 0, 0 };

  if (vhost_user_exchange (vu, VHOST_USER_GET_VRING_BASE, &s, sizeof (s),
                           NULL, 0, &r, sizeof (r), err)
      < 0)
    return -1;
  if (r.index != index)
    return hull_error (err, EPROTO,
                       "vhost-user `%s`: GET_VRING_BASE for ring %u answered "
                       "for ring %u",
                       vu->name, index, r.index);
  *base = r.num;
  return 0;
}

static int
set_vring_fd (struct vhost_user *vu, uint32_t request, uint32_t index, int fd,
              hull_error_t *err)
{
  uint64_t v = index & VHOST_USER_VRING_IDX_MASK;

  if (index > VHOST_USER_VRING_IDX_MASK)
    return hull_error (err, EINVAL, "vhost-user `%s`: ring index %u too big",
                       vu->name, index);
  if (fd < 0)
    return set_u64 (vu, request, v | VHOST_USER_VRING_NOFD, NULL, 0, err);
  return set_u64 (vu, request, v, &fd, 1, err);
}

int
vhost_user_set_vring_kick (struct vhost_user *vu, uint32_t index, int fd,
                           hull_error_t *err)
{
  return set_vring_fd (vu, VHOST_USER_SET_VRING_KICK, index, fd, err);
}

int
vhost_user_set_vring_call (struct vhost_user *vu, uint32_t index, int fd,
                           hull_error_t *err)
{
  return set_vring_fd (vu, VHOST_USER_SET_VRING_CALL, index, fd, err);
}

int
vhost_user_set_vring_enable (struct vhost_user *vu, uint32_t index,
                             bool enable, hull_error_t *err)
{
  if (!(vu->backend_features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
    return 0;
  return set_state (vu, VHOST_USER_SET_VRING_ENABLE, index, enable ? 1 : 0,
                    err);
}
