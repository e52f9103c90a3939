/* virtio-net over a tap fd: queue 0 receives (tap -> guest), queue 1
 * transmits (guest -> tap).  Every frame crosses as one read/write of a
 * 12-byte virtio_net_hdr plus the Ethernet frame, so the tap's own vnet
 * header lines up with the guest's.
 *
 * Offloads: the tap's (TUNSETOFFLOAD) follow what the driver negotiated,
 * so the kernel hands us partial checksums and TCP segments of up to 64 KiB
 * only when the guest accepts them; the guest may send them only when it
 * negotiated CSUM/HOST_TSO*, and the tap (virtio_net_hdr_to_skb) checks
 * the offsets against the frame.  Every header is still checked against
 * the negotiated features both ways, and frames that need something not
 * agreed are dropped rather than passed on. */
#include "vmm/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/vm.h"

#define NET_QUEUE_SIZE 256
#define NET_ETH_HLEN 14
/* Largest frame either way: a 64 KiB MTU plus Ethernet and VLAN headers. */
#define NET_FRAME_MAX (VIRTIO_NET_MAX_MTU + NET_ETH_HLEN + 4)
#define NET_BOUNCE_LEN (VIRTIO_NET_HDR_LEN + NET_FRAME_MAX)
/* Frames moved per tap wakeup before yielding to other work (the lock is
 * shared with the vCPUs' register accesses). */
#define NET_RX_BUDGET 64
#define NET_HDR_F_NEEDS_CSUM 1
#define NET_HDR_F_DATA_VALID 2
#define NET_HDR_GSO_NONE 0
#define NET_HDR_GSO_TCPV4 1
#define NET_HDR_GSO_TCPV6 4
#define NET_HDR_GSO_ECN 0x80
#define NET_OFFLOADS ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM)        \
                      | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) \
                      | (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6))

struct virtio_net
{
  struct virtio_dev vdev;
  struct virtio_pci vp;
  int tap_fd;
  bool tap_is_socket;
  uint8_t mac[6];
  uint16_t mtu;

  bool activated;
  bool rx_eof;          /* backend hung up or failed: never read again */
  bool tx_blocked;      /* backend said EAGAIN: wait for EPOLLOUT */
  struct iothread_watch tap_w;

  /* The one frame read from the tap but not yet placed (header first);
   * pending_len 0 = none.  This is the only host-side buffering. */
  uint8_t *bounce;
  size_t pending_len;

  /* Receive buffers popped for the frame being placed (mergeable rx). */
  struct virtq_elem group[NET_QUEUE_SIZE];
  uint32_t group_len[NET_QUEUE_SIZE];
  struct iovec first_iov[NET_QUEUE_SIZE]; /* first buffer's, for num_buffers */
  unsigned first_niov;
  struct iovec tx_iov[NET_QUEUE_SIZE + 1];
  struct virtio_net_hdr tx_hdr;

  struct virtio_net_stats stats;
};

static void net_arm (struct virtio_net *n);

/* ---- config space (section 5.1.4): mac, status, max pairs, mtu ---- */

#define NET_CONFIG_SIZE 12

static void
net_config_read (struct virtio_dev *vdev, uint32_t offset, uint8_t *data, uint32_t len)
{
  struct virtio_net *n = vdev->priv;
  uint8_t cfg[NET_CONFIG_SIZE];
  uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = n->mtu;

  memcpy (cfg, n->mac, 6);
  memcpy (cfg + 6, &status, 2);
  memcpy (cfg + 8, &pairs, 2);
  memcpy (cfg + 10, &mtu, 2);
  memcpy (data, cfg + offset, len);
}

/* ---- transmit: guest -> tap ---- */

static ssize_t
tap_send (struct virtio_net *n, struct iovec *iov, unsigned niov)
{
  if (n->tap_is_socket)
    {
      /* MSG_NOSIGNAL: a closed peer must not SIGPIPE the supervisor. */
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = niov };
      return sendmsg (n->tap_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  return writev (n->tap_fd, iov, niov);
}

/* Send one guest chain.  0: done with it (sent or dropped); -EAGAIN: the
 * backend is full, keep the chain for later. */
/* May the header the guest wrote go to the tap?  Only what was agreed:
 * partial checksums with CSUM, TCP segmentation with HOST_TSO4/6, no ECN
 * or UDP segmentation (not offered). */
static bool
tx_hdr_ok (struct virtio_net *n, const struct virtio_net_hdr *h)
{
  struct virtio_dev *vdev = &n->vdev;

  if ((h->flags & NET_HDR_F_NEEDS_CSUM) && !virtio_dev_has_feature (vdev, VIRTIO_NET_F_CSUM))
    return false;
  switch (h->gso_type)
    {
    case NET_HDR_GSO_NONE:
      return true;
    case NET_HDR_GSO_TCPV4:
      return virtio_dev_has_feature (vdev, VIRTIO_NET_F_HOST_TSO4)
             && (h->flags & NET_HDR_F_NEEDS_CSUM);
    case NET_HDR_GSO_TCPV6:
      return virtio_dev_has_feature (vdev, VIRTIO_NET_F_HOST_TSO6)
             && (h->flags & NET_HDR_F_NEEDS_CSUM);
    default:
      return false;
    }
}

/* Send one guest chain.  0: done with it (sent or dropped); -EAGAIN: the
 * backend is full, keep the chain for later. */
static int
net_tx_one (struct virtio_net *n, const struct virtq_elem *elem)
{
  size_t skip = VIRTIO_NET_HDR_LEN;
  unsigned niov = 1;
  ssize_t r;

  if (elem->out_len < VIRTIO_NET_HDR_LEN + NET_ETH_HLEN
      || elem->out_len > VIRTIO_NET_HDR_LEN + NET_FRAME_MAX)
    goto drop;
  /* A copy: the guest may change its memory while the tap reads it. */
  virtq_elem_read (elem, &n->tx_hdr, sizeof n->tx_hdr);
  if (!tx_hdr_ok (n, &n->tx_hdr))
    goto drop;
  n->tx_hdr.flags &= NET_HDR_F_NEEDS_CSUM;
  n->tx_hdr.num_buffers = 0;
  n->tx_iov[0] = (struct iovec){ &n->tx_hdr, sizeof n->tx_hdr };
  for (unsigned i = 0; i < elem->out_num; i++)
    {
      struct iovec v = elem->iov[i];
      if (skip >= v.iov_len)
        {
          skip -= v.iov_len;
          continue;
        }
      v.iov_base = (uint8_t *) v.iov_base + skip;
      v.iov_len -= skip;
      skip = 0;
      n->tx_iov[niov++] = v;
    }
  r = tap_send (n, n->tx_iov, niov);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -EAGAIN;
  if (r < 0)
    goto drop;
  n->stats.tx_packets++;
  n->stats.tx_bytes += elem->out_len - VIRTIO_NET_HDR_LEN;
  return 0;

drop:
  n->stats.tx_dropped++;
  return 0;
}

static void
net_tx (struct virtio_net *n)
{
  struct virtio_dev *vdev = &n->vdev;
  struct virtq *vq = &vdev->vqs[VIRTIO_NET_TXQ];
  struct virtq_elem elem;

  if (!n->activated)
    return;
  do
    {
      while (!n->tx_blocked && virtio_dev_pop (vdev, VIRTIO_NET_TXQ, &elem) == 1)
        {
          if (net_tx_one (n, &elem) == -EAGAIN)
            {
              virtq_unpop (vq);
              n->tx_blocked = true;
              break;
            }
          virtq_push (vq, &elem, 0);
        }
      virtio_dev_notify_used (vdev, VIRTIO_NET_TXQ);
    }
  /* Re-check after publishing avail_event (see virtio_rng.c). */
  while (!n->tx_blocked && virtq_has_work (vq));
  net_arm (n);
}

/* ---- receive: tap -> guest ---- */

enum rx_result
{
  RX_DONE,     /* placed or dropped: the pending frame is gone */
  RX_NO_ROOM,  /* not enough guest buffers yet: keep it, wait for a kick */
  RX_BROKEN,   /* the queue is broken (NEEDS_RESET): drop and stop */
};

/* A receive chain must be all device-writable and hold at least min bytes
 * (the header for a frame's first buffer). */
static bool
rx_elem_ok (struct virtio_net *n, const struct virtq_elem *elem, size_t min)
{
  if (elem->out_num == 0 && elem->in_len >= min && elem->in_len > 0)
    return true;
  n->vdev.tops->needs_reset (n->vdev.transport,
                             "virtio-net receive buffer is read-only or shorter than its header");
  return false;
}

static void
rx_count (struct virtio_net *n)
{
  n->stats.rx_packets++;
  n->stats.rx_bytes += n->pending_len - VIRTIO_NET_HDR_LEN;
}

static void
rx_unpop (struct virtq *vq, unsigned k)
{
  while (k-- > 0)
    virtq_unpop (vq);
}

/* Spread the pending frame over as many buffers as it needs (mergeable
 * receive buffers), publishing them as one group so the driver never sees
 * a first buffer without the rest. */
static enum rx_result
rx_place_merged (struct virtio_net *n, struct virtq *vq)
{
  size_t done = 0;
  unsigned k = 0;
  uint16_t nbuf;

  while (done < n->pending_len)
    {
      struct virtq_elem elem;
      int r = virtio_dev_pop (&n->vdev, VIRTIO_NET_RXQ, &elem);
      if (r < 0)
        return RX_BROKEN;
      if (r == 0)
        {
          rx_unpop (vq, k);
          /* Every slot of the ring is ours and still too small: the frame
           * can never fit, so waiting for a kick would wait forever. */
          if (k >= vq->size)
            {
              n->stats.rx_dropped++;
              return RX_DONE;
            }
          return RX_NO_ROOM;
        }
      if (!rx_elem_ok (n, &elem, k == 0 ? VIRTIO_NET_HDR_LEN : 1))
        return RX_BROKEN;
      if (k == 0)
        {
          n->first_niov = elem.in_num;
          memcpy (n->first_iov, elem.iov, elem.in_num * sizeof *elem.iov);
        }
      n->group_len[k] = virtq_elem_write (&elem, 0, n->bounce + done, n->pending_len - done);
      n->group[k++] = elem;
      done += n->group_len[k - 1];
    }
  nbuf = k;
  {
    struct virtq_elem first = { .in_num = n->first_niov, .iov = n->first_iov };
    virtq_elem_write (&first, offsetof (struct virtio_net_hdr, num_buffers), &nbuf,
                      sizeof nbuf);
  }
  virtq_push_many (vq, n->group, n->group_len, k);
  rx_count (n);
  return RX_DONE;
}

/* Without mergeable buffers every frame must fit one buffer. */
static enum rx_result
rx_place_single (struct virtio_net *n, struct virtq *vq)
{
  struct virtq_elem elem;
  int r = virtio_dev_pop (&n->vdev, VIRTIO_NET_RXQ, &elem);

  if (r < 0)
    return RX_BROKEN;
  if (r == 0)
    return RX_NO_ROOM;
  if (!rx_elem_ok (n, &elem, VIRTIO_NET_HDR_LEN))
    return RX_BROKEN;
  if (elem.in_len < n->pending_len)
    {
      /* The driver's buffers are smaller than the MTU it agreed to. */
      virtq_unpop (vq);
      n->stats.rx_dropped++;
      return RX_DONE;
    }
  virtq_elem_write (&elem, 0, n->bounce, n->pending_len);
  virtq_push (vq, &elem, n->pending_len);
  rx_count (n);
  return RX_DONE;
}

/* Make the tap's header fit what the driver agreed to; false: the frame
 * needs an offload the guest does not do (e.g. queued before a reset that
 * renegotiated), drop it. */
static bool
rx_hdr_fix (struct virtio_net *n, struct virtio_net_hdr *h)
{
  struct virtio_dev *vdev = &n->vdev;
  bool csum = virtio_dev_has_feature (vdev, VIRTIO_NET_F_GUEST_CSUM);

  h->num_buffers = 1;
  if (!csum)
    {
      if (h->flags & NET_HDR_F_NEEDS_CSUM)
        return false;
      h->flags = 0; /* DATA_VALID only with GUEST_CSUM */
    }
  h->flags &= NET_HDR_F_NEEDS_CSUM | NET_HDR_F_DATA_VALID;
  switch (h->gso_type)
    {
    case NET_HDR_GSO_NONE:
      h->gso_size = 0;
      return true;
    case NET_HDR_GSO_TCPV4:
      return virtio_dev_has_feature (vdev, VIRTIO_NET_F_GUEST_TSO4);
    case NET_HDR_GSO_TCPV6:
      return virtio_dev_has_feature (vdev, VIRTIO_NET_F_GUEST_TSO6);
    default:
      return false;
    }
}

static enum rx_result
rx_place (struct virtio_net *n)
{
  struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_RXQ];
  struct virtio_net_hdr hdr;

  memcpy (&hdr, n->bounce, sizeof hdr);
  if (!rx_hdr_fix (n, &hdr))
    {
      n->stats.rx_dropped++;
      return RX_DONE;
    }
  memcpy (n->bounce, &hdr, sizeof hdr);
  if (virtio_dev_has_feature (&n->vdev, VIRTIO_NET_F_MRG_RXBUF))
    return rx_place_merged (n, vq);
  return rx_place_single (n, vq);
}

/* Read one frame into the bounce buffer; false when there is none now. */
static bool
rx_read (struct virtio_net *n)
{
  for (;;)
    {
      ssize_t r = read (n->tap_fd, n->bounce, NET_BOUNCE_LEN);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false;
      if (r <= 0)
        {
          if (r < 0)
            fprintf (stderr, "hull: virtio-net: reading the tap: %s\n", strerror (errno));
          n->rx_eof = true; /* stop watching rather than spin */
          return false;
        }
      if ((size_t) r < VIRTIO_NET_HDR_LEN + NET_ETH_HLEN)
        {
          n->stats.rx_dropped++;
          continue;
        }
      n->pending_len = r;
      return true;
    }
}

static void
net_rx (struct virtio_net *n)
{
  struct virtq *vq = &n->vdev.vqs[VIRTIO_NET_RXQ];
  unsigned budget = NET_RX_BUDGET;

  while (n->activated && !n->rx_eof)
    {
      if (n->pending_len == 0)
        {
          /* No guest buffer, no read: the frame stays in the tap's queue
           * (the kernel drops beyond its txqueuelen, not us). */
          if (budget-- == 0 || !virtq_has_work (vq) || !rx_read (n))
            break;
        }
      enum rx_result r = rx_place (n);
      if (r == RX_NO_ROOM)
        break;
      n->pending_len = 0;
      if (r == RX_BROKEN)
        break;
    }
  virtio_dev_notify_used (&n->vdev, VIRTIO_NET_RXQ);
  net_arm (n);
}

/* ---- tap watching ---- */

/* Watch the tap for exactly what the device can use now: readable only
 * while the guest has buffers and nothing is pending, writable only while
 * a transmit waits for room. */
static void
net_arm (struct virtio_net *n)
{
  struct virtq *rxq = &n->vdev.vqs[VIRTIO_NET_RXQ];
  uint32_t ev = 0;
  hull_error_t err = NULL;

  if (n->activated)
    {
      if (!n->rx_eof && n->pending_len == 0 && virtq_has_work (rxq))
        ev |= EPOLLIN;
      if (n->tx_blocked)
        ev |= EPOLLOUT;
    }
  if (iothread_watch (n->vdev.io, &n->tap_w, ev, &err) < 0)
    {
      fprintf (stderr, "hull: virtio-net: %s\n", hull_error_msg (&err));
      hull_error_free (&err);
    }
}

static void
net_tap_event (void *opaque, uint32_t events)
{
  struct virtio_net *n = opaque;

  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
    {
      n->tx_blocked = false;
      net_tx (n);
    }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    net_rx (n);
  net_arm (n);
}

/* ---- device ops ---- */

/* Let the tap hand us only what the driver takes.  Not a tap (a socket
 * in tests): nothing to configure. */
static int
net_tap_offload (struct virtio_net *n, uint64_t features)
{
  unsigned off = 0;

  if (features & (1ULL << VIRTIO_NET_F_GUEST_CSUM))
    {
      off |= TUN_F_CSUM;
      if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
        off |= TUN_F_TSO4;
      if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
        off |= TUN_F_TSO6;
    }
  if (n->tap_is_socket || ioctl (n->tap_fd, TUNSETOFFLOAD, off) == 0)
    return 0;
  fprintf (stderr, "hull: virtio-net: tap offloads 0x%x: %s\n", off, strerror (errno));
  return -1;
}

static int
net_activate (struct virtio_dev *vdev)
{
  struct virtio_net *n = vdev->priv;

  if (net_tap_offload (n, vdev->features) < 0)
    return -1;
  n->activated = true;
  net_arm (n);
  return 0;
}

static void
net_queue_notify (struct virtio_dev *vdev, unsigned q)
{
  struct virtio_net *n = vdev->priv;

  if (q == VIRTIO_NET_RXQ)
    net_rx (n); /* new buffers: place a pending frame, resume reading */
  else if (q == VIRTIO_NET_TXQ)
    net_tx (n);
}

static void
net_reset (struct virtio_dev *vdev)
{
  struct virtio_net *n = vdev->priv;

  n->activated = false;
  n->pending_len = 0;
  n->tx_blocked = false;
  net_tap_offload (n, 0);
  net_arm (n); /* stops watching */
}

static const struct virtio_dev_ops net_ops = {
  .name = "virtio-net",
  .device_id = VIRTIO_ID_NET,
  .pci_class = 0x020000, /* network controller, Ethernet */
  .features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_MTU)
              | (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) | NET_OFFLOADS,
  .config_size = NET_CONFIG_SIZE,
  .config_read = net_config_read,
  .activate = net_activate,
  .queue_notify = net_queue_notify,
  .reset = net_reset,
};

static int
net_check_args (int tap_fd, const uint8_t mac[6], unsigned mtu, hull_error_t *err)
{
  static const uint8_t zero[6];

  if (tap_fd < 0)
    return hull_error (err, EBADF, "virtio-net: no tap fd");
  if (mtu < VIRTIO_NET_MIN_MTU || mtu > VIRTIO_NET_MAX_MTU)
    return hull_error (err, EINVAL, "virtio-net: mtu %u is outside %u..%u", mtu,
                       VIRTIO_NET_MIN_MTU, VIRTIO_NET_MAX_MTU);
  if ((mac[0] & 1) || memcmp (mac, zero, 6) == 0)
    return hull_error (err, EINVAL,
                       "virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x is not a unicast address",
                       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return 0;
}

static int
net_prepare_fd (struct virtio_net *n, hull_error_t *err)
{
  struct stat st;
  int fl = fcntl (n->tap_fd, F_GETFL);

  /* Reads and writes happen on the iothread under the device lock: they
   * must never block. */
  if (fl < 0 || fcntl (n->tap_fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return hull_error (err, errno, "virtio-net: tap fd %d", n->tap_fd);
  n->tap_is_socket = fstat (n->tap_fd, &st) == 0 && S_ISSOCK (st.st_mode);
  return 0;
}

int
virtio_net_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                int tap_fd, const uint8_t mac[6], unsigned mtu,
                struct virtio_net **out, hull_error_t *err)
{
  struct virtio_net *n;

  if (net_check_args (tap_fd, mac, mtu, err) < 0)
    return -1;
  n = calloc (1, sizeof *n);
  if (n == NULL)
    return hull_error (err, ENOMEM, "virtio-net");
  n->bounce = malloc (NET_BOUNCE_LEN);
  if (n->bounce == NULL)
    {
      free (n);
      return hull_error (err, ENOMEM, "virtio-net");
    }
  n->tap_fd = tap_fd;
  memcpy (n->mac, mac, 6);
  n->mtu = mtu;
  n->tap_w = (struct iothread_watch){ .fd = tap_fd, .cb = net_tap_event, .opaque = n };
  n->vdev = (struct virtio_dev){ .ops = &net_ops, .priv = n, .num_queues = 2,
                                 .queue_max_size = NET_QUEUE_SIZE, .mem = mem };
  if (net_prepare_fd (n, err) < 0 || virtio_pci_init (&n->vp, &n->vdev, host, err) < 0)
    {
      free (n->bounce);
      free (n);
      return -1;
    }
  *out = n;
  return 0;
}

struct virtio_pci *
virtio_net_transport (struct virtio_net *n)
{
  return &n->vp;
}

void
virtio_net_get_stats (struct virtio_net *n, struct virtio_net_stats *out)
{
  pthread_mutex_lock (&n->vp.lock);
  *out = n->stats;
  pthread_mutex_unlock (&n->vp.lock);
}

int
virtio_net_create (struct vm *vm, int tap_fd, const uint8_t mac[6], unsigned mtu,
                   struct virtio_net **out, hull_error_t *err)
{
  struct virtio_pci_host host;
  struct virtio_net *n;

  virtio_pci_host_vm (&host, vm);
  if (virtio_net_new (&vm->mem, &host, tap_fd, mac, mtu, &n, err) < 0)
    return -1;
  if (virtio_pci_add (&n->vp, &vm->pci, err) < 0)
    {
      virtio_net_destroy (n);
      return -1;
    }
  *out = n;
  return 0;
}

void
virtio_net_destroy (struct virtio_net *n)
{
  if (n == NULL)
    return;
  virtio_pci_destroy (&n->vp);
  free (n->bounce);
  free (n);
}
