/* hull's log: --log FILE, --log-format text|json, --debug.
 * json lines are {"level":..,"msg":..,"time":..}; containerd's shim reads
 * the log after a failed command and reports the last "error" line, so
 * every error the CLI prints also goes here.  Each line is one write(2) on
 * an O_APPEND fd, so concurrent hull processes never interleave lines. */
#ifndef HULL_LOG_H
#define HULL_LOG_H

#include <stdbool.h>
#include <time.h>

#include "runtime/error.h"

enum log_level
{
  LOG_LEVEL_ERROR,
  LOG_LEVEL_WARNING,
  LOG_LEVEL_INFO,
  LOG_LEVEL_DEBUG,
};

struct hull_log
{
  int fd;            /* -1: no log file */
  bool json;
  bool debug;        /* debug lines are dropped unless set */
  bool to_stderr;    /* errors are also printed as "hull: msg" on stderr */
};

/* Parse --log-format. */
int log_parse_format (const char *text, bool *json, hull_error_t *err);

/* Open `path` (may be NULL: no file).  Initialises *log either way. */
int log_open (struct hull_log *log, const char *path, bool json, bool debug, hull_error_t *err);
void log_close (struct hull_log *log);

/* Format one line (with trailing newline) into a malloc'd string. */
char *log_format_line (bool json, enum log_level level, const char *msg,
                       const struct timespec *when);

void log_msg (struct hull_log *log, enum log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Report a failed operation: stderr ("hull: <msg>") and the log. */
void log_report_error (struct hull_log *log, const hull_error_t *err);

#define log_error(l, ...) log_msg ((l), LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(l, ...) log_msg ((l), LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(l, ...) log_msg ((l), LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(l, ...) log_msg ((l), LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
