/* The production backend: a microVM whose PID 1 is hull-agent.  The
 * host<->guest protocol and the agent are the next piece of work; until
 * they exist every entry point says so instead of pretending. */
#include "runtime/sandbox.h"

#define VM_MISSING "running a container in a microVM needs hull-agent, which is not implemented yet"

static int
vm_create (const struct sandbox_create_args *a, struct sandbox **out, int *pty_master,
           hull_error_t *err)
{
  (void) a;
  *out = NULL;
  *pty_master = -1;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_start (struct sandbox *sb, hull_error_t *err)
{
  (void) sb;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_exec (struct sandbox *sb, const struct sandbox_exec_args *a, uint32_t *proc, int *pty_master,
         hull_error_t *err)
{
  (void) sb, (void) a, (void) proc, (void) pty_master;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_signal (struct sandbox *sb, uint32_t proc, int signo, bool all, hull_error_t *err)
{
  (void) sb, (void) proc, (void) signo, (void) all;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_event_fd (struct sandbox *sb)
{
  (void) sb;
  return -1;
}

static int
vm_next_exit (struct sandbox *sb, struct sandbox_exit *out, hull_error_t *err)
{
  (void) sb, (void) out;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_proc_op (struct sandbox *sb, uint32_t proc, hull_error_t *err)
{
  (void) sb, (void) proc;
  return hull_error (err, 0, "%s", VM_MISSING);
}

static int
vm_resize (struct sandbox *sb, uint32_t proc, unsigned rows, unsigned cols, hull_error_t *err)
{
  (void) rows, (void) cols;
  return vm_proc_op (sb, proc, err);
}

static int
vm_sb_op (struct sandbox *sb, hull_error_t *err)
{
  return vm_proc_op (sb, 0, err);
}

static int
vm_stats (struct sandbox *sb, struct sandbox_stats *out, hull_error_t *err)
{
  (void) out;
  return vm_sb_op (sb, err);
}

static int
vm_update (struct sandbox *sb, const struct oci_linux_resources *r, hull_error_t *err)
{
  (void) r;
  return vm_sb_op (sb, err);
}

static int
vm_ps (struct sandbox *sb, pid_t **pids, size_t *n, hull_error_t *err)
{
  (void) pids, (void) n;
  return vm_sb_op (sb, err);
}

static void
vm_destroy (struct sandbox *sb)
{
  (void) sb;
}

const struct sandbox_ops sandbox_vm_ops = {
  .name = "microvm",
  .create = vm_create,
  .start = vm_start,
  .exec = vm_exec,
  .signal = vm_signal,
  .event_fd = vm_event_fd,
  .next_exit = vm_next_exit,
  .close_stdin = vm_proc_op,
  .resize = vm_resize,
  .pause = vm_sb_op,
  .resume = vm_sb_op,
  .stats = vm_stats,
  .update = vm_update,
  .ps = vm_ps,
  .destroy = vm_destroy,
};
