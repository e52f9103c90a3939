#!/bin/bash
# lane: vm
# virtio-fs end to end: integration/virtiofs-boot.c boots Debian's cloud
# kernel (make guest) under hull's VMM with a host directory shared as tag
# "hullfs", served by /usr/lib/qemu/virtiofsd through hull's vhost-user
# front-end.  The busybox init mounts it, reads a host file carrying this
# run's token, writes files back, checks the queue interrupts arrive as
# MSI-X (irqfd handed to virtiofsd), unmounts and powers off.  A second
# boot kills virtiofsd once the guest has mounted: the VM must stop with an
# error naming the share instead of hanging.  After both, no virtiofsd
# process and no socket may be left.  (The host-lane checks of the same
# code, without a guest, are the Criterion suites virtiofsd/ vhost_user/
# virtio_fs/ in build/tests/unit.)
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
GUEST=${GUEST:-$ROOT/build/guest}
LIB=$ROOT/build/libhull.a
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci fuse virtiofs"

pass() { echo "PASS: virtiofs: $*"; }
fail() { echo "FAIL: virtiofs: $*"; FAILS=$((FAILS + 1)); }
FAILS=0

missing=""
[ -e "$LIB" ] || missing="$missing $LIB"
[ -e "$GUEST/vmlinuz" ] || missing="$missing $GUEST/vmlinuz"
for m in $MODS; do [ -e "$GUEST/modules/$m.ko" ] || missing="$missing $GUEST/modules/$m.ko"; done
[ -x /bin/busybox ] || missing="$missing /bin/busybox"
[ -x /usr/lib/qemu/virtiofsd ] || missing="$missing /usr/lib/qemu/virtiofsd"
if [ -n "$missing" ]; then
  echo "FAIL: virtiofs (missing:$missing; run make && make guest)"
  exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hull-test-virtiofs.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
TOKEN=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')

if ! gcc -std=gnu11 -D_GNU_SOURCE -O1 -I"$ROOT" -o "$T/virtiofs-boot" \
     "$HERE/virtiofs-boot.c" "$LIB" -lyajl -lseccomp -lcap -lmnl -lpthread; then
  echo "FAIL: virtiofs (building integration/virtiofs-boot.c)"
  exit 1
fi

mkdir -p "$T/ir/bin" "$T/ir/mods" "$T/ir/dev" "$T/ir/proc" "$T/ir/sys" "$T/ir/mnt"
cp /bin/busybox "$T/ir/bin/busybox"
for m in $MODS; do cp "$GUEST/modules/$m.ko" "$T/ir/mods/"; done
cat > "$T/ir/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $MODS; do insmod /mods/\$m.ko || echo "VFSCHECK FAIL insmod \$m"; done
end() { echo o > /proc/sysrq-trigger; poweroff -f; }
mount -t virtiofs hullfs /mnt || { echo "VFSCHECK FAIL mount"; end; }
if [ -e /mnt/kill-mode ]; then
  touch /mnt/mounted; sync
  sleep 120   # virtiofsd dies now; the VMM must stop the VM
  echo "VFSCHECK FAIL still running after virtiofsd was killed"; end
fi
echo "VFSCHECK READ \$(cat /mnt/hello.txt)"
echo "guest-\$(cat /mnt/hello.txt)" > /mnt/from-guest.txt
dd if=/dev/zero of=/mnt/big bs=1M count=8 2>/dev/null
mkdir /mnt/d && mv /mnt/big /mnt/d/big && sync
echo "VFSCHECK BIG \$(wc -c < /mnt/d/big)"
grep -E 'virtio[0-9]+-requests' /proc/interrupts | grep -q PCI-MSI && echo "VFSCHECK MSIX"
umount /mnt && echo "VFSCHECK UMOUNT"
end
EOF
chmod 0755 "$T/ir/init"
(cd "$T/ir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$T/initrd.img"

# nothing_left NAME SOCKET
nothing_left() {
  local p left=""
  [ -e "$2" ] && fail "$1: socket $2 left behind" || pass "$1: socket removed"
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -qF -- "$2" && left="$left ${p#/proc/}"
  done
  [ -z "$left" ] && pass "$1: no virtiofsd left" || fail "$1: processes left:$left"
}

# 1. The share works from inside a Linux guest.
mkdir "$T/share"
echo "$TOKEN" > "$T/share/hello.txt"
timeout "$BOOT_TIMEOUT" "$T/virtiofs-boot" "$GUEST/vmlinuz" "$T/initrd.img" \
  "$T/share" "$T/vfs.sock" > "$T/out" 2>&1
rc=$?
grep -q 'VFSCHECK FAIL' "$T/out" && fail "guest reported: $(grep 'VFSCHECK FAIL' "$T/out" | head -3)"
[ "$rc" -eq 0 ] && pass "guest powered off (exit 0)" || fail "boot exit status $rc"
grep -q "VFSCHECK READ $TOKEN" "$T/out" && pass "guest read the host file" \
  || fail "guest did not read the host file"
[ "$(cat "$T/share/from-guest.txt" 2>/dev/null)" = "guest-$TOKEN" ] \
  && pass "host sees the file the guest wrote" || fail "from-guest.txt missing or wrong"
[ "$(stat -c %s "$T/share/d/big" 2>/dev/null)" = 8388608 ] \
  && grep -q 'VFSCHECK BIG 8388608' "$T/out" && pass "8 MiB written through the share" \
  || fail "8 MiB file wrong"
grep -q 'VFSCHECK MSIX' "$T/out" && pass "queue interrupts are MSI-X (irqfd to virtiofsd)" \
  || fail "no MSI-X interrupts for the request queue"
grep -q 'VFSCHECK UMOUNT' "$T/out" && pass "clean unmount" || fail "unmount failed"
nothing_left "boot" "$T/vfs.sock"
[ "$FAILS" -eq 0 ] || { echo "--- output of the first boot:"; tail -40 "$T/out"; }

# 2. virtiofsd killed mid-session: the VM stops with an error, promptly.
mkdir "$T/share2"
echo "$TOKEN" > "$T/share2/hello.txt"
touch "$T/share2/kill-mode"
timeout "$BOOT_TIMEOUT" "$T/virtiofs-boot" "$GUEST/vmlinuz" "$T/initrd.img" \
  "$T/share2" "$T/vfs2.sock" "$T/share2/mounted" > "$T/out2" 2>&1
rc=$?
ms=$(sed -n 's/.*VM stopped \([0-9]*\) ms after the kill.*/\1/p' "$T/out2")
if [ "$rc" -eq 10 ] && grep -q 'exit error: virtio-fs `hullfs`' "$T/out2" \
   && [ -n "$ms" ] && [ "$ms" -lt 10000 ]; then
  pass "virtiofsd killed: VM stopped with an error naming the share ${ms} ms later"
else
  fail "virtiofsd killed: exit status $rc, want 10 with a virtio-fs error within 10 s (${ms:-?} ms)"
  tail -20 "$T/out2"
fi
grep -q 'still running after virtiofsd was killed' "$T/out2" \
  && fail "guest kept running after virtiofsd died"
nothing_left "killed virtiofsd" "$T/vfs2.sock"

[ "$FAILS" -eq 0 ]
