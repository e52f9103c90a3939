/* Shared by the host-lane virtiofsd tests (test_virtiofsd.c) and the
 * virtio-fs device tests (test_virtio_fs.c): temp dirs, process checks, and
 * a minimal split-ring driver that sends FUSE_INIT through guest RAM. */
#ifndef HULL_TESTS_VIRTIOFS_FIXTURE_H
#define HULL_TESTS_VIRTIOFS_FIXTURE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/virtiofsd.h"
#include "vmm/guest_mem.h"
#include "vmm/vhost_user.h"
#include "vmm/virtio_fs.h"

#define F_VERSION_1 (1ull << 32)

struct env
{
  char dir[64], src[96], sock[96];
};

static inline void
env_init (struct env *e)
{
  strcpy (e->dir, "/tmp/hull-vfsd-XXXXXX");
  cr_assert_not_null (mkdtemp (e->dir));
  snprintf (e->src, sizeof (e->src), "%s/src", e->dir);
  snprintf (e->sock, sizeof (e->sock), "%s/vfs.sock", e->dir);
  cr_assert_eq (mkdir (e->src, 0755), 0);
}

static inline void
env_fini (struct env *e)
{
  char cmd[128];
  snprintf (cmd, sizeof (cmd), "rm -rf '%s'", e->dir);
  cr_assert_eq (system (cmd), 0);
}

static inline bool
path_exists (const char *p)
{
  struct stat st;
  return lstat (p, &st) == 0;
}

/* Gone, or a zombie nobody reaps (PID 1 here may not reap orphans). */
static inline bool
process_gone (pid_t pid)
{
  char path[64], buf[256], *p;
  FILE *f;
  bool zombie = false;

  snprintf (path, sizeof (path), "/proc/%d/stat", pid);
  f = fopen (path, "r");
  if (f == NULL)
    return true;
  if (fgets (buf, sizeof (buf), f) != NULL && (p = strrchr (buf, ')')) != NULL)
    zombie = p[2] == 'Z' || p[2] == 'X';
  fclose (f);
  return zombie;
}

/* Live processes whose command line mentions needle (virtiofsd's own
 * children included, e.g. the sandbox=namespace one). */
static inline int
procs_with (const char *needle)
{
  DIR *dir = opendir ("/proc");
  struct dirent *de;
  int n = 0;

  cr_assert_not_null (dir);
  while ((de = readdir (dir)) != NULL)
    {
      char path[300], buf[4096];
      ssize_t len;
      int fd;

      if (de->d_name[0] < '0' || de->d_name[0] > '9')
        continue;
      snprintf (path, sizeof (path), "/proc/%s/cmdline", de->d_name);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      len = read (fd, buf, sizeof (buf) - 1);
      close (fd);
      if (len <= 0)
        continue;
      for (ssize_t i = 0; i < len; i++)
        if (buf[i] == '\0')
          buf[i] = ' ';
      buf[len] = '\0';
      if (strstr (buf, needle) != NULL)
        n++;
    }
  closedir (dir);
  return n;
}

static inline void
start_ok (struct virtiofsd *d, struct env *e)
{
  struct virtiofsd_config cfg = { .source = e->src, .socket_path = e->sock };
  hull_error_t err = NULL;

  cr_assert_eq (virtiofsd_start (d, &cfg, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_gt (d->pid, 0);
  cr_assert (path_exists (e->sock));
}

/* ---- a minimal split-ring driver on guest RAM ---- */

struct ring
{
  struct guest_mem *m;
  uint64_t desc, avail, used, buf; /* gpas */
  uint16_t num;
};

#define RING_DESC_F_NEXT 1
#define RING_DESC_F_WRITE 2

static inline void
ring_desc (struct ring *r, uint16_t i, uint64_t gpa, uint32_t len,
           uint16_t flags, uint16_t next)
{
  uint8_t *d = guest_mem_ptr (r->m, r->desc + 16ull * i, 16);
  memcpy (d, &gpa, 8);
  memcpy (d + 8, &len, 4);
  memcpy (d + 12, &flags, 2);
  memcpy (d + 14, &next, 2);
}

/* Puts one FUSE request (header + arg) on the ring, descriptors 0 and 1
 * (one request in flight at a time), and makes it available; the caller
 * kicks. */
static inline void
fuse_post (struct ring *r, uint32_t opcode, uint64_t nodeid, uint64_t unique,
           const void *arg, uint32_t arglen)
{
  struct fuse_in_header ih = { .len = sizeof (ih) + arglen, .opcode = opcode,
                               .unique = unique, .nodeid = nodeid };
  uint8_t *in = guest_mem_ptr (r->m, r->buf, 4096);
  uint16_t *avail = guest_mem_ptr (r->m, r->avail, 6 + 2ull * r->num);
  uint16_t idx = avail[1];

  cr_assert_leq (ih.len, 4096);
  memset (guest_mem_ptr (r->m, r->buf + 4096, 4096), 0, 4096);
  memcpy (in, &ih, sizeof (ih));
  memcpy (in + sizeof (ih), arg, arglen);
  ring_desc (r, 0, r->buf, ih.len, RING_DESC_F_NEXT, 1);
  ring_desc (r, 1, r->buf + 4096, 4096, RING_DESC_F_WRITE, 0);
  avail[2 + idx % r->num] = 0; /* head 0 */
  __atomic_store_n (&avail[1], (uint16_t) (idx + 1), __ATOMIC_RELEASE);
}

static inline void
fuse_init_post (struct ring *r)
{
  struct fuse_init_in ii = { .major = FUSE_KERNEL_VERSION,
                             .minor = FUSE_KERNEL_MINOR_VERSION,
                             .max_readahead = 65536 };
  fuse_post (r, FUSE_INIT, 0, 42, &ii, sizeof (ii));
}

/* The error field of the last answer (0 or -errno). */
static inline int32_t
fuse_out_error (struct ring *r)
{
  struct fuse_out_header oh;
  memcpy (&oh, guest_mem_ptr (r->m, r->buf + 4096, sizeof (oh)), sizeof (oh));
  return oh.error;
}

static inline uint16_t
ring_used_idx (struct ring *r)
{
  uint16_t *used = guest_mem_ptr (r->m, r->used, 6 + 8ull * r->num);
  return __atomic_load_n (&used[1], __ATOMIC_ACQUIRE);
}

/* The used entry for our request and virtiofsd's FUSE_INIT answer. */
static inline void
fuse_init_check (struct ring *r, uint16_t want_used)
{
  uint16_t *used = guest_mem_ptr (r->m, r->used, 6 + 8ull * r->num);
  uint8_t *out = guest_mem_ptr (r->m, r->buf + 4096, 4096);
  unsigned slot = (want_used - 1) % r->num;
  struct fuse_out_header oh;
  struct fuse_init_out io;
  uint32_t id, len;

  cr_assert_eq (ring_used_idx (r), want_used, "used.idx %u", ring_used_idx (r));
  memcpy (&id, &used[2 + 4 * slot], 4);
  memcpy (&len, &used[4 + 4 * slot], 4);
  cr_assert_eq (id, 0);
  cr_assert_geq (len, sizeof (oh) + FUSE_COMPAT_22_INIT_OUT_SIZE);
  memcpy (&oh, out, sizeof (oh));
  memcpy (&io, out + sizeof (oh), sizeof (io));
  cr_assert_eq (oh.unique, 42);
  cr_assert_eq (oh.error, 0, "FUSE_INIT failed: %d", oh.error);
  cr_assert_eq (io.major, FUSE_KERNEL_VERSION);
}

#endif
