/* Bringing a container's microVM up and down: the settings and guest
 * assets, virtiofsd for the rootfs, the machine (virtio-fs + the agent's
 * virtio-console port) and the thread that runs it.
 *
 * Guest assets: the `kernel` and `initramfs` settings (default
 * /usr/lib/hull/vmlinuz and /usr/lib/hull/initramfs.img).  While a path is
 * still that installed default and the file does not exist, the build
 * tree's assets next to the running binary are used instead
 * (<dir of hull>/guest/vmlinuz and initramfs.img, what `make guest`
 * writes), so build/hull works from the build tree without installing.
 * HULL_SETTINGS=FILE reads FILE instead of /etc/hull/settings.json. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/container_setup.h"
#include "runtime/log.h"
#include "runtime/resources_map.h"
#include "runtime/sandbox_vm.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"
#include "vmm/virtio_console.h"
#include "vmm/virtio_fs.h"

int64_t
vm_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
asset_resolve (char **path, const char *installed, const char *file, const char *key,
               hull_error_t *err)
{
  char exe[PATH_MAX], *slash;
  cleanup_free char *cand = NULL;
  ssize_t n;

  if (access (*path, R_OK) == 0)
    return 0;
  if (strcmp (*path, installed) == 0 && (n = readlink ("/proc/self/exe", exe, sizeof (exe) - 1)) > 0)
    {
      exe[n] = '\0';
      slash = strrchr (exe, '/');
      if (slash != NULL)
        *slash = '\0';
      if (asprintf (&cand, "%s/guest/%s", exe, file) < 0)
        return hull_error (err, ENOMEM, "guest asset path");
      if (access (cand, R_OK) == 0)
        {
          free (*path);
          *path = hull_steal_ptr (&cand);
          return 0;
        }
    }
  return hull_error (err, ENOENT,
                     "guest %s `%s` (settings `%s`): not found; `make guest` builds "
                     "build/guest/%s",
                     key, *path, key, file);
}

static int
settings_prepare (struct sandbox *sb, hull_error_t *err)
{
  const char *path = getenv ("HULL_SETTINGS");
  struct hull_settings defaults;
  int r;

  if (hull_settings_load (path && *path ? path : NULL, &sb->settings, err) < 0)
    return hull_error_prefix (err, "settings");
  sb->settings_loaded = true;
  if (hull_settings_init (&defaults, err) < 0)
    return -1;
  r = asset_resolve (&sb->settings.kernel, defaults.kernel, "vmlinuz", "kernel", err);
  if (r == 0)
    r = asset_resolve (&sb->settings.initramfs, defaults.initramfs, "initramfs.img",
                       "initramfs", err);
  hull_settings_free (&defaults);
  sb->timeout_ms = (int) sb->settings.boot_timeout_ms;
  return r;
}

int
vm_boot_prepare (struct sandbox *sb, const struct sandbox_create_args *a, hull_error_t *err)
{
  const char *allow = getenv ("HULL_ALLOW_EMULATED");
  struct vm_size size;

  if (a->preserve_fds > 0)
    return hull_error (err, ENOTSUP,
                       "--preserve-fds: host file descriptors cannot be passed into a microVM");
  if (settings_prepare (sb, err) < 0)
    return -1;
  /* Checked (annotations) and logged before anything starts; create_machine
   * computes the same size again. */
  if (resources_vm_size (sb->config, sb->settings.default_vcpus, sb->settings.default_memory_mib,
                         sb->log, &size, err) < 0)
    return -1;
  if (machine_kvm_is_emulated () && !(allow != NULL && strcmp (allow, "1") == 0))
    return hull_error (err, ENOTSUP,
                       "this host's /dev/kvm cannot run the guest kernel: it is PVM (kvm_pvm) or "
                       "the CPU lacks VMX/SVM, so Linux stops early in KVM's instruction "
                       "emulator; run hull in a VM with nested KVM (integration/nested), or set "
                       "HULL_ALLOW_EMULATED=1 to try anyway");
  return 0;
}

static void *
vm_main (void *arg)
{
  struct sandbox *sb = arg;
  char msg[256];
  enum vm_exit_reason r = machine_run (sb->m, msg, sizeof (msg));
  uint64_t one = 1;

  pthread_mutex_lock (&sb->lock);
  sb->vm_done = true;
  sb->vm_reason = r;
  snprintf (sb->vm_msg, sizeof (sb->vm_msg), "%s", msg);
  pthread_cond_broadcast (&sb->cond);
  pthread_mutex_unlock (&sb->lock);
  if (write (sb->wake_fd, &one, sizeof (one)) < 0)
    {
      /* already awake */
    }
  return NULL;
}

static int
start_virtiofsd (struct sandbox *sb, hull_error_t *err)
{
  cleanup_free char *sock = NULL, *log = NULL;
  struct virtiofsd_config vc = { 0 };

  if (virtiofsd_socket_path (&sock, sb->state_dir, 0, err) < 0)
    return -1;
  if (asprintf (&log, "%s/virtiofsd.log", sb->state_dir) < 0)
    return hull_error (err, ENOMEM, "virtiofsd log path");
  vc.binary = sb->settings.virtiofsd;
  vc.source = sb->pod ? sb->share : sb->rootfs;
  vc.socket_path = sock;
  vc.cache = sb->settings.virtiofsd_cache;
  /* A pod's share stays writable and its mounts propagating (a read-only
   * virtiofsd has a private mount namespace): read-only binds in it are
   * read-only mounts of their own (runtime/pod_host.c). */
  vc.readonly = !sb->pod && sb->config->root.readonly;
  if (vc.readonly && container_mountpoints_make (sb->config, sb->rootfs, err) < 0)
    return hull_error_prefix (err, "read-only root `%s`", sb->rootfs);
  vc.log_path = log;
  if (virtiofsd_start (&sb->fsd, &vc, err) < 0)
    return sb->pod ? hull_error_prefix (err, "pod share `%s`", sb->share)
                   : hull_error_prefix (err, "root.path `%s`", sb->rootfs);
  return 0;
}

static int
create_machine (struct sandbox *sb, hull_error_t *err)
{
  cleanup_free char *append = NULL, *console = NULL;
  struct machine_config mc = { .kernel_path = sb->settings.kernel,
                               .initrd_path = sb->settings.initramfs,
                               .console_in_fd = -1,
                               .hvc_in_fd = -1 };

  struct vm_size size;

  if (resources_vm_size (sb->config, sb->settings.default_vcpus, sb->settings.default_memory_mib,
                         NULL, &size, err) < 0)
    return -1;
  mc.cpus = size.vcpus;
  mc.memory_mib = size.memory_mib;
  if (asprintf (&console, "%s/console.log", sb->state_dir) < 0
      || asprintf (&append, "quiet hull.rootfs=%s %s %s", VM_ROOTFS_TAG,
                   sb->vols_cmdline ? sb->vols_cmdline : "",
                   sb->settings.kernel_cmdline ? sb->settings.kernel_cmdline : "")
             < 0)
    return hull_error (err, ENOMEM, "kernel command line");
  /* The guest's console (kernel and agent messages) is a log in the state
   * dir, never the container's output. */
  sb->console_fd = open (console, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (sb->console_fd < 0)
    return hull_error (err, errno, "open `%s`", console);
  mc.console_out_fd = sb->console_fd;
  mc.append = append;
  if (machine_create (&mc, &sb->m, err) < 0)
    return hull_error_prefix (err, "microVM");
  return 0;
}

int
vm_boot_start (struct sandbox *sb, hull_error_t *err)
{
  int sp[2], r;

  if (vm_pod_prepare (sb, err) < 0 || (!sb->pod && vm_vols_plan (sb, err) < 0)
      || start_virtiofsd (sb, err) < 0
      || vm_vols_start_daemons (sb, err) < 0 || vm_net_setup (sb, err) < 0
      || create_machine (sb, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
    return hull_error (err, errno, "socketpair");
  sb->chan_guest = sp[0];
  sb->chan_host = sp[1];
  fcntl (sb->chan_host, F_SETFL, fcntl (sb->chan_host, F_GETFL) | O_NONBLOCK);
  if (virtio_fs_create (machine_vm (sb->m), VM_ROOTFS_TAG, sb->fsd.socket_path, &sb->fs, err) < 0)
    return hull_error_prefix (err, "virtio-fs for the rootfs");
  if (vm_vols_add_devices (sb, err) < 0 || vm_net_add_devices (sb, err) < 0)
    return -1;
  if (machine_console (sb->m) == NULL)
    return hull_error (err, ENODEV, "the microVM has no virtio-console");
  if (virtio_console_add_port (machine_console (sb->m), VM_AGENT_PORT, sb->chan_guest, err) < 0)
    return hull_error_prefix (err, "agent port");
  if (vm_io_start (sb, err) < 0)
    return -1;
  r = pthread_create (&sb->vm_thread, NULL, vm_main, sb);
  if (r != 0)
    return hull_error (err, r, "start the VM thread");
  sb->vm_thread_started = true;
  log_debug (sb->log, "container `%s`: microVM started (kernel %s, initramfs %s)", sb->id,
             sb->settings.kernel, sb->settings.initramfs);
  return 0;
}

/* A guest that did not come up explains itself on its console: add the
 * end of console.log to the error (the state dir goes with the failed
 * create). */
void
vm_console_tail (struct sandbox *sb, hull_error_t *err)
{
  cleanup_free char *path = NULL, *msg = NULL;
  cleanup_close int fd = -1;
  char buf[1536], *start;
  off_t size;
  ssize_t n;

  if (*err == NULL || asprintf (&path, "%s/console.log", sb->state_dir) < 0)
    return;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (size = lseek (fd, 0, SEEK_END)) <= 0)
    return;
  n = pread (fd, buf, sizeof (buf) - 1,
             size > (off_t) sizeof (buf) - 1 ? size - (off_t) sizeof (buf) + 1 : 0);
  if (n <= 0)
    return;
  buf[n] = '\0';
  start = size > n ? strchr (buf, '\n') : NULL;
  start = start ? start + 1 : buf;
  if (asprintf (&msg, "%s; the guest console ended with:\n%s", (*err)->msg ? (*err)->msg : "",
                start)
      < 0)
    return;
  free ((*err)->msg);
  (*err)->msg = hull_steal_ptr (&msg);
}

/* Let the agent power the guest off (it syncs first), then make sure. */
static void
vm_shutdown (struct sandbox *sb)
{
  struct timespec dl;
  struct vm_call *c;
  bool alive;
  int r = 0;

  pthread_mutex_lock (&sb->lock);
  sb->shutting_down = true;
  alive = !sb->vm_done && !sb->io_dead && sb->ready;
  pthread_mutex_unlock (&sb->lock);
  if (alive && (c = vm_call_new (sb, HULL_OP_SHUTDOWN, false)) != NULL)
    {
      hull_error_t e = NULL;
      if (vm_call_run (sb, c, VM_SHUTDOWN_WAIT_MS, &e) == 0)
        vm_call_free (c);
      else
        log_debug (sb->log, "shutdown: %s", hull_error_msg (&e));
      hull_error_free (&e);
    }
  clock_gettime (CLOCK_MONOTONIC, &dl);
  dl.tv_sec += alive ? VM_SHUTDOWN_WAIT_MS / 1000 : 0;
  pthread_mutex_lock (&sb->lock);
  while (!sb->vm_done && r == 0)
    r = pthread_cond_timedwait (&sb->cond, &sb->lock, &dl);
  pthread_mutex_unlock (&sb->lock);
  machine_stop (sb->m, VM_EXIT_POWEROFF, "the container was destroyed");
}

void
vm_boot_teardown (struct sandbox *sb)
{
  int64_t t0 = vm_now_ms ();

  if (sb->vm_thread_started)
    {
      vm_shutdown (sb);
      pthread_join (sb->vm_thread, NULL);
      sb->vm_thread_started = false;
      log_debug (sb->log, "container `%s`: microVM stopped (%s: %s) %lld ms after shutdown began",
                 sb->id, vm_exit_reason_name (sb->vm_reason), sb->vm_msg,
                 (long long) (vm_now_ms () - t0));
    }
  else
    {
      pthread_mutex_lock (&sb->lock);
      sb->shutting_down = true;
      pthread_mutex_unlock (&sb->lock);
    }
  vm_io_stop (sb);
  /* No vCPU may reach the virtio-fs BAR once it is freed, and the device
   * goes before virtiofsd so a normal stop is not a lost back-end. */
  if (sb->m != NULL)
    vcpus_stop (machine_vm (sb->m));
  if (sb->fs != NULL)
    virtio_fs_destroy (sb->fs);
  sb->fs = NULL;
  vm_vols_destroy_devices (sb);
  vm_net_destroy_devices (sb);
  machine_destroy (sb->m);
  sb->m = NULL;
  vm_net_teardown (sb);
  virtiofsd_stop (&sb->fsd);
  vm_vols_stop_daemons (sb);
  if (sb->chan_guest >= 0)
    close (sb->chan_guest);
  if (sb->chan_host >= 0)
    close (sb->chan_host);
  if (sb->console_fd >= 0)
    close (sb->console_fd);
  sb->chan_guest = sb->chan_host = sb->console_fd = -1;
}
