/* 8250/16550A UART.  Transmission is instantaneous (the byte goes to the
 * host fd during the guest's write), so the transmitter is always empty.
 * What matters for Linux is the interrupt behaviour: the tty layer waits
 * for a THRE interrupt after filling the FIFO, and the driver's startup
 * check expects enabling ETBEI with an empty THR to raise THRE at once;
 * reading IIR while THRE is the reported source clears it. */
#include "vmm/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UART_RX_FIFO 64

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

struct serial
{
  struct vm *vm;
  uint32_t irq;
  int out_fd;
  pthread_mutex_t lock;
  uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
  bool thri_pending;
  int irq_level;
  uint8_t rx[UART_RX_FIFO];
  unsigned rx_head, rx_count;
};

static uint8_t
serial_iir (const struct serial *s)
{
  uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

  if ((s->ier & UART_IER_RDI) && s->rx_count > 0)
    return fifo | UART_IIR_RDI;
  if ((s->ier & UART_IER_THRI) && s->thri_pending)
    return fifo | UART_IIR_THRI;
  return fifo | UART_IIR_NO_INT;
}

/* Drive the (edge-triggered ISA) line from the interrupt state; every
 * new condition after the guest's IIR read gives a fresh rising edge. */
static void
serial_update_irq (struct serial *s)
{
  int level = (serial_iir (s) & UART_IIR_NO_INT) ? 0 : 1;
  hull_error_t err = NULL;

  if (level == s->irq_level)
    return;
  s->irq_level = level;
  if (vm_irq_line (s->vm, s->irq, level, &err) < 0)
    hull_error_free (&err); /* the VM fd is gone only while tearing down */
}

static bool
serial_rx_push (struct serial *s, uint8_t c)
{
  if (s->rx_count == UART_RX_FIFO)
    return false;
  s->rx[(s->rx_head + s->rx_count) % UART_RX_FIFO] = c;
  s->rx_count++;
  return true;
}

static uint8_t
serial_rx_pop (struct serial *s)
{
  uint8_t c;

  if (s->rx_count == 0)
    return 0;
  c = s->rx[s->rx_head];
  s->rx_head = (s->rx_head + 1) % UART_RX_FIFO;
  s->rx_count--;
  return c;
}

static void
serial_transmit (struct serial *s, uint8_t c)
{
  if (s->mcr & UART_MCR_LOOP)
    serial_rx_push (s, c);
  else if (s->out_fd >= 0)
    {
      ssize_t r;

      do
        r = write (s->out_fd, &c, 1);
      while (r < 0 && errno == EINTR);
      /* A closed console drops output; the guest must not stall on it. */
    }
  s->thri_pending = true;
}

static uint8_t
serial_msr (const struct serial *s)
{
  if (s->mcr & UART_MCR_LOOP)
    /* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
    return (uint8_t) (((s->mcr & 0x1) << 5) | ((s->mcr & 0x2) << 3) | ((s->mcr & 0x4) << 4)
                      | ((s->mcr & 0x8) << 4));
  return 0xb0; /* DCD, DSR, CTS: a cable with someone listening */
}

static uint8_t
serial_read_reg (struct serial *s, uint64_t reg)
{
  bool dlab = s->lcr & UART_LCR_DLAB;
  uint8_t v;

  switch (reg)
    {
    case 0:
      return dlab ? s->dll : serial_rx_pop (s);
    case 1:
      return dlab ? s->dlm : s->ier;
    case 2:
      v = serial_iir (s);
      if ((v & 0x0f) == UART_IIR_THRI)
        s->thri_pending = false;
      return v;
    case 3:
      return s->lcr;
    case 4:
      return s->mcr;
    case 5:
      return (uint8_t) (UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0));
    case 6:
      return serial_msr (s);
    default:
      return s->scr;
    }
}

static void
serial_write_reg (struct serial *s, uint64_t reg, uint8_t v)
{
  bool dlab = s->lcr & UART_LCR_DLAB;

  switch (reg)
    {
    case 0:
      if (dlab)
        s->dll = v;
      else
        serial_transmit (s, v);
      break;
    case 1:
      if (dlab)
        {
          s->dlm = v;
          break;
        }
      s->ier = v & 0x0f;
      /* The transmitter is empty, so enabling THRI raises THRE now. */
      s->thri_pending = (s->ier & UART_IER_THRI) != 0;
      break;
    case 2:
      s->fcr = v & 0xc9;
      if (v & UART_FCR_CLEAR_RX)
        s->rx_count = 0;
      break;
    case 3:
      s->lcr = v;
      break;
    case 4:
      s->mcr = v & 0x1f;
      break;
    case 7:
      s->scr = v;
      break;
    default:
      break; /* LSR and MSR are read-only */
    }
}

static void
serial_io_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct serial *s = opaque;

  memset (data, 0, len);
  pthread_mutex_lock (&s->lock);
  data[0] = serial_read_reg (s, off);
  serial_update_irq (s);
  pthread_mutex_unlock (&s->lock);
}

static void
serial_io_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct serial *s = opaque;

  (void) len; /* UART registers are bytes; wider writes use the low byte */
  pthread_mutex_lock (&s->lock);
  serial_write_reg (s, off, data[0]);
  serial_update_irq (s);
  pthread_mutex_unlock (&s->lock);
}

static const struct io_ops serial_ops = { .read = serial_io_read, .write = serial_io_write };

int
serial_create (struct vm *vm, uint16_t port, uint32_t irq, int out_fd, struct serial **out,
               hull_error_t *err)
{
  struct serial *s = calloc (1, sizeof (*s));

  if (s == NULL)
    return hull_error (err, ENOMEM, "allocate serial port");
  s->vm = vm;
  s->irq = irq;
  s->out_fd = out_fd;
  s->dll = 0x0c; /* 9600 baud until the guest says otherwise */
  s->lcr = 0x03; /* 8N1 */
  s->mcr = 0x08; /* OUT2 */
  pthread_mutex_init (&s->lock, NULL);
  if (io_bus_register (&vm->pio, port, 8, &serial_ops, s, err) < 0)
    {
      pthread_mutex_destroy (&s->lock);
      free (s);
      return hull_error_prefix (err, "serial port at 0x%x", port);
    }
  *out = s;
  return 0;
}

void
serial_destroy (struct serial *s)
{
  if (s == NULL)
    return;
  pthread_mutex_destroy (&s->lock);
  free (s);
}

size_t
serial_receive (struct serial *s, const uint8_t *buf, size_t len)
{
  size_t n = 0;

  pthread_mutex_lock (&s->lock);
  while (n < len && serial_rx_push (s, buf[n]))
    n++;
  serial_update_irq (s);
  pthread_mutex_unlock (&s->lock);
  return n;
}

size_t
serial_rx_space (struct serial *s)
{
  size_t n;

  pthread_mutex_lock (&s->lock);
  n = UART_RX_FIFO - s->rx_count;
  pthread_mutex_unlock (&s->lock);
  return n;
}
