/* i8042 keyboard controller without a keyboard.  Its job in hull is the
 * reboot path: Linux with reboot=k pulses the CPU reset line by writing
 * command 0xFE to port 0x64, which ends the VM with VM_EXIT_RESET.  The
 * controller commands Linux's i8042 driver uses while probing (self test,
 * command byte, interface tests, AUX loopback) are answered through the
 * polled output buffer so the probe finishes quickly; bytes for the
 * keyboard itself go nowhere, and no IRQ 1/12 is ever raised. */
#include "vmm/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10
#define STATUS_AUX 0x20

#define I8042_QUEUE 8

struct i8042
{
  struct vm *vm;
  pthread_mutex_t lock;
  uint8_t ctr;           /* controller command byte */
  uint8_t pending;       /* command waiting for its data byte, 0 if none */
  uint8_t status_cmd;    /* STATUS_CMD if the last write went to 0x64 */
  uint8_t q[I8042_QUEUE];
  bool q_aux[I8042_QUEUE];
  unsigned q_head, q_count;
};

static void
i8042_push (struct i8042 *k, uint8_t v, bool aux)
{
  unsigned i;

  if (k->q_count == I8042_QUEUE)
    return;
  i = (k->q_head + k->q_count) % I8042_QUEUE;
  k->q[i] = v;
  k->q_aux[i] = aux;
  k->q_count++;
}

static void
i8042_reset (struct i8042 *k)
{
  vm_request_exit (k->vm, VM_EXIT_RESET, "guest reset through the i8042 controller");
}

static void
i8042_command (struct i8042 *k, uint8_t cmd)
{
  switch (cmd)
    {
    case 0x20: /* read command byte */
      i8042_push (k, k->ctr, false);
      break;
    case 0x60: /* write command byte */
    case 0xD1: /* write output port */
    case 0xD2: /* write keyboard output buffer */
    case 0xD3: /* write AUX output buffer */
    case 0xD4: /* write to AUX device */
      k->pending = cmd;
      break;
    case 0xA7: /* disable AUX */
      k->ctr |= 0x20;
      break;
    case 0xA8: /* enable AUX */
      k->ctr &= (uint8_t) ~0x20;
      break;
    case 0xA9: /* AUX interface test: 0 = OK */
    case 0xAB: /* keyboard interface test */
      i8042_push (k, 0x00, false);
      break;
    case 0xAA: /* controller self test */
      i8042_push (k, 0x55, false);
      break;
    case 0xAD: /* disable keyboard */
      k->ctr |= 0x10;
      break;
    case 0xAE: /* enable keyboard */
      k->ctr &= (uint8_t) ~0x10;
      break;
    case 0xD0: /* read output port: A20 on, reset line high */
      i8042_push (k, 0x03, false);
      break;
    default:
      /* 0xF0-0xFF pulse output port lines; bit 0 low is CPU reset. */
      if (cmd >= 0xF0 && !(cmd & 0x1))
        i8042_reset (k);
      break;
    }
}

static void
i8042_data (struct i8042 *k, uint8_t v)
{
  uint8_t cmd = k->pending;

  k->pending = 0;
  switch (cmd)
    {
    case 0x60:
      k->ctr = v;
      break;
    case 0xD1:
      if (!(v & 0x1))
        i8042_reset (k);
      break;
    case 0xD2:
    case 0xD3:
      i8042_push (k, v, cmd == 0xD3);
      break;
    default:
      break; /* keyboard/AUX device bytes: nobody is attached */
    }
}

static void
i8042_data_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;

  (void) off;
  memset (data, 0, len);
  pthread_mutex_lock (&k->lock);
  if (k->q_count > 0)
    {
      data[0] = k->q[k->q_head];
      k->q_head = (k->q_head + 1) % I8042_QUEUE;
      k->q_count--;
    }
  pthread_mutex_unlock (&k->lock);
}

static void
i8042_data_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;

  (void) off;
  (void) len;
  pthread_mutex_lock (&k->lock);
  k->status_cmd = 0;
  i8042_data (k, data[0]);
  pthread_mutex_unlock (&k->lock);
}

static void
i8042_status_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;

  (void) off;
  memset (data, 0, len);
  pthread_mutex_lock (&k->lock);
  data[0] = STATUS_SYS | STATUS_UNLOCKED | k->status_cmd;
  if (k->q_count > 0)
    data[0] |= STATUS_OBF | (k->q_aux[k->q_head] ? STATUS_AUX : 0);
  pthread_mutex_unlock (&k->lock);
}

static void
i8042_cmd_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;

  (void) off;
  (void) len;
  pthread_mutex_lock (&k->lock);
  k->status_cmd = STATUS_CMD;
  i8042_command (k, data[0]);
  pthread_mutex_unlock (&k->lock);
}

static const struct io_ops i8042_data_ops = { .read = i8042_data_read, .write = i8042_data_write };
static const struct io_ops i8042_cmd_ops = { .read = i8042_status_read, .write = i8042_cmd_write };

int
i8042_create (struct vm *vm, struct i8042 **out, hull_error_t *err)
{
  struct i8042 *k = calloc (1, sizeof (*k));

  if (k == NULL)
    return hull_error (err, ENOMEM, "allocate i8042");
  k->vm = vm;
  k->ctr = 0x45; /* keyboard IRQ enabled, system flag, scancode translation */
  pthread_mutex_init (&k->lock, NULL);
  if (io_bus_register (&vm->pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, err) < 0
      || io_bus_register (&vm->pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k, err) < 0)
    {
      io_bus_unregister (&vm->pio, I8042_DATA_PORT);
      pthread_mutex_destroy (&k->lock);
      free (k);
      return hull_error_prefix (err, "i8042 ports");
    }
  *out = k;
  return 0;
}

void
i8042_destroy (struct i8042 *k)
{
  if (k == NULL)
    return;
  pthread_mutex_destroy (&k->lock);
  free (k);
}
