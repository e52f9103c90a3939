/* Planning bind-mount volumes (runtime/sandbox_vm_vols.c) needs no VM:
 * which mounts become virtio-fs shares, which host-file binds are skipped,
 * what the agent is told on the kernel command line, and the limits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/sandbox_vm.h"

struct fixture
{
  char dir[64];
  struct oci_config *config;
  struct sandbox sb;
};

/* mounts: a JSON array body, with %1$s standing for the temp dir. */
static void
fixture_init (struct fixture *f, const char *mounts_fmt)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *mounts = NULL, *json = NULL;
  char path[128];

  snprintf (f->dir, sizeof f->dir, "/tmp/hull-vols-test.XXXXXX");
  cr_assert_not_null (mkdtemp (f->dir));
  for (int i = 0; i < 9; i++)
    {
      snprintf (path, sizeof path, "%s/d%d", f->dir, i);
      cr_assert_eq (mkdir (path, 0755), 0);
    }
  snprintf (path, sizeof path, "%s/file", f->dir);
  FILE *fp = fopen (path, "w");
  cr_assert_not_null (fp);
  fputs ("127.0.0.1 localhost\n", fp);
  fclose (fp);
  cr_assert_geq (asprintf (&mounts, mounts_fmt, f->dir), 0);
  cr_assert_geq (asprintf (&json,
                           "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                           "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},\"mounts\":[%s]}",
                           mounts),
                 0);
  cr_assert_eq (oci_config_parse_data (json, strlen (json), &f->config, &err), 0, "%s",
                hull_error_msg (&err));
  memset (&f->sb, 0, sizeof f->sb);
  f->sb.id = (char *) "vols";
  f->sb.config = f->config;
  f->sb.state_dir = f->dir;
}

static void
fixture_fini (struct fixture *f)
{
  char cmd[128];

  vm_vols_stop_daemons (&f->sb);
  oci_config_free (f->config);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  cr_assert_eq (system (cmd), 0);
}

Test (sandbox_vm_vols, plan_shares_dirs_copies_files)
{
  cleanup_error hull_error_t err = NULL;
  char copy[128], line[64];
  struct fixture f;
  FILE *fp;

  fixture_init (&f,
                "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"%1$s/d0\"},"
                "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/b\",\"source\":\"%1$s/d0\",\"options\":[\"rbind\"]},"
                "{\"destination\":\"/c\",\"type\":\"bind\",\"source\":\"%1$s/d0\","
                "\"options\":[\"ro\"]},"
                "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"%1$s/file\"},"
                "{\"destination\":\"/d\",\"type\":\"none\",\"source\":\"%1$s/d1\","
                "\"options\":[\"bind\",\"ro\"]},"
                "{\"destination\":\"/dev/x\",\"type\":\"bind\",\"source\":\"/dev/null\"}");
  cr_assert_eq (vm_vols_plan (&f.sb, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_eq (f.sb.n_vols, 4);
  cr_assert_eq (f.sb.vols[0].mount_idx, 0);
  cr_assert_not (f.sb.vols[0].readonly);
  cr_assert_eq (f.sb.vols[1].mount_idx, 3);
  cr_assert (f.sb.vols[1].readonly);
  cr_assert_eq (f.sb.vols[2].mount_idx, 5);
  cr_assert (f.sb.vols[2].readonly);
  /* The copied host file: its own read-only share, last. */
  cr_assert_eq (f.sb.vols[3].mount_idx, SIZE_MAX);
  cr_assert (f.sb.vols[3].readonly);
  cr_assert_str_eq (f.sb.vols[3].source, f.sb.vol_files_dir);
  cr_assert_str_eq (f.sb.vols_cmdline, "hull.vols=0,3,5 hull.volfiles=4 hull.skipmounts=6");
  snprintf (copy, sizeof copy, "%s/volfiles/4", f.dir);
  fp = fopen (copy, "r");
  cr_assert_not_null (fp);
  cr_assert_not_null (fgets (line, sizeof line, fp));
  fclose (fp);
  cr_assert_str_eq (line, "127.0.0.1 localhost\n");
  vm_vols_stop_daemons (&f.sb);
  cr_assert_neq (access (copy, F_OK), 0, "the copy is removed with the volumes");
  fixture_fini (&f);
}

Test (sandbox_vm_vols, no_binds_no_words)
{
  cleanup_error hull_error_t err = NULL;
  struct fixture f;

  fixture_init (&f, "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}");
  cr_assert_eq (vm_vols_plan (&f.sb, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_eq (f.sb.n_vols, 0);
  cr_assert_str_eq (f.sb.vols_cmdline, "");
  fixture_fini (&f);
}

Test (sandbox_vm_vols, missing_source_named)
{
  cleanup_error hull_error_t err = NULL;
  struct fixture f;

  fixture_init (&f,
                "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"%1$s/nope\"}");
  cr_assert_lt (vm_vols_plan (&f.sb, &err), 0);
  cr_assert_eq (err->status, ENOENT);
  cr_assert_not_null (strstr (hull_error_msg (&err), "mounts[1].source"), "%s",
                      hull_error_msg (&err));
  fixture_fini (&f);
}

Test (sandbox_vm_vols, relative_source_refused)
{
  cleanup_error hull_error_t err = NULL;
  struct fixture f;

  fixture_init (&f, "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"d0\"}");
  cr_assert_lt (vm_vols_plan (&f.sb, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "mounts[0].source `d0`"), "%s",
                      hull_error_msg (&err));
  fixture_fini (&f);
}

Test (sandbox_vm_vols, at_most_eight)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *m = NULL;
  struct fixture f;
  char *s = NULL;

  for (int i = 0; i < 9; i++)
    {
      cr_assert_geq (asprintf (&s,
                               "%s%s{\"destination\":\"/v%d\",\"type\":\"bind\","
                               "\"source\":\"%%1$s/d%d\"}",
                               m ? m : "", m ? "," : "", i, i),
                     0);
      free (m);
      m = s;
    }
  fixture_init (&f, m);
  cr_assert_lt (vm_vols_plan (&f.sb, &err), 0);
  cr_assert_eq (err->status, E2BIG);
  cr_assert_not_null (strstr (hull_error_msg (&err), "mounts[8].source"), "%s",
                      hull_error_msg (&err));
  cr_assert_not_null (strstr (hull_error_msg (&err), "at most 8"), "%s", hull_error_msg (&err));
  fixture_fini (&f);
}
