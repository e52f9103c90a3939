/* Guest RAM backed by one memfd.  The low region covers [0, min(size,
 * hole)) and whatever does not fit below the 32-bit MMIO hole continues at
 * 4 GiB, so the guest sees RAM where a PC would have it and the PCI window
 * stays free.  The whole memfd is mapped once; regions are slices of it. */
#include "vmm/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/layout.h"

static void
guest_mem_layout (struct guest_mem *m, uint8_t *base, uint64_t size)
{
  uint64_t low = size < LAYOUT_MMIO_HOLE_START ? size : LAYOUT_MMIO_HOLE_START;

  m->base = base;
  m->total = size;
  m->nregions = 1;
  m->regions[0] = (struct guest_region){ .gpa = 0, .size = low, .host = base,
                                         .fd_offset = 0 };
  if (size > low)
    {
      m->regions[1] = (struct guest_region){ .gpa = LAYOUT_HIGH_RAM_START,
                                             .size = size - low,
                                             .host = base + low,
                                             .fd_offset = low };
      m->nregions = 2;
    }
}

int
guest_mem_create (struct guest_mem *m, uint64_t size, hull_error_t *err)
{
  void *base;
  int fd;

  memset (m, 0, sizeof (*m));
  m->memfd = -1;
  if (size == 0 || (size & 0xfffULL) != 0)
    return hull_error (err, EINVAL, "guest memory size %llu is not a positive multiple of 4 KiB",
                       (unsigned long long) size);
  fd = memfd_create ("hull-guest-ram", MFD_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "memfd_create guest RAM");
  if (ftruncate (fd, (off_t) size) < 0)
    {
      int e = errno;
      close (fd);
      return hull_error (err, e, "size guest RAM memfd to %llu bytes", (unsigned long long) size);
    }
  /* MAP_NORESERVE: RAM the guest never touches costs nothing on the host. */
  base = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED)
    {
      int e = errno;
      close (fd);
      return hull_error (err, e, "map %llu bytes of guest RAM", (unsigned long long) size);
    }
  guest_mem_layout (m, base, size);
  m->memfd = fd;
  return 0;
}

void
guest_mem_destroy (struct guest_mem *m)
{
  if (m->memfd >= 0)
    {
      if (m->base != NULL)
        munmap (m->base, m->total);
      close (m->memfd);
    }
  memset (m, 0, sizeof (*m));
  m->memfd = -1;
}

void *
guest_mem_ptr (const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
  if (m == NULL || len == 0)
    return NULL;
  for (unsigned i = 0; i < m->nregions; i++)
    {
      const struct guest_region *r = &m->regions[i];
      uint64_t off;

      if (gpa < r->gpa)
        continue;
      off = gpa - r->gpa;
      /* Written as subtractions so that no sum can wrap around. */
      if (off >= r->size || len > r->size - off)
        continue;
      return r->host + off;
    }
  return NULL;
}

void
guest_mem_init_fake (struct guest_mem *m, void *buf, uint64_t size)
{
  memset (m, 0, sizeof (*m));
  m->memfd = -1;
  guest_mem_layout (m, buf, size);
}
