/* hull's own settings file (default /etc/hull/settings.json): where the
 * guest assets and helpers are, and the VM size used when the container
 * config sets no limits.  Read with the same JSON reader as config.json;
 * unlike config.json, unknown keys are errors here (they are typos in a
 * file hull owns).  The schema is config-schema/settings.schema.json.
 *
 *   key                 type     default
 *   kernel              string   /usr/lib/hull/vmlinuz
 *   initramfs           string   /usr/lib/hull/initramfs.img
 *   virtiofsd           string   /usr/lib/qemu/virtiofsd
 *   virtiofsdCache      string   "auto"   (auto | always | none)
 *   kernelCmdline       string   ""       (appended to hull's command line)
 *   defaultVcpus        integer  1        (1..255)
 *   defaultMemoryMiB    integer  256      (64..1048576)
 *   bootTimeoutMs       integer  30000    (100..600000)
 *   confineVmm          boolean  true     (false: the supervisor and `hull
 *                                         boot` keep their privileges and
 *                                         run without the seccomp filter of
 *                                         runtime/confine.h; debugging only)
 * Paths must be absolute. */
#ifndef HULL_SETTINGS_H
#define HULL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"

#define HULL_SETTINGS_PATH "/etc/hull/settings.json"

struct hull_settings
{
  char *kernel;
  char *initramfs;
  char *virtiofsd;
  char *virtiofsd_cache;
  char *kernel_cmdline;
  uint32_t default_vcpus;
  uint64_t default_memory_mib;
  uint32_t boot_timeout_ms;
  bool confine_vmm;
};

/* Fill *s with the defaults (strings are allocated). */
int hull_settings_init (struct hull_settings *s, hull_error_t *err);

/* Defaults overridden by the file.  path NULL means HULL_SETTINGS_PATH,
 * which may be missing (defaults only); an explicit path must exist.  On
 * failure *s holds nothing that needs freeing. */
int hull_settings_load (const char *path, struct hull_settings *s,
                        hull_error_t *err);
/* Defaults overridden by a JSON document. */
int hull_settings_parse_data (const char *data, size_t len,
                              struct hull_settings *s, hull_error_t *err);

void hull_settings_free (struct hull_settings *s);

#endif
