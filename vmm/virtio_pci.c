/* virtio 1.x PCI transport: capabilities, common configuration, device
 * status state machine, queue setup and notifications.  Interrupt delivery
 * lives in virtio_pci_irq.c.  See virtio_pci.h for the BAR layout. */
#include "vmm/virtio_pci.h"
#include "vmm/virtio_pci_irq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define PCI_STATUS_CAP_LIST 0x10

/* virtio_pci_cap (+ notify_off_multiplier for the notify capability). */
struct virtio_pci_cap
{
  uint8_t cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2];
  uint32_t offset, length;
  uint32_t notify_off_multiplier;
} __attribute__ ((packed));

struct msix_cap
{
  uint8_t id, next;
  uint16_t msgctl;
  uint32_t table, pba;
} __attribute__ ((packed));

static const uint64_t transport_features
    = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC)
      | (1ULL << VIRTIO_F_EVENT_IDX);

static void
vp_report (struct virtio_pci *vp, hull_error_t *err)
{
  fprintf (stderr, "hull: %s: %s\n", vp->vdev->ops->name, hull_error_msg (err));
  hull_error_free (err);
}

/* ---- device-facing transport ops ---- */

static void
vp_needs_reset (struct virtio_pci *vp, const char *why)
{
  if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
    return;
  fprintf (stderr, "hull: %s: guest driver error, device needs reset: %s\n",
           vp->vdev->ops->name, why);
  vp->status |= VIRTIO_STATUS_NEEDS_RESET;
  vp->config_generation++;
  /* Stop all processing until the driver resets us. */
  for (unsigned q = 0; q < vp->vdev->num_queues; q++)
    if (vp->vqs[q].size)
      vp->vqs[q].broken = true;
  if (vp->status & VIRTIO_STATUS_DRIVER_OK)
    virtio_pci_irq_signal_config (vp);
}

static void
tops_signal_queue (void *t, unsigned q)
{
  virtio_pci_irq_signal_queue (t, q);
}

static void
tops_signal_config (void *t)
{
  struct virtio_pci *vp = t;
  vp->config_generation++;
  virtio_pci_irq_signal_config (vp);
}

static void
tops_needs_reset (void *t, const char *why)
{
  vp_needs_reset (t, why);
}

static int
tops_kick_fd (void *t, unsigned q)
{
  struct virtio_pci *vp = t;
  return q < vp->vdev->num_queues ? vp->q[q].kick_fd : -1;
}

static int
tops_call_fd (void *t, unsigned q)
{
  struct virtio_pci *vp = t;
  if (q >= vp->vdev->num_queues || !vp->msix_enabled)
    return -1;
  return virtio_pci_irq_vector_fd (vp, vp->q[q].vector);
}

static const struct virtio_transport_ops vp_tops = {
  .signal_queue = tops_signal_queue,
  .signal_config = tops_signal_config,
  .needs_reset = tops_needs_reset,
  .kick_fd = tops_kick_fd,
  .call_fd = tops_call_fd,
};

/* ---- queues ---- */

static void
queue_kicked (void *opaque, uint32_t events)
{
  struct virtio_pci_queue *pq = opaque;
  struct virtio_pci *vp = pq->owner;
  unsigned q = pq - vp->q;
  uint64_t cnt;

  (void) events;
  if (read (pq->kick_fd, &cnt, sizeof cnt) < 0 && errno != EAGAIN)
    return;
  if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && virtq_ready (&vp->vqs[q]))
    vp->vdev->ops->queue_notify (vp->vdev, q);
}

static void
queue_ioeventfd (struct virtio_pci *vp, unsigned q, bool on)
{
  struct virtio_pci_queue *pq = &vp->q[q];
  hull_error_t err = NULL;

  if (vp->host.ioeventfd == NULL || pq->ioeventfd_on == on)
    return;
  if (on)
    pq->ioeventfd_addr = vp->pci.bars[0].addr + VIRTIO_PCI_NOTIFY_OFF
                         + (uint64_t) q * VIRTIO_PCI_NOTIFY_MULT;
  /* Linux writes the 16-bit queue index; other widths reach the MMIO
   * handler, which signals the same eventfd. */
  if (vp->host.ioeventfd (vp->host.ctx, pq->ioeventfd_addr, 2, pq->kick_fd, on, &err) < 0)
    {
      vp_report (vp, &err);
      return;
    }
  pq->ioeventfd_on = on;
}

static void
queue_enable (struct virtio_pci *vp, unsigned q)
{
  struct virtio_pci_queue *pq = &vp->q[q];
  hull_error_t err = NULL;

  if (pq->enabled)
    return;
  if (pq->size > vp->vdev->queue_max_size)
    {
      vp_needs_reset (vp, "queue size above the device maximum");
      return;
    }
  if (virtq_setup (&vp->vqs[q], vp->vdev->mem, pq->size, pq->desc, pq->avail,
                   pq->used, vp->driver_features & (1ULL << VIRTIO_F_EVENT_IDX),
                   vp->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC), &err)
      < 0)
    {
      char why[256];
      snprintf (why, sizeof why, "queue %u: %s", q, hull_error_msg (&err));
      hull_error_free (&err);
      vp_needs_reset (vp, why);
      return;
    }
  pq->enabled = true;
  if (!vp->vdev->ops->external_queues
      && iothread_watch (&vp->io, &pq->kick, EPOLLIN, &err) < 0)
    vp_report (vp, &err);
  queue_ioeventfd (vp, q, true);
}

static void
queue_reset (struct virtio_pci *vp, unsigned q)
{
  struct virtio_pci_queue *pq = &vp->q[q];
  uint64_t cnt;

  iothread_unwatch (&vp->io, &pq->kick);
  queue_ioeventfd (vp, q, false);
  if (read (pq->kick_fd, &cnt, sizeof cnt) < 0)
    {
      /* nothing pending: fine */
    }
  virtq_reset (&vp->vqs[q]);
  pq->size = vp->vdev->queue_max_size;
  pq->vector = VIRTIO_MSI_NO_VECTOR;
  pq->enabled = false;
  pq->desc = pq->avail = pq->used = 0;
}

/* ---- device status ---- */

static void
device_reset (struct virtio_pci *vp)
{
  vp->vdev->ops->reset (vp->vdev);
  for (unsigned q = 0; q < vp->vdev->num_queues; q++)
    queue_reset (vp, q);
  vp->vdev->features = 0;
  vp->driver_features = 0;
  vp->dfselect = vp->gfselect = 0;
  vp->queue_sel = 0;
  vp->config_vector = VIRTIO_MSI_NO_VECTOR;
  vp->status = 0;
  virtio_pci_irq_isr_clear (vp);
}

static void
status_write (struct virtio_pci *vp, uint8_t val)
{
  uint8_t added;

  if (val == 0)
    {
      device_reset (vp);
      return;
    }
  /* Bits only accumulate until a reset (the driver may not clear them;
   * letting it would re-run activation), and NEEDS_RESET is the device's
   * bit alone. */
  val = (val & ~VIRTIO_STATUS_NEEDS_RESET) | vp->status;
  added = val & ~vp->status;
  if ((added & VIRTIO_STATUS_FEATURES_OK)
      && (!(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))
          || (vp->driver_features & ~vp->offered)))
    {
      /* Refuse: the driver sees FEATURES_OK unset and gives up. */
      val &= ~VIRTIO_STATUS_FEATURES_OK;
      added &= ~VIRTIO_STATUS_FEATURES_OK;
    }
  if (added & VIRTIO_STATUS_FEATURES_OK)
    vp->vdev->features = vp->driver_features;
  if ((added & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK))
    {
      val &= ~VIRTIO_STATUS_DRIVER_OK;
      added &= ~VIRTIO_STATUS_DRIVER_OK;
    }
  vp->status = val;
  if ((added & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_NEEDS_RESET))
    {
      if (vp->vdev->ops->activate (vp->vdev) < 0)
        {
          vp_needs_reset (vp, "device could not start");
          return;
        }
      /* Buffers the driver queued before DRIVER_OK: look at them now. */
      for (unsigned q = 0; q < vp->vdev->num_queues; q++)
        if (vp->q[q].enabled && !vp->vdev->ops->external_queues)
          vp->vdev->ops->queue_notify (vp->vdev, q);
    }
}

/* ---- common configuration ---- */

static struct virtio_pci_queue *
selected_queue (struct virtio_pci *vp)
{
  return vp->queue_sel < vp->vdev->num_queues ? &vp->q[vp->queue_sel] : NULL;
}

static void
common_image (struct virtio_pci *vp, uint8_t img[VIRTIO_PCI_COMMON_LEN])
{
  struct virtio_pci_queue *pq = selected_queue (vp);
  uint32_t df = vp->dfselect < 2 ? (uint32_t) (vp->offered >> (32 * vp->dfselect)) : 0;
  uint32_t gf = vp->gfselect < 2 ? (uint32_t) (vp->driver_features >> (32 * vp->gfselect)) : 0;
  uint16_t nq = vp->vdev->num_queues;
  uint16_t qsize = 0, qvec = VIRTIO_MSI_NO_VECTOR, qen = 0, qoff = 0;

  memset (img, 0, VIRTIO_PCI_COMMON_LEN);
  memcpy (img + VIRTIO_PCI_DFSELECT, &vp->dfselect, 4);
  memcpy (img + VIRTIO_PCI_DF, &df, 4);
  memcpy (img + VIRTIO_PCI_GFSELECT, &vp->gfselect, 4);
  memcpy (img + VIRTIO_PCI_GF, &gf, 4);
  memcpy (img + VIRTIO_PCI_MSIX_CONFIG, &vp->config_vector, 2);
  memcpy (img + VIRTIO_PCI_NUM_QUEUES, &nq, 2);
  img[VIRTIO_PCI_STATUS] = vp->status;
  img[VIRTIO_PCI_CFG_GENERATION] = vp->config_generation;
  memcpy (img + VIRTIO_PCI_Q_SELECT, &vp->queue_sel, 2);
  if (pq != NULL)
    {
      qsize = pq->size;
      qvec = pq->vector;
      qen = pq->enabled;
      qoff = vp->queue_sel;
      memcpy (img + VIRTIO_PCI_Q_DESC, &pq->desc, 8);
      memcpy (img + VIRTIO_PCI_Q_AVAIL, &pq->avail, 8);
      memcpy (img + VIRTIO_PCI_Q_USED, &pq->used, 8);
    }
  memcpy (img + VIRTIO_PCI_Q_SIZE, &qsize, 2);
  memcpy (img + VIRTIO_PCI_Q_MSIX, &qvec, 2);
  memcpy (img + VIRTIO_PCI_Q_ENABLE, &qen, 2);
  memcpy (img + VIRTIO_PCI_Q_NOFF, &qoff, 2);
}

static uint16_t
valid_vector (struct virtio_pci *vp, uint16_t v)
{
  /* Reading back NO_VECTOR tells the driver the vector was refused. */
  return v < vp->nvectors ? v : VIRTIO_MSI_NO_VECTOR;
}

static void
queue_field_write (struct virtio_pci *vp, uint32_t field, const uint8_t *img)
{
  struct virtio_pci_queue *pq = selected_queue (vp);
  uint16_t v16;

  if (pq == NULL)
    return;
  memcpy (&v16, img + (field & ~1u), 2);
  switch (field)
    {
    case VIRTIO_PCI_Q_MSIX:
      pq->vector = valid_vector (vp, v16);
      return;
    case VIRTIO_PCI_Q_ENABLE:
      if (v16 == 1 && !(vp->status & VIRTIO_STATUS_DRIVER_OK))
        queue_enable (vp, vp->queue_sel);
      return;
    }
  /* Ring geometry is frozen once the queue is enabled. */
  if (pq->enabled)
    return;
  switch (field)
    {
    case VIRTIO_PCI_Q_SIZE:
      pq->size = v16;   /* checked by virtq_setup at enable time */
      break;
    case VIRTIO_PCI_Q_DESC:
      memcpy (&pq->desc, img + field, 8);
      break;
    case VIRTIO_PCI_Q_AVAIL:
      memcpy (&pq->avail, img + field, 8);
      break;
    case VIRTIO_PCI_Q_USED:
      memcpy (&pq->used, img + field, 8);
      break;
    }
}

static void
common_field_write (struct virtio_pci *vp, uint32_t field, const uint8_t *img)
{
  uint32_t v32;
  uint16_t v16;

  memcpy (&v32, img + (field & ~3u), 4);
  memcpy (&v16, img + (field & ~1u), 2);
  switch (field)
    {
    case VIRTIO_PCI_DFSELECT:
      vp->dfselect = v32;
      break;
    case VIRTIO_PCI_GFSELECT:
      vp->gfselect = v32;
      break;
    case VIRTIO_PCI_GF:
      if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
        {
          unsigned shift = 32 * vp->gfselect;
          vp->driver_features &= ~(0xffffffffULL << shift);
          vp->driver_features |= (uint64_t) v32 << shift;
        }
      break;
    case VIRTIO_PCI_MSIX_CONFIG:
      vp->config_vector = valid_vector (vp, v16);
      break;
    case VIRTIO_PCI_STATUS:
      status_write (vp, img[VIRTIO_PCI_STATUS]);
      break;
    case VIRTIO_PCI_Q_SELECT:
      vp->queue_sel = v16;
      break;
    default:
      queue_field_write (vp, field, img);
      break;
    }
}

/* Writable fields: start and width.  Read-only ones are simply absent. */
static const struct
{
  uint8_t off, len;
} common_fields[] = {
  { VIRTIO_PCI_DFSELECT, 4 }, { VIRTIO_PCI_GFSELECT, 4 }, { VIRTIO_PCI_GF, 4 },
  { VIRTIO_PCI_MSIX_CONFIG, 2 }, { VIRTIO_PCI_STATUS, 1 }, { VIRTIO_PCI_Q_SELECT, 2 },
  { VIRTIO_PCI_Q_SIZE, 2 }, { VIRTIO_PCI_Q_MSIX, 2 }, { VIRTIO_PCI_Q_ENABLE, 2 },
  { VIRTIO_PCI_Q_DESC, 8 }, { VIRTIO_PCI_Q_AVAIL, 8 }, { VIRTIO_PCI_Q_USED, 8 },
};

static void
common_write (struct virtio_pci *vp, uint64_t off, const uint8_t *data, uint32_t len)
{
  uint8_t img[VIRTIO_PCI_COMMON_LEN];

  if (off + len > VIRTIO_PCI_COMMON_LEN)
    return;
  /* Merge the write into the current register image, then apply every
   * field it touched: this handles any width, including the two 32-bit
   * halves drivers use for the 64-bit ring addresses. */
  common_image (vp, img);
  memcpy (img + off, data, len);
  for (size_t i = 0; i < sizeof common_fields / sizeof common_fields[0]; i++)
    {
      uint32_t f = common_fields[i].off, flen = common_fields[i].len;
      if (off < f + flen && f < off + len)
        common_field_write (vp, f, img);
    }
}

/* ---- BAR dispatch ---- */

void
virtio_pci_bar_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct virtio_pci *vp = opaque;
  uint8_t img[VIRTIO_PCI_COMMON_LEN];
  uint32_t cfg_size = vp->vdev->ops->config_size;

  memset (data, 0, len);
  pthread_mutex_lock (&vp->lock);
  if (off + len <= VIRTIO_PCI_COMMON_LEN)
    {
      common_image (vp, img);
      memcpy (data, img + off, len);
    }
  else if (off == VIRTIO_PCI_ISR_OFF)
    data[0] = virtio_pci_irq_isr_read (vp);
  else if (off >= VIRTIO_PCI_DEVICE_OFF && off - VIRTIO_PCI_DEVICE_OFF + len <= cfg_size)
    vp->vdev->ops->config_read (vp->vdev, off - VIRTIO_PCI_DEVICE_OFF, data, len);
  else if (off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF)
    virtio_pci_irq_msix_read (vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
  else if (off >= VIRTIO_PCI_MSIX_PBA_OFF)
    virtio_pci_irq_pba_read (vp, off - VIRTIO_PCI_MSIX_PBA_OFF, data, len);
  pthread_mutex_unlock (&vp->lock);
}

static void
notify_write (struct virtio_pci *vp, uint64_t off)
{
  uint64_t q = off / VIRTIO_PCI_NOTIFY_MULT;
  uint64_t one = 1;

  /* Same path as the ioeventfd: the iothread does the work. */
  if (q < vp->vdev->num_queues && write (vp->q[q].kick_fd, &one, sizeof one) < 0)
    {
      /* counter saturated: a kick is pending anyway */
    }
}

void
virtio_pci_bar_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct virtio_pci *vp = opaque;
  uint32_t cfg_size = vp->vdev->ops->config_size;

  pthread_mutex_lock (&vp->lock);
  if (off + len <= VIRTIO_PCI_COMMON_LEN)
    common_write (vp, off, data, len);
  else if (off >= VIRTIO_PCI_DEVICE_OFF && off - VIRTIO_PCI_DEVICE_OFF + len <= cfg_size)
    {
      if (vp->vdev->ops->config_write)
        vp->vdev->ops->config_write (vp->vdev, off - VIRTIO_PCI_DEVICE_OFF, data, len);
    }
  else if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_MSIX_TABLE_OFF)
    notify_write (vp, off - VIRTIO_PCI_NOTIFY_OFF);
  else if (off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF)
    virtio_pci_irq_msix_write (vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
  pthread_mutex_unlock (&vp->lock);
}

static const struct io_ops vp_bar_ops = {
  .read = virtio_pci_bar_read,
  .write = virtio_pci_bar_write,
};

/* ---- PCI config space hooks ---- */

static void
vp_config_write (struct pci_device *dev, uint32_t offset, const uint8_t *data,
                 uint32_t len)
{
  struct virtio_pci *vp = dev->opaque;

  (void) data;
  if (offset < vp->msix_cap + 4u && vp->msix_cap + 2u < offset + len)
    {
      pthread_mutex_lock (&vp->lock);
      virtio_pci_irq_msix_control (vp);
      pthread_mutex_unlock (&vp->lock);
    }
}

static void
vp_bar_moved (struct pci_device *dev, int bar, uint64_t old_addr)
{
  struct virtio_pci *vp = dev->opaque;

  (void) old_addr;
  if (bar != 0)
    return;
  pthread_mutex_lock (&vp->lock);
  for (unsigned q = 0; q < vp->vdev->num_queues; q++)
    if (vp->q[q].ioeventfd_on)
      {
        queue_ioeventfd (vp, q, false);
        queue_ioeventfd (vp, q, true);
      }
  pthread_mutex_unlock (&vp->lock);
}

static const struct pci_device_ops vp_pci_ops = {
  .config_write = vp_config_write,
  .bar_moved = vp_bar_moved,
};

static int
add_virtio_cap (struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
                hull_error_t *err)
{
  struct virtio_pci_cap cap = {
    .cap_vndr = PCI_CAP_ID_VNDR,
    .cap_len = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16,
    .cfg_type = type,
    .bar = 0,
    .offset = off,
    .length = len,
    .notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT,
  };

  if (pci_device_add_cap (&vp->pci, &cap, cap.cap_len) < 0)
    return hull_error (err, ENOSPC, "%s: PCI config space full", vp->vdev->ops->name);
  return 0;
}

static int
build_config_space (struct virtio_pci *vp, hull_error_t *err)
{
  const struct virtio_dev_ops *ops = vp->vdev->ops;
  struct msix_cap msix = {
    .id = PCI_CAP_ID_MSIX,
    .msgctl = vp->nvectors - 1,
    .table = VIRTIO_PCI_MSIX_TABLE_OFF, /* BIR 0 */
    .pba = VIRTIO_PCI_MSIX_PBA_OFF,
  };
  int off;

  pci_device_init_header (&vp->pci, VIRTIO_PCI_VENDOR,
                          VIRTIO_PCI_DEVICE_BASE + ops->device_id, ops->pci_class,
                          VIRTIO_PCI_VENDOR, 0x40);
  vp->pci.config[0x08] = 1; /* revision >= 1: a non-transitional device */
  vp->pci.config[0x06] |= PCI_STATUS_CAP_LIST;
  vp->pci.config[0x3d] = 1; /* INTA# */
  if (add_virtio_cap (vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
                      VIRTIO_PCI_COMMON_LEN, err) < 0
      || add_virtio_cap (vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
                         vp->vdev->num_queues * VIRTIO_PCI_NOTIFY_MULT, err) < 0
      || add_virtio_cap (vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, err) < 0
      || (ops->config_size
          && add_virtio_cap (vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
                             ops->config_size, err) < 0))
    return -1;
  off = pci_device_add_cap (&vp->pci, &msix, sizeof msix);
  if (off < 0)
    return hull_error (err, ENOSPC, "%s: PCI config space full", ops->name);
  vp->msix_cap = off;
  /* The guest may flip MSI-X enable and function mask, nothing else. */
  vp->pci.wmask[off + 3] = 0xc0;
  vp->pci.bars[0] = (struct pci_bar){ .size = VIRTIO_PCI_BAR_SIZE,
                                      .ops = &vp_bar_ops, .opaque = vp };
  vp->pci.ops = &vp_pci_ops;
  vp->pci.opaque = vp;
  return 0;
}

int
virtio_pci_init (struct virtio_pci *vp, struct virtio_dev *vdev,
                 const struct virtio_pci_host *host, hull_error_t *err)
{
  unsigned q;

  memset (vp, 0, sizeof *vp);
  if (vdev->num_queues == 0 || vdev->num_queues > VIRTIO_PCI_MAX_QUEUES
      || vdev->ops->config_size > VIRTIO_PCI_NOTIFY_OFF - VIRTIO_PCI_DEVICE_OFF)
    return hull_error (err, EINVAL, "%s: unsupported queue count %u or config size",
                       vdev->ops->name, vdev->num_queues);
  vp->vdev = vdev;
  vp->host = *host;
  vp->nvectors = vdev->num_queues + 1;
  vp->offered = vdev->ops->features | transport_features;
  vp->config_vector = VIRTIO_MSI_NO_VECTOR;
  virtio_pci_irq_init (vp);
  for (q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
    vp->q[q].kick_fd = -1;
  pthread_mutex_init (&vp->lock, NULL);
  if (iothread_init (&vp->io, &vp->lock, err) < 0)
    goto fail;
  for (q = 0; q < vdev->num_queues; q++)
    {
      struct virtio_pci_queue *pq = &vp->q[q];
      pq->kick_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (pq->kick_fd < 0)
        {
          hull_error (err, errno, "%s: eventfd", vdev->ops->name);
          goto fail;
        }
      pq->kick = (struct iothread_watch){ .fd = pq->kick_fd, .cb = queue_kicked,
                                          .opaque = pq };
      pq->owner = vp;
      pq->size = vdev->queue_max_size;
      pq->vector = VIRTIO_MSI_NO_VECTOR;
    }
  vdev->vqs = vp->vqs;
  vdev->io = &vp->io;
  vdev->tops = &vp_tops;
  vdev->transport = vp;
  if (build_config_space (vp, err) < 0)
    goto fail;
  return 0;

fail:
  virtio_pci_destroy (vp);
  return -1;
}

int
virtio_pci_add (struct virtio_pci *vp, struct pci_bus *bus, hull_error_t *err)
{
  int slot = pci_bus_add (bus, &vp->pci, err);

  if (slot < 0)
    return hull_error_prefix (err, "%s", vp->vdev->ops->name);
  /* INTx fallback: the bus wires INTA# of each slot (and its MP table
   * entry) to this IOAPIC pin. */
  vp->intx_gsi = PCI_INTX_GSI (slot);
  return iothread_start (&vp->io, err);
}

void
virtio_pci_destroy (struct virtio_pci *vp)
{
  if (vp->vdev == NULL)
    return;
  iothread_destroy (&vp->io);
  pthread_mutex_lock (&vp->lock);
  if (vp->vdev->tops != NULL)
    device_reset (vp);
  virtio_pci_irq_release (vp);
  for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
    if (vp->q[q].kick_fd >= 0)
      {
        close (vp->q[q].kick_fd);
        vp->q[q].kick_fd = -1;
      }
  pthread_mutex_unlock (&vp->lock);
  pthread_mutex_destroy (&vp->lock);
  vp->vdev = NULL;
}
