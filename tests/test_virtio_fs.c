/* The virtio-fs device (vmm/virtio_fs.c) on its PCI transport, driven
 * through BAR 0 like a guest driver would, with the real virtiofsd serving
 * the queues: FUSE_INIT round trips, interrupts, reset, back-end death. */
#include "tests/virtiofs_fixture.h"
#include "tests/watchdog.h"

/* ---- the virtio-fs device on its PCI transport, driven like a guest ---- */

struct irq_rec
{
  int level;
  int raises;
};

static int
fake_irq_line (void *ctx, uint32_t gsi, int level, hull_error_t *err)
{
  struct irq_rec *r = ctx;
  (void) gsi, (void) err;
  if (level && !r->level)
    r->raises++;
  r->level = level;
  return 0;
}

static void
bar_w (struct virtio_pci *vp, uint64_t off, uint64_t v, uint32_t len)
{
  virtio_pci_bar_write (vp, off, (const uint8_t *) &v, len);
}

static uint64_t
bar_r (struct virtio_pci *vp, uint64_t off, uint32_t len)
{
  uint64_t v = 0;
  virtio_pci_bar_read (vp, off, (uint8_t *) &v, len);
  return v;
}

static void
driver_queue (struct virtio_pci *vp, unsigned q, struct ring *r)
{
  bar_w (vp, VIRTIO_PCI_Q_SELECT, q, 2);
  bar_w (vp, VIRTIO_PCI_Q_SIZE, r->num, 2);
  bar_w (vp, VIRTIO_PCI_Q_DESC, r->desc, 8);
  bar_w (vp, VIRTIO_PCI_Q_AVAIL, r->avail, 8);
  bar_w (vp, VIRTIO_PCI_Q_USED, r->used, 8);
  bar_w (vp, VIRTIO_PCI_Q_ENABLE, 1, 2);
}

/* What a Linux driver does up to DRIVER_OK, with INTx (no MSI-X). */
static void
driver_bringup (struct virtio_pci *vp, struct ring *hiprio, struct ring *req)
{
  uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

  bar_w (vp, VIRTIO_PCI_STATUS, 0, 1);
  bar_w (vp, VIRTIO_PCI_STATUS, st, 1);
  bar_w (vp, VIRTIO_PCI_GFSELECT, 1, 4);
  bar_w (vp, VIRTIO_PCI_GF, 1, 4); /* VERSION_1 */
  st |= VIRTIO_STATUS_FEATURES_OK;
  bar_w (vp, VIRTIO_PCI_STATUS, st, 1);
  cr_assert (bar_r (vp, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
  driver_queue (vp, 0, hiprio);
  driver_queue (vp, 1, req);
  bar_w (vp, VIRTIO_PCI_STATUS, st | VIRTIO_STATUS_DRIVER_OK, 1);
  cr_assert_eq (bar_r (vp, VIRTIO_PCI_STATUS, 1), st | VIRTIO_STATUS_DRIVER_OK,
                "device refused to start");
}

static void
ring_clear (struct ring *r)
{
  memset (guest_mem_ptr (r->m, r->desc, 16ull * r->num), 0, 16ull * r->num);
  memset (guest_mem_ptr (r->m, r->avail, 6 + 2ull * r->num), 0, 6 + 2ull * r->num);
  memset (guest_mem_ptr (r->m, r->used, 6 + 8ull * r->num), 0, 6 + 8ull * r->num);
}

/* FUSE_INIT through the device: kick via the notify register, virtiofsd
 * answers, its call signal comes back as an INTx interrupt + ISR bit. */
static void
device_fuse_init (struct virtio_pci *vp, struct ring *req, struct irq_rec *irq)
{
  int raises = irq->raises;

  fuse_init_post (req);
  bar_w (vp, VIRTIO_PCI_NOTIFY_OFF + 1 * VIRTIO_PCI_NOTIFY_MULT, 1, 2);
  for (int i = 0; i < 100 && (ring_used_idx (req) == 0 || irq->raises == raises);
       i++)
    iothread_run_once (&vp->io, 50);
  fuse_init_check (req, 1);
  cr_assert_gt (irq->raises, raises, "no interrupt for the used buffer");
  cr_assert_eq (bar_r (vp, VIRTIO_PCI_ISR_OFF, 1) & 1, 1, "queue ISR bit");
}

static void
note_error_msg (void *opaque, const char *msg)
{
  atomic_int *n = opaque;
  (void) msg;
  atomic_fetch_add (n, 1);
}

Test (virtio_fs, device_serves_fuse_through_virtiofsd)
{
  test_watchdog (60);
  struct env e;
  struct virtiofsd d;
  struct guest_mem m;
  struct irq_rec irq = { 0 };
  struct virtio_pci_host host = { .ctx = &irq, .irq_line = fake_irq_line };
  struct virtio_fs *fs = NULL;
  struct virtio_pci *vp;
  hull_error_t err = NULL;
  atomic_int errors = 0;
  uint8_t cfg[40];
  uint32_t nreq;
  uint64_t f;
  pid_t pid;

  env_init (&e);
  start_ok (&d, &e);
  pid = d.pid;
  cr_assert_eq (guest_mem_create (&m, 4 << 20, &err), 0);
  cr_assert_eq (virtio_fs_new (&m, &host, "hullfs", e.sock, note_error_msg,
                               &errors, &fs, &err),
                0, "%s", hull_error_msg (&err));
  vp = virtio_fs_transport (fs);

  cr_assert_eq (vp->pci.config[2] | vp->pci.config[3] << 8, 0x105a);
  virtio_pci_bar_read (vp, VIRTIO_PCI_DEVICE_OFF, cfg, 36);
  virtio_pci_bar_read (vp, VIRTIO_PCI_DEVICE_OFF + 36, cfg + 36, 4);
  cr_assert_eq (memcmp (cfg, "hullfs\0\0", 8), 0);
  memcpy (&nreq, cfg + 36, 4);
  cr_assert_eq (nreq, 1);
  bar_w (vp, VIRTIO_PCI_DFSELECT, 0, 4);
  f = bar_r (vp, VIRTIO_PCI_DF, 4);
  bar_w (vp, VIRTIO_PCI_DFSELECT, 1, 4);
  f |= bar_r (vp, VIRTIO_PCI_DF, 4) << 32;
  cr_assert (f & (1ull << VIRTIO_F_VERSION_1), "features %#llx",
             (unsigned long long) f);
  cr_assert_eq (f & ((1ull << VHOST_USER_F_PROTOCOL_FEATURES)
                     | (1ull << VHOST_F_LOG_ALL) | 0xffffffull),
                0, "vhost/device bits leaked to the guest: %#llx",
                (unsigned long long) f);

  struct ring hi = { .m = &m, .desc = 0x1000, .avail = 0x1100,
                     .used = 0x1200, .buf = 0x20000, .num = 8 };
  struct ring req = { .m = &m, .desc = 0x2000, .avail = 0x2100,
                      .used = 0x2200, .buf = 0x10000, .num = 8 };
  driver_bringup (vp, &hi, &req);
  device_fuse_init (vp, &req, &irq);

  /* Reset (rings stopped in virtiofsd), then the driver starts over on
   * fresh rings, as after a guest reboot. */
  bar_w (vp, VIRTIO_PCI_STATUS, 0, 1);
  ring_clear (&hi);
  ring_clear (&req);
  driver_bringup (vp, &hi, &req);
  device_fuse_init (vp, &req, &irq);
  cr_assert_eq (atomic_load (&errors), 0);

  virtio_fs_destroy (fs);
  /* Closing the connection ends virtiofsd's session: it exits alone. */
  for (int i = 0; i < 200 && virtiofsd_running (&d); i++)
    usleep (5 * 1000);
  cr_assert_not (virtiofsd_running (&d), "virtiofsd still serving");
  virtiofsd_stop (&d);
  cr_assert (process_gone (pid));
  cr_assert_not (path_exists (e.sock));
  guest_mem_destroy (&m);
  env_fini (&e);
}

Test (virtio_fs, backend_death_reported_and_start_refused)
{
  test_watchdog (60);
  struct env e;
  struct virtiofsd d;
  struct guest_mem m;
  struct irq_rec irq = { 0 };
  struct virtio_pci_host host = { .ctx = &irq, .irq_line = fake_irq_line };
  struct virtio_fs *fs = NULL;
  struct virtio_pci *vp;
  hull_error_t err = NULL;
  atomic_int errors = 0;

  env_init (&e);
  start_ok (&d, &e);
  cr_assert_eq (guest_mem_create (&m, 4 << 20, &err), 0);
  cr_assert_eq (virtio_fs_new (&m, &host, "hullfs", e.sock, note_error_msg,
                               &errors, &fs, &err),
                0, "%s", hull_error_msg (&err));
  vp = virtio_fs_transport (fs);
  kill (d.pid, SIGKILL);
  for (int i = 0; i < 400 && atomic_load (&errors) == 0; i++)
    usleep (5 * 1000);
  cr_assert_eq (atomic_load (&errors), 1);

  struct ring hi = { .m = &m, .desc = 0x1000, .avail = 0x1100,
                     .used = 0x1200, .buf = 0x20000, .num = 8 };
  struct ring req = { .m = &m, .desc = 0x2000, .avail = 0x2100,
                      .used = 0x2200, .buf = 0x10000, .num = 8 };
  uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
               | VIRTIO_STATUS_FEATURES_OK;
  bar_w (vp, VIRTIO_PCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
  bar_w (vp, VIRTIO_PCI_GFSELECT, 1, 4);
  bar_w (vp, VIRTIO_PCI_GF, 1, 4);
  bar_w (vp, VIRTIO_PCI_STATUS, st, 1);
  driver_queue (vp, 0, &hi);
  driver_queue (vp, 1, &req);
  bar_w (vp, VIRTIO_PCI_STATUS, st | VIRTIO_STATUS_DRIVER_OK, 1);
  cr_assert (bar_r (vp, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
             "a device without back-end must not look started");
  virtio_fs_destroy (fs); /* no hang on the dead connection */
  virtiofsd_stop (&d);
  cr_assert_not (path_exists (e.sock));
  guest_mem_destroy (&m);
  env_fini (&e);
}

Test (virtio_fs, bad_tag_rejected)
{
  struct guest_mem m = { .memfd = -1 };
  struct virtio_pci_host host = { 0 };
  struct virtio_fs *fs = NULL;
  hull_error_t err = NULL;
  const char *tag = "0123456789012345678901234567890123456"; /* 37 bytes */

  cr_assert_lt (virtio_fs_new (&m, &host, tag, "/nonexistent.sock", NULL, NULL,
                               &fs, &err),
                0);
  cr_assert (strstr (hull_error_msg (&err), tag) != NULL, "%s",
             hull_error_msg (&err));
  hull_error_free (&err);
  cr_assert_lt (virtio_fs_new (&m, &host, "", "/nonexistent.sock", NULL, NULL,
                               &fs, &err),
                0);
  hull_error_free (&err);
}
