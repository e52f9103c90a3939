#!/bin/bash
# lane: host
# hull driven by containerd exactly like runc: a private containerd, its
# runc shim (io.containerd.runc.v2) with the runc binary replaced by
# build/hull-test (the test-only build whose backend runs the container's
# processes as host children, chrooted into a busybox rootfs).  Checks what
# go-runc relies on: create/start with --pid-file, exit statuses, a tty
# through --console-socket, exec (plain and tty), ps, pause/resume, kill,
# delete, and a clean state dir.  Prints PASS:/FAIL: lines.
set -u
cd "$(dirname "$0")/.."
for tool in containerd ctr script busybox; do
  command -v $tool >/dev/null || { echo "FAIL: containerd test needs $tool"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL: containerd test needs root"; exit 1; }
make -s build/hull-test >/dev/null || { echo "FAIL: build build/hull-test"; exit 1; }
HULL_BIN=$PWD/build/hull-test
T=$(mktemp -d /tmp/hull-ctd.XXXXXX)
FAILS=0
CTD_PID=
cleanup () {
  [ -n "$CTD_PID" ] && kill -TERM "$CTD_PID" 2>/dev/null && sleep 1
  umount -R "$T/state" 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
pass () { echo "PASS: $*"; }
fail () { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check () { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

mkdir -p "$T/rootfs/bin" "$T/rootfs/tmp"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in sh echo sleep cat true test; do ln -s busybox "$T/rootfs/bin/$a"; done
cat > "$T/config.toml" <<TOML
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/containerd.sock"
[ttrpc]
  address = "$T/containerd-ttrpc.sock"
TOML
timeout 600 containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 & CTD_PID=$!
for _ in $(seq 100); do [ -S "$T/containerd.sock" ] && break; sleep 0.1; done
C="timeout 60 ctr --address $T/containerd.sock"
# ctr passes no --root: the shim uses /run/containerd/runc/<namespace>.
NS=hull-test-$$
C="$C --namespace $NS"
RUNC_ROOT=/run/containerd/runc/$NS
RUN="run --rootfs --runc-binary $HULL_BIN"

out=$($C $RUN --rm "$T/rootfs" c1 sh -c 'echo hello-ctr; exit 3'); rc=$?
check "ctr run: exit status 3" [ $rc = 3 ]
check "ctr run: stdout" [ "$out" = hello-ctr ]
out=$(script -qec "$C $RUN --rm -t $T/rootfs c2 sh -c 'test -t 0 && echo TTY-OK; exit 5'" /dev/null); rc=$?
check "ctr run -t: exit status 5" [ $rc = 5 ]
check "ctr run -t: process on a tty" grep -q TTY-OK <<<"$out"
$C $RUN -d "$T/rootfs" c3 sleep 100; check "ctr run -d" [ $? = 0 ]
check "task is RUNNING" grep -qE '^c3 +[0-9]+ +RUNNING' <($C task ls)
PID=$($C task ls | awk '$1 == "c3" { print $2 }')
check "task pid is hull's supervisor" grep -q supervise "/proc/$PID/cmdline"
out=$($C task exec --exec-id e1 c3 sh -c 'echo in-exec'); rc=$?
check "ctr task exec: status and output" [ "$rc:$out" = 0:in-exec ]
$C task exec --exec-id e2 c3 sh -c 'sleep 0.2; exit 6'; rc=$?
check "ctr task exec: exit status 6" [ $rc = 6 ]
out=$(script -qec "$C task exec -t --exec-id e3 c3 sh -c 'test -t 1 && echo EXEC-TTY'" /dev/null)
check "ctr task exec -t: tty" grep -q EXEC-TTY <<<"$out"
check "ctr task ps lists the process" [ "$($C task ps c3 | tail -n +2 | wc -l)" -ge 1 ]
$C task pause c3; check "pause -> PAUSED" grep -qE '^c3 +[0-9]+ +PAUSED' <($C task ls)
$C task resume c3; check "resume -> RUNNING" grep -qE '^c3 +[0-9]+ +RUNNING' <($C task ls)
$C task kill -s TERM c3
for _ in $(seq 50); do grep -qE '^c3 .*STOPPED' <($C task ls) && break; sleep 0.1; done
check "kill TERM -> STOPPED" grep -qE '^c3 +[0-9]+ +STOPPED' <($C task ls)
$C task delete c3 >/dev/null 2>&1; check "task delete" [ $? = 0 ]
$C container delete c3; check "container delete" [ $? = 0 ]
check "hull state dir empty" [ -z "$(ls -A "$RUNC_ROOT" 2>/dev/null | grep -v '^\.lock$')" ]
rm -rf "$RUNC_ROOT"
if [ $FAILS = 0 ]; then echo "containerd: all passed"; else echo "containerd: $FAILS failed"; fi
[ $FAILS = 0 ]
