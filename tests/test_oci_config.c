/* What the OCI parser produces: typed values, presence flags, defaults and
 * normalisation, on the corpus configs and small inline documents. */
#include <criterion/criterion.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "runtime/cleanup.h"
#include "runtime/oci_config.h"

#define CORPUS "tests/data/configs"

static struct oci_config *
load (const char *path)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_config *c = NULL;

  cr_assert_eq (oci_config_parse_file (path, &c, &err), 0, "%s",
                hull_error_msg (&err));
  return c;
}

static struct oci_config *
load_str (const char *s)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_config *c = NULL;

  cr_assert_eq (oci_config_parse_data (s, strlen (s), &c, &err), 0, "%s",
                hull_error_msg (&err));
  return c;
}

#define CAP(n) (UINT64_C (1) << (n))

Test (oci_config, docker_style_process)
{
  struct oci_config *c = load (CORPUS "/valid/docker-style.json");
  struct oci_process *p = c->process;

  cr_expect_str_eq (c->oci_version, "1.1.0");
  cr_assert_not_null (p);
  cr_expect_eq (p->user.uid, 1000);
  cr_expect_eq (p->user.n_additional_gids, 2);
  cr_expect_eq (p->user.additional_gids[1], 10);
  cr_expect (p->user.has_umask);
  cr_expect_eq (p->user.umask, 022);
  cr_expect_eq (p->args.n, 4);
  cr_expect_str_eq (p->args.v[3], "daemon off;");
  cr_expect_null (p->args.v[4]);
  cr_expect_str_eq (p->env.v[5], "EMPTY=");
  cr_assert_not_null (p->capabilities);
  cr_expect (p->capabilities->bounding.present);
  cr_expect (!p->capabilities->ambient.present);
  cr_expect_eq (p->capabilities->effective.mask & CAP (0), CAP (0));
  cr_expect_eq (p->capabilities->effective.mask & CAP (21), 0); /* SYS_ADMIN */
  cr_expect_eq (p->n_rlimits, 2);
  cr_expect_eq (p->rlimits[0].resource, RLIMIT_NOFILE);
  cr_expect_eq (p->rlimits[1].soft, 2048);
  cr_expect (p->has_oom_score_adj);
  cr_expect_eq (p->oom_score_adj, 0);
  cr_expect (p->no_new_privileges);
  cr_expect (!p->terminal);
  cr_expect (!p->has_console_size);
  cr_expect_null (p->scheduler);
  oci_config_free (c);
}

Test (oci_config, docker_style_linux)
{
  struct oci_config *c = load (CORPUS "/valid/docker-style.json");
  struct oci_linux *l = c->linux_spec;
  const struct oci_namespace *net;
  struct oci_seccomp *s;

  cr_assert_not_null (l);
  cr_expect_eq (l->n_namespaces, 6);
  net = oci_linux_namespace (l, OCI_NS_NETWORK);
  cr_assert_not_null (net);
  cr_expect_str_eq (net->path, "/var/run/docker/netns/5f2e8c1a9b3d");
  cr_expect_null (oci_linux_namespace (l, OCI_NS_USER));
  cr_expect_eq (oci_ns_type_clone_flag (OCI_NS_NETWORK), CLONE_NEWNET);
  cr_assert_not_null (l->resources);
  cr_expect_eq (l->resources->n_devices, 6);
  cr_expect_eq (l->resources->devices[0].type, 'a');
  cr_expect (!l->resources->devices[0].allow);
  cr_expect (!l->resources->devices[3].has_minor);
  cr_assert_not_null (l->resources->memory);
  cr_expect (l->resources->memory->has_limit);
  cr_expect_eq (l->resources->memory->limit, 536870912);
  cr_expect (!l->resources->memory->has_kernel);
  cr_expect (l->resources->memory->has_disable_oom_killer);
  cr_expect (!l->resources->memory->disable_oom_killer);
  cr_expect_eq (l->resources->cpu->quota, 150000);
  cr_expect_str_eq (l->resources->cpu->cpus, "0-1");
  cr_expect_eq (l->resources->pids->limit, 1024);
  cr_expect_eq (l->resources->block_io->weight, 500);
  cr_expect_eq (l->resources->block_io->throttle_write_iops.v[0].rate, 1000);
  cr_expect_null (l->resources->network);
  s = l->seccomp;
  cr_assert_not_null (s);
  cr_expect_eq (s->default_action, OCI_SCMP_ACT_ERRNO);
  cr_expect (s->has_default_errno_ret);
  cr_expect_eq (s->default_errno_ret, 1);
  cr_expect_eq (s->architectures.n, 3);
  cr_expect_eq (s->n_syscalls, 8);
  cr_expect_eq (s->syscalls[3].args[0].value, 4294967295u);
  cr_expect_eq (s->syscalls[4].args[0].op, OCI_SCMP_CMP_MASKED_EQ);
  cr_expect (s->syscalls[4].args[0].has_value_two);
  cr_expect_eq (s->syscalls[5].errno_ret, 38);
  cr_expect_str_eq (oci_seccomp_action_name (s->syscalls[5].action),
                    "SCMP_ACT_ERRNO");
  cr_expect_eq (l->masked_paths.n, 11);
  cr_expect_str_eq (l->readonly_paths.v[4], "/proc/sysrq-trigger");
  cr_expect_str_eq (oci_map_get (&l->sysctl, "net.ipv4.ping_group_range"),
                    "0 2147483647");
  cr_expect_str_eq (oci_map_get (&c->annotations,
                                 "org.opencontainers.image.stopSignal"),
                    "SIGQUIT");
  cr_expect_null (oci_map_get (&c->annotations, "nope"));
  cr_expect_eq (c->hooks[OCI_HOOK_PRESTART].n, 1);
  cr_expect_eq (c->hooks[OCI_HOOK_CREATE_RUNTIME].v[0].timeout, 30);
  cr_expect (c->hooks[OCI_HOOK_POSTSTOP].v[0].has_timeout);
  cr_expect_eq (c->hooks[OCI_HOOK_POSTSTOP].v[0].timeout, 5);
  cr_expect (!c->hooks[OCI_HOOK_PRESTART].v[0].has_timeout);
  cr_expect_eq (c->hooks[OCI_HOOK_START_CONTAINER].n, 0);
  cr_expect_str_eq (oci_hook_kind_name (OCI_HOOK_CREATE_RUNTIME),
                    "createRuntime");
  cr_expect_eq (c->n_mounts, 11);
  cr_expect_str_eq (c->mounts[2].options.v[5], "gid=5");
  oci_config_free (c);
}

Test (oci_config, full_1_2)
{
  struct oci_config *c = load (CORPUS "/valid/full-1.2.json");
  struct oci_process *p = c->process;
  struct oci_linux *l = c->linux_spec;
  struct oci_linux_resources *r = l->resources;

  cr_expect (c->root.readonly);
  cr_expect_str_eq (c->domainname, "example.org");
  cr_expect (p->has_console_size);
  cr_expect_eq (p->console_width, 120);
  cr_expect_eq (p->io_priority->class_, 2);
  cr_expect_eq (p->io_priority->priority, 4);
  cr_expect_eq (p->scheduler->policy, 6);
  cr_expect_eq (p->scheduler->nice, -5);
  cr_expect_eq (p->scheduler->flags,
                OCI_SCHED_FLAG_RESET_ON_FORK | OCI_SCHED_FLAG_DL_OVERRUN);
  cr_expect_eq (p->scheduler->period, 30000000);
  cr_expect_str_eq (p->exec_cpu_affinity_initial, "0-1, 3");
  cr_expect (p->capabilities->inheritable.present);
  cr_expect_eq (p->capabilities->inheritable.mask, 0);
  cr_expect_eq (p->capabilities->ambient.mask, CAP (10) | CAP (40));
  cr_expect_eq (p->rlimits[2].hard, UINT64_MAX);
  cr_expect_eq (c->mounts[11].uid_mappings.v[0].host_id, 100000);
  cr_expect_eq (c->hooks[OCI_HOOK_POSTSTART].n, 1);
  cr_expect_eq (l->time_offset_boottime.secs, -3600);
  cr_expect (l->time_offset_monotonic.present);
  cr_expect_eq (l->time_offset_monotonic.nanosecs, 999999999);
  cr_expect_eq (l->n_devices, 4);
  cr_expect_eq (l->devices[0].file_mode, 0666);
  cr_expect (!l->devices[2].has_major);
  cr_expect_eq (l->n_net_devices, 2);
  cr_expect_str_eq (l->net_devices[0].host_name, "eth1");
  cr_expect_str_eq (l->net_devices[0].name, "data0");
  cr_expect_null (l->net_devices[1].name);
  cr_expect_eq (r->memory->kernel, -1);
  cr_expect_eq (r->memory->swappiness, 60);
  cr_expect (r->memory->check_before_update);
  cr_expect_eq (r->cpu->burst, 50000);
  cr_expect_eq (r->cpu->idle, 1);
  cr_expect_eq (r->network->class_id, 1048577);
  cr_expect_eq (r->network->priorities[1].priority, 1000);
  cr_expect_eq (r->n_rdma, 2);
  cr_expect (!r->rdma[1].has_hca_handles);
  cr_expect_eq (r->rdma[1].hca_objects, 1000);
  cr_expect_str_eq (oci_map_get (&r->unified, "io.max"), "8:0 rbps=1048576");
  cr_expect_str_eq (r->hugepage_limits[1].page_size, "1GB");
  cr_expect (l->intel_rdt->enable_cmt);
  cr_expect_eq (l->seccomp->flags,
                OCI_SECCOMP_FLAG_LOG | OCI_SECCOMP_FLAG_SPEC_ALLOW
                    | OCI_SECCOMP_FLAG_WAIT_KILLABLE_RECV
                    | OCI_SECCOMP_FLAG_TSYNC);
  cr_expect_str_eq (l->seccomp->listener_path, "/run/seccomp-agent.sock");
  cr_expect_eq (l->seccomp->syscalls[10].args[0].value, UINT64_MAX);
  cr_expect_eq (l->rootfs_propagation_flags, MS_SLAVE | MS_REC);
  cr_expect_eq (l->personality->domain, PER_LINUX32);
  cr_expect_eq (l->uid_mappings.n, 1);
  oci_config_free (c);
}

Test (oci_config, minimal_defaults)
{
  struct oci_config *c = load_str (
      "{\"ociVersion\": \"1.0.2-dev\", \"root\": {\"path\": \"rootfs\"},"
      " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}");

  cr_expect_str_eq (c->root.path, "rootfs");
  cr_expect (!c->root.readonly);
  cr_expect_null (c->linux_spec);
  cr_expect_null (c->hostname);
  cr_expect_eq (c->n_mounts, 0);
  cr_expect_eq (c->annotations.n, 0);
  cr_expect_eq (c->process->user.uid, 0);
  cr_expect (!c->process->user.has_umask);
  cr_expect_null (c->process->capabilities);
  cr_expect_eq (c->process->env.n, 0);
  cr_expect_null (c->process->env.v);
  cr_expect (!c->process->has_oom_score_adj);
  oci_config_free (c);
}

Test (oci_config, relative_mount_destination_made_absolute)
{
  struct oci_config *c = load (CORPUS
                               "/valid/relative-mount-destination.json");
  cr_expect_str_eq (c->mounts[0].destination, "/data");
  oci_config_free (c);
}

Test (oci_config, unknown_fields_ignored)
{
  struct oci_config *c = load (CORPUS "/valid/unknown-fields-ignored.json");
  cr_expect_str_eq (c->oci_version, "1.3.0-rc.1");
  cr_expect_not_null (c->linux_spec->resources->memory);
  cr_expect (!c->linux_spec->resources->memory->has_limit);
  oci_config_free (c);
}

Test (oci_config, zero_differs_from_absent)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_linux_resources *r = NULL;
  const char *doc = "{\"memory\": {\"limit\": 0}, \"cpu\": {\"quota\": -1}}";

  cr_assert_eq (oci_resources_parse_data (doc, strlen (doc), &r, &err), 0,
                "%s", hull_error_msg (&err));
  cr_expect (r->memory->has_limit);
  cr_expect_eq (r->memory->limit, 0);
  cr_expect (!r->memory->has_swap);
  cr_expect (r->cpu->has_quota);
  cr_expect_eq (r->cpu->quota, -1);
  cr_expect (!r->cpu->has_shares);
  cr_expect_null (r->pids);
  oci_resources_free (r);
}

Test (oci_config, process_document)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_process *p = NULL;
  const char *doc = "{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", "
                    "\"terminal\": true, \"consoleSize\": {\"height\": 24, "
                    "\"width\": 80}, \"env\": [\"A=1\"]}";

  cr_assert_eq (oci_process_parse_data (doc, strlen (doc), &p, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_str_eq (p->cwd, "/tmp");
  cr_expect (p->terminal);
  cr_expect_eq (p->console_height, 24);
  oci_process_free (p);

  cr_expect_lt (oci_process_parse_data ("{\"cwd\": \"/\"}", 12, &p, &err), 0);
  cr_expect_str_eq (hull_error_msg (&err), "args: required field missing");
}

Test (oci_config, parse_file_errors_name_the_file)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_config *c = NULL;

  cr_expect_lt (oci_config_parse_file (CORPUS "/invalid/cwd-relative.json", &c,
                                       &err),
                0);
  cr_expect_null (c);
  cr_expect_str_eq (hull_error_msg (&err),
                    CORPUS "/invalid/cwd-relative.json: process.cwd: must be "
                           "an absolute path, got \"tmp\"");
  cr_expect_lt (oci_config_parse_file ("/nonexistent/config.json", &c, &err),
                0);
  cr_expect_not_null (strstr (hull_error_msg (&err),
                              "/nonexistent/config.json"));
}

Test (oci_config, name_tables)
{
  cr_expect_eq (oci_cap_from_name ("CAP_SYS_ADMIN"), 21);
  cr_expect_eq (oci_cap_from_name ("CAP_CHECKPOINT_RESTORE"), oci_cap_last ());
  cr_expect_eq (oci_cap_from_name ("SYS_ADMIN"), -1);
  cr_expect_str_eq (oci_cap_name (0), "CAP_CHOWN");
  cr_expect_null (oci_cap_name (oci_cap_last () + 1));
  cr_expect_null (oci_cap_name (-1));
  cr_expect_eq (oci_rlimit_from_name ("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  cr_expect_eq (oci_rlimit_from_name ("rlimit_nofile"), -1);
  cr_expect_str_eq (oci_ns_type_name (OCI_NS_TIME), "time");
  cr_expect_str_eq (oci_seccomp_op_name (OCI_SCMP_CMP_GT), "SCMP_CMP_GT");
  cr_expect_null (oci_seccomp_action_name (OCI_SCMP_ACT_NOTIFY + 1));
}

Test (oci_config, free_null)
{
  oci_config_free (NULL);
  oci_process_free (NULL);
  oci_resources_free (NULL);
}

Test (oci_config, seccomp_name_lists)
{
  const char *const *l;
  size_t n;

  for (l = oci_seccomp_action_names (), n = 0; l[n]; n++)
    cr_expect_str_eq (oci_seccomp_action_name (n), l[n]);
  cr_expect_eq (n, 9);
  for (l = oci_seccomp_op_names (), n = 0; l[n]; n++)
    ;
  cr_expect_eq (n, 7);
  for (l = oci_seccomp_arch_names (), n = 0; l[n]; n++)
    ;
  cr_expect_geq (n, 18);
  cr_expect_str_eq (oci_seccomp_flag_names ()[3],
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
}

/* Captured from `docker update` (dockerd 20.10 via containerd's runc shim):
 * Docker sends 0 for the knobs it leaves alone, so presence and value must
 * both reach `hull update`. */
Test (oci_config, docker_update_zeros_are_present)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_linux_resources *r = NULL;

  cr_assert_eq (oci_resources_parse_file (
                    CORPUS "/resources-valid/docker-update-captured.json", &r,
                    &err),
                0, "%s", hull_error_msg (&err));
  cr_expect_eq (r->memory->limit, 314572800);
  cr_expect (r->memory->has_reservation);
  cr_expect_eq (r->memory->reservation, 0);
  cr_expect (r->cpu->has_shares);
  cr_expect_eq (r->cpu->shares, 0);
  cr_expect_eq (r->cpu->quota, 50000);
  cr_expect (r->block_io->has_weight);
  cr_expect_eq (r->block_io->weight, 0);
  cr_expect_eq (r->pids->limit, 50);
  oci_resources_free (r);
}

Test (oci_config, dockerd_captured_exec_process)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_process *p = NULL;

  cr_assert_eq (oci_process_parse_file (
                    CORPUS "/process-valid/dockerd-exec-captured.json", &p,
                    &err),
                0, "%s", hull_error_msg (&err));
  cr_expect_eq (p->user.uid, 1000);
  cr_expect_str_eq (p->cwd, "/bin");
  cr_expect_str_eq (p->args.v[0], "busybox");
  cr_expect_str_eq (p->env.v[p->env.n - 1], "X=1");
  oci_process_free (p);
}
