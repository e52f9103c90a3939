/* rtnetlink operations behind netns.c (netns_nl.c).  All of them act on
 * the netns the socket in net->nl was opened in, whatever thread calls. */
#ifndef HULL_NETNS_INTERNAL_H
#define HULL_NETNS_INTERNAL_H

#include "runtime/netns.h"

/* Open and bind the rtnetlink socket in the calling thread's netns. */
int netns_nl_open (struct netns_net *net, hull_error_t *err);
/* Fill net->ifaces: Ethernet links other than our taps, then their
 * addresses and routes. */
int netns_nl_discover (struct netns_net *net, hull_error_t *err);
int netns_nl_link_up (struct netns_net *net, int ifindex, unsigned mtu, hull_error_t *err);
int netns_nl_link_del (struct netns_net *net, int ifindex, hull_error_t *err);
/* clsact qdisc: EEXIST when the device already has one (or an ingress). */
int netns_nl_clsact_add (struct netns_net *net, int ifindex, hull_error_t *err);
int netns_nl_clsact_del (struct netns_net *net, int ifindex, hull_error_t *err);
/* Ingress u32 match-all filter on from with a mirred egress redirect to
 * to (the frame is stolen: the netns stack never sees it). */
int netns_nl_redirect_add (struct netns_net *net, int from, int to, hull_error_t *err);

/* netns.c: remove our taps and qdiscs through net->nl (what
 * netns_teardown does in-process, and the keeper does for it). */
int netns_teardown_links (struct netns_net *net, hull_error_t *err);
/* netns_keeper.c: have the keeper run netns_teardown_links, wait for it
 * to end and report its result. */
int netns_keeper_finish (struct netns_net *net, hull_error_t *err);

#endif
