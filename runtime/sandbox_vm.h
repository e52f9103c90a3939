/* Internals of the microVM backend (runtime/sandbox.h's sandbox_vm_ops).
 *
 *   sandbox_vm.c       the ops table: create/start/exec/... as agent requests
 *   sandbox_vm_boot.c  guest assets, virtiofsd, the machine and its thread
 *   sandbox_vm_io.c    the I/O thread: protocol connection, stdio relays,
 *                      exit events
 *   sandbox_vm_stdio.c stdio relays between host fds and protocol streams
 *   sandbox_vm_call.c  requests from the supervisor thread to the I/O thread
 *   sandbox_vm_json.c  an OCI process as JSON (for exec)
 *   sandbox_vm_net.c   the container's netns: taps, virtio-net devices, the
 *                      guest's interface description
 *   sandbox_vm_pod.c   a pod sandbox's VM: the share, and the members that
 *                      join it (runtime/pod.h, sandbox.h sandbox_pod_ops)
 *
 * Threads: the supervisor's thread calls the ops; the VM thread sits in
 * machine_run; the I/O thread owns the protocol connection (struct
 * hull_conn), the process table and every host stdio fd.  The supervisor
 * thread hands requests to the I/O thread as struct vm_call under
 * sb->lock and waits on sb->cond; exits come back the other way through
 * sb->exits and the exit eventfd the supervisor polls.  Nothing here
 * blocks the supervisor on a host reader or writer: output the host does
 * not take stays in the guest (credit flow control, one window per
 * stream). */
#ifndef HULL_SANDBOX_VM_H
#define HULL_SANDBOX_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/protocol.h"
#include "runtime/sandbox.h"
#include "runtime/settings.h"
#include "runtime/virtiofsd.h"
#include "vmm/vm.h"

#define VM_AGENT_PORT "hull.agent"
/* The container rootfs travels as this virtio-fs tag; the kernel command
 * line tells the agent (hull.rootfs=TAG) to mount it at VM_GUEST_ROOTFS. */
#define VM_ROOTFS_TAG "hullroot"
#define VM_GUEST_ROOTFS "/run/hull/rootfs"
/* Bind-mounted host directories travel as virtio-fs tags hullvol0, ...
 * (sandbox_vm_vols.c); bounded so the guest's PCI slots and virtiofsd
 * processes per container stay few. */
#define VM_VOL_TAG_PREFIX "hullvol"
#define VM_MAX_VOLS 8
/* Bind-mounted host FILES up to this size are copied into a read-only
 * share of their own (one more volume); larger ones are skipped. */
#define VM_VOL_FILE_MAX (1u << 20)
#define VM_MAX_VOL_FILES 16
/* virtio-net devices, one per Ethernet interface of the container's netns
 * (runtime/netns.h NETNS_MAX_IFACES). */
#define VM_MAX_NICS 8
/* Receive window per stream: at most this much guest output waits in the
 * supervisor for a slow host reader. */
#define VM_STREAM_WINDOW (64u * 1024)
/* How long a dead process's output may take to reach the host before its
 * exit is reported anyway (a host reader that stopped reading). */
#define VM_EXIT_DRAIN_MS 2000
#define VM_WINSIZE_POLL_MS 200
#define VM_SHUTDOWN_WAIT_MS 5000
/* SIGKILL to init (or to all): if init has not exited this long after,
 * the guest is too busy or broken to act on it and the VM is stopped,
 * which kills everything in it (init then reports 137). */
#define VM_KILL_GRACE_MS 2000

struct machine;
struct virtio_fs;
struct virtio_net;
struct netns_net;

/* One direction of one process's stdio between a host fd and a stream. */
struct vm_relay
{
  uint32_t stream; /* 0: not connected */
  int fd;          /* host side, -1 once closed */
  bool sock;       /* a socket: send/recv with MSG_DONTWAIT */
  bool fin;        /* output: the guest sent FIN; input: we sent FIN */
  /* Output only: guest bytes the host fd has not taken yet (never more
   * than VM_STREAM_WINDOW: the agent cannot send more than our credit). */
  uint8_t *buf;
  size_t off, len;
};

struct vm_proc
{
  uint32_t ctr;  /* 0: the VM's own container, else a pod member's handle */
  char *cid;     /* the member's id (NULL for ctr 0) */
  uint32_t proc; /* SANDBOX_INIT, or the container pid of an exec'd one */
  bool is_init;
  bool attached; /* the agent answered create/exec */
  bool exited;
  int status; /* shell style, once exited */
  int64_t exit_at_ms;
  struct vm_relay in, out, err;
  int tty; /* host pty slave (terminal), -1: window size source */
  unsigned short rows, cols; /* last size sent to the guest */
  struct vm_proc *next;
};

enum vm_call_kind
{
  VM_CALL_REQUEST, /* send mb, wait for its RESPONSE */
  VM_CALL_FIN,     /* close the stdin stream of fin_proc (no answer) */
  VM_CALL_FORGET,  /* drop every process of member fin_ctr (no answer) */
};

struct vm_call
{
  enum vm_call_kind kind;
  struct hull_msgbuf mb;
  struct vm_proc *attach; /* create/exec: joins the process table, its
                             streams opened, when the request is sent */
  struct vm_proc *linked; /* attach once in the table (I/O thread's) */
  uint32_t fin_ctr, fin_proc;
  bool detached; /* the waiter gave up: the I/O thread frees it */
  bool done;
  int errnum; /* failure: errno and message */
  char *errmsg;
  uint8_t *payload; /* success: a copy of the response, resp points in */
  struct hull_msg resp;
  struct vm_call *next;
};

struct vm_vol
{
  struct virtiofsd fsd;
  struct virtio_fs *fs;
  const char *source; /* host directory (borrowed) */
  size_t mount_idx;   /* the first mount of this source; SIZE_MAX for the
                         copied files' share */
  bool readonly;
};

/* A pod member in the VM (sandbox_vm_pod.c). */
struct vm_member
{
  uint32_t ctr;
  char *id;
  struct vm_member *next;
};

struct sandbox
{
  char *id;
  char *state_dir;
  char *rootfs;
  const struct oci_config *config;
  struct hull_log *log;
  char *(*state_json) (void *ctx, enum container_status s);
  void *ctx;
  struct hull_settings settings;
  bool settings_loaded;
  int timeout_ms; /* boot and request timeout */

  struct virtiofsd fsd;
  struct machine *m;
  struct virtio_fs *fs;
  struct vm_vol vols[VM_MAX_VOLS];
  size_t n_vols;
  char *vols_cmdline; /* hull.vols=... for the agent, NULL before planning */
  char *vol_files_dir;  /* <state_dir>/volfiles: copies of host-file binds,
                           one per mount index, NULL when none */
  size_t vol_files[VM_MAX_VOL_FILES];
  size_t n_vol_files;
  struct netns_net *net;     /* the container netns's taps, NULL: none */
  /* A pod sandbox's VM (runtime/pod.h): virtiofsd shares `share`, the
   * container's rootfs and binds are under it, no volumes of their own. */
  bool pod;
  char *share;          /* <state_dir>/pod */
  char *guest_rootfs;   /* the container's rootfs in the guest */
  char *pod_json;       /* its layout for the create request */
  struct virtio_net *nics[VM_MAX_NICS];
  int chan_guest, chan_host; /* socketpair: the port's end, ours */
  int console_fd;            /* guest console log in the state dir */

  pthread_t vm_thread, io_thread;
  bool vm_thread_started, io_thread_started;
  int wake_fd; /* eventfd: new calls, VM gone, stop */
  int exit_fd; /* eventfd: exits queued (the supervisor's event_fd) */

  pthread_mutex_t lock;
  pthread_cond_t cond; /* CLOCK_MONOTONIC */
  /* Under lock. */
  bool vm_done;
  enum vm_exit_reason vm_reason;
  char vm_msg[256];
  bool io_stop;       /* destroy: the I/O thread must return */
  bool io_dead;       /* the I/O thread has ended: calls fail at once */
  char *io_error;     /* why it ended */
  bool ready;         /* the agent's HELLO arrived */
  bool shutting_down; /* the VM going away is expected */
  int64_t kill_deadline_ms; /* 0, or when init must be gone (VM_KILL_GRACE_MS) */
  struct vm_call *calls_new, *calls_sent;
  struct sandbox_exit *exits;
  size_t n_exits, cap_exits;
  uint32_t next_id, next_stream;
  struct vm_member *members; /* pod members */
  uint32_t next_member;

  /* I/O thread only (and destroy once it is joined). */
  struct hull_conn conn;
  bool conn_init;
  struct vm_proc *procs;
};

/* sandbox_vm_vols.c: plan (which mounts, the command line words), then
 * virtiofsd before the machine, devices before boot; teardown destroys
 * the devices before the machine and stops the daemons after it. */
int vm_vols_plan (struct sandbox *sb, hull_error_t *err);
int vm_vols_start_daemons (struct sandbox *sb, hull_error_t *err);
int vm_vols_add_devices (struct sandbox *sb, hull_error_t *err);
void vm_vols_destroy_devices (struct sandbox *sb);
void vm_vols_stop_daemons (struct sandbox *sb);

/* sandbox_vm_net.c: taps before the machine, devices with the others,
 * the interfaces in the create request; devices destroyed once the vCPUs
 * are stopped, the taps and qdiscs removed after the machine is gone. */
int vm_net_setup (struct sandbox *sb, hull_error_t *err);
int vm_net_add_devices (struct sandbox *sb, hull_error_t *err);
int vm_net_request (struct sandbox *sb, struct hull_msgbuf *mb, hull_error_t *err);
void vm_net_destroy_devices (struct sandbox *sb);
void vm_net_teardown (struct sandbox *sb);

/* sandbox_vm_boot.c */
int vm_boot_prepare (struct sandbox *sb, const struct sandbox_create_args *a, hull_error_t *err);
int vm_boot_start (struct sandbox *sb, hull_error_t *err);
/* Ask the agent to power off, wait a little, then stop the VM for good
 * and release the machine and virtiofsd. */
void vm_boot_teardown (struct sandbox *sb);
int64_t vm_now_ms (void);
/* Append the end of the guest console log to *err. */
void vm_console_tail (struct sandbox *sb, hull_error_t *err);

/* sandbox_vm_io.c */
int vm_io_start (struct sandbox *sb, hull_error_t *err);
void vm_io_stop (struct sandbox *sb);

/* sandbox_vm_stdio.c (I/O thread) */
/* Free a process and its relays (fds, buffers). */
void vm_proc_free (struct vm_proc *p);
/* Host stdio: a private non-blocking handle on fd (see the file). */
int vm_relay_open (struct vm_relay *r, int fd, bool input, hull_error_t *err);
/* Stdin: read what the stream's credit allows and send it; EOF -> FIN. */
int vm_relay_input (struct sandbox *sb, struct vm_relay *r, hull_error_t *err);
/* Close the host side and send FIN (idempotent). */
int vm_relay_input_finish (struct sandbox *sb, struct vm_relay *r, hull_error_t *err);
/* Output: write what the host fd takes, grant the credit back. */
int vm_relay_flush (struct sandbox *sb, struct vm_relay *r, hull_error_t *err);
/* DATA from the agent. */
int vm_io_on_data (struct sandbox *sb, const struct hull_msg *m, hull_error_t *err);
/* Forward host pty size changes of terminal processes. */
int vm_io_winsize (struct sandbox *sb, hull_error_t *err);

/* sandbox_vm_call.c */
struct vm_call *vm_call_new (struct sandbox *sb, uint16_t op, bool with_container);
void vm_call_free (struct vm_call *c);
/* Queue c and wait up to timeout_ms.  On success c holds the response
 * (the caller frees it); on failure c is consumed and err says why. */
int vm_call_run (struct sandbox *sb, struct vm_call *c, int timeout_ms, hull_error_t *err);
/* Under sb->lock (I/O thread): complete a call and wake its waiter. */
void vm_call_complete_locked (struct sandbox *sb, struct vm_call *c);
/* Wait until the agent's HELLO arrived (or the VM died). */
int vm_wait_ready (struct sandbox *sb, int timeout_ms, hull_error_t *err);
uint32_t vm_next_stream_locked (struct sandbox *sb);

/* sandbox_vm_pod.c */
/* Before the VM: with the CRI sandbox annotations, make the share and bind
 * the container into it (sb->pod set); nothing otherwise. */
int vm_pod_prepare (struct sandbox *sb, hull_error_t *err);
/* A failed create only (the confined supervisor cannot unmount; `hull
 * delete` removes the share otherwise). */
void vm_pod_undo (struct sandbox *sb);
void vm_pod_free (struct sandbox *sb);
/* Under lock: the member's id (ctr 0: the VM's container), NULL if gone;
 * the handle of container `id`, 0 for the VM's own, UINT32_MAX unknown. */
const char *vm_member_id_locked (struct sandbox *sb, uint32_t ctr);
uint32_t vm_member_find_locked (struct sandbox *sb, const char *id);
extern const struct sandbox_pod_ops sandbox_vm_pod_ops;

/* sandbox_vm.c: the operations for any container of the VM (ctr 0: its
 * own, else a pod member). */
struct vm_proc *vm_proc_new (uint32_t ctr, const char *cid);
int vm_proc_stdio (struct sandbox *sb, struct vm_proc *p, const struct oci_process *op,
                   const int stdio[3], int *master, struct hull_msgbuf *mb, hull_error_t *err);
/* A request for container ctr (its id attribute put), or -1 when it is
 * gone. */
int vm_call_ctr (struct sandbox *sb, uint16_t op, uint32_t ctr, struct vm_call **out,
                 hull_error_t *err);
int vm_ctr_simple (struct sandbox *sb, uint32_t ctr, uint16_t op, hull_error_t *err);
int vm_ctr_exec (struct sandbox *sb, uint32_t ctr, const struct sandbox_exec_args *a,
                 uint32_t *proc, int *pty_master, hull_error_t *err);
int vm_ctr_signal (struct sandbox *sb, uint32_t ctr, uint32_t proc, int signo, bool all,
                   hull_error_t *err);
int vm_ctr_close_stdin (struct sandbox *sb, uint32_t ctr, uint32_t proc, hull_error_t *err);
int vm_ctr_resize (struct sandbox *sb, uint32_t ctr, uint32_t proc, unsigned rows, unsigned cols,
                   hull_error_t *err);
int vm_ctr_stats (struct sandbox *sb, uint32_t ctr, struct sandbox_stats *out, hull_error_t *err);
int vm_ctr_update (struct sandbox *sb, uint32_t ctr, const struct oci_linux_resources *r,
                   hull_error_t *err);
int vm_ctr_ps (struct sandbox *sb, uint32_t ctr, pid_t **pids, size_t *n, hull_error_t *err);
/* A request with no answer to read (c NULL: out of memory). */
int vm_simple_call (struct sandbox *sb, struct vm_call *c, hull_error_t *err);

/* sandbox_vm_json.c */
int vm_process_json (const struct oci_process *p, char **out, hull_error_t *err);

#endif
