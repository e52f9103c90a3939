/* The OCI runtime-spec configuration model (runtime-spec 1.0 - 1.2, Linux).
 *
 * One parser serves config.json, the process.json of `hull exec` (the same
 * struct oci_process as config.process) and the resources JSON of
 * `hull update` (the same struct oci_linux_resources as
 * config.linux.resources); it runs on the host and in the static guest
 * agent, so it uses only yajl and libc.
 *
 * Representation rules (OCI distinguishes "absent" from "zero"):
 *  - optional objects are pointers, NULL when absent;
 *  - optional scalars have a `has_<name>` flag next to the value;
 *  - optional strings are NULL when absent;
 *  - arrays are {v, n}; n == 0 when absent or empty (a `has_` flag exists
 *    where the spec gives absent and empty different meanings);
 *  - string arrays (struct oci_strv) are also NULL-terminated, so args and
 *    env can go straight to execve.
 * Unknown fields are ignored, as the spec requires.  Everything a parser
 * returns is released by the matching *_free function (NULL is fine).
 *
 * Validation done at parse time (errors name the JSON path, e.g.
 * "process.rlimits[2].hard: expected unsigned integer"): JSON types,
 * REQUIRED fields, integer ranges, enumerations (namespace types,
 * capability and rlimit names, seccomp actions/operators/architectures,
 * ...), absolute paths where the spec demands them, duplicates that make a
 * config ambiguous.  Hull-specific decisions are documented in
 * config-schema/README.md. */
#ifndef HULL_OCI_CONFIG_H
#define HULL_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"

/* ---- generic containers ------------------------------------------------ */

struct oci_strv
{
  char **v; /* n entries followed by NULL; NULL when n == 0 */
  size_t n;
};

struct oci_map_entry
{
  char *key;
  char *value;
};

/* A JSON object of strings (annotations, sysctl, unified), file order. */
struct oci_map
{
  struct oci_map_entry *v;
  size_t n;
};

/* The value for key, or NULL. */
const char *oci_map_get (const struct oci_map *m, const char *key);

struct oci_id_mapping
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct oci_id_mappings
{
  struct oci_id_mapping *v;
  size_t n;
};

/* ---- process ------------------------------------------------------------ */

struct oci_user
{
  uint32_t uid; /* REQUIRED on Linux */
  uint32_t gid; /* REQUIRED on Linux */
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char *username; /* Windows field; parsed, unused on Linux */
};

/* One capability set: a bit per capability number (CAP_CHOWN = bit 0). */
struct oci_cap_set
{
  bool present; /* absent and [] differ: absent leaves the set alone */
  uint64_t mask;
  struct oci_strv names; /* as written, validated */
};

struct oci_capabilities
{
  struct oci_cap_set bounding;
  struct oci_cap_set effective;
  struct oci_cap_set inheritable;
  struct oci_cap_set permitted;
  struct oci_cap_set ambient;
};

struct oci_rlimit
{
  char *type;   /* "RLIMIT_NOFILE" */
  int resource; /* RLIMIT_NOFILE (the <sys/resource.h> value) */
  uint64_t soft;
  uint64_t hard; /* soft <= hard is enforced */
};

struct oci_io_priority
{
  int class_;   /* IOPRIO_CLASS_RT = 1, _BE = 2, _IDLE = 3 (kernel values) */
  int priority; /* 0..7; 0 when absent */
};

/* process.scheduler, sched_setattr(2) vocabulary. */
enum
{
  OCI_SCHED_FLAG_RESET_ON_FORK = 0x01,
  OCI_SCHED_FLAG_RECLAIM = 0x02,
  OCI_SCHED_FLAG_DL_OVERRUN = 0x04,
  OCI_SCHED_FLAG_KEEP_POLICY = 0x08,
  OCI_SCHED_FLAG_KEEP_PARAMS = 0x10,
  OCI_SCHED_FLAG_UTIL_CLAMP_MIN = 0x20,
  OCI_SCHED_FLAG_UTIL_CLAMP_MAX = 0x40,
};

struct oci_scheduler
{
  int policy; /* SCHED_OTHER=0 FIFO=1 RR=2 BATCH=3 ISO=4 IDLE=5 DEADLINE=6 */
  bool has_nice;
  int32_t nice; /* -20..19 */
  bool has_priority;
  int32_t priority;
  uint64_t flags; /* OCI_SCHED_FLAG_* */
  bool has_runtime;
  uint64_t runtime;
  bool has_deadline;
  uint64_t deadline;
  bool has_period;
  uint64_t period;
};

struct oci_process
{
  bool terminal;
  bool has_console_size; /* only meaningful with terminal (spec: ignore) */
  uint64_t console_height;
  uint64_t console_width;
  struct oci_user user;
  struct oci_strv args; /* at least one entry (REQUIRED on Linux) */
  char *command_line;   /* Windows field; parsed, unused on Linux */
  struct oci_strv env;  /* "KEY=value" entries */
  char *cwd;            /* REQUIRED, absolute */
  struct oci_capabilities *capabilities;
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  bool has_oom_score_adj;
  int oom_score_adj; /* -1000..1000 */
  char *selinux_label;
  struct oci_io_priority *io_priority;
  struct oci_scheduler *scheduler;
  char *exec_cpu_affinity_initial; /* process.execCPUAffinity (1.2) */
  char *exec_cpu_affinity_final;
};

/* ---- root, mounts, hooks ------------------------------------------------ */

struct oci_root
{
  char *path; /* REQUIRED (hull runs Linux containers); may be relative to
                 the bundle */
  bool readonly;
};

struct oci_mount
{
  char *destination; /* absolute; a deprecated relative value is made
                        absolute ("/" prepended) as the spec says */
  char *type;
  char *source;
  struct oci_strv options;
  struct oci_id_mappings uid_mappings;
  struct oci_id_mappings gid_mappings;
};

/* True when `word` is one of the strings. */
bool oci_strv_has (const struct oci_strv *s, const char *word);
/* A bind mount: type "bind", or "bind"/"rbind" among the options.  The
 * host (which shares bind sources into the VM) and the guest agent (which
 * maps them back) must classify mounts identically: both call this. */
bool oci_mount_is_bind (const struct oci_mount *m);

struct oci_hook
{
  char *path; /* REQUIRED, absolute */
  struct oci_strv args;
  struct oci_strv env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

enum oci_hook_kind
{
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  OCI_HOOK__COUNT
};

struct oci_hook_list
{
  struct oci_hook *v;
  size_t n;
};

/* "prestart", "createRuntime", ... */
const char *oci_hook_kind_name (enum oci_hook_kind k);

/* ---- linux: namespaces, devices ----------------------------------------- */

enum oci_ns_type
{
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_MOUNT,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_USER,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS__COUNT
};

struct oci_namespace
{
  enum oci_ns_type type; /* each type at most once */
  char *path;            /* join this namespace instead of creating one */
};

/* "pid", "network", ... as written in config.json. */
const char *oci_ns_type_name (enum oci_ns_type t);
/* CLONE_NEWPID, ... */
int oci_ns_type_clone_flag (enum oci_ns_type t);

struct oci_time_offset
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct oci_device
{
  char type; /* 'c', 'b', 'u' or 'p' */
  char *path; /* absolute */
  bool has_major; /* REQUIRED for c/b/u */
  int64_t major;
  bool has_minor;
  int64_t minor;
  bool has_file_mode;
  uint32_t file_mode;
  bool has_uid;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
};

struct oci_net_device
{
  char *host_name; /* the map key: interface name on the host */
  char *name;      /* name inside the container; NULL keeps host_name */
};

/* ---- linux.resources ---------------------------------------------------- */

struct oci_device_cgroup
{
  bool allow;   /* REQUIRED */
  char type;    /* 'a', 'b' or 'c'; 'a' when absent */
  bool has_major; /* absent = all (-1 in cgroup terms) */
  int64_t major;
  bool has_minor;
  int64_t minor;
  char *access; /* subset of "rwm"; NULL when absent (= "rwm") */
};

struct oci_memory
{
  bool has_limit;
  int64_t limit; /* bytes, -1 = unlimited */
  bool has_reservation;
  int64_t reservation;
  bool has_swap;
  int64_t swap;
  bool has_kernel;
  int64_t kernel;
  bool has_kernel_tcp;
  int64_t kernel_tcp;
  bool has_swappiness;
  uint64_t swappiness; /* 0..100 */
  bool has_disable_oom_killer;
  bool disable_oom_killer;
  bool has_use_hierarchy;
  bool use_hierarchy;
  bool has_check_before_update;
  bool check_before_update;
};

struct oci_cpu
{
  bool has_shares;
  uint64_t shares;
  bool has_quota;
  int64_t quota;
  bool has_burst;
  uint64_t burst;
  bool has_period;
  uint64_t period;
  bool has_realtime_runtime;
  int64_t realtime_runtime;
  bool has_realtime_period;
  uint64_t realtime_period;
  char *cpus; /* "0-3,7" */
  char *mems;
  bool has_idle;
  int64_t idle;
};

struct oci_pids
{
  int64_t limit; /* REQUIRED; <= 0 means unlimited */
};

struct oci_blkio_weight_device
{
  int64_t major;
  int64_t minor;
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
};

struct oci_blkio_throttle
{
  int64_t major;
  int64_t minor;
  uint64_t rate; /* REQUIRED */
};

struct oci_blkio_throttle_list
{
  struct oci_blkio_throttle *v;
  size_t n;
};

struct oci_block_io
{
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
  struct oci_blkio_weight_device *weight_device;
  size_t n_weight_device;
  struct oci_blkio_throttle_list throttle_read_bps;
  struct oci_blkio_throttle_list throttle_write_bps;
  struct oci_blkio_throttle_list throttle_read_iops;
  struct oci_blkio_throttle_list throttle_write_iops;
};

struct oci_hugepage_limit
{
  char *page_size; /* "2MB", "1GB" */
  uint64_t limit;
};

struct oci_net_priority
{
  char *name;
  uint32_t priority;
};

struct oci_network
{
  bool has_class_id;
  uint32_t class_id;
  struct oci_net_priority *priorities;
  size_t n_priorities;
};

struct oci_rdma
{
  char *device; /* the map key */
  bool has_hca_handles;
  uint32_t hca_handles;
  bool has_hca_objects;
  uint32_t hca_objects;
};

struct oci_linux_resources
{
  struct oci_device_cgroup *devices;
  size_t n_devices;
  struct oci_memory *memory;
  struct oci_cpu *cpu;
  struct oci_pids *pids;
  struct oci_block_io *block_io;
  struct oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct oci_network *network;
  struct oci_rdma *rdma;
  size_t n_rdma;
  struct oci_map unified; /* cgroup v2 file -> value */
};

/* ---- linux.seccomp ------------------------------------------------------ */

enum oci_seccomp_action
{
  OCI_SCMP_ACT_KILL, /* = KILL_THREAD */
  OCI_SCMP_ACT_KILL_PROCESS,
  OCI_SCMP_ACT_KILL_THREAD,
  OCI_SCMP_ACT_TRAP,
  OCI_SCMP_ACT_ERRNO,
  OCI_SCMP_ACT_TRACE,
  OCI_SCMP_ACT_ALLOW,
  OCI_SCMP_ACT_LOG,
  OCI_SCMP_ACT_NOTIFY,
};

enum oci_seccomp_op
{
  OCI_SCMP_CMP_NE,
  OCI_SCMP_CMP_LT,
  OCI_SCMP_CMP_LE,
  OCI_SCMP_CMP_EQ,
  OCI_SCMP_CMP_GE,
  OCI_SCMP_CMP_GT,
  OCI_SCMP_CMP_MASKED_EQ,
};

/* linux.seccomp.flags, SECCOMP_FILTER_FLAG_* kernel values. */
enum
{
  OCI_SECCOMP_FLAG_TSYNC = 1u << 0,
  OCI_SECCOMP_FLAG_LOG = 1u << 1,
  OCI_SECCOMP_FLAG_SPEC_ALLOW = 1u << 2,
  OCI_SECCOMP_FLAG_WAIT_KILLABLE_RECV = 1u << 5,
};

struct oci_seccomp_arg
{
  uint32_t index; /* 0..5 */
  uint64_t value;
  bool has_value_two;
  uint64_t value_two;
  enum oci_seccomp_op op;
};

struct oci_seccomp_syscall
{
  struct oci_strv names; /* at least one */
  enum oci_seccomp_action action;
  bool has_errno_ret;
  uint32_t errno_ret;
  struct oci_seccomp_arg *args;
  size_t n_args;
};

struct oci_seccomp
{
  enum oci_seccomp_action default_action; /* REQUIRED */
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  struct oci_strv architectures; /* "SCMP_ARCH_X86_64", validated */
  unsigned flags;                /* OCI_SECCOMP_FLAG_* */
  char *listener_path;           /* REQUIRED when any action is NOTIFY */
  char *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

/* "SCMP_ACT_ALLOW" etc. */
const char *oci_seccomp_action_name (enum oci_seccomp_action a);
const char *oci_seccomp_op_name (enum oci_seccomp_op op);

/* ---- linux -------------------------------------------------------------- */

struct oci_intel_rdt
{
  char *clos_id;
  char *l3_cache_schema;
  char *mem_bw_schema;
  bool enable_cmt;
  bool enable_mbm;
};

struct oci_personality
{
  unsigned long domain; /* PER_LINUX (0) or PER_LINUX32 (8) */
  /* flags: the spec defines none yet, so any entry is rejected */
};

struct oci_linux
{
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_id_mappings uid_mappings;
  struct oci_id_mappings gid_mappings;
  struct oci_time_offset time_offset_boottime;  /* timeOffsets.boottime */
  struct oci_time_offset time_offset_monotonic; /* timeOffsets.monotonic */
  struct oci_device *devices;
  size_t n_devices;
  struct oci_net_device *net_devices; /* linux.netDevices (1.2) */
  size_t n_net_devices;
  char *cgroups_path;
  struct oci_linux_resources *resources;
  struct oci_intel_rdt *intel_rdt;
  struct oci_map sysctl;
  struct oci_seccomp *seccomp;
  char *rootfs_propagation; /* "private", "shared", "slave", "unbindable" */
  unsigned long rootfs_propagation_flags; /* MS_PRIVATE etc.; 0 if absent */
  struct oci_strv masked_paths;   /* absolute */
  struct oci_strv readonly_paths; /* absolute */
  char *mount_label;
  struct oci_personality *personality;
};

/* The namespace of that type, or NULL. */
const struct oci_namespace *oci_linux_namespace (const struct oci_linux *l,
                                                 enum oci_ns_type t);

/* ---- the whole config ---------------------------------------------------- */

struct oci_config
{
  char *oci_version; /* REQUIRED, "1.x.y[-suffix]" */
  struct oci_root root;
  struct oci_process *process; /* NULL when absent (then `start` fails) */
  char *hostname;
  char *domainname;
  struct oci_mount *mounts;
  size_t n_mounts;
  struct oci_hook_list hooks[OCI_HOOK__COUNT];
  struct oci_map annotations;
  struct oci_linux *linux_spec; /* config.linux; NULL when absent (the
                                   name avoids gnu11's `linux` macro) */
};

/* Parsers.  On success *out is a new object the caller frees; on failure
 * *out is untouched, nothing is leaked and *err names the JSON path.  The
 * _file variants prefix errors with the file name and refuse files over
 * HULL_JSON_MAX_INPUT bytes (runtime/json.h). */
int oci_config_parse_file (const char *path, struct oci_config **out,
                           hull_error_t *err);
int oci_config_parse_data (const char *data, size_t len,
                           struct oci_config **out, hull_error_t *err);
void oci_config_free (struct oci_config *c);

/* A process object alone (`hull exec --process process.json`). */
int oci_process_parse_file (const char *path, struct oci_process **out,
                            hull_error_t *err);
int oci_process_parse_data (const char *data, size_t len,
                            struct oci_process **out, hull_error_t *err);
void oci_process_free (struct oci_process *p);

/* A linux.resources object alone (`hull update --resources file`). */
int oci_resources_parse_file (const char *path,
                              struct oci_linux_resources **out,
                              hull_error_t *err);
int oci_resources_parse_data (const char *data, size_t len,
                              struct oci_linux_resources **out,
                              hull_error_t *err);
void oci_resources_free (struct oci_linux_resources *r);

/* NULL-terminated lists of the seccomp names hull accepts (for
 * `hull features`). */
const char *const *oci_seccomp_action_names (void);
const char *const *oci_seccomp_op_names (void);
const char *const *oci_seccomp_arch_names (void);
const char *const *oci_seccomp_flag_names (void);

/* Name tables (runtime/oci_names.c). */
/* Capability number for "CAP_SYS_ADMIN", or -1. */
int oci_cap_from_name (const char *name);
/* "CAP_SYS_ADMIN" for 21, or NULL. */
const char *oci_cap_name (int cap);
/* Highest capability number hull knows (CAP_CHECKPOINT_RESTORE). */
int oci_cap_last (void);
/* RLIMIT_* value for "RLIMIT_NOFILE", or -1. */
int oci_rlimit_from_name (const char *name);

#endif
