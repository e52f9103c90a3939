/* libFuzzer target for split-virtqueue processing (vmm/virtqueue.c), the
 * code that walks descriptor chains a hostile guest wrote.
 *
 * The input is a header and then a little program.  The header picks the
 * queue (size, EVENT_IDX, INDIRECT_DESC, ring addresses) and where the
 * second RAM region sits; the program plays both sides: the guest (write
 * descriptors, offer heads in the avail ring, scribble over any RAM,
 * including the rings, at any time) and the device, which calls the
 * virtqueue API in the patterns the device models use: pop and complete one
 * at a time (virtio-rng, virtio-console), pop then give back with unpop
 * (a full tap, an empty host pool), pop a group and complete it with one
 * push_many (virtio-net mergeable rx), has_work/should_signal around
 * sleeping.
 *
 * Guest RAM is two separately allocated regions of exact size, so ASan
 * reports any access outside them; every popped iovec is also checked to
 * lie inside one region (a buffer straddling two regions would let the
 * device touch host memory between them).  Termination: a drain loop on a
 * ring the guest does not touch meanwhile must stop within the queue size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtqueue.h"

#define CHECK(cond) \
  do \
    { \
      if (!(cond)) \
        abort (); \
    } \
  while (0)

#define R0_SIZE 0x4000u /* RAM region 0: gpa 0 */
#define R1_SIZE 0x2000u /* RAM region 1: gpa from the header */
#define MAX_QSIZE 256u  /* queues the fuzzer sets up (devices use <= 256) */
#define IO_MAX 0x8000u  /* device bounce buffer */

/* Where region 1 lives: right after region 0 (a chain may try to span
 * both), above 4 GiB as in real guests, or ending at the top of the 64-bit
 * space (address + length overflows). */
static const uint64_t r1_gpas[] = {
  R0_SIZE, 0x100000000ULL, 0x10000000000ULL, 0 - (uint64_t) R1_SIZE,
};

struct in
{
  const uint8_t *p;
  size_t n;
};

static uint8_t
in_u8 (struct in *in)
{
  uint8_t v = 0;
  if (in->n > 0)
    {
      v = *in->p++;
      in->n--;
    }
  return v;
}

static uint16_t
in_u16 (struct in *in)
{
  uint16_t lo = in_u8 (in);
  return (uint16_t) (lo | (uint16_t) in_u8 (in) << 8);
}

static uint32_t
in_u32 (struct in *in)
{
  uint32_t lo = in_u16 (in);
  return lo | (uint32_t) in_u16 (in) << 16;
}

/* Held, popped-but-unfinished chains, as virtio-net keeps a group. */
struct held
{
  struct virtq_elem v[MAX_QSIZE];
  uint32_t len[MAX_QSIZE];
  unsigned n;
};

struct fuzz
{
  struct guest_mem mem;
  uint8_t *r0, *r1;
  struct virtq vq;
  uint64_t desc, avail, used; /* ring gpas of the current setup */
  uint16_t size;
  uint16_t guest_avail_idx; /* the guest's shadow of avail->idx */
  struct held held;
  uint8_t io[IO_MAX];
};

/* A guest address: region 0 + off, region 1 + off, region 1 end - off, or
 * the top of the address space - off. */
static uint64_t
in_gpa (struct fuzz *f, struct in *in)
{
  uint8_t sel = in_u8 (in);
  uint16_t off = in_u16 (in);

  switch (sel & 3)
    {
    case 0: return off;
    case 1: return f->mem.regions[1].gpa + off;
    case 2: return f->mem.regions[1].gpa + R1_SIZE - off;
    default: return UINT64_MAX - off;
    }
}

/* The guest's own view of its RAM (NULL where there is none). */
static uint8_t *
guest_ptr (struct fuzz *f, uint64_t gpa, uint64_t len)
{
  return guest_mem_ptr (&f->mem, gpa, len);
}

static bool
inside (const uint8_t *base, size_t size, const void *p, size_t len)
{
  const uint8_t *q = p;
  return q >= base && q <= base + size && len <= (size_t) (base + size - q);
}

static void
check_elem (struct fuzz *f, const struct virtq_elem *e)
{
  uint64_t out = 0, inl = 0;

  CHECK (e->head < f->vq.size);
  CHECK (e->out_num + e->in_num <= f->vq.size);
  for (unsigned i = 0; i < e->out_num + e->in_num; i++)
    {
      const struct iovec *v = &e->iov[i];
      CHECK (v->iov_len > 0);
      CHECK (inside (f->r0, R0_SIZE, v->iov_base, v->iov_len)
             || inside (f->r1, R1_SIZE, v->iov_base, v->iov_len));
      if (i < e->out_num)
        out += v->iov_len;
      else
        inl += v->iov_len;
    }
  CHECK (out == e->out_len && inl == e->in_len);
}

static uint16_t
used_idx_in_ram (struct fuzz *f)
{
  uint16_t v;
  memcpy (&v, f->vq.used + 2, sizeof v);
  return v;
}

/* The device completed something: the used idx it published is its shadow,
 * and the element it wrote names an in-flight-sized length. */
static void
check_published (struct fuzz *f, uint16_t before, unsigned count)
{
  if (!virtq_ready (&f->vq))
    return;
  CHECK ((uint16_t) (f->vq.used_idx - before) == count);
  CHECK (used_idx_in_ram (f) == f->vq.used_idx);
}

static void
op_setup (struct fuzz *f, struct in *in)
{
  uint8_t b = in_u8 (in);
  hull_error_t err = NULL;
  uint16_t size = (b & 0x80) ? in_u16 (in) : (uint16_t) (1u << (b & 7));
  bool ok;

  f->desc = in_gpa (f, in);
  f->avail = in_gpa (f, in);
  f->used = in_gpa (f, in);
  f->held.n = 0;
  f->guest_avail_idx = 0;
  ok = virtq_setup (&f->vq, &f->mem, size, f->desc, f->avail, f->used, b & 0x10, b & 0x20,
                    &err)
       == 0;
  if (!ok)
    {
      CHECK (err != NULL && f->vq.size == 0);
      hull_error_free (&err);
      f->size = 0;
      return;
    }
  /* Setup promised: every ring lies inside RAM. */
  CHECK (guest_ptr (f, f->desc, 16ULL * size) == (void *) f->vq.desc);
  CHECK (guest_ptr (f, f->avail, 6ULL + 2ULL * size) == (void *) f->vq.avail);
  CHECK (guest_ptr (f, f->used, 6ULL + 8ULL * size) == (void *) f->vq.used);
  f->size = size;
}

/* Guest: write descriptor idx of the table at base (the main table when the
 * op says so, else anywhere: indirect tables). */
static void
op_desc (struct fuzz *f, struct in *in, bool main_table)
{
  uint64_t base = main_table ? f->desc : in_gpa (f, in);
  uint8_t idx = in_u8 (in);
  struct virtq_desc d;
  uint8_t *p;

  d.addr = in_gpa (f, in);
  d.len = in_u32 (in);
  if (!(d.len & 0x80000000u))
    d.len &= 0xffff; /* mostly small lengths, sometimes huge ones */
  d.flags = in_u8 (in) & 7;
  d.next = in_u16 (in);
  if (main_table && f->size)
    idx %= f->size;
  p = guest_ptr (f, base + 16ULL * idx, 16);
  if (p != NULL)
    memcpy (p, &d, sizeof d);
}

/* Guest: offer heads and publish them by bumping avail->idx. */
static void
op_offer (struct fuzz *f, struct in *in)
{
  unsigned n = in_u8 (in) % 9;
  uint16_t *ring;

  if (f->size == 0)
    return;
  ring = (uint16_t *) guest_ptr (f, f->avail, 6ULL + 2ULL * f->size);
  if (ring == NULL)
    return;
  for (unsigned i = 0; i < n; i++)
    {
      uint16_t h = in_u16 (in);
      /* Mostly valid heads so chains get walked; raw values sometimes. */
      if (!(h & 0x8000))
        h %= f->size;
      ring[2 + (uint16_t) (f->guest_avail_idx + i) % f->size] = h;
    }
  f->guest_avail_idx += n;
  __atomic_store_n (&ring[1], f->guest_avail_idx, __ATOMIC_RELEASE);
}

/* Guest: write arbitrary bytes anywhere (rings included). */
static void
op_scribble (struct fuzz *f, struct in *in)
{
  uint64_t gpa = in_gpa (f, in);
  unsigned len = in_u8 (in) % 33;
  uint8_t *p;

  if (len > in->n)
    len = in->n;
  p = len ? guest_ptr (f, gpa, len) : NULL;
  if (p != NULL)
    memcpy (p, in->p, len);
  in->p += len;
  in->n -= len;
}

/* Device: consume the out part and fill the in part of the element just
 * popped (its iov is valid until the next pop). */
static uint32_t
device_io (struct fuzz *f, const struct virtq_elem *e, struct in *in)
{
  size_t skip = in_u8 (in) % 16, want = in_u16 (in) % IO_MAX, r, w;

  check_elem (f, e);
  r = virtq_elem_read (e, f->io, want);
  CHECK (r == (e->out_len < want ? e->out_len : want));
  w = virtq_elem_write (e, skip, f->io, want);
  CHECK (w <= want && w + skip >= (e->in_len < skip + want ? e->in_len : skip + want));
  return (uint32_t) (w + skip);
}

static bool
overlaps (const void *a, size_t alen, const void *b, size_t blen)
{
  const uint8_t *x = a, *y = b;
  return x < y + blen && y < x + alen;
}

/* Can the device's own writes move avail->idx?  Only when the guest made
 * a writable buffer, or the used ring, cover it: then the guest keeps the
 * device busy on purpose, which it could do anyway by offering buffers
 * from another vCPU, and the drain bound below does not apply. */
static bool
avail_idx_aliased (struct fuzz *f, const struct virtq_elem *e)
{
  const void *idx = &f->vq.avail[1];

  if (overlaps (f->vq.used, 6 + 8U * f->vq.size, idx, 2))
    return true;
  for (unsigned i = e->out_num; i < e->out_num + e->in_num; i++)
    if (overlaps (e->iov[i].iov_base, e->iov[i].iov_len, idx, 2))
      return true;
  return false;
}

/* Device: pop and complete one chain at a time until the ring is empty,
 * as virtio-rng and virtio-net tx do. */
static void
op_drain (struct fuzz *f, struct in *in)
{
  struct virtq_elem e;
  unsigned popped = 0;
  bool aliased = false;
  int r;

  if (f->held.n > 0)
    return; /* devices finish a group before draining */
  while ((r = virtq_pop (&f->vq, &e)) == 1)
    {
      uint16_t before = f->vq.used_idx;
      uint32_t len;

      aliased = aliased || avail_idx_aliased (f, &e);
      len = device_io (f, &e, in);
      /* Nothing else changes avail->idx during this loop, so the ring
       * holds at most size chains: more means a walk that never ends. */
      ++popped;
      CHECK (aliased || popped <= f->vq.size);
      virtq_push (&f->vq, &e, len);
      if (!aliased)
        check_published (f, before, 1);
      if (popped >= (1u << 18))
        break;
    }
  CHECK (r != -1 || (f->vq.broken && f->vq.error != VIRTQ_OK));
  virtq_should_signal (&f->vq);
  virtq_has_work (&f->vq);
}

/* Device: pop one chain and keep it, as virtio-net builds an rx group. */
static void
op_hold (struct fuzz *f, struct in *in)
{
  struct virtq_elem e;
  int r;

  if (f->held.n >= f->vq.size || f->held.n >= MAX_QSIZE)
    return;
  r = virtq_pop (&f->vq, &e);
  if (r != 1)
    {
      CHECK (r == 0 || (r == -1 && f->vq.broken));
      return;
    }
  f->held.len[f->held.n] = device_io (f, &e, in);
  f->held.v[f->held.n++] = e; /* iov goes stale at the next pop: unused */
}

/* Device: complete the held group with one publication, one by one, or
 * through fill/flush. */
static void
op_complete (struct fuzz *f, struct in *in)
{
  uint8_t how = in_u8 (in) % 3;
  uint16_t before = f->vq.used_idx;
  unsigned n = f->held.n;

  if (n == 0)
    return;
  if (how == 0)
    virtq_push_many (&f->vq, f->held.v, f->held.len, n);
  else if (how == 1)
    for (unsigned i = 0; i < n; i++)
      virtq_push (&f->vq, &f->held.v[i], f->held.len[i]);
  else
    {
      for (unsigned i = 0; i < n; i++)
        virtq_fill (&f->vq, &f->held.v[i], f->held.len[i], (uint16_t) i);
      virtq_flush (&f->vq, (uint16_t) n);
    }
  check_published (f, before, n);
  /* Every used element is a held head with a clamped length. */
  if (virtq_ready (&f->vq))
    for (unsigned i = 0; i < n; i++)
      {
        struct virtq_used_elem u;
        uint16_t slot = (uint16_t) (before + i) & (f->vq.size - 1);
        memcpy (&u, f->vq.used + 4 + 8U * slot, sizeof u);
        CHECK (u.id == f->held.v[i].head && u.len <= f->held.v[i].in_len);
      }
  f->held.n = 0;
  virtq_should_signal (&f->vq);
}

/* Device: give the held chains back (host side had nothing after all). */
static void
op_unpop (struct fuzz *f)
{
  while (f->held.n > 0)
    {
      virtq_unpop (&f->vq);
      f->held.n--;
    }
}

static void
run (struct fuzz *f, struct in *in)
{
  /* Bounded: every op consumes at least one byte. */
  while (in->n > 0)
    {
      switch (in_u8 (in) % 10)
        {
        case 0: op_setup (f, in); break;
        case 1:
        case 2: op_desc (f, in, true); break;
        case 3: op_desc (f, in, false); break;
        case 4: op_offer (f, in); break;
        case 5: op_scribble (f, in); break;
        case 6: op_drain (f, in); break;
        case 7: op_hold (f, in); break;
        case 8: op_complete (f, in); break;
        default:
          if (in_u8 (in) & 1)
            op_unpop (f);
          else if (virtq_has_work (&f->vq))
            CHECK (virtq_ready (&f->vq));
          break;
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct in in = { data, size };
  struct fuzz *f = calloc (1, sizeof *f);

  if (f == NULL)
    return 0;
  f->r0 = calloc (1, R0_SIZE);
  f->r1 = calloc (1, R1_SIZE);
  if (f->r0 == NULL || f->r1 == NULL)
    goto out;
  /* Two regions as guest_mem_create lays them out, but backed by separate
   * heap blocks so nothing may run from one into the other. */
  f->mem.memfd = -1;
  f->mem.base = f->r0;
  f->mem.total = R0_SIZE + R1_SIZE;
  f->mem.nregions = 2;
  f->mem.regions[0] = (struct guest_region){ .gpa = 0, .size = R0_SIZE, .host = f->r0 };
  f->mem.regions[1] = (struct guest_region){
    .gpa = r1_gpas[in_u8 (&in) % (sizeof r1_gpas / sizeof r1_gpas[0])],
    .size = R1_SIZE,
    .host = f->r1,
    .fd_offset = R0_SIZE,
  };
  op_setup (f, &in);
  run (f, &in);
  virtq_reset (&f->vq);
out:
  free (f->r0);
  free (f->r1);
  free (f);
  return 0;
}
