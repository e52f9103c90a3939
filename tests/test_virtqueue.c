/* Split virtqueue processing against fake guest memory: well-formed chains
 * and every kind of malformed ring a hostile guest can build. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/virtqueue.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 16
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define DATA_GPA 0x10000

struct fx
{
  uint8_t *ram;
  struct guest_mem mem;
  struct virtq vq;
};

static struct fx *
fx_new (bool event_idx, bool indirect)
{
  struct fx *f = calloc (1, sizeof *f);
  hull_error_t err = NULL;

  f->ram = aligned_alloc (4096, MEM_SIZE);
  memset (f->ram, 0, MEM_SIZE);
  guest_mem_init_fake (&f->mem, f->ram, MEM_SIZE);
  cr_assert_eq (virtq_setup (&f->vq, &f->mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA,
                             event_idx, indirect, &err), 0, "%s", hull_error_msg (&err));
  return f;
}

static void
fx_free (struct fx *f)
{
  virtq_reset (&f->vq);
  free (f->ram);
  free (f);
}

static void
desc_at (struct fx *f, uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len,
         uint16_t flags, uint16_t next)
{
  struct virtq_desc d = { addr, len, flags, next };
  memcpy (f->ram + table_gpa + 16 * i, &d, sizeof d);
}

static void
desc (struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
  desc_at (f, DESC_GPA, i, addr, len, flags, next);
}

static uint16_t *
avail_u16 (struct fx *f, unsigned i)
{
  return (uint16_t *) (f->ram + AVAIL_GPA) + i;
}

static void
offer (struct fx *f, uint16_t head)
{
  uint16_t idx = *avail_u16 (f, 1);
  *avail_u16 (f, 2 + idx % QSIZE) = head;
  *avail_u16 (f, 1) = idx + 1;
}

static uint16_t
used_idx (struct fx *f)
{
  uint16_t v;
  memcpy (&v, f->ram + USED_GPA + 2, 2);
  return v;
}

static struct virtq_used_elem
used_elem (struct fx *f, unsigned slot)
{
  struct virtq_used_elem e;
  memcpy (&e, f->ram + USED_GPA + 4 + 8 * slot, sizeof e);
  return e;
}

/* Expect the next pop to fail with e and the queue to stay broken. */
static void
expect_broken (struct fx *f, enum virtq_error e)
{
  struct virtq_elem elem;
  cr_assert_eq (virtq_pop (&f->vq, &elem), -1);
  cr_assert_eq (f->vq.error, e, "error %d (%s), wanted %d", f->vq.error,
                virtq_error_str (f->vq.error), e);
  cr_assert (f->vq.broken);
  cr_assert_eq (virtq_pop (&f->vq, &elem), -1, "a broken queue stays broken");
}

Test (virtqueue, empty_queue_pops_nothing)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;
  cr_assert_eq (virtq_pop (&f->vq, &elem), 0);
  cr_assert (!virtq_has_work (&f->vq));
  fx_free (f);
}

Test (virtqueue, simple_chain_read_write_split)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  desc (f, 3, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 7);
  desc (f, 7, DATA_GPA + 100, 20, VIRTQ_DESC_F_NEXT, 1);
  desc (f, 1, DATA_GPA + 200, 30, VIRTQ_DESC_F_WRITE, 0);
  memcpy (f->ram + DATA_GPA, "0123456789", 10);
  offer (f, 3);
  cr_assert (virtq_has_work (&f->vq));
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  cr_assert_eq (elem.head, 3);
  cr_assert_eq (elem.out_num, 2);
  cr_assert_eq (elem.in_num, 1);
  cr_assert_eq (elem.out_len, 30);
  cr_assert_eq (elem.in_len, 30);
  cr_assert_eq (elem.iov[0].iov_base, f->ram + DATA_GPA);
  cr_assert_eq (elem.iov[1].iov_base, f->ram + DATA_GPA + 100);
  cr_assert_eq (elem.iov[2].iov_base, f->ram + DATA_GPA + 200);

  char buf[12] = { 0 };
  cr_assert_eq (virtq_elem_read (&elem, buf, 4), 4);
  cr_assert_str_eq (buf, "0123");
  cr_assert_eq (virtq_elem_write (&elem, 2, "abc", 3), 3);
  cr_assert_eq (memcmp (f->ram + DATA_GPA + 202, "abc", 3), 0);

  virtq_push (&f->vq, &elem, 5);
  cr_assert_eq (used_idx (f), 1);
  cr_assert_eq (used_elem (f, 0).id, 3);
  cr_assert_eq (used_elem (f, 0).len, 5);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 0);
  fx_free (f);
}

Test (virtqueue, used_len_clamped_and_ring_wraps)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  desc (f, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
  for (unsigned i = 0; i < 3 * QSIZE + 1; i++)
    {
      offer (f, 0);
      cr_assert_eq (virtq_pop (&f->vq, &elem), 1, "round %u", i);
      virtq_push (&f->vq, &elem, 1000);
    }
  cr_assert_eq (used_idx (f), 3 * QSIZE + 1);
  cr_assert_eq (used_elem (f, 0).len, 8, "len clamps to the writable size");
  fx_free (f);
}

Test (virtqueue, unpop_returns_the_element)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  desc (f, 2, DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 2);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  virtq_unpop (&f->vq);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  cr_assert_eq (elem.head, 2);
  fx_free (f);
}

Test (virtqueue, indirect_table)
{
  struct fx *f = fx_new (false, true);
  struct virtq_elem elem;
  const uint64_t table = 0x8000;

  desc_at (f, table, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
  desc_at (f, table, 2, DATA_GPA + 64, 32, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  desc_at (f, table, 1, DATA_GPA + 128, 48, VIRTQ_DESC_F_WRITE, 0);
  desc (f, 5, DATA_GPA - 0x100, 16, VIRTQ_DESC_F_NEXT, 6);
  desc (f, 6, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 5);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  cr_assert_eq (elem.out_num, 2);
  cr_assert_eq (elem.in_num, 2);
  cr_assert_eq (elem.in_len, 80);
  cr_assert_eq (elem.iov[1].iov_base, f->ram + DATA_GPA);
  cr_assert_eq (elem.iov[3].iov_base, f->ram + DATA_GPA + 128);
  fx_free (f);
}

Test (virtqueue, indirect_refused_unless_negotiated)
{
  struct fx *f = fx_new (false, false);
  desc_at (f, 0x8000, 0, DATA_GPA, 16, 0, 0);
  desc (f, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_INDIRECT);
  fx_free (f);
}

Test (virtqueue, indirect_bad_sizes)
{
  static const uint32_t lens[] = { 0, 15, 17, 16 * (QSIZE + 1) };
  for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++)
    {
      struct fx *f = fx_new (false, true);
      desc (f, 0, 0x8000, lens[i], VIRTQ_DESC_F_INDIRECT, 0);
      offer (f, 0);
      expect_broken (f, VIRTQ_ERR_INDIRECT);
      fx_free (f);
    }
}

Test (virtqueue, indirect_with_next_flag)
{
  struct fx *f = fx_new (false, true);
  desc_at (f, 0x8000, 0, DATA_GPA, 16, 0, 0);
  desc (f, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
  desc (f, 1, DATA_GPA, 16, 0, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_INDIRECT);
  fx_free (f);
}

Test (virtqueue, nested_indirect)
{
  struct fx *f = fx_new (false, true);
  desc_at (f, 0x8000, 0, 0x9000, 16, VIRTQ_DESC_F_INDIRECT, 0);
  desc_at (f, 0x9000, 0, DATA_GPA, 16, 0, 0);
  desc (f, 0, 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_INDIRECT);
  fx_free (f);
}

Test (virtqueue, indirect_table_outside_ram)
{
  struct fx *f = fx_new (false, true);
  desc (f, 0, MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ADDR);
  fx_free (f);
}

Test (virtqueue, indirect_loop)
{
  struct fx *f = fx_new (false, true);
  desc_at (f, 0x8000, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
  desc_at (f, 0x8000, 1, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
  desc (f, 0, 0x8000, 32, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_CHAIN_LEN);
  fx_free (f);
}

Test (virtqueue, indirect_next_out_of_table)
{
  struct fx *f = fx_new (false, true);
  desc_at (f, 0x8000, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
  desc (f, 0, 0x8000, 32, VIRTQ_DESC_F_INDIRECT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_NEXT);
  fx_free (f);
}

Test (virtqueue, loop_is_detected)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
  desc (f, 1, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_CHAIN_LEN);
  fx_free (f);
}

Test (virtqueue, self_loop_of_zero_length)
{
  struct fx *f = fx_new (false, false);
  desc (f, 4, 0, 0, VIRTQ_DESC_F_NEXT, 4);
  offer (f, 4);
  expect_broken (f, VIRTQ_ERR_CHAIN_LEN);
  fx_free (f);
}

Test (virtqueue, full_length_chain_is_fine)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  for (unsigned i = 0; i < QSIZE; i++)
    desc (f, i, DATA_GPA + i, 1, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, i + 1);
  offer (f, 0);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  cr_assert_eq (elem.out_num, QSIZE);
  fx_free (f);
}

Test (virtqueue, address_out_of_range)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, MEM_SIZE, 1, 0, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ADDR);
  fx_free (f);
}

Test (virtqueue, address_straddles_end_of_ram)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, MEM_SIZE - 4, 8, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ADDR);
  fx_free (f);
}

Test (virtqueue, address_plus_length_overflows)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, UINT64_MAX - 0xff, 0x200, 0, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ADDR);
  fx_free (f);
}

Test (virtqueue, huge_length)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, DATA_GPA, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ADDR);
  fx_free (f);
}

Test (virtqueue, zero_length_descriptors_are_skipped)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  desc (f, 0, UINT64_MAX, 0, VIRTQ_DESC_F_NEXT, 1);
  desc (f, 1, DATA_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
  desc (f, 2, 0, 0, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 0);
  cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
  cr_assert_eq (elem.out_num, 0);
  cr_assert_eq (elem.in_num, 1);
  cr_assert_eq (elem.in_len, 4);
  fx_free (f);
}

Test (virtqueue, next_out_of_range)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT, QSIZE);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_NEXT);
  fx_free (f);
}

Test (virtqueue, head_out_of_range)
{
  struct fx *f = fx_new (false, false);
  offer (f, QSIZE);
  expect_broken (f, VIRTQ_ERR_HEAD);
  fx_free (f);
}

Test (virtqueue, readable_after_writable)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  desc (f, 1, DATA_GPA, 4, 0, 0);
  offer (f, 0);
  expect_broken (f, VIRTQ_ERR_ORDER);
  fx_free (f);
}

Test (virtqueue, avail_idx_jump)
{
  struct fx *f = fx_new (false, false);
  desc (f, 0, DATA_GPA, 4, 0, 0);
  *avail_u16 (f, 1) = QSIZE + 1;
  expect_broken (f, VIRTQ_ERR_AVAIL_IDX);
  fx_free (f);
}

Test (virtqueue, avail_idx_exactly_full_is_fine)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;
  unsigned n = 0;

  desc (f, 0, DATA_GPA, 4, 0, 0);
  for (unsigned i = 0; i < QSIZE; i++)
    offer (f, 0);
  while (virtq_pop (&f->vq, &elem) == 1)
    n++;
  cr_assert_eq (n, QSIZE);
  cr_assert (!f->vq.broken);
  fx_free (f);
}

Test (virtqueue, push_of_bogus_head_breaks_queue)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem = { .head = QSIZE };
  virtq_push (&f->vq, &elem, 0);
  cr_assert (f->vq.broken);
  cr_assert_eq (f->vq.error, VIRTQ_ERR_USED);
  cr_assert_eq (used_idx (f), 0);
  fx_free (f);
}

Test (virtqueue, setup_validation)
{
  uint8_t *ram = aligned_alloc (4096, MEM_SIZE);
  struct guest_mem mem;
  struct virtq vq = { 0 };
  hull_error_t err = NULL;

  guest_mem_init_fake (&mem, ram, MEM_SIZE);
  cr_assert_lt (virtq_setup (&vq, &mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, &err), 0);
  hull_error_free (&err);
  cr_assert_lt (virtq_setup (&vq, &mem, 24, DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "power of two"));
  hull_error_free (&err);
  cr_assert_lt (virtq_setup (&vq, &mem, 16, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0, 0, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "aligned"));
  hull_error_free (&err);
  cr_assert_lt (virtq_setup (&vq, &mem, 16, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0, 0, &err), 0);
  hull_error_free (&err);
  cr_assert_lt (virtq_setup (&vq, &mem, 16, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0, 0, &err), 0);
  hull_error_free (&err);
  /* used ring would end past RAM */
  cr_assert_lt (virtq_setup (&vq, &mem, 16, DESC_GPA, AVAIL_GPA, MEM_SIZE - 64, 0, 0, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "outside guest RAM"));
  hull_error_free (&err);
  cr_assert_lt (virtq_setup (&vq, &mem, 16, UINT64_MAX - 15, AVAIL_GPA, USED_GPA, 0, 0, &err), 0);
  hull_error_free (&err);
  cr_assert (!virtq_ready (&vq));
  /* the largest legal size fits in 1 MiB and works */
  cr_assert_eq (virtq_setup (&vq, &mem, VIRTQ_MAX_SIZE, 0, 0x80000, 0x90000, 0, 0, &err), 0,
                "%s", hull_error_msg (&err));
  virtq_reset (&vq);
  free (ram);
}

Test (virtqueue, no_interrupt_flag)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem elem;

  desc (f, 0, DATA_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 0);
  virtq_pop (&f->vq, &elem);
  virtq_push (&f->vq, &elem, 1);
  cr_assert (virtq_should_signal (&f->vq));
  cr_assert (!virtq_should_signal (&f->vq), "nothing new to signal");
  offer (f, 0);
  virtq_pop (&f->vq, &elem);
  virtq_push (&f->vq, &elem, 1);
  *avail_u16 (f, 0) = VIRTQ_AVAIL_F_NO_INTERRUPT;
  cr_assert (!virtq_should_signal (&f->vq));
  fx_free (f);
}

Test (virtqueue, event_idx_suppression)
{
  struct fx *f = fx_new (true, false);
  struct virtq_elem elem;

  desc (f, 0, DATA_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
  /* Driver wants an interrupt once used idx passes 2 (used_event = 2). */
  *avail_u16 (f, 2 + QSIZE) = 2;
  for (unsigned i = 0; i < 4; i++)
    offer (f, 0);
  bool sig[4];
  for (unsigned i = 0; i < 4; i++)
    {
      cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
      virtq_push (&f->vq, &elem, 1);
      sig[i] = virtq_should_signal (&f->vq);
    }
  /* Only when used idx crosses used_event + 1 == 3. */
  cr_assert (!sig[0]);
  cr_assert (!sig[1]);
  cr_assert (sig[2]);
  cr_assert (!sig[3]);

  /* has_work publishes avail_event = where we stopped. */
  cr_assert (!virtq_has_work (&f->vq));
  uint16_t avail_event;
  memcpy (&avail_event, f->ram + USED_GPA + 4 + 8 * QSIZE, 2);
  cr_assert_eq (avail_event, 4);
  offer (f, 0);
  cr_assert (virtq_has_work (&f->vq));
  fx_free (f);
}

Test (virtqueue, idle_pop_publishes_avail_event)
{
  struct fx *f = fx_new (true, false);
  struct virtq_elem elem;
  uint16_t avail_event;

  desc (f, 0, DATA_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
  for (unsigned i = 0; i < 5; i++)
    {
      offer (f, 0);
      cr_assert_eq (virtq_pop (&f->vq, &elem), 1);
      virtq_push (&f->vq, &elem, 0);
    }
  cr_assert_eq (virtq_pop (&f->vq, &elem), 0);
  memcpy (&avail_event, f->ram + USED_GPA + 4 + 8 * QSIZE, 2);
  cr_assert_eq (avail_event, 5, "the driver must kick for buffer 5");
  fx_free (f);
}

/* Deterministic pseudo-random rings: whatever the guest writes, a pop
 * either fails cleanly or returns segments that lie inside guest RAM. */
static uint64_t
xorshift (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static uint64_t
random_addr (uint64_t *s)
{
  switch (xorshift (s) % 5)
    {
    case 0: return DATA_GPA + xorshift (s) % 0x1000;
    case 1: return MEM_SIZE - xorshift (s) % 64;
    case 2: return UINT64_MAX - xorshift (s) % 64;
    case 3: return 0x8000 + 16 * (xorshift (s) % 8); /* maybe an indirect table */
    default: return xorshift (s);
    }
}

Test (virtqueue, random_rings_never_escape_ram)
{
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  struct fx *f = fx_new (false, false);
  unsigned popped = 0, broken = 0;

  for (int round = 0; round < 3000; round++)
    {
      struct virtq_elem elem;
      hull_error_t err = NULL;

      cr_assert_eq (virtq_setup (&f->vq, &f->mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA,
                                 round % 2, round % 3 != 0, &err), 0);

      for (unsigned i = 0; i < QSIZE + 64; i++)
        {
          uint64_t table = i < QSIZE ? DESC_GPA : 0x8000;
          unsigned idx = i < QSIZE ? i : i - QSIZE;
          uint32_t len = xorshift (&seed) % 4 == 0 ? (uint32_t) xorshift (&seed)
                                                   : (uint32_t) (xorshift (&seed) % 300);
          desc_at (f, table, idx, random_addr (&seed), len, xorshift (&seed) % 8,
                   xorshift (&seed) % (QSIZE + 4));
        }
      for (unsigned i = 0; i < QSIZE; i++)
        *avail_u16 (f, 2 + i) = xorshift (&seed) % (QSIZE + 2);
      *avail_u16 (f, 1) = xorshift (&seed) % (2 * QSIZE);

      for (int n = 0; n < 2 * QSIZE; n++)
        {
          int r = virtq_pop (&f->vq, &elem);
          broken += r < 0;
          if (r <= 0)
            break;
          popped++;
          cr_assert_leq (elem.out_num + elem.in_num, QSIZE);
          for (unsigned k = 0; k < elem.out_num + elem.in_num; k++)
            {
              uint8_t *b = elem.iov[k].iov_base;
              cr_assert (b >= f->ram && b + elem.iov[k].iov_len <= f->ram + MEM_SIZE,
                         "round %d: segment outside RAM", round);
            }
          virtq_push (&f->vq, &elem, (uint32_t) xorshift (&seed));
        }
    }
  /* Both outcomes must actually occur for this test to mean anything. */
  cr_assert_gt (popped, 100, "only %u chains were accepted", popped);
  cr_assert_gt (broken, 100, "only %u rings were rejected", broken);
  fx_free (f);
}

Test (virtqueue, fill_then_flush_publishes_together)
{
  struct fx *f = fx_new (false, false);
  struct virtq_elem a, b;

  desc (f, 0, DATA_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
  desc (f, 1, DATA_GPA + 64, 64, VIRTQ_DESC_F_WRITE, 0);
  offer (f, 0);
  offer (f, 1);
  cr_assert_eq (virtq_pop (&f->vq, &a), 1);
  cr_assert_eq (virtq_pop (&f->vq, &b), 1);
  virtq_fill (&f->vq, &a, 64, 0);
  virtq_fill (&f->vq, &b, 10, 1);
  cr_assert_eq (used_idx (f), 0, "nothing visible before the flush");
  virtq_flush (&f->vq, 2);
  cr_assert_eq (used_idx (f), 2);
  cr_assert_eq (used_elem (f, 0).id, 0);
  cr_assert_eq (used_elem (f, 1).id, 1);
  cr_assert_eq (used_elem (f, 1).len, 10);
  /* A fill past the ring is a device bug and stops the queue. */
  virtq_fill (&f->vq, &a, 1, QSIZE);
  cr_assert_eq (f->vq.error, VIRTQ_ERR_USED);
  fx_free (f);
}
