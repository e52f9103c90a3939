#!/bin/bash
# lane: vm
# Container networking end to end, without the supervisor: two network
# namespaces made here ("ctr", the container's, with eth0 set up the way
# Docker does it: MAC, MTU 1400, 172.30.0.2/24, default via 172.30.0.1; and
# "out", the other end of the veth, 172.30.0.1 serving a file over HTTP).
# A small harness (built below against build/libhull.a) calls netns_setup
# on ctr (tap + tc redirects), gives each tap to a virtio-net device with
# the interface's MAC and MTU, and boots Debian's cloud kernel (make guest).
# The busybox init checks the NIC's MAC and MTU, configures the address and
# default route the harness found (passed on the command line, standing in
# for hull-agent), pings the gateway, downloads the file and compares its
# md5, uploads one (HTTP POST to a CGI that answers the md5), then
# reboots.  The guest's driver negotiates the checksum/TSO offloads, so both
# directions carry 64 KiB TCP segments.  Afterwards ctr must hold no tap and
# no qdisc.  The
# host-lane checks of the same code are the Criterion suites netns/ and
# virtio_net/ in build/tests/unit.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
GUEST=${GUEST:-$ROOT/build/guest}
LIB=$ROOT/build/libhull.a
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}

missing=""
for f in "$LIB" "$GUEST/vmlinuz" "$GUEST/modules/load-order" "$GUEST/modules/virtio_net.ko"; do
  [ -e "$f" ] || missing="$missing $f"
done
for c in ip tc nsenter unshare cpio; do command -v $c >/dev/null || missing="$missing $c"; done
[ -x /bin/busybox ] || missing="$missing /bin/busybox"
if [ -n "$missing" ]; then
  echo "FAIL: netns (missing:$missing; run make && make guest)"
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: netns (needs root for network namespaces)"
  exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hull-test-netns.XXXXXX") || exit 1
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

# ---- the harness ----
cat > "$T/netboot.c" <<'EOF'
/* netboot NETNS KERNEL INITRD APPEND: netns_setup + one virtio-net per
 * interface + boot; teardown after the guest is gone. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/netns.h"
#include "vmm/machine.h"
#include "vmm/virtio_net.h"

static int
fail (hull_error_t *err)
{
  printf ("HOST error %s\n", hull_error_msg (err));
  return 1;
}

int
main (int argc, char **argv)
{
  hull_error_t err = NULL;
  struct netns_net *net;
  struct machine *m;
  struct virtio_net *nics[NETNS_MAX_IFACES] = { 0 };
  char msg[256], append[1024], addr[64] = "none", gw[64] = "none", *json;
  if (argc != 5)
    return 2;
  if (netns_setup (argv[1], &net, &err) < 0)
    return fail (&err);
  if (netns_to_json (net, &json, NULL, &err) < 0)
    return fail (&err);
  printf ("HOST json %s\n", json);
  free (json);
  if (net->n_ifaces > 0)
    {
      const struct netns_iface *e = &net->ifaces[0];
      for (unsigned i = 0; i < e->n_addrs; i++)
        if (e->addrs[i].family == AF_INET)
          {
            inet_ntop (AF_INET, e->addrs[i].addr, addr, 32);
            snprintf (addr + strlen (addr), 8, "/%u", e->addrs[i].prefix);
          }
      for (unsigned i = 0; i < e->n_routes; i++)
        if (e->routes[i].family == AF_INET && e->routes[i].dst_len == 0 && e->routes[i].has_gateway)
          inet_ntop (AF_INET, e->routes[i].gateway, gw, sizeof gw);
    }
  snprintf (append, sizeof append, "quiet %s netcheck.addr=%s netcheck.gw=%s", argv[4], addr, gw);
  struct machine_config cfg = { .kernel_path = argv[2], .initrd_path = argv[3], .cpus = 1,
                                .memory_mib = 256, .console_in_fd = -1, .console_out_fd = 1,
                                .hvc_in_fd = -1, .append = append };
  if (machine_create (&cfg, &m, &err) < 0)
    return fail (&err);
  for (unsigned i = 0; i < net->n_ifaces; i++)
    if (virtio_net_create (machine_vm (m), net->ifaces[i].tap_fd, net->ifaces[i].mac,
                           net->ifaces[i].mtu, &nics[i], &err) < 0)
      return fail (&err);
  enum vm_exit_reason r = machine_run (m, msg, sizeof msg);
  printf ("HOST exit %s %s\n", vm_exit_reason_name (r), msg);
  for (unsigned i = 0; i < net->n_ifaces; i++)
    {
      struct virtio_net_stats st;
      virtio_net_get_stats (nics[i], &st);
      printf ("HOST nic%u rx %llu frames %llu bytes %llu dropped, tx %llu frames %llu dropped\n", i,
              (unsigned long long) st.rx_packets, (unsigned long long) st.rx_bytes,
              (unsigned long long) st.rx_dropped, (unsigned long long) st.tx_packets,
              (unsigned long long) st.tx_dropped);
      virtio_net_destroy (nics[i]);
    }
  machine_destroy (m);
  if (netns_teardown (net, &err) < 0)
    return fail (&err);
  printf ("HOST teardown ok\n");
  return 0;
}
EOF
if ! gcc -std=gnu11 -D_GNU_SOURCE -O1 -I"$ROOT" -o "$T/netboot" "$T/netboot.c" "$LIB" \
     -lyajl -lseccomp -lcap -lmnl -lpthread; then
  echo "FAIL: netns (building the harness)"
  exit 1
fi

# ---- the guest ----
D=$T/initrd
mkdir -p "$D/bin" "$D/lib/modules" "$D/proc" "$D/sys" "$D/dev" "$D/tmp"
cp /bin/busybox "$D/bin/busybox"
cp "$GUEST"/modules/*.ko "$GUEST/modules/load-order" "$D/lib/modules/"
cat > "$D/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m 2>/dev/null; done
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^netcheck\.$1=//p"; }
check() { if eval "$2"; then echo "NETCHECK PASS $1"; else echo "NETCHECK FAIL $1"; fi; }
n=$(ls /sys/class/net | grep -vc '^lo$')
check "one nic" '[ "$n" = 1 ]'
check "mac" '[ "$(cat /sys/class/net/eth0/address)" = "$(arg mac)" ]'
check "mtu" '[ "$(cat /sys/class/net/eth0/mtu)" = "$(arg mtu)" ]'
ip link set lo up
ip link set eth0 up
ip addr add "$(arg addr)" dev eth0
ip route add default via "$(arg gw)"
check "ping gateway" 'ping -c 3 -W 3 "$(arg gw)" >/dev/null'
check "ping full-size" 'ping -c 2 -W 3 -s 1372 "$(arg gw)" >/dev/null'
check "download" 'wget -q -O /tmp/big "http://$(arg gw):8080/big" && [ "$(md5sum < /tmp/big | cut -d" " -f1)" = "$(arg md5)" ]'
# Upload: a CGI answers the md5 of what it got (text: wget posts strings).
seq 1 400000 > /tmp/up
check "upload" '[ "$(wget -q -O - --post-file /tmp/up "http://$(arg gw):8080/cgi-bin/up")" = "$(md5sum < /tmp/up | cut -d" " -f1)" ]'
echo NETCHECK DONE
reboot -f
EOF
chmod 0755 "$D/init"
(cd "$D" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$T/initrd.img"

# ---- the namespaces ----
# Explicitly: in the nested lane's L1 the kernel's own module autoload
# cannot reach modprobe (L1 runs chrooted).  Built-in elsewhere: harmless.
for m in tun veth sch_ingress cls_u32 act_mirred; do modprobe -q "$m" 2>/dev/null; done
mkdir -p "$T/www/cgi-bin"
head -c 3000000 /dev/urandom > "$T/www/big"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nhead -c "$CONTENT_LENGTH" | md5sum | cut -d" " -f1\n' \
  > "$T/www/cgi-bin/up"
chmod 0755 "$T/www/cgi-bin/up"
MD5=$(md5sum < "$T/www/big" | cut -d' ' -f1)
unshare -n sleep 3600 & CTR=$!; PIDS="$PIDS $CTR"
unshare -n sleep 3600 & OUT=$!; PIDS="$PIDS $OUT"
sleep 0.5
in_ctr() { nsenter --net=/proc/$CTR/ns/net "$@"; }
in_out() { nsenter --net=/proc/$OUT/ns/net "$@"; }
if ! { in_ctr ip link add eth0 type veth peer name peer0 netns "$OUT" &&
       in_ctr ip link set eth0 address 02:42:ac:1e:00:02 mtu 1400 up &&
       in_ctr ip addr add 172.30.0.2/24 dev eth0 &&
       in_ctr ip route add default via 172.30.0.1 &&
       in_out ip link set lo up && in_out ip link set peer0 mtu 1400 up &&
       in_out ip addr add 172.30.0.1/24 dev peer0; }; then
  echo "FAIL: netns (fixture setup)"
  exit 1
fi
# nsenter and unshare exec their command: $! is the process to kill.
nsenter --net=/proc/$OUT/ns/net busybox httpd -f -p 172.30.0.1:8080 -h "$T/www" & PIDS="$PIDS $!"

# ---- run ----
OUTPUT=$T/out
timeout -k 5 "$BOOT_TIMEOUT" "$T/netboot" "/proc/$CTR/ns/net" "$GUEST/vmlinuz" "$T/initrd.img" \
  "netcheck.mac=02:42:ac:1e:00:02 netcheck.mtu=1400 netcheck.md5=$MD5" > "$OUTPUT" 2>&1
rc=$?
tr -d '\r' < "$OUTPUT" > "$OUTPUT.txt"
problems=""
[ "$rc" -eq 0 ] || problems="$problems; harness exited $rc"
for c in "one nic" mac mtu "ping gateway" "ping full-size" download upload; do
  grep -q "^NETCHECK PASS $c\$" "$OUTPUT.txt" || problems="$problems; no PASS for '$c'"
done
grep -q '^NETCHECK DONE' "$OUTPUT.txt" || problems="$problems; init did not finish"
grep -q '^HOST teardown ok' "$OUTPUT.txt" || problems="$problems; teardown failed"
in_ctr ip -o link show | grep -q _hull && problems="$problems; a tap is left in the netns"
in_ctr tc qdisc show dev eth0 | grep -q clsact && problems="$problems; eth0 keeps its clsact qdisc"
if [ -z "$problems" ]; then
  echo "PASS: netns ($(grep '^HOST nic0' "$OUTPUT.txt" | cut -d' ' -f2-))"
else
  echo "---- harness output (last 40 lines) ----"
  tail -n 40 "$OUTPUT.txt"
  echo "----"
  echo "FAIL: netns$problems"
  exit 1
fi
