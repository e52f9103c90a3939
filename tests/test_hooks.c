/* Hooks: state JSON on stdin, order, args/env, failure stops the list and
 * names the hook, timeout kills the hook. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/hooks.h"

static char dir[] = "/tmp/hull-test-hooks.XXXXXX";

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

/* A hook running `sh -c SCRIPT` with $D = dir. */
static struct oci_hook
sh_hook (const char *script, int timeout)
{
  struct oci_hook h = { .path = "/bin/sh" };
  static char *argvs[8][4];
  static char *envs[8][2];
  static char envbuf[8][128];
  static int n;
  int i = n++ % 8;

  snprintf (envbuf[i], sizeof (envbuf[i]), "D=%s", dir);
  argvs[i][0] = "sh";
  argvs[i][1] = "-c";
  argvs[i][2] = (char *) script;
  argvs[i][3] = NULL;
  envs[i][0] = envbuf[i];
  envs[i][1] = NULL;
  h.args = (struct oci_strv){ .v = argvs[i], .n = 3 };
  h.env = (struct oci_strv){ .v = envs[i], .n = 1 };
  h.has_timeout = timeout > 0;
  h.timeout = timeout;
  return h;
}

static char *
slurp (const char *name)
{
  static char buf[4096];
  char path[128];
  FILE *f;
  size_t n;

  snprintf (path, sizeof (path), "%s/%s", dir, name);
  f = fopen (path, "r");
  if (f == NULL)
    return NULL;
  n = fread (buf, 1, sizeof (buf) - 1, f);
  buf[n] = '\0';
  fclose (f);
  return buf;
}

Test (hooks, stdin_order_env, .init = setup, .fini = teardown)
{
  struct oci_hook h[2] = { sh_hook ("cat > $D/state; echo one >> $D/order", 0),
                           sh_hook ("echo two >> $D/order", 0) };
  struct oci_hook_list list = { h, 2 };
  hull_error_t err = NULL;
  const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"c\",\"status\":\"creating\"}";

  cr_assert_eq (hooks_run (&list, OCI_HOOK_PRESTART, state, NULL, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_str_eq (slurp ("state"), state);
  cr_assert_str_eq (slurp ("order"), "one\ntwo\n");
}

Test (hooks, failure_stops_and_names_hook, .init = setup, .fini = teardown)
{
  struct oci_hook h[2] = { sh_hook ("exit 3", 0), sh_hook ("touch $D/ran", 0) };
  struct oci_hook_list list = { h, 2 };
  hull_error_t err = NULL;

  cr_assert_lt (hooks_run (&list, OCI_HOOK_CREATE_RUNTIME, "{}", NULL, &err), 0);
  cr_assert_str_eq (hull_error_msg (&err),
                    "createRuntime hook 0 `/bin/sh` exited with status 3");
  cr_assert_null (slurp ("ran"), "the hook after the failing one ran");
  hull_error_free (&err);
}

Test (hooks, timeout, .init = setup, .fini = teardown)
{
  /* exec: the hook process itself sleeps, so the kill on timeout leaves
   * no orphaned `sleep` holding the run's stdout and stderr open. */
  struct oci_hook h = sh_hook ("exec sleep 20", 1);
  struct oci_hook_list list = { &h, 1 };
  hull_error_t err = NULL;
  time_t start = time (NULL);

  cr_assert_lt (hooks_run (&list, OCI_HOOK_POSTSTOP, "{}", NULL, &err), 0);
  cr_assert_lt (time (NULL) - start, 5, "timeout not honoured");
  cr_assert_not_null (strstr (hull_error_msg (&err), "timed out after 1 s"));
  hull_error_free (&err);
}

Test (hooks, killed_and_missing, .init = setup, .fini = teardown)
{
  struct oci_hook h = sh_hook ("kill -KILL $$", 0);
  struct oci_hook missing = { .path = "/nonexistent/hook" };
  struct oci_hook_list list = { &h, 1 }, list2 = { &missing, 1 };
  hull_error_t err = NULL;

  cr_assert_lt (hooks_run (&list, OCI_HOOK_POSTSTART, "{}", NULL, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "killed by signal 9"));
  hull_error_free (&err);
  cr_assert_lt (hooks_run (&list2, OCI_HOOK_START_CONTAINER, "{}", NULL, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "startContainer hook 0 `/nonexistent/hook`"));
  hull_error_free (&err);
}

Test (hooks, empty_list)
{
  struct oci_hook_list list = { NULL, 0 };
  hull_error_t err = NULL;
  cr_assert_eq (hooks_run (&list, OCI_HOOK_PRESTART, "{}", NULL, &err), 0);
}
