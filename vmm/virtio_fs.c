/* virtio-fs device model on a vhost-user back-end (virtiofsd).
 *
 * hull never looks inside these queues (external_queues): at DRIVER_OK the
 * negotiated features and each enabled ring (size, VMM addresses of
 * desc/avail/used, kick = the queue's ioeventfd, call = the irqfd of its
 * MSI-X vector) are handed to virtiofsd; at reset the rings are stopped
 * with GET_VRING_BASE.  Without MSI-X there is no irqfd to hand over, so a
 * relay eventfd is given instead and the transport's iothread turns its
 * signals into INTx interrupts. */
#include "vmm/virtio_fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/vm.h"

struct virtio_fs_config
{
  char tag[VIRTIO_FS_TAG_LEN]; /* UTF-8, NUL padded, not NUL terminated */
  uint32_t num_request_queues;
} __attribute__ ((packed));

struct fs_queue
{
  struct virtio_fs *fs;
  bool started;                /* rings handed to the back-end */
  int relay_fd;                /* call eventfd when there is no irqfd */
  struct iothread_watch relay;
};

struct virtio_fs
{
  struct virtio_dev vdev;
  struct virtio_pci vp;
  struct vhost_user vu;
  struct virtio_fs_config cfg;
  struct fs_queue q[VIRTIO_FS_NUM_QUEUES];
  struct vm *vm;               /* NULL in unit tests */
  vhost_user_error_fn on_error;
  void *opaque;
};

/* Ring features are the back-end's business (it walks the rings), so the
 * guest is offered what the transport supports AND virtiofsd does.  No
 * device-specific bits: VIRTIO_FS_F_NOTIFICATION needs a queue virtiofsd
 * does not serve. */
#define FS_RING_FEATURES                                                       \
  ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC)             \
   | (1ULL << VIRTIO_F_EVENT_IDX))

static void
fs_config_read (struct virtio_dev *vdev, uint32_t offset, uint8_t *data,
                uint32_t len)
{
  struct virtio_fs *fs = vdev->priv;
  memcpy (data, (const uint8_t *) &fs->cfg + offset, len);
}

static void
fs_report (struct virtio_fs *fs, const char *what, hull_error_t *err)
{
  fprintf (stderr, "hull: virtio-fs `%.36s`: %s: %s\n", fs->cfg.tag, what,
           hull_error_msg (err));
  hull_error_free (err);
}

static void
relay_signalled (void *opaque, uint32_t events)
{
  struct fs_queue *fq = opaque;
  struct virtio_fs *fs = fq->fs;
  uint64_t cnt;

  (void) events;
  if (read (fq->relay_fd, &cnt, sizeof cnt) < 0)
    return;
  fs->vdev.tops->signal_queue (fs->vdev.transport, (unsigned) (fq - fs->q));
}

/* The eventfd virtiofsd writes to interrupt the guest for queue q. */
static int
call_fd_for (struct virtio_fs *fs, unsigned q, hull_error_t *err)
{
  struct fs_queue *fq = &fs->q[q];
  int fd = virtio_dev_call_fd (&fs->vdev, q);

  if (fd >= 0)
    return fd;
  if (fq->relay_fd < 0)
    {
      fq->relay_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fq->relay_fd < 0)
        return hull_error (err, errno, "queue %u: relay eventfd", q);
      fq->relay = (struct iothread_watch){ .fd = fq->relay_fd,
                                           .cb = relay_signalled, .opaque = fq };
    }
  if (iothread_watch (fs->vdev.io, &fq->relay, EPOLLIN, err) < 0)
    return -1;
  return fq->relay_fd;
}

static int
queue_start (struct virtio_fs *fs, unsigned q, hull_error_t *err)
{
  const struct virtq *vq = &fs->vdev.vqs[q];
  int call = call_fd_for (fs, q, err);
  int kick = virtio_dev_kick_fd (&fs->vdev, q);

  if (call < 0)
    return -1;
  if (kick < 0)
    return hull_error (err, EINVAL, "queue %u has no kick eventfd", q);
  /* Mark first: a half-configured ring must still be stopped at reset. */
  fs->q[q].started = true;
  if (vhost_user_set_vring_num (&fs->vu, q, vq->size, err) < 0
      || vhost_user_set_vring_base (&fs->vu, q, vq->last_avail, err) < 0
      || vhost_user_set_vring_addr (&fs->vu, q, (uintptr_t) vq->desc,
                                    (uintptr_t) vq->avail,
                                    (uintptr_t) vq->used, err)
             < 0
      || vhost_user_set_vring_call (&fs->vu, q, call, err) < 0
      || vhost_user_set_vring_kick (&fs->vu, q, kick, err) < 0
      || vhost_user_set_vring_enable (&fs->vu, q, true, err) < 0)
    return hull_error_prefix (err, "queue %u", q);
  return 0;
}

static int
fs_activate (struct virtio_dev *vdev)
{
  struct virtio_fs *fs = vdev->priv;
  hull_error_t err = NULL;

  if (vhost_user_set_features (&fs->vu, vdev->features, &err) < 0)
    {
      fs_report (fs, "start", &err);
      return -1;
    }
  for (unsigned q = 0; q < vdev->num_queues; q++)
    {
      if (!virtq_ready (&vdev->vqs[q]))
        continue;
      if (queue_start (fs, q, &err) < 0)
        {
          fs_report (fs, "start", &err);
          return -1;
        }
    }
  return 0;
}

static void
fs_reset (struct virtio_dev *vdev)
{
  struct virtio_fs *fs = vdev->priv;
  hull_error_t err = NULL;
  uint32_t base;

  for (unsigned q = 0; q < VIRTIO_FS_NUM_QUEUES; q++)
    {
      struct fs_queue *fq = &fs->q[q];
      /* GET_VRING_BASE stops the ring: virtiofsd must not touch guest
       * memory the driver is about to reuse.  A dead back-end has
       * nothing left to stop. */
      if (fq->started && !vhost_user_is_dead (&fs->vu)
          && vhost_user_get_vring_base (&fs->vu, q, &base, &err) < 0)
        fs_report (fs, "stop", &err);
      fq->started = false;
      iothread_unwatch (vdev->io, &fq->relay);
      if (fq->relay_fd >= 0)
        close (fq->relay_fd);
      fq->relay_fd = -1;
    }
}

static void
fs_queue_notify (struct virtio_dev *vdev, unsigned q)
{
  /* Never called: external_queues keeps the kicks away from hull. */
  (void) vdev, (void) q;
}

static const struct virtio_dev_ops fs_ops = {
  .name = "virtio-fs",
  .device_id = VIRTIO_ID_FS,
  .pci_class = 0x018000, /* mass storage, other */
  .features = 0,
  .config_size = sizeof (struct virtio_fs_config),
  .config_read = fs_config_read,
  .activate = fs_activate,
  .queue_notify = fs_queue_notify,
  .reset = fs_reset,
  .external_queues = true,
};

static void
fs_backend_lost (void *opaque, const char *msg)
{
  struct virtio_fs *fs = opaque;

  if (fs->on_error != NULL)
    fs->on_error (fs->opaque, msg);
  if (fs->vm != NULL)
    vm_request_exit (fs->vm, VM_EXIT_ERROR, "virtio-fs `%.36s`: %s",
                     fs->cfg.tag, msg);
}

/* Connect, negotiate, share RAM, watch for the back-end going away. */
static int
fs_backend_open (struct virtio_fs *fs, const struct guest_mem *mem,
                 const char *socket_path, hull_error_t *err)
{
  uint64_t nqueues;

  if (vhost_user_connect (&fs->vu, socket_path, VIRTIO_FS_CONNECT_TIMEOUT_MS,
                          err)
      < 0)
    return -1;
  vhost_user_set_error_cb (&fs->vu, fs_backend_lost, fs);
  if (vhost_user_handshake (&fs->vu, 1ULL << VHOST_USER_PROTOCOL_F_MQ, err) < 0)
    return -1;
  if (!(fs->vu.backend_features & (1ULL << VIRTIO_F_VERSION_1)))
    return hull_error (err, ENOTSUP,
                       "vhost-user `%s`: back-end does not offer VIRTIO 1",
                       socket_path);
  if (fs->vu.protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_MQ))
    {
      if (vhost_user_get_queue_num (&fs->vu, &nqueues, err) < 0)
        return -1;
      if (nqueues < VIRTIO_FS_NUM_QUEUES)
        return hull_error (err, ENOTSUP,
                           "vhost-user `%s`: back-end serves %llu queues, "
                           "virtio-fs needs %d",
                           socket_path, (unsigned long long) nqueues,
                           VIRTIO_FS_NUM_QUEUES);
    }
  if (vhost_user_set_mem_table (&fs->vu, mem, err) < 0)
    return -1;
  return vhost_user_monitor_start (&fs->vu, err);
}

static int
fs_set_tag (struct virtio_fs *fs, const char *tag, hull_error_t *err)
{
  size_t len = tag ? strlen (tag) : 0;

  if (len == 0 || len > VIRTIO_FS_TAG_LEN)
    return hull_error (err, EINVAL,
                       "virtio-fs tag `%s` must be 1 to %d bytes",
                       tag ? tag : "", VIRTIO_FS_TAG_LEN);
  memset (fs->cfg.tag, 0, sizeof (fs->cfg.tag));
  memcpy (fs->cfg.tag, tag, len);
  fs->cfg.num_request_queues = VIRTIO_FS_NUM_QUEUES - 1;
  return 0;
}

static void
fs_free (struct virtio_fs *fs)
{
  virtio_pci_destroy (&fs->vp); /* resets: stops rings while connected */
  vhost_user_close (&fs->vu);
  free (fs);
}

static int
fs_new (struct vm *vm, const struct guest_mem *mem,
        const struct virtio_pci_host *host, const char *tag,
        const char *socket_path, vhost_user_error_fn on_error, void *opaque,
        struct virtio_fs **out, hull_error_t *err)
{
  struct virtio_fs *fs = calloc (1, sizeof *fs);

  if (fs == NULL)
    return hull_error (err, ENOMEM, "virtio-fs");
  fs->vm = vm;
  fs->vu.fd = -1;
  fs->vu.monitor_stop = -1;
  fs->on_error = on_error;
  fs->opaque = opaque;
  for (unsigned q = 0; q < VIRTIO_FS_NUM_QUEUES; q++)
    fs->q[q] = (struct fs_queue){ .fs = fs, .relay_fd = -1 };
  if (fs_set_tag (fs, tag, err) < 0
      || fs_backend_open (fs, mem, socket_path, err) < 0)
    {
      vhost_user_close (&fs->vu);
      free (fs);
      return hull_error_prefix (err, "virtio-fs `%s`", tag ? tag : "");
    }
  fs->vdev = (struct virtio_dev){ .ops = &fs_ops, .priv = fs,
                                  .num_queues = VIRTIO_FS_NUM_QUEUES,
                                  .queue_max_size = VIRTIO_FS_QUEUE_SIZE,
                                  .mem = mem };
  if (virtio_pci_init (&fs->vp, &fs->vdev, host, err) < 0)
    {
      vhost_user_close (&fs->vu);
      free (fs);
      return -1;
    }
  /* Offer only the ring features virtiofsd implements (see FS_RING_FEATURES;
   * the transport adds its own set at init). */
  fs->vp.offered &= fs->vu.backend_features & (FS_RING_FEATURES | fs_ops.features);
  *out = fs;
  return 0;
}

int
virtio_fs_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
               const char *tag, const char *socket_path,
               vhost_user_error_fn on_error, void *opaque,
               struct virtio_fs **out, hull_error_t *err)
{
  return fs_new (NULL, mem, host, tag, socket_path, on_error, opaque, out,
                 err);
}

struct virtio_pci *
virtio_fs_transport (struct virtio_fs *fs)
{
  return &fs->vp;
}

int
virtio_fs_create (struct vm *vm, const char *tag, const char *socket_path,
                  struct virtio_fs **out, hull_error_t *err)
{
  struct virtio_pci_host host;
  struct virtio_fs *fs;

  virtio_pci_host_vm (&host, vm);
  if (fs_new (vm, &vm->mem, &host, tag, socket_path, NULL, NULL, &fs, err) < 0)
    return -1;
  if (virtio_pci_add (&fs->vp, &vm->pci, err) < 0)
    {
      fs_free (fs);
      return -1;
    }
  *out = fs;
  return 0;
}

void
virtio_fs_destroy (struct virtio_fs *fs)
{
  if (fs != NULL)
    fs_free (fs);
}
