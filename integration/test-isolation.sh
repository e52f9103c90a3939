#!/bin/bash
# lane: vm
# What a container cannot reach, against a real microVM (build/hull,
# production backend), all in one container (one VM boot, 128 MiB):
#  - network: the config's network namespace has no path (docker
#    --network none), so the VM has no NIC: only lo in the guest, and a
#    listener on the host (L1) is never reached, neither on 127.0.0.1
#    nor on any address the host has (nc and wget);
#  - files: marker files in the host's /tmp and /root are not visible,
#    nothing of the host's state dir is; /proc shows only the guest's
#    processes (no supervisor, virtiofsd), the guest's own memory size;
#    no /dev/kvm;
#  - resources: a memory hog is stopped inside the VM (the supervisor's
#    RSS stays near the VM's size), the container still answers; a
#    fork bomb (exponential, spinning: it starves the guest's agent) plus
#    a busy loop leave the host responsive (a host command timed during
#    the bomb), and `hull kill ID KILL` stops the container within 5 s
#    (measured; when the agent cannot act in time the supervisor stops
#    the VM, VM_KILL_GRACE_MS); delete leaves nothing.
# Prints PASS:/FAIL: lines.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="isolation: "
vmtest_init isolation
VM_MIB=128
printf '{ "bootTimeoutMs": %d, "defaultMemoryMiB": %d }\n' "$((RUN_TIMEOUT * 1000 / 2))" "$VM_MIB" \
  > "$T/settings.json"

TOKEN=hull-iso-$$-$RANDOM
MARKERS="/tmp/$TOKEN /root/$TOKEN"
LISTENER=
iso_cleanup () {
  [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
  rm -f $MARKERS
  vmtest_cleanup
}
trap iso_cleanup EXIT

# Not python3 (it can take seconds to start in a busy L1): this one times
# the kill.
status_of () { hull state "$1" | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'; }
now_ms () { echo $(($(date +%s%N) / 1000000)); }
# value KEY: the KEY=... line the in-container probe printed.
value () { sed -n "s/^$1=//p" "$T/probe.out" | head -n1; }

# ---- host side: markers and a listener ----------------------------------------
for m in $MARKERS; do echo "$TOKEN" > "$m" || fail "marker $m"; done
PORT=$((20000 + RANDOM % 20000))
python3 - "$PORT" "$T/connected" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
while True:
    c, a = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("%s\n" % (a[0],))
    c.close()
PY
LISTENER=$!
# Positive control: the listener answers on the host, and records it.
python3 - "$PORT" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3).close()
        break
    except OSError:
        time.sleep(0.1)
PY
sleep 0.3
check "host listener works (control)" grep -q . "$T/connected"
: > "$T/connected"
ADDRS="127.0.0.1 $(ip -4 -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | grep -vx 127.0.0.1 | tr '\n' ' ')"
ADDRS="$ADDRS 10.0.2.2"   # QEMU's user-mode gateway, had L1 a NIC
echo "  host addresses tried from the container: $ADDRS"

# ---- rootfs and bundle ------------------------------------------------------------
R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: isolation (busybox rootfs)"; exit 1; }
mkdir -p "$T/bundle" "$R/root"
"$HULL_BIN" spec --bundle "$T/bundle" || { echo "FAIL: isolation (hull spec)"; exit 1; }
python3 - "$T/bundle/config.json" "$R" <<'PY' || { echo "FAIL: isolation (bundle)"; exit 1; }
import json, sys
path, rootfs = sys.argv[1:3]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
c["process"].update(args=["sh", "-c", "echo ready; while :; do sleep 1; done"],
                    terminal=False, env=["PATH=/bin"])
# No linux.resources: the guest gets the settings' defaultMemoryMiB.
c["linux"].pop("resources", None)
ns = c["linux"]["namespaces"]
net = [n for n in ns if n["type"] == "network"]
assert net and "path" not in net[0], ns   # --network none: a new, empty netns
json.dump(c, open(path, "w"), indent=1)
PY

hull --log "$T/sup.log" create --bundle "$T/bundle" --pid-file "$T/pid" iso > "$T/init.out" 2> "$T/err" < /dev/null; rc=$?
check "create exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/err" | tail -20; echo "FAIL: isolation (create failed)"; exit 1; }
hull start iso
check "running" [ "$(status_of iso)" = running ]
sup=$(cat "$T/pid")

# ---- probes inside the container (one exec) -------------------------------------
cat > "$R/probe" <<'SH'
echo "links=$(ls /sys/class/net | tr '\n' ' ')"
echo "iplinks=$(ip link 2>&1 | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p' | tr '\n' ' ')"
reached=""
for a in $ADDRS; do
  nc -w 3 "$a" "$PORT" < /dev/null > /dev/null 2>&1 && reached="$reached nc:$a"
  wget -q -T 3 -O /dev/null "http://$a:$PORT/" > /dev/null 2>&1 && reached="$reached wget:$a"
done
echo "reached=$reached"
seen=""
for f in /tmp/$TOKEN /root/$TOKEN "$HOSTT"; do [ -e "$f" ] && seen="$seen $f"; done
echo "seen=$seen"
echo "found=$(find / -xdev -name "$TOKEN*" 2>/dev/null | tr '\n' ' ')"
echo "grep=$(grep -rl "$TOKEN" /tmp /root /etc 2>/dev/null | tr '\n' ' ')"
echo "nprocs=$(ls /proc | grep -c '^[0-9][0-9]*$')"
echo "hostprocs=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -oE 'virtiofs[d]|supervis[e]|qemu-syste[m]' | sort -u | tr '\n' ' ')"
echo "memtotal_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
echo "kvm=$(ls /dev/kvm 2>/dev/null)"
echo "done=1"
SH
timeout 120 "$HULL_BIN" --root "$STATE" exec --env "ADDRS=$ADDRS" --env "PORT=$PORT" \
  --env "TOKEN=$TOKEN" --env "HOSTT=$T" iso sh /probe > "$T/probe.out" 2> "$T/probe.err"; rc=$?
check "probe exec exits 0" [ "$rc" = 0 ]
check "probe ran to the end" [ "$(value done)" = 1 ]
[ "$(value done)" = 1 ] || sed 's/^/  probe: /' "$T/probe.out" "$T/probe.err" | head -30
check_eq "network: only lo in /sys/class/net" "lo" "$(value links | xargs)"
check_eq "network: ip link shows only lo" "lo" "$(value iplinks | xargs)"
check_eq "network: no host address reached by nc or wget" "" "$(value reached | xargs)"
sleep 0.3
check_eq "network: the host listener saw no connection" "" "$(cat "$T/connected")"
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null; LISTENER=
check_eq "files: host markers in /tmp and /root not visible, nor the state dir" "" "$(value seen | xargs)"
check_eq "files: find / finds no marker" "" "$(value found | xargs)"
check_eq "files: no file holds the marker's text" "" "$(value grep | xargs)"
host_n=$(ls /proc | grep -c '^[0-9][0-9]*$')
n=$(value nprocs)
echo "  processes: $n in the container, $host_n on the host"
check "proc: only the guest's processes (fewer than 20, host has $host_n)" \
  bash -c "[ -n '$n' ] && [ '$n' -lt 20 ] && [ '$n' -lt '$host_n' ]"
check_eq "proc: no supervisor/virtiofsd/qemu visible" "" "$(value hostprocs | xargs)"
mem=$(value memtotal_kb)
check "proc: meminfo is the guest's ($mem kB <= $VM_MIB MiB)" \
  bash -c "[ -n '$mem' ] && [ '$mem' -le $((VM_MIB * 1024)) ]"
check_eq "dev: no /dev/kvm" "" "$(value kvm)"

# ---- memory hog --------------------------------------------------------------------
t0=$(now_ms)
timeout 180 "$HULL_BIN" --root "$STATE" exec iso sh -c 'x=0123456789abcdef; while :; do x=$x$x; done' \
  > /dev/null 2> "$T/hog.err"; rc=$?
echo "  memory hog: exit $rc after $(($(now_ms) - t0)) ms; $(tail -n1 "$T/hog.err" | cut -c1-200)"
check "memory hog: stopped inside the VM (non-zero, not our timeout)" bash -c "[ $rc != 0 ] && [ $rc != 124 ]"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$sup/status" 2>/dev/null)
echo "  supervisor RSS after the hog: ${rss:-?} kB"
check "memory hog: supervisor RSS within the VM's size + 128 MiB" \
  bash -c "[ -n '$rss' ] && [ '$rss' -lt $(((VM_MIB + 128) * 1024)) ]"
out=$(timeout 120 "$HULL_BIN" --root "$STATE" exec iso echo alive 2>&1)
check_eq "memory hog: the container still answers" alive "$out"

# ---- fork bomb + busy loop, host responsiveness, kill -------------------------------
timeout 60 "$HULL_BIN" --root "$STATE" exec -d iso sh -c 'while :; do :; done'
check "busy loop started" [ $? = 0 ]
# A real one: every copy forks two more and spins, until the guest runs
# out of memory or pids; the VM bounds it, the kill ends it.
timeout 60 "$HULL_BIN" --root "$STATE" exec -d iso sh -c \
  'echo forking > /tmp/bomb.started; b () { b & b & while :; do :; done; }; b'
check "fork bomb started" [ $? = 0 ]
host_cmd () { timeout 30 cat /proc/loadavg > /dev/null && echo ok; }
t0=$(now_ms); host_cmd > /dev/null; base=$(($(now_ms) - t0))
sleep 5
t0=$(now_ms)
out=$(host_cmd)
dt=$(($(now_ms) - t0))
echo "  host command: ${base} ms before the bomb, ${dt} ms during it"
check "host responsive during the bomb (< 5 s)" bash -c "[ '$out' = ok ] && [ $dt -lt 5000 ]"
check "the fork bomb ran" grep -qx forking "$R/tmp/bomb.started"
t0=$(now_ms)
timeout 30 "$HULL_BIN" --root "$STATE" kill iso KILL; rc=$?
check "kill KILL exits 0" [ "$rc" = 0 ]
st=
for _ in $(seq 200); do
  st=$(status_of iso)
  [ "$st" = stopped ] && break
  sleep 0.05
done
dt=$(($(now_ms) - t0))
echo "  kill KILL -> stopped: ${dt} ms"
check_eq "kill: stopped" stopped "$st"
check "kill: stopped within 5 s of kill KILL" [ "$dt" -lt 5000 ]
# The guest may be too busy to act in time: then the VM itself is stopped.
grep -h 'SIGKILL' "$T/sup.log" 2>/dev/null | sed 's/^/  supervisor: /' | cut -c1-300
for _ in $(seq 100); do [ -e "/proc/$sup" ] || break; sleep 0.1; done
check "kill: supervisor gone" [ ! -e "/proc/$sup" ]
hull delete iso; rc=$?
check "delete exits 0" [ "$rc" = 0 ]
check "state dir empty" state_clean
check "nothing running" procs_gone

check_summary isolation
