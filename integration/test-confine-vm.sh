#!/bin/bash
# lane: vm
# Confinement of a real container's supervisor (runtime/confine.h), one VM
# boot: once `hull create` returns, the supervisor has no capabilities
# (every set of its main thread, the effective set of every thread),
# no_new_privs and seccomp mode 2 on every thread, and the container
# still goes through its whole life under the filter: startContainer hook
# (run by `hull start` now), exec (plain, a terminal with a resize, 8 MiB
# of output), ps, stats, pause/resume, kill, delete.  The kernel's audit
# log must show no seccomp kill, and the supervisor's own log must end
# with the container's status (it did not die of SIGSYS on the way).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="confine-vm: "
vmtest_init confine

field () { awk -v k="$2:" '$1 == k { print $2 }' "$1/status"; }
json_field () { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$@" 2>/dev/null; }
kills () { dmesg 2>/dev/null | grep -E 'type=1326|seccomp' | grep -E 'sig=31|code=0x80000000' ; }
kills_before=$(kills | wc -l)

R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: confine-vm (busybox rootfs)"; exit 1; }
cat > "$T/hook" <<'SH'
#!/bin/sh
cat > "$HOOK_DIR/$1.json"
SH
chmod +x "$T/hook"
mkdir -p "$T/bundle"
"$HULL_BIN" spec --bundle "$T/bundle" || { echo "FAIL: confine-vm (hull spec)"; exit 1; }
python3 - "$T/bundle/config.json" "$R" "$T" <<'PY' || { echo "FAIL: confine-vm (bundle)"; exit 1; }
import json, sys
path, rootfs, t = sys.argv[1:4]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
p = c["process"]
p["args"] = ["sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done"]
p["terminal"] = False
p["env"] = ["PATH=/bin"]
c["hooks"] = {"startContainer": [{"path": t + "/hook", "args": ["hook", "startContainer"],
                                  "env": ["HOOK_DIR=" + t]}]}
json.dump(c, open(path, "w"), indent=1)
PY

hull --log "$T/log" --debug create --bundle "$T/bundle" --pid-file "$T/pid" cc \
  > /dev/null 2> "$T/err" < /dev/null; rc=$?
check "create exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/err" | tail -20; echo "FAIL: confine-vm (create failed)"; exit 1; }
sup=$(cat "$T/pid")
main=/proc/$sup/task/$sup
for k in CapEff CapPrm CapBnd CapInh CapAmb; do
  check_eq "supervisor main thread: $k" 0000000000000000 "$(field "$main" $k)"
done
check_eq "supervisor: NoNewPrivs" 1 "$(field "$main" NoNewPrivs)"
check_eq "supervisor: Seccomp" 2 "$(field "$main" Seccomp)"
bad=
for t in /proc/$sup/task/*; do
  s="$(field "$t" CapEff)/$(field "$t" NoNewPrivs)/$(field "$t" Seccomp)"
  [ "$s" = 0000000000000000/1/2 ] || bad="$bad ${t##*/}:$s"
done
check_eq "every supervisor thread: CapEff 0, NoNewPrivs 1, Seccomp 2" "" "$bad"
check "supervisor: no fd but /dev/null for stdio" bash -c \
  "for f in 0 1 2; do [ \"\$(readlink /proc/$sup/fd/\$f)\" = /dev/null ] || exit 1; done"

hull start cc; rc=$?
check "start exits 0" [ "$rc" = 0 ]
check_eq "startContainer hook ran with status created" created \
  "$(json_field "$T/startContainer.json" status)"
check_eq "exec" hi "$(hull exec cc echo hi 2>&1)"
check_eq "exec: 8 MiB through stdout" 8388608 "$(hull exec cc head -c 8388608 /dev/zero | wc -c)"
out=$(timeout -k 5 "$RUN_TIMEOUT" script -qec "stty rows 33 cols 77; exec '$HULL_BIN' --root '$STATE' exec -t cc sh -c 'stty size'" /dev/null | tr -d '\r\0'); rc=$?
check "exec -t: exit 0" [ "$rc" = 0 ]
check_grep "exec -t: the terminal size reached the guest" '(^|[^0-9])33 77$' "$out"
hull ps cc > /dev/null; rc=$?
check "ps exits 0" [ "$rc" = 0 ]
check_grep "events --stats" '"type": *"stats"' "$(hull events --stats cc)"
hull pause cc && hull resume cc; rc=$?
check "pause + resume" [ "$rc" = 0 ]
check_eq "state running after resume" running "$(json_field <(hull state cc) status)"
hull kill cc TERM; rc=$?
check "kill TERM exits 0" [ "$rc" = 0 ]
for _ in $(seq 120); do [ "$(json_field <(hull state cc) status)" = stopped ] && break; sleep 0.5; done
check_eq "stopped after TERM" stopped "$(json_field <(hull state cc) status)"
for _ in $(seq 100); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
check_grep "supervisor log: torn down and exited with the container's status" \
  'stopped with status 143' "$(cat "$T/log")"
hull delete cc; rc=$?
check "delete exits 0" [ "$rc" = 0 ]
check "state dir empty" state_clean
check "no virtiofsd or supervisor left" procs_gone
check_eq "no seccomp kill in the kernel log" "$kills_before" "$(kills | wc -l)"
kills | tail -n +"$((kills_before + 1))" | sed 's/^/  /'
[ "$CHECK_FAILS" = 0 ]
