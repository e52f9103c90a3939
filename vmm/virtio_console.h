/* virtio-console (virtio 1.2 section 5.3) with VIRTIO_CONSOLE_F_MULTIPORT.
 *
 * Port 0 is the guest's console (/dev/hvc0): its output goes to out_fd,
 * bytes read from in_fd go to the guest.  Further ports carry a name (the
 * guest sees /dev/vportNpM and, with udev, /dev/virtio-ports/NAME) and are
 * backed by one bidirectional host fd, typically a socket.
 *
 * Flow control: host input is read only into buffers the guest posted, and
 * the host fd is not watched while there are none (or, for named ports,
 * while the guest has the port closed); guest output that the host fd
 * cannot take yet stays in the guest's buffer until the fd is writable.
 * The console never takes ownership of the fds it is given: keep them open
 * until virtio_console_destroy. */
#ifndef HULL_VMM_VIRTIO_CONSOLE_H
#define HULL_VMM_VIRTIO_CONSOLE_H

#include "runtime/error.h"
#include "vmm/virtio_pci.h"

struct vm;
struct virtio_console;

/* Ports including port 0 (so up to 7 named ports). */
#define VIRTIO_CONSOLE_MAX_PORTS 8
#define VIRTIO_CONSOLE_NAME_MAX 63

/* Creates the device with its console port and adds it to vm->pci.
 * in_fd may be -1 (no input); out_fd may be -1 (output discarded). */
int virtio_console_create (struct vm *vm, int in_fd, int out_fd,
                           struct virtio_console **out, hull_error_t *err);
void virtio_console_destroy (struct virtio_console *c);

/* Add a named port backed by fd (read and written; a socket is used with
 * non-blocking send/recv, anything else with plain read/write).  Returns
 * the port id (>= 1).  Meant for before boot; a port added later is
 * announced to a running driver too.  name: 1-63 of [A-Za-z0-9._-]. */
int virtio_console_add_port (struct virtio_console *c, const char *name, int fd,
                             hull_error_t *err);

/* Unit tests: the device on its transport with fake host services, not on
 * any bus and with no thread (drive it with iothread_run_once). */
int virtio_console_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                        int in_fd, int out_fd, struct virtio_console **out,
                        hull_error_t *err);
struct virtio_pci *virtio_console_transport (struct virtio_console *c);

/* Control message events (section 5.3.6.2). */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD 1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE 5
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#endif
