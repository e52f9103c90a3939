#!/bin/bash
# bench/overhead.sh [SECONDS]: what one idle container costs on the host,
# for the RuntimeClass's overhead.podFixed (contrib/kubernetes).
#
# Runs a container whose process only sleeps (busybox-static rootfs, hull's
# default VM size unless HULL_SETTINGS says otherwise), waits until it runs,
# then reads for every host process of the container (the supervisor, which
# is the VMM, and its virtiofsd processes):
#   - Pss from /proc/PID/smaps_rollup, split into guest RAM (the memfd
#     mapping /memfd:hull-guest-ram) and everything else;
#   - CPU time (utime+stime) over SECONDS (default 10) of idleness.
# Prints one table; see bench/README.md for the method and results.
# On a PVM host it re-runs itself inside integration/nested; CPU there is
# TCG's and means nothing, memory does.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SECS=${1:-10}
HULL=${HULL:-$ROOT/build/hull}
GUEST=${GUEST:-$ROOT/build/guest}

die() { echo "bench: $*" >&2; exit 1; }
case $SECS in ''|*[!0-9]*) die "SECONDS must be a number" ;; esac
[ -x "$HULL" ] || die "missing $HULL (make)"
[ -e "$GUEST/vmlinuz" ] || die "missing $GUEST/vmlinuz (make guest)"
if [ -d /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo || [ ! -c /dev/kvm ]; then
  [ -z "${NESTED_L1:-}" ] || die "no usable KVM even inside L1"
  echo "bench: host KVM cannot boot stock kernels; running inside integration/nested" >&2
  exec env HULL="$HULL" GUEST="$GUEST" NESTED_ENV="HULL GUEST ${NESTED_ENV:-}" \
    "$ROOT/integration/nested" "$HERE/overhead.sh" "$SECS"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hull-bench.XXXXXX") || exit 1
H=("$HULL" --root "$T/state")
trap '"${H[@]}" delete -f idle >/dev/null 2>&1; rm -rf "$T"' EXIT
R=$T/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/tmp"
cp /bin/busybox "$R/bin/" && ln -s busybox "$R/bin/sh" && ln -s busybox "$R/bin/sleep"
mkdir "$T/b" && "$HULL" spec --bundle "$T/b" || die "hull spec"
python3 - "$T/b/config.json" "$R" <<'PY' || die "bundle"
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2]}
c["process"].update(terminal=False, args=["sleep", "100000"], env=["PATH=/bin"])
json.dump(c, open(sys.argv[1], "w"))
PY
[ -n "${HULL_SETTINGS:-}" ] || { echo '{ "bootTimeoutMs": 300000 }' > "$T/settings.json"; export HULL_SETTINGS=$T/settings.json; }
"${H[@]}" create --bundle "$T/b" --pid-file "$T/pid" idle </dev/null >/dev/null 2>&1 || die "create failed"
"${H[@]}" start idle || die "start failed"
sleep 3   # let the guest settle after the process started
sup=$(cat "$T/pid")
pids="$sup $(pgrep -P "$sup" | tr '\n' ' ')"

# kB of Pss: all mappings, and the guest-RAM memfd alone.
pss_total() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
pss_guest() { awk '/^[0-9a-f]+-[0-9a-f]+ / { g = ($0 ~ /memfd:hull-guest-ram/) } g && /^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

declare -A t0
for p in $pids; do t0[$p]=$(ticks "$p"); done
sleep "$SECS"
hz=$(getconf CLK_TCK)
printf '%-10s %-8s %12s %12s %10s\n' process pid "guest kB" "other kB" "cpu %"
tot_g=0 tot_o=0 tot_c=0
for p in $pids; do
  [ -e "/proc/$p" ] || continue
  name=$(cat "/proc/$p/comm")
  [ "$p" = "$sup" ] && name=supervisor
  g=$(pss_guest "$p"); a=$(pss_total "$p"); o=$((a - g))
  c=$(awk -v d=$(( $(ticks "$p") - ${t0[$p]} )) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.1f", 100 * d / hz / s }')
  printf '%-10s %-8s %12s %12s %10s\n' "$name" "$p" "$g" "$o" "$c"
  tot_g=$((tot_g + g)); tot_o=$((tot_o + o)); tot_c=$(awk -v a="$tot_c" -v b="$c" 'BEGIN { print a + b }')
done
printf '%-10s %-8s %12s %12s %10s\n' total "" "$tot_g" "$tot_o" "$tot_c"
