/* hull boot: boot a kernel in a microVM with the console on stdout.  The
 * VMM's debug entry point; containers go through create/start instead. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "runtime/confine.h"
#include "runtime/log.h"
#include "vmm/machine.h"

#define BOOT_DEFAULT_MEMORY_MIB 512

static void
boot_usage (FILE *out)
{
  fprintf (out,
           "usage: hull boot --kernel PATH [--initrd PATH] [--append STR] [--cpus N]\n"
           "                 [--memory MiB] [--cmdline STR] [--allow-emulated]\n"
           "Boots PATH (bzImage, or ELF with a PVH entry note) with the console\n"
           "(COM1 and hvc0) on stdout and COM1 input from stdin.  Exit status 0\n"
           "when the guest reboots, powers off or halts.\n"
           "  --append STR      added to the default command line:\n"
           "                    \"%s\"\n"
           "  --cmdline STR     replace the default command line\n"
           "  --cpus N          vCPUs (1-64, default 1)\n"
           "  --memory MiB      RAM (default %d)\n"
           "  --allow-emulated  boot a bzImage even where KVM only emulates (PVM);\n"
           "                    also HULL_ALLOW_EMULATED=1\n",
           MACHINE_DEFAULT_CMDLINE, BOOT_DEFAULT_MEMORY_MIB);
}

static int
parse_number (const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
  char *end = NULL;
  unsigned long long v;

  errno = 0;
  if (s[0] == '-' || s[0] == '\0')
    goto bad;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || v > max)
    goto bad;
  *out = v;
  return 0;
bad:
  fprintf (stderr, "hull boot: %s: `%s` is not a number in 1-%llu\n", opt, s, max);
  return -1;
}

/* On a host where KVM emulates every instruction (PVM), a stock kernel
 * crawls and then dies in the emulator: refuse up front.  The rule keys on
 * the bzImage format, which is what distributions ship their kernels as;
 * freestanding test payloads come as PVH ELF files (or pass
 * --allow-emulated) and do run there. */
static int
boot_check_host (const char *kernel, bool allow_emulated)
{
  FILE *f;
  char magic[4] = { 0 };
  bool elf;

  if (allow_emulated || !machine_kvm_is_emulated ())
    return 0;
  f = fopen (kernel, "re");
  if (f == NULL)
    return 0; /* machine_create reports the path */
  elf = fread (magic, 1, 4, f) == 4 && memcmp (magic, "\177ELF", 4) == 0;
  fclose (f);
  if (elf)
    return 0;
  fprintf (stderr,
           "hull boot: this host's /dev/kvm cannot run a stock kernel: it is PVM (kvm_pvm) or the\n"
           "CPU lacks VMX/SVM, so every guest instruction goes through KVM's emulator and a\n"
           "Linux kernel stops early with an emulation failure.  Run it in the nested lane:\n"
           "  integration/nested build/hull boot --kernel %s ...\n"
           "(--allow-emulated or HULL_ALLOW_EMULATED=1 tries anyway.)\n",
           kernel);
  return -1;
}

static int
boot_parse (int argc, char **argv, struct machine_config *cfg, bool *allow_emulated)
{
  static const struct option opts[] = {
    { "kernel", required_argument, NULL, 'k' },  { "initrd", required_argument, NULL, 'i' },
    { "append", required_argument, NULL, 'a' },  { "cmdline", required_argument, NULL, 'c' },
    { "cpus", required_argument, NULL, 'n' },    { "memory", required_argument, NULL, 'm' },
    { "allow-emulated", no_argument, NULL, 'E' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  unsigned long long v;
  int c;

  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'k': cfg->kernel_path = optarg; break;
      case 'i': cfg->initrd_path = optarg; break;
      case 'a': cfg->append = optarg; break;
      case 'c': cfg->cmdline = optarg; break;
      case 'E': *allow_emulated = true; break;
      case 'n':
        if (parse_number ("--cpus", optarg, 64, &v) < 0)
          return -1;
        cfg->cpus = (unsigned) v;
        break;
      case 'm':
        if (parse_number ("--memory", optarg, MACHINE_MAX_MEMORY_MIB, &v) < 0)
          return -1;
        cfg->memory_mib = v;
        break;
      case 'h':
        boot_usage (stdout);
        exit (0);
      default:
        boot_usage (stderr);
        return -1;
      }
  if (optind < argc)
    {
      fprintf (stderr, "hull boot: unexpected argument `%s`\n", argv[optind]);
      return -1;
    }
  if (cfg->kernel_path == NULL)
    {
      fprintf (stderr, "hull boot: --kernel is required\n");
      boot_usage (stderr);
      return -1;
    }
  return 0;
}

/* Fds the caller leaked to us go before anything is opened; once the
 * machine exists (guest memory, vCPU fds, devices), the process is
 * confined (runtime/confine.h) unless the settings say "confineVmm": false.
 * The vCPU threads start after this, under the same filter. */
static int
boot_close_fds (const struct hull_globals *g)
{
  hull_error_t err = NULL;
  int keep[] = { g->log != NULL ? g->log->fd : -1 };

  if (confine_close_fds (keep, 1, &err) < 0)
    {
      fprintf (stderr, "hull boot: %s\n", hull_error_msg (&err));
      hull_error_free (&err);
      return -1;
    }
  return 0;
}

static int
boot_confine (void)
{
  hull_error_t err = NULL;
  bool want = true;

  if (confine_wanted (&want, &err) == 0 && (!want || confine_apply (&err) == 0))
    return 0;
  fprintf (stderr, "hull boot: %s\n", hull_error_msg (&err));
  hull_error_free (&err);
  return -1;
}

int
hull_cmd_boot (struct hull_globals *g, int argc, char **argv)
{
  struct machine_config cfg = { .cpus = 1, .memory_mib = BOOT_DEFAULT_MEMORY_MIB,
                                .console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO,
                                .hvc_in_fd = -1 };
  const char *env = getenv ("HULL_ALLOW_EMULATED");
  bool allow_emulated = env != NULL && strcmp (env, "1") == 0;
  struct machine *m = NULL;
  hull_error_t err = NULL;
  enum vm_exit_reason reason;
  char msg[256];

  (void) g;
  /* A console reader that goes away (hull boot | head) must not kill the
   * VMM with SIGPIPE; the serial port just drops output then. */
  signal (SIGPIPE, SIG_IGN);
  if (boot_parse (argc, argv, &cfg, &allow_emulated) < 0)
    return 2;
  if (boot_check_host (cfg.kernel_path, allow_emulated) < 0 || boot_close_fds (g) < 0)
    return 1;
  if (machine_create (&cfg, &m, &err) < 0)
    {
      fprintf (stderr, "hull boot: %s\n", hull_error_msg (&err));
      hull_error_free (&err);
      return 1;
    }
  if (boot_confine () < 0)
    {
      machine_destroy (m);
      return 1;
    }
  reason = machine_run (m, msg, sizeof (msg));
  machine_destroy (m);
  fflush (stdout);
  if (reason == VM_EXIT_RESET || reason == VM_EXIT_POWEROFF)
    {
      fprintf (stderr, "hull boot: guest %s: %s\n", vm_exit_reason_name (reason), msg);
      return 0;
    }
  fprintf (stderr, "hull boot: VM stopped (%s): %s\n", vm_exit_reason_name (reason), msg);
  if (reason == VM_EXIT_ERROR && strstr (msg, "internal error") && machine_kvm_is_emulated ())
    fprintf (stderr, "hull boot: this host's KVM emulates instructions (PVM); a full kernel"
                     " needs the nested lane (integration/nested)\n");
  return 1;
}
