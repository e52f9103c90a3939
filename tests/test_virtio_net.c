/* virtio-net against fake guest memory through the PCI transport, with a
 * SOCK_SEQPACKET socketpair standing in for the tap (same framing: one
 * message = 12-byte virtio_net_hdr + Ethernet frame).  The real tap is
 * exercised by tests/test_netns.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/virtio_test_driver.h"
#include "vmm/virtio_net.h"

static struct td t;
static struct virtio_net *net;
static int sv[2]; /* sv[0]: the device's "tap"; sv[1]: the host network */
static const uint8_t test_mac[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };

#define BASE_FEATURES (1ULL << VIRTIO_F_VERSION_1)
#define MRG (1ULL << VIRTIO_NET_F_MRG_RXBUF)

static void
setup (void)
{
  hull_error_t err = NULL;

  td_init (&t);
  cr_assert_eq (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_eq (virtio_net_new (&t.mem, &t.host, sv[0], test_mac, 1500, &net, &err), 0,
                "%s", hull_error_msg (&err));
  t.vp = virtio_net_transport (net);
  t.vp->pci.bars[0].addr = 0xc0000000;
}

static void
teardown (void)
{
  virtio_net_destroy (net);
  close (sv[0]);
  close (sv[1]);
  td_fini (&t);
}

TestSuite (virtio_net, .init = setup, .fini = teardown);

static void
start (uint64_t features)
{
  cr_assert (td_negotiate (&t, features) & VIRTIO_STATUS_FEATURES_OK);
  td_queue_enable (&t, VIRTIO_NET_RXQ, 64, VIRTIO_MSI_NO_VECTOR);
  td_queue_enable (&t, VIRTIO_NET_TXQ, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
}

static void
run_io (void)
{
  while (iothread_run_once (&t.vp->io, 0) > 0)
    ;
}

/* Post one chain of n descriptors (lens[i] bytes, writable or not, data
 * copied in when given); returns the head's guest address table. */
static void
post_chain (unsigned q, unsigned n, const uint32_t *lens, bool writable,
            const void *const *data, uint64_t *gpas)
{
  struct td_queue *tq = &t.q[q];
  uint16_t head = tq->next_desc % tq->size, slot = tq->avail_idx % tq->size;

  for (unsigned i = 0; i < n; i++)
    {
      uint16_t idx = (tq->next_desc++) % tq->size;
      uint64_t gpa = td_alloc (&t, lens[i]);
      struct virtq_desc d = { gpa, lens[i], (writable ? VIRTQ_DESC_F_WRITE : 0)
                                                | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
                              (uint16_t) ((idx + 1) % tq->size) };
      if (data && data[i])
        memcpy (t.ram + gpa, data[i], lens[i]);
      memcpy (t.ram + tq->desc + 16u * idx, &d, sizeof d);
      if (gpas)
        gpas[i] = gpa;
    }
  memcpy (t.ram + tq->avail + 4 + 2u * slot, &head, 2);
  tq->avail_idx++;
  __atomic_store_n ((uint16_t *) (t.ram + tq->avail + 2), tq->avail_idx, __ATOMIC_RELEASE);
}

static void
make_frame (uint8_t *f, size_t len, uint8_t seed)
{
  for (size_t i = 0; i < len; i++)
    f[i] = (uint8_t) (seed + i * 7);
}

/* ---- identity and config ---- */

Test (virtio_net, identity_and_config)
{
  uint16_t dev, status, mtu;
  uint8_t mac[6];

  memcpy (&dev, &t.vp->pci.config[2], 2);
  cr_assert_eq (dev, 0x1041);
  cr_assert_eq (t.vp->pci.config[0x0b], 0x02, "network controller class");
  cr_assert_eq (td_read (&t, VIRTIO_PCI_NUM_QUEUES, 2), 2);
  for (unsigned i = 0; i < 6; i++)
    mac[i] = td_read (&t, VIRTIO_PCI_DEVICE_OFF + i, 1);
  cr_assert_arr_eq (mac, test_mac, 6);
  status = td_read (&t, VIRTIO_PCI_DEVICE_OFF + 6, 2);
  cr_assert_eq (status, VIRTIO_NET_S_LINK_UP);
  mtu = td_read (&t, VIRTIO_PCI_DEVICE_OFF + 10, 2);
  cr_assert_eq (mtu, 1500);
}

Test (virtio_net, offers_tcp_offloads_only)
{
  uint64_t f;

  td_write (&t, VIRTIO_PCI_DFSELECT, 0, 4);
  f = td_read (&t, VIRTIO_PCI_DF, 4);
  cr_assert (f & (1u << VIRTIO_NET_F_MAC));
  cr_assert (f & (1u << VIRTIO_NET_F_MTU));
  cr_assert (f & (1u << VIRTIO_NET_F_STATUS));
  cr_assert (f & (1u << VIRTIO_NET_F_MRG_RXBUF));
  /* CSUM, GUEST_CSUM, GUEST_TSO4/6, HOST_TSO4/6. */
  cr_assert_eq (f & 0x7f83, 0x1983, "offloads offered: 0x%llx", (unsigned long long) f);
  cr_assert_eq (f & (1u << 17), 0, "no control queue");
  /* GUEST_UFO (10) was not offered: a driver asking for it is refused. */
  cr_assert_eq (td_negotiate (&t, BASE_FEATURES | (1ULL << 10)) & VIRTIO_STATUS_FEATURES_OK, 0);
}

Test (virtio_net, bad_arguments_are_named)
{
  hull_error_t err = NULL;
  struct virtio_net *n2 = NULL;
  const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

  cr_assert_lt (virtio_net_new (&t.mem, &t.host, sv[0], test_mac, 10, &n2, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "mtu 10"), "%s", hull_error_msg (&err));
  hull_error_free (&err);
  cr_assert_lt (virtio_net_new (&t.mem, &t.host, sv[0], mcast, 1500, &n2, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "mac 01:00:5e"), "%s", hull_error_msg (&err));
  hull_error_free (&err);
  cr_assert_lt (virtio_net_new (&t.mem, &t.host, -1, test_mac, 1500, &n2, &err), 0);
  hull_error_free (&err);
  cr_assert_null (n2);
}

/* ---- transmit ---- */

Test (virtio_net, tx_chain_reaches_the_tap)
{
  struct virtio_net_hdr hdr = { .num_buffers = 0 };
  uint8_t a[14], b[86], got[200];
  uint32_t lens[3] = { sizeof hdr, sizeof a, sizeof b };
  const void *data[3] = { &hdr, a, b };
  struct virtq_used_elem e;
  struct virtio_net_stats st;
  ssize_t n;

  start (BASE_FEATURES);
  make_frame (a, sizeof a, 1);
  make_frame (b, sizeof b, 50);
  post_chain (VIRTIO_NET_TXQ, 3, lens, false, data, NULL);
  td_kick (&t, VIRTIO_NET_TXQ);
  n = recv (sv[1], got, sizeof got, MSG_DONTWAIT);
  cr_assert_eq (n, 12 + 14 + 86, "one message: header + frame, got %zd", n);
  for (int i = 0; i < 12; i++)
    cr_assert_eq (got[i], 0, "plain header byte %d", i);
  cr_assert_arr_eq (got + 12, a, sizeof a);
  cr_assert_arr_eq (got + 26, b, sizeof b);
  cr_assert (td_used_next (&t, VIRTIO_NET_TXQ, &e));
  cr_assert_eq (e.len, 0);
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.tx_packets, 1);
  cr_assert_eq (st.tx_bytes, 100);
}

Test (virtio_net, tx_header_split_across_descriptors)
{
  uint8_t part1[5] = { 0 }, part2[7 + 60];
  uint32_t lens[2] = { sizeof part1, sizeof part2 };
  const void *data[2] = { part1, part2 };
  uint8_t got[200];

  start (BASE_FEATURES);
  memset (part2, 0, 7);
  make_frame (part2 + 7, 60, 9);
  post_chain (VIRTIO_NET_TXQ, 2, lens, false, data, NULL);
  td_kick (&t, VIRTIO_NET_TXQ);
  cr_assert_eq (recv (sv[1], got, sizeof got, MSG_DONTWAIT), 72);
  cr_assert_arr_eq (got + 12, part2 + 7, 60);
}

Test (virtio_net, tx_malformed_chains_are_dropped)
{
  struct virtio_net_hdr gso = { .gso_type = 1 /* TCPV4 */, .gso_size = 1448 };
  struct virtio_net_hdr csum = { .flags = 1 /* NEEDS_CSUM */ };
  uint8_t frame[60], tiny[4] = { 0 }, got[200];
  uint32_t lens[2] = { 12, sizeof frame };
  const void *d1[2] = { &gso, frame }, *d2[2] = { &csum, frame };
  struct virtq_used_elem e;
  struct virtio_net_stats st;

  start (BASE_FEATURES);
  make_frame (frame, sizeof frame, 3);
  post_chain (VIRTIO_NET_TXQ, 2, lens, false, d1, NULL);
  post_chain (VIRTIO_NET_TXQ, 2, lens, false, d2, NULL);
  td_post (&t, VIRTIO_NET_TXQ, sizeof tiny, false, tiny); /* shorter than a header */
  td_kick (&t, VIRTIO_NET_TXQ);
  cr_assert_lt (recv (sv[1], got, sizeof got, MSG_DONTWAIT), 0, "nothing sent");
  cr_assert_eq (errno, EAGAIN);
  for (int i = 0; i < 3; i++)
    cr_assert (td_used_next (&t, VIRTIO_NET_TXQ, &e), "chain %d completed anyway", i);
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.tx_dropped, 3);
  cr_assert_eq (st.tx_packets, 0);
  cr_assert_eq (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

Test (virtio_net, tx_waits_while_the_backend_is_full)
{
  static uint8_t big[12 + 1400];
  struct virtq_used_elem e;
  unsigned posted = 0, done = 0, got = 0;
  uint8_t buf[2048];
  int sndbuf = 4096;

  cr_assert_eq (setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  start (BASE_FEATURES);
  make_frame (big + 12, 1400, 4);
  for (; posted < 60; posted++)
    td_post (&t, VIRTIO_NET_TXQ, sizeof big, false, big);
  td_kick (&t, VIRTIO_NET_TXQ);
  while (td_used_next (&t, VIRTIO_NET_TXQ, &e))
    done++;
  cr_assert_lt (done, posted, "the backend filled up (%u of %u sent)", done, posted);
  /* Drain the "host" side; EPOLLOUT lets the rest go, none lost. */
  for (int rounds = 0; rounds < 1000 && got < posted; rounds++)
    {
      while (recv (sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        got++;
      run_io ();
    }
  while (td_used_next (&t, VIRTIO_NET_TXQ, &e))
    done++;
  cr_assert_eq (done, posted);
  cr_assert_eq (got, posted);
}

#define TSO_TX (BASE_FEATURES | (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4))

Test (virtio_net, tx_offload_header_reaches_the_tap)
{
  struct virtio_net_hdr h = { .flags = 1, .gso_type = 1 /* TCPV4 */, .hdr_len = 66,
                              .gso_size = 1448, .csum_start = 34, .csum_offset = 16,
                              .num_buffers = 7 };
  struct virtio_net_hdr got_h;
  uint8_t frame[3000], got[4000];
  uint32_t lens[2] = { 12, sizeof frame };
  const void *data[2] = { &h, frame };

  start (TSO_TX);
  make_frame (frame, sizeof frame, 8);
  post_chain (VIRTIO_NET_TXQ, 2, lens, false, data, NULL);
  td_kick (&t, VIRTIO_NET_TXQ);
  cr_assert_eq (recv (sv[1], got, sizeof got, MSG_DONTWAIT), 12 + (ssize_t) sizeof frame);
  memcpy (&got_h, got, 12);
  cr_assert_eq (got_h.flags, 1);
  cr_assert_eq (got_h.gso_type, 1);
  cr_assert_eq (got_h.hdr_len, 66);
  cr_assert_eq (got_h.gso_size, 1448);
  cr_assert_eq (got_h.csum_start, 34);
  cr_assert_eq (got_h.csum_offset, 16);
  cr_assert_eq (got_h.num_buffers, 0);
  cr_assert_arr_eq (got + 12, frame, sizeof frame);
}

Test (virtio_net, tx_unagreed_offloads_are_dropped)
{
  struct virtio_net_hdr v6 = { .flags = 1, .gso_type = 4 /* TCPV6: HOST_TSO6 not agreed */,
                               .gso_size = 1400 };
  struct virtio_net_hdr udp = { .flags = 1, .gso_type = 3 /* UDP */, .gso_size = 1400 };
  struct virtio_net_hdr ecn = { .flags = 1, .gso_type = 0x81, .gso_size = 1400 };
  struct virtio_net_hdr nocsum = { .gso_type = 1, .gso_size = 1400 };
  uint8_t frame[200], got[400];
  uint32_t lens[2] = { 12, sizeof frame };
  const void *d[4][2] = { { &v6, frame }, { &udp, frame }, { &ecn, frame }, { &nocsum, frame } };
  struct virtio_net_stats st;

  start (TSO_TX);
  make_frame (frame, sizeof frame, 2);
  for (int i = 0; i < 4; i++)
    post_chain (VIRTIO_NET_TXQ, 2, lens, false, d[i], NULL);
  td_kick (&t, VIRTIO_NET_TXQ);
  cr_assert_lt (recv (sv[1], got, sizeof got, MSG_DONTWAIT), 0);
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.tx_dropped, 4);
}

/* ---- receive ---- */

static void
host_send (size_t frame_len, uint8_t seed, uint8_t *frame_out)
{
  uint8_t msg[12 + 4000];
  struct virtio_net_hdr junk = { .flags = 2 /* DATA_VALID */, .gso_type = 0 };

  cr_assert_leq (frame_len, 4000);
  memcpy (msg, &junk, 12);
  make_frame (msg + 12, frame_len, seed);
  if (frame_out)
    memcpy (frame_out, msg + 12, frame_len);
  cr_assert_eq (send (sv[1], msg, 12 + frame_len, 0), (ssize_t) (12 + frame_len));
}

static size_t
host_queued (void)
{
  uint8_t b[1];
  ssize_t n = recv (sv[0], b, sizeof b, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
  return n < 0 ? 0 : (size_t) n;
}

Test (virtio_net, rx_mergeable_spans_buffers)
{
  uint8_t frame[2000];
  uint64_t a[3];
  struct virtq_used_elem e[3];
  struct virtio_net_hdr hdr;
  uint8_t got[2012];

  start (BASE_FEATURES | MRG);
  for (int i = 0; i < 3; i++)
    a[i] = td_post (&t, VIRTIO_NET_RXQ, 1000, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (sizeof frame, 11, frame);
  run_io ();
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 3, "one group of three buffers");
  for (int i = 0; i < 3; i++)
    {
      cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e[i]));
      cr_assert_eq (td_desc_addr (&t, VIRTIO_NET_RXQ, e[i].id), a[i]);
    }
  cr_assert_eq (e[0].len, 1000);
  cr_assert_eq (e[1].len, 1000);
  cr_assert_eq (e[2].len, 12);
  memcpy (&hdr, t.ram + a[0], sizeof hdr);
  cr_assert_eq (hdr.num_buffers, 3);
  cr_assert_eq (hdr.flags, 0, "no DATA_VALID without GUEST_CSUM");
  cr_assert_eq (hdr.gso_type, 0);
  memcpy (got, t.ram + a[0], 1000);
  memcpy (got + 1000, t.ram + a[1], 1000);
  memcpy (got + 2000, t.ram + a[2], 12);
  cr_assert_arr_eq (got + 12, frame, sizeof frame);
  cr_assert_eq (td_read (&t, VIRTIO_PCI_ISR_OFF, 1), 1, "interrupted");
}

Test (virtio_net, rx_single_buffer_without_mrg)
{
  uint8_t frame[100];
  uint64_t a;
  struct virtq_used_elem e;
  struct virtio_net_hdr hdr;
  struct virtio_net_stats st;

  start (BASE_FEATURES);
  a = td_post (&t, VIRTIO_NET_RXQ, 1526, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (sizeof frame, 5, frame);
  run_io ();
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (e.len, 112);
  memcpy (&hdr, t.ram + a, sizeof hdr);
  cr_assert_eq (hdr.num_buffers, 1);
  cr_assert_eq (hdr.flags, 0);
  cr_assert_arr_eq (t.ram + a + 12, frame, sizeof frame);
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.rx_packets, 1);
  cr_assert_eq (st.rx_bytes, 100);
}

static void
host_send_hdr (const struct virtio_net_hdr *h, size_t frame_len, uint8_t seed)
{
  uint8_t msg[12 + 4000];

  memcpy (msg, h, 12);
  make_frame (msg + 12, frame_len, seed);
  cr_assert_eq (send (sv[1], msg, 12 + frame_len, 0), (ssize_t) (12 + frame_len));
}

Test (virtio_net, rx_offload_header_reaches_the_guest)
{
  struct virtio_net_hdr h = { .flags = 1, .gso_type = 1, .hdr_len = 66, .gso_size = 1448,
                              .csum_start = 34, .csum_offset = 16 }, got;
  uint64_t a;
  struct virtq_used_elem e;

  start (BASE_FEATURES | MRG | (1ULL << VIRTIO_NET_F_GUEST_CSUM)
         | (1ULL << VIRTIO_NET_F_GUEST_TSO4));
  a = td_post (&t, VIRTIO_NET_RXQ, 4096, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send_hdr (&h, 3000, 4);
  run_io ();
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (e.len, 3012);
  memcpy (&got, t.ram + a, 12);
  cr_assert_eq (got.flags, 1);
  cr_assert_eq (got.gso_type, 1);
  cr_assert_eq (got.gso_size, 1448);
  cr_assert_eq (got.csum_start, 34);
  cr_assert_eq (got.csum_offset, 16);
  cr_assert_eq (got.num_buffers, 1);
}

Test (virtio_net, rx_unagreed_offloads_are_dropped)
{
  struct virtio_net_hdr tso6 = { .flags = 1, .gso_type = 4, .gso_size = 1400 };
  struct virtio_net_stats st;
  struct virtq_used_elem e;

  /* GUEST_CSUM + GUEST_TSO4 but not TSO6. */
  start (BASE_FEATURES | MRG | (1ULL << VIRTIO_NET_F_GUEST_CSUM)
         | (1ULL << VIRTIO_NET_F_GUEST_TSO4));
  td_post (&t, VIRTIO_NET_RXQ, 4096, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send_hdr (&tso6, 3000, 1);
  host_send (60, 2, NULL);
  run_io ();
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (e.len, 72, "only the plain frame arrives");
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.rx_dropped, 1);
}

Test (virtio_net, rx_partial_checksum_needs_guest_csum)
{
  struct virtio_net_hdr partial = { .flags = 1, .csum_start = 34, .csum_offset = 16 };
  struct virtio_net_stats st;

  start (BASE_FEATURES | MRG);
  td_post (&t, VIRTIO_NET_RXQ, 4096, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send_hdr (&partial, 100, 3);
  run_io ();
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 0);
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.rx_dropped, 1);
}

Test (virtio_net, rx_without_buffers_reads_nothing)
{
  uint8_t frame[300];
  uint64_t a;
  struct virtq_used_elem e;

  start (BASE_FEATURES | MRG);
  host_send (sizeof frame, 21, frame);
  host_send (sizeof frame, 22, NULL);
  run_io ();
  run_io ();
  cr_assert_eq (host_queued (), 312, "the frame is still in the backend");
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 0);
  /* A buffer arrives: exactly one frame moves, the second waits. */
  a = td_post (&t, VIRTIO_NET_RXQ, 2048, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (e.len, 312);
  cr_assert_arr_eq (t.ram + a + 12, frame, sizeof frame);
  cr_assert_eq (host_queued (), 312, "the second frame was not read");
}

Test (virtio_net, rx_resumes_with_event_idx)
{
  uint8_t frame[200];
  uint64_t a;
  struct virtq_used_elem e;

  start (BASE_FEATURES | MRG | (1ULL << VIRTIO_F_EVENT_IDX));
  host_send (sizeof frame, 31, frame);
  run_io ();
  cr_assert_eq (host_queued (), 212);
  /* The driver kicks only if avail_event asks for it: the starving device
   * must have asked. */
  a = td_post (&t, VIRTIO_NET_RXQ, 1024, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  cr_assert_eq (t.kicks_suppressed, 0, "the kick was wanted");
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (e.len, 212);
  cr_assert_arr_eq (t.ram + a + 12, frame, sizeof frame);
}

Test (virtio_net, rx_waits_for_enough_buffers)
{
  uint8_t frame[500], got[512];
  uint64_t a, b;
  struct virtq_used_elem e;

  start (BASE_FEATURES | MRG);
  a = td_post (&t, VIRTIO_NET_RXQ, 256, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (sizeof frame, 77, frame);
  run_io ();
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 0, "half a frame is not delivered");
  b = td_post (&t, VIRTIO_NET_RXQ, 256, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 2);
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e));
  cr_assert_eq (td_desc_addr (&t, VIRTIO_NET_RXQ, e.id), a, "the first buffer is used first");
  memcpy (got, t.ram + a, 256);
  memcpy (got + 256, t.ram + b, 256);
  cr_assert_eq (((struct virtio_net_hdr *) got)->num_buffers, 2);
  cr_assert_arr_eq (got + 12, frame, sizeof frame);
}

Test (virtio_net, rx_frame_too_big_for_a_single_buffer_is_dropped)
{
  uint8_t frame[600];
  struct virtq_used_elem e;
  struct virtio_net_stats st;

  start (BASE_FEATURES);
  td_post (&t, VIRTIO_NET_RXQ, 200, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (sizeof frame, 1, frame);
  host_send (100, 2, NULL);
  run_io ();
  virtio_net_get_stats (net, &st);
  cr_assert_eq (st.rx_dropped, 1);
  cr_assert (td_used_next (&t, VIRTIO_NET_RXQ, &e), "the next frame fits the same buffer");
  cr_assert_eq (e.len, 112);
}

Test (virtio_net, rx_read_only_buffer_needs_reset)
{
  uint8_t zeros[64] = { 0 };

  start (BASE_FEATURES | MRG);
  td_post (&t, VIRTIO_NET_RXQ, sizeof zeros, false, zeros);
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (40, 1, NULL);
  run_io ();
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 0);
  cr_assert_arr_eq (t.ram + td_desc_addr (&t, VIRTIO_NET_RXQ, 0), zeros, sizeof zeros,
                    "device-readable memory is not written");
}

Test (virtio_net, rx_hostile_ring_needs_reset)
{
  struct virtq_desc d = { TD_RAM_SIZE - 8, 2048, VIRTQ_DESC_F_WRITE, 0 };

  start (BASE_FEATURES | MRG);
  td_post (&t, VIRTIO_NET_RXQ, 2048, true, NULL);
  memcpy (t.ram + t.q[VIRTIO_NET_RXQ].desc, &d, sizeof d); /* now past RAM */
  td_kick (&t, VIRTIO_NET_RXQ);
  host_send (40, 1, NULL);
  run_io ();
  cr_assert (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET);
  cr_assert_eq (td_used_idx (&t, VIRTIO_NET_RXQ), 0);
}

Test (virtio_net, reset_stops_reading)
{
  start (BASE_FEATURES | MRG);
  td_post (&t, VIRTIO_NET_RXQ, 2048, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  td_write (&t, VIRTIO_PCI_STATUS, 0, 1);
  host_send (40, 1, NULL);
  run_io ();
  cr_assert_eq (host_queued (), 52, "a reset device reads nothing");
}
