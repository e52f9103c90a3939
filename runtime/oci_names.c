/* Name tables of the OCI vocabulary: capabilities, rlimits, namespaces,
 * hooks and seccomp.  Validation of these names belongs to the parser so
 * that a typo is reported with its JSON path at `create` time. */
#include "runtime/oci_config.h"

#include <sched.h>
#include <string.h>
#include <sys/resource.h>

/* Indexed by capability number (linux/capability.h); Debian's 6.1 guest
 * kernel knows all of these. */
static const char *const cap_names[] = {
  "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",          "CAP_FSETID",         "CAP_KILL",
  "CAP_SETGID",          "CAP_SETUID",         "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",       "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",     "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",       "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",           "CAP_LEASE",          "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",        "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",       "CAP_SYSLOG",         "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",
  "CAP_BPF",             "CAP_CHECKPOINT_RESTORE",
};

#define N_CAPS ((int) (sizeof (cap_names) / sizeof (cap_names[0])))

int
oci_cap_from_name (const char *name)
{
  int i;

  for (i = 0; i < N_CAPS; i++)
    if (strcmp (cap_names[i], name) == 0)
      return i;
  return -1;
}

const char *
oci_cap_name (int cap)
{
  return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL;
}

int
oci_cap_last (void)
{
  return N_CAPS - 1;
}

static const struct
{
  const char *name;
  int resource;
} rlimits[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

int
oci_rlimit_from_name (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof (rlimits) / sizeof (rlimits[0]); i++)
    if (strcmp (rlimits[i].name, name) == 0)
      return rlimits[i].resource;
  return -1;
}

static const char *const hook_names[OCI_HOOK__COUNT] = {
  [OCI_HOOK_PRESTART] = "prestart",
  [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
  [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
  [OCI_HOOK_START_CONTAINER] = "startContainer",
  [OCI_HOOK_POSTSTART] = "poststart",
  [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *
oci_hook_kind_name (enum oci_hook_kind k)
{
  return k < OCI_HOOK__COUNT ? hook_names[k] : NULL;
}

static const struct
{
  const char *name;
  int flag;
} ns_types[OCI_NS__COUNT] = {
  [OCI_NS_PID] = { "pid", CLONE_NEWPID },
  [OCI_NS_NETWORK] = { "network", CLONE_NEWNET },
  [OCI_NS_MOUNT] = { "mount", CLONE_NEWNS },
  [OCI_NS_IPC] = { "ipc", CLONE_NEWIPC },
  [OCI_NS_UTS] = { "uts", CLONE_NEWUTS },
  [OCI_NS_USER] = { "user", CLONE_NEWUSER },
  [OCI_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
  [OCI_NS_TIME] = { "time", 0x00000080 /* CLONE_NEWTIME */ },
};

const char *
oci_ns_type_name (enum oci_ns_type t)
{
  return t < OCI_NS__COUNT ? ns_types[t].name : NULL;
}

int
oci_ns_type_clone_flag (enum oci_ns_type t)
{
  return t < OCI_NS__COUNT ? ns_types[t].flag : 0;
}

const struct oci_namespace *
oci_linux_namespace (const struct oci_linux *l, enum oci_ns_type t)
{
  size_t i;

  if (l == NULL)
    return NULL;
  for (i = 0; i < l->n_namespaces; i++)
    if (l->namespaces[i].type == t)
      return &l->namespaces[i];
  return NULL;
}
