/* vhost-user front-end: hull hands a virtio device's virtqueues to an
 * external back-end process (virtiofsd) over a unix socket.  Guest RAM is
 * shared by passing the memfd (SET_MEM_TABLE); notifications bypass the VMM
 * entirely: the kick eventfd is the queue's ioeventfd and the call eventfd
 * is the queue's irqfd.
 *
 * Every exchange is synchronous and bounded by a timeout, every reply is
 * checked (version, reply flag, request echo, payload size).  Once the
 * connection is lost or desynchronised the client is "dead": every later
 * call fails at once, and the error callback runs exactly once. */
#ifndef HULL_VMM_VHOST_USER_H
#define HULL_VMM_VHOST_USER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"

struct guest_mem;

enum vhost_user_request
{
  VHOST_USER_GET_FEATURES = 1,
  VHOST_USER_SET_FEATURES = 2,
  VHOST_USER_SET_OWNER = 3,
  VHOST_USER_SET_MEM_TABLE = 5,
  VHOST_USER_SET_VRING_NUM = 8,
  VHOST_USER_SET_VRING_ADDR = 9,
  VHOST_USER_SET_VRING_BASE = 10,
  VHOST_USER_GET_VRING_BASE = 11,
  VHOST_USER_SET_VRING_KICK = 12,
  VHOST_USER_SET_VRING_CALL = 13,
  VHOST_USER_GET_PROTOCOL_FEATURES = 15,
  VHOST_USER_SET_PROTOCOL_FEATURES = 16,
  VHOST_USER_GET_QUEUE_NUM = 17,
  VHOST_USER_SET_VRING_ENABLE = 18,
};

/* Header flags: version in bits 0-1, reply bit 2, need_reply bit 3. */
#define VHOST_USER_VERSION 0x1u
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)

/* Feature bit 30 (unused by virtio) announces protocol-feature support. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
/* Back-ends also report this vhost (not virtio) bit; never show it to the
 * guest. */
#define VHOST_F_LOG_ALL 26

#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG 9

/* Payload of SET_VRING_KICK/CALL: ring index in bits 0-7, bit 8 = no fd. */
#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD (1u << 8)

#define VHOST_USER_MAX_REGIONS 8
#define VHOST_USER_MAX_FDS 8

/* Wire layouts (native byte order, packed as the spec draws them). */
struct vhost_user_hdr
{
  uint32_t request;
  uint32_t flags;
  uint32_t size; /* payload bytes that follow */
} __attribute__ ((packed));

struct vhost_user_vring_state
{
  uint32_t index;
  uint32_t num;
} __attribute__ ((packed));

struct vhost_user_vring_addr
{
  uint32_t index;
  uint32_t flags;
  uint64_t desc;  /* front-end virtual addresses */
  uint64_t used;
  uint64_t avail;
  uint64_t log;
} __attribute__ ((packed));

struct vhost_user_region
{
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr; /* where the front-end maps it */
  uint64_t mmap_offset;    /* offset of the region inside its fd */
} __attribute__ ((packed));

struct vhost_user_mem_table
{
  uint32_t nregions;
  uint32_t padding;
  struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
} __attribute__ ((packed));

/* Called once when the connection is found dead (from the calling thread or
 * the monitor thread).  It must not call back into this vhost_user. */
typedef void (*vhost_user_error_fn) (void *opaque, const char *msg);

struct vhost_user
{
  int fd;
  char *name;                 /* socket path, for messages */
  int timeout_ms;             /* per exchange */
  pthread_mutex_t lock;       /* one request/reply exchange at a time */
  uint64_t backend_features;  /* GET_FEATURES answer */
  uint64_t protocol_features; /* negotiated protocol features */
  bool owned;                 /* SET_OWNER sent */
  atomic_bool dead;
  atomic_bool reported;       /* on_error already called */
  vhost_user_error_fn on_error;
  void *opaque;
  bool monitor_running;
  pthread_t monitor;
  int monitor_stop;           /* eventfd that ends the monitor thread */
};

/* Connects to the back-end's socket, retrying while it does not exist or
 * does not listen yet, for at most timeout_ms (also the per-exchange
 * timeout afterwards). */
int vhost_user_connect (struct vhost_user *vu, const char *path,
                        int timeout_ms, hull_error_t *err);
/* Same on an already connected socket (tests: socketpair).  Takes fd. */
int vhost_user_init_fd (struct vhost_user *vu, int fd, const char *name,
                        int timeout_ms, hull_error_t *err);
/* Stops the monitor and closes the socket (the back-end then ends its
 * session; virtiofsd exits).  Safe on a zeroed or closed struct. */
void vhost_user_close (struct vhost_user *vu);

void vhost_user_set_error_cb (struct vhost_user *vu, vhost_user_error_fn fn,
                              void *opaque);
/* Background thread that reports a hang-up of the back-end (e.g. virtiofsd
 * killed) through the error callback while no request is in flight. */
int vhost_user_monitor_start (struct vhost_user *vu, hull_error_t *err);
bool vhost_user_is_dead (struct vhost_user *vu);

/* GET_FEATURES; if bit 30 is offered, GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES(offered & wanted_protocol); then SET_OWNER.
 * REPLY_ACK is always wanted when offered.  Fills backend_features. */
int vhost_user_handshake (struct vhost_user *vu, uint64_t wanted_protocol,
                          hull_error_t *err);

int vhost_user_get_features (struct vhost_user *vu, uint64_t *features,
                             hull_error_t *err);
/* Adds bit 30 itself when the back-end offered it. */
int vhost_user_set_features (struct vhost_user *vu, uint64_t features,
                             hull_error_t *err);
int vhost_user_get_protocol_features (struct vhost_user *vu, uint64_t *f,
                                      hull_error_t *err);
int vhost_user_set_protocol_features (struct vhost_user *vu, uint64_t f,
                                      hull_error_t *err);
int vhost_user_set_owner (struct vhost_user *vu, hull_error_t *err);
/* Needs the MQ protocol feature; fails with ENOTSUP otherwise. */
int vhost_user_get_queue_num (struct vhost_user *vu, uint64_t *n,
                              hull_error_t *err);

/* One region per guest_mem region, each with the RAM memfd. */
int vhost_user_set_mem_table (struct vhost_user *vu, const struct guest_mem *m,
                              hull_error_t *err);

int vhost_user_set_vring_num (struct vhost_user *vu, uint32_t index,
                              uint32_t num, hull_error_t *err);
/* desc/avail/used are VMM virtual addresses of the rings. */
int vhost_user_set_vring_addr (struct vhost_user *vu, uint32_t index,
                               uint64_t desc, uint64_t avail, uint64_t used,
                               hull_error_t *err);
int vhost_user_set_vring_base (struct vhost_user *vu, uint32_t index,
                               uint32_t base, hull_error_t *err);
/* Stops the ring and returns the next available index it would process. */
int vhost_user_get_vring_base (struct vhost_user *vu, uint32_t index,
                               uint32_t *base, hull_error_t *err);
/* fd < 0 sends the "no fd" flag (back-end polls / does not notify). */
int vhost_user_set_vring_kick (struct vhost_user *vu, uint32_t index, int fd,
                               hull_error_t *err);
int vhost_user_set_vring_call (struct vhost_user *vu, uint32_t index, int fd,
                               hull_error_t *err);
/* Only meaningful when bit 30 was negotiated; a no-op success otherwise
 * (rings are then enabled from the start, per the spec). */
int vhost_user_set_vring_enable (struct vhost_user *vu, uint32_t index,
                                 bool enable, hull_error_t *err);

const char *vhost_user_request_name (uint32_t request);

/* Low level, used by the requests above and by tests: send request with
 * payload and fds; when reply != NULL read a reply of exactly reply_size
 * bytes, else wait for the REPLY_ACK status when that was negotiated. */
int vhost_user_exchange (struct vhost_user *vu, uint32_t request,
                         const void *payload, uint32_t size, const int *fds,
                         unsigned nfds, void *reply, uint32_t reply_size,
                         hull_error_t *err);
/* Checks a reply header against the request it answers. */
int vhost_user_msg_check_reply (const struct vhost_user_hdr *hdr,
                                uint32_t request, uint32_t expect_size,
                                hull_error_t *err);

#endif
