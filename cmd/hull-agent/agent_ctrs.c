/* The containers of the VM.  A VM runs one container, or, for a pod
 * (runtime/pods.md), the pod's sandbox first and then its app containers:
 * each has its own mount and pid namespaces and guest cgroup, shares the
 * VM's network, and with a pod layout whose shareWith names the sandbox,
 * the ipc/uts/pid namespaces its config names by path are the sandbox's
 * (agent_spawn.c).  An app container's init exiting is reported for that
 * container only; DELETE kills what is left of it and forgets it.  The
 * VM's first container cannot be deleted: it ends with the VM. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/pod.h"

struct agent_container *
agent_ctr_find (struct agent *a, const char *id)
{
  for (size_t i = 0; i < a->n_ctrs; i++)
    if (!a->ctrs[i]->deleted && strcmp (a->ctrs[i]->id, id) == 0)
      return a->ctrs[i];
  return NULL;
}

struct agent_container *
agent_ctr_of (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  const char *id = hull_msg_get_str (m, HULL_ATTR_CONTAINER_ID);
  struct agent_container *c;

  if (a->n_ctrs == 0)
    {
      hull_error (err, ENOENT, "no container has been created");
      return NULL;
    }
  if (id == NULL)
    return a->ctrs[0];
  c = agent_ctr_find (a, id);
  if (c == NULL)
    hull_error (err, ENOENT, "no container `%s` in this VM", id);
  return c;
}

void
agent_ctr_free (struct agent_container *c)
{
  if (c == NULL)
    return;
  if (c->start_fd >= 0)
    close (c->start_fd);
  if (c->status_fd >= 0)
    close (c->status_fd);
  free (c->id);
  free (c->rootfs);
  if (c->config != NULL && c->n_mounts_total > c->config->n_mounts)
    c->config->n_mounts = c->n_mounts_total;
  oci_config_free (c->config);
  free (c);
}

/* The pod layout of a create request, if any: volumes from it, and the
 * sandbox whose namespaces the config's paths mean. */
static int
apply_layout (struct agent *a, struct agent_container *c, const char *json, hull_error_t *err)
{
  struct pod_layout l;
  int r = 0;

  if (pod_layout_parse (json, c->config->n_mounts, &l, err) < 0)
    return -1;
  if (l.share_with != NULL)
    {
      c->share = agent_ctr_find (a, l.share_with);
      if (c->share == NULL || c->share != a->ctrs[0])
        r = hull_error (err, ENOENT,
                        "pod layout: shareWith `%s`: not the first container of this VM",
                        l.share_with);
      else if (c->share->init_pid <= 0)
        r = hull_error (err, ESRCH, "pod layout: shareWith `%s`: its init is gone",
                        l.share_with);
    }
  if (r == 0)
    r = agent_vols_apply_pod (c->config, &l, &c->n_mounts_total, err);
  pod_layout_free (&l);
  return r;
}

int
agent_ctr_new (struct agent *a, const struct hull_msg *m, struct agent_container **out,
               hull_error_t *err)
{
  const char *json = hull_msg_get_str (m, HULL_ATTR_CONFIG_JSON);
  const char *rootfs = hull_msg_get_str (m, HULL_ATTR_ROOTFS);
  const char *pod = hull_msg_get_str (m, HULL_ATTR_POD_JSON);
  const char *id = hull_msg_get_str (m, HULL_ATTR_CONTAINER_ID);
  struct agent_container *c;

  *out = NULL;
  if (id == NULL)
    return hull_error (err, EINVAL, "create: no container id");
  if (agent_ctr_find (a, id) != NULL)
    return hull_error (err, EEXIST, "container `%s` already exists in this VM", id);
  /* More than one container only in a pod's VM, whose every create
   * carries its layout. */
  if (a->n_ctrs > 0 && pod == NULL)
    return hull_error (err, EEXIST, "this VM already runs container `%s`", a->ctrs[0]->id);
  c = calloc (1, sizeof *c);
  if (c == NULL)
    return hull_error (err, errno, "allocate container");
  c->start_fd = c->status_fd = -1;
  c->id = strdup (id);
  if (c->id == NULL)
    {
      agent_ctr_free (c);
      return hull_error (err, ENOMEM, "strdup");
    }
  if (oci_config_parse_data (json, strlen (json), &c->config, err) < 0)
    {
      agent_ctr_free (c);
      return hull_error_prefix (err, "config.json");
    }
  /* The guest's NICs are ready before any container process exists (the
   * first container's create: the VM is its network); a test-mode agent
   * runs on the host, whose network is not ours. */
  if ((pod ? apply_layout (a, c, pod, err) : agent_vols_apply (c->config, &c->n_mounts_total,
                                                                err))
          < 0
      || (a->n_ctrs == 0 && !a->test_mode
          && agent_net_apply (hull_msg_get_str (m, HULL_ATTR_NETWORK_JSON), err) < 0))
    {
      agent_ctr_free (c);
      return -1;
    }
  /* The supervisor says where it shared the rootfs; root.path otherwise. */
  c->rootfs = strdup (rootfs ? rootfs : c->config->root.path);
  if (c->rootfs == NULL)
    {
      agent_ctr_free (c);
      return hull_error (err, ENOMEM, "strdup");
    }
  if (agent_cgroup_create (c, err) < 0)
    {
      agent_ctr_free (c);
      return -1;
    }
  *out = c;
  return 0;
}

int
agent_ctr_add (struct agent *a, struct agent_container *c, hull_error_t *err)
{
  struct agent_container **n = realloc (a->ctrs, (a->n_ctrs + 1) * sizeof (*n));

  if (n == NULL)
    return hull_error (err, ENOMEM, "container table");
  a->ctrs = n;
  a->ctrs[a->n_ctrs++] = c;
  return 0;
}

int
agent_ctr_signal_all (struct agent *a, struct agent_container *c, int sig, hull_error_t *err)
{
  /* The VM is its first container's: everything but PID 1 (us). */
  if (c == a->ctrs[0] && !a->test_mode)
    {
      if (kill (-1, sig) < 0 && errno != ESRCH)
        return hull_error (err, errno, "signal %d to all processes", sig);
      return 0;
    }
  return agent_cgroup_signal (c, sig, err);
}

int
agent_ctr_delete (struct agent *a, struct agent_container *c, hull_error_t *err)
{
  cleanup_error hull_error_t e2 = NULL;

  if (c == a->ctrs[0])
    return hull_error (err, EINVAL,
                       "container `%s` is the VM's first: it ends with the VM, not by delete",
                       c->id);
  c->deleted = true;
  /* A container created but never started still has init waiting. */
  if (c->start_fd >= 0)
    {
      close (c->start_fd);
      c->start_fd = -1;
    }
  if (agent_cgroup_signal (c, SIGKILL, &e2) < 0)
    agent_log ("delete %s: %s", c->id, hull_error_msg (&e2));
  if (c->init_pid > 0)
    kill (c->init_pid, SIGKILL);
  agent_ctrs_collect (a);
  return 0;
}

void
agent_ctrs_collect (struct agent *a)
{
  for (size_t i = 1; i < a->n_ctrs;)
    {
      struct agent_container *c = a->ctrs[i];
      bool used = false;

      for (size_t k = 0; k < a->n_procs && !used; k++)
        used = a->procs[k].ctr == c;
      /* A container that shares another's namespaces keeps it alive:
       * only the first container is shared, and it is never deleted. */
      if (!c->deleted || used)
        {
          i++;
          continue;
        }
      agent_cgroup_remove (c);
      agent_ctr_free (c);
      memmove (&a->ctrs[i], &a->ctrs[i + 1], (a->n_ctrs - i - 1) * sizeof (*a->ctrs));
      a->n_ctrs--;
    }
}
