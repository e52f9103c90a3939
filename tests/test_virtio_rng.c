/* virtio-rng against fake guest memory through the PCI transport. */
#include <criterion/criterion.h>

#include "tests/virtio_test_driver.h"
#include "vmm/virtio_rng.h"

static struct td t;
static struct virtio_rng *rng;

static void
setup (void)
{
  hull_error_t err = NULL;

  td_init (&t);
  cr_assert_eq (virtio_rng_new (&t.mem, &t.host, &rng, &err), 0, "%s", hull_error_msg (&err));
  t.vp = virtio_rng_transport (rng);
  t.vp->pci.bars[0].addr = 0xc0000000;
}

static void
teardown (void)
{
  virtio_rng_destroy (rng);
  td_fini (&t);
}

TestSuite (virtio_rng, .init = setup, .fini = teardown);

Test (virtio_rng, identity)
{
  uint16_t dev;
  memcpy (&dev, &t.vp->pci.config[2], 2);
  cr_assert_eq (dev, 0x1044);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_NUM_QUEUES, 2), 1);
}

static bool
all_zero (const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

Test (virtio_rng, fills_buffers)
{
  struct virtq_used_elem e;
  uint64_t a, b;

  cr_assert (td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
  td_queue_enable (&t, 0, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
  a = td_post (&t, 0, 64, true, NULL);
  b = td_post (&t, 0, 4096, true, NULL);
  td_kick (&t, 0);
  cr_assert (td_used_next (&t, 0, &e));
  cr_assert_eq (td_desc_addr (&t, 0, e.id), a);
  cr_assert_eq (e.len, 64);
  cr_assert (!all_zero (t.ram + a, 64));
  cr_assert (td_used_next (&t, 0, &e));
  cr_assert_eq (e.len, 4096);
  cr_assert (!all_zero (t.ram + b + 4032, 64), "the whole buffer is filled");
  cr_assert (!td_used_next (&t, 0, &e));
  cr_assert_eq (td_read (&t, VIRTIO_PCI_ISR_OFF, 1), 1, "interrupted");
}

Test (virtio_rng, read_only_buffer_gets_nothing)
{
  struct virtq_used_elem e;
  uint8_t zeros[32] = { 0 };
  uint64_t a;

  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
  a = td_post (&t, 0, 32, false, zeros);
  td_kick (&t, 0);
  cr_assert (td_used_next (&t, 0, &e));
  cr_assert_eq (e.len, 0);
  cr_assert (all_zero (t.ram + a, 32), "device-readable memory is not written");
}

Test (virtio_rng, hostile_ring_marks_needs_reset)
{
  struct virtq_desc d = { TD_RAM_SIZE - 8, 64, VIRTQ_DESC_F_WRITE, 0 };

  td_negotiate (&t, 1ULL << VIRTIO_F_VERSION_1);
  td_queue_enable (&t, 0, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
  td_post (&t, 0, 8, true, NULL);
  memcpy (t.ram + t.q[0].desc, &d, sizeof d); /* now points past RAM */
  td_kick (&t, 0);
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
  cr_assert_eq (td_used_idx (&t, 0), 0);
}
