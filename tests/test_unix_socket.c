/* Unix sockets in state directories longer than sun_path (Docker's runtime
 * root gives 98 bytes, Kubernetes' 92; "<dir>/virtiofs-0.sock" overflowed
 * the 107 bytes and every container failed with ENAMETOOLONG). */
#include <sys/socket.h>

#include "runtime/unix_socket.h"
#include "tests/virtiofs_fixture.h"
#include "tests/watchdog.h"

/* A fresh directory whose path is about 150 bytes long. */
static void
long_dir (char *out, size_t size, char *top, size_t topsize)
{
  snprintf (top, topsize, "/tmp/hull-longsock-XXXXXX");
  cr_assert_not_null (mkdtemp (top));
  snprintf (out, size, "%s/%0120d", top, 0);
  cr_assert_eq (mkdir (out, 0755), 0, "mkdir %s: %m", out);
  cr_assert_gt (strlen (out), 140);
}

static void
rm_rf (const char *top)
{
  char cmd[256];
  snprintf (cmd, sizeof (cmd), "rm -rf '%s'", top);
  cr_assert_eq (system (cmd), 0);
}

Test (unix_socket, listen_connect_beyond_sun_path)
{
  test_watchdog (10);
  char top[64], dir[256], path[300];
  hull_error_t err = NULL;
  struct stat st;
  char c = 0;
  int l, s, a;

  long_dir (dir, sizeof (dir), top, sizeof (top));
  snprintf (path, sizeof (path), "%s/sock", dir);
  cr_assert_gt (strlen (path), sizeof (((struct sockaddr_un *) 0)->sun_path));
  l = unix_socket_listen (path, SOCK_STREAM | SOCK_CLOEXEC, 4, &err);
  cr_assert_geq (l, 0, "%s", hull_error_msg (&err));
  /* The socket is at the real path, not at some alias. */
  cr_assert_eq (stat (path, &st), 0);
  cr_assert (S_ISSOCK (st.st_mode));
  s = unix_socket_connect (path, SOCK_STREAM | SOCK_CLOEXEC, &err);
  cr_assert_geq (s, 0, "%s", hull_error_msg (&err));
  a = accept (l, NULL, NULL);
  cr_assert_geq (a, 0);
  cr_assert_eq (write (s, "x", 1), 1);
  cr_assert_eq (read (a, &c, 1), 1);
  cr_assert_eq (c, 'x');
  close (a);
  close (s);
  close (l);
  /* A missing socket is ENOENT, as callers expect for "not running". */
  cr_assert_eq (unlink (path), 0);
  cr_assert_lt (unix_socket_connect (path, SOCK_STREAM, &err), 0);
  cr_assert_eq (err->status, ENOENT);
  hull_error_free (&err);
  rm_rf (top);
}

Test (unix_socket, short_path_used_as_is)
{
  struct unix_addr a;
  hull_error_t err = NULL;

  cr_assert_eq (unix_addr_make (&a, "/run/x/sock", 0, &err), 0);
  cr_assert_str_eq (a.sa.sun_path, "/run/x/sock");
  cr_assert_eq (a.dir_fd, -1);
  unix_addr_release (&a);
  cr_assert_lt (unix_addr_make (&a, "/nonexistent-hull-dir/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/sock", 0, &err), 0);
  cr_assert_eq (err->status, ENOENT);
  cr_assert (strstr (hull_error_msg (&err), "/nonexistent-hull-dir") != NULL);
  hull_error_free (&err);
}

/* The real virtiofsd binds its socket in a ~150-byte state dir and the
 * vhost-user front-end connects and handshakes; stop removes it.  Also in
 * the read-only mode, where virtiofsd runs in its own mount namespace. */
static void
virtiofsd_in_long_dir (bool readonly, const char *sandbox)
{
  char top[64], dir[256], src[300], sock[300];
  struct virtiofsd d;
  struct vhost_user vu;
  hull_error_t err = NULL;
  char *p = NULL;

  long_dir (dir, sizeof (dir), top, sizeof (top));
  snprintf (src, sizeof (src), "%s/src", dir);
  cr_assert_eq (mkdir (src, 0755), 0);
  cr_assert_eq (virtiofsd_socket_path (&p, dir, 0, &err), 0, "%s",
                hull_error_msg (&err));
  snprintf (sock, sizeof (sock), "%s", p);
  free (p);
  struct virtiofsd_config cfg = { .source = src, .socket_path = sock,
                                  .readonly = readonly, .sandbox = sandbox };
  cr_assert_eq (virtiofsd_start (&d, &cfg, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert (path_exists (sock));
  cr_assert_eq (vhost_user_connect (&vu, sock, 2000, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (vhost_user_handshake (&vu, 0, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert (vu.backend_features & F_VERSION_1);
  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  cr_assert_not (path_exists (sock));
  rm_rf (top);
}

Test (unix_socket, real_virtiofsd_in_long_state_dir)
{
  test_watchdog (30);
  virtiofsd_in_long_dir (false, NULL);
  virtiofsd_in_long_dir (true, "namespace");
}
