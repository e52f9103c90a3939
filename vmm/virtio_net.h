/* virtio-net (virtio 1.2 section 5.1) backed by a tap fd.
 *
 * One receive/transmit queue pair, no control queue.  Offered features:
 * VIRTIO_NET_F_MAC, F_MTU, F_STATUS (link always up), F_MRG_RXBUF, and the
 * checksum/TCP segmentation offloads CSUM, GUEST_CSUM, HOST_TSO4/6 and
 * GUEST_TSO4/6 (no ECN, no UDP segmentation).  The tap's offloads are set
 * (TUNSETOFFLOAD) from what the driver negotiated, at DRIVER_OK, and
 * cleared on reset.
 *
 * The tap must be opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, its
 * vnet header size set to 12 (TUNSETVNETHDRSZ); netns.c's netns_tap_open
 * does exactly that.  The device sets O_NONBLOCK and the tap's offloads.
 * A socket speaking the same framing (each message one 12-byte
 * virtio_net_hdr + Ethernet frame) works too, without tap offloads: that is
 * how the unit tests use a SOCK_SEQPACKET socketpair.
 *
 * Flow control: the tap is read only while the guest has receive buffers;
 * at most one frame is held (read but not yet placed) per device.  Guest
 * frames the tap cannot take yet (EAGAIN) stay in the guest's ring until
 * the fd is writable.  The device never takes ownership of tap_fd: keep it
 * open until virtio_net_destroy. */
#ifndef HULL_VMM_VIRTIO_NET_H
#define HULL_VMM_VIRTIO_NET_H

#include <stdint.h>

#include "runtime/error.h"
#include "vmm/virtio_pci.h"

struct vm;
struct virtio_net;

/* Feature bits (section 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

/* Queue indexes. */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* The header in front of every frame, both ways (VERSION_1 layout: always
 * 12 bytes, num_buffers included). */
struct virtio_net_hdr
{
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;
} __attribute__ ((packed));

#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_MIN_MTU 68
#define VIRTIO_NET_MAX_MTU 65535

struct virtio_net_stats
{
  uint64_t rx_packets, rx_bytes, rx_dropped;
  uint64_t tx_packets, tx_bytes, tx_dropped;
};

/* Creates the device and adds it to vm->pci.  mac: the guest interface's
 * address (the container interface's, so neighbours keep their caches);
 * mtu: VIRTIO_NET_MIN_MTU..VIRTIO_NET_MAX_MTU. */
int virtio_net_create (struct vm *vm, int tap_fd, const uint8_t mac[6], unsigned mtu,
                       struct virtio_net **out, hull_error_t *err);
void virtio_net_destroy (struct virtio_net *n);

/* Counters since creation (frames, bytes without the virtio header). */
void virtio_net_get_stats (struct virtio_net *n, struct virtio_net_stats *out);

/* Unit tests: the device on its transport with fake host services, not on
 * any bus and with no thread (drive it with iothread_run_once). */
int virtio_net_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                    int tap_fd, const uint8_t mac[6], unsigned mtu,
                    struct virtio_net **out, hull_error_t *err);
struct virtio_pci *virtio_net_transport (struct virtio_net *n);

#endif
