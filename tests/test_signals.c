/* signal_parse: names with and without SIG, any case, numbers, RT
 * signals; bad input gives an error that quotes it. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "runtime/signals.h"

static int
parse_ok (const char *s)
{
  hull_error_t err = NULL;
  int r = signal_parse (s, &err);
  cr_assert_gt (r, 0, "`%s`: %s", s, hull_error_msg (&err));
  return r;
}

static void
parse_bad (const char *s, const char *needle)
{
  hull_error_t err = NULL;
  cr_assert_lt (signal_parse (s, &err), 0, "`%s` accepted", s ? s : "(null)");
  cr_assert_not_null (strstr (hull_error_msg (&err), needle), "message: %s",
                      hull_error_msg (&err));
  hull_error_free (&err);
}

Test (signals, names)
{
  cr_assert_eq (parse_ok ("TERM"), SIGTERM);
  cr_assert_eq (parse_ok ("SIGTERM"), SIGTERM);
  cr_assert_eq (parse_ok ("sigkill"), SIGKILL);
  cr_assert_eq (parse_ok ("kill"), SIGKILL);
  cr_assert_eq (parse_ok ("HUP"), SIGHUP);
  cr_assert_eq (parse_ok ("USR1"), SIGUSR1);
  cr_assert_eq (parse_ok ("SIGWINCH"), SIGWINCH);
  cr_assert_eq (parse_ok ("CHLD"), SIGCHLD);
}

Test (signals, numbers)
{
  cr_assert_eq (parse_ok ("9"), 9);
  cr_assert_eq (parse_ok ("15"), 15);
  cr_assert_eq (parse_ok ("1"), 1);
  cr_assert_eq (parse_ok ("64"), SIGRTMAX);
}

Test (signals, realtime)
{
  cr_assert_eq (parse_ok ("RTMIN"), SIGRTMIN);
  cr_assert_eq (parse_ok ("SIGRTMIN+3"), SIGRTMIN + 3);
  cr_assert_eq (parse_ok ("RTMAX"), SIGRTMAX);
  cr_assert_eq (parse_ok ("rtmax-2"), SIGRTMAX - 2);
}

Test (signals, bad)
{
  parse_bad ("NOPE", "unknown signal `NOPE`");
  parse_bad ("SIG", "unknown signal");
  parse_bad ("", "empty");
  parse_bad (NULL, "empty");
  parse_bad ("0", "invalid signal number `0`");
  parse_bad ("65", "invalid signal number");
  parse_bad ("9x", "invalid signal number");
  parse_bad ("-9", "unknown signal");
  parse_bad ("RTMIN-1", "unknown signal");
  parse_bad ("RTMIN+99", "unknown signal");
  parse_bad ("TERMx", "unknown signal");
}

Test (signals, names_round_trip)
{
  char buf[32];

  cr_assert_str_eq (signal_name (SIGTERM, buf, sizeof (buf)), "TERM");
  cr_assert_str_eq (signal_name (SIGRTMIN + 2, buf, sizeof (buf)), "RTMIN+2");
  for (int s = 1; s <= SIGRTMAX; s++)
    cr_assert_eq (parse_ok (signal_name (s, buf, sizeof (buf))), s, "signal %d (%s)", s, buf);
}
