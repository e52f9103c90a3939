#!/bin/bash
# lane: vm
# linux.resources with the production backend (build/hull), two VM boots:
#  1. cpu quota 2 CPUs, memory.limit 192 MiB, pids.limit 20, cgroupsPath:
#     nproc = 2 in the guest, MemTotal <= 160 MiB (limit - 32 MiB overhead),
#     a fork beyond pids.limit fails, `hull update` raises it live, refuses
#     more vCPUs and more RAM naming the field; the supervisor and virtiofsd
#     sit in cgroupsPath on the host with memory.max = the limit; a memory
#     hog exec'd beyond the guest's RAM is OOM-killed (137) and `hull
#     events` prints {"type":"oom"}; `update` lowers memory.limit live (the
#     host keeps what the VM holds) and the next hog meets it; the host
#     cgroup is gone after run deletes the container.
#  2. annotations io.hull.vcpus=1, io.hull.memory_mib=144 (nproc 1,
#     MemTotal <= 144 MiB), then init becomes a memory hog: exit 137; a
#     bad annotation fails create naming it, with no boot and nothing left.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="resources: "
vmtest_init resources
CG=/sys/fs/cgroup
grep -q " $CG cgroup2 " /proc/mounts || { skip "host cgroup checks" "$CG is not cgroup v2"; CG=; }

R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: resources (busybox rootfs)"; exit 1; }
# mkbundle DIR ARGS_JSON EXTRA_PYTHON
mkbundle () {
  mkdir -p "$1" && "$HULL_BIN" spec --bundle "$1" || return 1
  python3 - "$1/config.json" "$R" "$2" "$3" <<'PY'
import json, sys
path, rootfs, args, extra = sys.argv[1:5]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
c["process"].update(args=json.loads(args), terminal=False, env=["PATH=/bin"])
exec(extra)
json.dump(c, open(path, "w"), indent=1)
PY
}
MIB=$((1024 * 1024))

# ---- boot 1 -------------------------------------------------------------------
# init never forks (the pids test fills the cgroup: a shell that cannot
# fork would exit).
mkbundle "$T/b1" '["sleep","100000"]' '
c["linux"]["cgroupsPath"] = "/hullrestest/res"
c["linux"]["resources"] = {"cpu": {"quota": 200000, "period": 100000},
                           "memory": {"limit": 192 * 1024 * 1024},
                           "pids": {"limit": 20}}' || { echo "FAIL: resources (bundle 1)"; exit 1; }
# Not under hull()'s per-call timeout: this run lasts the whole of boot 1.
timeout -k 5 1200 "$HULL_BIN" --root "$STATE" --debug --log "$T/sup.log" run --bundle "$T/b1" res \
  < /dev/null > "$T/run.out" 2> "$T/run.err" &
RUN=$!
# The guest console log goes with the state dir: keep a copy for failures.
( while kill -0 $RUN 2>/dev/null; do cp "$STATE/res/console.log" "$T/console.copy" 2>/dev/null; sleep 0.5; done ) &
for _ in $(seq 600); do
  [ "$(hull state res 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p')" = running ] && break
  kill -0 $RUN 2>/dev/null || break; sleep 0.5
done
check "boot 1: the container runs" bash -c "'$HULL_BIN' --root '$STATE' state res | grep -q '\"running\"'"
if ! hull state res 2>/dev/null | grep -q '"running"'; then
  sed 's/^/  /' "$T/run.err" | tail -20; echo "FAIL: resources (boot 1 failed)"; exit 1
fi
SUP=$(hull state res | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')

check_eq "vCPUs from cpu quota/period: CPUs in the guest" 2 "$(hull exec res grep -c ^processor /proc/cpuinfo < /dev/null 2>&1)"
MT=$(hull exec res sh -c < /dev/null "sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo")
check "guest RAM from memory.limit: MemTotal $MT kB in (100, 160] MiB" \
  bash -c "[ '${MT:-0}' -gt $((100 * 1024)) ] && [ '${MT:-0}' -le $((160 * 1024)) ]"

# pids.limit 20: 30 background sleeps cannot all fork.
FORK='i=0; while [ $i -lt 30 ]; do sleep 20 & i=$((i+1)); done; echo forked-all'
hull exec res sh -c "$FORK" < /dev/null > "$T/f1.out" 2> "$T/f1.err"; rc=$?
check "pids.limit enforced in the guest: fork beyond it fails" \
  bash -c "[ $rc != 0 ] && ! grep -q forked-all '$T/f1.out' && grep -qi fork '$T/f1.err'"
echo '{"pids": {"limit": 200}}' > "$T/pids.json"
hull update --resources "$T/pids.json" res; check "update pids.limit live exits 0" [ $? = 0 ]
hull exec res sh -c "$FORK" < /dev/null > "$T/f2.out" 2> "$T/f2.err"
check "after update the same forks succeed" grep -q forked-all "$T/f2.out"

echo '{"cpu": {"quota": 400000, "period": 100000}}' > "$T/cpu.json"
hull update --resources "$T/cpu.json" res > "$T/u1.out" 2>&1; rc=$?
check "update asking for more vCPUs is refused naming the field" \
  bash -c "[ $rc != 0 ] && grep -q 'linux.resources.cpu' '$T/u1.out' && grep -q vCPU '$T/u1.out'"
echo '{"memory": {"limit": 1073741824}}' > "$T/mem.json"
hull update --resources "$T/mem.json" res > "$T/u2.out" 2>&1; rc=$?
check "update growing RAM beyond the VM is refused naming the field" \
  bash -c "[ $rc != 0 ] && grep -q 'linux.resources.memory.limit' '$T/u2.out'"

if [ -n "$CG" ]; then
  check_eq "host: the supervisor is in cgroupsPath" "0::/hullrestest/res" "$(cat /proc/$SUP/cgroup)"
  FSD=$(pgrep -f -- "virtiofsd.*$T" | head -1)
  check_eq "host: virtiofsd is in cgroupsPath too" "0::/hullrestest/res" "$(cat /proc/${FSD:-0}/cgroup 2>/dev/null)"
  check_eq "host: memory.max = memory.limit" $((192 * MIB)) "$(cat $CG/hullrestest/res/memory.max)"
  check_eq "host: cpu.max from quota/period" "200000 100000" "$(cat $CG/hullrestest/res/cpu.max)"
  check_eq "host: the container's pids.limit is not the host's" max "$(cat $CG/hullrestest/res/pids.max)"
fi

# OOM: a hog beyond the guest's RAM, exec'd.
[ -n "$CG" ] && echo "  (host cgroup memory.current before the hog: $(cat $CG/hullrestest/res/memory.current))"
hull events --interval 1s res > "$T/events" 2>&1 &
EV=$!
sleep 2
hull exec res tail /dev/zero < /dev/null > /dev/null 2> "$T/hog.err"; rc=$?
check_eq "a memory hog is OOM-killed in the guest: exec exits 137" 137 "$rc"
for _ in $(seq 20); do grep -q '"oom"' "$T/events" && break; sleep 0.5; done
check "hull events prints {\"type\":\"oom\",\"id\":\"res\"}" grep -qx '{"type":"oom","id":"res"}' "$T/events"
if "$HULL_BIN" --root "$STATE" state res | grep -q '"running"'; then
  pass "the container survives an exec'd process's OOM"
else
  fail "the container survives an exec'd process's OOM"
  { tail -n 30 "$T/console.copy"; tail -n 15 "$T/sup.log"; dmesg | grep -iE 'oom|killed' | tail -n 8; } 2>&1 | sed 's/^/  /'
fi

# Lower the limit live: the guest enforces it, the host keeps what the VM holds.
echo '{"memory": {"limit": 67108864}}' > "$T/mem2.json"
hull update --resources "$T/mem2.json" res; check "update lowering memory.limit exits 0" [ $? = 0 ]
[ -n "$CG" ] && check_eq "host: memory.max not lowered below what the VM holds" $((192 * MIB)) \
  "$(cat $CG/hullrestest/res/memory.max)"

# A hog now meets the guest cgroup's lower limit (not the guest's RAM).
hull exec res tail /dev/zero < /dev/null > /dev/null 2> "$T/hog2.err"; rc=$?
check_eq "a hog beyond the lowered memory.limit is OOM-killed: exec exits 137" 137 "$rc"
for _ in $(seq 20); do [ "$(grep -c '"oom"' "$T/events")" -ge 2 ] && break; sleep 0.5; done
check "hull events: a second oom event" bash -c "[ \$(grep -c '\"oom\"' '$T/events') -ge 2 ]"
hull kill res KILL
for _ in $(seq 240); do kill -0 $RUN 2>/dev/null || break; sleep 0.5; done
wait $RUN; rc=$?
check_eq "boot 1: run ends with the status of the killed init" 137 "$rc"
kill $EV 2>/dev/null; wait $EV 2>/dev/null
[ -n "$CG" ] && check "host: the cgroup hull created is gone after run" [ ! -e $CG/hullrestest ]
check "boot 1: nothing left running" procs_gone
check "boot 1: state dir clean" state_clean

# ---- boot 2: annotations -------------------------------------------------------
# init prints its CPUs and RAM, then becomes a memory hog (tail keeps the
# whole "line" of /dev/zero): an OOM-killed init is exit status 137.
mkbundle "$T/b2" '["sh","-c","grep -c ^processor /proc/cpuinfo; sed -n \"s/^MemTotal: *\\([0-9]*\\) kB/\\1/p\" /proc/meminfo; exec tail /dev/zero"]' '
c["annotations"] = {"io.hull.vcpus": "1", "io.hull.memory_mib": "144"}
c["linux"]["resources"] = {"cpu": {"quota": 200000, "period": 100000}}' \
  || { echo "FAIL: resources (bundle 2)"; exit 1; }
hull run --bundle "$T/b2" ann < /dev/null > "$T/ann.out" 2> "$T/ann.err"; rc=$?
check_eq "init OOM-killed in the guest: the container exits 137, as Docker shows" 137 "$rc"
check_eq "annotation io.hull.vcpus overrides the quota: CPUs in the guest" 1 "$(sed -n 1p "$T/ann.out")"
MT=$(sed -n 2p "$T/ann.out")
check "annotation io.hull.memory_mib: MemTotal $MT kB <= 144 MiB" \
  bash -c "[ '${MT:-0}' -gt $((64 * 1024)) ] && [ '${MT:-0}' -le $((144 * 1024)) ]"

mkbundle "$T/b3" '["true"]' 'c["annotations"] = {"io.hull.vcpus": "lots"}' \
  || { echo "FAIL: resources (bundle 3)"; exit 1; }
hull create --bundle "$T/b3" bad > "$T/bad.out" 2>&1; rc=$?
check "bad annotation: create fails naming io.hull.vcpus" \
  bash -c "[ $rc != 0 ] && grep -q 'io.hull.vcpus' '$T/bad.out'"
check "bad annotation: nothing left running" procs_gone
check "bad annotation: state dir clean" state_clean

check_summary resources
