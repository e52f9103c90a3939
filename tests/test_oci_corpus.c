/* The parser against the corpus in tests/data/configs: every file under a
 * *valid directory parses, every file under an *invalid directory fails
 * with the message in its .err sidecar (a substring naming the JSON path).
 * tests/check-schema.sh holds config-schema/ to the same corpus. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"
#include "runtime/oci_config.h"
#include "runtime/settings.h"

#define CORPUS "tests/data/configs"

/* Parses path with the parser for the corpus group; returns its result. */
typedef int (*parse_fn) (const char *path, hull_error_t *err);

static int
parse_config (const char *path, hull_error_t *err)
{
  struct oci_config *c = NULL;
  int r = oci_config_parse_file (path, &c, err);
  if (r == 0)
    cr_expect_not_null (c, "%s: no config returned", path);
  oci_config_free (c);
  return r;
}

static int
parse_process (const char *path, hull_error_t *err)
{
  struct oci_process *p = NULL;
  int r = oci_process_parse_file (path, &p, err);
  if (r == 0)
    cr_expect_not_null (p, "%s: no process returned", path);
  oci_process_free (p);
  return r;
}

static int
parse_resources (const char *path, hull_error_t *err)
{
  struct oci_linux_resources *res = NULL;
  int r = oci_resources_parse_file (path, &res, err);
  if (r == 0)
    cr_expect_not_null (res, "%s: no resources returned", path);
  oci_resources_free (res);
  return r;
}

static int
parse_settings (const char *path, hull_error_t *err)
{
  struct hull_settings s;
  int r = hull_settings_load (path, &s, err);
  if (r == 0)
    hull_settings_free (&s);
  return r;
}

static char *
read_expected (const char *json_path)
{
  char errpath[4096];
  char line[1024];
  size_t len = strlen (json_path);
  cleanup_fclose FILE *f = NULL;

  cr_assert (len > 5 && len < sizeof (errpath));
  snprintf (errpath, sizeof (errpath), "%.*s.err", (int) (len - 5), json_path);
  f = fopen (errpath, "r");
  cr_assert_not_null (f, "%s has no sidecar %s", json_path, errpath);
  cr_assert_not_null (fgets (line, sizeof (line), f), "%s is empty", errpath);
  line[strcspn (line, "\n")] = '\0';
  cr_assert (line[0] != '\0', "%s is empty", errpath);
  return strdup (line);
}

/* Runs every *.json in dir; returns how many there were. */
static size_t
run_dir (const char *dir, parse_fn parse, bool valid)
{
  char path[4096];
  cleanup_closedir DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;

  cr_assert_not_null (d, "cannot open %s (run the tests from the repository "
                         "root)", dir);
  while ((de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      cleanup_error hull_error_t err = NULL;
      int r;

      if (len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      snprintf (path, sizeof (path), "%s/%s", dir, de->d_name);
      n++;
      r = parse (path, &err);
      if (valid)
        {
          cr_expect_eq (r, 0, "%s should parse: %s", path,
                        hull_error_msg (&err));
          continue;
        }
      cleanup_free char *want = read_expected (path);
      cr_expect_lt (r, 0, "%s should be rejected with \"%s\"", path, want);
      if (r < 0)
        cr_expect_not_null (strstr (hull_error_msg (&err), want),
                            "%s: error \"%s\" does not contain \"%s\"", path,
                            hull_error_msg (&err), want);
    }
  return n;
}

/* Minimum counts keep the tests from passing on an empty directory. */
Test (oci_corpus, configs_valid)
{
  cr_expect_geq (run_dir (CORPUS "/valid", parse_config, true), 15);
}

Test (oci_corpus, configs_invalid)
{
  cr_expect_geq (run_dir (CORPUS "/invalid", parse_config, false), 110);
}

Test (oci_corpus, process_valid)
{
  cr_expect_geq (run_dir (CORPUS "/process-valid", parse_process, true), 5);
}

Test (oci_corpus, process_invalid)
{
  cr_expect_geq (run_dir (CORPUS "/process-invalid", parse_process, false),
                 5);
}

Test (oci_corpus, resources_valid)
{
  cr_expect_geq (run_dir (CORPUS "/resources-valid", parse_resources, true),
                 5);
}

Test (oci_corpus, resources_invalid)
{
  cr_expect_geq (
      run_dir (CORPUS "/resources-invalid", parse_resources, false), 4);
}

Test (oci_corpus, settings_valid)
{
  cr_expect_geq (run_dir (CORPUS "/settings-valid", parse_settings, true), 2);
}

Test (oci_corpus, settings_invalid)
{
  cr_expect_geq (run_dir (CORPUS "/settings-invalid", parse_settings, false),
                 6);
}

/* Robustness: damaged versions of a real config must be refused (or, for
 * harmless damage, accepted) without crashes or leaks; ASan/LSan watch. */
static char *
slurp (const char *path, size_t *len)
{
  cleanup_fclose FILE *f = fopen (path, "rb");
  char *buf;

  cr_assert_not_null (f, "open %s", path);
  cr_assert_eq (fseek (f, 0, SEEK_END), 0);
  *len = (size_t) ftell (f);
  rewind (f);
  buf = malloc (*len + 1);
  cr_assert_eq (fread (buf, 1, *len, f), *len);
  buf[*len] = '\0';
  return buf;
}

Test (oci_corpus, every_truncation_is_rejected)
{
  size_t len, cut;
  cleanup_free char *doc = slurp (CORPUS "/valid/docker-style.json", &len);

  /* The file ends in "}\n": every strict prefix misses the closing brace. */
  for (cut = 0; cut + 1 < len; cut += 3)
    {
      cleanup_error hull_error_t err = NULL;
      struct oci_config *c = NULL;

      cr_expect_lt (oci_config_parse_data (doc, cut, &c, &err), 0,
                    "prefix of %zu bytes accepted", cut);
      cr_expect_neq (hull_error_msg (&err)[0], '\0');
      oci_config_free (c);
    }
}

Test (oci_corpus, byte_damage_never_crashes)
{
  static const char subst[] = { '"', '{', '0', 'x' };
  size_t len, pos, k, rejected = 0;
  cleanup_free char *doc = slurp (CORPUS "/valid/full-1.2.json", &len);
  cleanup_free char *copy = malloc (len);

  for (pos = 0; pos < len; pos += 13)
    for (k = 0; k < sizeof (subst); k++)
      {
        cleanup_error hull_error_t err = NULL;
        struct oci_config *c = NULL;

        memcpy (copy, doc, len);
        copy[pos] = subst[k];
        if (oci_config_parse_data (copy, len, &c, &err) < 0)
          {
            rejected++;
            cr_expect_neq (hull_error_msg (&err)[0], '\0');
          }
        oci_config_free (c);
      }
  /* Most single-byte damage breaks the syntax or a typed value. */
  cr_expect_gt (rejected, len / 13);
}
