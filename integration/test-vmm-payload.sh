#!/bin/bash
# lane: host
# Host-lane VMM test: boots two tiny freestanding payloads (built here from
# integration/payload/*.S with the system toolchain) through `hull boot`
# and checks the console output and exit status of every way a VM ends,
# plus the errors `hull boot` must give for bad input.  Runs on any
# /dev/kvm, including this host's PVM (payloads are a few hundred
# instructions, fine under KVM's emulator).
#   pvh.elf     PVH entry (32-bit), hvm_start_info, cmdline, then
#               hull.test=r|h|t: i8042 reset, cli;hlt, triple fault
#   bz.img      bzImage format, 64-bit entry with RSI = zero page
# Usage: integration/test-vmm-payload.sh [path/to/hull]
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HULL=${1:-$ROOT/build/hull}
T=$(mktemp -d "${TMPDIR:-/tmp}/hull-vmm-payload.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
FAILS=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

[ -x "$HULL" ] || { echo "FAIL: $HULL not built (make build/hull)"; exit 1; }
[ -e /dev/kvm ] || { echo "FAIL: no /dev/kvm on this host"; exit 1; }

build() {
  gcc -c -o "$T/pvh.o" "$HERE/payload/pvh.S" &&
  ld -m elf_x86_64 -T "$HERE/payload/pvh.ld" -o "$T/pvh.elf" "$T/pvh.o" &&
  gcc -c -o "$T/bz.o" "$HERE/payload/bzimage.S" &&
  objcopy -O binary -j .text "$T/bz.o" "$T/bz.img"
}
build || { echo "FAIL: building the payloads"; exit 1; }

# run NAME WANT_RC OUTPUT_REGEX HULL_ARGS...: output = stdout + stderr.
run() {
  local name=$1 want=$2 re=$3 rc
  shift 3
  timeout 60 "$HULL" boot "$@" < /dev/null > "$T/out" 2>&1
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit status $rc, want $want"; sed 's/^/    /' "$T/out" | tail -5
  elif ! grep -Eq -- "$re" "$T/out"; then
    fail "$name: output lacks /$re/"; sed 's/^/    /' "$T/out" | tail -5
  else
    pass "$name"
  fi
}

emulated=0
if [ -e /sys/module/kvm_pvm ] || ! grep -Eqw 'vmx|svm' /proc/cpuinfo; then emulated=1; fi

run "pvh: reset through i8042 ends the VM with status 0" 0 \
  'hello from the pvh payload, cmdline: console=ttyS0 .*hull\.test=r' \
  --kernel "$T/pvh.elf" --append hull.test=r
grep -q 'guest reset' "$T/out" || fail "pvh reset: no 'guest reset' message"
run "pvh: cli;hlt on 2 vCPUs is detected as poweroff" 0 'guest poweroff: all vCPUs halted' \
  --kernel "$T/pvh.elf" --cpus 2 --append hull.test=h
run "pvh: triple fault exits non-zero" 1 'triple fault' \
  --kernel "$T/pvh.elf" --append hull.test=t
run "pvh: --cmdline replaces the default" 0 'cmdline: only=this hull\.test=r$' \
  --kernel "$T/pvh.elf" --cmdline "only=this hull.test=r"

run "bzImage: 64-bit entry, zero page cmdline and e820" 0 \
  'hello from the bzImage payload, cmdline: console=ttyS0 .*hull\.test=r' \
  --allow-emulated --kernel "$T/bz.img" --append hull.test=r
grep -q 'e820 entries: 5' "$T/out" && pass "bzImage: e820 map has 5 entries" \
  || fail "bzImage: e820 entry count"
run "bzImage: triple fault" 1 'triple fault' \
  --allow-emulated --kernel "$T/bz.img" --memory 128 --cpus 3 --append hull.test=t
if [ "$emulated" = 1 ]; then
  run "bzImage refused up front where KVM only emulates" 1 'integration/nested' \
    --kernel "$T/bz.img"
fi

# Bad input: clear errors naming what is wrong, nothing started.
run "missing kernel" 1 "open kernel \`$T/nope\`: No such file" --kernel "$T/nope"
head -c 4096 /dev/urandom > "$T/junk"; printf 'junkjunk' | dd of="$T/junk" bs=1 seek=514 conv=notrunc 2>/dev/null
run "corrupt kernel" 1 'not a bzImage' --allow-emulated --kernel "$T/junk"
head -c 700 "$T/bz.img" > "$T/short.img"
run "truncated bzImage" 1 'truncated' --allow-emulated --kernel "$T/short.img"
run "memory too small for the kernel" 1 'memory too small' \
  --allow-emulated --kernel "$T/bz.img" --memory 16
head -c $((40 << 20)) /dev/zero > "$T/big.initrd"
run "memory too small for the initrd" 1 'memory too small for the initrd' \
  --kernel "$T/pvh.elf" --memory 32 --initrd "$T/big.initrd"
run "bad --cpus" 2 '--cpus: `0`' --kernel "$T/pvh.elf" --cpus 0
run "bad --memory" 2 '--memory: `12x`' --kernel "$T/pvh.elf" --memory 12x
run "memory below the minimum" 1 'memory: 8 MiB is out of range' --kernel "$T/pvh.elf" --memory 8
run "missing --kernel" 2 '--kernel is required'

if [ "$FAILS" -ne 0 ]; then
  echo "test-vmm-payload: $FAILS failure(s)"
  exit 1
fi
echo "test-vmm-payload: all passed"
