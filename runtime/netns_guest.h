/* The guest side of runtime/netns.h: reading the interface description
 * netns_to_json wrote, and the rtnetlink requests hull-agent sends to give
 * a guest NIC its name, MTU, addresses and routes.
 *
 * Pure functions (no sockets): hull-agent is a static binary without
 * libmnl, so the messages are laid out here by hand with the
 * <linux/rtnetlink.h> macros, and the unit tests check them byte by byte.
 * The agent owns the socket (cmd/hull-agent/agent_net.c). */
#ifndef HULL_NETNS_GUEST_H
#define HULL_NETNS_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "runtime/netns.h"

/* Room for any message below. */
#define NETNS_GUEST_MSG_MAX 256

/* Parse {"interfaces":[...]} into ifaces[0..*n) (name, mac, mtu, addrs,
 * routes; the host plumbing fields are zero / -1).  Errors name the JSON
 * path ("interfaces[0].mac: ..."). */
int netns_guest_parse (const char *json, size_t len, struct netns_iface ifaces[NETNS_MAX_IFACES],
                       unsigned *n, hull_error_t *err);

/* "02:42:ac:11:00:02" -> 6 bytes; -1 when malformed. */
int netns_guest_parse_mac (const char *text, uint8_t mac[6]);

/* Each builder writes one request with NLM_F_REQUEST | NLM_F_ACK into
 * buf (NETNS_GUEST_MSG_MAX bytes) and returns its length, 0 when an
 * argument does not fit (a name too long). */

/* RTM_NEWLINK on ifindex: rename to name (NULL: keep), set mtu (0: keep)
 * and set or clear IFF_UP. */
size_t netns_guest_link_msg (void *buf, uint32_t seq, int ifindex, const char *name,
                             unsigned mtu, bool up);
/* RTM_NEWADDR (create or replace); IPv6 addresses skip duplicate address
 * detection (the host already owned them) so routes can use them at once. */
size_t netns_guest_addr_msg (void *buf, uint32_t seq, int ifindex, const struct netns_addr *a);
/* RTM_NEWROUTE in the main table through ifindex (create or replace). */
size_t netns_guest_route_msg (void *buf, uint32_t seq, int ifindex,
                              const struct netns_route *r);

/* The kernel's answer to request seq: 0 for an ACK, -errno for an error,
 * 1 when buf holds no answer for seq (read on). */
int netns_guest_ack (const void *buf, size_t len, uint32_t seq);

#endif
