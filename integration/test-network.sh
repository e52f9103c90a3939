#!/bin/bash
# lane: vm
# Container networking through the production backend (build/hull): the
# container's config names a network namespace the way Docker/CNI do
# (linux.namespaces network + path), and the microVM gets that netns's
# Ethernet interfaces as virtio-net NICs configured like the originals.
#   - netns hulltn-ctr (ip netns add): eth0, one end of a veth pair, with a
#     MAC, MTU 1400, 10.45.0.2/24 and a default route via 10.45.0.1; the
#     peer stays in this (L1's root) namespace with 10.45.0.1 and a busybox
#     httpd.  The container sees eth0 with that MAC/MTU/address/default
#     route and lo up, downloads a file from the server, and its bundle's
#     resolv.conf bind mount shows inside.  While it exists, the netns holds
#     tap0_hull and a clsact qdisc on eth0; after delete, neither.
#   - netns hulltn-lo (only lo, like Docker's --network none): no NIC at
#     all inside, and the server is unreachable.
#   - a netns path that does not exist: create fails naming
#     linux.namespaces[N].path, before any VM boots, leaving nothing.
# Two VM boots.  Prints PASS:/FAIL: lines.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="network: "
vmtest_init network

NS=hulltn-ctr
NS_LO=hulltn-lo
HOSTIF=hulltn-h
MAC=02:42:0a:2d:00:02
HTTPD=
net_cleanup () {
  [ -n "$HTTPD" ] && { kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null; }
  ip link del "$HOSTIF" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  ip netns del "$NS_LO" 2>/dev/null
  vmtest_cleanup
}
trap net_cleanup EXIT

# ---- the namespaces and the server ---------------------------------------------
# In the nested lane's L1 the kernel cannot autoload modules (chrooted
# modprobe): load what veth + tap + tc redirects need.
for m in tun veth sch_ingress cls_u32 act_mirred; do modprobe -q "$m" 2>/dev/null; done
ip netns del "$NS" 2>/dev/null; ip netns del "$NS_LO" 2>/dev/null; ip link del "$HOSTIF" 2>/dev/null
if ! { ip netns add "$NS" && ip netns add "$NS_LO" &&
       ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" &&
       ip -n "$NS" link set eth0 address "$MAC" mtu 1400 up &&
       ip -n "$NS" addr add 10.45.0.2/24 dev eth0 &&
       ip -n "$NS" route add default via 10.45.0.1 &&
       ip link set "$HOSTIF" mtu 1400 up && ip addr add 10.45.0.1/24 dev "$HOSTIF"; }; then
  echo "FAIL: network (fixture: netns and veth)"
  exit 1
fi
mkdir -p "$T/www"
echo "hello from the host $$" > "$T/www/hello.txt"
# Started from inside $T/www so procs_gone (processes naming $T/) does not
# count the server.
(cd "$T/www" && exec busybox httpd -f -p 10.45.0.1:8080 -h .) & HTTPD=$!
# From the container's netns, before hull wires it: the path the VM will use.
served () {
  printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | ip netns exec "$NS" busybox nc -w 5 10.45.0.1 8080 2>&1 |
    grep -q 'hello from the host'
}
for _ in $(seq 50); do served && break; sleep 0.2; done
check "fixture: the server answers the netns over the veth" served

# ---- rootfs and bundles ---------------------------------------------------------
R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: network (busybox rootfs)"; exit 1; }
mkdir -p "$R/etc" && : > "$R/etc/resolv.conf"
printf 'nameserver 10.45.0.53\nsearch hull-test.example\n' > "$T/resolv.conf"

# bundle DIR NETNS-PATH SCRIPT: one container whose network namespace is
# NETNS-PATH; prints the index of the network entry.
bundle () {
  mkdir -p "$1" && "$HULL_BIN" spec --bundle "$1" || return 1
  python3 - "$1/config.json" "$R" "$2" "$3" "$T/resolv.conf" <<'PY'
import json, sys
path, rootfs, netns, script, resolv = sys.argv[1:6]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
c["process"]["args"] = ["sh", "-c", script]
c["process"]["terminal"] = False
c["process"]["env"] = ["PATH=/bin"]
ns = c["linux"]["namespaces"]
idx = [i for i, n in enumerate(ns) if n["type"] == "network"][0]
ns[idx]["path"] = netns
c["mounts"].append({"destination": "/etc/resolv.conf", "type": "bind", "source": resolv,
                    "options": ["rbind", "ro"]})
json.dump(c, open(path, "w"), indent=1)
print(idx)
PY
}

# busybox nc, not wget: this busybox's wget crashes (SIGSEGV) when it
# cannot connect, which would hide the difference between the two cases.
FETCH='fetch () { printf "GET /hello.txt HTTP/1.0\r\n\r\n" | nc -w 10 10.45.0.1 8080 | grep "hello from"; };'
NETCHECK=$FETCH'ip link show eth0; ip link show lo; ip -4 addr show dev eth0; echo ROUTES; ip route;
echo FETCH; fetch; echo "fetch=$?"; echo ARP; cat /proc/net/arp;
echo RESOLV; cat /etc/resolv.conf'
IDX=$(bundle "$T/b-eth" /var/run/netns/$NS "$NETCHECK") || { echo "FAIL: network (bundle)"; exit 1; }

# ---- a container in the netns with eth0 ------------------------------------------
hull create --bundle "$T/b-eth" eth > "$T/out" 2> "$T/err" < /dev/null; rc=$?
check "create with the eth0 netns exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/err" | tail -20; echo "FAIL: network (create failed)"; exit 1; }
check_grep "while created: tap0_hull in the netns" "tap0_hull" "$(ip -n "$NS" -o link show 2>&1)"
check_grep "while created: clsact qdisc on the netns's eth0" "clsact" \
  "$(ip netns exec "$NS" tc qdisc show dev eth0 2>&1)"
hull start eth; rc=$?
check "start exits 0" [ "$rc" = 0 ]
for _ in $(seq 240); do
  hull state eth 2>/dev/null | grep -q '"status": *"stopped"' && break
  sleep 0.5
done
OUT=$(tr -d '\r' < "$T/out")
check_grep "eth0 inside has the netns interface's MAC" "link/ether $MAC" "$OUT"
check_grep "eth0 inside has MTU 1400 and is up" "eth0: <[^>]*UP[^>]*> mtu 1400" "$OUT"
check_grep "eth0 inside has 10.45.0.2/24" "inet 10\.45\.0\.2/24" "$OUT"
check_grep "the default route goes via 10.45.0.1 on eth0" "default via 10\.45\.0\.1 dev eth0" "$OUT"
check_grep "lo is up" "lo: <LOOPBACK,UP" "$OUT"
check_grep "the container reaches the host's server" "hello from the host $$" "$OUT"
check_grep "the fetch exits 0" "^fetch=0$" "$OUT"
if ! grep -q "^fetch=0$" <<<"$OUT"; then
  echo "  host side: httpd $(kill -0 "$HTTPD" 2>/dev/null && echo alive || echo gone)"
  ip -s link show "$HOSTIF" | sed 's/^/  /'
  ip netns exec "$NS" tc -s filter show dev eth0 ingress 2>&1 | sed 's/^/  /'
fi
check_grep "the bundle's resolv.conf shows inside" "nameserver 10\.45\.0\.53" "$OUT"
hull delete eth; rc=$?
check "delete exits 0" [ "$rc" = 0 ]
check_eq "after delete: no tap in the netns" "" "$(ip -n "$NS" -o link show | grep -o 'tap[0-9]*_hull')"
check_eq "after delete: no qdisc left on eth0 (clsact/ingress)" "" \
  "$(ip netns exec "$NS" tc qdisc show dev eth0 | grep -E 'clsact|ingress')"
check_eq "after delete: no tc filter left on eth0" "" \
  "$(ip netns exec "$NS" tc filter show dev eth0 ingress 2>/dev/null)"
check_grep "after delete: eth0 keeps its address in the netns" "10\.45\.0\.2/24" \
  "$(ip -n "$NS" -4 addr show dev eth0)"

# ---- a netns with only lo: no NIC ------------------------------------------------
LOCHECK=$FETCH'ip link show eth0 >/dev/null 2>&1; echo "eth0=$?";
fetch; echo "fetch=$?"; ip -o link show | grep -c link/ether | sed "s/^/nics=/"'
bundle "$T/b-lo" /var/run/netns/$NS_LO "$LOCHECK" > /dev/null || { echo "FAIL: network (bundle lo)"; exit 1; }
hull run --bundle "$T/b-lo" lonly > "$T/out-lo" 2> "$T/err-lo" < /dev/null; rc=$?
OUT=$(tr -d '\r' < "$T/out-lo")
check "run with the lo-only netns exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/  /' "$T/err-lo" | tail -20
check_grep "lo-only netns: no eth0 inside" "^eth0=[1-9]" "$OUT"
check_grep "lo-only netns: no Ethernet NIC at all" "^nics=0$" "$OUT"
check_grep "lo-only netns: the server is unreachable" "^fetch=1$" "$OUT"
check_eq "lo-only netns: nothing added to it" "lo" "$(ip -n "$NS_LO" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ $//')"
hull delete lonly 2>/dev/null

# ---- a netns path that does not exist --------------------------------------------
bundle "$T/b-bad" /var/run/netns/hulltn-nonexistent true > /dev/null || { echo "FAIL: network (bundle bad)"; exit 1; }
hull create --bundle "$T/b-bad" bad > /dev/null 2> "$T/err-bad" < /dev/null; rc=$?
check "missing netns: create fails" [ "$rc" != 0 ]
check_grep "missing netns: the error names linux.namespaces[$IDX].path" \
  "linux\.namespaces\[$IDX\]\.path.*hulltn-nonexistent" "$(cat "$T/err-bad")"
check "missing netns: no container listed" bash -c "[ -z \"\$('$HULL_BIN' --root '$STATE' list -q)\" ]"

# ---- the host's own netns (what a CRI app container names: /proc/<sandbox pid>/ns/net)
bundle "$T/b-host" /proc/self/ns/net true > /dev/null || { echo "FAIL: network (bundle host)"; exit 1; }
hull create --bundle "$T/b-host" hostns > /dev/null 2> "$T/err-host" < /dev/null; rc=$?
check "host netns: create refused" [ "$rc" != 0 ]
check_grep "host netns: the error says why" \
  "linux\.namespaces\[$IDX\]\.path.*host's network namespace" "$(cat "$T/err-host")"
check_eq "host netns: no tap made on the host" "" "$(ip -o link show | grep -o 'tap[0-9]*_hull')"
check "host netns: no container listed" bash -c "[ -z \"\$('$HULL_BIN' --root '$STATE' list -q)\" ]"

# ---- a netns hull cannot wire: failure after part of the setup ------------------
# eth0 already has a clsact qdisc (another tc user): netns_setup has made
# tap0_hull by then and must take it away again; the foreign qdisc stays.
ip netns exec "$NS" tc qdisc add dev eth0 clsact
hull create --bundle "$T/b-eth" busy > /dev/null 2> "$T/err-busy" < /dev/null; rc=$?
check "busy eth0: create fails" [ "$rc" != 0 ]
check_grep "busy eth0: the error names the interface and the netns field" \
  "linux\.namespaces\[$IDX\]\.path.*eth0.*already has an ingress/clsact qdisc" "$(cat "$T/err-busy")"
check_eq "busy eth0: no tap left in the netns" "" "$(ip -n "$NS" -o link show | grep -o 'tap[0-9]*_hull')"
check_grep "busy eth0: the foreign qdisc is still there" "clsact" \
  "$(ip netns exec "$NS" tc qdisc show dev eth0)"
ip netns exec "$NS" tc qdisc del dev eth0 clsact

# ---- nothing left ----------------------------------------------------------------
check "state dir empty" state_clean
check "no supervisor or virtiofsd left" procs_gone
check_eq "no tap left in the L1 root netns" "" "$(ip -o link show | grep -o 'tap[0-9]*_hull')"
check_summary network
