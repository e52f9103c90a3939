/* OCI mount options -> mount(2) flags, propagation and data string.  Pure
 * (no system calls) so it runs in unit tests and under the fuzzer. */
#include "runtime/container_setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

enum opt_kind
{
  OPT_SET,   /* set flag */
  OPT_CLEAR, /* clear flag */
  OPT_PROP,  /* propagation */
  OPT_UNSUPPORTED,
};

static const struct
{
  const char *name;
  enum opt_kind kind;
  unsigned long flag;
} opt_table[] = {
  { "defaults", OPT_SET, 0 },
  { "ro", OPT_SET, MS_RDONLY },
  { "rw", OPT_CLEAR, MS_RDONLY },
  { "nosuid", OPT_SET, MS_NOSUID },
  { "suid", OPT_CLEAR, MS_NOSUID },
  { "nodev", OPT_SET, MS_NODEV },
  { "dev", OPT_CLEAR, MS_NODEV },
  { "noexec", OPT_SET, MS_NOEXEC },
  { "exec", OPT_CLEAR, MS_NOEXEC },
  { "sync", OPT_SET, MS_SYNCHRONOUS },
  { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPT_SET, MS_DIRSYNC },
  { "remount", OPT_SET, MS_REMOUNT },
  { "mand", OPT_SET, MS_MANDLOCK },
  { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "atime", OPT_CLEAR, MS_NOATIME },
  { "noatime", OPT_SET, MS_NOATIME },
  { "diratime", OPT_CLEAR, MS_NODIRATIME },
  { "nodiratime", OPT_SET, MS_NODIRATIME },
  { "relatime", OPT_SET, MS_RELATIME },
  { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "strictatime", OPT_SET, MS_STRICTATIME },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "lazytime", OPT_SET, MS_LAZYTIME },
  { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "silent", OPT_SET, MS_SILENT },
  { "loud", OPT_CLEAR, MS_SILENT },
  { "bind", OPT_SET, MS_BIND },
  { "rbind", OPT_SET, MS_BIND | MS_REC },
  { "private", OPT_PROP, MS_PRIVATE },
  { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROP, MS_SHARED },
  { "rshared", OPT_PROP, MS_SHARED | MS_REC },
  { "slave", OPT_PROP, MS_SLAVE },
  { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROP, MS_UNBINDABLE },
  { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },
  /* Recursive attributes need mount_setattr(2); idmapped mounts need a
   * user namespace plan.  Neither is done yet: say so. */
  { "rro", OPT_UNSUPPORTED, 0 },
  { "rrw", OPT_UNSUPPORTED, 0 },
  { "rnosuid", OPT_UNSUPPORTED, 0 },
  { "rsuid", OPT_UNSUPPORTED, 0 },
  { "rnodev", OPT_UNSUPPORTED, 0 },
  { "rdev", OPT_UNSUPPORTED, 0 },
  { "rnoexec", OPT_UNSUPPORTED, 0 },
  { "rexec", OPT_UNSUPPORTED, 0 },
  { "rnoatime", OPT_UNSUPPORTED, 0 },
  { "ratime", OPT_UNSUPPORTED, 0 },
  { "rrelatime", OPT_UNSUPPORTED, 0 },
  { "rnorelatime", OPT_UNSUPPORTED, 0 },
  { "rstrictatime", OPT_UNSUPPORTED, 0 },
  { "rnostrictatime", OPT_UNSUPPORTED, 0 },
  { "rnosymfollow", OPT_UNSUPPORTED, 0 },
  { "rsymfollow", OPT_UNSUPPORTED, 0 },
  { "idmap", OPT_UNSUPPORTED, 0 },
  { "ridmap", OPT_UNSUPPORTED, 0 },
  { "tmpcopyup", OPT_UNSUPPORTED, 0 },
};

void
container_mount_opts_free (struct container_mount_opts *o)
{
  free (o->data);
  o->data = NULL;
}

static int
append_data (char *data, size_t *len, const char *opt, size_t i, hull_error_t *err)
{
  size_t n = strlen (opt);

  if (*len + (*len ? 1 : 0) + n > CONTAINER_MOUNT_DATA_MAX)
    return hull_error (err, E2BIG, "options[%zu]: filesystem options exceed %d bytes", i,
                       CONTAINER_MOUNT_DATA_MAX);
  if (*len)
    data[(*len)++] = ',';
  memcpy (data + *len, opt, n);
  *len += n;
  data[*len] = '\0';
  return 0;
}

static int
apply_opt (struct container_mount_opts *o, const char *opt, size_t i, char *data,
           size_t *data_len, hull_error_t *err)
{
  if (*opt == '\0')
    return hull_error (err, EINVAL, "options[%zu] is empty", i);
  if (strchr (opt, ',') != NULL)
    /* One OCI option per array entry; a comma would smuggle several into
       the data string past the checks above. */
    return hull_error (err, EINVAL, "options[%zu] `%s` contains a comma", i, opt);
  for (size_t k = 0; k < sizeof opt_table / sizeof opt_table[0]; k++)
    {
      if (strcmp (opt_table[k].name, opt) != 0)
        continue;
      switch (opt_table[k].kind)
        {
        case OPT_SET:
          o->flags |= opt_table[k].flag;
          o->clear &= ~opt_table[k].flag;
          return 0;
        case OPT_CLEAR:
          o->flags &= ~opt_table[k].flag;
          o->clear |= opt_table[k].flag;
          return 0;
        case OPT_PROP:
          if (o->propagation != 0 && o->propagation != opt_table[k].flag)
            return hull_error (err, EINVAL,
                               "options[%zu] `%s` conflicts with an earlier propagation option",
                               i, opt);
          o->propagation = opt_table[k].flag;
          return 0;
        case OPT_UNSUPPORTED:
          return hull_error (err, ENOTSUP, "options[%zu] `%s` is not supported by hull yet",
                             i, opt);
        }
    }
  return append_data (data, data_len, opt, i, err);
}

int
container_mount_opts_parse (const char *type, const struct oci_strv *options,
                            struct container_mount_opts *out, hull_error_t *err)
{
  struct container_mount_opts o = { 0 };
  char data[CONTAINER_MOUNT_DATA_MAX + 1];
  size_t data_len = 0;

  data[0] = '\0';
  if (type != NULL && strcmp (type, "bind") == 0)
    o.flags |= MS_BIND;
  for (size_t i = 0; options != NULL && i < options->n; i++)
    if (apply_opt (&o, options->v[i], i, data, &data_len, err) < 0)
      return -1;
  if (data_len > 0)
    {
      o.data = strdup (data);
      if (o.data == NULL)
        return hull_error (err, errno, "strdup");
    }
  *out = o;
  return 0;
}
