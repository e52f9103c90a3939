/* Split virtqueues (virtio 1.2 section 2.7), device side.
 *
 * The guest owns the rings and every byte in them may change under us or be
 * hostile: each descriptor is copied once, then checked (address range via
 * guest_mem_ptr, next index, chain length, indirect tables) before anything
 * uses it.  A queue that sees a malformed ring marks itself broken and stops
 * returning work; the transport then reports DEVICE_NEEDS_RESET. */
#ifndef HULL_VMM_VIRTQUEUE_H
#define HULL_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

#define VIRTQ_MAX_SIZE 32768

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Guest-visible ring layouts (little endian; hull only runs on x86). */
struct virtq_desc
{
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
} __attribute__ ((packed));

struct virtq_used_elem
{
  uint32_t id;
  uint32_t len;
} __attribute__ ((packed));

/* Why a queue broke; tests check this, logs print it. */
enum virtq_error
{
  VIRTQ_OK = 0,
  VIRTQ_ERR_AVAIL_IDX,   /* avail idx moved more than the queue size */
  VIRTQ_ERR_HEAD,        /* head index >= queue size */
  VIRTQ_ERR_NEXT,        /* next index out of range */
  VIRTQ_ERR_CHAIN_LEN,   /* longer than the queue size: loop or abuse */
  VIRTQ_ERR_ADDR,        /* buffer not inside guest RAM (incl. overflow) */
  VIRTQ_ERR_INDIRECT,    /* bad indirect table (size, nesting, flags) */
  VIRTQ_ERR_ORDER,       /* device-readable after device-writable */
  VIRTQ_ERR_USED,        /* completion of an id that is not in flight */
};

/* One popped descriptor chain: out = device-readable, in = device-writable.
 * iov points into the queue's own scratch array, so a queue has at most one
 * popped-but-unpushed element whose iov is valid (devices process one at a
 * time per queue). */
struct virtq_elem
{
  uint16_t head;
  unsigned out_num, in_num; /* iov[0..out_num) out, then in_num in */
  uint64_t out_len, in_len; /* byte totals */
  struct iovec *iov;
};

struct virtq
{
  const struct guest_mem *mem;
  uint16_t size;                 /* 0 = not set up */
  bool event_idx;                /* VIRTIO_F_EVENT_IDX negotiated */
  bool indirect;                 /* VIRTIO_F_INDIRECT_DESC negotiated */
  bool broken;
  enum virtq_error error;

  struct virtq_desc *desc;       /* host pointers, validated at setup */
  uint16_t *avail;               /* flags, idx, ring[size], used_event */
  uint8_t *used;                 /* flags, idx, ring[size], avail_event */

  uint16_t last_avail;           /* next avail ring slot we consume */
  uint16_t used_idx;             /* our shadow of used->idx */
  uint16_t signalled_used;       /* used idx at the last signal decision */

  struct iovec *scratch;         /* size entries, backs virtq_elem.iov */
};

/* Validate and map a queue of size entries at the three guest addresses.
 * size must be a power of two <= VIRTQ_MAX_SIZE; rings must be aligned as
 * the spec requires and lie in RAM.  Returns a negative value with *err
 * naming the problem. */
int virtq_setup (struct virtq *vq, const struct guest_mem *mem, uint16_t size,
                 uint64_t desc, uint64_t avail, uint64_t used, bool event_idx,
                 bool indirect, hull_error_t *err);
/* Forget the queue (reset); safe on a zeroed or already reset queue. */
void virtq_reset (struct virtq *vq);
static inline bool
virtq_ready (const struct virtq *vq)
{
  return vq->size != 0 && !vq->broken;
}

/* 1 with *elem filled, 0 when the guest offered nothing (with EVENT_IDX
 * this also asks the driver to kick on its next buffer), -1 when the ring
 * is malformed (the queue is then broken and stays so until reset). */
int virtq_pop (struct virtq *vq, struct virtq_elem *elem);
/* Give back the most recently popped element unused (e.g. the host fd had
 * nothing to read after all). */
void virtq_unpop (struct virtq *vq);
/* Complete a chain: len is the number of bytes written into its in part
 * (clamped to in_len).  Publishes the used idx with release semantics. */
void virtq_push (struct virtq *vq, const struct virtq_elem *elem, uint32_t len);
/* Complete n chains with one used idx publication, so the driver never
 * sees part of a group (virtio-net mergeable rx buffers: the first buffer's
 * header announces how many follow).  Only head and in_len of each element
 * are used, so copies of popped elements whose iov went stale are fine. */
void virtq_push_many (struct virtq *vq, const struct virtq_elem *elems,
                      const uint32_t *lens, unsigned n);
/* Batched completion (e.g. one packet over several merged rx buffers, which
 * the driver must see all at once): fill slot used_idx + off for each,
 * then publish count of them with one virtq_flush. */
void virtq_fill (struct virtq *vq, const struct virtq_elem *elem, uint32_t len,
                 uint16_t off);
void virtq_flush (struct virtq *vq, uint16_t count);
/* After one or more pushes: does the driver want an interrupt? */
bool virtq_should_signal (struct virtq *vq);
/* Before sleeping: tell the driver where we stopped (EVENT_IDX) and
 * return true if more buffers arrived meanwhile. */
bool virtq_has_work (struct virtq *vq);

/* Copy helpers over an element's iov. */
size_t virtq_elem_read (const struct virtq_elem *elem, void *dst, size_t len);
size_t virtq_elem_write (const struct virtq_elem *elem, size_t skip,
                         const void *src, size_t len);
const char *virtq_error_str (enum virtq_error e);

#endif
