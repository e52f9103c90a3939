#!/bin/bash
# lane: vm
# containerd drives the runtime exactly as it drives runc: a private
# containerd (integration/lib/daemons.sh) and its runc shim
# (io.containerd.runc.v2) with the runc binary replaced by $HULL_RUNTIME_BIN
# (default build/hull, which needs the vm lane).  Validate the harness on
# any host with the control, or the host test backend:
#   HULL_RUNTIME_BIN=/usr/sbin/runc integration/client-containerd.sh
#   HULL_RUNTIME_BIN=build/hull-test integration/client-containerd.sh
# Checks what the shim (go-runc) relies on: create/start with --pid-file,
# exit statuses, a tty through --console-socket, exec (plain and tty), ps,
# pause/resume, kill, delete, errors from the runtime's --log, and an empty
# runtime state dir afterwards.  Also checks that containerd accepts
# contrib/containerd's runtime entry (BinaryName).  Prints PASS:/FAIL: lines.
set -u
cd "$(dirname "$0")/.."
. integration/lib/check.sh
. integration/lib/daemons.sh
CHECK_PREFIX="containerd: "
client_prelude containerd containerd ctr script busybox
containerd_start "$RUNTIME_BIN" || { echo "FAIL: containerd: start"; exit 1; }
pass "containerd started (${DMN_LAST_START_SECS} s)"
rootfs_busybox "$T/rootfs" || { echo "FAIL: containerd: rootfs"; exit 1; }
# -k: ctr forwards TERM to the task, which may ignore it.
C="$CTR --namespace hull-it"
RUNC_ROOT=$T/runc-root
# --runc-root keeps the runtime's state under our dir (default:
# /run/containerd/runc/<namespace>), so "state dir empty" is checkable.
# ctr gives a --rootfs container no environment at all: set PATH.
RUN="run --runtime io.containerd.runc.v2 --runc-binary $RUNTIME_BIN --runc-root $RUNC_ROOT --env PATH=/bin --rootfs"
state_dir_empty () {
  local left
  left=$(ls -A "$RUNC_ROOT"/* 2>/dev/null | grep -v '^\.lock$')
  [ -z "$left" ] || { echo "  left in $RUNC_ROOT: $left"; return 1; }
}
task_status () { $C task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
wait_task () {   # ID STATUS: up to 60 s; at once when there is no such task
  local s
  for _ in $(seq 300); do
    s=$(task_status "$1"); [ "$s" = "$2" ] && return 0; [ -z "$s" ] && return 1; sleep 0.2
  done; return 1; }

# ---- run: output, exit status, stdin, tty -------------------------------------------
out=$($C $RUN --rm "$T/rootfs" c1 sh -c 'echo hello-ctr; exit 3'); rc=$?
check_eq "ctr run: exit status reaches ctr" 3 "$rc"
check_eq "ctr run: stdout" hello-ctr "$out"
# ctr never closes the task's stdin at EOF (the shim keeps the fifo open),
# so the process reads what it needs and exits on its own.
out=$(printf 'a\nb\n' | $C $RUN --rm "$T/rootfs" c2 sh -c 'read x; read y; echo $y$x')
check_eq "ctr run: piped stdin" ba "$out"
out=$(printf 'typed\n' | timeout 120 script -qec "exec $C $RUN --rm -t $T/rootfs c3 sh -c 'test -t 0 && echo TTY-OK; read x; echo got:\$x; exit 5'" /dev/null); rc=$?
check_eq "ctr run -t: exit status" 5 "$rc"
check_grep "ctr run -t: process on a tty" TTY-OK "$out"
check_grep "ctr run -t: input reaches the process" got:typed "$out"

# ---- a long-lived task: exec, ps, pause/resume, kill, delete ---------------------
$C $RUN -d "$T/rootfs" c4 sh -c 'trap "exit 7" TERM; while :; do sleep 0.2; done'
check "ctr run -d" wait_task c4 RUNNING
PID=$($C task ls | awk '$1 == "c4" { print $2 }')
check "task pid is a live process" kill -0 "${PID:-0}"
case $(basename "$RUNTIME_BIN") in
  hull*) check "task pid is hull's supervisor" grep -q supervise "/proc/$PID/cmdline" ;;
esac
out=$($C task exec --exec-id e1 c4 sh -c 'echo in-exec'); rc=$?
check_eq "task exec: status and output" 0:in-exec "$rc:$out"
$C task exec --exec-id e2 c4 sh -c 'sleep 0.2; exit 6'; rc=$?
check_eq "task exec: exit status" 6 "$rc"
out=$(timeout 120 script -qec "exec $C task exec -t --exec-id e3 c4 sh -c 'test -t 1 && echo EXEC-TTY'" /dev/null)
check_grep "task exec -t: on a tty" EXEC-TTY "$out"
check "task ps lists the process" [ "$($C task ps c4 | tail -n +2 | wc -l)" -ge 1 ]
$C task pause c4; check "pause -> PAUSED" wait_task c4 PAUSED
$C task exec --exec-id e4 c4 true >/dev/null 2>&1; check "exec into a paused task fails" [ $? != 0 ]
$C task resume c4; check "resume -> RUNNING" wait_task c4 RUNNING
$C task kill -s TERM c4; check "kill TERM -> STOPPED" wait_task c4 STOPPED
out=$($C task delete c4 2>&1); rc=$?
check_eq "task delete" 0 "$rc"
check_grep "task delete reports the exit status 7" 'exit code 7' "$out"
$C container delete c4; check "container delete" [ $? = 0 ]
$C $RUN -d "$T/rootfs" c5 sleep 1000
wait_task c5 RUNNING
$C task kill -s KILL c5; check "kill KILL -> STOPPED" wait_task c5 STOPPED
$C task delete c5 >/dev/null 2>&1; $C container delete c5 >/dev/null 2>&1
check "runtime state dir empty" state_dir_empty

# ---- production-length state paths ------------------------------------------------
# Kubernetes: root /run/containerd/runc, namespace k8s.io, 64-hex ids.  The
# runtime binds its unix sockets (107 bytes at most) somewhere under
# <root>/<namespace>/<id>/; this root gives paths exactly that long.
# 19 bytes + namespace hull-it (7) = /run/containerd/runc (20) + k8s.io (6).
K8S_ROOT=$DMN_EXEC_DIR/rt0
LONGID=$(printf '%064d' 0 | tr 0 a)
out=$($C run --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME_BIN" --runc-root "$K8S_ROOT" \
  --env PATH=/bin --rootfs --rm "$T/rootfs" "$LONGID" sh -c 'echo long-id-ok' 2>&1); rc=$?
check_eq "ctr run: 64-char id under a root as long as Kubernetes' (status and output)" "0:long-id-ok" "$rc:$out"
$C container delete "$LONGID" >/dev/null 2>&1

# ---- the runtime's error reaches ctr ----------------------------------------------
# A rootfs that does not exist: the runtime refuses the bundle; the shim
# relays the last error of the runtime's --log json file.
$C $RUN --rm "$T/no-such-rootfs" c6 true >/dev/null 2>"$T/err"; rc=$?
check "run with a missing rootfs fails" [ $rc != 0 ]
check_grep "the runtime's error names the rootfs" "no-such-rootfs" "$(cat "$T/err")"
$C container delete c6 >/dev/null 2>&1
check "runtime state dir empty after the failure" state_dir_empty

# ---- contrib's runtime entry is what containerd reads -----------------------------
for v in 2; do
  f=contrib/containerd/config-v$v.toml
  if [ ! -e "$f" ]; then fail "$f missing"; continue; fi
  printf 'version = %s\nimports = ["%s"]\n' "$v" "$PWD/$f" > "$T/import-v$v.toml"
  out=$(containerd --config "$T/import-v$v.toml" config dump 2>&1)
  check_grep "$f: runtime hull is io.containerd.runc.v2" '^ *runtime_type = "io\.containerd\.runc\.v2"' \
    "$(sed -n '/runtimes\.hull\]/,/^ *$/p' <<<"$out")"
  check_grep "$f: runtime hull's BinaryName" '^ *BinaryName = "/usr/local/bin/hull"' \
    "$(sed -n '/runtimes\.hull\.options\]/,/^ *$/p' <<<"$out")"
done

check_summary containerd
