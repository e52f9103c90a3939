#!/bin/bash
# lane: vm
# Docker drives the runtime: a private dockerd (integration/lib/daemons.sh)
# whose runtime "hull" is $HULL_RUNTIME_BIN (default build/hull; it runs
# containers only where KVM boots stock kernels, hence the vm lane).  The
# same script validates the harness on any host with the control:
#   HULL_RUNTIME_BIN=/usr/sbin/runc integration/client-docker.sh
# Few containers (each is a microVM with hull), one daemon for all.
# Prints PASS:/FAIL: lines; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
. integration/lib/check.sh
. integration/lib/daemons.sh
CHECK_PREFIX="docker: "
client_prelude docker dockerd docker busybox script
dockerd_start "$RUNTIME_BIN" || { echo "FAIL: docker: dockerd start"; exit 1; }
pass "dockerd started (${DMN_LAST_START_SECS} s)"
IMG=hull-it-busybox
docker_import_busybox $IMG || { echo "FAIL: docker: import busybox image"; exit 1; }
D=$DOCKER
R="$D run --runtime=hull"
check_grep "docker info lists runtime hull" 'Runtimes:.*hull' "$($D info 2>/dev/null)"

# Waits until container $1's .State.Status is $2 (up to 60 s).
wait_state () {
  for _ in $(seq 300); do
    [ "$($D inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.2
  done; return 1
}

# ---- run: output, exit status, --rm ------------------------------------------
out=$($R --rm --name rm1 $IMG sh -c 'echo hello-docker; echo to-stderr >&2; exit 3' 2>"$T/err"); rc=$?
check_eq "run: exit status reaches docker" 3 "$rc"
check_eq "run: stdout" hello-docker "$out"
check_grep "run: stderr" '^to-stderr$' "$(cat "$T/err")"
check_eq "run --rm: container removed" "" "$($D ps -aq --filter name=rm1)"

# ---- -i with piped stdin ----------------------------------------------------------
out=$(printf 'line1\nline2\n' | $R --rm -i $IMG sh -c 'wc -l; cat >/dev/null; echo eof-seen')
check_eq "run -i: piped stdin read to EOF" "2 eof-seen" "$(echo $out)"

# ---- -e, -w, -u -----------------------------------------------------------------------
out=$($R --rm -e FOO=bar -e EMPTY= -w /tmp -u 1000:1000 $IMG sh -c 'echo "$FOO|${EMPTY-unset}|$(pwd)|$(id -u):$(id -g)"')
check_eq "run -e -w -u uid:gid" "bar||/tmp|1000:1000" "$out"
out=$($R --rm -u tester $IMG sh -c 'echo $(id -un):$HOME')
check_eq "run -u NAME (from the image's /etc/passwd)" "tester:/home/tester" "$out"

# ---- --read-only + --tmpfs, -v, --network none -------------------------------------
out=$($R --rm --read-only --tmpfs /scratch:size=1m $IMG sh -c \
  'touch /x 2>/dev/null && echo root-writable; touch /scratch/y && echo tmpfs-writable; grep -c " /scratch tmpfs " /proc/mounts')
check_eq "run --read-only root, --tmpfs writable and mounted" "tmpfs-writable 1" "$(echo $out)"
mkdir -p "$T/vol" && echo from-host > "$T/vol/in"
out=$($R --rm --network none -v "$T/vol:/data" $IMG sh -c \
  'cat /data/in; echo from-container > /data/out; ls /sys/class/net | tr "\n" " "')
check_eq "run -v: host file readable" from-host "$(head -n1 <<<"$out")"
check_eq "run -v: container write reaches the host" from-container "$(cat "$T/vol/out" 2>/dev/null)"
check_eq "run --network none: only lo" "lo " "$(sed -n 2p <<<"$out")"

# ---- tty: -it under script(1) ---------------------------------------------------------
out=$(printf 'typed\n' | timeout 120 script -qec "exec $R --rm -it $IMG sh -c 'test -t 0 && test -t 1 && echo ON-TTY; read x; echo got:\$x; exit 4'" /dev/null); rc=$?
check_eq "run -it: exit status" 4 "$rc"
check_grep "run -it: process on a tty" ON-TTY "$out"
check_grep "run -it: input reaches the process" 'got:typed' "$out"

# ---- -d: logs, exec, top, pause/unpause, stop, cp, restart ------------------------
# The trap makes `docker stop` (SIGTERM) end it cleanly with status 0.
$R -d --name long $IMG sh -c 'echo started >> /tmp/starts; echo started; trap "echo got-term; exit 0" TERM; while :; do sleep 0.2; done' >/dev/null
check "run -d" wait_state long running
for _ in $(seq 50); do $D logs long 2>/dev/null | grep -q started && break; sleep 0.2; done
check_eq "logs of a -d container" started "$($D logs long 2>&1)"
out=$($D exec long sh -c 'echo in-exec; exit 5'); rc=$?
check_eq "exec: output" in-exec "$out"
check_eq "exec: exit status" 5 "$rc"
out=$($D exec -e X=1 -w /tmp -u 1000 long sh -c 'echo $X $(pwd) $(id -u)')
check_eq "exec -e -w -u" "1 /tmp 1000" "$out"
out=$(printf 'to-exec\n' | $D exec -i long cat)
check_eq "exec -i: piped stdin" to-exec "$out"
out=$(timeout 120 script -qec "exec $D exec -it long sh -c 'test -t 0 && echo EXEC-TTY'" /dev/null)
check_grep "exec -it: on a tty" EXEC-TTY "$out"
check_grep "top lists the container's processes" 'sleep|sh -c' "$($D top long 2>&1)"
# Usage of the container's cgroup: the VMM, virtiofsd and the guest RAM touched.
mem=$($D stats --no-stream --format '{{.MemUsage}}' long 2>&1)
check_grep "stats --no-stream: non-zero memory" '^[0-9.]*[1-9][0-9.]*[KMG]i?B / ' "$mem"
$D pause long >/dev/null; check "pause -> paused" wait_state long paused
$D exec long true >/dev/null 2>&1; check "exec into a paused container fails" [ $? != 0 ]
$D unpause long >/dev/null; check "unpause -> running" wait_state long running
check_eq "exec works after unpause" ok "$($D exec long echo ok)"
$D stop -t 30 long >/dev/null; check "stop (SIGTERM handled) -> exited" wait_state long exited
check_eq "stop: exit code 0 from the TERM trap" 0 "$($D inspect -f '{{.State.ExitCode}}' long)"
check_grep "stop: the process saw SIGTERM" got-term "$($D logs long 2>&1)"
$D cp long:/tmp/starts "$T/starts.out"; check "cp out of a stopped container" [ "$(cat "$T/starts.out" 2>/dev/null)" = started ]
$D restart -t 30 long >/dev/null; check "restart -> running" wait_state long running
for _ in $(seq 50); do [ "$($D exec long cat /tmp/starts 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.2; done
check_eq "restart: same rootfs, process ran again" "started started" "$(echo $($D exec long cat /tmp/starts))"
$D kill long >/dev/null; check "kill (SIGKILL) -> exited" wait_state long exited
check_eq "kill: exit code 137" 137 "$($D inspect -f '{{.State.ExitCode}}' long)"
$D rm long >/dev/null; check_eq "rm" "" "$($D ps -aq --filter name=long)"

# ---- a bundle the runtime rejects: its own message reaches the user -------------
# net.ipv4.nosuch passes Docker's own sysctl check (net.* is namespaced) and
# names no real sysctl, so the runtime must refuse it; containerd relays the
# runtime's error from its --log json file.
$R --rm --network none --sysctl net.ipv4.nosuch=1 $IMG true >/dev/null 2>"$T/err"; rc=$?
# 125..127: docker's own statuses for "the container could not be run".
check "run with a sysctl the runtime rejects fails (status 125..127)" [ $rc -ge 125 ] && [ $rc -le 127 ]
check_grep "the runtime's own error reaches docker (names the sysctl)" 'net[./]ipv4[./]nosuch' "$(cat "$T/err")"
# ---- stop: TERM ignored, KILL after the grace period ----------------------------------
$R -d --name stubborn $IMG sh -c 'trap "" TERM; echo up; while :; do sleep 0.2; done' >/dev/null
check "run -d (TERM ignored)" wait_state stubborn running
for _ in $(seq 50); do $D logs stubborn 2>/dev/null | grep -q up && break; sleep 0.2; done
start=$(date +%s)
$D stop -t 2 stubborn >/dev/null
check "stop -t 2: exited after the grace period" wait_state stubborn exited
check_eq "stop -t 2: killed (137)" 137 "$($D inspect -f '{{.State.ExitCode}}' stubborn)"
check "stop -t 2: took at least the grace period" [ $(( $(date +%s) - start )) -ge 2 ]
$D rm stubborn >/dev/null

# ---- --memory and --cpus size the VM (default: 1 vCPU, 256 MiB) -----------------------
out=$($R --rm --memory 512m --cpus 2 $IMG sh -c 'nproc; sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo')
set -- $out
check_eq "--cpus 2: two vCPUs" 2 "${1:-}"
if "$RUNTIME_BIN" --version 2>/dev/null | grep -q '^hull'; then
  check "--memory 512m: guest RAM above the 256 MiB default, at most 512 MiB (MemTotal ${2:-?} kB)" \
    sh -c '[ "$1" -gt $((300 * 1024)) ] && [ "$1" -le $((512 * 1024)) ]' _ "${2:-0}"
else
  skip "--memory 512m sizes the guest" "$RUNTIME_BIN has no guest: MemTotal is the host's"
fi

check_eq "nothing left running" "" "$($D ps -q)"

check_summary docker
