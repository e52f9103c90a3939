/* Split virtqueue processing.  See virtqueue.h for the trust model: nothing
 * read from guest memory is used before it is copied and checked. */
#include "vmm/virtqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AVAIL_IDX 1   /* uint16_t index of avail->idx */
#define AVAIL_RING 2  /* uint16_t index of avail->ring[0] */
#define USED_IDX_OFF 2
#define USED_RING_OFF 4

static int
ring_map (const struct guest_mem *mem, uint64_t gpa, uint64_t len,
          uint64_t align, const char *what, void **out, hull_error_t *err)
{
  if (gpa & (align - 1))
    return hull_error (err, EINVAL, "virtqueue %s address 0x%llx is not %llu-byte aligned",
                       what, (unsigned long long) gpa, (unsigned long long) align);
  *out = guest_mem_ptr (mem, gpa, len);
  if (*out == NULL)
    return hull_error (err, EFAULT, "virtqueue %s [0x%llx, +0x%llx) is outside guest RAM",
                       what, (unsigned long long) gpa, (unsigned long long) len);
  return 0;
}

int
virtq_setup (struct virtq *vq, const struct guest_mem *mem, uint16_t size,
             uint64_t desc, uint64_t avail, uint64_t used, bool event_idx,
             bool indirect, hull_error_t *err)
{
  void *d, *a, *u;

  virtq_reset (vq);
  if (size == 0 || (size & (size - 1)) != 0 || size > VIRTQ_MAX_SIZE)
    return hull_error (err, EINVAL, "virtqueue size %u is not a power of two <= %u",
                       size, VIRTQ_MAX_SIZE);
  /* Sizes include the event words, which the spec counts in every case. */
  if (ring_map (mem, desc, 16ULL * size, 16, "descriptor table", &d, err) < 0
      || ring_map (mem, avail, 6ULL + 2ULL * size, 2, "available ring", &a, err) < 0
      || ring_map (mem, used, 6ULL + 8ULL * size, 4, "used ring", &u, err) < 0)
    return -1;
  vq->scratch = calloc (size, sizeof *vq->scratch);
  if (vq->scratch == NULL)
    return hull_error (err, ENOMEM, "virtqueue scratch");
  vq->mem = mem;
  vq->desc = d;
  vq->avail = a;
  vq->used = u;
  vq->size = size;
  vq->event_idx = event_idx;
  vq->indirect = indirect;
  return 0;
}

void
virtq_reset (struct virtq *vq)
{
  free (vq->scratch);
  memset (vq, 0, sizeof *vq);
}

static int
virtq_fail (struct virtq *vq, enum virtq_error e)
{
  if (!vq->broken)
    {
      vq->broken = true;
      vq->error = e;
    }
  return -1;
}

static uint16_t
avail_idx_acquire (const struct virtq *vq)
{
  return __atomic_load_n (&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
}

/* State of one chain walk; kept apart so the walk reads as a loop. */
struct walk
{
  const struct virtq_desc *table;
  uint32_t table_size;
  uint32_t visited;   /* descriptors seen in the current table */
  bool in_indirect;
};

static int
walk_enter_indirect (struct virtq *vq, struct walk *w, const struct virtq_desc *d)
{
  if (!vq->indirect || w->in_indirect || (d->flags & VIRTQ_DESC_F_NEXT))
    return virtq_fail (vq, VIRTQ_ERR_INDIRECT);
  if (d->len == 0 || d->len % sizeof (struct virtq_desc) != 0
      || d->len / sizeof (struct virtq_desc) > vq->size)
    return virtq_fail (vq, VIRTQ_ERR_INDIRECT);
  w->table = guest_mem_ptr (vq->mem, d->addr, d->len);
  if (w->table == NULL)
    return virtq_fail (vq, VIRTQ_ERR_ADDR);
  w->table_size = d->len / sizeof (struct virtq_desc);
  w->visited = 0;
  w->in_indirect = true;
  return 0;
}

static int
elem_add (struct virtq *vq, struct virtq_elem *elem, const struct virtq_desc *d)
{
  void *p;
  bool writable = d->flags & VIRTQ_DESC_F_WRITE;

  if (d->len == 0)
    return 0; /* carries no data; nothing to map */
  p = guest_mem_ptr (vq->mem, d->addr, d->len);
  if (p == NULL)
    return virtq_fail (vq, VIRTQ_ERR_ADDR);
  if (!writable && elem->in_num > 0)
    return virtq_fail (vq, VIRTQ_ERR_ORDER);
  if (elem->out_num + elem->in_num >= vq->size)
    return virtq_fail (vq, VIRTQ_ERR_CHAIN_LEN);
  vq->scratch[elem->out_num + elem->in_num] = (struct iovec){ p, d->len };
  if (writable)
    {
      elem->in_num++;
      elem->in_len += d->len;
    }
  else
    {
      elem->out_num++;
      elem->out_len += d->len;
    }
  return 0;
}

static int
walk_chain (struct virtq *vq, uint16_t head, struct virtq_elem *elem)
{
  struct walk w = { vq->desc, vq->size, 0, false };
  uint32_t idx = head;

  for (;;)
    {
      struct virtq_desc d;

      /* Every table is at most vq->size entries, so this bounds loops. */
      if (++w.visited > w.table_size)
        return virtq_fail (vq, VIRTQ_ERR_CHAIN_LEN);
      memcpy (&d, (const void *) &w.table[idx], sizeof d);
      if (d.flags & VIRTQ_DESC_F_INDIRECT)
        {
          if (walk_enter_indirect (vq, &w, &d) < 0)
            return -1;
          idx = 0;
          continue;
        }
      if (elem_add (vq, elem, &d) < 0)
        return -1;
      if (!(d.flags & VIRTQ_DESC_F_NEXT))
        return 0;
      if (d.next >= w.table_size)
        return virtq_fail (vq, VIRTQ_ERR_NEXT);
      idx = d.next;
    }
}

int
virtq_pop (struct virtq *vq, struct virtq_elem *elem)
{
  uint16_t avail, head;

  if (!virtq_ready (vq))
    return vq->broken ? -1 : 0;
  avail = avail_idx_acquire (vq);
  if (avail == vq->last_avail)
    {
      /* Going idle: with EVENT_IDX the driver kicks only when avail_event
       * says we wait for the next buffer, so publish it and look again. */
      if (!vq->event_idx || !virtq_has_work (vq))
        return 0;
      avail = avail_idx_acquire (vq);
    }
  if ((uint16_t) (avail - vq->last_avail) > vq->size)
    return virtq_fail (vq, VIRTQ_ERR_AVAIL_IDX);
  head = __atomic_load_n (&vq->avail[AVAIL_RING + (vq->last_avail & (vq->size - 1))],
                          __ATOMIC_RELAXED);
  if (head >= vq->size)
    return virtq_fail (vq, VIRTQ_ERR_HEAD);
  memset (elem, 0, sizeof *elem);
  elem->head = head;
  elem->iov = vq->scratch;
  if (walk_chain (vq, head, elem) < 0)
    return -1;
  vq->last_avail++;
  return 1;
}

void
virtq_unpop (struct virtq *vq)
{
  vq->last_avail--;
}

void
virtq_fill (struct virtq *vq, const struct virtq_elem *elem, uint32_t len, uint16_t off)
{
  struct virtq_used_elem u;
  uint16_t slot;

  if (!virtq_ready (vq))
    return;
  if (elem->head >= vq->size || off >= vq->size)
    {
      virtq_fail (vq, VIRTQ_ERR_USED);
      return;
    }
  u.id = elem->head;
  u.len = len > elem->in_len ? (uint32_t) elem->in_len : len;
  slot = (uint16_t) (vq->used_idx + off) & (vq->size - 1);
  memcpy (vq->used + USED_RING_OFF + 8U * slot, &u, sizeof u);
}

void
virtq_flush (struct virtq *vq, uint16_t count)
{
  if (!virtq_ready (vq) || count > vq->size)
    return;
  vq->used_idx += count;
  /* The elements must be visible before the index that publishes them. */
  __atomic_store_n ((uint16_t *) (vq->used + USED_IDX_OFF), vq->used_idx,
                    __ATOMIC_RELEASE);
}

void
virtq_push (struct virtq *vq, const struct virtq_elem *elem, uint32_t len)
{
  virtq_fill (vq, elem, len, 0);
  virtq_flush (vq, 1);
}

void
virtq_push_many (struct virtq *vq, const struct virtq_elem *elems, const uint32_t *lens,
                 unsigned n)
{
  if (n > vq->size)
    {
      virtq_fail (vq, VIRTQ_ERR_USED);
      return;
    }
  for (unsigned i = 0; i < n; i++)
    virtq_fill (vq, &elems[i], lens[i], (uint16_t) i);
  virtq_flush (vq, (uint16_t) n);
}

bool
virtq_should_signal (struct virtq *vq)
{
  uint16_t old, event;

  if (vq->size == 0)
    return false;
  old = vq->signalled_used;
  /* Nothing completed since the last decision: nothing to tell. */
  if (old == vq->used_idx)
    return false;
  vq->signalled_used = vq->used_idx;
  /* Order our used idx store before reading the driver's suppression
   * fields (store->load needs a full fence). */
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (!vq->event_idx)
    return !(__atomic_load_n (&vq->avail[0], __ATOMIC_RELAXED)
             & VIRTQ_AVAIL_F_NO_INTERRUPT);
  event = __atomic_load_n (&vq->avail[AVAIL_RING + vq->size], __ATOMIC_RELAXED);
  /* Signal when used_event lies in (old, new]; wrapping arithmetic. */
  return (uint16_t) (vq->used_idx - event - 1) < (uint16_t) (vq->used_idx - old);
}

bool
virtq_has_work (struct virtq *vq)
{
  if (!virtq_ready (vq))
    return false;
  if (vq->event_idx)
    __atomic_store_n ((uint16_t *) (vq->used + USED_RING_OFF + 8U * vq->size),
                      vq->last_avail, __ATOMIC_RELAXED);
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  return avail_idx_acquire (vq) != vq->last_avail;
}

size_t
virtq_elem_read (const struct virtq_elem *elem, void *dst, size_t len)
{
  size_t done = 0;

  for (unsigned i = 0; i < elem->out_num && done < len; i++)
    {
      size_t n = elem->iov[i].iov_len;
      if (n > len - done)
        n = len - done;
      memcpy ((uint8_t *) dst + done, elem->iov[i].iov_base, n);
      done += n;
    }
  return done;
}

size_t
virtq_elem_write (const struct virtq_elem *elem, size_t skip, const void *src,
                  size_t len)
{
  size_t done = 0;

  for (unsigned i = elem->out_num; i < elem->out_num + elem->in_num && done < len; i++)
    {
      size_t n = elem->iov[i].iov_len;
      uint8_t *base = elem->iov[i].iov_base;
      if (skip >= n)
        {
          skip -= n;
          continue;
        }
      base += skip;
      n -= skip;
      skip = 0;
      if (n > len - done)
        n = len - done;
      memcpy (base, (const uint8_t *) src + done, n);
      done += n;
    }
  return done;
}

const char *
virtq_error_str (enum virtq_error e)
{
  switch (e)
    {
    case VIRTQ_OK: return "no error";
    case VIRTQ_ERR_AVAIL_IDX: return "available index jumped past the queue size";
    case VIRTQ_ERR_HEAD: return "chain head out of range";
    case VIRTQ_ERR_NEXT: return "descriptor next index out of range";
    case VIRTQ_ERR_CHAIN_LEN: return "descriptor chain longer than the queue (loop?)";
    case VIRTQ_ERR_ADDR: return "buffer outside guest RAM";
    case VIRTQ_ERR_INDIRECT: return "malformed indirect descriptor";
    case VIRTQ_ERR_ORDER: return "device-readable descriptor after a writable one";
    case VIRTQ_ERR_USED: return "completion of an unknown descriptor";
    }
  return "unknown";
}
