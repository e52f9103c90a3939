/* vhost-user front-end against a fake back-end on a socketpair.  Replies
 * are queued in the socket before the call that reads them, so each test
 * runs in one thread and is deterministic. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "vmm/guest_mem.h"
#include "vmm/vhost_user.h"

#define F_VERSION_1 (1ull << 32)
#define F_PROTO (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define PF(b) (1ull << VHOST_USER_PROTOCOL_F_##b)

struct fake
{
  struct vhost_user vu;
  int be; /* back-end end of the socketpair */
};

static void
fake_init (struct fake *f, int timeout_ms)
{
  int sv[2];
  hull_error_t err = NULL;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_eq (vhost_user_init_fd (&f->vu, sv[0], "fake.sock", timeout_ms,
                                    &err),
                0, "%s", hull_error_msg (&err));
  f->be = sv[1];
}

static void
fake_fini (struct fake *f)
{
  vhost_user_close (&f->vu);
  if (f->be >= 0)
    close (f->be);
}

static void
be_reply (struct fake *f, uint32_t request, uint32_t flags, const void *p,
          uint32_t size)
{
  struct vhost_user_hdr h = { request, flags, size };
  cr_assert_eq (write (f->be, &h, sizeof (h)), (ssize_t) sizeof (h));
  if (size > 0)
    cr_assert_eq (write (f->be, p, size), (ssize_t) size);
}

static void
be_reply_u64 (struct fake *f, uint32_t request, uint64_t v)
{
  be_reply (f, request, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &v,
            sizeof (v));
}

/* Reads one request: header, payload (at most cap bytes) and fds. */
static void
be_read (struct fake *f, struct vhost_user_hdr *h, void *payload, size_t cap,
         int *fds, unsigned *nfds)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * VHOST_USER_MAX_FDS)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { h, sizeof (*h) };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof (ctl.buf) };
  struct cmsghdr *c;
  unsigned n = 0;

  cr_assert_eq (recvmsg (f->be, &mh, MSG_CMSG_CLOEXEC), (ssize_t) sizeof (*h));
  for (c = CMSG_FIRSTHDR (&mh); c != NULL; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_type == SCM_RIGHTS)
      {
        n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        cr_assert_not_null (fds, "request carried unexpected fds");
        memcpy (fds, CMSG_DATA (c), n * sizeof (int));
      }
  if (nfds != NULL)
    *nfds = n;
  cr_assert_leq (h->size, cap, "payload %u bytes", h->size);
  if (h->size > 0)
    cr_assert_eq (read (f->be, payload, h->size), (ssize_t) h->size);
}

static void
be_expect (struct fake *f, uint32_t request, uint32_t flags, void *payload,
           uint32_t size)
{
  struct vhost_user_hdr h;
  uint8_t buf[512];

  be_read (f, &h, buf, sizeof (buf), NULL, NULL);
  cr_assert_eq (h.request, request, "got %s, want %s",
                vhost_user_request_name (h.request),
                vhost_user_request_name (request));
  cr_assert_eq (h.flags, flags, "%s flags %#x", vhost_user_request_name (request),
                h.flags);
  cr_assert_eq (h.size, size, "%s size %u", vhost_user_request_name (request),
                h.size);
  if (payload != NULL)
    memcpy (payload, buf, size);
}

static bool
be_empty (struct fake *f)
{
  struct pollfd p = { .fd = f->be, .events = POLLIN };
  return poll (&p, 1, 0) == 0;
}

Test (vhost_user, handshake_negotiates_protocol_features)
{
  struct fake f;
  hull_error_t err = NULL;
  uint64_t v = 0;

  fake_init (&f, 1000);
  be_reply_u64 (&f, VHOST_USER_GET_FEATURES,
                F_VERSION_1 | F_PROTO | (1ull << VHOST_F_LOG_ALL));
  be_reply_u64 (&f, VHOST_USER_GET_PROTOCOL_FEATURES,
                PF (MQ) | PF (REPLY_ACK) | PF (CONFIG));
  be_reply_u64 (&f, VHOST_USER_SET_OWNER, 0); /* the REPLY_ACK status */
  cr_assert_eq (vhost_user_handshake (&f.vu, PF (MQ), &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (f.vu.protocol_features, PF (MQ) | PF (REPLY_ACK));

  be_expect (&f, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, NULL, 0);
  be_expect (&f, VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_VERSION, NULL, 0);
  be_expect (&f, VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_VERSION, &v, 8);
  cr_assert_eq (v, PF (MQ) | PF (REPLY_ACK), "CONFIG was not asked for");
  be_expect (&f, VHOST_USER_SET_OWNER,
             VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, NULL, 0);
  cr_assert (be_empty (&f));

  /* MQ negotiated: GET_QUEUE_NUM is allowed and answered. */
  be_reply_u64 (&f, VHOST_USER_GET_QUEUE_NUM, 3);
  cr_assert_eq (vhost_user_get_queue_num (&f.vu, &v, &err), 0);
  cr_assert_eq (v, 3);
  be_expect (&f, VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION, NULL, 0);
  fake_fini (&f);
}

Test (vhost_user, handshake_without_protocol_features)
{
  struct fake f;
  hull_error_t err = NULL;
  uint64_t v;

  fake_init (&f, 1000);
  be_reply_u64 (&f, VHOST_USER_GET_FEATURES, F_VERSION_1);
  cr_assert_eq (vhost_user_handshake (&f.vu, PF (MQ), &err), 0, "%s",
                hull_error_msg (&err));
  be_expect (&f, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, NULL, 0);
  /* No REPLY_ACK: SET_OWNER goes without need_reply. */
  be_expect (&f, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, NULL, 0);
  cr_assert_eq (f.vu.protocol_features, 0);
  /* Rings start enabled without bit 30: SET_VRING_ENABLE is not sent. */
  cr_assert_eq (vhost_user_set_vring_enable (&f.vu, 0, true, &err), 0);
  cr_assert (be_empty (&f));
  cr_assert_lt (vhost_user_get_queue_num (&f.vu, &v, &err), 0);
  cr_assert_eq (err->status, ENOTSUP);
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, set_features_adds_bit30_and_rejects_unoffered)
{
  struct fake f;
  hull_error_t err = NULL;
  uint64_t v = 0;

  fake_init (&f, 1000);
  f.vu.backend_features = F_VERSION_1 | F_PROTO;
  cr_assert_eq (vhost_user_set_features (&f.vu, F_VERSION_1, &err), 0);
  be_expect (&f, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, &v, 8);
  cr_assert_eq (v, F_VERSION_1 | F_PROTO);
  cr_assert_lt (vhost_user_set_features (&f.vu, F_VERSION_1 | 1, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "did not offer") != NULL);
  cr_assert (be_empty (&f));
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, mem_table_layout_and_fds)
{
  struct fake f;
  hull_error_t err = NULL;
  struct guest_mem m = { 0 };
  struct vhost_user_mem_table t;
  struct vhost_user_hdr h;
  int fds[VHOST_USER_MAX_FDS];
  unsigned nfds = 0;
  struct stat want, got;
  uint8_t *map;

  fake_init (&f, 1000);
  m.memfd = memfd_create ("t", MFD_CLOEXEC);
  cr_assert_geq (m.memfd, 0);
  cr_assert_eq (ftruncate (m.memfd, 8192), 0);
  map = mmap (NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, m.memfd, 0);
  cr_assert_neq (map, MAP_FAILED);
  m.nregions = 2;
  m.regions[0] = (struct guest_region){ 0, 4096, map, 0 };
  m.regions[1] = (struct guest_region){ 0x100000000ull, 4096, map + 4096, 4096 };
  cr_assert_eq (vhost_user_set_mem_table (&f.vu, &m, &err), 0, "%s",
                hull_error_msg (&err));

  be_read (&f, &h, &t, sizeof (t), fds, &nfds);
  cr_assert_eq (h.request, VHOST_USER_SET_MEM_TABLE);
  cr_assert_eq (h.flags, VHOST_USER_VERSION);
  cr_assert_eq (h.size, 8 + 2 * 32);
  cr_assert_eq (t.nregions, 2);
  cr_assert_eq (t.regions[1].guest_phys_addr, 0x100000000ull);
  cr_assert_eq (t.regions[1].memory_size, 4096);
  cr_assert_eq (t.regions[1].userspace_addr, (uint64_t) (uintptr_t) (map + 4096));
  cr_assert_eq (t.regions[1].mmap_offset, 4096);
  cr_assert_eq (t.regions[0].userspace_addr, (uint64_t) (uintptr_t) map);
  cr_assert_eq (nfds, 2, "one fd per region");
  cr_assert_eq (fstat (m.memfd, &want), 0);
  for (unsigned i = 0; i < nfds; i++)
    {
      cr_assert_eq (fstat (fds[i], &got), 0);
      cr_assert_eq (got.st_ino, want.st_ino, "region %u fd is not the memfd", i);
      close (fds[i]);
    }
  munmap (map, 8192);
  close (m.memfd);
  fake_fini (&f);
}

Test (vhost_user, mem_table_needs_a_memfd)
{
  struct fake f;
  hull_error_t err = NULL;
  struct guest_mem m;
  static uint8_t ram[4096];

  fake_init (&f, 1000);
  guest_mem_init_fake (&m, ram, sizeof (ram));
  cr_assert_lt (vhost_user_set_mem_table (&f.vu, &m, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "memfd") != NULL);
  cr_assert (be_empty (&f));
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, vring_messages)
{
  struct fake f;
  hull_error_t err = NULL;
  struct vhost_user_vring_addr a;
  struct vhost_user_vring_state s;
  struct vhost_user_hdr h;
  int fds[VHOST_USER_MAX_FDS], efd;
  unsigned nfds;
  uint64_t v;
  uint32_t base = 0;

  fake_init (&f, 1000);
  f.vu.backend_features = F_PROTO;
  cr_assert_eq (vhost_user_set_vring_num (&f.vu, 1, 128, &err), 0);
  be_expect (&f, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, &s, 8);
  cr_assert (s.index == 1 && s.num == 128);

  cr_assert_eq (vhost_user_set_vring_addr (&f.vu, 1, 0x1000, 0x2000, 0x3000,
                                           &err),
                0);
  be_expect (&f, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, &a, 40);
  cr_assert_eq (a.index, 1);
  cr_assert_eq (a.desc, 0x1000);
  cr_assert_eq (a.avail, 0x2000);
  cr_assert_eq (a.used, 0x3000);
  cr_assert_eq (a.log, 0);
  /* On the wire: desc, used, avail, in that order. */
  cr_assert_eq (*(uint64_t *) ((uint8_t *) &a + 16), 0x3000);

  efd = memfd_create ("kick", MFD_CLOEXEC);
  cr_assert_eq (vhost_user_set_vring_kick (&f.vu, 1, efd, &err), 0);
  be_read (&f, &h, &v, 8, fds, &nfds);
  cr_assert (h.request == VHOST_USER_SET_VRING_KICK && v == 1 && nfds == 1);
  close (fds[0]);
  cr_assert_eq (vhost_user_set_vring_call (&f.vu, 2, -1, &err), 0);
  be_read (&f, &h, &v, 8, fds, &nfds);
  cr_assert (h.request == VHOST_USER_SET_VRING_CALL);
  cr_assert_eq (v, 2 | VHOST_USER_VRING_NOFD);
  cr_assert_eq (nfds, 0);
  cr_assert_lt (vhost_user_set_vring_kick (&f.vu, 256, efd, &err), 0);
  hull_error_free (&err);
  close (efd);

  cr_assert_eq (vhost_user_set_vring_enable (&f.vu, 1, true, &err), 0);
  be_expect (&f, VHOST_USER_SET_VRING_ENABLE, VHOST_USER_VERSION, &s, 8);
  cr_assert (s.index == 1 && s.num == 1);

  s = (struct vhost_user_vring_state){ 1, 77 };
  be_reply (&f, VHOST_USER_GET_VRING_BASE,
            VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &s, 8);
  cr_assert_eq (vhost_user_get_vring_base (&f.vu, 1, &base, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (base, 77);
  be_expect (&f, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, &s, 8);
  cr_assert_eq (s.index, 1);

  s = (struct vhost_user_vring_state){ 0, 5 };
  be_reply (&f, VHOST_USER_GET_VRING_BASE,
            VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, &s, 8);
  cr_assert_lt (vhost_user_get_vring_base (&f.vu, 1, &base, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "ring 0") != NULL);
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, reply_ack_failure_is_reported)
{
  struct fake f;
  hull_error_t err = NULL;

  fake_init (&f, 1000);
  f.vu.backend_features = F_PROTO;
  f.vu.protocol_features = PF (REPLY_ACK);
  be_reply_u64 (&f, VHOST_USER_SET_VRING_NUM, 1);
  cr_assert_lt (vhost_user_set_vring_num (&f.vu, 0, 1024, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "rejected SET_VRING_NUM") != NULL,
             "%s", hull_error_msg (&err));
  hull_error_free (&err);
  /* A refusal is not a broken stream: the next request still works. */
  cr_assert_not (vhost_user_is_dead (&f.vu));
  be_reply_u64 (&f, VHOST_USER_SET_VRING_NUM, 0);
  cr_assert_eq (vhost_user_set_vring_num (&f.vu, 0, 256, &err), 0);
  fake_fini (&f);
}

static void
count_error (void *opaque, const char *msg)
{
  atomic_int *n = opaque;
  (void) msg;
  atomic_fetch_add (n, 1);
}

/* Queues a bad GET_FEATURES reply and checks it is refused, the client
 * goes dead, the callback runs once, and later calls fail at once. */
static void
check_bad_reply (uint32_t request, uint32_t flags, const void *p,
                 uint32_t size, bool close_after, const char *want)
{
  struct fake f;
  hull_error_t err = NULL;
  atomic_int calls = 0;
  uint64_t v;

  fake_init (&f, 300);
  vhost_user_set_error_cb (&f.vu, count_error, &calls);
  be_reply (&f, request, flags, p, size);
  if (close_after) /* EOF for the reader; our request still goes out */
    cr_assert_eq (shutdown (f.be, SHUT_WR), 0);
  cr_assert_lt (vhost_user_get_features (&f.vu, &v, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), want) != NULL, "`%s` lacks `%s`",
             hull_error_msg (&err), want);
  cr_assert (strstr (hull_error_msg (&err), "fake.sock") != NULL);
  hull_error_free (&err);
  cr_assert (vhost_user_is_dead (&f.vu));
  cr_assert_eq (atomic_load (&calls), 1);
  cr_assert_lt (vhost_user_get_features (&f.vu, &v, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "lost") != NULL);
  cr_assert_eq (atomic_load (&calls), 1, "reported once only");
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, malformed_replies_rejected)
{
  const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
  uint64_t v = 1;
  uint32_t small = 1;

  check_bad_reply (VHOST_USER_GET_PROTOCOL_FEATURES, ok, &v, 8, false,
                   "answered with request 15");
  check_bad_reply (VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, &v, 8, false,
                   "lacks the reply flag");
  check_bad_reply (VHOST_USER_GET_FEATURES, 0x2 | VHOST_USER_FLAG_REPLY, &v, 8,
                   false, "version 2");
  check_bad_reply (VHOST_USER_GET_FEATURES, ok, &small, 4, false,
                   "payload is 4 bytes, want 8");
  /* A header alone (size 0 is wrong for GET_FEATURES anyway). */
  check_bad_reply (VHOST_USER_GET_FEATURES, ok, NULL, 0, true,
                   "payload is 0 bytes");
}

Test (vhost_user, hangup_before_reply)
{
  struct fake f;
  hull_error_t err = NULL;
  uint64_t v;

  fake_init (&f, 1000);
  cr_assert_eq (shutdown (f.be, SHUT_WR), 0);
  cr_assert_lt (vhost_user_get_features (&f.vu, &v, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "closed the connection during "
                                            "GET_FEATURES (0 of 12")
                 != NULL,
             "%s", hull_error_msg (&err));
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, short_payload_then_hangup)
{
  struct fake f;
  hull_error_t err = NULL;
  struct vhost_user_hdr h = { VHOST_USER_GET_FEATURES,
                              VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 8 };
  uint32_t half = 7;
  uint64_t v;

  fake_init (&f, 1000);
  cr_assert_eq (write (f.be, &h, sizeof (h)), (ssize_t) sizeof (h));
  cr_assert_eq (write (f.be, &half, sizeof (half)), 4);
  cr_assert_eq (shutdown (f.be, SHUT_WR), 0);
  cr_assert_lt (vhost_user_get_features (&f.vu, &v, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "4 of 8 reply bytes") != NULL, "%s",
             hull_error_msg (&err));
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, silent_backend_times_out)
{
  struct fake f;
  hull_error_t err = NULL;
  struct timespec a, b;
  uint64_t v;
  long ms;

  fake_init (&f, 150);
  clock_gettime (CLOCK_MONOTONIC, &a);
  cr_assert_lt (vhost_user_get_features (&f.vu, &v, &err), 0);
  clock_gettime (CLOCK_MONOTONIC, &b);
  ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  cr_assert_eq (err->status, ETIMEDOUT);
  cr_assert (ms >= 140 && ms < 2000, "took %ld ms", ms);
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, send_to_closed_backend_fails_without_sigpipe)
{
  struct fake f;
  hull_error_t err = NULL;
  atomic_int calls = 0;

  fake_init (&f, 500);
  vhost_user_set_error_cb (&f.vu, count_error, &calls);
  close (f.be);
  f.be = -1;
  cr_assert_lt (vhost_user_set_vring_num (&f.vu, 0, 8, &err), 0);
  cr_assert_eq (err->status, EPIPE, "%s", hull_error_msg (&err));
  cr_assert_eq (atomic_load (&calls), 1);
  hull_error_free (&err);
  fake_fini (&f);
}

Test (vhost_user, monitor_reports_hangup)
{
  struct fake f;
  hull_error_t err = NULL;
  atomic_int calls = 0;

  fake_init (&f, 500);
  vhost_user_set_error_cb (&f.vu, count_error, &calls);
  cr_assert_eq (vhost_user_monitor_start (&f.vu, &err), 0);
  /* Queued reply data alone must not look like a hang-up. */
  be_reply_u64 (&f, VHOST_USER_GET_FEATURES, F_VERSION_1);
  usleep (50 * 1000);
  cr_assert_eq (atomic_load (&calls), 0);
  close (f.be);
  f.be = -1;
  for (int i = 0; i < 200 && atomic_load (&calls) == 0; i++)
    usleep (5 * 1000);
  cr_assert_eq (atomic_load (&calls), 1);
  cr_assert (vhost_user_is_dead (&f.vu));
  fake_fini (&f);
}

Test (vhost_user, connect_times_out_naming_the_socket)
{
  struct vhost_user vu;
  hull_error_t err = NULL;

  cr_assert_lt (vhost_user_connect (&vu, "/nonexistent/hull-vu.sock", 100,
                                    &err),
                0);
  cr_assert (strstr (hull_error_msg (&err), "/nonexistent/hull-vu.sock") != NULL);
  cr_assert_eq (err->status, ETIMEDOUT);
  hull_error_free (&err);
  vhost_user_close (&vu);
}

Test (vhost_user, connect_to_listener)
{
  char dir[] = "/tmp/hull-vu-XXXXXX", path[64];
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct vhost_user vu;
  hull_error_t err = NULL;
  int l, c;

  cr_assert_not_null (mkdtemp (dir));
  snprintf (path, sizeof (path), "%s/s", dir);
  strcpy (sa.sun_path, path);
  l = socket (AF_UNIX, SOCK_STREAM, 0);
  cr_assert_eq (bind (l, (struct sockaddr *) &sa, sizeof (sa)), 0);
  cr_assert_eq (listen (l, 1), 0);
  cr_assert_eq (vhost_user_connect (&vu, path, 1000, &err), 0, "%s",
                hull_error_msg (&err));
  c = accept (l, NULL, NULL);
  cr_assert_geq (c, 0);
  close (c);
  close (l);
  vhost_user_close (&vu);
  unlink (path);
  rmdir (dir);
}
