#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/json_gen.h"

static const char *
level_name (enum log_level level)
{
  switch (level)
    {
    case LOG_LEVEL_ERROR:
      return "error";
    case LOG_LEVEL_WARNING:
      return "warning";
    case LOG_LEVEL_INFO:
      return "info";
    default:
      return "debug";
    }
}

int
log_parse_format (const char *text, bool *json, hull_error_t *err)
{
  if (strcmp (text, "text") == 0)
    *json = false;
  else if (strcmp (text, "json") == 0)
    *json = true;
  else
    return hull_error (err, 0, "--log-format: unknown format `%s` (use text or json)", text);
  return 0;
}

int
log_open (struct hull_log *log, const char *path, bool json, bool debug, hull_error_t *err)
{
  log->fd = -1;
  log->json = json;
  log->debug = debug;
  log->to_stderr = true;
  if (path == NULL || path[0] == '\0')
    return 0;
  log->fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log->fd < 0)
    return hull_error (err, errno, "open log file `%s`", path);
  return 0;
}

void
log_close (struct hull_log *log)
{
  if (log->fd >= 0)
    close (log->fd);
  log->fd = -1;
}

static void
format_time (const struct timespec *when, char *buf, size_t len)
{
  struct tm tm;
  char base[32];

  gmtime_r (&when->tv_sec, &tm);
  strftime (base, sizeof (base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, len, "%s.%09ldZ", base, (long) when->tv_nsec);
}

static char *
json_line (const char *level, const char *msg, const char *time)
{
  cleanup_error hull_error_t err = NULL;
  struct json_gen g;
  char *doc = NULL, *line = NULL;

  if (json_gen_init (&g, &err) < 0)
    return NULL;
  json_gen_open_object (&g);
  json_gen_kv_string (&g, "level", level);
  json_gen_kv_string (&g, "msg", msg);
  json_gen_kv_string (&g, "time", time);
  json_gen_close_object (&g);
  if (json_gen_finish (&g, &doc, NULL, &err) < 0)
    return NULL;
  if (asprintf (&line, "%s\n", doc) < 0)
    line = NULL;
  free (doc);
  return line;
}

/* logfmt-style text: time="..." level=error msg="..." with quotes and
 * backslashes escaped and newlines folded, so one event stays one line. */
static char *
text_line (const char *level, const char *msg, const char *time)
{
  size_t len = strlen (msg);
  char *esc = malloc (len * 2 + 1), *p = esc, *line = NULL;

  if (esc == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++)
    {
      char c = msg[i];
      if (c == '"' || c == '\\')
        *p++ = '\\', *p++ = c;
      else if (c == '\n')
        *p++ = '\\', *p++ = 'n';
      else
        *p++ = c;
    }
  *p = '\0';
  if (asprintf (&line, "time=\"%s\" level=%s msg=\"%s\"\n", time, level, esc) < 0)
    line = NULL;
  free (esc);
  return line;
}

char *
log_format_line (bool json, enum log_level level, const char *msg, const struct timespec *when)
{
  char time[64];

  format_time (when, time, sizeof (time));
  if (json)
    return json_line (level_name (level), msg, time);
  return text_line (level_name (level), msg, time);
}

static void
log_write_line (struct hull_log *log, enum log_level level, const char *msg)
{
  struct timespec now;
  char *line;
  ssize_t r;

  if (log == NULL || log->fd < 0 || (level == LOG_LEVEL_DEBUG && ! log->debug))
    return;
  clock_gettime (CLOCK_REALTIME, &now);
  line = log_format_line (log->json, level, msg, &now);
  if (line == NULL)
    return;
  r = write (log->fd, line, strlen (line));
  (void) r; /* nowhere left to report a failing log write */
  free (line);
}

void
log_msg (struct hull_log *log, enum log_level level, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;
  if (log != NULL && log->debug && log->fd < 0 && log->to_stderr)
    fprintf (stderr, "hull: %s: %s\n", level_name (level), msg);
  log_write_line (log, level, msg);
  free (msg);
}

void
log_report_error (struct hull_log *log, const hull_error_t *err)
{
  const char *msg = hull_error_msg (err);

  if (msg[0] == '\0')
    msg = "unknown error";
  if (log == NULL || log->to_stderr)
    fprintf (stderr, "hull: %s\n", msg);
  log_write_line (log, LOG_LEVEL_ERROR, msg);
}
