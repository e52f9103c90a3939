/* A sorted array of ranges: devices are few and lookups are a binary
 * search.  The lock is dropped before calling into a device, so a device
 * handler may itself (un)register ranges (a PCI BAR moved by a config write
 * arriving through this very bus) without deadlocking; that is safe
 * because devices are only freed after every vCPU thread has stopped. */
#include "vmm/io_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
io_bus_init (struct io_bus *bus, hull_error_t *err)
{
  int r;

  memset (bus, 0, sizeof (*bus));
  r = pthread_rwlock_init (&bus->lock, NULL);
  if (r != 0)
    return hull_error (err, r, "init I/O bus lock");
  return 0;
}

void
io_bus_destroy (struct io_bus *bus)
{
  free (bus->ranges);
  pthread_rwlock_destroy (&bus->lock);
  memset (bus, 0, sizeof (*bus));
}

/* Index of the first range whose end is above addr. */
static unsigned
io_bus_lower_bound (const struct io_bus *bus, uint64_t addr)
{
  unsigned lo = 0, hi = bus->count;

  while (lo < hi)
    {
      unsigned mid = lo + (hi - lo) / 2;
      const struct io_range *r = &bus->ranges[mid];

      if (r->base + (r->len - 1) < addr)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

int
io_bus_register (struct io_bus *bus, uint64_t base, uint64_t len,
                 const struct io_ops *ops, void *opaque, hull_error_t *err)
{
  unsigned i;

  if (len == 0 || base + (len - 1) < base || ops == NULL)
    return hull_error (err, EINVAL, "I/O range 0x%llx+0x%llx is invalid",
                       (unsigned long long) base, (unsigned long long) len);
  pthread_rwlock_wrlock (&bus->lock);
  i = io_bus_lower_bound (bus, base);
  if (i < bus->count && bus->ranges[i].base <= base + (len - 1))
    {
      pthread_rwlock_unlock (&bus->lock);
      return hull_error (err, EEXIST, "I/O range 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
                         (unsigned long long) base, (unsigned long long) len,
                         (unsigned long long) bus->ranges[i].base,
                         (unsigned long long) bus->ranges[i].len);
    }
  if (bus->count == bus->cap)
    {
      unsigned ncap = bus->cap ? bus->cap * 2 : 16;
      struct io_range *n = realloc (bus->ranges, ncap * sizeof (*n));

      if (n == NULL)
        {
          pthread_rwlock_unlock (&bus->lock);
          return hull_error (err, ENOMEM, "grow I/O bus");
        }
      bus->ranges = n;
      bus->cap = ncap;
    }
  memmove (&bus->ranges[i + 1], &bus->ranges[i], (bus->count - i) * sizeof (bus->ranges[0]));
  bus->ranges[i] = (struct io_range){ .base = base, .len = len, .ops = ops, .opaque = opaque };
  bus->count++;
  pthread_rwlock_unlock (&bus->lock);
  return 0;
}

bool
io_bus_unregister (struct io_bus *bus, uint64_t base)
{
  bool found = false;
  unsigned i;

  pthread_rwlock_wrlock (&bus->lock);
  i = io_bus_lower_bound (bus, base);
  if (i < bus->count && bus->ranges[i].base == base)
    {
      memmove (&bus->ranges[i], &bus->ranges[i + 1],
               (bus->count - i - 1) * sizeof (bus->ranges[0]));
      bus->count--;
      found = true;
    }
  pthread_rwlock_unlock (&bus->lock);
  return found;
}

bool
io_bus_access (struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
               bool is_write)
{
  struct io_range r;
  unsigned i;
  bool hit = false;

  pthread_rwlock_rdlock (&bus->lock);
  i = io_bus_lower_bound (bus, addr);
  if (i < bus->count && bus->ranges[i].base <= addr)
    {
      r = bus->ranges[i];
      hit = true;
    }
  pthread_rwlock_unlock (&bus->lock);
  /* An access straddling the end of a range goes unanswered rather than
   * handing the device an offset it did not register. */
  if (!hit || len == 0 || len > r.len || addr - r.base > r.len - len)
    {
      if (!is_write)
        memset (data, 0xff, len);
      return false;
    }
  if (is_write)
    {
      if (r.ops->write != NULL)
        r.ops->write (r.opaque, addr - r.base, data, len);
    }
  else if (r.ops->read != NULL)
    r.ops->read (r.opaque, addr - r.base, data, len);
  else
    memset (data, 0xff, len);
  return true;
}
