/* virtio-rng: one request queue; each device-writable buffer the guest
 * posts is filled with random bytes. */
#include "vmm/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "vmm/vm.h"

#define RNG_QUEUE_SIZE 256
/* Per request: the guest asks for small amounts; a huge buffer still gets
 * a bounded answer (the spec lets us return fewer bytes). */
#define RNG_MAX_BYTES 65536

struct virtio_rng
{
  struct virtio_dev vdev;
  struct virtio_pci vp;
};

static void
rng_config_read (struct virtio_dev *vdev, uint32_t offset, uint8_t *data, uint32_t len)
{
  (void) vdev, (void) offset, (void) data, (void) len; /* no config space */
}

static int
rng_activate (struct virtio_dev *vdev)
{
  (void) vdev;
  return 0;
}

static void
rng_reset (struct virtio_dev *vdev)
{
  (void) vdev; /* no state beyond the queue */
}

/* Fill the in part of elem; returns bytes written or -1 (entropy not
 * available right now). */
static ssize_t
rng_fill (const struct virtq_elem *elem)
{
  size_t done = 0;

  for (unsigned i = elem->out_num; i < elem->out_num + elem->in_num; i++)
    {
      size_t want = elem->iov[i].iov_len;
      if (want > RNG_MAX_BYTES - done)
        want = RNG_MAX_BYTES - done;
      if (want == 0)
        break;
      ssize_t n = getrandom (elem->iov[i].iov_base, want, GRND_NONBLOCK);
      if (n < 0)
        return done > 0 ? (ssize_t) done : -1;
      done += n;
      if ((size_t) n < want)
        break;
    }
  return done;
}

static void
rng_queue_notify (struct virtio_dev *vdev, unsigned q)
{
  struct virtq_elem elem;
  bool starved = false;

  do
    {
      while (!starved && virtio_dev_pop (vdev, q, &elem) == 1)
        {
          ssize_t n = rng_fill (&elem);
          if (n < 0)
            {
              /* Host pool not ready (only ever at host boot): leave the
               * buffer for the next kick. */
              virtq_unpop (&vdev->vqs[q]);
              starved = true;
              break;
            }
          virtq_push (&vdev->vqs[q], &elem, n);
        }
      virtio_dev_notify_used (vdev, q);
    }
  /* Re-check after publishing avail_event so a buffer posted meanwhile is
   * not left waiting for a kick the driver thinks it need not send. */
  while (!starved && virtq_has_work (&vdev->vqs[q]));
}

static const struct virtio_dev_ops rng_ops = {
  .name = "virtio-rng",
  .device_id = VIRTIO_ID_RNG,
  .pci_class = 0xff0000, /* unclassified device */
  .features = 0,
  .config_size = 0,
  .config_read = rng_config_read,
  .activate = rng_activate,
  .queue_notify = rng_queue_notify,
  .reset = rng_reset,
};

int
virtio_rng_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                struct virtio_rng **out, hull_error_t *err)
{
  struct virtio_rng *r = calloc (1, sizeof *r);

  if (r == NULL)
    return hull_error (err, ENOMEM, "virtio-rng");
  r->vdev = (struct virtio_dev){ .ops = &rng_ops, .priv = r, .num_queues = 1,
                                 .queue_max_size = RNG_QUEUE_SIZE, .mem = mem };
  if (virtio_pci_init (&r->vp, &r->vdev, host, err) < 0)
    {
      free (r);
      return -1;
    }
  *out = r;
  return 0;
}

struct virtio_pci *
virtio_rng_transport (struct virtio_rng *r)
{
  return &r->vp;
}

int
virtio_rng_create (struct vm *vm, struct virtio_rng **out, hull_error_t *err)
{
  struct virtio_pci_host host;
  struct virtio_rng *r;

  virtio_pci_host_vm (&host, vm);
  if (virtio_rng_new (&vm->mem, &host, &r, err) < 0)
    return -1;
  if (virtio_pci_add (&r->vp, &vm->pci, err) < 0)
    {
      virtio_rng_destroy (r);
      return -1;
    }
  *out = r;
  return 0;
}

void
virtio_rng_destroy (struct virtio_rng *r)
{
  if (r == NULL)
    return;
  virtio_pci_destroy (&r->vp);
  free (r);
}
