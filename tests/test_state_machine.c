/* The runtime-spec status machine: which operations each status allows,
 * and the error texts containerd depends on. */
#include <criterion/criterion.h>
#include <string.h>

#include "runtime/state.h"

static void
allowed (enum container_status s, enum container_op op)
{
  hull_error_t err = NULL;
  cr_assert_eq (state_check_op ("c1", s, op, &err), 0, "status %s op %d: %s",
                container_status_name (s), op, hull_error_msg (&err));
}

static void
refused (enum container_status s, enum container_op op, const char *needle)
{
  hull_error_t err = NULL;
  cr_assert_lt (state_check_op ("c1", s, op, &err), 0, "status %s op %d allowed",
                container_status_name (s), op);
  cr_assert_not_null (strstr (hull_error_msg (&err), needle), "message: %s",
                      hull_error_msg (&err));
  cr_assert_not_null (strstr (hull_error_msg (&err), "`c1`"), "no id in: %s",
                      hull_error_msg (&err));
  hull_error_free (&err);
}

Test (state_machine, start)
{
  allowed (STATUS_CREATED, OP_START);
  refused (STATUS_RUNNING, OP_START, "running");
  refused (STATUS_STOPPED, OP_START, "stopped");
  refused (STATUS_PAUSED, OP_START, "paused");
}

Test (state_machine, kill)
{
  allowed (STATUS_CREATED, OP_KILL);
  allowed (STATUS_RUNNING, OP_KILL);
  allowed (STATUS_PAUSED, OP_KILL);
  refused (STATUS_STOPPED, OP_KILL, "container not running");
}

Test (state_machine, pause_resume)
{
  allowed (STATUS_RUNNING, OP_PAUSE);
  refused (STATUS_CREATED, OP_PAUSE, "container not running");
  refused (STATUS_PAUSED, OP_PAUSE, "already paused");
  refused (STATUS_STOPPED, OP_PAUSE, "container not running");
  allowed (STATUS_PAUSED, OP_RESUME);
  refused (STATUS_RUNNING, OP_RESUME, "not paused");
}

Test (state_machine, exec)
{
  allowed (STATUS_RUNNING, OP_EXEC);
  refused (STATUS_CREATED, OP_EXEC, "container not running");
  refused (STATUS_STOPPED, OP_EXEC, "container not running");
  refused (STATUS_PAUSED, OP_EXEC, "paused");
}

Test (state_machine, delete)
{
  allowed (STATUS_STOPPED, OP_DELETE);
  allowed (STATUS_CREATED, OP_DELETE);
  refused (STATUS_RUNNING, OP_DELETE, "--force");
  refused (STATUS_PAUSED, OP_DELETE, "not stopped");
  for (int s = STATUS_CREATING; s <= STATUS_STOPPED; s++)
    allowed ((enum container_status) s, OP_DELETE_FORCE);
}

Test (state_machine, ps_stats_update)
{
  enum container_op ops[] = { OP_PS, OP_STATS, OP_UPDATE };
  for (size_t i = 0; i < 3; i++)
    {
      allowed (STATUS_RUNNING, ops[i]);
      allowed (STATUS_CREATED, ops[i]);
      refused (STATUS_STOPPED, ops[i], "container not running");
    }
}

Test (state_machine, status_names)
{
  hull_error_t err = NULL;
  enum container_status s;

  for (int i = STATUS_CREATING; i <= STATUS_STOPPED; i++)
    {
      cr_assert_eq (container_status_parse (container_status_name ((enum container_status) i),
                                            &s, &err),
                    0);
      cr_assert_eq ((int) s, i);
    }
  cr_assert_lt (container_status_parse ("zombie", &s, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "`zombie`"));
  hull_error_free (&err);
}
