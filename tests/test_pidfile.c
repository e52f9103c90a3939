/* pid files: exact content (decimal, no newline), atomic replacement (no
 * temporary left behind, readers never see a partial file), errors. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/pidfile.h"

static char dir[] = "/tmp/hull-test-pidfile.XXXXXX";

static void
setup (void)
{
  cr_assert_not_null (mkdtemp (dir));
}

static void
teardown (void)
{
  char cmd[128];
  snprintf (cmd, sizeof (cmd), "rm -rf %s", dir);
  cr_assert_eq (system (cmd), 0);
}

static char *
slurp (const char *path, size_t *len)
{
  static char buf[64];
  int fd = open (path, O_RDONLY);
  ssize_t n;

  cr_assert_geq (fd, 0);
  n = read (fd, buf, sizeof (buf) - 1);
  close (fd);
  cr_assert_geq (n, 0);
  buf[n] = '\0';
  *len = (size_t) n;
  return buf;
}

static size_t
count_entries (void)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;

  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' || strlen (de->d_name) > 2)
      n += strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
  closedir (d);
  return n;
}

Test (pidfile, content, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  char path[128];
  size_t len;
  char *s;

  snprintf (path, sizeof (path), "%s/pid", dir);
  cr_assert_eq (pidfile_write (path, 12345, &err), 0, "%s", hull_error_msg (&err));
  s = slurp (path, &len);
  cr_assert_eq (len, 5);
  cr_assert_str_eq (s, "12345");
  cr_assert_eq (pidfile_read (path, &err), 12345);
  cr_assert_eq (count_entries (), 1, "temporary file left behind");
}

Test (pidfile, replace, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  char path[128];
  size_t len;

  snprintf (path, sizeof (path), "%s/pid", dir);
  cr_assert_eq (pidfile_write (path, 99999, &err), 0);
  cr_assert_eq (pidfile_write (path, 7, &err), 0);
  cr_assert_str_eq (slurp (path, &len), "7");
  cr_assert_eq (count_entries (), 1);
}

struct reader
{
  const char *path;
  volatile int stop;
  int bad;
};

static void *
read_loop (void *arg)
{
  struct reader *r = arg;

  while (! r->stop)
    {
      char buf[32];
      int fd = open (r->path, O_RDONLY);
      ssize_t n;
      if (fd < 0)
        continue;
      n = read (fd, buf, sizeof (buf) - 1);
      close (fd);
      buf[n > 0 ? n : 0] = '\0';
      if (strcmp (buf, "1111111") != 0 && strcmp (buf, "2222222") != 0)
        r->bad++;
    }
  return NULL;
}

/* A concurrent reader only ever sees a whole pid. */
Test (pidfile, atomic, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  char path[128];
  struct reader r = { .path = path };
  pthread_t t;

  snprintf (path, sizeof (path), "%s/pid", dir);
  cr_assert_eq (pidfile_write (path, 1111111, &err), 0);
  pthread_create (&t, NULL, read_loop, &r);
  for (int i = 0; i < 2000; i++)
    cr_assert_eq (pidfile_write (path, i % 2 ? 1111111 : 2222222, &err), 0);
  r.stop = 1;
  pthread_join (t, NULL);
  cr_assert_eq (r.bad, 0, "reader saw %d partial files", r.bad);
}

Test (pidfile, errors, .init = setup, .fini = teardown)
{
  hull_error_t err = NULL;
  char path[128];

  cr_assert_lt (pidfile_write ("/nonexistent-dir/pid", 1, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "/nonexistent-dir"));
  hull_error_free (&err);
  snprintf (path, sizeof (path), "%s/pid", dir);
  cr_assert_lt (pidfile_write (path, 0, &err), 0);
  hull_error_free (&err);
  cr_assert_eq (count_entries (), 0);
  cr_assert_lt (pidfile_read (path, &err), 0);
  hull_error_free (&err);
  FILE *f = fopen (path, "w");
  fputs ("12ab", f);
  fclose (f);
  cr_assert_lt (pidfile_read (path, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "does not hold a pid"));
  hull_error_free (&err);
}
