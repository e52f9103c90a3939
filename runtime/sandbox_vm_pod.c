/* A pod sandbox's microVM (runtime/pods.md, runtime/pod.h).
 *
 * The sandbox container (CRI annotation container-type `sandbox`) boots
 * the VM as any container does, except that virtiofsd shares the pod's
 * share instead of the rootfs: <state_dir>/pod, with the sandbox's own
 * rootfs and binds under <share>/<id>/, and no volumes of their own.  Its
 * create request says where (rootfs, HULL_ATTR_POD_JSON).
 *
 * Members (app containers of the pod) are created here on behalf of their
 * own supervisors (runtime/supervisor_pod.c), which bound their rootfs and
 * volumes into the share beforehand: they get a handle (vm_member), their
 * processes are vm_procs with that ctr, and their exits come back through
 * the same queue with sandbox_exit.ctr set.  Removing a member drops its
 * processes' relays and asks the agent to forget it (HULL_OP_DELETE). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/pod.h"
#include "runtime/sandbox_vm.h"

/* ---- the sandbox's own side ---- */

int
vm_pod_prepare (struct sandbox *sb, hull_error_t *err)
{
  struct pod_layout layout = { 0 };
  enum pod_role role;
  const char *sid;
  int r;

  if (pod_role_of (sb->config, sb->id, &role, &sid, err) < 0)
    return -1;
  if (role == POD_NONE)
    return 0;
  if (role == POD_MEMBER)
    return hull_error (err, EINVAL,
                       "annotation %s `%s`: an app container joins its sandbox's microVM "
                       "and boots none",
                       POD_ANN_SANDBOX_ID, sid);
  if (pod_share_create (sb->state_dir, &sb->share, err) < 0)
    return -1;
  sb->pod = true;
  if (pod_bind_container (sb->share, sb->id, sb->rootfs, sb->config, sb->log, &layout,
                          &sb->guest_rootfs, err) < 0)
    return -1;
  r = pod_layout_to_json (&layout, &sb->pod_json, err);
  pod_layout_free (&layout);
  if (r == 0)
    log_debug (sb->log, "container `%s`: pod sandbox, share `%s`", sb->id, sb->share);
  return r;
}

void
vm_pod_undo (struct sandbox *sb)
{
  cleanup_error hull_error_t err = NULL;

  if (sb->share != NULL && pod_share_remove (sb->state_dir, &err) < 0)
    log_warning (sb->log, "container `%s`: %s", sb->id, hull_error_msg (&err));
}

void
vm_pod_free (struct sandbox *sb)
{
  while (sb->members != NULL)
    {
      struct vm_member *m = sb->members;
      sb->members = m->next;
      free (m->id);
      free (m);
    }
  free (sb->share);
  free (sb->guest_rootfs);
  free (sb->pod_json);
  sb->share = sb->guest_rootfs = sb->pod_json = NULL;
}

/* ---- members ---- */

const char *
vm_member_id_locked (struct sandbox *sb, uint32_t ctr)
{
  if (ctr == 0)
    return sb->id;
  for (struct vm_member *m = sb->members; m != NULL; m = m->next)
    if (m->ctr == ctr)
      return m->id;
  return NULL;
}

uint32_t
vm_member_find_locked (struct sandbox *sb, const char *id)
{
  if (strcmp (id, sb->id) == 0)
    return 0;
  for (struct vm_member *m = sb->members; m != NULL; m = m->next)
    if (strcmp (m->id, id) == 0)
      return m->ctr;
  return UINT32_MAX;
}

static int
member_add (struct sandbox *sb, const char *id, uint32_t *ctr, hull_error_t *err)
{
  struct vm_member *m = calloc (1, sizeof (*m));

  if (m == NULL || (m->id = strdup (id)) == NULL)
    {
      free (m);
      return hull_error (err, ENOMEM, "pod member");
    }
  pthread_mutex_lock (&sb->lock);
  if (vm_member_find_locked (sb, id) != UINT32_MAX)
    {
      pthread_mutex_unlock (&sb->lock);
      free (m->id);
      free (m);
      return hull_error (err, EEXIST, "container `%s` is already in the pod", id);
    }
  if (sb->next_member == 0 || sb->next_member == UINT32_MAX)
    sb->next_member = 1;
  m->ctr = sb->next_member++;
  m->next = sb->members;
  sb->members = m;
  pthread_mutex_unlock (&sb->lock);
  *ctr = m->ctr;
  return 0;
}

/* Unlinked from the table; the id is returned (the caller frees it). */
static char *
member_unlink (struct sandbox *sb, uint32_t ctr)
{
  char *id = NULL;

  pthread_mutex_lock (&sb->lock);
  for (struct vm_member **pp = &sb->members; *pp != NULL; pp = &(*pp)->next)
    if ((*pp)->ctr == ctr)
      {
        struct vm_member *m = *pp;
        *pp = m->next;
        id = m->id;
        free (m);
        break;
      }
  pthread_mutex_unlock (&sb->lock);
  return id;
}

static void
pod_remove (struct sandbox *sb, uint32_t ctr)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *id = member_unlink (sb, ctr);
  struct vm_call *c;

  if (id == NULL)
    return;
  log_debug (sb->log, "pod `%s`: removing container `%s`", sb->id, id);
  /* Its exits are no longer wanted: the relays go, then the guest side. */
  c = calloc (1, sizeof (*c));
  if (c != NULL)
    {
      c->kind = VM_CALL_FORGET;
      c->fin_ctr = ctr;
      hull_msgbuf_init (&c->mb, HULL_FRAME_REQUEST, HULL_OP_PING, 0);
    }
  if (vm_simple_call (sb, c, &err) < 0)
    {
      log_debug (sb->log, "pod `%s`: forget `%s`: %s", sb->id, id, hull_error_msg (&err));
      hull_error_free (&err);
    }
  c = vm_call_new (sb, HULL_OP_DELETE, false);
  if (c != NULL)
    hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONTAINER_ID, id);
  if (vm_simple_call (sb, c, &err) < 0)
    log_debug (sb->log, "pod `%s`: delete `%s` in the guest: %s", sb->id, id,
               hull_error_msg (&err));
}

static bool
pod_is_pod (struct sandbox *sb)
{
  return sb->pod;
}

static int
pod_create (struct sandbox *sb, const struct sandbox_member_args *a, uint32_t *ctr,
            int *pty_master, hull_error_t *err)
{
  struct vm_proc *init = NULL;
  struct vm_call *c = NULL;
  int master = -1;

  *pty_master = -1;
  if (!sb->pod)
    return hull_error (err, EINVAL, "container `%s` is not a pod sandbox", sb->id);
  if (a->config->process == NULL)
    return hull_error (err, EINVAL, "process: required by hull create");
  if (member_add (sb, a->id, ctr, err) < 0)
    return -1;
  init = vm_proc_new (*ctr, a->id);
  c = vm_call_new (sb, HULL_OP_CREATE, false);
  if (init == NULL || c == NULL)
    {
      hull_error (err, ENOMEM, "create request");
      goto fail;
    }
  init->is_init = true;
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONTAINER_ID, a->id);
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONFIG_JSON, a->config_json);
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_ROOTFS, a->rootfs);
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_POD_JSON, a->pod_json);
  if (vm_proc_stdio (sb, init, a->config->process, a->stdio, &master, &c->mb, err) < 0)
    goto fail;
  c->attach = hull_steal_ptr (&init);
  if (vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    {
      c = NULL; /* consumed */
      goto fail;
    }
  vm_call_free (c);
  log_debug (sb->log, "pod `%s`: container `%s` created", sb->id, a->id);
  *pty_master = master;
  return 0;
fail:
  vm_call_free (c);
  vm_proc_free (init);
  if (master >= 0)
    close (master);
  pod_remove (sb, *ctr);
  *ctr = 0;
  return -1;
}

static int
pod_start (struct sandbox *sb, uint32_t ctr, hull_error_t *err)
{
  return vm_ctr_simple (sb, ctr, HULL_OP_START, err);
}

static int
pod_pause (struct sandbox *sb, uint32_t ctr, bool pause, hull_error_t *err)
{
  return vm_ctr_simple (sb, ctr, pause ? HULL_OP_PAUSE : HULL_OP_RESUME, err);
}

const struct sandbox_pod_ops sandbox_vm_pod_ops = {
  .is_pod = pod_is_pod,
  .create = pod_create,
  .start = pod_start,
  .exec = vm_ctr_exec,
  .signal = vm_ctr_signal,
  .close_stdin = vm_ctr_close_stdin,
  .resize = vm_ctr_resize,
  .pause = pod_pause,
  .stats = vm_ctr_stats,
  .update = vm_ctr_update,
  .ps = vm_ctr_ps,
  .remove = pod_remove,
};
