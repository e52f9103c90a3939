/* virtio-console: port 0 (console) plus named ports over the multiport
 * control queues.  Queue numbering (section 5.3.2): port 0 rx/tx are 0/1,
 * control rx/tx are 2/3, port p >= 1 rx/tx are 2p+2 / 2p+3. */
#include "vmm/virtio_console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vm.h"

#define CONSOLE_QUEUE_SIZE 256
#define CONSOLE_NUM_QUEUES (2 * VIRTIO_CONSOLE_MAX_PORTS + 2)
#define CTRL_RX 2
#define CTRL_TX 3
/* Every port needs at most PORT_ADD, CONSOLE_PORT/PORT_NAME and PORT_OPEN
 * in flight; more means the guest repeats itself and loses the extras. */
#define CTRL_PENDING_MAX (4 * VIRTIO_CONSOLE_MAX_PORTS)

struct console_ctrl
{
  uint32_t id;
  uint16_t event, value;
} __attribute__ ((packed));

struct console_config
{
  uint16_t cols, rows;
  uint32_t max_nr_ports, emerg_wr;
} __attribute__ ((packed));

struct console_port
{
  struct virtio_console *c;
  unsigned id;
  bool exists;
  char name[VIRTIO_CONSOLE_NAME_MAX + 1];   /* "" for port 0 */
  int in_fd, out_fd;                         /* -1: none */
  bool in_sock, out_sock;
  bool in_pollable, out_pollable;
  bool in_eof;                               /* host side will send no more */
  struct iothread_watch in_w, out_w;

  bool guest_ready, guest_open;              /* from the guest's driver */
  bool tx_pending, tx_blocked;               /* one guest buffer in progress */
  struct virtq_elem tx_elem;
  uint64_t tx_off;
};

struct virtio_console
{
  struct virtio_dev vdev;
  struct virtio_pci vp;
  struct console_port ports[VIRTIO_CONSOLE_MAX_PORTS];
  bool activated;
  bool device_ready;                         /* driver sent DEVICE_READY */
  struct console_ctrl ctrl[CTRL_PENDING_MAX];
  unsigned ctrl_head, ctrl_count;
};

static bool
multiport (const struct virtio_console *c)
{
  return virtio_dev_has_feature (&c->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static unsigned
port_rxq (unsigned id)
{
  return id == 0 ? 0 : 2 * id + 2;
}

/* ---- control messages, host to guest ---- */

static void ctrl_flush (struct virtio_console *c);

static void
ctrl_send (struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value)
{
  if (c->ctrl_count == CTRL_PENDING_MAX)
    {
      fprintf (stderr, "hull: virtio-console: control queue full, dropping event %u\n", event);
      return;
    }
  c->ctrl[(c->ctrl_head + c->ctrl_count++) % CTRL_PENDING_MAX]
      = (struct console_ctrl){ id, event, value };
  ctrl_flush (c);
}

static void
ctrl_flush (struct virtio_console *c)
{
  struct virtio_dev *vdev = &c->vdev;
  struct virtq_elem elem;
  bool pushed = false;

  if (!c->activated || !virtq_ready (&vdev->vqs[CTRL_RX]))
    return;
  while (c->ctrl_count > 0 && virtio_dev_pop (vdev, CTRL_RX, &elem) == 1)
    {
      const struct console_ctrl *m = &c->ctrl[c->ctrl_head];
      size_t n = virtq_elem_write (&elem, 0, m, sizeof *m);

      /* PORT_NAME carries the name right after the header. */
      if (m->event == VIRTIO_CONSOLE_PORT_NAME && m->id < VIRTIO_CONSOLE_MAX_PORTS)
        {
          const char *name = c->ports[m->id].name;
          n += virtq_elem_write (&elem, n, name, strlen (name));
        }
      virtq_push (&vdev->vqs[CTRL_RX], &elem, n);
      c->ctrl_head = (c->ctrl_head + 1) % CTRL_PENDING_MAX;
      c->ctrl_count--;
      pushed = true;
    }
  if (pushed)
    virtio_dev_notify_used (vdev, CTRL_RX);
}

/* ---- host fds ---- */

static void port_arm (struct console_port *p);

static bool
port_can_rx (struct console_port *p)
{
  struct virtio_console *c = p->c;

  if (!p->exists || p->in_fd < 0 || p->in_eof || !c->activated)
    return false;
  if (!virtq_ready (&c->vdev.vqs[port_rxq (p->id)]))
    return false;
  if (!multiport (c))
    return p->id == 0;
  /* A named port's data would be thrown away by Linux until the port is
   * opened, so it waits on the host side instead. */
  return p->guest_ready && (p->id == 0 || p->guest_open);
}

static ssize_t
port_read (struct console_port *p, const struct virtq_elem *elem)
{
  struct iovec *iov = elem->iov + elem->out_num;

  if (p->in_sock)
    {
      struct msghdr mh = { .msg_iov = iov, .msg_iovlen = elem->in_num };
      return recvmsg (p->in_fd, &mh, MSG_DONTWAIT);
    }
  return readv (p->in_fd, iov, elem->in_num);
}

static void
port_input_ended (struct console_port *p)
{
  p->in_eof = true;
  /* Tell the guest the host end is gone so readers see end of file. */
  if (p->id != 0 && multiport (p->c) && p->guest_ready)
    ctrl_send (p->c, p->id, VIRTIO_CONSOLE_PORT_OPEN, 0);
}

/* Move host input into guest rx buffers.  A pollable fd gets one read per
 * readiness event (it may be a blocking tty or pipe we must not stall on);
 * a regular file is read until the buffers or the file run out. */
static void
port_rx (struct console_port *p)
{
  struct virtio_dev *vdev = &p->c->vdev;
  unsigned q = port_rxq (p->id);
  struct virtq_elem elem;
  bool pushed = false;

  while (port_can_rx (p) && virtio_dev_pop (vdev, q, &elem) == 1)
    {
      ssize_t n = elem.in_num ? port_read (p, &elem) : 0;

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          virtq_unpop (&vdev->vqs[q]);
          break;
        }
      if (n <= 0 && elem.in_num)
        {
          virtq_unpop (&vdev->vqs[q]);
          port_input_ended (p);
          break;
        }
      virtq_push (&vdev->vqs[q], &elem, n);
      pushed = true;
      if (p->in_pollable)
        break;
    }
  if (pushed)
    virtio_dev_notify_used (vdev, q);
}

static ssize_t
port_write (struct console_port *p, const void *buf, size_t len)
{
  if (p->out_sock)
    return send (p->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  return write (p->out_fd, buf, len);
}

/* Write what is left of the pending tx element; false if the fd is full. */
static bool
port_tx_drain (struct console_port *p)
{
  const struct virtq_elem *e = &p->tx_elem;
  uint64_t skip = p->tx_off;

  for (unsigned i = 0; i < e->out_num && p->out_fd >= 0; i++)
    {
      const uint8_t *base = e->iov[i].iov_base;
      size_t len = e->iov[i].iov_len;

      if (skip >= len)
        {
          skip -= len;
          continue;
        }
      while (skip < len)
        {
          ssize_t n = port_write (p, base + skip, len - skip);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            return false;
          if (n <= 0)
            return true; /* reader gone: the rest has nowhere to go */
          skip += n;
          p->tx_off += n;
        }
      skip = 0;
    }
  return true;
}

static void
port_tx (struct console_port *p)
{
  struct virtio_dev *vdev = &p->c->vdev;
  unsigned q = port_rxq (p->id) + 1;
  bool pushed = false;

  if (!p->c->activated || p->tx_blocked)
    return;
  for (;;)
    {
      if (!p->tx_pending)
        {
          if (virtio_dev_pop (vdev, q, &p->tx_elem) != 1)
            break;
          p->tx_pending = true;
          p->tx_off = 0;
        }
      if (!port_tx_drain (p))
        {
          p->tx_blocked = true;
          break;
        }
      virtq_push (&vdev->vqs[q], &p->tx_elem, 0);
      p->tx_pending = false;
      pushed = true;
    }
  if (pushed)
    virtio_dev_notify_used (vdev, q);
  port_arm (p);
}

static void
port_in_event (void *opaque, uint32_t events)
{
  struct console_port *p = opaque;

  if (p->out_fd == p->in_fd && p->tx_blocked && (events & ~EPOLLIN))
    {
      p->tx_blocked = false;
      port_tx (p);
    }
  if (events & ~EPOLLOUT)
    port_rx (p);
  port_arm (p);
}

static void
port_out_event (void *opaque, uint32_t events)
{
  struct console_port *p = opaque;

  (void) events;
  p->tx_blocked = false;
  port_tx (p);
}

static void
watch_arm (struct console_port *p, struct iothread_watch *w, uint32_t events,
           bool *pollable)
{
  hull_error_t err = NULL;

  if (!*pollable)
    return;
  if (iothread_watch (p->c->vdev.io, w, events, &err) < 0)
    {
      /* Regular files cannot be polled; they are always ready anyway. */
      if (err != NULL && err->status != EPERM)
        fprintf (stderr, "hull: virtio-console port %u: %s\n", p->id, hull_error_msg (&err));
      hull_error_free (&err);
      *pollable = false;
    }
}

/* Watch the host fds for exactly what the port can use right now. */
static void
port_arm (struct console_port *p)
{
  uint32_t in_ev = 0, out_ev = p->tx_blocked ? EPOLLOUT : 0;

  if (port_can_rx (p) && virtq_has_work (&p->c->vdev.vqs[port_rxq (p->id)]))
    in_ev = EPOLLIN;
  if (p->in_fd >= 0 && p->in_fd == p->out_fd)
    {
      watch_arm (p, &p->in_w, in_ev | out_ev, &p->in_pollable);
      return;
    }
  if (p->in_fd >= 0)
    watch_arm (p, &p->in_w, in_ev, &p->in_pollable);
  if (p->out_fd >= 0)
    watch_arm (p, &p->out_w, out_ev, &p->out_pollable);
  /* Non-pollable input is always ready: read it whenever we could. */
  if (in_ev && !p->in_pollable)
    port_rx (p);
}

static bool
fd_is_socket (int fd)
{
  struct stat st;
  return fd >= 0 && fstat (fd, &st) == 0 && S_ISSOCK (st.st_mode);
}

static void
port_init (struct virtio_console *c, unsigned id, const char *name, int in_fd, int out_fd)
{
  struct console_port *p = &c->ports[id];

  *p = (struct console_port){ .c = c, .id = id, .exists = true,
                              .in_fd = in_fd, .out_fd = out_fd,
                              .in_sock = fd_is_socket (in_fd),
                              .out_sock = fd_is_socket (out_fd),
                              .in_pollable = true, .out_pollable = true };
  snprintf (p->name, sizeof p->name, "%s", name);
  p->in_w = (struct iothread_watch){ .fd = in_fd, .cb = port_in_event, .opaque = p };
  p->out_w = (struct iothread_watch){ .fd = out_fd, .cb = port_out_event, .opaque = p };
}

/* ---- control messages, guest to host ---- */

static void
ctrl_port_ready (struct virtio_console *c, struct console_port *p, uint16_t ok)
{
  if (!ok)
    {
      fprintf (stderr, "hull: virtio-console: guest failed to set up port %u\n", p->id);
      return;
    }
  p->guest_ready = true;
  if (p->id == 0)
    ctrl_send (c, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
  if (p->name[0])
    ctrl_send (c, p->id, VIRTIO_CONSOLE_PORT_NAME, 1);
  ctrl_send (c, p->id, VIRTIO_CONSOLE_PORT_OPEN, !p->in_eof);
}

static void
ctrl_handle (struct virtio_console *c, const struct console_ctrl *m)
{
  struct console_port *p = NULL;

  if (m->id < VIRTIO_CONSOLE_MAX_PORTS && c->ports[m->id].exists)
    p = &c->ports[m->id];
  switch (m->event)
    {
    case VIRTIO_CONSOLE_DEVICE_READY:
      if (m->value != 1 || c->device_ready)
        break;
      c->device_ready = true;
      for (unsigned i = 0; i < VIRTIO_CONSOLE_MAX_PORTS; i++)
        if (c->ports[i].exists)
          ctrl_send (c, i, VIRTIO_CONSOLE_DEVICE_ADD, 0);
      break;
    case VIRTIO_CONSOLE_PORT_READY:
      if (p != NULL && !p->guest_ready)
        ctrl_port_ready (c, p, m->value);
      break;
    case VIRTIO_CONSOLE_PORT_OPEN:
      if (p != NULL)
        {
          p->guest_open = m->value != 0;
          port_arm (p);
        }
      break;
    default:
      break; /* nothing else is defined guest-to-host */
    }
}

static void
ctrl_tx (struct virtio_console *c)
{
  struct virtio_dev *vdev = &c->vdev;
  struct virtq_elem elem;
  bool pushed = false;

  while (virtio_dev_pop (vdev, CTRL_TX, &elem) == 1)
    {
      struct console_ctrl m;
      if (virtq_elem_read (&elem, &m, sizeof m) == sizeof m)
        ctrl_handle (c, &m);
      virtq_push (&vdev->vqs[CTRL_TX], &elem, 0);
      pushed = true;
    }
  if (pushed)
    virtio_dev_notify_used (vdev, CTRL_TX);
}

/* ---- device ops ---- */

static void
console_config_read (struct virtio_dev *vdev, uint32_t offset, uint8_t *data, uint32_t len)
{
  struct console_config cfg = { .max_nr_ports = VIRTIO_CONSOLE_MAX_PORTS };

  (void) vdev;
  memcpy (data, (uint8_t *) &cfg + offset, len);
}

static void
console_config_write (struct virtio_dev *vdev, uint32_t offset, const uint8_t *data,
                      uint32_t len)
{
  struct virtio_console *c = vdev->priv;
  struct console_port *p = &c->ports[0];

  /* emerg_wr: one character for the console, even before the queues. */
  if (offset == offsetof (struct console_config, emerg_wr) && len >= 1 && p->out_fd >= 0
      && !p->tx_pending && port_write (p, data, 1) < 0)
    {
      /* the console is gone; nothing else to do with the byte */
    }
}

static int
console_activate (struct virtio_dev *vdev)
{
  struct virtio_console *c = vdev->priv;

  c->activated = true;
  return 0;
}

static void
console_queue_notify (struct virtio_dev *vdev, unsigned q)
{
  struct virtio_console *c = vdev->priv;
  unsigned id;

  if (q == CTRL_RX)
    {
      ctrl_flush (c);
      return;
    }
  if (q == CTRL_TX)
    {
      ctrl_tx (c);
      return;
    }
  id = q < 2 ? 0 : q / 2 - 1;
  if (!c->ports[id].exists)
    return;
  if (q % 2 == 0)
    port_arm (&c->ports[id]); /* new buffers: read once the fd is readable */
  else
    port_tx (&c->ports[id]);
}

static void
console_reset (struct virtio_dev *vdev)
{
  struct virtio_console *c = vdev->priv;

  c->activated = false;
  c->device_ready = false;
  c->ctrl_head = c->ctrl_count = 0;
  for (unsigned i = 0; i < VIRTIO_CONSOLE_MAX_PORTS; i++)
    {
      struct console_port *p = &c->ports[i];
      if (!p->exists)
        continue;
      p->guest_ready = p->guest_open = false;
      p->tx_pending = p->tx_blocked = false;
      port_arm (p); /* stops watching: nothing to read into now */
    }
}

static const struct virtio_dev_ops console_ops = {
  .name = "virtio-console",
  .device_id = VIRTIO_ID_CONSOLE,
  .pci_class = 0x078000, /* simple communication controller, other */
  .features = (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) | (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE),
  .config_size = sizeof (struct console_config),
  .config_read = console_config_read,
  .config_write = console_config_write,
  .activate = console_activate,
  .queue_notify = console_queue_notify,
  .reset = console_reset,
};

/* ---- API ---- */

int
virtio_console_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                    int in_fd, int out_fd, struct virtio_console **out, hull_error_t *err)
{
  struct virtio_console *c = calloc (1, sizeof *c);

  if (c == NULL)
    return hull_error (err, ENOMEM, "virtio-console");
  c->vdev = (struct virtio_dev){ .ops = &console_ops, .priv = c,
                                 .num_queues = CONSOLE_NUM_QUEUES,
                                 .queue_max_size = CONSOLE_QUEUE_SIZE, .mem = mem };
  if (virtio_pci_init (&c->vp, &c->vdev, host, err) < 0)
    {
      free (c);
      return -1;
    }
  port_init (c, 0, "", in_fd, out_fd);
  *out = c;
  return 0;
}

struct virtio_pci *
virtio_console_transport (struct virtio_console *c)
{
  return &c->vp;
}

int
virtio_console_create (struct vm *vm, int in_fd, int out_fd, struct virtio_console **out,
                       hull_error_t *err)
{
  struct virtio_pci_host host;
  struct virtio_console *c;

  virtio_pci_host_vm (&host, vm);
  if (virtio_console_new (&vm->mem, &host, in_fd, out_fd, &c, err) < 0)
    return -1;
  if (virtio_pci_add (&c->vp, &vm->pci, err) < 0)
    {
      virtio_console_destroy (c);
      return -1;
    }
  *out = c;
  return 0;
}

static int
port_name_check (const char *name, hull_error_t *err)
{
  size_t len = name ? strlen (name) : 0;

  if (len == 0 || len > VIRTIO_CONSOLE_NAME_MAX)
    return hull_error (err, EINVAL, "virtio-console port name `%s`: must be 1-%d characters",
                       name ? name : "", VIRTIO_CONSOLE_NAME_MAX);
  for (size_t i = 0; i < len; i++)
    {
      char ch = name[i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
            || ch == '.' || ch == '_' || ch == '-'))
        return hull_error (err, EINVAL,
                           "virtio-console port name `%s`: only [A-Za-z0-9._-] allowed", name);
    }
  return 0;
}

int
virtio_console_add_port (struct virtio_console *c, const char *name, int fd,
                         hull_error_t *err)
{
  int ret = -1;

  if (port_name_check (name, err) < 0)
    return -1;
  if (fd < 0)
    return hull_error (err, EBADF, "virtio-console port `%s`: no file descriptor", name);
  pthread_mutex_lock (&c->vp.lock);
  for (unsigned i = 1; i < VIRTIO_CONSOLE_MAX_PORTS; i++)
    if (c->ports[i].exists && strcmp (c->ports[i].name, name) == 0)
      {
        hull_error (err, EEXIST, "virtio-console port `%s`: name already used", name);
        goto out;
      }
  for (unsigned i = 1; i < VIRTIO_CONSOLE_MAX_PORTS; i++)
    if (!c->ports[i].exists)
      {
        port_init (c, i, name, fd, fd);
        if (c->device_ready)
          ctrl_send (c, i, VIRTIO_CONSOLE_DEVICE_ADD, 0);
        ret = (int) i;
        goto out;
      }
  hull_error (err, ENOSPC, "virtio-console port `%s`: all %d ports in use", name,
              VIRTIO_CONSOLE_MAX_PORTS - 1);
out:
  pthread_mutex_unlock (&c->vp.lock);
  return ret;
}

void
virtio_console_destroy (struct virtio_console *c)
{
  if (c == NULL)
    return;
  virtio_pci_destroy (&c->vp);
  free (c);
}
