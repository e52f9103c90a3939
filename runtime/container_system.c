/* Device nodes, sysctl, hostname and domainname of a container. */
#include "runtime/container_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/cleanup.h"

int
container_sysctl_path (const char *key, char **out, hull_error_t *err)
{
  size_t n = strlen (key);
  char *p;

  /* A key is dot-separated names; "/" also separates in sysctl(8), but
   * accepting it would let "../" sneak out of /proc/sys. */
  if (n == 0 || key[0] == '.' || key[n - 1] == '.' || strstr (key, "..") != NULL
      || strchr (key, '/') != NULL)
    return hull_error (err, EINVAL, "linux.sysctl: invalid key `%s`", key);
  if (asprintf (&p, "/proc/sys/%s", key) < 0)
    return hull_error (err, errno, "asprintf");
  for (char *c = p + strlen ("/proc/sys/"); *c; c++)
    if (*c == '.')
      *c = '/';
  *out = p;
  return 0;
}

int
container_device_node (const struct oci_device *d, mode_t *mode, dev_t *dev,
                       hull_error_t *err)
{
  mode_t type;

  switch (d->type)
    {
    case 'c':
    case 'u': /* unbuffered character device: a character device to mknod */
      type = S_IFCHR;
      break;
    case 'b':
      type = S_IFBLK;
      break;
    case 'p':
      type = S_IFIFO;
      break;
    default:
      return hull_error (err, EINVAL, "linux.devices `%s`: unknown type `%c`", d->path,
                         d->type);
    }
  if (type != S_IFIFO && (!d->has_major || !d->has_minor))
    return hull_error (err, EINVAL, "linux.devices `%s`: major and minor are required",
                       d->path);
  if (type != S_IFIFO
      && (d->major < 0 || d->major > 0xfff || d->minor < 0 || d->minor > 0xfffff))
    return hull_error (err, ERANGE, "linux.devices `%s`: %lld:%lld out of range",
                       d->path, (long long) d->major, (long long) d->minor);
  *mode = type | (d->has_file_mode ? (d->file_mode & 07777) : 0666);
  *dev = type == S_IFIFO ? 0 : makedev ((unsigned) d->major, (unsigned) d->minor);
  return 0;
}

/* mkdir -p of the parent of path (absolute, current root). */
static int
make_parents (const char *path, hull_error_t *err)
{
  cleanup_free char *p = strdup (path);

  if (p == NULL)
    return hull_error (err, errno, "strdup");
  for (char *s = strchr (p + 1, '/'); s != NULL; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        return hull_error (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  return 0;
}

static int
device_create (const struct oci_device *d, hull_error_t *err)
{
  mode_t mode;
  dev_t dev;

  if (container_device_node (d, &mode, &dev, err) < 0 || make_parents (d->path, err) < 0)
    return -1;
  if (unlink (d->path) < 0 && errno != ENOENT)
    return hull_error (err, errno, "linux.devices: replace `%s`", d->path);
  if (mknod (d->path, mode, dev) < 0)
    return hull_error (err, errno, "linux.devices: mknod `%s`", d->path);
  /* mknod honours the umask; the config's mode is meant literally. */
  if (chmod (d->path, mode & 07777) < 0)
    return hull_error (err, errno, "linux.devices: chmod `%s`", d->path);
  if ((d->has_uid || d->has_gid)
      && chown (d->path, d->has_uid ? d->uid : (uid_t) -1,
                d->has_gid ? d->gid : (gid_t) -1) < 0)
    return hull_error (err, errno, "linux.devices: chown `%s`", d->path);
  return 0;
}

int
container_devices_create (const struct oci_linux *l, hull_error_t *err)
{
  /* What every Linux container gets (runtime-spec "Default Devices"). */
  static const struct
  {
    const char *path;
    int major, minor;
  } defaults[] = {
    { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
    { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
  };
  static const struct
  {
    const char *target, *link;
  } links[] = {
    { "/proc/self/fd", "/dev/fd" },     { "/proc/self/fd/0", "/dev/stdin" },
    { "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
    { "pts/ptmx", "/dev/ptmx" },
  };

  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    {
      struct oci_device d = { .type = 'c', .path = (char *) defaults[i].path,
                              .has_major = true, .major = defaults[i].major,
                              .has_minor = true, .minor = defaults[i].minor,
                              .has_file_mode = true, .file_mode = 0666 };
      if (device_create (&d, err) < 0)
        return -1;
    }
  for (size_t i = 0; l != NULL && i < l->n_devices; i++)
    if (device_create (&l->devices[i], err) < 0)
      return -1;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlink (links[i].target, links[i].link) < 0 && errno != EEXIST)
      return hull_error (err, errno, "symlink `%s`", links[i].link);
  return 0;
}

static int
write_file (const char *path, const char *value, hull_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  size_t n = strlen (value);

  if (fd < 0)
    return hull_error (err, errno, "open `%s`", path);
  if (write (fd, value, n) != (ssize_t) n)
    return hull_error (err, errno, "write `%s`", path);
  return 0;
}

int
container_system_apply (const struct oci_config *c, hull_error_t *err)
{
  if (c->hostname && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return hull_error (err, errno, "hostname `%s`", c->hostname);
  if (c->domainname && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return hull_error (err, errno, "domainname `%s`", c->domainname);
  for (size_t i = 0; c->linux_spec && i < c->linux_spec->sysctl.n; i++)
    {
      const struct oci_map_entry *e = &c->linux_spec->sysctl.v[i];
      cleanup_free char *path = NULL;

      if (container_sysctl_path (e->key, &path, err) < 0)
        return -1;
      if (write_file (path, e->value, err) < 0)
        return hull_error_prefix (err, "linux.sysctl `%s`", e->key);
    }
  return 0;
}
