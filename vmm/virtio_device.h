/* The interface between a virtio device model and its transport.
 *
 * A device (virtio_console.c, virtio_rng.c, later blk/net/fs) is an ops
 * table plus one file; it never touches PCI.  The transport (virtio_pci.c)
 * owns the feature negotiation, the device status state machine, the queue
 * registers and the interrupts, and calls the ops below.
 *
 * Threading: every op and every iothread callback of a device runs with the
 * transport's lock held (vCPU register accesses take the same lock), so a
 * device needs no locking of its own. */
#ifndef HULL_VMM_VIRTIO_DEVICE_H
#define HULL_VMM_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/iothread.h"
#include "vmm/virtqueue.h"

/* Device types (virtio 1.2 section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_FS 26

/* Transport-independent feature bits the transport handles itself. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

struct virtio_dev;

struct virtio_dev_ops
{
  const char *name;          /* for messages: "virtio-console" */
  uint16_t device_id;        /* VIRTIO_ID_* */
  uint32_t pci_class;        /* class code, sub class, prog-if (24 bits) */
  uint64_t features;         /* device-specific feature bits offered */
  uint32_t config_size;      /* bytes of device config space; 0 = none */

  /* Device config space access; offset + len <= config_size is checked
   * by the transport. */
  void (*config_read) (struct virtio_dev *vdev, uint32_t offset,
                       uint8_t *data, uint32_t len);
  void (*config_write) (struct virtio_dev *vdev, uint32_t offset,
                        const uint8_t *data, uint32_t len); /* optional */

  /* The driver set DRIVER_OK: vdev->features is final and the enabled
   * queues are mapped.  Negative = the device cannot run (NEEDS_RESET). */
  int (*activate) (struct virtio_dev *vdev);
  /* The driver kicked queue q (iothread). */
  void (*queue_notify) (struct virtio_dev *vdev, unsigned q);
  /* Device reset (status 0 or teardown): forget everything guest-provided;
   * the transport resets the queues right after. */
  void (*reset) (struct virtio_dev *vdev);
  /* Optional: the device does its own queue notification handling (e.g.
   * vhost-user hands virtio_dev_kick_fd/virtio_dev_call_fd to a back-end);
   * the transport then does not watch the kick eventfds. */
  bool external_queues;
};

/* What a device may ask of its transport. */
struct virtio_transport_ops
{
  void (*signal_queue) (void *transport, unsigned q);
  void (*signal_config) (void *transport);
  void (*needs_reset) (void *transport, const char *why);
  int (*kick_fd) (void *transport, unsigned q);
  int (*call_fd) (void *transport, unsigned q);
};

struct virtio_dev
{
  /* Filled in by the device model. */
  const struct virtio_dev_ops *ops;
  void *priv;                  /* the device model's state */
  unsigned num_queues;
  uint16_t queue_max_size;     /* power of two */
  const struct guest_mem *mem;

  /* Filled in by the transport. */
  uint64_t features;           /* negotiated, valid from FEATURES_OK */
  struct virtq *vqs;           /* num_queues entries */
  struct iothread *io;         /* for device-owned host fds */
  const struct virtio_transport_ops *tops;
  void *transport;
};

static inline bool
virtio_dev_has_feature (const struct virtio_dev *vdev, unsigned bit)
{
  return (vdev->features >> bit) & 1;
}

/* Pop from queue q; a malformed ring puts the device in NEEDS_RESET. */
static inline int
virtio_dev_pop (struct virtio_dev *vdev, unsigned q, struct virtq_elem *elem)
{
  int r = virtq_pop (&vdev->vqs[q], elem);
  if (r < 0)
    vdev->tops->needs_reset (vdev->transport, virtq_error_str (vdev->vqs[q].error));
  return r;
}

/* Interrupt the driver for queue q if it asked for it. */
static inline void
virtio_dev_notify_used (struct virtio_dev *vdev, unsigned q)
{
  if (virtq_should_signal (&vdev->vqs[q]))
    vdev->tops->signal_queue (vdev->transport, q);
}

static inline void
virtio_dev_signal_config (struct virtio_dev *vdev)
{
  vdev->tops->signal_config (vdev->transport);
}

/* For external_queues devices: the eventfd the guest's kicks of q signal,
 * and the eventfd that interrupts the guest for q (-1: none yet). */
static inline int
virtio_dev_kick_fd (struct virtio_dev *vdev, unsigned q)
{
  return vdev->tops->kick_fd (vdev->transport, q);
}

static inline int
virtio_dev_call_fd (struct virtio_dev *vdev, unsigned q)
{
  return vdev->tops->call_fd (vdev->transport, q);
}

#endif
