/* hull's settings file (runtime/settings.h): defaults, overrides, and the
 * strictness that config.json does not have (unknown keys are errors). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/settings.h"

Test (settings, defaults)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_settings s;

  cr_assert_eq (hull_settings_init (&s, &err), 0);
  cr_expect_str_eq (s.kernel, "/usr/lib/hull/vmlinuz");
  cr_expect_str_eq (s.initramfs, "/usr/lib/hull/initramfs.img");
  cr_expect_str_eq (s.virtiofsd, "/usr/lib/qemu/virtiofsd");
  cr_expect_str_eq (s.virtiofsd_cache, "auto");
  cr_expect_str_eq (s.kernel_cmdline, "");
  cr_expect_eq (s.default_vcpus, 1);
  cr_expect_eq (s.default_memory_mib, 256);
  cr_expect_eq (s.boot_timeout_ms, 30000);
  hull_settings_free (&s);
}

Test (settings, overrides_keep_other_defaults)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_settings s;
  const char *doc = "{\"defaultVcpus\": 4, \"kernel\": \"/opt/k\"}";

  cr_assert_eq (hull_settings_parse_data (doc, strlen (doc), &s, &err), 0,
                "%s", hull_error_msg (&err));
  cr_expect_eq (s.default_vcpus, 4);
  cr_expect_str_eq (s.kernel, "/opt/k");
  cr_expect_str_eq (s.initramfs, "/usr/lib/hull/initramfs.img");
  cr_expect_eq (s.default_memory_mib, 256);
  hull_settings_free (&s);
}

Test (settings, errors)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_settings s;

  cr_expect_lt (hull_settings_parse_data ("{\"defaultVCPUs\": 2}", 19, &s,
                                          &err),
                0);
  cr_expect_str_eq (hull_error_msg (&err), "defaultVCPUs: unknown setting");
  cr_expect_lt (hull_settings_parse_data ("[]", 2, &s, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "(top level): expected object, got array");
  cr_expect_lt (hull_settings_parse_data ("{\"bootTimeoutMs\": 99}", 21, &s,
                                          &err),
                0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "bootTimeoutMs: 99 out of range 100..600000");
}

Test (settings, load_file)
{
  char path[] = "/tmp/hull-test-settings-XXXXXX";
  cleanup_error hull_error_t err = NULL;
  struct hull_settings s;
  static const char doc[] = "{\"defaultMemoryMiB\": 1024}";
  int fd = mkstemp (path);

  cr_assert_geq (fd, 0);
  cr_assert_eq (write (fd, doc, sizeof (doc) - 1), (ssize_t) sizeof (doc) - 1);
  close (fd);
  cr_assert_eq (hull_settings_load (path, &s, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (s.default_memory_mib, 1024);
  hull_settings_free (&s);

  /* An explicitly named file must exist. */
  unlink (path);
  cr_expect_lt (hull_settings_load (path, &s, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), path));
}

Test (settings, default_path_may_be_missing)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_settings s;

  if (access (HULL_SETTINGS_PATH, F_OK) == 0)
    cr_skip_test ("%s exists on this machine", HULL_SETTINGS_PATH);
  cr_assert_eq (hull_settings_load (NULL, &s, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (s.default_vcpus, 1);
  hull_settings_free (&s);
}
