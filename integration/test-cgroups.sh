#!/bin/bash
# lane: host
# Host cgroup placement (runtime/cgroup_host.h) with build/hull-test: the
# supervisor does it before the backend starts anything, the same for
# every backend, so the host test backend's supervisor and container
# processes show where the microVM's VMM and virtiofsd would be.
# linux.cgroupsPath absolute, relative and in the systemd form
# (--systemd-cgroup), the host-side limits (memory, cpu; not pids), removal
# at delete of exactly what hull created, and bad paths failing create with
# the field named and nothing left.  Needs root and a cgroup v1 or v2 mount.
# HULL_TEST=path runs another hull-test binary (default: build it).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
CHECK_PREFIX="cgroups: "
if [ -z "${HULL_TEST:-}" ]; then
  make -s build/hull-test >/dev/null || { echo "FAIL: cgroups (build build/hull-test)"; exit 1; }
fi
HULL_BIN=${HULL_TEST:-$PWD/build/hull-test}
[ "$(id -u)" = 0 ] || { echo "FAIL: cgroups (needs root)"; exit 1; }
command -v busybox >/dev/null || { echo "FAIL: cgroups (needs busybox)"; exit 1; }
grep -q ' - cgroup2\? ' /proc/self/mountinfo || { echo "SKIP: cgroups (no cgroup filesystem mounted)"; exit 0; }
T=$(mktemp -d /tmp/hull-cgroups.XXXXXX)
ROOT=$T/root
TAG=hullcgtest$$
trap 'for id in $("$HULL_BIN" --root "$ROOT" list -q 2>/dev/null); do "$HULL_BIN" --root "$ROOT" delete -f "$id"; done
      for d in $(find /sys/fs/cgroup -depth -type d -name "*$TAG*" 2>/dev/null); do rmdir "$d"; done; rm -rf "$T"' EXIT
hull () { timeout 30 "$HULL_BIN" --root "$ROOT" "$@"; }

# Where things are: v2 (one unified mount carrying controllers) or v1.
V2=0
MEMMNT=$(awk '$0 ~ / - cgroup / && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
UNIMNT=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -z "$MEMMNT" ] && { V2=1; MEMMNT=$UNIMNT; }
# cgdir MOUNT: every directory named *$TAG* under it
cgdirs () { find /sys/fs/cgroup -type d -name "*$TAG*" 2>/dev/null; }
# memory line of /proc/PID/cgroup (v1) or the unified one (v2)
memcg_of () { if [ $V2 = 1 ]; then sed -n 's/^0:://p' "/proc/$1/cgroup"; else sed -n 's/^[0-9]*:[^:]*\bmemory\b[^:]*://p' "/proc/$1/cgroup"; fi; }
memlimit () { if [ $V2 = 1 ]; then cat "$MEMMNT$1/memory.max"; else cat "$MEMMNT$1/memory.limit_in_bytes"; fi; }

mkdir -p "$T/rootfs/bin"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in sh sleep cat; do ln -s busybox "$T/rootfs/bin/$a"; done
# mkbundle NAME CGROUPS_PATH_JSON ARGS_JSON
mkbundle () {
  mkdir -p "$T/$1"
  cat > "$T/$1/config.json" <<JSON
{ "ociVersion": "1.2.0",
  "process": { "user": { "uid": 0, "gid": 0 }, "args": $3, "env": [ "PATH=/bin" ], "cwd": "/" },
  "root": { "path": "$T/rootfs" },
  "linux": { "cgroupsPath": $2,
             "resources": { "memory": { "limit": 268435456 },
                            "cpu": { "shares": 512, "quota": 50000, "period": 100000 },
                            "pids": { "limit": 7 } } } }
JSON
  echo "$T/$1"
}
sup_pid () { hull state "$1" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }

# ---- absolute path ------------------------------------------------------------
B=$(mkbundle abs "\"/$TAG/abs\"" '["sleep","60"]')
hull create --bundle "$B" abs; check "absolute: create exits 0" [ $? = 0 ]
P=$(sup_pid abs)
check_eq "absolute: the supervisor is in cgroupsPath" "/$TAG/abs" "$(memcg_of "$P")"
if [ $V2 = 0 ]; then
  check "absolute: ... in every mounted v1 hierarchy" bash -c \
    "[ -z \"\$(grep -v '^0::' /proc/$P/cgroup | grep -v ':/$TAG/abs\$')\" ]"
fi
check_eq "absolute: memory limit on the host = memory.limit" 268435456 "$(memlimit "/$TAG/abs")"
if [ $V2 = 0 ]; then
  CPUMNT=$(awk '$0 ~ / - cgroup / && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
  check_eq "absolute: cpu quota on the host" 50000 "$(cat "$CPUMNT/$TAG/abs/cpu.cfs_quota_us")"
  check_eq "absolute: cpu shares on the host" 512 "$(cat "$CPUMNT/$TAG/abs/cpu.shares")"
  PIDSMNT=$(awk '$0 ~ / - cgroup / && $NF ~ /(^|,)pids(,|$)/ {print $5; exit}' /proc/self/mountinfo)
  [ -n "$PIDSMNT" ] && check_eq "absolute: the container's pids.limit is not the host's" max \
    "$(cat "$PIDSMNT/$TAG/abs/pids.max")"
else
  check_eq "absolute: cpu.max on the host" "50000 100000" "$(cat "$MEMMNT/$TAG/abs/cpu.max")"
  check_eq "absolute: the container's pids.limit is not the host's" max "$(cat "$MEMMNT/$TAG/abs/pids.max" 2>/dev/null || echo max)"
fi
hull start abs; check "absolute: start exits 0" [ $? = 0 ]
INIT=$(hull ps --format json abs | tr -dc '0-9,' | cut -d, -f1)
check_eq "absolute: the container's processes are inside too" "/$TAG/abs" "$(memcg_of "$INIT")"
check "absolute: what hull created is recorded" grep -q "/$TAG/abs\$" "$ROOT/abs/cgroups"
hull delete -f abs; check "absolute: delete -f exits 0" [ $? = 0 ]
check_eq "absolute: every directory hull created is gone after delete" "" "$(cgdirs)"

# ---- relative path: below the caller's own cgroup ---------------------------
OWN=$(memcg_of $$)
B=$(mkbundle rel "\"$TAG-rel\"" '["sh","-c","exit 3"]')
hull create --bundle "$B" rel; check "relative: create exits 0" [ $? = 0 ]
P=$(sup_pid rel)
check_eq "relative: below the caller's cgroup" "${OWN%/}/$TAG-rel" "$(memcg_of "$P")"
hull start rel
for _ in $(seq 50); do [ -e "/proc/$P" ] || break; sleep 0.1; done
hull delete rel; check "relative: delete after exit exits 0" [ $? = 0 ]
check_eq "relative: removed" "" "$(cgdirs)"

# ---- systemd form ---------------------------------------------------------------
B=$(mkbundle sd "\"$TAG.slice:hulltest:sd\"" '["sleep","60"]')
hull --systemd-cgroup create --bundle "$B" sd; check "systemd: create exits 0" [ $? = 0 ]
P=$(sup_pid sd)
check_eq "systemd: slice:prefix:name -> /SLICE/prefix-name.scope" "/$TAG.slice/hulltest-sd.scope" "$(memcg_of "$P")"
hull delete -f sd; check "systemd: delete -f exits 0" [ $? = 0 ]
check_eq "systemd: slice and scope removed" "" "$(cgdirs)"

# ---- a parent that existed stays --------------------------------------------------
mkdir "$MEMMNT/$TAG-pre"
B=$(mkbundle pre "\"/$TAG-pre/c\"" '["sleep","60"]')
hull create --bundle "$B" pre; check "pre-existing parent: create exits 0" [ $? = 0 ]
hull delete -f pre
check "pre-existing parent: kept after delete" [ -d "$MEMMNT/$TAG-pre" ]
check "pre-existing parent: the child hull made is gone" [ ! -e "$MEMMNT/$TAG-pre/c" ]
rmdir "$MEMMNT/$TAG-pre"

# ---- bad input ---------------------------------------------------------------------
bad () { # name cgroupsPath-json expected-message [global flags]
  local b; b=$(mkbundle "$1" "$2" '["sleep","60"]')
  hull ${4:-} create --bundle "$b" "$1" > "$T/$1.out" 2>&1; local rc=$?
  check "bad $1: create fails" [ $rc != 0 ]
  check "bad $1: error names linux.cgroupsPath and says why" bash -c \
    "grep -q 'linux.cgroupsPath' '$T/$1.out' && grep -q -- '$3' '$T/$1.out'"
  check "bad $1: no state left" [ -z "$(ls -A "$ROOT" | grep -v '^\.lock$')" ]
  check "bad $1: no supervisor left" bash -c "! pgrep -f -- '[s]upervise --bundle $b' >/dev/null"
  check_eq "bad $1: no cgroup left" "" "$(cgdirs)"
}
bad dotdot "\"/$TAG/../x\"" '`..`'
bad colon "\"$TAG.slice:docker:x\"" '--systemd-cgroup'
bad sdform "\"/$TAG/x\"" 'slice:prefix:name' --systemd-cgroup
bad slice "\"$TAG--x.slice:p:n\"" 'dashes' --systemd-cgroup

check_summary cgroups
