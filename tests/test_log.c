/* Log lines: text (logfmt-like) and json ({"level","msg","time"}, valid
 * JSON with escaping, one line per event); the log file gets what
 * log_report_error reports. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/log.h"

static const struct timespec when = { .tv_sec = 1700000000, .tv_nsec = 123 };

static const char *
get_str (yajl_val v, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val s = yajl_tree_get (v, path, yajl_t_string);
  cr_assert_not_null (s, "missing %s", key);
  return YAJL_GET_STRING (s);
}

Test (log, json_line_is_valid_json)
{
  const char *msg = "bad \"quote\" \\ back\nnew\tline \x01 \xc3\xa9";
  char *line = log_format_line (true, LOG_LEVEL_ERROR, msg, &when), ebuf[128];
  yajl_val v;

  cr_assert_not_null (line);
  cr_assert_eq (line[strlen (line) - 1], '\n');
  cr_assert_null (strchr (line, '\n') + 1 == line + strlen (line) ? NULL : line,
                  "more than one line: %s", line);
  v = yajl_tree_parse (line, ebuf, sizeof (ebuf));
  cr_assert_not_null (v, "invalid JSON (%s): %s", ebuf, line);
  cr_assert_str_eq (get_str (v, "level"), "error");
  cr_assert_str_eq (get_str (v, "msg"), msg);
  cr_assert_str_eq (get_str (v, "time"), "2023-11-14T22:13:20.000000123Z");
  yajl_tree_free (v);
  free (line);
}

Test (log, text_line)
{
  char *line = log_format_line (false, LOG_LEVEL_WARNING, "say \"hi\"\nthere", &when);

  cr_assert_str_eq (line, "time=\"2023-11-14T22:13:20.000000123Z\" level=warning "
                          "msg=\"say \\\"hi\\\"\\nthere\"\n");
  free (line);
}

Test (log, parse_format)
{
  hull_error_t err = NULL;
  bool json = false;

  cr_assert_eq (log_parse_format ("json", &json, &err), 0);
  cr_assert (json);
  cr_assert_eq (log_parse_format ("text", &json, &err), 0);
  cr_assert_not (json);
  cr_assert_lt (log_parse_format ("xml", &json, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "`xml`"));
  hull_error_free (&err);
}

Test (log, file_gets_errors_and_filters_debug)
{
  char path[] = "/tmp/hull-test-log.XXXXXX", buf[4096] = { 0 }, ebuf[128];
  int fd = mkstemp (path);
  struct hull_log log;
  hull_error_t err = NULL, e = NULL;
  FILE *f;
  char *last = NULL, *line = NULL;
  size_t cap = 0;
  int lines = 0;
  yajl_val v;

  close (fd);
  cr_assert_eq (log_open (&log, path, true, false, &err), 0);
  log.to_stderr = false;
  log_debug (&log, "dropped without --debug");
  log_info (&log, "kept");
  hull_error (&e, 0, "container `x` does not exist");
  log_report_error (&log, &e);
  hull_error_free (&e);
  log_close (&log);
  f = fopen (path, "r");
  while (getline (&line, &cap, f) > 0)
    {
      lines++;
      free (last);
      last = strdup (line);
    }
  free (line);
  fclose (f);
  unlink (path);
  cr_assert_eq (lines, 2, "expected 2 lines");
  v = yajl_tree_parse (last, ebuf, sizeof (ebuf));
  cr_assert_not_null (v);
  cr_assert_str_eq (get_str (v, "level"), "error");
  cr_assert_str_eq (get_str (v, "msg"), "container `x` does not exist");
  yajl_tree_free (v);
  free (last);
  (void) buf;
}

Test (log, open_error_names_path)
{
  struct hull_log log;
  hull_error_t err = NULL;

  cr_assert_lt (log_open (&log, "/nonexistent-dir/log", false, false, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "/nonexistent-dir/log"));
  hull_error_free (&err);
}
