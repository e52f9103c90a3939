/* PCI: a host bridge at 00:00.0, a flat bus 0, type-1 configuration access
 * through ports 0xCF8/0xCFC (so the guest needs neither ACPI nor MCFG:
 * pci=conf1).  A device is a struct pci_device with its 256-byte config
 * space; the bus handles the standard header (BAR sizing/moving, command
 * register) and forwards everything else to the device's hooks. */
#ifndef HULL_VMM_PCI_H
#define HULL_VMM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/io_bus.h"

#define PCI_MAX_DEVICES 32
#define PCI_NUM_BARS 6

struct pci_device;

struct pci_bar
{
  uint64_t size;             /* power of two, 0 = unused */
  bool io;                   /* port I/O instead of memory */
  bool is64;                 /* 64-bit memory BAR (uses the next slot too) */
  uint64_t addr;             /* current guest address */
  const struct io_ops *ops;  /* accesses, offset relative to the BAR */
  void *opaque;
  bool mapped;               /* bus-private: currently on mmio/pio */
  uint64_t mapped_addr;      /* bus-private: where it is mapped */
};

struct pci_device_ops
{
  /* Optional: called after the bus applied a config write outside the
   * header's BAR/command handling (e.g. an MSI-X capability's control
   * word).  offset/len are as the guest wrote them. */
  void (*config_write) (struct pci_device *dev, uint32_t offset,
                        const uint8_t *data, uint32_t len);
  /* Optional: called when the guest moves BAR i (already remapped). */
  void (*bar_moved) (struct pci_device *dev, int bar, uint64_t old_addr);
};

struct pci_device
{
  uint8_t config[256];       /* header type 0 + capabilities, little endian */
  uint8_t wmask[256];        /* bits the guest may write (bus sets header) */
  struct pci_bar bars[PCI_NUM_BARS];
  const struct pci_device_ops *ops;
  void *opaque;
  uint8_t slot;              /* assigned by pci_bus_add */
  uint8_t cap_end;           /* next free config offset for a capability */
};

/* Legacy INTx: INTA# of device in slot s is wired to IOAPIC pin
 * PCI_INTX_GSI(s), level-triggered, active low (as the MP table says);
 * pci_bus_add stores that number in the Interrupt Line register when the
 * device has an Interrupt Pin. */
#define PCI_INTX_GSI(slot) (16u + ((slot) % 8u))

struct pci_bus
{
  pthread_mutex_t lock;
  struct io_bus *mmio, *pio;        /* where BARs get mapped */
  uint32_t config_address;          /* last value written to 0xCF8 */
  struct pci_device bridge;         /* 00:00.0 host bridge */
  struct pci_device *devices[PCI_MAX_DEVICES];
  uint64_t next_mmio, next_pio;     /* BAR allocators */
};

/* Registers the 0xCF8-0xCFF ports on pio and the host bridge. */
int pci_bus_init (struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio,
                  hull_error_t *err);
void pci_bus_destroy (struct pci_bus *bus);
/* Assigns the next slot and addresses for every BAR with a size, maps
 * them, and returns the slot. */
int pci_bus_add (struct pci_bus *bus, struct pci_device *dev, hull_error_t *err);

/* Config space accessors used by the 0xCFC handler and unit tests.
 * Non-existent devices read as all-ones. */
void pci_config_read (struct pci_bus *bus, uint8_t slot, uint32_t offset,
                      uint8_t *data, uint32_t len);
void pci_config_write (struct pci_bus *bus, uint8_t slot, uint32_t offset,
                       const uint8_t *data, uint32_t len);

/* Helpers for device models building their config space. */
void pci_device_init_header (struct pci_device *dev, uint16_t vendor,
                             uint16_t device, uint32_t class_code,
                             uint16_t subsys_vendor, uint16_t subsys_id);
/* Appends a capability of len bytes (id and next filled in), returns its
 * offset or a negative value when config space is full. */
int pci_device_add_cap (struct pci_device *dev, const void *cap, uint8_t len);

#endif
