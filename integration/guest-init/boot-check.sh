#!/bin/busybox sh
# /init of integration/test-boot.sh's initramfs (busybox-static + the guest
# modules of `make guest`).  Checks what `hull boot` promised the guest and
# reports on the console, one line per check, then reboots:
#   BOOTCHECK PASS <check> ...   /   BOOTCHECK FAIL <check> ...
# /etc/boot-check holds the expectations (EXPECT_CPUS, EXPECT_MEM_MIB, TOKEN).
# The hvc0 check writes "BOOTCHECK HVC <TOKEN>" through /dev/hvc0 only, so
# the test sees that line only if virtio-console really carried it.
/bin/busybox --install -s /bin
export PATH=/bin

pass() { echo "BOOTCHECK PASS $*"; }
fail() { echo "BOOTCHECK FAIL $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "BOOTCHECK START"
. /etc/boot-check || fail "config /etc/boot-check unreadable"

mods_ok=1
while read -r m; do
  insmod "/lib/modules/$m" || { fail "insmod $m"; mods_ok=0; }
done < /lib/modules/load-order
[ "$mods_ok" = 1 ] && pass "modules loaded"

cpus=$(grep -c '^processor' /proc/cpuinfo)
online=$(cat /sys/devices/system/cpu/online)
if [ "$cpus" = "$EXPECT_CPUS" ]; then
  pass "cpus $cpus (online $online)"
else
  fail "cpus: guest sees $cpus (online $online), expected $EXPECT_CPUS"
fi

# MemTotal is RAM minus what the kernel keeps for itself: between 70% and
# 100% of what the VMM was asked for is sane for these sizes.
mem_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
lo=$((EXPECT_MEM_MIB * 1024 * 70 / 100))
hi=$((EXPECT_MEM_MIB * 1024))
if [ -n "$mem_kib" ] && [ "$mem_kib" -ge "$lo" ] && [ "$mem_kib" -le "$hi" ]; then
  pass "memory MemTotal ${mem_kib} kB for ${EXPECT_MEM_MIB} MiB"
else
  fail "memory: MemTotal ${mem_kib:-?} kB not in ${lo}-${hi} kB for ${EXPECT_MEM_MIB} MiB"
fi

# virtio-rng: the device node appears once the driver registered.
i=0
while [ ! -c /dev/hwrng ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
n=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)
case $rng in
  virtio_rng*) if [ "$n" = 32 ]; then pass "hwrng $rng read $n bytes"; else fail "hwrng: read $n of 32 bytes from $rng"; fi ;;
  *) fail "hwrng: current rng is '${rng:-none}', not virtio_rng" ;;
esac

i=0
while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -c /dev/hvc0 ]; then
  # Let the serial console drain first: both end up on hull's stdout.
  sleep 1
  echo "BOOTCHECK HVC $TOKEN" > /dev/hvc0 || fail "hvc0: write failed"
else
  fail "hvc0: no /dev/hvc0"
fi

echo "BOOTCHECK DONE"
reboot -f
sleep 10
