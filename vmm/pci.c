/* PCI bus 0 with type-1 configuration mechanism (ports 0xCF8/0xCFC).
 * The bus owns the standard header semantics every device shares: which
 * bits the guest may write (wmask), BAR sizing (writing all-ones reads back
 * the size mask because only the address bits are writable) and BAR
 * mapping, which follows the command register's decode-enable bits so
 * that Linux's "disable decode, size, restore" sequence never leaves a
 * BAR mapped at a bogus address. */
#include "vmm/pci.h"

#include <errno.h>
#include <string.h>

#include "vmm/layout.h"

#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_BAR_END 0x28
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INT_LINE 0x3C
#define PCI_CFG_INT_PIN 0x3D
#define PCI_CMD_IO 0x1
#define PCI_CMD_MEM 0x2
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_START 0x40

/* The host bridge advertises Red Hat's generic "PCIe host bridge" ids:
 * no guest driver or quirk binds to them, which is what a bridge that does
 * nothing wants. */
#define PCI_BRIDGE_VENDOR 0x1b36
#define PCI_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

static uint32_t
cfg_get32 (const struct pci_device *dev, unsigned off)
{
  uint32_t v;

  memcpy (&v, &dev->config[off], 4);
  return v;
}

static void
cfg_set32 (struct pci_device *dev, unsigned off, uint32_t v)
{
  memcpy (&dev->config[off], &v, 4);
}

static void
wmask_set32 (struct pci_device *dev, unsigned off, uint32_t v)
{
  memcpy (&dev->wmask[off], &v, 4);
}

void
pci_device_init_header (struct pci_device *dev, uint16_t vendor, uint16_t device,
                        uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id)
{
  memset (dev->config, 0, sizeof (dev->config));
  memset (dev->wmask, 0, sizeof (dev->wmask));
  memcpy (&dev->config[0x00], &vendor, 2);
  memcpy (&dev->config[0x02], &device, 2);
  dev->config[0x09] = (uint8_t) class_code;         /* programming interface */
  dev->config[0x0A] = (uint8_t) (class_code >> 8);  /* subclass */
  dev->config[0x0B] = (uint8_t) (class_code >> 16); /* class */
  memcpy (&dev->config[0x2C], &subsys_vendor, 2);
  memcpy (&dev->config[0x2E], &subsys_id, 2);
  /* Command: I/O, memory, bus master, INTx disable. */
  dev->wmask[PCI_CFG_COMMAND] = 0x07;
  dev->wmask[PCI_CFG_COMMAND + 1] = 0x04;
  dev->wmask[0x0C] = 0xff; /* cache line size */
  dev->wmask[0x0D] = 0xff; /* latency timer */
  dev->wmask[PCI_CFG_INT_LINE] = 0xff;
  dev->cap_end = PCI_CAP_START;
}

int
pci_device_add_cap (struct pci_device *dev, const void *cap, uint8_t len)
{
  unsigned off = (dev->cap_end < PCI_CAP_START ? PCI_CAP_START : dev->cap_end);
  unsigned last;

  off = (off + 3u) & ~3u;
  if (len < 2 || off + len > sizeof (dev->config))
    return -1;
  memcpy (&dev->config[off], cap, len);
  dev->config[off + 1] = 0;
  if (dev->config[PCI_CFG_CAP_PTR] == 0)
    dev->config[PCI_CFG_CAP_PTR] = (uint8_t) off;
  else
    {
      /* Bounded walk: a list is at most 48 four-byte-aligned entries. */
      last = dev->config[PCI_CFG_CAP_PTR];
      for (int i = 0; i < 48 && dev->config[last + 1] != 0; i++)
        last = dev->config[last + 1];
      dev->config[last + 1] = (uint8_t) off;
    }
  dev->config[PCI_CFG_STATUS] |= PCI_STATUS_CAP_LIST;
  dev->cap_end = (uint8_t) (off + len < sizeof (dev->config) ? off + len : 0xff);
  return (int) off;
}

/* The address the guest programmed into BAR i (without the type bits). */
static uint64_t
pci_bar_programmed (const struct pci_device *dev, int i)
{
  const struct pci_bar *b = &dev->bars[i];
  uint32_t lo = cfg_get32 (dev, PCI_CFG_BAR0 + 4 * i);

  if (b->io)
    return lo & ~0x3u;
  if (b->is64 && i + 1 < PCI_NUM_BARS)
    return ((uint64_t) cfg_get32 (dev, PCI_CFG_BAR0 + 4 * (i + 1)) << 32) | (lo & ~0xfu);
  return lo & ~0xfu;
}

/* Make the bus mapping of BAR i match what config space says. */
static void
pci_bar_update (struct pci_bus *bus, struct pci_device *dev, int i)
{
  struct pci_bar *b = &dev->bars[i];
  uint16_t cmd = (uint16_t) (dev->config[PCI_CFG_COMMAND] | dev->config[PCI_CFG_COMMAND + 1] << 8);
  struct io_bus *io = b->io ? bus->pio : bus->mmio;
  uint64_t addr = pci_bar_programmed (dev, i), old = b->addr;
  bool want = addr != 0 && (cmd & (b->io ? PCI_CMD_IO : PCI_CMD_MEM)) != 0;

  if (b->size == 0 || b->ops == NULL)
    return;
  if (b->io && addr + b->size > 0x10000)
    want = false;
  if (b->mapped && (!want || addr != b->mapped_addr))
    {
      io_bus_unregister (io, b->mapped_addr);
      b->mapped = false;
    }
  if (want && !b->mapped)
    {
      hull_error_t err = NULL;

      /* An overlapping address (e.g. a half-written 64-bit BAR) stays
       * unmapped until the guest writes a usable one. */
      if (io_bus_register (io, addr, b->size, b->ops, b->opaque, &err) < 0)
        {
          hull_error_free (&err);
          return;
        }
      b->mapped = true;
      b->mapped_addr = addr;
      b->addr = addr;
      if (addr != old && dev->ops != NULL && dev->ops->bar_moved != NULL)
        dev->ops->bar_moved (dev, i, old);
    }
}

static struct pci_device *
pci_bus_device (struct pci_bus *bus, uint8_t slot)
{
  if (slot == 0)
    return &bus->bridge;
  if (slot >= PCI_MAX_DEVICES)
    return NULL;
  return bus->devices[slot];
}

void
pci_config_read (struct pci_bus *bus, uint8_t slot, uint32_t offset, uint8_t *data, uint32_t len)
{
  struct pci_device *dev;

  pthread_mutex_lock (&bus->lock);
  dev = pci_bus_device (bus, slot);
  if (dev == NULL || offset >= sizeof (dev->config) || len > sizeof (dev->config) - offset)
    memset (data, 0xff, len);
  else
    memcpy (data, &dev->config[offset], len);
  pthread_mutex_unlock (&bus->lock);
}

void
pci_config_write (struct pci_bus *bus, uint8_t slot, uint32_t offset, const uint8_t *data,
                  uint32_t len)
{
  struct pci_device *dev;
  bool bars = false, cmd = false;

  pthread_mutex_lock (&bus->lock);
  dev = pci_bus_device (bus, slot);
  if (dev == NULL || offset >= sizeof (dev->config) || len > sizeof (dev->config) - offset)
    goto out;
  for (uint32_t i = 0; i < len; i++)
    {
      uint32_t o = offset + i;

      dev->config[o] = (uint8_t) ((dev->config[o] & ~dev->wmask[o]) | (data[i] & dev->wmask[o]));
      if (o >= PCI_CFG_BAR0 && o < PCI_CFG_BAR_END)
        bars = true;
      if (o == PCI_CFG_COMMAND || o == PCI_CFG_COMMAND + 1)
        cmd = true;
    }
  if (bars || cmd)
    {
      for (int i = 0; i < PCI_NUM_BARS; i++)
        pci_bar_update (bus, dev, i);
    }
  else if (dev->ops != NULL && dev->ops->config_write != NULL)
    dev->ops->config_write (dev, offset, data, len);
out:
  pthread_mutex_unlock (&bus->lock);
}

/* Ports 0xCF8-0xCFF: CONFIG_ADDRESS (dword at 0xCF8) and CONFIG_DATA. */
static bool
pci_decode (struct pci_bus *bus, uint64_t port_off, uint8_t *slot, uint32_t *reg)
{
  uint32_t a = __atomic_load_n (&bus->config_address, __ATOMIC_ACQUIRE);

  if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0 || ((a >> 8) & 0x7) != 0)
    return false; /* disabled, another bus, or a function we do not have */
  *slot = (uint8_t) ((a >> 11) & 0x1f);
  *reg = (a & 0xfc) + (uint32_t) (port_off - 4);
  return true;
}

static void
pci_port_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct pci_bus *bus = opaque;
  uint8_t slot;
  uint32_t reg, a;

  memset (data, 0xff, len);
  if (off == 0 && len == 4)
    {
      a = __atomic_load_n (&bus->config_address, __ATOMIC_ACQUIRE);
      memcpy (data, &a, 4);
    }
  else if (off >= 4 && pci_decode (bus, off, &slot, &reg))
    pci_config_read (bus, slot, reg, data, len);
}

static void
pci_port_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct pci_bus *bus = opaque;
  uint8_t slot;
  uint32_t reg, a;

  if (off == 0 && len == 4)
    {
      memcpy (&a, data, 4);
      __atomic_store_n (&bus->config_address, a, __ATOMIC_RELEASE);
    }
  else if (off >= 4 && pci_decode (bus, off, &slot, &reg))
    pci_config_write (bus, slot, reg, data, len);
  /* Byte writes to 0xCF8-0xCFB are the type-2 mechanism: not ours. */
}

static const struct io_ops pci_port_ops = { .read = pci_port_read, .write = pci_port_write };

int
pci_bus_init (struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio, hull_error_t *err)
{
  memset (bus, 0, sizeof (*bus));
  pthread_mutex_init (&bus->lock, NULL);
  bus->pio = pio;
  bus->mmio = mmio;
  bus->next_mmio = LAYOUT_PCI_MMIO_START;
  bus->next_pio = LAYOUT_PCI_PIO_START;
  pci_device_init_header (&bus->bridge, PCI_BRIDGE_VENDOR, PCI_BRIDGE_DEVICE,
                          PCI_CLASS_HOST_BRIDGE, 0, 0);
  bus->bridge.wmask[PCI_CFG_COMMAND] = 0;
  bus->bridge.wmask[PCI_CFG_COMMAND + 1] = 0;
  if (io_bus_register (pio, 0xCF8, 8, &pci_port_ops, bus, err) < 0)
    return hull_error_prefix (err, "PCI configuration ports");
  return 0;
}

void
pci_bus_destroy (struct pci_bus *bus)
{
  pthread_mutex_destroy (&bus->lock);
}

/* Give BAR i an address from the bus windows and write it to config. */
static int
pci_bar_assign (struct pci_bus *bus, struct pci_device *dev, int i, hull_error_t *err)
{
  struct pci_bar *b = &dev->bars[i];
  uint64_t *next = b->io ? &bus->next_pio : &bus->next_mmio;
  uint64_t end = b->io ? LAYOUT_PCI_PIO_END : LAYOUT_PCI_MMIO_END;
  uint64_t min = b->io ? 4 : 16, addr, mask;

  if (b->size < min || (b->size & (b->size - 1)) != 0 || (b->io && b->is64)
      || (b->is64 && i == PCI_NUM_BARS - 1) || (b->io && b->size > 256))
    return hull_error (err, EINVAL, "PCI BAR%d: size 0x%llx%s is not valid", i,
                       (unsigned long long) b->size, b->is64 ? " (64-bit)" : "");
  addr = (*next + b->size - 1) & ~(b->size - 1);
  if (addr + b->size > end)
    return hull_error (err, ENOSPC, "PCI BAR%d: no room for 0x%llx bytes in the %s window", i,
                       (unsigned long long) b->size, b->io ? "I/O" : "MMIO");
  *next = addr + b->size;
  b->addr = addr; /* the initial mapping is not a "move" */
  mask = ~(b->size - 1);
  if (b->io)
    {
      cfg_set32 (dev, PCI_CFG_BAR0 + 4 * i, (uint32_t) addr | 0x1);
      wmask_set32 (dev, PCI_CFG_BAR0 + 4 * i, (uint32_t) mask & ~0x3u);
      dev->config[PCI_CFG_COMMAND] |= PCI_CMD_IO;
      return 0;
    }
  cfg_set32 (dev, PCI_CFG_BAR0 + 4 * i, (uint32_t) addr | (b->is64 ? 0x4 : 0));
  wmask_set32 (dev, PCI_CFG_BAR0 + 4 * i, (uint32_t) mask & ~0xfu);
  if (b->is64)
    {
      cfg_set32 (dev, PCI_CFG_BAR0 + 4 * (i + 1), (uint32_t) (addr >> 32));
      wmask_set32 (dev, PCI_CFG_BAR0 + 4 * (i + 1), (uint32_t) (mask >> 32));
    }
  dev->config[PCI_CFG_COMMAND] |= PCI_CMD_MEM;
  return 0;
}

int
pci_bus_add (struct pci_bus *bus, struct pci_device *dev, hull_error_t *err)
{
  int slot = -1, ret = 0;

  pthread_mutex_lock (&bus->lock);
  for (int s = 1; s < PCI_MAX_DEVICES; s++)
    if (bus->devices[s] == NULL)
      {
        slot = s;
        break;
      }
  if (slot < 0)
    {
      ret = hull_error (err, ENOSPC, "PCI bus 0 is full (%d slots)", PCI_MAX_DEVICES - 1);
      goto out;
    }
  for (int i = 0; i < PCI_NUM_BARS; i++)
    {
      dev->bars[i].mapped = false;
      if (dev->bars[i].size != 0 && pci_bar_assign (bus, dev, i, err) < 0)
        {
          ret = -1;
          goto out;
        }
      if (dev->bars[i].is64)
        i++;
    }
  dev->slot = (uint8_t) slot;
  if (dev->config[PCI_CFG_INT_PIN] != 0)
    dev->config[PCI_CFG_INT_LINE] = (uint8_t) PCI_INTX_GSI (slot);
  bus->devices[slot] = dev;
  for (int i = 0; i < PCI_NUM_BARS; i++)
    {
      pci_bar_update (bus, dev, i);
      if (dev->bars[i].size != 0 && !dev->bars[i].mapped)
        {
          ret = hull_error (err, EEXIST, "PCI %02x.0 BAR%d at 0x%llx overlaps another device",
                            slot, i, (unsigned long long) pci_bar_programmed (dev, i));
          bus->devices[slot] = NULL;
          goto out;
        }
    }
  ret = slot;
out:
  pthread_mutex_unlock (&bus->lock);
  return ret;
}
