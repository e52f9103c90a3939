#!/bin/bash
# lane: host
# Confinement of the VMM (runtime/confine.h), host lane: `hull boot` runs a
# freestanding payload that spins forever (integration/payload/pvh.S,
# hull.test=l), then from outside:
#   - /proc shows no capabilities, no_new_privs and seccomp mode 2 on the
#     process and every thread (vCPUs included), effective uid 65534;
#   - a system call the VMM may make (getpid), injected into the running
#     VMM's main thread with ptrace (integration/inject-syscall.c),
#     returns and the VM goes on;
#   - forbidden ones (fork, getpgrp) injected the same way kill the whole
#     process with SIGSYS instead of succeeding;
#   - with "confineVmm": false in the settings the same getpgrp succeeds and
#     the process keeps its privileges (so the checks above can fail).
# Usage: integration/test-confine.sh [path/to/hull]
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HULL=${1:-${HULL:-$ROOT/build/hull}}
. "$HERE/lib/check.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/hull-confine.XXXXXX") || exit 1
VM=
cleanup() {
  [ -n "$VM" ] && kill -9 "$VM" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

[ -x "$HULL" ] || { echo "FAIL: $HULL not built"; exit 1; }
[ -e /dev/kvm ] || { echo "FAIL: no /dev/kvm on this host"; exit 1; }
cc -Wall -Wextra -Werror -o "$T/inject" "$HERE/inject-syscall.c" ||
  { echo "FAIL: building integration/inject-syscall.c"; exit 1; }
gcc -c -o "$T/pvh.o" "$HERE/payload/pvh.S" &&
  ld -m elf_x86_64 -T "$HERE/payload/pvh.ld" -o "$T/pvh.elf" "$T/pvh.o" ||
  { echo "FAIL: building the payload"; exit 1; }
echo '{}' > "$T/on.json"
echo '{"confineVmm": false}' > "$T/off.json"

# start SETTINGS: a spinning VM with 2 vCPUs in the background, $VM its pid.
start() {
  HULL_SETTINGS=$1 HULL_ALLOW_EMULATED=1 "$HULL" boot --kernel "$T/pvh.elf" --cpus 2 \
    --append hull.test=l < /dev/null > "$T/out" 2>&1 &
  VM=$!
  for _ in $(seq 100); do
    grep -q looping "$T/out" && [ "$(ls /proc/$VM/task | wc -l)" -ge 3 ] && return 0
    kill -0 "$VM" 2>/dev/null || break
    sleep 0.1
  done
  echo "    $(tail -3 "$T/out")"
  return 1
}

# field TASKDIR NAME: the value of NAME: in its status.
field() { awk -v k="$2:" '$1 == k { print $2 }' "$1/status"; }

# inject NR: the VMM's main thread makes system call NR; $T/inject.out
# says "result N" or "killed by signal N".
inject() {
  timeout 60 "$T/inject" "$VM" "$1" > "$T/inject.out" 2>&1
}

# died_of_sigsys: the VM process ended, by signal 31.
died_of_sigsys() {
  local rc
  for _ in $(seq 50); do kill -0 "$VM" 2>/dev/null || break; sleep 0.1; done
  wait "$VM"
  rc=$?
  VM=
  [ "$rc" -eq $((128 + 31)) ] || { echo "    exit status $rc, want $((128 + 31)) (SIGSYS)"; return 1; }
}

check "confined VM boots and spins" start "$T/on.json"
main=/proc/$VM/task/$VM
check_eq "main thread: CapEff" 0000000000000000 "$(field "$main" CapEff)"
check_eq "main thread: CapPrm" 0000000000000000 "$(field "$main" CapPrm)"
check_eq "main thread: CapBnd" 0000000000000000 "$(field "$main" CapBnd)"
check_eq "main thread: CapInh" 0000000000000000 "$(field "$main" CapInh)"
check_eq "main thread: CapAmb" 0000000000000000 "$(field "$main" CapAmb)"
check_eq "NoNewPrivs" 1 "$(field "$main" NoNewPrivs)"
check_eq "Seccomp" 2 "$(field "$main" Seccomp)"
check_eq "effective uid" 65534 "$(awk '$1 == "Uid:" { print $3 }' "$main/status")"
bad=
for t in /proc/$VM/task/*; do
  s="$(field "$t" CapEff)/$(field "$t" NoNewPrivs)/$(field "$t" Seccomp)"
  [ "$s" = 0000000000000000/1/2 ] || bad="$bad ${t##*/}:$s"
done
check_eq "every thread: no effective capabilities, no_new_privs, seccomp 2" "" "$bad"

inject 39   # getpid: allowed
check_grep "allowed syscall injected: returns the pid" "^result $VM\$" "$(cat "$T/inject.out")"
sleep 0.5
check "allowed syscall injected: the VM goes on" kill -0 "$VM"
inject 57   # fork
check_grep "forbidden fork injected: does not return" '^killed by signal 31$' "$(cat "$T/inject.out")"
check "forbidden fork injected: the VMM dies of SIGSYS" died_of_sigsys

check "confined VM boots again" start "$T/on.json"
inject 111   # getpgrp
check "forbidden getpgrp injected: the VMM dies of SIGSYS" died_of_sigsys

check "VM with confineVmm false boots" start "$T/off.json"
check_eq "unconfined: Seccomp" 0 "$(field /proc/$VM/task/$VM Seccomp)"
inject 111
check_grep "unconfined: getpgrp injected returns" '^result [0-9]+$' "$(cat "$T/inject.out")"
sleep 0.5
check "unconfined: the VM goes on" kill -0 "$VM"
kill -9 "$VM"; wait "$VM" 2>/dev/null; VM=

check_summary test-confine
