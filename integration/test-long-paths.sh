#!/bin/bash
# lane: host
# Unix sockets under long state directories (lane: host).  Docker's runtime
# root makes hull's state dir /var/run/docker/runtime-runc/moby/<64 hex id>
# (98 bytes), so "<state dir>/sock" does not fit sun_path (107 bytes).  Runs
# build/hull-test create/start/exec/kill/delete with a --root giving a
# state dir of well over 98 bytes, plus a --console-socket path longer than
# sun_path.  Prints PASS:/FAIL: lines; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
. integration/lib/check.sh
. integration/lib/hosttest.sh
hosttest_prereqs
T=$(mktemp -d /tmp/hull-longpath.XXXXXX)
# Docker's root (33 bytes) with a longer prefix: root ~100 bytes.
ROOT=$T/var/run/docker/runtime-runc/moby/$(printf 'x%.0s' $(seq 60))
ID=$(printf '%064x' 0 | sed 's/0/a/g; s/^a\{8\}/0123abcd/')
trap hosttest_cleanup EXIT

cc -Wall -Wextra -Werror -o "$T/recvtty" integration/recvtty.c || { echo "FAIL: build recvtty"; exit 1; }
mkdir -p "$ROOT"
SD="$ROOT/$ID"
check "state dir is longer than Docker's 98 bytes" [ ${#SD} -gt 150 ]
check "its socket path would not fit sun_path" [ ${#SD} -gt 107 ]

mkdir -p "$T/b/rootfs/bin" "$T/b/rootfs/tmp"
cp "$(command -v busybox)" "$T/b/rootfs/bin/busybox"
for a in sh echo sleep cat true test; do ln -s busybox "$T/b/rootfs/bin/$a"; done
mkbundle () { # ARGS_JSON [TERMINAL]
  cat > "$T/b/config.json" <<JSON
{ "ociVersion": "1.2.0",
  "process": { "terminal": ${2:-false}, "user": { "uid": 0, "gid": 0 },
               "args": $1, "env": [ "PATH=/bin" ], "cwd": "/" },
  "root": { "path": "rootfs" } }
JSON
}

mkbundle '["sleep","60"]'
hull create --bundle "$T/b" "$ID" 2>"$T/err"; rc=$?
check "create with a long state dir exits 0" [ $rc = 0 ]
[ $rc = 0 ] || cat "$T/err"
check "control socket is in the long state dir" [ -S "$SD/sock" ]
check "state is created" [ "$(status_of "$ID")" = created ]
hull start "$ID"; check "start exits 0" [ $? = 0 ]
check "state is running" [ "$(status_of "$ID")" = running ]
check "exec through the long control socket" [ "$(hull exec "$ID" echo from-exec)" = from-exec ]
hull exec "$ID" sh -c 'exit 7'; check "exec exit status 7" [ $? = 7 ]
hull kill "$ID" KILL; check "kill exits 0" [ $? = 0 ]
check "container stopped" wait_status "$ID" stopped
hull delete "$ID"; check "delete exits 0" [ $? = 0 ]
check "state dir empty after delete" state_dir_empty

# --console-socket longer than sun_path: recvtty binds a short path, the
# socket is then moved into a long directory (connect finds it by inode).
LONG="$T/$(printf 'c%.0s' $(seq 120))"
mkdir -p "$LONG"
mkbundle '["sh","-c","test -t 1 && echo IS-A-TTY"]' true
"$T/recvtty" "$T/c.sock" "$T/console.out" & RECV=$!
for _ in $(seq 50); do [ -S "$T/c.sock" ] && break; sleep 0.1; done
mv "$T/c.sock" "$LONG/console.sock"
hull create -b "$T/b" --console-socket "$LONG/console.sock" "$ID" 2>"$T/err"; rc=$?
check "create with a long --console-socket exits 0" [ $rc = 0 ]
[ $rc = 0 ] || cat "$T/err"
hull start "$ID" && wait_status "$ID" stopped
wait $RECV; check "console receiver got the pty" [ $? = 0 ]
check "process ran on the received pty" grep -q IS-A-TTY "$T/console.out"
hull delete "$ID"
check "state dir empty at the end" state_dir_empty

check_summary long-paths
