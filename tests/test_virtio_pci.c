/* The virtio PCI transport with a fake device and fake VM services:
 * capability layout, common configuration, status machine, MSI-X, INTx. */
#include <criterion/criterion.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "tests/virtio_test_driver.h"

#define FAKE_ID 42
#define FAKE_FEATURE 5
#define FAKE_QUEUES 2
#define FAKE_QMAX 64

struct fake_dev
{
  struct virtio_dev vdev;
  struct virtio_pci vp;
  unsigned notified[FAKE_QUEUES], resets, activations;
  uint8_t cfg[8];
  bool fail_activate;
};

static void
fake_config_read (struct virtio_dev *vdev, uint32_t off, uint8_t *data, uint32_t len)
{
  struct fake_dev *f = vdev->priv;
  memcpy (data, f->cfg + off, len);
}

static void
fake_config_write (struct virtio_dev *vdev, uint32_t off, const uint8_t *data, uint32_t len)
{
  struct fake_dev *f = vdev->priv;
  memcpy (f->cfg + off, data, len);
}

static int
fake_activate (struct virtio_dev *vdev)
{
  struct fake_dev *f = vdev->priv;
  f->activations++;
  return f->fail_activate ? -1 : 0;
}

static void
fake_notify (struct virtio_dev *vdev, unsigned q)
{
  struct fake_dev *f = vdev->priv;
  struct virtq_elem elem;

  f->notified[q]++;
  while (virtio_dev_pop (vdev, q, &elem) == 1)
    virtq_push (&vdev->vqs[q], &elem, 0);
  virtio_dev_notify_used (vdev, q);
}

static void
fake_reset (struct virtio_dev *vdev)
{
  struct fake_dev *f = vdev->priv;
  f->resets++;
}

static const struct virtio_dev_ops fake_ops = {
  .name = "fake",
  .device_id = FAKE_ID,
  .pci_class = 0x123456,
  .features = 1ULL << FAKE_FEATURE,
  .config_size = sizeof ((struct fake_dev *) 0)->cfg,
  .config_read = fake_config_read,
  .config_write = fake_config_write,
  .activate = fake_activate,
  .queue_notify = fake_notify,
  .reset = fake_reset,
};

static struct td t;
static struct fake_dev *fd_;

static void
setup (void)
{
  hull_error_t err = NULL;

  td_init (&t);
  fd_ = calloc (1, sizeof *fd_);
  fd_->vdev = (struct virtio_dev){ .ops = &fake_ops, .priv = fd_, .num_queues = FAKE_QUEUES,
                                   .queue_max_size = FAKE_QMAX, .mem = &t.mem };
  cr_assert_eq (virtio_pci_init (&fd_->vp, &fd_->vdev, &t.host, &err), 0, "%s",
                hull_error_msg (&err));
  fd_->vp.pci.bars[0].addr = 0xc0000000; /* what pci_bus_add would assign */
  t.vp = &fd_->vp;
}

static void
teardown (void)
{
  virtio_pci_destroy (&fd_->vp);
  free (fd_);
  td_fini (&t);
}

TestSuite (virtio_pci, .init = setup, .fini = teardown);

static uint32_t
cfg32 (unsigned off)
{
  uint32_t v;
  memcpy (&v, &fd_->vp.pci.config[off], 4);
  return v;
}

static uint16_t
cfg16 (unsigned off)
{
  uint16_t v;
  memcpy (&v, &fd_->vp.pci.config[off], 2);
  return v;
}

Test (virtio_pci, header)
{
  cr_assert_eq (cfg16 (0x00), 0x1af4);
  cr_assert_eq (cfg16 (0x02), 0x1040 + FAKE_ID);
  cr_assert_eq (fd_->vp.pci.config[0x08], 1, "non-transitional devices have revision >= 1");
  cr_assert_eq (cfg32 (0x08) >> 8, 0x123456);
  cr_assert (cfg16 (0x06) & 0x10, "capability list bit");
  cr_assert_eq (fd_->vp.pci.config[0x3d], 1, "INTA#");
  cr_assert_eq (fd_->vp.pci.bars[0].size, VIRTIO_PCI_BAR_SIZE);
  cr_assert (!fd_->vp.pci.bars[0].io);
}

Test (virtio_pci, capability_list)
{
  bool seen[5] = { false };
  bool msix = false;
  unsigned off = fd_->vp.pci.config[0x34], n = 0;

  while (off != 0)
    {
      uint8_t *c = &fd_->vp.pci.config[off];
      cr_assert_lt (n++, 16, "capability list loops");
      cr_assert_eq (off % 4, 0);
      cr_assert_geq (off, 0x40);
      if (c[0] == 0x09)
        {
          uint8_t type = c[3];
          uint32_t offset = cfg32 (off + 8), length = cfg32 (off + 12);
          cr_assert (type >= 1 && type <= 4, "type %u", type);
          cr_assert_eq (c[4], 0, "BAR 0");
          seen[type] = true;
          cr_assert_leq (offset + length, VIRTIO_PCI_BAR_SIZE);
          switch (type)
            {
            case VIRTIO_PCI_CAP_COMMON_CFG:
              cr_assert_eq (c[2], 16);
              cr_assert_eq (offset, 0);
              cr_assert_geq (length, 0x38);
              break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG:
              cr_assert_eq (c[2], 20);
              cr_assert_eq (offset, VIRTIO_PCI_NOTIFY_OFF);
              cr_assert_eq (cfg32 (off + 16), 4, "notify_off_multiplier");
              cr_assert_geq (length, FAKE_QUEUES * 4);
              break;
            case VIRTIO_PCI_CAP_ISR_CFG:
              cr_assert_eq (offset, VIRTIO_PCI_ISR_OFF);
              cr_assert_geq (length, 1);
              break;
            case VIRTIO_PCI_CAP_DEVICE_CFG:
              cr_assert_eq (offset, VIRTIO_PCI_DEVICE_OFF);
              cr_assert_eq (length, 8);
              break;
            }
        }
      else if (c[0] == 0x11)
        {
          msix = true;
          cr_assert_eq (cfg16 (off + 2) & 0x7ff, FAKE_QUEUES, "table size - 1 = queues");
          cr_assert_eq (cfg32 (off + 4), VIRTIO_PCI_MSIX_TABLE_OFF, "table in BAR 0");
          cr_assert_eq (cfg32 (off + 8), VIRTIO_PCI_MSIX_PBA_OFF, "PBA in BAR 0");
          cr_assert_eq (fd_->vp.pci.wmask[off + 3], 0xc0);
        }
      off = c[1];
    }
  cr_assert (seen[1] && seen[2] && seen[3] && seen[4]);
  cr_assert (msix);
}

Test (virtio_pci, feature_windows)
{
  td_write (&t, VIRTIO_PCI_DFSELECT, 0, 4);
  uint32_t lo = td_read (&t, VIRTIO_PCI_DF, 4);
  td_write (&t, VIRTIO_PCI_DFSELECT, 1, 4);
  uint32_t hi = td_read (&t, VIRTIO_PCI_DF, 4);
  td_write (&t, VIRTIO_PCI_DFSELECT, 2, 4);
  uint32_t none = td_read (&t, VIRTIO_PCI_DF, 4);

  cr_assert (lo & (1u << FAKE_FEATURE));
  cr_assert (lo & (1u << VIRTIO_F_INDIRECT_DESC));
  cr_assert (lo & (1u << VIRTIO_F_EVENT_IDX));
  cr_assert (hi & 1u, "VERSION_1");
  cr_assert_eq (none, 0);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_NUM_QUEUES, 2), FAKE_QUEUES);
}

Test (virtio_pci, version_1_is_required)
{
  uint8_t st = td_negotiate (&t, 1ULL << FAKE_FEATURE);
  cr_assert_eq (st & VIRTIO_STATUS_FEATURES_OK, 0);
  cr_assert_eq (fd_->vdev.features, 0);
}

Test (virtio_pci, unoffered_features_are_refused)
{
  uint8_t st = td_negotiate (&t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 7));
  cr_assert_eq (st & VIRTIO_STATUS_FEATURES_OK, 0);
}

Test (virtio_pci, negotiation_succeeds_and_freezes)
{
  uint64_t want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << FAKE_FEATURE);
  uint8_t st = td_negotiate (&t, want);

  cr_assert (st & VIRTIO_STATUS_FEATURES_OK);
  cr_assert_eq (fd_->vdev.features, want);
  /* Feature writes after FEATURES_OK are ignored. */
  td_write (&t, VIRTIO_PCI_GFSELECT, 0, 4);
  td_write (&t, VIRTIO_PCI_GF, 0, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_GF, 4), (uint32_t) want);
  cr_assert_eq (fd_->vdev.features, want);
}

Test (virtio_pci, driver_ok_needs_features_ok)
{
  td_write (&t, VIRTIO_PCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                                     | VIRTIO_STATUS_DRIVER_OK, 1);
  cr_assert_eq (td_status (&t) & VIRTIO_STATUS_DRIVER_OK, 0);
  cr_assert_eq (fd_->activations, 0);
}

Test (virtio_pci, queue_select_and_registers)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_write (&t, VIRTIO_PCI_Q_SELECT, 1, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_SIZE, 2), FAKE_QMAX);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_NOFF, 2), 1);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
  td_write (&t, VIRTIO_PCI_Q_DESC, 0x12345000, 4);
  td_write (&t, VIRTIO_PCI_Q_DESC + 4, 0x1, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_DESC, 8), 0x112345000ULL);
  /* A queue that does not exist reads size 0 and ignores writes. */
  td_write (&t, VIRTIO_PCI_Q_SELECT, FAKE_QUEUES, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_SIZE, 2), 0);
  td_write (&t, VIRTIO_PCI_Q_ENABLE, 1, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 0);
  /* Vectors past the table read back as NO_VECTOR. */
  td_write (&t, VIRTIO_PCI_MSIX_CONFIG, FAKE_QUEUES + 1, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_CONFIG, 2), VIRTIO_MSI_NO_VECTOR);
  td_write (&t, VIRTIO_PCI_MSIX_CONFIG, FAKE_QUEUES, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_CONFIG, 2), FAKE_QUEUES);
}

Test (virtio_pci, queue_enable_registers_ioeventfd_and_runs)
{
  struct virtq_used_elem e;

  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 1, 16, VIRTIO_MSI_NO_VECTOR);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 1);
  cr_assert_eq (t.h.ioeventfds_on, 1);
  cr_assert_eq (t.h.ioeventfd_addr[0], 0xc0000000 + VIRTIO_PCI_NOTIFY_OFF + 4);
  cr_assert_eq (t.h.ioeventfd_len, 2);
  /* Geometry is frozen once enabled. */
  td_write (&t, VIRTIO_PCI_Q_SIZE, 8, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_SIZE, 2), 16);

  td_post (&t, 1, 32, true, NULL);
  td_kick (&t, 1);
  cr_assert_eq (fd_->notified[1], 0, "no processing before DRIVER_OK");
  td_driver_ok (&t);
  cr_assert_eq (fd_->activations, 1);
  cr_assert (td_used_next (&t, 1, &e), "buffers posted before DRIVER_OK are seen");
  td_post (&t, 1, 32, true, NULL);
  td_kick (&t, 1);
  cr_assert_geq (fd_->notified[1], 2);
  cr_assert (td_used_next (&t, 1, &e));
  /* INTx: no MSI-X, so the line went up and ISR says "queue". */
  cr_assert_eq (t.h.line_level, 1);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_ISR_OFF, 1), 1);
  cr_assert_eq (t.h.line_level, 0, "reading ISR lowers INTx");
  cr_assert_eq (td_read (&t, VIRTIO_PCI_ISR_OFF, 1), 0);
}

Test (virtio_pci, queue_size_above_max_needs_reset)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, FAKE_QMAX * 2, VIRTIO_MSI_NO_VECTOR);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 0);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
}

Test (virtio_pci, bad_queue_size_needs_reset)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 12, VIRTIO_MSI_NO_VECTOR);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 0);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
}

Test (virtio_pci, ring_outside_ram_needs_reset)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_write (&t, VIRTIO_PCI_Q_SELECT, 0, 2);
  td_write (&t, VIRTIO_PCI_Q_DESC, TD_RAM_SIZE - 0x100, 4);
  td_write (&t, VIRTIO_PCI_Q_ENABLE, 1, 2);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 0);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
}

Test (virtio_pci, malformed_ring_stops_device)
{
  uint8_t gen;

  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 16, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
  gen = td_read (&t, VIRTIO_PCI_CFG_GENERATION, 1);
  /* avail idx jumps far past the queue size */
  *(uint16_t *) (t.ram + t.q[0].avail + 2) = 1000;
  td_kick (&t, 0);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
  cr_assert_neq (td_read (&t, VIRTIO_PCI_CFG_GENERATION, 1), gen);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_ISR_OFF, 1) & 2, 2, "config change interrupt");
  /* Driver writes cannot clear NEEDS_RESET; only a reset does. */
  td_driver_ok (&t);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
  td_write (&t, VIRTIO_PCI_STATUS, 0, 1);
  cr_assert_eq (td_status (&t), 0);
}

Test (virtio_pci, status_reset_clears_everything)
{
  td_negotiate (&t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << FAKE_FEATURE));
  td_queue_enable (&t, 0, 16, 1);
  td_queue_enable (&t, 1, 32, 2);
  td_write (&t, VIRTIO_PCI_MSIX_CONFIG, 0, 2);
  td_driver_ok (&t);
  cr_assert_eq (t.h.ioeventfds_on, 2);
  unsigned resets = fd_->resets;

  td_write (&t, VIRTIO_PCI_STATUS, 0, 1);
  cr_assert_eq (td_status (&t), 0);
  cr_assert_eq (fd_->resets, resets + 1);
  cr_assert_eq (fd_->vdev.features, 0);
  cr_assert_eq (t.h.ioeventfds_on, 0);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_CONFIG, 2), VIRTIO_MSI_NO_VECTOR);
  for (unsigned q = 0; q < FAKE_QUEUES; q++)
    {
      td_write (&t, VIRTIO_PCI_Q_SELECT, q, 2);
      cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_ENABLE, 2), 0);
      cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_SIZE, 2), FAKE_QMAX);
      cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
      cr_assert_eq (td_read (&t, VIRTIO_PCI_Q_DESC, 8), 0);
      cr_assert (!virtq_ready (&fd_->vdev.vqs[q]));
    }
  td_write (&t, VIRTIO_PCI_GFSELECT, 0, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_GF, 4), 0);
}

Test (virtio_pci, device_config_window)
{
  td_write (&t, VIRTIO_PCI_DEVICE_OFF + 4, 0xdeadbeef, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_DEVICE_OFF + 4, 4), 0xdeadbeef);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_DEVICE_OFF + 6, 2), 0xdead);
  /* Past the end of device config: reads zero, writes go nowhere. */
  td_write (&t, VIRTIO_PCI_DEVICE_OFF + 6, 0x11111111, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_DEVICE_OFF + 6, 4), 0);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_DEVICE_OFF + 4, 4), 0xdeadbeef);
}

static void
msix_control (uint16_t bits)
{
  unsigned cap = fd_->vp.msix_cap;
  uint16_t ctl = cfg16 (cap + 2);
  ctl = (ctl & 0x3fff) | bits;
  /* What the bus does for a config write: apply, then tell the device. */
  memcpy (&fd_->vp.pci.config[cap + 2], &ctl, 2);
  fd_->vp.pci.ops->config_write (&fd_->vp.pci, cap + 2, (uint8_t *) &ctl, 2);
}

static void
msix_entry (unsigned v, uint64_t addr, uint32_t data, bool masked)
{
  uint64_t base = VIRTIO_PCI_MSIX_TABLE_OFF + 16 * v;
  td_write (&t, base, (uint32_t) addr, 4);
  td_write (&t, base + 4, addr >> 32, 4);
  td_write (&t, base + 8, data, 4);
  td_write (&t, base + 12, masked, 4);
}

static uint64_t
eventfd_count (int fd)
{
  uint64_t v = 0;
  if (fd < 0 || read (fd, &v, sizeof v) != sizeof v)
    return 0;
  return v;
}

Test (virtio_pci, msix_table_and_delivery)
{
  struct virtio_pci *vp = &fd_->vp;

  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_TABLE_OFF + 12, 4), 1, "entries start masked");
  msix_control (0x8000);
  cr_assert (vp->msix_enabled);
  msix_entry (1, 0xfee00000, 0x4041, false);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_TABLE_OFF + 16, 8), 0xfee00000);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_TABLE_OFF + 24, 4), 0x4041);
  /* Entries beyond the table are not there. */
  td_write (&t, VIRTIO_PCI_MSIX_TABLE_OFF + 16 * (FAKE_QUEUES + 1), 0x1234, 4);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_TABLE_OFF + 16 * (FAKE_QUEUES + 1), 4), 0);

  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 16, 1);
  td_driver_ok (&t);
  td_post (&t, 0, 8, true, NULL);
  td_kick (&t, 0);
  cr_assert_eq (t.h.irqfds, 1);
  cr_assert_eq (t.h.routes, 1);
  cr_assert_eq (t.h.route_addr, 0xfee00000);
  cr_assert_eq (t.h.route_data, 0x4041);
  cr_assert_eq (eventfd_count (vp->vec[1].fd), 1, "vector 1 fired");
  cr_assert_eq (t.h.line_changes, 0, "no INTx while MSI-X is on");

  /* Masked: latched in the PBA, delivered on unmask. */
  msix_entry (1, 0xfee00000, 0x4041, true);
  td_post (&t, 0, 8, true, NULL);
  td_kick (&t, 0);
  cr_assert_eq (eventfd_count (vp->vec[1].fd), 0);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_PBA_OFF, 8), 1u << 1);
  msix_entry (1, 0xfee01000, 0x4042, false);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
  cr_assert_eq (eventfd_count (vp->vec[1].fd), 1);
  cr_assert_eq (t.h.route_addr, 0xfee01000, "rerouted after the entry changed");

  /* Function mask works the same way. */
  msix_control (0x8000 | 0x4000);
  td_post (&t, 0, 8, true, NULL);
  td_kick (&t, 0);
  cr_assert_eq (eventfd_count (vp->vec[1].fd), 0);
  msix_control (0x8000);
  cr_assert_eq (eventfd_count (vp->vec[1].fd), 1);
}

Test (virtio_pci, notify_via_mmio_reaches_device)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 16, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
  unsigned before = fd_->notified[0];
  td_kick (&t, 0);
  cr_assert_eq (fd_->notified[0], before + 1);
  /* Kicking a queue that does not exist does nothing. */
  td_write (&t, VIRTIO_PCI_NOTIFY_OFF + 4 * 40, 40, 2);
  cr_assert_eq (iothread_run_once (&fd_->vp.io, 0), 0);
}

Test (virtio_pci, status_bits_cannot_be_cleared_to_reactivate)
{
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_driver_ok (&t);
  cr_assert_eq (fd_->activations, 1);
  td_write (&t, VIRTIO_PCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
  cr_assert (td_status (&t) & VIRTIO_STATUS_DRIVER_OK);
  td_driver_ok (&t);
  cr_assert_eq (fd_->activations, 1, "activation runs once per reset");
}

Test (virtio_pci, activate_failure_needs_reset)
{
  fd_->fail_activate = true;
  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_driver_ok (&t);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
}
