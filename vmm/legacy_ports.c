/* Small legacy ports.  Anything not registered anywhere reads all-ones and
 * swallows writes (vcpu.c), which is how absent ISA hardware behaves; the
 * ports here need more than that:
 *  - 0x70/0x71 CMOS: Linux reads the wall clock from the RTC at boot
 *    (no ACPI, no other time source before NTP), so the time registers
 *    report the host's UTC time in BCD, never "update in progress".
 *  - 0x80: written by outb_p delays thousands of times; a named sink.
 *  - 0x92: System Control Port A; bit 0 is a fast CPU reset. */
#include "vmm/legacy_ports.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMOS_PORT 0x70
#define POST_PORT 0x80
#define PORT_A 0x92

struct legacy_ports
{
  struct vm *vm;
  pthread_mutex_t lock;
  uint8_t cmos_index;
  uint8_t cmos_ram[128];
};

static uint8_t
bcd (int v)
{
  return (uint8_t) (((v / 10) % 10) << 4 | (v % 10));
}

static uint8_t
cmos_read (struct legacy_ports *l, uint8_t index)
{
  time_t now = time (NULL);
  struct tm tm;

  gmtime_r (&now, &tm);
  switch (index)
    {
    case 0x00:
      return bcd (tm.tm_sec);
    case 0x02:
      return bcd (tm.tm_min);
    case 0x04:
      return bcd (tm.tm_hour);
    case 0x06:
      return bcd (tm.tm_wday + 1);
    case 0x07:
      return bcd (tm.tm_mday);
    case 0x08:
      return bcd (tm.tm_mon + 1);
    case 0x09:
      return bcd (tm.tm_year % 100);
    case 0x32:
      return bcd (19 + tm.tm_year / 100); /* century */
    case 0x0A:
      return 0x26; /* 32.768 kHz base, 1024 Hz rate, no update in progress */
    case 0x0B:
      return 0x02; /* 24-hour mode, BCD, no RTC interrupts */
    case 0x0C:
      return 0x00;
    case 0x0D:
      return 0x80; /* battery good */
    default:
      return l->cmos_ram[index & 0x7f];
    }
}

static void
cmos_io_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct legacy_ports *l = opaque;

  memset (data, 0xff, len);
  pthread_mutex_lock (&l->lock);
  if (off == 1)
    data[0] = cmos_read (l, l->cmos_index);
  else
    data[0] = l->cmos_index;
  pthread_mutex_unlock (&l->lock);
}

static void
cmos_io_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct legacy_ports *l = opaque;

  (void) len;
  pthread_mutex_lock (&l->lock);
  if (off == 0)
    l->cmos_index = data[0] & 0x7f; /* bit 7 is the NMI mask */
  else if (l->cmos_index >= 0x0E)
    l->cmos_ram[l->cmos_index] = data[0]; /* the clock itself is read-only */
  pthread_mutex_unlock (&l->lock);
}

static void
post_io_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  (void) opaque;
  (void) off;
  memset (data, 0xff, len);
}

static void
post_io_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  (void) opaque;
  (void) off;
  (void) data;
  (void) len;
}

static void
port_a_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  (void) opaque;
  (void) off;
  memset (data, 0, len);
  data[0] = 0x02; /* A20 enabled */
}

static void
port_a_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct legacy_ports *l = opaque;

  (void) off;
  (void) len;
  if (data[0] & 0x1)
    vm_request_exit (l->vm, VM_EXIT_RESET, "guest reset through port 0x92");
}

static const struct io_ops cmos_ops = { .read = cmos_io_read, .write = cmos_io_write };
static const struct io_ops post_ops = { .read = post_io_read, .write = post_io_write };
static const struct io_ops port_a_ops = { .read = port_a_read, .write = port_a_write };

int
legacy_ports_create (struct vm *vm, struct legacy_ports **out, hull_error_t *err)
{
  struct legacy_ports *l = calloc (1, sizeof (*l));

  if (l == NULL)
    return hull_error (err, ENOMEM, "allocate legacy ports");
  l->vm = vm;
  pthread_mutex_init (&l->lock, NULL);
  if (io_bus_register (&vm->pio, CMOS_PORT, 2, &cmos_ops, l, err) < 0
      || io_bus_register (&vm->pio, POST_PORT, 1, &post_ops, l, err) < 0
      || io_bus_register (&vm->pio, PORT_A, 1, &port_a_ops, l, err) < 0)
    {
      io_bus_unregister (&vm->pio, CMOS_PORT);
      io_bus_unregister (&vm->pio, POST_PORT);
      pthread_mutex_destroy (&l->lock);
      free (l);
      return hull_error_prefix (err, "legacy ports");
    }
  *out = l;
  return 0;
}

void
legacy_ports_destroy (struct legacy_ports *l)
{
  if (l == NULL)
    return;
  pthread_mutex_destroy (&l->lock);
  free (l);
}
