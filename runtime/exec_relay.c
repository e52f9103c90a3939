#include "runtime/exec_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/fdio.h"
#include "runtime/console_socket.h"
#include "runtime/json.h"
#include "runtime/oci_config.h"
#include "runtime/pidfile.h"
#include "runtime/supervisor_proto.h"

struct relay
{
  int conn;   /* exec connection to the supervisor */
  int master; /* pty master when we copy the terminal ourselves, or -1 */
  int sig_fd;
  bool raw;   /* our terminal is in raw mode; restore `saved` */
  struct termios saved;
};

int
exec_parse_user (const char *text, unsigned *uid, unsigned *gid, hull_error_t *err)
{
  char *end = NULL;
  unsigned long u, g = 0;

  errno = 0;
  u = strtoul (text, &end, 10);
  if (errno == 0 && end != text && *end == ':')
    {
      const char *gs = end + 1;
      g = strtoul (gs, &end, 10);
      if (end == gs)
        end = (char *) "x";
    }
  if (errno != 0 || end == text || *end != '\0' || u > 0xffffffffUL || g > 0xffffffffUL)
    return hull_error (err, 0, "--user `%s`: expected UID[:GID] (numbers)", text);
  *uid = (unsigned) u;
  *gid = (unsigned) g;
  return 0;
}

/* The request and whether the process wants a terminal. */
static yajl_gen
build_request (const struct exec_opts *o, bool *tty, hull_error_t *err)
{
  yajl_gen g;

  if (o->process_path != NULL)
    {
      cleanup_free char *text = NULL;
      struct oci_process *p = NULL;
      size_t len;
      if (json_read_file (o->process_path, &text, &len, err) < 0
          || oci_process_parse_data (text, len, &p, err) < 0)
        {
          hull_error_prefix (err, "--process `%s`", o->process_path);
          return NULL;
        }
      *tty = p->terminal;
      oci_process_free (p);
      g = proto_begin_op ("exec");
      proto_put_str (g, "process", text);
      return g;
    }
  if (o->args == NULL || o->args[0] == NULL)
    {
      hull_error (err, 0, "exec: give a command or --process");
      return NULL;
    }
  *tty = o->tty;
  g = proto_begin_op ("exec");
  proto_put_strv (g, "args", o->args);
  proto_put_str (g, "cwd", o->cwd);
  if (o->env != NULL)
    proto_put_strv (g, "env", o->env);
  if (o->has_user)
    {
      proto_put_int (g, "uid", o->uid);
      proto_put_int (g, "gid", o->gid);
    }
  proto_put_bool (g, "tty", o->tty);
  return g;
}

/* Connect, send the exec request, deal with the pty.  Fills r. */
static int
relay_start (const char *sock, const struct exec_opts *o, struct relay *r, pid_t *guest_pid,
             hull_error_t *err)
{
  int stdio[3] = { 0, 1, 2 }, rfds[UNIX_FDS_MAX];
  size_t nr = 0;
  yajl_val reply = NULL;
  long long pid = 0;
  bool tty = false;
  yajl_gen req = build_request (o, &tty, err);

  if (req == NULL)
    return -1;
  if (tty && o->console_socket == NULL && o->detach)
    {
      yajl_gen_free (req);
      return hull_error (err, 0, "exec: a terminal with --detach needs --console-socket");
    }
  if (proto_call (sock, req, tty ? NULL : stdio, tty ? 0 : 3, &reply, rfds, &nr, &r->conn, err)
      < 0)
    return -1;
  proto_get_int (reply, "pid", &pid);
  yajl_tree_free (reply);
  *guest_pid = (pid_t) pid;
  if (tty && nr != 1)
    return hull_error (err, 0, "exec: the supervisor sent no pty");
  if (! tty)
    {
      for (size_t i = 0; i < nr; i++)
        close (rfds[i]);
      /* The process has our stdio now: do not keep the pipes open. */
      fdio_stdio_to_devnull ();
      return 0;
    }
  if (o->console_socket != NULL)
    {
      int ret = console_socket_send_fd (o->console_socket, rfds[0], "/dev/ptmx", err);
      close (rfds[0]);
      return ret;
    }
  r->master = rfds[0];
  return 0;
}

static void
relay_send (struct relay *r, yajl_gen g)
{
  cleanup_error hull_error_t err = NULL;
  proto_send (r->conn, g, NULL, 0, &err);
}

static void
relay_resize (struct relay *r)
{
  struct winsize ws;
  yajl_gen g;

  if (ioctl (0, TIOCGWINSZ, &ws) < 0)
    return;
  g = proto_begin_op ("resize");
  proto_put_int (g, "rows", ws.ws_row);
  proto_put_int (g, "cols", ws.ws_col);
  relay_send (r, g);
}

static void
relay_signals (struct relay *r)
{
  struct signalfd_siginfo si;

  while (read (r->sig_fd, &si, sizeof (si)) == sizeof (si))
    {
      yajl_gen g;
      if (si.ssi_signo == SIGCHLD)
        continue;
      if (si.ssi_signo == SIGWINCH && r->master >= 0)
        {
          relay_resize (r);
          continue;
        }
      g = proto_begin_op ("signal");
      proto_put_int (g, "signal", si.ssi_signo);
      relay_send (r, g);
    }
}

/* The process has exited: print what it left in the pty. */
static void
relay_drain (struct relay *r)
{
  struct pollfd p = { .fd = r->master, .events = POLLIN };

  while (r->master >= 0 && poll (&p, 1, 100) > 0 && (p.revents & POLLIN)
         && fdio_copy_once (r->master, 1))
    ;
}

/* 1 and *status when the exit event came, 0 otherwise, -1 when the
 * supervisor went away. */
static int
relay_message (struct relay *r, int *status)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val msg = NULL;
  long long st = 0;
  const char *ev;
  int n = proto_recv (r->conn, &msg, NULL, NULL, &err);

  if (n <= 0)
    return -1;
  ev = proto_get_str (msg, "event");
  if (ev != NULL && strcmp (ev, "exit") == 0 && proto_get_int (msg, "status", &st))
    {
      *status = (int) st;
      yajl_tree_free (msg);
      return 1;
    }
  yajl_tree_free (msg);
  return 0;
}

static int
epoll_watch (int ep, int fd)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
  return epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev);
}

static int
relay_loop (struct relay *r, hull_error_t *err)
{
  cleanup_close int ep = epoll_create1 (EPOLL_CLOEXEC);
  bool stdin_open = r->master >= 0;
  int status = 0;

  if (ep < 0 || epoll_watch (ep, r->conn) < 0 || epoll_watch (ep, r->sig_fd) < 0)
    return hull_error (err, errno, "exec relay: epoll");
  if (r->master >= 0 && (epoll_watch (ep, r->master) < 0 || epoll_watch (ep, 0) < 0))
    stdin_open = false;
  if (r->master >= 0)
    relay_resize (r);
  if (r->master >= 0 && isatty (0) && tcgetattr (0, &r->saved) == 0)
    {
      struct termios raw = r->saved;
      cfmakeraw (&raw);
      r->raw = tcsetattr (0, TCSANOW, &raw) == 0;
    }
  for (;;)
    {
      struct epoll_event evs[4];
      int n = epoll_wait (ep, evs, 4, -1);
      if (n < 0 && errno != EINTR)
        return hull_error (err, errno, "exec relay: epoll_wait");
      for (int i = 0; i < n; i++)
        {
          int fd = evs[i].data.fd, m;
          if (fd == r->sig_fd)
            relay_signals (r);
          else if (fd == r->conn && (m = relay_message (r, &status)) != 0)
            {
              relay_drain (r);
              return m > 0 ? status
                           : hull_error (err, 0, "exec relay: the supervisor went away");
            }
          else if (fd == r->master && ! fdio_copy_once (r->master, 1))
            epoll_ctl (ep, EPOLL_CTL_DEL, r->master, NULL);
          else if (fd == 0 && stdin_open && ! fdio_copy_once (0, r->master))
            {
              stdin_open = false;
              epoll_ctl (ep, EPOLL_CTL_DEL, 0, NULL);
            }
        }
    }
}

static int
relay_signalfd (struct relay *r, hull_error_t *err)
{
  sigset_t all;

  sigfillset (&all);
  r->sig_fd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->sig_fd < 0)
    return hull_error (err, errno, "signalfd");
  return 0;
}

static void
relay_close (struct relay *r)
{
  if (r->raw)
    tcsetattr (0, TCSANOW, &r->saved);
  if (r->conn >= 0)
    close (r->conn);
  if (r->master >= 0)
    close (r->master);
  if (r->sig_fd >= 0)
    close (r->sig_fd);
}

static int
sock_of_running (const struct hull_context *ctx, const char *id, char **sock, hull_error_t *err)
{
  struct container c;
  int r;

  if (container_open (ctx, id, &c, err) < 0)
    return -1;
  r = state_check_op (id, c.status, OP_EXEC, err);
  *sock = r == 0 ? strdup (c.sock) : NULL;
  container_close (&c);
  return r;
}

static void
report (int fd, const hull_error_t *err)
{
  const char *m = err ? hull_error_msg (err) : "";
  dprintf (fd, "%c%s", err ? '1' : '0', m);
  close (fd);
}

static void __attribute__ ((noreturn))
detached_relay (const char *sock, const struct exec_opts *o, int report_fd)
{
  cleanup_error hull_error_t err = NULL;
  struct relay r = { .conn = -1, .master = -1, .sig_fd = -1 };
  pid_t guest;
  int status;

  setsid ();
  if (relay_signalfd (&r, &err) < 0 || relay_start (sock, o, &r, &guest, &err) < 0)
    {
      report (report_fd, &err);
      _exit (1);
    }
  report (report_fd, NULL);
  status = relay_loop (&r, &err);
  relay_close (&r);
  _exit (status < 0 ? 255 : status);
}

static int
read_report (int fd, hull_error_t *err)
{
  char buf[4096];
  ssize_t n, len = 0;

  while ((n = read (fd, buf + len, sizeof (buf) - 1 - (size_t) len)) > 0
         || (n < 0 && errno == EINTR))
    if (n > 0)
      len += n;
  buf[len] = '\0';
  if (len >= 1 && buf[0] == '0')
    return 0;
  return hull_error (err, 0, "%s", len > 1 ? buf + 1 : "exec relay exited before starting");
}

static int
run_detached (const char *sock, const struct exec_opts *o, hull_error_t *err)
{
  int fds[2];
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return hull_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return hull_error (err, errno, "fork exec relay");
  if (pid == 0)
    {
      close (fds[0]);
      detached_relay (sock, o, fds[1]);
    }
  close (fds[1]);
  if (read_report (fds[0], err) < 0)
    {
      close (fds[0]);
      waitpid (pid, NULL, 0);
      return -1;
    }
  close (fds[0]);
  if (o->pid_file != NULL && pidfile_write (o->pid_file, pid, err) < 0)
    {
      kill (pid, SIGKILL);
      return -1;
    }
  return 0;
}

int
exec_relay_run (const struct hull_context *ctx, const struct exec_opts *o, hull_error_t *err)
{
  cleanup_free char *sock = NULL;
  struct relay r = { .conn = -1, .master = -1, .sig_fd = -1 };
  sigset_t all;
  pid_t guest;
  int status;

  if (sock_of_running (ctx, o->id, &sock, err) < 0)
    return -1;
  /* Blocked from here on, so no signal meant for the process is lost
   * between now and the relay loop (they queue in the signalfd). */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  if (o->detach)
    return run_detached (sock, o, err);
  if (relay_signalfd (&r, err) < 0 || relay_start (sock, o, &r, &guest, err) < 0
      || (o->pid_file != NULL && pidfile_write (o->pid_file, getpid (), err) < 0))
    {
      relay_close (&r);
      return -1;
    }
  status = relay_loop (&r, err);
  relay_close (&r);
  return status;
}
