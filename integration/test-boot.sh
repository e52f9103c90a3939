#!/bin/bash
# lane: vm
# `hull boot` boots Debian's cloud kernel (make guest) with a busybox
# initramfs whose init (integration/guest-init/boot-check.sh) checks the CPU
# count, MemTotal, virtio-rng and virtio-console (hvc0) from inside the
# guest and reboots.  The guest cannot hand back an exit status, so it
# prints BOOTCHECK PASS/FAIL lines and this script requires every expected
# PASS line, no FAIL line, the hvc0 marker carrying this run's random token,
# and hull exiting 0.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HULL=${HULL:-$ROOT/build/hull}
GUEST=${GUEST:-$ROOT/build/guest}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}

missing=""
[ -x "$HULL" ] || missing="$missing $HULL"
[ -e "$GUEST/vmlinuz" ] || missing="$missing $GUEST/vmlinuz"
[ -e "$GUEST/modules/load-order" ] || missing="$missing $GUEST/modules/load-order"
[ -x /bin/busybox ] || missing="$missing /bin/busybox"
if [ -n "$missing" ]; then
  echo "FAIL: boot (missing:$missing; run make && make guest)"
  exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hull-test-boot.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# mkinitrd DIR CPUS MEM_MIB TOKEN -> DIR.img
mkinitrd() {
  local d=$1
  mkdir -p "$d/bin" "$d/etc" "$d/lib/modules" "$d/dev" "$d/proc" "$d/sys"
  cp /bin/busybox "$d/bin/busybox"
  install -m 0755 "$HERE/guest-init/boot-check.sh" "$d/init"
  cp "$GUEST"/modules/*.ko "$GUEST/modules/load-order" "$d/lib/modules/"
  printf 'EXPECT_CPUS=%s\nEXPECT_MEM_MIB=%s\nTOKEN=%s\n' "$2" "$3" "$4" > "$d/etc/boot-check"
  (cd "$d" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$d.img"
}

# boot_case NAME CPUS MEM_MIB
boot_case() {
  local name=$1 cpus=$2 mem=$3 token rc start ms out problems="" c
  token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  mkinitrd "$T/$name" "$cpus" "$mem" "$token" || { echo "FAIL: $name (initramfs build failed)"; return; }
  out=$T/$name.out
  start=$(date +%s%N)
  timeout -k 5 "$BOOT_TIMEOUT" "$HULL" boot --kernel "$GUEST/vmlinuz" --initrd "$T/$name.img" \
    --memory "$mem" --cpus "$cpus" --append quiet < /dev/null > "$out" 2>&1
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  tr -d '\r' < "$out" > "$out.txt"
  [ "$rc" -eq 0 ] || problems="$problems; hull exited $rc"
  [ "$rc" -eq 124 ] && problems="$problems (timed out after ${BOOT_TIMEOUT} s)"
  for c in "modules loaded" "cpus $cpus " "memory " "hwrng "; do
    grep -q "^BOOTCHECK PASS $c" "$out.txt" || problems="$problems; no PASS for '$c'"
  done
  # Not anchored: hvc0 and the serial console share hull's stdout, so the
  # marker can land inside a console line still draining.
  grep -q "BOOTCHECK HVC $token" "$out.txt" || problems="$problems; no hvc0 marker with this run's token"
  grep -q '^BOOTCHECK DONE' "$out.txt" || problems="$problems; init did not finish"
  if grep -q '^BOOTCHECK FAIL' "$out.txt"; then
    problems="$problems; guest:$(sed -n 's/^BOOTCHECK FAIL/ /p' "$out.txt" | tr '\n' ';')"
  fi
  if [ -z "$problems" ]; then
    echo "PASS: $name (${ms} ms)"
  else
    echo "---- hull boot output ($name, last 30 lines) ----"
    tail -n 30 "$out.txt"
    echo "----"
    echo "FAIL: $name${problems}"
    failures=$((failures + 1))
  fi
}

failures=0
boot_case boot-1cpu-256m 1 256
boot_case boot-2cpu-256m 2 256
[ "$failures" -eq 0 ]
