/* Container filesystem and system setup: the pure parsers, and the whole
 * guest sequence (mounts, root switch, devices, masked/readonly paths,
 * hostname, sysctl) run for real in a forked child with its own mount and
 * UTS namespaces, so the host is left untouched. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "runtime/cleanup.h"
#include "runtime/container_setup.h"
#include "runtime/oci_config.h"

static int
parse (const char *type, const char **opts, size_t n, struct container_mount_opts *o,
       hull_error_t *err)
{
  struct oci_strv v = { .v = (char **) opts, .n = n };
  return container_mount_opts_parse (type, &v, o, err);
}

Test (container_mount_opts, flags_data_and_propagation)
{
  const char *opts[] = { "nosuid", "noexec", "ro", "mode=755", "size=65536k",
                         "rprivate", "newinstance", "rw", "relatime" };
  struct container_mount_opts o;
  cleanup_error hull_error_t err = NULL;

  cr_assert_eq (parse ("tmpfs", opts, 9, &o, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (o.flags, MS_NOSUID | MS_NOEXEC | MS_RELATIME, "ro undone by a later rw");
  cr_expect_eq (o.clear, MS_RDONLY);
  cr_expect_eq (o.propagation, MS_PRIVATE | MS_REC);
  cr_expect_str_eq (o.data, "mode=755,size=65536k,newinstance");
  container_mount_opts_free (&o);

  const char *bind[] = { "rbind", "ro" };
  cr_assert_eq (parse ("none", bind, 2, &o, &err), 0);
  cr_expect_eq (o.flags, MS_BIND | MS_REC | MS_RDONLY);
  cr_expect_null (o.data);
  container_mount_opts_free (&o);

  cr_assert_eq (parse ("bind", NULL, 0, &o, &err), 0);
  cr_expect_eq (o.flags, MS_BIND, "type bind implies MS_BIND");
  container_mount_opts_free (&o);

  const char *defaults[] = { "defaults" };
  cr_assert_eq (parse ("proc", defaults, 1, &o, &err), 0);
  cr_expect_eq (o.flags, 0);
  cr_expect_null (o.data);
  container_mount_opts_free (&o);
}

Test (container_mount_opts, errors_name_the_option)
{
  struct container_mount_opts o;
  cleanup_error hull_error_t err = NULL;

  const char *rro[] = { "nosuid", "rro" };
  cr_assert_eq (parse ("bind", rro, 2, &o, &err), -1);
  cr_expect_str_eq (hull_error_msg (&err),
                    "options[1] `rro` is not supported by hull yet: Operation not supported");
  hull_error_free (&err);

  const char *comma[] = { "mode=755,uid=0" };
  cr_assert_eq (parse ("tmpfs", comma, 1, &o, &err), -1);
  cr_expect (strstr (hull_error_msg (&err), "contains a comma") != NULL);
  hull_error_free (&err);

  const char *empty[] = { "" };
  cr_assert_eq (parse ("tmpfs", empty, 1, &o, &err), -1);
  hull_error_free (&err);

  const char *prop[] = { "shared", "rslave" };
  cr_assert_eq (parse ("bind", prop, 2, &o, &err), -1);
  cr_expect (strstr (hull_error_msg (&err), "options[1] `rslave` conflicts") != NULL);
  hull_error_free (&err);

  static char big[3000];
  memset (big, 'x', sizeof big - 1);
  const char *toolong[] = { big, big };
  cr_assert_eq (parse ("tmpfs", toolong, 2, &o, &err), -1);
  cr_expect (strstr (hull_error_msg (&err), "options[1]: filesystem options exceed") != NULL);
}

Test (container_system, sysctl_path)
{
  cleanup_error hull_error_t err = NULL;
  char *p = NULL;
  static const char *const bad[] = { "", ".net", "net.", "net..ipv4", "net/../x",
                                     "a/b" };

  cr_assert_eq (container_sysctl_path ("net.ipv4.ip_forward", &p, &err), 0);
  cr_expect_str_eq (p, "/proc/sys/net/ipv4/ip_forward");
  free (p);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cr_expect_eq (container_sysctl_path (bad[i], &p, &err), -1, "`%s`", bad[i]);
      hull_error_free (&err);
    }
}

Test (container_system, device_node)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_device d = { .type = 'c', .path = "/dev/fuse", .has_major = true,
                          .major = 10, .has_minor = true, .minor = 229 };
  mode_t mode;
  dev_t dev;

  cr_assert_eq (container_device_node (&d, &mode, &dev, &err), 0);
  cr_expect_eq (mode, S_IFCHR | 0666);
  cr_expect_eq (major (dev), 10);
  cr_expect_eq (minor (dev), 229);

  d.type = 'b';
  d.has_file_mode = true;
  d.file_mode = 0640;
  cr_assert_eq (container_device_node (&d, &mode, &dev, &err), 0);
  cr_expect_eq (mode, S_IFBLK | 0640);

  d.type = 'u';
  cr_assert_eq (container_device_node (&d, &mode, &dev, &err), 0);
  cr_expect_eq (mode & S_IFMT, S_IFCHR);

  struct oci_device fifo = { .type = 'p', .path = "/dev/myfifo" };
  cr_assert_eq (container_device_node (&fifo, &mode, &dev, &err), 0);
  cr_expect_eq (mode, S_IFIFO | 0666);

  d.type = 'c';
  d.has_minor = false;
  cr_assert_eq (container_device_node (&d, &mode, &dev, &err), -1);
  cr_expect (strstr (hull_error_msg (&err), "`/dev/fuse`: major and minor") != NULL);
  hull_error_free (&err);

  d.has_minor = true;
  d.major = 1 << 20;
  cr_assert_eq (container_device_node (&d, &mode, &dev, &err), -1);
}

/* ---- the guest sequence, in a child with private namespaces ---- */

struct guest_case
{
  char root[64];
  char hostfile[80];
  char escape_name[64];
  struct oci_config *config;
};

#define CHECK(cond)                                                            \
  do                                                                           \
    {                                                                          \
      if (!(cond))                                                             \
        {                                                                      \
          fprintf (stderr, "child check failed line %d: %s (errno %d)\n",      \
                   __LINE__, #cond, errno);                                     \
          return __LINE__ % 250 + 1;                                           \
        }                                                                      \
    }                                                                          \
  while (0)

static int
step (int r, hull_error_t *err)
{
  if (r < 0)
    fprintf (stderr, "child step failed: %s\n", hull_error_msg (err));
  return r;
}

static int
guest_child (struct guest_case *g)
{
  hull_error_t err = NULL;
  struct stat st;
  struct statfs sf;
  char buf[128] = { 0 };
  int fd;

  CHECK (unshare (CLONE_NEWNS | CLONE_NEWUTS) == 0);
  CHECK (step (container_mounts_apply (g->config, g->root, &err), &err) == 0);
  CHECK (step (container_root_switch (g->root, &err), &err) == 0);
  CHECK (step (container_devices_create (g->config->linux_spec, &err), &err) == 0);
  /* sysctl before readonlyPaths makes /proc/sys read-only. */
  CHECK (step (container_system_apply (g->config, &err), &err) == 0);
  CHECK (step (container_paths_finish (g->config, &err), &err) == 0);

  /* The root is the bundle's rootfs: its marker file is at /. */
  CHECK (access ("/rootfs-marker", F_OK) == 0);
  CHECK (stat ("/proc/self/status", &st) == 0);
  /* Bind of a host file, read-only. */
  fd = open ("/etc/hostfile", O_RDONLY);
  CHECK (fd >= 0 && read (fd, buf, sizeof buf - 1) == 6 && strcmp (buf, "hello\n") == 0);
  close (fd);
  CHECK (open ("/etc/hostfile", O_WRONLY) < 0 && errno == EROFS);
  /* tmpfs with data options. */
  CHECK (statfs ("/tmp", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
  CHECK (stat ("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
  /* A destination through a symlink pointing outside stays inside. */
  snprintf (buf, sizeof buf, "/%s", g->escape_name);
  CHECK (statfs (buf, &sf) == 0 && sf.f_type == TMPFS_MAGIC);
  /* Devices, default and configured, and the /dev links. */
  CHECK (stat ("/dev/null", &st) == 0 && S_ISCHR (st.st_mode) && major (st.st_rdev) == 1
         && minor (st.st_rdev) == 3 && (st.st_mode & 0777) == 0666);
  CHECK (stat ("/dev/fuse", &st) == 0 && S_ISCHR (st.st_mode) && minor (st.st_rdev) == 229
         && (st.st_mode & 0777) == 0600 && st.st_uid == 7);
  CHECK (readlink ("/dev/ptmx", buf, sizeof buf) == 8);
  CHECK (statfs ("/dev/pts", &sf) == 0 && sf.f_type == DEVPTS_SUPER_MAGIC);
  /* Masked: a file reads empty, a directory is an empty read-only tmpfs. */
  fd = open ("/proc/version", O_RDONLY);
  CHECK (fd >= 0 && read (fd, buf, sizeof buf) == 0);
  close (fd);
  CHECK (statfs ("/proc/acpi", &sf) != 0 || sf.f_type == TMPFS_MAGIC);
  /* Read-only path. */
  CHECK (open ("/proc/sys/kernel/domainname", O_WRONLY) < 0 && errno == EROFS);
  /* hostname and sysctl (kernel.domainname is per UTS namespace). */
  CHECK (gethostname (buf, sizeof buf) == 0 && strcmp (buf, "hull-test") == 0);
  CHECK (getdomainname (buf, sizeof buf) == 0 && strcmp (buf, "sysctl.example") == 0);
  return 0;
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  cr_assert_not_null (f, "%s", path);
  fputs (text, f);
  fclose (f);
}

Test (container_setup, guest_sequence_in_namespaces)
{
  struct guest_case g;
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *json = NULL;
  char path[256], cmd[300];
  int status;
  pid_t pid;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  strcpy (g.root, "/tmp/hull-rootfs-XXXXXX");
  cr_assert_not_null (mkdtemp (g.root));
  snprintf (g.hostfile, sizeof g.hostfile, "%s.hostfile", g.root);
  write_text (g.hostfile, "hello\n");
  snprintf (path, sizeof path, "%s/rootfs-marker", g.root);
  write_text (path, "");
  /* A hostile rootfs: /evil points far outside. */
  snprintf (path, sizeof path, "%s/evil", g.root);
  cr_assert_eq (symlink ("/../../..", path), 0);
  snprintf (g.escape_name, sizeof g.escape_name, "hull-escape-%d", getpid ());

  cr_assert_gt (
      asprintf (
          &json,
          "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"%s\"},\"hostname\":\"hull-test\","
          "\"mounts\":["
          "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
          "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
          " \"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
          "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
          " \"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
          "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
          " \"options\":[\"nosuid\",\"nodev\",\"mode=1777\"]},"
          "{\"destination\":\"/etc/hostfile\",\"type\":\"bind\",\"source\":\"%s\","
          " \"options\":[\"rbind\",\"ro\",\"rprivate\"]},"
          "{\"destination\":\"/evil/%s\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
          "],\"linux\":{"
          "\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,"
          "  \"fileMode\":384,\"uid\":7,\"gid\":7}],"
          "\"sysctl\":{\"kernel.domainname\":\"sysctl.example\"},"
          "\"maskedPaths\":[\"/proc/kcore\",\"/proc/version\",\"/proc/acpi\",\"/proc/does-not-exist\"],"
          "\"readonlyPaths\":[\"/proc/sys\"]}}",
          g.root, g.hostfile, g.escape_name),
      0);
  cr_assert_eq (oci_config_parse_data (json, strlen (json), &g.config, &err), 0, "%s",
                hull_error_msg (&err));

  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (guest_child (&g));
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  oci_config_free (g.config);
  snprintf (path, sizeof path, "/%s", g.escape_name);
  cr_expect_neq (access (path, F_OK), 0, "the mount escaped the root");
  snprintf (cmd, sizeof cmd, "rm -rf %s %s", g.root, g.hostfile);
  cr_expect_eq (system (cmd), 0);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "child failed (status 0x%x), see stderr", status);
}

/* The host side of a read-only root: missing mount points are made in the
 * rootfs, a file bind gets a file, and the image's symlinks cannot lead
 * the walk out of the root. */
Test (container_setup, mountpoints_made_inside_the_root)
{
  char dir[] = "/tmp/hull-mountpoints-XXXXXX";
  char path[256], json[1024], cmd[300];
  struct oci_config *cfg = NULL;
  cleanup_error hull_error_t err = NULL;
  struct stat st;

  cr_assert_not_null (mkdtemp (dir));
  snprintf (path, sizeof path, "%s/rootfs", dir);
  cr_assert_eq (mkdir (path, 0755), 0);
  snprintf (path, sizeof path, "%s/outside", dir);
  cr_assert_eq (mkdir (path, 0755), 0);
  /* An absolute link to a host directory: inside the root it means
   * <rootfs>/<dir>/outside (made here too), never <dir>/outside itself. */
  snprintf (cmd, sizeof cmd, "mkdir -p %s/rootfs%s/outside", dir, dir);
  cr_assert_eq (system (cmd), 0);
  snprintf (path, sizeof path, "%s/rootfs/escape", dir);
  snprintf (cmd, sizeof cmd, "%s/outside", dir);
  cr_assert_eq (symlink (cmd, path), 0);
  snprintf (path, sizeof path, "%s/afile", dir);
  cr_assert_eq (close (open (path, O_CREAT | O_WRONLY, 0644)), 0);
  snprintf (json, sizeof json,
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
            "\"mounts\":[{\"destination\":\"/scratch/deep\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
            "{\"destination\":\"/etc/hosts.d/f\",\"type\":\"bind\",\"source\":\"%s/afile\","
            "\"options\":[\"rbind\"]},"
            "{\"destination\":\"/escape/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]}",
            dir);
  cr_assert_eq (oci_config_parse_data (json, strlen (json), &cfg, &err), 0, "%s",
                hull_error_msg (&err));
  snprintf (path, sizeof path, "%s/rootfs", dir);
  cr_assert_eq (container_mountpoints_make (cfg, path, &err), 0, "%s", hull_error_msg (&err));
  snprintf (path, sizeof path, "%s/rootfs/scratch/deep", dir);
  cr_expect (stat (path, &st) == 0 && S_ISDIR (st.st_mode), "a directory for tmpfs");
  snprintf (path, sizeof path, "%s/rootfs/etc/hosts.d/f", dir);
  cr_expect (stat (path, &st) == 0 && S_ISREG (st.st_mode), "a file for a file bind");
  snprintf (path, sizeof path, "%s/outside/x", dir);
  cr_expect (stat (path, &st) < 0, "nothing made outside the root");
  snprintf (path, sizeof path, "%s/rootfs%s/outside/x", dir, dir);
  cr_expect (stat (path, &st) == 0 && S_ISDIR (st.st_mode), "the link resolved inside");
  oci_config_free (cfg);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq (system (cmd), 0);
}
