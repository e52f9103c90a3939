/* Driver for integration/test-virtiofsd.sh: boots a kernel under hull's VMM
 * with SHARE exported as virtio-fs tag "hullfs", served by a virtiofsd that
 * runtime/virtiofsd.c starts and stops.  Guest console on stdout.
 *
 * usage: virtiofs-boot KERNEL INITRD SHARE SOCKET [KILL_WHEN_FILE]
 * With KILL_WHEN_FILE, virtiofsd is SIGKILLed as soon as that file appears
 * (the guest creates it once it has mounted the share), to check that the
 * VM then stops with an error instead of hanging.
 * Exit: 0 the guest powered off or reset, 10 the VM stopped with an error
 * (message printed), 1 setup failed. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/virtiofsd.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"
#include "vmm/virtio_fs.h"

struct killer
{
  const char *when;
  pid_t pid;
  volatile int stop;
  struct timespec at; /* when it killed */
};

static long
ms_since (const struct timespec *t)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void *
killer_main (void *arg)
{
  struct killer *k = arg;
  struct stat st;

  while (!k->stop)
    {
      if (stat (k->when, &st) == 0)
        {
          fprintf (stderr, "virtiofs-boot: killing virtiofsd %d\n", k->pid);
          clock_gettime (CLOCK_MONOTONIC, &k->at);
          kill (k->pid, SIGKILL);
          return NULL;
        }
      usleep (20 * 1000);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  struct virtiofsd d;
  struct machine *m = NULL;
  struct virtio_fs *fs = NULL;
  hull_error_t err = NULL;
  struct killer k = { 0 };
  pthread_t kt;
  char msg[512];
  enum vm_exit_reason r;

  if (argc != 5 && argc != 6)
    {
      fprintf (stderr, "usage: %s KERNEL INITRD SHARE SOCKET [KILL_WHEN_FILE]\n",
               argv[0]);
      return 1;
    }
  struct virtiofsd_config vc = { .source = argv[3], .socket_path = argv[4] };
  struct machine_config mc = { .kernel_path = argv[1], .initrd_path = argv[2],
                               .cpus = 1, .memory_mib = 256,
                               .console_in_fd = -1, .console_out_fd = 1,
                               .hvc_in_fd = -1, .append = "quiet" };
  if (virtiofsd_start (&d, &vc, &err) < 0)
    {
      fprintf (stderr, "virtiofs-boot: %s\n", hull_error_msg (&err));
      return 1;
    }
  if (machine_create (&mc, &m, &err) < 0
      || virtio_fs_create (machine_vm (m), "hullfs", argv[4], &fs, &err) < 0)
    {
      fprintf (stderr, "virtiofs-boot: %s\n", hull_error_msg (&err));
      machine_destroy (m);
      virtiofsd_stop (&d);
      return 1;
    }
  if (argc == 6)
    {
      k = (struct killer){ .when = argv[5], .pid = d.pid };
      pthread_create (&kt, NULL, killer_main, &k);
    }
  r = machine_run (m, msg, sizeof msg);
  if (argc == 6)
    {
      k.stop = 1;
      pthread_join (kt, NULL);
      if (k.at.tv_sec != 0)
        fprintf (stderr, "virtiofs-boot: VM stopped %ld ms after the kill\n",
                 ms_since (&k.at));
    }
  fprintf (stderr, "virtiofs-boot: exit %s: %s\n", vm_exit_reason_name (r), msg);
  /* No vCPU may reach the device's BAR once it is freed; then the device
   * before virtiofsd: closing the connection ends virtiofsd's session. */
  vcpus_stop (machine_vm (m));
  virtio_fs_destroy (fs);
  machine_destroy (m);
  virtiofsd_stop (&d);
  fprintf (stderr, "virtiofs-boot: virtiofsd stopped\n");
  if (r == VM_EXIT_POWEROFF || r == VM_EXIT_RESET)
    return 0;
  return r == VM_EXIT_ERROR ? 10 : 1;
}
