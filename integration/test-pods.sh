#!/bin/bash
# lane: vm
# Pods (runtime/pods.md): one microVM per Kubernetes pod, driven the way
# containerd's CRI plugin drives runc, with the production backend.
#   - the sandbox ("pause"): annotations container-type sandbox and its own
#     sandbox-id, a netns made here (eth0 = one end of a veth pair, the
#     peer here with a busybox httpd), its own ipc/uts (hostname podhost),
#     a read-only root; create + start boot the pod's VM (the only boot);
#   - app containers: container-type container, sandbox-id naming it,
#     namespaces net/ipc/uts by path /proc/<sandbox pid>/ns/..., their own
#     rootfs (a marker file the sandbox's lacks) and, for app1, a volume
#     and a 64 MiB memory limit.  Each runs in the same VM (boot_id of an
#     exec in the sandbox), sees the pod's NIC and address and reaches the
#     host-side peer, has the sandbox's hostname, its own root; its writes
#     land on the host (rootfs and volume), a file the host puts in its
#     rootfs shows inside; `hull exec` runs in it (status passed on);
#     stats and update reach its guest cgroup;
#   - exit statuses reach each app's supervisor, reaped here as a
#     containerd shim would (a child subreaper): app1 exits 7 on its own,
#     app2 is killed (137), app3 is still running when the sandbox is
#     deleted (137); delete of each leaves no bind mount and no state;
#   - an app container naming a sandbox that does not exist: create fails
#     naming the annotation and the id, nothing is left;
#   - at the end: no supervisor, virtiofsd, mount, state, tap or qdisc.
# Prints PASS:/FAIL: lines.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="pods: "
vmtest_init pods

NS=hulltp-pod
HOSTIF=hulltp-h
HTTPD=
REAPERS=
pods_cleanup () {
  [ -n "$HTTPD" ] && { kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null; }
  vmtest_cleanup
  ip link del "$HOSTIF" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
}
trap pods_cleanup EXIT

# ---- the pod's netns, the host-side peer ------------------------------------------
for m in tun veth sch_ingress cls_u32 act_mirred; do modprobe -q "$m" 2>/dev/null; done
ip netns del "$NS" 2>/dev/null; ip link del "$HOSTIF" 2>/dev/null
if ! { ip netns add "$NS" &&
       ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" &&
       ip -n "$NS" link set eth0 address 02:42:0a:2e:00:02 up &&
       ip -n "$NS" addr add 10.46.0.2/24 dev eth0 &&
       ip -n "$NS" route add default via 10.46.0.1 &&
       ip link set "$HOSTIF" up && ip addr add 10.46.0.1/24 dev "$HOSTIF"; }; then
  echo "FAIL: pods (fixture: netns and veth)"
  exit 1
fi
mkdir -p "$T/www"
echo "hello pod $$" > "$T/www/hello.txt"
(cd "$T/www" && exec busybox httpd -f -p 10.46.0.1:8080 -h .) & HTTPD=$!

# ---- rootfs, volume, bundles ------------------------------------------------------
for r in sb app1 app2 app3; do
  vmtest_rootfs "$T/root-$r" || { echo "FAIL: pods (busybox rootfs)"; exit 1; }
  echo "$r-marker" > "$T/root-$r/marker"
done
mkdir -p "$T/vol"
echo "from the host" > "$T/vol/host-file"

# bundle NAME TYPE SANDBOX-ID SCRIPT: the bundle $T/b-NAME.  TYPE sandbox:
# the netns above, new ipc/uts; TYPE container: SB_PID's namespaces.
bundle () {
  mkdir -p "$T/b-$1" && "$HULL_BIN" spec --bundle "$T/b-$1" || return 1
  python3 - "$T" "$@" "${SB_PID:-0}" "/var/run/netns/$NS" <<'PY'
import json, sys
t, name, kind, sid, script, sbpid, netns = sys.argv[1:8]
path = f"{t}/b-{name}/config.json"
c = json.load(open(path))
c["root"] = {"path": f"{t}/root-{name}", "readonly": kind == "sandbox"}
p = c["process"]
p["args"] = ["sh", "-c", script]
p["terminal"] = False
p["env"] = ["PATH=/bin"]
c["annotations"] = {"io.kubernetes.cri.container-type": kind,
                    "io.kubernetes.cri.sandbox-id": sid}
ns = c["linux"]["namespaces"]
for n in ns:
    if kind == "sandbox" and n["type"] == "network":
        n["path"] = netns
    if kind == "container" and n["type"] in ("network", "ipc", "uts"):
        n["path"] = f"/proc/{sbpid}/ns/" + {"network": "net"}.get(n["type"], n["type"])
if kind == "sandbox":
    c["hostname"] = "podhost"
else:
    c.pop("hostname", None)
if name == "app1":
    c["mounts"].append({"destination": "/vol", "type": "bind", "source": f"{t}/vol",
                        "options": ["rbind", "rw"]})
    c["linux"]["resources"]["memory"] = {"limit": 64 << 20}
json.dump(c, open(path, "w"), indent=1)
PY
}

# A containerd shim stand-in: a child subreaper that runs `hull create`
# and records the exit status of every process it reaps (the supervisor
# among them) in $T/NAME.reaped as "pid status".
cat > "$T/reaper.py" <<'PY'
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
out, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
st = os.waitpid(pid, 0)[1]
open(out + ".create", "w").write("%d\n" % os.waitstatus_to_exitcode(st))
while True:
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    with open(out + ".reaped", "a") as f:
        f.write("%d %d\n" % (p, os.waitstatus_to_exitcode(st)))
PY
# create_reaped NAME [ARGS]: create NAME from $T/b-NAME under a reaper; the
# container's output goes to $T/NAME.out.  Waits for create's own status.
create_reaped () {
  local name=$1
  python3 "$T/reaper.py" "$T/$name" timeout -k 5 "$RUN_TIMEOUT" "$HULL_BIN" --root "$STATE" \
    --log "$T/hull.log" --debug create --bundle "$T/b-$name" --pid-file "$T/$name.pid" "$name" \
    > "$T/$name.out" 2> "$T/$name.err" < /dev/null &
  REAPERS="$REAPERS $!"
  for _ in $(seq $((RUN_TIMEOUT * 5))); do [ -s "$T/$name.create" ] && break; sleep 0.2; done
  [ "$(cat "$T/$name.create" 2>/dev/null)" = 0 ]
}
# reaped_status NAME: the supervisor's exit status once reaped (waits).
reaped_status () {
  local pid; pid=$(cat "$T/$1.pid" 2>/dev/null)
  for _ in $(seq 300); do
    awk -v p="$pid" '$1 == p { print $2; f = 1 } END { exit !f }' "$T/$1.reaped" 2>/dev/null && return
    sleep 0.2
  done
  echo none
}
wait_out () {   # NAME PATTERN
  for _ in $(seq 300); do grep -q -- "$2" "$T/$1.out" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}
status_of () { hull state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null; }
binds_of () { grep -c " $STATE/sb/pod/$1/" /proc/self/mountinfo; }

# ---- the sandbox: the pod's VM ----------------------------------------------------
bundle sb sandbox sb "sleep 1000" || { echo "FAIL: pods (bundle sb)"; exit 1; }
hull create --bundle "$T/b-sb" --pid-file "$T/sb.pid" sb > /dev/null 2> "$T/sb.err" < /dev/null; rc=$?
check "sandbox: create exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/sb.err" | tail -20; echo "FAIL: pods (sandbox create failed)"; exit 1; }
hull start sb; rc=$?
check "sandbox: start exits 0" [ "$rc" = 0 ]
SB_PID=$(cat "$T/sb.pid")
check_grep "sandbox: the share is a shared mount" "$STATE/sb/pod .*shared:" "$(cat /proc/self/mountinfo)"
BOOT=$(hull exec sb cat /proc/sys/kernel/random/boot_id 2>&1)
check_grep "sandbox: exec reads the guest's boot_id" "^[0-9a-f-]{36}$" "$BOOT"

# ---- app containers ----------------------------------------------------------------
FETCH='printf "GET /hello.txt HTTP/1.0\r\n\r\n" | nc -w 10 10.46.0.1 8080 | grep -q "hello pod" && echo fetch-ok;'
APP1=$FETCH'echo boot=$(cat /proc/sys/kernel/random/boot_id); echo host=$(hostname);
ip -4 addr show dev eth0 | grep -o "inet [0-9./]*"; cat /marker; ls /sandbox-only 2>/dev/null;
echo written > /by-app; echo vol-written > /vol/by-app; cat /vol/host-file; echo ready;
while [ ! -e /stop ]; do sleep 0.2; done; echo stopping; exit 7'
touch "$T/root-sb/sandbox-only"
bundle app1 container sb "$APP1" && bundle app2 container sb "echo ready; exec sleep 1000" &&
  bundle app3 container sb "echo ready; exec sleep 1000" || { echo "FAIL: pods (bundles)"; exit 1; }
create_reaped app1; rc=$?
check "app1: create exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/app1.err" | tail -20; echo "FAIL: pods (app1 create failed)"; exit 1; }
check_eq "app1: state created" created "$(status_of app1)"
check "app1: its rootfs is bound into the pod's share" [ "$(binds_of app1)" -ge 2 ]
hull start app1; rc=$?
check "app1: start exits 0" [ "$rc" = 0 ]
check "app1: runs" wait_out app1 '^ready$'
OUT=$(cat "$T/app1.out")
check_grep "app1: same VM as the sandbox (boot_id)" "^boot=$BOOT$" "$OUT"
check_grep "app1: the sandbox's hostname (uts shared)" "^host=podhost$" "$OUT"
check_grep "app1: the pod's address on eth0" "^inet 10\.46\.0\.2/24$" "$OUT"
check_grep "app1: reaches the host-side peer" "^fetch-ok$" "$OUT"
check_grep "app1: its own rootfs" "^app1-marker$" "$OUT"
check "app1: not the sandbox's rootfs" bash -c "! grep -q sandbox-only '$T/app1.out'"
check_grep "app1: reads the volume" "^from the host$" "$OUT"
check_eq "app1: its write lands in its rootfs on the host" written "$(cat "$T/root-app1/by-app" 2>&1)"
check_eq "app1: its write lands in the volume on the host" vol-written "$(cat "$T/vol/by-app" 2>&1)"
check_eq "app1: state running, pid = the pid file" "running $(cat "$T/app1.pid")" \
  "$(hull state app1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["pid"])')"
check_eq "app1: exec runs in it" app1-marker "$(hull exec app1 cat /marker 2>&1)"
check_eq "app1: exec in the same VM" "$BOOT" "$(hull exec app1 cat /proc/sys/kernel/random/boot_id 2>&1)"
hull exec app1 sh -c 'exit 5'; rc=$?
check_eq "app1: exec's exit status" 5 "$rc"
check_grep "app1: stats from its guest cgroup (memory limit)" '"limit": *67108864' \
  "$(hull events --stats app1 2>&1)"
echo '{"memory":{"limit":50331648}}' > "$T/res.json"
hull update --resources "$T/res.json" app1; rc=$?
check "app1: update exits 0" [ "$rc" = 0 ]
check_grep "app1: update reaches its guest cgroup" '"limit": *50331648' "$(hull events --stats app1 2>&1)"

create_reaped app2 && hull start app2; rc=$?
check "app2: create and start exit 0" [ "$rc" = 0 ]
check "app2: runs" wait_out app2 '^ready$'
check_eq "app2: its own rootfs, not app1's" "app2-marker" "$(hull exec app2 cat /marker 2>&1)"
check_eq "app2: same VM" "$BOOT" "$(hull exec app2 cat /proc/sys/kernel/random/boot_id 2>&1)"

# app1 ends on its own: a file the host puts in its rootfs.
touch "$T/root-app1/stop"
check_eq "app1: its exit status reaches its supervisor" 7 "$(reaped_status app1)"
check_eq "app1: state stopped" stopped "$(status_of app1)"
check_grep "app1: it saw the host's file" "^stopping$" "$(cat "$T/app1.out")"
hull delete app1; rc=$?
check "app1: delete exits 0" [ "$rc" = 0 ]
check_eq "app1: no bind mount left" 0 "$(binds_of app1)"
check "app1: no state left" [ ! -e "$STATE/app1" ]
check "app1: its binds' dir is gone from the share" [ ! -e "$STATE/sb/pod/app1" ]
check_eq "app1: the host volume is intact" "from the host" "$(cat "$T/vol/host-file")"
check_eq "the sandbox still runs" running "$(status_of sb)"

# app2 is killed.
hull kill app2 KILL; rc=$?
check "app2: kill exits 0" [ "$rc" = 0 ]
check_eq "app2: killed (137) reaches its supervisor" 137 "$(reaped_status app2)"
hull delete app2; rc=$?
check "app2: delete exits 0" [ "$rc" = 0 ]
check_eq "app2: no bind mount left" 0 "$(binds_of app2)"
check "app2: no state left" [ ! -e "$STATE/app2" ]
check_eq "app2: the sandbox still answers" "$BOOT" "$(hull exec sb cat /proc/sys/kernel/random/boot_id 2>&1)"

# ---- an app container of a sandbox that does not exist ----------------------------
bundle bad container nosuch "true" > /dev/null || { echo "FAIL: pods (bundle bad)"; exit 1; }
mkdir -p "$T/root-bad"
hull create --bundle "$T/b-bad" bad > /dev/null 2> "$T/bad.err" < /dev/null; rc=$?
check "no such sandbox: create fails" [ "$rc" != 0 ]
check_grep "no such sandbox: the error names the annotation and the id" \
  "io\.kubernetes\.cri\.sandbox-id.*\`nosuch\` does not exist" "$(cat "$T/bad.err")"
check "no such sandbox: no state left" [ ! -e "$STATE/bad" ]
check_eq "no such sandbox: not listed (only the sandbox is)" "sb" \
  "$("$HULL_BIN" --root "$STATE" list -q | tr '\n' ' ' | sed 's/ $//')"

# ---- the sandbox goes while app3 runs ----------------------------------------------
create_reaped app3 && hull start app3; rc=$?
check "app3: create and start exit 0" [ "$rc" = 0 ]
check "app3: runs" wait_out app3 '^ready$'
hull delete -f sb; rc=$?
check "sandbox: delete -f exits 0" [ "$rc" = 0 ]
check_eq "app3: ended with the VM (137) at its supervisor" 137 "$(reaped_status app3)"
check_eq "app3: state stopped" stopped "$(status_of app3)"
hull delete app3; rc=$?
check "app3: delete exits 0" [ "$rc" = 0 ]
for r in $REAPERS; do wait "$r" 2>/dev/null; done

# ---- nothing left ----------------------------------------------------------------
check "state dir empty" state_clean
check "no supervisor or virtiofsd left" procs_gone
check_eq "no mount left under the test dir" "" "$(grep -F " $T/" /proc/self/mountinfo)"
check_eq "no tap left in the pod's netns" "" "$(ip -n "$NS" -o link show | grep -o 'tap[0-9]*_hull')"
check_eq "no qdisc left on the pod's eth0" "" \
  "$(ip netns exec "$NS" tc qdisc show dev eth0 | grep -E 'clsact|ingress')"
check_summary pods
