/* Pods on the host (runtime/pod_host.c): finding a member's sandbox in a
 * state root, the namespaces a member may name, and the share: a shared
 * mount whose binds, made later, propagate into a namespace that holds a
 * slave copy of it (what virtiofsd's sandbox=namespace does), read-only
 * ones included; unbinding and removing leave nothing.  The mount tests
 * need root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/pod.h"
#include "runtime/state.h"

static char *
fails_msg (hull_error_t *err)
{
  static char msg[1024];
  snprintf (msg, sizeof msg, "%s", hull_error_msg (err));
  hull_error_free (err);
  return msg;
}

static void
write_record (const char *root, const char *id, char **ann, pid_t pid)
{
  struct container_record rec = { .id = (char *) id, .bundle = (char *) "/b",
                                  .rootfs = (char *) "/b/rootfs",
                                  .created = (char *) "2024-01-01T00:00:00Z",
                                  .supervisor_pid = pid, .annotations = ann };
  char dir[512];
  hull_error_t err = NULL;

  snprintf (dir, sizeof dir, "%s/%s", root, id);
  cr_assert_eq (mkdir (dir, 0700), 0);
  cr_assert_eq (container_record_write (dir, &rec, &err), 0, "%s", hull_error_msg (&err));
}

Test (pod_host, sandbox_lookup_errors_name_the_annotation)
{
  char root[] = "/tmp/hull-pod-root-XXXXXX", cmd[600];
  char *sandbox[] = { (char *) POD_ANN_CONTAINER_TYPE, (char *) "sandbox",
                      (char *) POD_ANN_SANDBOX_ID, (char *) "sb", NULL };
  char *plain[] = { (char *) "x", (char *) "y", NULL };
  struct pod_sandbox s;
  hull_error_t err = NULL;
  char *m;

  cr_assert_not_null (mkdtemp (root));
  cr_expect_lt (pod_sandbox_find (root, "nosuch", &s, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "annotation " POD_ANN_SANDBOX_ID) && strstr (m, "`nosuch` does not exist"),
             "%s", m);

  write_record (root, "plain", plain, getpid ());
  cr_expect_lt (pod_sandbox_find (root, "plain", &s, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "container `plain` is not a pod sandbox") != NULL, "%s", m);

  /* A sandbox whose supervisor is gone: stopped. */
  write_record (root, "sb", sandbox, 0);
  cr_expect_lt (pod_sandbox_find (root, "sb", &s, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "sandbox `sb` is not running (stopped)") != NULL, "%s", m);

  snprintf (cmd, sizeof cmd, "rm -rf %s", root);
  cr_assert_eq (system (cmd), 0);
}

static struct oci_config *
config (const char *namespaces, const char *mounts, bool ro)
{
  char doc[4096];
  struct oci_config *c = NULL;
  hull_error_t err = NULL;

  snprintf (doc, sizeof doc,
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":%s},"
            "\"mounts\":[%s],\"linux\":{\"namespaces\":[%s]}}",
            ro ? "true" : "false", mounts, namespaces);
  cr_assert_eq (oci_config_parse_data (doc, strlen (doc), &c, &err), 0, "%s: %s", doc,
                hull_error_msg (&err));
  return c;
}

Test (pod_host, member_namespaces_must_be_the_pods)
{
  struct pod_sandbox s = { .id = (char *) "sb", .pid = getpid () };
  struct oci_config *c;
  hull_error_t err = NULL;
  char ns[512], *m;

  /* CRI's form: /proc/<sandbox pid>/ns/... */
  snprintf (ns, sizeof ns,
            "{\"type\":\"network\",\"path\":\"/proc/%d/ns/net\"},"
            "{\"type\":\"ipc\",\"path\":\"/proc/%d/ns/ipc\"},"
            "{\"type\":\"uts\",\"path\":\"/proc/self/ns/uts\"},{\"type\":\"mount\"}",
            getpid (), getpid ());
  c = config (ns, "", false);
  cr_expect_eq (pod_member_check_namespaces (c, &s, &err), 0, "%s", hull_error_msg (&err));
  oci_config_free (c);

  c = config ("{\"type\":\"network\"},{\"type\":\"mount\",\"path\":\"/proc/self/ns/mnt\"}", "",
              false);
  cr_expect_lt (pod_member_check_namespaces (c, &s, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "linux.namespaces[1].path `/proc/self/ns/mnt`")
                 && strstr (m, "cannot join a mount namespace"),
             "%s", m);
  oci_config_free (c);

  /* Not the sandbox's: an ipc path naming the uts namespace file. */
  c = config ("{\"type\":\"ipc\",\"path\":\"/proc/self/ns/uts\"}", "", false);
  cr_expect_lt (pod_member_check_namespaces (c, &s, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "linux.namespaces[0].path") && strstr (m, "not the ipc namespace"),
             "%s", m);
  oci_config_free (c);
}

/* ---- the share ---- */

static bool
mounted_under (const char *dir)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  char line[4096];

  while (f != NULL && fgets (line, sizeof line, f))
    if (strstr (line, dir) != NULL)
      return true;
  return false;
}

static bool
file_has (const char *path, const char *text)
{
  char buf[256] = { 0 };
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  return fd >= 0 && read (fd, buf, sizeof buf - 1) > 0 && strstr (buf, text) != NULL;
}

/* A child in a mount namespace of its own whose copy of the host's mounts
 * is a slave (like virtiofsd): it reports on `pipe` whether path appears
 * with text after the parent said go. */
static pid_t
slave_watcher (const char *path, const char *text, int go, int report)
{
  pid_t pid = fork ();

  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      char c, ok;
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        _exit (2);
      if (write (report, "r", 1) != 1 || read (go, &c, 1) != 1)
        _exit (3);
      ok = file_has (path, text) ? 'y' : 'n';
      _exit (write (report, &ok, 1) == 1 ? 0 : 4);
    }
  return pid;
}

Test (pod_host, share_binds_propagate_and_go_away)
{
  char base[] = "/tmp/hull-pod-share-XXXXXX", path[1024], cmd[1200];
  cleanup_free char *share = NULL, *guest_rootfs = NULL;
  struct pod_layout l;
  struct oci_config *c;
  hull_error_t err = NULL;
  int go[2], report[2], status;
  char r;
  pid_t w;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  cr_assert_not_null (mkdtemp (base));
  snprintf (cmd, sizeof cmd,
            "mkdir -p %s/state %s/rootfs %s/vol && echo root-marker > %s/rootfs/marker && "
            "echo vol-data > %s/vol/f && echo file-data > %s/file",
            base, base, base, base, base, base);
  cr_assert_eq (system (cmd), 0);
  snprintf (path, sizeof path, "%s/state", base);
  cr_assert_eq (pod_share_create (path, &share, &err), 0, "%s", hull_error_msg (&err));

  /* The watcher's slave copy exists before the binds are made. */
  cr_assert_eq (pipe (go), 0);
  cr_assert_eq (pipe (report), 0);
  snprintf (path, sizeof path, "%s/app/rootfs/marker", share);
  w = slave_watcher (path, "root-marker", go[0], report[1]);
  cr_assert_eq (read (report[0], &r, 1), 1);

  snprintf (cmd, sizeof cmd,
            "{\"destination\":\"/v\",\"type\":\"bind\",\"source\":\"%s/vol\",\"options\":[\"ro\"]},"
            "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
            "{\"destination\":\"/f\",\"type\":\"bind\",\"source\":\"%s/file\"},"
            "{\"destination\":\"/n\",\"type\":\"bind\",\"source\":\"/dev/null\"}",
            base, base);
  c = config ("", cmd, false);
  snprintf (path, sizeof path, "%s/rootfs", base);
  cr_assert_eq (pod_bind_container (share, "app", path, c, NULL, &l, &guest_rootfs, &err), 0,
                "%s", hull_error_msg (&err));
  cr_expect_str_eq (guest_rootfs, POD_GUEST_ROOT "/app/rootfs");
  cr_expect_str_eq (l.bind_dir, POD_GUEST_ROOT "/app");
  cr_expect (l.n_binds == 2 && l.binds[0] == 0 && l.binds[1] == 2, "binds: %zu", l.n_binds);
  cr_expect (l.n_skips == 1 && l.skips[0] == 3, "a device is skipped");

  /* Propagated into the slave namespace made before. */
  cr_assert_eq (write (go[1], "g", 1), 1);
  cr_assert_eq (read (report[0], &r, 1), 1);
  cr_expect_eq (r, 'y', "the rootfs bind did not reach the slave copy");
  cr_assert_eq (waitpid (w, &status, 0), w);

  snprintf (path, sizeof path, "%s/app/m0/f", share);
  cr_expect (file_has (path, "vol-data"));
  cr_expect (open (path, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS, "ro bind is writable");
  snprintf (path, sizeof path, "%s/app/m2", share);
  cr_expect (file_has (path, "file-data"), "a file bind");

  /* A second container, then the whole share goes. */
  snprintf (path, sizeof path, "%s/rootfs", base);
  pod_layout_free (&l);
  free (guest_rootfs);
  guest_rootfs = NULL;
  cr_assert_eq (pod_bind_container (share, "app2", path, c, NULL, &l, &guest_rootfs, &err), 0,
                "%s", hull_error_msg (&err));
  pod_layout_free (&l);
  cr_assert_eq (pod_unbind_container (share, "app", &err), 0, "%s", hull_error_msg (&err));
  snprintf (path, sizeof path, "%s/app", share);
  cr_expect (access (path, F_OK) < 0, "app's dir is left");
  snprintf (path, sizeof path, "%s/app2/rootfs/marker", share);
  cr_expect (file_has (path, "root-marker"), "app2 went with app");
  snprintf (path, sizeof path, "%s/state", base);
  cr_assert_eq (pod_share_remove (path, &err), 0, "%s", hull_error_msg (&err));
  cr_expect (access (share, F_OK) < 0, "the share is left");
  cr_expect_not (mounted_under (base), "mounts left under %s", base);
  /* Idempotent, and the sources are intact. */
  cr_expect_eq (pod_share_remove (path, &err), 0);
  snprintf (path, sizeof path, "%s/vol/f", base);
  cr_expect (file_has (path, "vol-data"));
  oci_config_free (c);
  snprintf (cmd, sizeof cmd, "rm -rf %s", base);
  cr_assert_eq (system (cmd), 0);
}

Test (pod_host, a_failed_bind_leaves_nothing)
{
  char base[] = "/tmp/hull-pod-fail-XXXXXX", path[1024], cmd[1200];
  cleanup_free char *share = NULL, *guest_rootfs = NULL;
  struct pod_layout l;
  struct oci_config *c;
  hull_error_t err = NULL;
  char *m;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  cr_assert_not_null (mkdtemp (base));
  snprintf (cmd, sizeof cmd, "mkdir -p %s/state %s/rootfs %s/vol", base, base, base);
  cr_assert_eq (system (cmd), 0);
  snprintf (path, sizeof path, "%s/state", base);
  cr_assert_eq (pod_share_create (path, &share, &err), 0, "%s", hull_error_msg (&err));
  snprintf (cmd, sizeof cmd,
            "{\"destination\":\"/v\",\"type\":\"bind\",\"source\":\"%s/vol\"},"
            "{\"destination\":\"/w\",\"type\":\"bind\",\"source\":\"%s/missing\"}",
            base, base);
  c = config ("", cmd, true);
  snprintf (path, sizeof path, "%s/rootfs", base);
  cr_expect_lt (pod_bind_container (share, "app", path, c, NULL, &l, &guest_rootfs, &err), 0);
  m = fails_msg (&err);
  cr_expect (strstr (m, "mounts[1].source") && strstr (m, "/missing"), "%s", m);
  snprintf (path, sizeof path, "%s/app", share);
  cr_expect (access (path, F_OK) < 0, "app's dir is left");
  cr_expect_null (guest_rootfs);
  snprintf (path, sizeof path, "%s/state", base);
  cr_assert_eq (pod_share_remove (path, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_not (mounted_under (base), "mounts left under %s", base);
  oci_config_free (c);
  snprintf (cmd, sizeof cmd, "rm -rf %s", base);
  cr_assert_eq (system (cmd), 0);
}
