#!/bin/bash
# bench/boot.sh [RUNS]   — boot-to-init time and VMM memory: hull vs QEMU.
#
# Boots build/guest/vmlinuz (make guest) with a one-binary initramfs
# (busybox-static; /init prints BENCH-INIT-UP, sleeps 2 s, powers off) under
#   hull:  build/hull boot --cpus 1 --memory 256
#   qemu:  qemu-system-x86_64 -M microvm -accel kvm -cpu host -smp 1 -m 256
# with the same kernel command line, RUNS times each (default 5),
# alternating, and reports the median time from starting the VMM to the
# init's first console line, the median time to exit, and the VMM's RSS
# without guest RAM (smaps Rss minus the guest-RAM memfd mapping, sampled
# when init's first line arrives).  See bench/README.md for the method.
#
# Needs a KVM that boots stock kernels; on a PVM host (like the dev
# machines) it re-runs itself inside integration/nested (one L1 for all).
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RUNS=${1:-5}
HULL=$ROOT/build/hull
GUEST=$ROOT/build/guest
CMDLINE="console=ttyS0 reboot=k panic=-1 pci=conf1 no_timer_check quiet"
MEM=256

die() { echo "bench: $*" >&2; exit 1; }
case $RUNS in ''|*[!0-9]*) die "RUNS must be a number" ;; esac
[ -x "$HULL" ] || die "missing $HULL (make)"
[ -e "$GUEST/vmlinuz" ] || die "missing $GUEST/vmlinuz (make guest)"

if [ -d /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo || [ ! -c /dev/kvm ]; then
  [ -z "${NESTED_L1:-}" ] || die "no usable KVM even inside L1"
  echo "bench: host KVM cannot boot stock kernels; running inside integration/nested" >&2
  exec "$ROOT/integration/nested" "$HERE/boot.sh" "$RUNS"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hull-bench.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/ir/bin"
cp /bin/busybox "$T/ir/bin/busybox"
cat > "$T/ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox echo BENCH-INIT-UP
/bin/busybox sleep 2
/bin/busybox poweroff -f
EOF
chmod 0755 "$T/ir/init"
(cd "$T/ir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$T/initrd.img"

# RSS of PID in KiB without mappings of memfds named like $2 (guest RAM).
rss_without_ram() {
  awk -v pat="$2" '
    /^[0-9a-f]+-[0-9a-f]+ / { ram = ($6 ~ pat) }
    /^Rss:/ { total += $2; if (ram) guest += $2 }
    END { printf "%d %d\n", total - guest, guest }' "/proc/$1/smaps"
}

# measure NAME RAM_PATTERN CMD... -> "up_ms exit_ms rss_kib guest_kib rc"
measure() {
  local name=$1 pat=$2 start spid vpid="" line up="" rss="- -" rc end
  shift 2
  rm -f "$T/fifo" "$T/end" && mkfifo "$T/fifo"
  # Read-write, so neither side can block on open whatever the VMM does.
  exec 8<> "$T/fifo"
  start=$(date +%s%N)
  # The subshell stamps the exit time: the read loop below only notices it
  # up to a second later.
  ( timeout -k 5 120 "$@" < /dev/null > "$T/fifo" 2> "$T/$name.err"
    echo "$? $(date +%s%N)" > "$T/end" ) &
  spid=$!
  for _ in $(seq 100); do
    vpid=$(pgrep -P "$(pgrep -P "$spid" | head -n1)" 2>/dev/null | head -n1)
    [ -n "$vpid" ] && break
    sleep 0.05
  done
  while :; do
    if IFS= read -r -t 1 line <&8; then
      case $line in
        *BENCH-INIT-UP*)
          up=$(( ($(date +%s%N) - start) / 1000000 ))
          [ -n "$vpid" ] && rss=$(rss_without_ram "$vpid" "$pat" 2>/dev/null)
          ;;
      esac
    elif ! kill -0 "$spid" 2>/dev/null; then
      break
    fi
  done
  exec 8<&-
  wait "$spid"
  read -r rc end < "$T/end" || { rc=-; end=$start; }
  end=$(( (end - start) / 1000000 ))
  echo "${up:--} $end $rss $rc"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }

: > "$T/hull.res"; : > "$T/qemu.res"
for i in $(seq "$RUNS"); do
  measure hull 'memfd:hull-guest-ram' \
    "$HULL" boot --kernel "$GUEST/vmlinuz" --initrd "$T/initrd.img" --cpus 1 --memory "$MEM" \
    --cmdline "$CMDLINE" >> "$T/hull.res"
  measure qemu 'memfd:' \
    qemu-system-x86_64 -M microvm,memory-backend=ram -accel kvm -cpu host -smp 1 -m "${MEM}M" \
    -object "memory-backend-memfd,id=ram,size=${MEM}M" \
    -nodefaults -no-user-config -display none -no-reboot -serial stdio \
    -kernel "$GUEST/vmlinuz" -initrd "$T/initrd.img" -append "$CMDLINE" >> "$T/qemu.res"
  echo "run $i: hull $(cat "$T/hull.res" | tail -n1) | qemu $(tail -n1 "$T/qemu.res")   (up_ms exit_ms rss_kib guest_kib rc)" >&2
done

for v in hull qemu; do
  if awk '$1 == "-" || $5 != 0 { bad = 1 } END { exit !bad }' "$T/$v.res"; then
    echo "bench: some $v runs failed or never reached init:" >&2
    cat "$T/$v.res" "$T/$v.err" >&2
  fi
done
hu=$(awk '$1 != "-" { print $1 }' "$T/hull.res" | median)
qu=$(awk '$1 != "-" { print $1 }' "$T/qemu.res" | median)
he=$(awk '{ print $2 }' "$T/hull.res" | median)
qe=$(awk '{ print $2 }' "$T/qemu.res" | median)
hr=$(awk '$3 != "-" { print $3 }' "$T/hull.res" | median)
qr=$(awk '$3 != "-" { print $3 }' "$T/qemu.res" | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "boot to init's first line (median of $RUNS, ms): hull $hu, qemu microvm $qu, hull/qemu $(ratio "$hu" "$qu")"
echo "start to exit (median, ms): hull $he, qemu microvm $qe, hull/qemu $(ratio "$he" "$qe")"
echo "VMM RSS without guest RAM (median, KiB): hull $hr, qemu microvm $qr, hull/qemu $(ratio "$hr" "$qr")"
