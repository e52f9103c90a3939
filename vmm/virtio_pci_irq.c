/* Interrupts of the virtio PCI transport: the MSI-X table and PBA, vector
 * delivery through irqfd, and the INTx + ISR fallback.  All functions run
 * with vp->lock held. */
#include "vmm/virtio_pci.h"
#include "vmm/virtio_pci_irq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_MASKED 1u
#define MSIX_MSGCTL_ENABLE 0x8000u
#define MSIX_MSGCTL_MASKALL 0x4000u

static void
irq_report (struct virtio_pci *vp, hull_error_t *err)
{
  /* Interrupt plumbing failing is a VMM problem, not a guest one: say so
   * and let the device limp on rather than crash the VM. */
  fprintf (stderr, "hull: %s: %s\n", vp->vdev->ops->name, hull_error_msg (err));
  hull_error_free (err);
}

static void
pba_set (struct virtio_pci *vp, unsigned v, bool on)
{
  uint64_t bit = 1ULL << (v % 64);
  if (on)
    vp->pba[v / 64] |= bit;
  else
    vp->pba[v / 64] &= ~bit;
}

static bool
pba_test (const struct virtio_pci *vp, unsigned v)
{
  return (vp->pba[v / 64] >> (v % 64)) & 1;
}

/* Make vector v deliverable: eventfd, GSI, irqfd, and an MSI route that
 * matches the table entry. */
static int
vector_route (struct virtio_pci *vp, unsigned v, hull_error_t *err)
{
  struct virtio_pci_vector *e = &vp->vec[v];

  if (e->fd < 0)
    {
      int fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd < 0)
        return hull_error (err, errno, "eventfd for MSI-X vector %u", v);
      if (vp->host.gsi_alloc && vp->host.gsi_alloc (vp->host.ctx, &e->gsi, err) < 0)
        {
          close (fd);
          return -1;
        }
      if (vp->host.irqfd && vp->host.irqfd (vp->host.ctx, fd, e->gsi, true, err) < 0)
        {
          close (fd);
          return -1;
        }
      e->fd = fd;
      e->routed = false;
    }
  if (!e->routed && vp->host.msi_route)
    {
      uint64_t addr = ((uint64_t) e->addr_hi << 32) | e->addr_lo;
      if (vp->host.msi_route (vp->host.ctx, e->gsi, addr, e->data, err) < 0)
        return -1;
    }
  e->routed = true;
  return 0;
}

static bool
vector_masked (const struct virtio_pci *vp, unsigned v)
{
  return vp->msix_masked || (vp->vec[v].ctrl & MSIX_CTRL_MASKED);
}

static void
vector_fire (struct virtio_pci *vp, unsigned v)
{
  hull_error_t err = NULL;
  uint64_t one = 1;

  if (v >= vp->nvectors)
    return;
  if (vector_masked (vp, v))
    {
      pba_set (vp, v, true);
      return;
    }
  if (vector_route (vp, v, &err) < 0)
    {
      irq_report (vp, &err);
      return;
    }
  if (write (vp->vec[v].fd, &one, sizeof one) < 0 && errno != EAGAIN)
    fprintf (stderr, "hull: %s: irqfd write: %m\n", vp->vdev->ops->name);
}

static void
intx_set (struct virtio_pci *vp, bool level)
{
  hull_error_t err = NULL;

  if (vp->intx_level == level)
    return;
  vp->intx_level = level;
  if (vp->host.irq_line && vp->host.irq_line (vp->host.ctx, vp->intx_gsi, level, &err) < 0)
    irq_report (vp, &err);
}

static void
irq_raise (struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
  if (vp->msix_enabled)
    {
      if (vector != VIRTIO_MSI_NO_VECTOR)
        vector_fire (vp, vector);
      return;
    }
  vp->isr |= isr_bit;
  intx_set (vp, true);
}

void
virtio_pci_irq_signal_queue (struct virtio_pci *vp, unsigned q)
{
  if (q < vp->vdev->num_queues)
    irq_raise (vp, vp->q[q].vector, 1);
}

void
virtio_pci_irq_signal_config (struct virtio_pci *vp)
{
  irq_raise (vp, vp->config_vector, 2);
}

uint8_t
virtio_pci_irq_isr_read (struct virtio_pci *vp)
{
  uint8_t v = vp->isr;

  vp->isr = 0;
  intx_set (vp, false);
  return v;
}

void
virtio_pci_irq_isr_clear (struct virtio_pci *vp)
{
  vp->isr = 0;
  intx_set (vp, false);
}

int
virtio_pci_irq_vector_fd (struct virtio_pci *vp, uint16_t vector)
{
  hull_error_t err = NULL;

  if (vector >= vp->nvectors)
    return -1;
  if (vector_route (vp, vector, &err) < 0)
    {
      irq_report (vp, &err);
      return -1;
    }
  return vp->vec[vector].fd;
}

static void
vector_unmasked (struct virtio_pci *vp, unsigned v)
{
  if (vector_masked (vp, v) || !pba_test (vp, v))
    return;
  pba_set (vp, v, false);
  vector_fire (vp, v);
}

void
virtio_pci_irq_msix_read (struct virtio_pci *vp, uint64_t off, uint8_t *data,
                          uint32_t len)
{
  uint8_t entry[MSIX_ENTRY_SIZE];
  unsigned v = off / MSIX_ENTRY_SIZE;

  memset (data, 0, len);
  if (v >= vp->nvectors || (off % MSIX_ENTRY_SIZE) + len > MSIX_ENTRY_SIZE)
    return;
  memcpy (entry, &vp->vec[v].addr_lo, 4);
  memcpy (entry + 4, &vp->vec[v].addr_hi, 4);
  memcpy (entry + 8, &vp->vec[v].data, 4);
  memcpy (entry + 12, &vp->vec[v].ctrl, 4);
  memcpy (data, entry + off % MSIX_ENTRY_SIZE, len);
}

void
virtio_pci_irq_msix_write (struct virtio_pci *vp, uint64_t off,
                           const uint8_t *data, uint32_t len)
{
  uint8_t entry[MSIX_ENTRY_SIZE];
  unsigned v = off / MSIX_ENTRY_SIZE;
  struct virtio_pci_vector *e;
  uint32_t old_lo, old_hi, old_data;

  /* The spec only allows aligned dword or qword accesses here. */
  if (v >= vp->nvectors || (len != 4 && len != 8) || off % len != 0)
    return;
  e = &vp->vec[v];
  old_lo = e->addr_lo;
  old_hi = e->addr_hi;
  old_data = e->data;
  virtio_pci_irq_msix_read (vp, v * MSIX_ENTRY_SIZE, entry, sizeof entry);
  memcpy (entry + off % MSIX_ENTRY_SIZE, data, len);
  memcpy (&e->addr_lo, entry, 4);
  memcpy (&e->addr_hi, entry + 4, 4);
  memcpy (&e->data, entry + 8, 4);
  memcpy (&e->ctrl, entry + 12, 4);
  e->ctrl &= MSIX_CTRL_MASKED; /* other bits are reserved */
  if (e->addr_lo != old_lo || e->addr_hi != old_hi || e->data != old_data)
    e->routed = false;
  /* Keep routes current for vectors whose eventfd a back-end may be
   * writing directly; others are routed on first use. */
  if (!vector_masked (vp, v) && e->fd >= 0 && !e->routed)
    {
      hull_error_t err = NULL;
      if (vector_route (vp, v, &err) < 0)
        irq_report (vp, &err);
    }
  vector_unmasked (vp, v);
}

void
virtio_pci_irq_pba_read (struct virtio_pci *vp, uint64_t off, uint8_t *data,
                         uint32_t len)
{
  memset (data, 0, len);
  if (off + len <= sizeof vp->pba)
    memcpy (data, (const uint8_t *) vp->pba + off, len);
}

void
virtio_pci_irq_msix_control (struct virtio_pci *vp)
{
  uint16_t ctl;
  bool was_enabled = vp->msix_enabled;

  memcpy (&ctl, &vp->pci.config[vp->msix_cap + 2], 2);
  vp->msix_enabled = ctl & MSIX_MSGCTL_ENABLE;
  vp->msix_masked = ctl & MSIX_MSGCTL_MASKALL;
  if (vp->msix_enabled && !was_enabled)
    virtio_pci_irq_isr_clear (vp);
  if (vp->msix_enabled)
    for (unsigned v = 0; v < vp->nvectors; v++)
      vector_unmasked (vp, v);
}

void
virtio_pci_irq_init (struct virtio_pci *vp)
{
  for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
    {
      vp->vec[v].fd = -1;
      vp->vec[v].ctrl = MSIX_CTRL_MASKED; /* entries start masked */
    }
}

void
virtio_pci_irq_release (struct virtio_pci *vp)
{
  hull_error_t err = NULL;

  for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
    {
      struct virtio_pci_vector *e = &vp->vec[v];
      if (e->fd < 0)
        continue;
      if (vp->host.irqfd && vp->host.irqfd (vp->host.ctx, e->fd, e->gsi, false, &err) < 0)
        hull_error_free (&err);
      close (e->fd);
      e->fd = -1;
    }
  intx_set (vp, false);
}
