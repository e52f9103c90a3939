/* Guest RAM: one memfd (so virtiofsd / vhost-user backends can map it),
 * mapped once in the VMM, exposed to the guest as up to two regions (below
 * the 32-bit hole and above 4 GiB).  Every access the VMM makes on behalf of
 * the guest goes through guest_mem_ptr(), which is the single bounds check. */
#ifndef HULL_VMM_GUEST_MEM_H
#define HULL_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"

#define GUEST_MEM_MAX_REGIONS 2

struct guest_region
{
  uint64_t gpa;          /* guest physical start */
  uint64_t size;         /* bytes */
  uint8_t *host;         /* VMM virtual address of gpa */
  uint64_t fd_offset;    /* offset of gpa inside the memfd */
};

struct guest_mem
{
  int memfd;             /* -1 for fake memory in unit tests */
  uint8_t *base;         /* start of the whole mapping */
  uint64_t total;        /* bytes of RAM */
  unsigned nregions;
  struct guest_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Create size bytes of RAM laid out per vmm/layout.h. */
int guest_mem_create (struct guest_mem *m, uint64_t size, hull_error_t *err);
void guest_mem_destroy (struct guest_mem *m);

/* Host pointer for [gpa, gpa + len) when that range lies entirely inside one
 * RAM region; NULL otherwise (including on arithmetic overflow and len 0). */
void *guest_mem_ptr (const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Unit tests: describe a caller-owned buffer as RAM at gpa 0. */
void guest_mem_init_fake (struct guest_mem *m, void *buf, uint64_t size);

#endif
