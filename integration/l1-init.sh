#!/bin/busybox sh
# PID 1 of integration/nested's L1 VM (copied into the initramfs as /init).
# Loads the modules listed in /etc/nested/modules, mounts the host's / (read
# only, virtio-fs) under an overlay with a tmpfs upper, mounts the read-write
# shares, chroots and runs /etc/nested/run.sh (the caller's command) there.  The command's
# stdout/stderr and its exit status leave through virtio-serial ports named
# nested.stdout, nested.stderr and nested.status; the kernel console (ttyS0)
# only carries this script's progress, for diagnosing a failed boot.
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "nested-init: $*" > /dev/console; }
fail() {
  say "FAIL: $*"
  [ -n "$STATUS" ] && echo "setup-failed $*" >&9
  poweroff -f
  sleep 5
  exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /etc/nested/config || fail "no /etc/nested/config"

while read -r mod; do
  insmod "/lib/modules/$mod" || fail "insmod $mod"
done < /etc/nested/modules

# virtio-console announces its ports from a workqueue: wait for them.
port() {
  for d in /sys/class/virtio-ports/*; do
    [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return 0
  done
  return 1
}
i=0
while ! STATUS=$(port nested.status) || [ ! -c "$STATUS" ]; do
  i=$((i + 1))
  [ $i -gt 200 ] && fail "no nested.status port"
  sleep 0.05
done
exec 9> "$STATUS"
OUT=$(port nested.stdout) || fail "no nested.stdout port"
ERR=$(port nested.stderr) || fail "no nested.stderr port"

mkdir -p /mnt/lower /mnt/rw /newroot
mount -t virtiofs -o ro hostroot /mnt/lower || fail "mount virtiofs hostroot"
mount -t tmpfs -o "size=$NESTED_UPPER_SIZE,mode=0755" upper /mnt/rw || fail "mount tmpfs upper"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay \
  -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot \
  || fail "mount overlay"

# Read-write shares (tag rwN) on top of the overlay, at the same path.
n=0
for dir in $NESTED_RW_DIRS; do
  chroot /newroot /bin/mkdir -p "$dir" || fail "mkdir $dir"
  mount -t virtiofs "rw$n" "/newroot$dir" || fail "mount virtiofs rw$n at $dir"
  n=$((n + 1))
done

# The host's /lib/modules is for the host's kernel; give L1's modprobe the
# cloud kernel's tree from the same unpacked package.
moddir=$(chroot /newroot /bin/sh -c "mkdir -p /lib/modules/$NESTED_KVER && readlink -f /lib/modules/$NESTED_KVER") \
  || fail "mkdir /lib/modules/$NESTED_KVER"
mount --bind "/mnt/lower$NESTED_MODTREE" "/newroot$moddir" || fail "bind $NESTED_MODTREE"

for m in dev proc sys; do
  mount --move "/$m" "/newroot/$m" || fail "move /$m"
done
# Fresh kernel-side mounts: the host's versions of these are not ours.
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts || fail "mount devpts"
mount -t tmpfs -o mode=1777 shm /newroot/dev/shm || fail "mount /dev/shm"
# What udev/systemd would add: bash's <(...) opens /dev/fd/N.
ln -sf /proc/self/fd /newroot/dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "/newroot/dev/${i#*:}"; done
mount -t tmpfs -o mode=0755 run /newroot/run || fail "mount /run"
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup || fail "mount cgroup2"
hostname nested-l1
ip link set lo up 2>/dev/null

[ -c /newroot/dev/kvm ] || fail "no /dev/kvm after loading kvm-amd"

# virtiofsd holds one host fd per guest inode it was asked about, and the
# host caps its fds (NESTED_FD_LIMIT); the guest keeps cached inodes until
# memory pressure, which 3 GiB never brings.  So when the inode count has
# grown by half the fd limit (each host file costs two inodes, overlay and
# virtio-fs: a quarter of the fds), drop unused dentries and inodes, which
# sends FORGETs and closes those host fds.  The headroom is wide because
# `ls -lR` reaches ~5000 lookups/s here.  (busybox `read` gets only the
# first byte of this proc file, hence cat.)
if [ "${NESTED_FD_LIMIT:-0}" -gt 0 ]; then
  # shellcheck disable=SC2046  # splitting "NR\tFREE" is the point
  inodes() { set -- $(cat /newroot/proc/sys/fs/inode-nr); echo "$1"; }
  base=$(inodes)
  budget=$((NESTED_FD_LIMIT / 2))
  (
    while sleep 0.5; do
      n=$(inodes)
      if [ $((n - base)) -gt "$budget" ]; then
        echo 2 > /newroot/proc/sys/vm/drop_caches
        say "inodes $n > $base + $budget: dropped caches, now $(inodes)"
      fi
    done
  ) &
  say "fd watchdog: base $base inodes, budget $budget"
fi

mkdir -p /newroot/run/nested && cp /etc/nested/run.sh /newroot/run/nested/ \
  || fail "copy run.sh"

echo "up $(cut -d" " -f1 /newroot/proc/uptime)" >&9
chroot /newroot /bin/bash /run/nested/run.sh \
  < /dev/null > "/newroot$OUT" 2> "/newroot$ERR"
rc=$?
echo "exit $rc" >&9
sync
poweroff -f
sleep 5
