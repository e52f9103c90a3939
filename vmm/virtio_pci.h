/* virtio 1.x PCI transport (modern only, virtio 1.2 section 4.1).
 *
 * One 32-bit memory BAR 0 of VIRTIO_PCI_BAR_SIZE bytes:
 *   0x0000  common configuration (0x38 bytes)
 *   0x1000  ISR status (1 byte, read clears)
 *   0x2000  device-specific configuration
 *   0x3000  notifications: queue q at 0x3000 + 4 * q (notify_off_multiplier
 *           4, notify_off = q); each is an ioeventfd when the VM has them
 *   0x4000  MSI-X table (16 bytes per vector)
 *   0x5000  MSI-X PBA
 * MSI-X vectors: one per queue plus one for config changes.  Each vector
 * is an eventfd attached to an MSI route with irqfd; masked vectors latch in
 * the PBA.  Without MSI-X the ISR register and an INTx line are used. */
#ifndef HULL_VMM_VIRTIO_PCI_H
#define HULL_VMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/iothread.h"
#include "vmm/pci.h"
#include "vmm/virtio_device.h"

struct vm;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_COMMON_LEN 0x38
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF 0x5000

#define VIRTIO_PCI_MAX_QUEUES 64
#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* virtio_pci_cap.cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* Common configuration register offsets. */
#define VIRTIO_PCI_DFSELECT 0x00
#define VIRTIO_PCI_DF 0x04
#define VIRTIO_PCI_GFSELECT 0x08
#define VIRTIO_PCI_GF 0x0c
#define VIRTIO_PCI_MSIX_CONFIG 0x10
#define VIRTIO_PCI_NUM_QUEUES 0x12
#define VIRTIO_PCI_STATUS 0x14
#define VIRTIO_PCI_CFG_GENERATION 0x15
#define VIRTIO_PCI_Q_SELECT 0x16
#define VIRTIO_PCI_Q_SIZE 0x18
#define VIRTIO_PCI_Q_MSIX 0x1a
#define VIRTIO_PCI_Q_ENABLE 0x1c
#define VIRTIO_PCI_Q_NOFF 0x1e
#define VIRTIO_PCI_Q_DESC 0x20
#define VIRTIO_PCI_Q_AVAIL 0x28
#define VIRTIO_PCI_Q_USED 0x30

/* What the transport needs from the VM: vm.h's services in production
 * (virtio_pci_host_vm), recording fakes in unit tests.  Any may be NULL
 * (that facility is then just not used). */
struct virtio_pci_host
{
  void *ctx;
  int (*gsi_alloc) (void *ctx, uint32_t *gsi, hull_error_t *err);
  int (*msi_route) (void *ctx, uint32_t gsi, uint64_t addr, uint32_t data,
                    hull_error_t *err);
  int (*irqfd) (void *ctx, int eventfd, uint32_t gsi, bool assign,
                hull_error_t *err);
  int (*ioeventfd) (void *ctx, uint64_t addr, uint32_t len, int eventfd,
                    bool assign, hull_error_t *err);
  int (*irq_line) (void *ctx, uint32_t gsi, int level, hull_error_t *err);
};

void virtio_pci_host_vm (struct virtio_pci_host *host, struct vm *vm);

struct virtio_pci_queue
{
  uint16_t size, vector;
  bool enabled;
  uint64_t desc, avail, used;
  int kick_fd;                   /* eventfd: ioeventfd target */
  bool ioeventfd_on;
  uint64_t ioeventfd_addr;
  struct iothread_watch kick;
  struct virtio_pci *owner;
};

struct virtio_pci_vector
{
  uint32_t addr_lo, addr_hi, data, ctrl; /* guest-visible table entry */
  int fd;                                /* irqfd eventfd, -1 until used */
  uint32_t gsi;
  bool routed;                           /* route matches addr/data */
};

struct virtio_pci
{
  struct pci_device pci;
  struct virtio_dev *vdev;
  struct virtio_pci_host host;
  pthread_mutex_t lock;
  struct iothread io;
  uint8_t msix_cap;              /* config space offset of MSI-X cap */
  uint32_t intx_gsi;

  /* common configuration */
  uint32_t dfselect, gfselect;
  uint64_t offered, driver_features;
  uint16_t config_vector, queue_sel;
  uint8_t status, config_generation, isr;
  bool intx_level;
  struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
  struct virtq vqs[VIRTIO_PCI_MAX_QUEUES];

  /* MSI-X */
  unsigned nvectors;
  bool msix_enabled, msix_masked;
  uint64_t pba[2];               /* pending bits; MAX_VECTORS <= 128 */
  struct virtio_pci_vector vec[VIRTIO_PCI_MAX_VECTORS];
};

/* Build the PCI function for vdev (vdev->ops, num_queues and
 * queue_max_size set by the device).  No thread runs yet. */
int virtio_pci_init (struct virtio_pci *vp, struct virtio_dev *vdev,
                     const struct virtio_pci_host *host, hull_error_t *err);
/* Put it on bus (pci_bus_add, INTx pin) and start its iothread. */
int virtio_pci_add (struct virtio_pci *vp, struct pci_bus *bus, hull_error_t *err);
/* Stop the iothread, reset the device, release eventfds and routes.  The
 * PCI function itself stays on the bus (buses have no removal). */
void virtio_pci_destroy (struct virtio_pci *vp);

/* BAR 0 accessors (what the MMIO bus calls); exposed for unit tests. */
void virtio_pci_bar_read (void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
void virtio_pci_bar_write (void *opaque, uint64_t offset, const uint8_t *data,
                           uint32_t len);

#endif
