/* The path-tracking JSON reader (runtime/json.h): limits on hostile input,
 * typed getters and the paths they put in errors. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/json.h"

/* Parses s; returns the tree or NULL with *err set. */
static yajl_val
parse (const char *s, hull_error_t *err)
{
  yajl_val v = NULL;
  if (json_parse (s, strlen (s), &v, err) < 0)
    return NULL;
  return v;
}

static void
expect_parse_error (const char *s, size_t len, const char *want)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val v = NULL;

  cr_expect_lt (json_parse (s, len, &v, &err), 0, "accepted: %.60s", s);
  cr_expect_null (v);
  cr_expect_not_null (strstr (hull_error_msg (&err), want),
                      "error \"%s\" lacks \"%s\"", hull_error_msg (&err),
                      want);
  json_free (v);
}

/* n nested arrays. */
static char *
nested (size_t n)
{
  char *s = malloc (2 * n + 1);
  memset (s, '[', n);
  memset (s + n, ']', n);
  s[2 * n] = '\0';
  return s;
}

Test (json, depth_limit)
{
  cleanup_free char *ok = nested (HULL_JSON_MAX_DEPTH);
  cleanup_free char *deep = nested (HULL_JSON_MAX_DEPTH + 1);
  cleanup_free char *huge = nested (1000000); /* would overflow a naive free */
  cleanup_error hull_error_t err = NULL;
  yajl_val v = parse (ok, &err);

  cr_expect_not_null (v, "%s", hull_error_msg (&err));
  json_free (v);
  expect_parse_error (deep, strlen (deep), "nesting deeper than 64");
  expect_parse_error (huge, strlen (huge), "nesting deeper than 64");
}

Test (json, brackets_in_strings_do_not_count)
{
  cleanup_free char *s = NULL;
  cleanup_error hull_error_t err = NULL;
  yajl_val v;

  cr_assert (asprintf (&s, "{\"a\": \"%0200d\\\"[[[[{{{{\"}", 0) > 0);
  for (char *p = strchr (s, '0'); *p == '0'; p++)
    *p = '[';
  v = parse (s, &err);
  cr_expect_not_null (v, "%s", hull_error_msg (&err));
  json_free (v);
}

Test (json, entries_limit)
{
  size_t n = HULL_JSON_MAX_ENTRIES + 1, i;
  cleanup_free char *s = malloc (2 * n + 3);
  char *p = s;

  *p++ = '[';
  for (i = 0; i < n; i++)
    {
      *p++ = '0';
      *p++ = ',';
    }
  p[-1] = ']';
  *p = '\0';
  expect_parse_error (s, strlen (s), "more than 65536 entries");
}

Test (json, total_values_limit)
{
  /* 32 arrays of 40000 numbers: every container is under the entry limit,
   * the document is over the value limit. */
  size_t arrays = 32, per = 40000, a, i;
  cleanup_free char *s = malloc (arrays * (per * 2 + 2) + 3);
  char *p = s;

  *p++ = '[';
  for (a = 0; a < arrays; a++)
    {
      *p++ = '[';
      for (i = 0; i < per; i++)
        {
          *p++ = '1';
          *p++ = ',';
        }
      p[-1] = ']';
      *p++ = ',';
    }
  p[-1] = ']';
  *p = '\0';
  expect_parse_error (s, strlen (s), "more than 1048576 values");
}

Test (json, size_limit)
{
  size_t len = HULL_JSON_MAX_INPUT + 1;
  cleanup_free char *s = malloc (len);

  memset (s, ' ', len);
  s[0] = '{';
  s[len - 1] = '}';
  expect_parse_error (s, len, "larger than 16777216 bytes");
}

Test (json, nul_and_comments_and_empty)
{
  static const char with_nul[] = "{\"a\": 1}\0 garbage";
  expect_parse_error (with_nul, sizeof (with_nul) - 1, "NUL byte");
  expect_parse_error ("{\"a\": \"x\\u0000y\"}", 17, "\\u0000");
  expect_parse_error ("{\"a\": 1 // hi\n}", 15, "comments are not allowed");
  expect_parse_error ("", 0, "empty document");
  expect_parse_error ("  \n ", 4, "empty document");
  expect_parse_error (NULL, 0, "empty document");
  expect_parse_error ("{\"a\": \"\xc3\x28\"}", 11, "invalid JSON");
  expect_parse_error ("{\"a\": 1} {\"b\": 2}", 17, "invalid JSON");
  expect_parse_error ("{\"a\": [1, 2}", 12, "invalid JSON");
}

Test (json, escaped_backslash_before_u0000_is_fine)
{
  /* "\\u0000" is a backslash followed by the text u0000, not a NUL. */
  cleanup_error hull_error_t err = NULL;
  yajl_val v = parse ("{\"a\": \"\\\\u0000\"}", &err);
  struct json_node root, m;
  cleanup_free char *s = NULL;

  cr_assert_not_null (v, "%s", hull_error_msg (&err));
  root = json_root (v);
  cr_assert_eq (json_get_string (&root, "a", JSON_REQUIRED, &s, &err), 1);
  cr_expect_str_eq (s, "\\u0000");
  m = json_child (&root, "a");
  cr_expect_not_null (m.v);
  json_free (v);
}

Test (json, integers)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val v = parse ("{\"max\": 18446744073709551615, \"over\": "
                      "18446744073709551616, \"neg\": -5, \"min\": "
                      "-9223372036854775808, \"frac\": 1.5, \"exp\": 1e3, "
                      "\"str\": \"1\", \"u32\": 4294967296}",
                      &err);
  struct json_node root;
  uint64_t u = 0;
  int64_t i = 0;
  uint32_t u32 = 0;

  cr_assert_not_null (v, "%s", hull_error_msg (&err));
  root = json_root (v);
  cr_expect_eq (json_get_uint64 (&root, "max", JSON_REQUIRED, &u, &err), 1);
  cr_expect_eq (u, UINT64_MAX);
  cr_expect_lt (json_get_uint64 (&root, "over", JSON_REQUIRED, &u, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "over: 18446744073709551616 out of range "
                    "0..18446744073709551615");
  cr_expect_lt (json_get_uint64 (&root, "neg", JSON_REQUIRED, &u, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "neg: expected unsigned integer, got -5");
  cr_expect_eq (json_get_int64 (&root, "neg", JSON_REQUIRED, &i, &err), 1);
  cr_expect_eq (i, -5);
  cr_expect_eq (json_get_int64 (&root, "min", JSON_REQUIRED, &i, &err), 1);
  cr_expect_eq (i, INT64_MIN);
  cr_expect_lt (json_get_int64 (&root, "frac", JSON_REQUIRED, &i, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "frac: expected integer, got a non-integer number");
  cr_expect_lt (json_get_int64 (&root, "exp", JSON_REQUIRED, &i, &err), 0);
  cr_expect_lt (json_get_int64 (&root, "str", JSON_REQUIRED, &i, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "str: expected integer, got string");
  cr_expect_lt (json_get_uint32 (&root, "u32", JSON_REQUIRED, &u32, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "u32: 4294967296 out of range 0..4294967295");
  json_free (v);
}

Test (json, presence_and_paths)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val v = parse ("{\"a\": {\"b\": [true, {\"c\": null}], "
                      "\"odd.key\": {\"d\": 1}}, \"dup\": 1, \"dup\": 2}",
                      &err);
  struct json_node root, a, b, e1, c, odd, d;
  bool flag = false;
  size_t len;
  int64_t i;

  cr_assert_not_null (v, "%s", hull_error_msg (&err));
  root = json_root (v);
  cr_expect_eq (json_member (&root, "missing", JSON_OPTIONAL, &a, &err), 0);
  cr_expect_null (a.v);
  cr_expect_lt (json_member (&root, "missing", JSON_REQUIRED, &a, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err), "missing: required field missing");
  cr_expect_lt (json_member (&root, "dup", JSON_OPTIONAL, &a, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err), "dup: duplicate key");
  cr_expect_lt (json_object_unique (&root, &err), 0);

  cr_assert_eq (json_member (&root, "a", JSON_REQUIRED, &a, &err), 1);
  cr_assert_eq (json_member (&a, "b", JSON_REQUIRED, &b, &err), 1);
  cr_assert_eq (json_expect_array (&b, &len, &err), 0);
  cr_expect_eq (len, 2);
  e1 = json_element (&b, 0);
  cr_expect_eq (json_as_bool (&e1, &flag, &err), 0);
  cr_expect (flag);
  e1 = json_element (&b, 1);
  cr_assert_eq (json_member (&e1, "c", JSON_OPTIONAL, &c, &err), 1);
  cr_expect_lt (json_as_bool (&c, &flag, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "a.b[1].c: expected boolean, got null");

  cr_assert_eq (json_member (&a, "odd.key", JSON_REQUIRED, &odd, &err), 1);
  cr_assert_eq (json_member (&odd, "d", JSON_REQUIRED, &d, &err), 1);
  cr_expect_lt (json_as_int (&d, 2, 3, &i, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "a[\"odd.key\"].d: 1 out of range 2..3");

  cr_expect_lt (json_expect_object (&b, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err), "a.b: expected object, got array");
  cr_expect_lt (json_expect_array (&root, &len, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "(top level): expected array, got object");
  json_free (v);
}

Test (json, strv)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val v = parse ("{\"s\": [\"a\", \"b\"], \"e\": [], \"bad\": [\"a\", "
                      "1]}",
                      &err);
  struct json_node root;
  char **s = NULL;
  size_t n = 99;

  cr_assert_not_null (v);
  root = json_root (v);
  cr_assert_eq (json_get_strv (&root, "s", JSON_REQUIRED, &s, &n, &err), 1);
  cr_expect_eq (n, 2);
  cr_expect_str_eq (s[0], "a");
  cr_expect_str_eq (s[1], "b");
  cr_expect_null (s[2]);
  json_strv_free (s);
  s = NULL;
  cr_expect_eq (json_get_strv (&root, "e", JSON_REQUIRED, &s, &n, &err), 1);
  cr_expect_eq (n, 0);
  cr_expect_null (s);
  cr_expect_lt (json_get_strv (&root, "bad", JSON_REQUIRED, &s, &n, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err),
                    "bad[1]: expected string, got number");
  cr_expect_null (s);
  json_free (v);
}

Test (json, read_file)
{
  char path[] = "/tmp/hull-test-json-XXXXXX";
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;
  int fd = mkstemp (path);

  cr_assert_geq (fd, 0);
  cr_assert_eq (write (fd, "{\"x\": 1}", 8), 8);
  cr_assert_eq (json_read_file (path, &data, &len, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (len, 8);
  cr_expect_str_eq (data, "{\"x\": 1}");
  /* Over the cap: refused from the size, without reading it all. */
  cr_assert_eq (ftruncate (fd, (off_t) HULL_JSON_MAX_INPUT + 1), 0);
  cr_expect_lt (json_read_file (path, &data, &len, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), "larger than"));
  close (fd);
  unlink (path);
  cr_expect_lt (json_read_file (path, &data, &len, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), path));
  cr_expect_lt (json_read_file ("/tmp", &data, &len, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), "Is a directory"));
}

Test (json, read_pipe_over_cap)
{
  /* /dev/zero has no size to check up front; the reader must stop at the
   * cap instead of reading forever. */
  cleanup_error hull_error_t err = NULL;
  char *data = NULL;
  size_t len = 0;

  cr_expect_lt (json_read_file ("/dev/zero", &data, &len, &err), 0);
  cr_expect_null (data);
  cr_expect_not_null (strstr (hull_error_msg (&err), "larger than"), "%s",
                      hull_error_msg (&err));
}

/* ---- json_gen ------------------------------------------------------------ */
#include "runtime/json_gen.h"

Test (json_gen, round_trip_through_the_reader)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *text = NULL;
  char *argv[] = { "sh", "-c", "echo \"hi\"\n", NULL };
  struct json_gen g;
  struct json_node root, m;
  yajl_val v;
  size_t len = 0;
  uint64_t u = 0;
  int64_t i = 0;
  char **strv = NULL;
  size_t n = 0;

  cr_assert_eq (json_gen_init (&g, &err), 0);
  json_gen_open_object (&g);
  json_gen_kv_string (&g, "id", "c1/../x");
  json_gen_kv_uint (&g, "big", UINT64_MAX);
  json_gen_kv_int (&g, "neg", INT64_MIN);
  json_gen_kv_bool (&g, "ok", true);
  json_gen_kv_string (&g, "none", NULL);
  json_gen_kv_strv (&g, "argv", argv);
  json_gen_close_object (&g);
  cr_assert_eq (json_gen_finish (&g, &text, &len, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (strlen (text), len);

  v = parse (text, &err);
  cr_assert_not_null (v, "%s: %s", text, hull_error_msg (&err));
  root = json_root (v);
  cr_expect_eq (json_get_uint64 (&root, "big", JSON_REQUIRED, &u, &err), 1);
  cr_expect_eq (u, UINT64_MAX);
  cr_expect_eq (json_get_int64 (&root, "neg", JSON_REQUIRED, &i, &err), 1);
  cr_expect_eq (i, INT64_MIN);
  cr_expect_eq (json_member (&root, "none", JSON_REQUIRED, &m, &err), 1);
  cr_expect (YAJL_IS_NULL (m.v));
  cr_expect_eq (json_get_strv (&root, "argv", JSON_REQUIRED, &strv, &n, &err),
                1);
  cr_expect_eq (n, 3);
  cr_expect_str_eq (strv[2], "echo \"hi\"\n");
  json_strv_free (strv);
  json_free (v);
}

Test (json_gen, errors_are_latched)
{
  cleanup_error hull_error_t err = NULL;
  char *text = NULL;
  struct json_gen g;

  /* A number where a key belongs. */
  cr_assert_eq (json_gen_init (&g, &err), 0);
  json_gen_open_object (&g);
  json_gen_int (&g, 1);
  json_gen_string (&g, "x");
  json_gen_close_object (&g);
  cr_expect_lt (json_gen_finish (&g, &text, NULL, &err), 0);
  cr_expect_null (text);
  cr_expect_not_null (strstr (hull_error_msg (&err), "key"), "%s",
                      hull_error_msg (&err));

  /* Invalid UTF-8 is refused rather than written. */
  cr_assert_eq (json_gen_init (&g, &err), 0);
  json_gen_string (&g, "\xff");
  cr_expect_lt (json_gen_finish (&g, &text, NULL, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), "UTF-8"));

  /* Unclosed and empty documents. */
  cr_assert_eq (json_gen_init (&g, &err), 0);
  json_gen_open_array (&g);
  cr_expect_lt (json_gen_finish (&g, &text, NULL, &err), 0);
  cr_assert_eq (json_gen_init (&g, &err), 0);
  cr_expect_lt (json_gen_finish (&g, &text, NULL, &err), 0);
  cr_expect_null (text);

  cr_assert_eq (json_gen_init_opts (&g, true, &err), 0);
  json_gen_discard (&g);
}

Test (json, long_values_are_cut_in_messages)
{
  size_t digits = 100000;
  cleanup_free char *s = malloc (digits + 16);
  cleanup_error hull_error_t err = NULL;
  struct json_node root;
  yajl_val v;
  int64_t i;

  strcpy (s, "{\"n\": ");
  memset (s + 6, '9', digits);
  strcpy (s + 6 + digits, "}");
  v = parse (s, &err);
  cr_assert_not_null (v, "%s", hull_error_msg (&err));
  root = json_root (v);
  cr_expect_lt (json_get_int64 (&root, "n", JSON_REQUIRED, &i, &err), 0);
  cr_expect_leq (strlen (hull_error_msg (&err)), 600);
  cr_expect_not_null (strstr (hull_error_msg (&err), "..."));
  cr_expect_eq (strncmp (hull_error_msg (&err), "n: 999", 6), 0);
  json_free (v);
}

Test (json, read_stdin_dash)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;
  int p[2];

  cr_assert_eq (pipe (p), 0);
  cr_assert_eq (write (p[1], "{\"pids\": {\"limit\": 5}}", 22), 22);
  close (p[1]);
  cr_assert_eq (dup2 (p[0], STDIN_FILENO), STDIN_FILENO);
  close (p[0]);
  cr_assert_eq (json_read_file ("-", &data, &len, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (len, 22);
  cr_expect_str_eq (data, "{\"pids\": {\"limit\": 5}}");
}
