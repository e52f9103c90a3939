/* A minimal virtio driver for unit tests: fake guest RAM, fake VM services
 * that record what the transport asked for, register access through the
 * BAR handlers, and split rings built the way a guest driver builds them.
 * Header-only so each test file can use it. */
#ifndef HULL_TESTS_VIRTIO_TEST_DRIVER_H
#define HULL_TESTS_VIRTIO_TEST_DRIVER_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio_pci.h"

#define TD_RAM_SIZE (4u << 20)
#define TD_QUEUE_BASE 0x10000u   /* queue q rings at TD_QUEUE_BASE + q * 0x4000 */
#define TD_DATA_BASE 0x100000u

struct td_host
{
  uint32_t next_gsi;
  unsigned routes, irqfds;
  uint32_t route_gsi, route_data;
  uint64_t route_addr;
  unsigned ioeventfds_on;
  uint64_t ioeventfd_addr[VIRTIO_PCI_MAX_QUEUES];
  uint32_t ioeventfd_len;
  int line_level;
  unsigned line_changes;
};

struct td_queue
{
  uint16_t size, avail_idx, used_seen, next_desc;
  uint16_t kicked_avail;       /* avail idx at the last kick decision */
  uint64_t desc, avail, used;
};

struct td
{
  uint8_t *ram;
  struct guest_mem mem;
  struct td_host h;
  struct virtio_pci_host host;
  struct virtio_pci *vp;
  struct td_queue q[VIRTIO_PCI_MAX_QUEUES];
  uint64_t data_next;
  bool event_idx;              /* kick only when avail_event asks, like Linux */
  unsigned kicks_suppressed;
};

static int
td_gsi_alloc (void *ctx, uint32_t *gsi, hull_error_t *err)
{
  struct td_host *h = ctx;
  (void) err;
  *gsi = 24 + h->next_gsi++;
  return 0;
}

static int
td_msi_route (void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, hull_error_t *err)
{
  struct td_host *h = ctx;
  (void) err;
  h->routes++;
  h->route_gsi = gsi;
  h->route_addr = addr;
  h->route_data = data;
  return 0;
}

static int
td_irqfd (void *ctx, int fd, uint32_t gsi, bool assign, hull_error_t *err)
{
  struct td_host *h = ctx;
  (void) fd, (void) gsi, (void) err;
  if (assign)
    h->irqfds++;
  else
    h->irqfds--;
  return 0;
}

static int
td_ioeventfd (void *ctx, uint64_t addr, uint32_t len, int fd, bool assign, hull_error_t *err)
{
  struct td_host *h = ctx;
  (void) fd, (void) err;
  h->ioeventfd_len = len;
  if (assign)
    h->ioeventfd_addr[h->ioeventfds_on++ % VIRTIO_PCI_MAX_QUEUES] = addr;
  else
    h->ioeventfds_on--;
  return 0;
}

static int
td_irq_line (void *ctx, uint32_t gsi, int level, hull_error_t *err)
{
  struct td_host *h = ctx;
  (void) gsi, (void) err;
  h->line_level = level;
  h->line_changes++;
  return 0;
}

static inline void
td_init (struct td *t)
{
  memset (t, 0, sizeof *t);
  t->ram = aligned_alloc (4096, TD_RAM_SIZE);
  cr_assert_not_null (t->ram);
  memset (t->ram, 0, TD_RAM_SIZE);
  guest_mem_init_fake (&t->mem, t->ram, TD_RAM_SIZE);
  t->host = (struct virtio_pci_host){ .ctx = &t->h, .gsi_alloc = td_gsi_alloc,
                                      .msi_route = td_msi_route, .irqfd = td_irqfd,
                                      .ioeventfd = td_ioeventfd, .irq_line = td_irq_line };
  t->data_next = TD_DATA_BASE;
}

static inline void
td_fini (struct td *t)
{
  free (t->ram);
}

/* ---- registers ---- */

static inline uint64_t
td_read (struct td *t, uint64_t off, uint32_t len)
{
  uint64_t v = 0;
  virtio_pci_bar_read (t->vp, off, (uint8_t *) &v, len);
  return v;
}

static inline void
td_write (struct td *t, uint64_t off, uint64_t v, uint32_t len)
{
  virtio_pci_bar_write (t->vp, off, (const uint8_t *) &v, len);
}

static inline uint8_t
td_status (struct td *t)
{
  return td_read (t, VIRTIO_PCI_STATUS, 1);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status. */
static inline uint8_t
td_negotiate (struct td *t, uint64_t features)
{
  t->event_idx = features & (1ULL << VIRTIO_F_EVENT_IDX);
  td_write (t, VIRTIO_PCI_STATUS, 0, 1);
  td_write (t, VIRTIO_PCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
  td_write (t, VIRTIO_PCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
  td_write (t, VIRTIO_PCI_GFSELECT, 0, 4);
  td_write (t, VIRTIO_PCI_GF, (uint32_t) features, 4);
  td_write (t, VIRTIO_PCI_GFSELECT, 1, 4);
  td_write (t, VIRTIO_PCI_GF, features >> 32, 4);
  td_write (t, VIRTIO_PCI_STATUS,
            VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
  return td_status (t);
}

static inline void
td_driver_ok (struct td *t)
{
  td_write (t, VIRTIO_PCI_STATUS,
            VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK
                | VIRTIO_STATUS_DRIVER_OK, 1);
}

/* Configure and enable queue q with size entries, 64-bit addresses written
 * as two 32-bit halves like Linux does. */
static inline void
td_queue_enable (struct td *t, unsigned q, uint16_t size, uint16_t vector)
{
  struct td_queue *tq = &t->q[q];
  uint64_t base = TD_QUEUE_BASE + q * 0x4000u;

  *tq = (struct td_queue){ .size = size, .desc = base, .avail = base + 0x1000,
                           .used = base + 0x2000 };
  td_write (t, VIRTIO_PCI_Q_SELECT, q, 2);
  td_write (t, VIRTIO_PCI_Q_SIZE, size, 2);
  td_write (t, VIRTIO_PCI_Q_MSIX, vector, 2);
  td_write (t, VIRTIO_PCI_Q_DESC, (uint32_t) tq->desc, 4);
  td_write (t, VIRTIO_PCI_Q_DESC + 4, tq->desc >> 32, 4);
  td_write (t, VIRTIO_PCI_Q_AVAIL, (uint32_t) tq->avail, 4);
  td_write (t, VIRTIO_PCI_Q_AVAIL + 4, 0, 4);
  td_write (t, VIRTIO_PCI_Q_USED, (uint32_t) tq->used, 4);
  td_write (t, VIRTIO_PCI_Q_USED + 4, 0, 4);
  td_write (t, VIRTIO_PCI_Q_ENABLE, 1, 2);
}

/* ---- rings ---- */

static inline uint64_t
td_alloc (struct td *t, uint32_t len)
{
  uint64_t gpa = t->data_next;
  t->data_next += (len + 15u) & ~15u;
  cr_assert_lt (t->data_next, TD_RAM_SIZE);
  return gpa;
}

/* Post a one-descriptor buffer; returns its guest address. */
static inline uint64_t
td_post (struct td *t, unsigned q, uint32_t len, bool writable, const void *data)
{
  struct td_queue *tq = &t->q[q];
  uint64_t gpa = td_alloc (t, len);
  uint16_t head = tq->next_desc++ % tq->size;
  struct virtq_desc d = { gpa, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0 };
  uint16_t slot = tq->avail_idx % tq->size;

  if (data)
    memcpy (t->ram + gpa, data, len);
  memcpy (t->ram + tq->desc + 16u * head, &d, sizeof d);
  memcpy (t->ram + tq->avail + 4 + 2u * slot, &head, 2);
  tq->avail_idx++;
  __atomic_store_n ((uint16_t *) (t->ram + tq->avail + 2), tq->avail_idx, __ATOMIC_RELEASE);
  return gpa;
}

/* Kick q through the notify region (unless EVENT_IDX says the device does
 * not want it) and let the device run. */
static inline void
td_kick (struct td *t, unsigned q)
{
  struct td_queue *tq = &t->q[q];
  bool kick = true;

  if (t->event_idx)
    {
      uint16_t event, old = tq->kicked_avail, now = tq->avail_idx;
      memcpy (&event, t->ram + tq->used + 4 + 8u * tq->size, 2);
      kick = (uint16_t) (now - event - 1) < (uint16_t) (now - old);
      tq->kicked_avail = now;
      t->kicks_suppressed += !kick;
    }
  if (kick)
    td_write (t, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, q, 2);
  while (iothread_run_once (&t->vp->io, 0) > 0)
    ;
}

static inline uint16_t
td_used_idx (struct td *t, unsigned q)
{
  return __atomic_load_n ((uint16_t *) (t->ram + t->q[q].used + 2), __ATOMIC_ACQUIRE);
}

/* The next completion on q; false when there is none. */
static inline bool
td_used_next (struct td *t, unsigned q, struct virtq_used_elem *e)
{
  struct td_queue *tq = &t->q[q];
  if (td_used_idx (t, q) == tq->used_seen)
    return false;
  memcpy (e, t->ram + tq->used + 4 + 8u * (tq->used_seen % tq->size), sizeof *e);
  tq->used_seen++;
  return true;
}

/* Guest address of descriptor id's buffer. */
static inline uint64_t
td_desc_addr (struct td *t, unsigned q, uint16_t id)
{
  struct virtq_desc d;
  memcpy (&d, t->ram + t->q[q].desc + 16u * id, sizeof d);
  return d.addr;
}

#endif
