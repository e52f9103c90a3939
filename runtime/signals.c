#include "runtime/signals.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct signal_entry
{
  const char *name;
  int signo;
};

static const struct signal_entry signal_table[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
  { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
  { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CLD", SIGCHLD },    { "CONT", SIGCONT },
  { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
  { "URG", SIGURG },     { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
  { "PROF", SIGPROF },   { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },
  { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

/* A decimal number in [lo, hi] spanning the whole string, or -1. */
static int
parse_small_uint (const char *s, int lo, int hi)
{
  char *end = NULL;
  long v;

  if (! isdigit ((unsigned char) s[0]))
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return -1;
  return (int) v;
}

/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (already stripped of SIG). */
static int
parse_rt (const char *name)
{
  int base, sign, off;
  const char *rest;

  if (strncasecmp (name, "RTMIN", 5) == 0)
    base = SIGRTMIN, sign = 1;
  else if (strncasecmp (name, "RTMAX", 5) == 0)
    base = SIGRTMAX, sign = -1;
  else
    return -1;
  rest = name + 5;
  if (*rest == '\0')
    return base;
  if ((sign > 0 && *rest != '+') || (sign < 0 && *rest != '-'))
    return -1;
  off = parse_small_uint (rest + 1, 0, SIGRTMAX - SIGRTMIN);
  if (off < 0)
    return -1;
  return base + sign * off;
}

int
signal_parse (const char *text, hull_error_t *err)
{
  const char *name;
  int n;

  if (text == NULL || text[0] == '\0')
    return hull_error (err, 0, "empty signal name");
  if (isdigit ((unsigned char) text[0]))
    {
      n = parse_small_uint (text, 1, SIGRTMAX);
      if (n < 0)
        return hull_error (err, 0, "invalid signal number `%s` (valid: 1..%d)", text, SIGRTMAX);
      return n;
    }
  name = strncasecmp (text, "SIG", 3) == 0 ? text + 3 : text;
  for (size_t i = 0; i < sizeof (signal_table) / sizeof (signal_table[0]); i++)
    if (strcasecmp (name, signal_table[i].name) == 0)
      return signal_table[i].signo;
  n = parse_rt (name);
  if (n > 0)
    return n;
  return hull_error (err, 0, "unknown signal `%s`", text);
}

const char *
signal_name (int signo, char *buf, size_t len)
{
  for (size_t i = 0; i < sizeof (signal_table) / sizeof (signal_table[0]); i++)
    if (signal_table[i].signo == signo)
      {
        snprintf (buf, len, "%s", signal_table[i].name);
        return buf;
      }
  if (signo >= SIGRTMIN && signo <= SIGRTMAX)
    {
      if (signo == SIGRTMIN)
        snprintf (buf, len, "RTMIN");
      else
        snprintf (buf, len, "RTMIN+%d", signo - SIGRTMIN);
      return buf;
    }
  snprintf (buf, len, "%d", signo);
  return buf;
}
