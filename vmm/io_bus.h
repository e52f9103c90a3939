/* Dispatch of guest port I/O and MMIO exits to device models.  A device
 * registers [base, base+len) with an ops table; a vCPU thread exiting on an
 * access finds the range and calls it.  Devices do their own locking: calls
 * for one device can come from several vCPU threads. */
#ifndef HULL_VMM_IO_BUS_H
#define HULL_VMM_IO_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"

struct io_ops
{
  /* offset is relative to the registered base; len is 1, 2, 4 or 8. */
  void (*read) (void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
  void (*write) (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct io_range
{
  uint64_t base, len;
  const struct io_ops *ops;
  void *opaque;
};

struct io_bus
{
  pthread_rwlock_t lock;  /* BAR remapping can happen while others dispatch */
  struct io_range *ranges; /* sorted by base, non-overlapping */
  unsigned count, cap;
};

int io_bus_init (struct io_bus *bus, hull_error_t *err);
void io_bus_destroy (struct io_bus *bus);
/* Fails (EEXIST) on overlap with an existing range. */
int io_bus_register (struct io_bus *bus, uint64_t base, uint64_t len,
                     const struct io_ops *ops, void *opaque, hull_error_t *err);
/* Removes the range starting exactly at base; returns false if none. */
bool io_bus_unregister (struct io_bus *bus, uint64_t base);
/* Returns false when nothing is mapped there (reads then see all-ones). */
bool io_bus_access (struct io_bus *bus, uint64_t addr, uint8_t *data,
                    uint32_t len, bool is_write);

#endif
