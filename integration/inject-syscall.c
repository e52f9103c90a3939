/* inject-syscall PID NR [ARG...]: make thread PID (a process's main
 * thread) execute system call NR with up to 6 integer arguments, through
 * ptrace, and print what happened: "result N" (the raw return value, a
 * negative errno included) after which the thread goes on as before, or
 * "killed by signal N" when the call ended the process (what seccomp's
 * kill action does).  x86-64 only.  For integration/test-confine.sh. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
die (const char *what)
{
  fprintf (stderr, "inject-syscall: %s: %s\n", what, strerror (errno));
  return 2;
}

/* Stops the thread where it is and waits for the stop. */
static int
stop (pid_t pid)
{
  int st;

  if (ptrace (PTRACE_INTERRUPT, pid, 0, 0) < 0)
    return -1;
  return waitpid (pid, &st, __WALL) == pid && WIFSTOPPED (st) ? 0 : -1;
}

/* True when the two bytes before rip are a syscall instruction (0f 05):
 * the thread was stopped in a system call, so rip - 2 can run another. */
static int
after_syscall (pid_t pid, const struct user_regs_struct *r)
{
  long w;

  errno = 0;
  w = ptrace (PTRACE_PEEKTEXT, pid, (void *) (r->rip - 2), 0);
  return errno == 0 && (w & 0xffff) == 0x050f;
}

int
main (int argc, char **argv)
{
  struct user_regs_struct saved, r;
  unsigned long long a[6] = { 0 };
  pid_t pid;
  int st, tries;

  if (argc < 3 || argc > 9)
    {
      fprintf (stderr, "usage: inject-syscall PID NR [ARG...]\n");
      return 2;
    }
  pid = atoi (argv[1]);
  for (int i = 3; i < argc; i++)
    a[i - 3] = strtoull (argv[i], NULL, 0);
  if (ptrace (PTRACE_SEIZE, pid, 0, 0) < 0)
    return die ("PTRACE_SEIZE");
  /* Catch it inside a system call (a VMM's main thread mostly waits in
   * one); otherwise let it run a little and try again. */
  for (tries = 0; tries < 200; tries++)
    {
      if (stop (pid) < 0 || ptrace (PTRACE_GETREGS, pid, 0, &saved) < 0)
        return die ("stop the thread");
      if (after_syscall (pid, &saved))
        break;
      ptrace (PTRACE_CONT, pid, 0, 0);
      nanosleep (&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
    }
  if (tries == 200)
    {
      fprintf (stderr, "inject-syscall: thread %d never stopped in a system call\n", pid);
      return 2;
    }
  r = saved;
  r.rip = saved.rip - 2;
  r.orig_rax = (unsigned long long) -1; /* no restart of the interrupted call */
  r.rax = strtoull (argv[2], NULL, 0);
  r.rdi = a[0], r.rsi = a[1], r.rdx = a[2], r.r10 = a[3], r.r8 = a[4], r.r9 = a[5];
  if (ptrace (PTRACE_SETREGS, pid, 0, &r) < 0 || ptrace (PTRACE_SINGLESTEP, pid, 0, 0) < 0)
    return die ("run the system call");
  if (waitpid (pid, &st, __WALL) != pid)
    return die ("waitpid");
  if (WIFSIGNALED (st))
    {
      printf ("killed by signal %d\n", WTERMSIG (st));
      return 0;
    }
  if (WIFEXITED (st))
    {
      printf ("exited with status %d\n", WEXITSTATUS (st));
      return 0;
    }
  if (ptrace (PTRACE_GETREGS, pid, 0, &r) < 0)
    return die ("PTRACE_GETREGS");
  /* Back to the interrupted call, which the kernel restarts. */
  if (ptrace (PTRACE_SETREGS, pid, 0, &saved) < 0 || ptrace (PTRACE_DETACH, pid, 0, 0) < 0)
    return die ("restore the thread");
  printf ("result %lld\n", (long long) r.rax);
  return 0;
}
