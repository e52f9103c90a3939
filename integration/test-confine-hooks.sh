#!/bin/bash
# lane: host
# startContainer hooks run from `hull start` (the confined supervisor can
# no longer execute anything, runtime/confine.h): with build/hull-test,
# whose supervisor shares that code, a passing hook sees status `created`
# and the supervisor's pid, and runs before the process starts; a failing
# one fails `hull start` naming the hook, and the container is stopped
# (its process never ran) and can be deleted.  Needs root and busybox.
# Env: HULL_TEST (default build/hull-test, built when missing).
set -u
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
CHECK_PREFIX="confine-hooks: "
HULL_BIN=${HULL_TEST:-$PWD/build/hull-test}
if [ -z "${HULL_TEST:-}" ]; then
  make -s build/hull-test > /dev/null || { echo "FAIL: build build/hull-test"; exit 1; }
fi
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (the test backend chroots)"; exit 1; }
command -v busybox > /dev/null || { echo "FAIL: needs busybox-static"; exit 1; }
T=$(mktemp -d /tmp/hull-confine-hooks.XXXXXX) || exit 1
ROOT=$T/root
trap 'for id in $("$HULL_BIN" --root "$ROOT" list -q 2>/dev/null); do "$HULL_BIN" --root "$ROOT" delete -f "$id"; done; rm -rf "$T"' EXIT
hull () { timeout 30 "$HULL_BIN" --root "$ROOT" "$@"; }
status_of () { hull state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }

mkdir -p "$T/rootfs/bin"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in sh touch sleep; do ln -s busybox "$T/rootfs/bin/$a"; done
# The hook records the status and pid it got, and whether the process ran.
cat > "$T/hook.sh" <<SH
#!/bin/sh
cat > "$T/hook.state"
[ -e "$T/rootfs/ran" ] && echo "process ran first" >> "$T/hook.state"
exit \${1:-0}
SH
chmod +x "$T/hook.sh"
# mkbundle NAME HOOK_EXIT
mkbundle () {
  mkdir -p "$T/$1"
  cat > "$T/$1/config.json" <<JSON
{ "ociVersion": "1.2.0",
  "process": { "user": { "uid": 0, "gid": 0 }, "args": ["sh", "-c", "touch /ran; sleep 30"],
               "env": ["PATH=/bin"], "cwd": "/" },
  "root": { "path": "$T/rootfs" },
  "hooks": { "startContainer": [ { "path": "$T/hook.sh", "args": ["hook.sh", "$2"] } ] } }
JSON
}

mkbundle good 0
hull create --bundle "$T/good" --pid-file "$T/good.pid" good
check "create" [ $? = 0 ]
hull start good
check "start with a passing startContainer hook" [ $? = 0 ]
check "the hook got status created" grep -q '"status": *"created"' "$T/hook.state"
check "the hook got the supervisor's pid" grep -q "\"pid\": *$(cat "$T/good.pid")" "$T/hook.state"
check "the hook ran before the process" bash -c "! grep -q 'process ran first' '$T/hook.state'"
for _ in $(seq 50); do [ -e "$T/rootfs/ran" ] && break; sleep 0.1; done
check "the process ran after start" [ -e "$T/rootfs/ran" ]
check "running" [ "$(status_of good)" = running ]
hull delete -f good
rm -f "$T/rootfs/ran" "$T/hook.state"

mkbundle bad 3
hull create --bundle "$T/bad" bad
check "create (failing hook)" [ $? = 0 ]
out=$(hull start bad 2>&1); rc=$?
check "start fails when startContainer fails" [ "$rc" != 0 ]
check_grep "the error names the hook" 'startContainer hook 0 .* exited with status 3' "$out"
for _ in $(seq 100); do [ "$(status_of bad)" = stopped ] && break; sleep 0.1; done
check "the container is stopped" [ "$(status_of bad)" = stopped ]
check "its process never ran" [ ! -e "$T/rootfs/ran" ]
hull delete bad
check "delete" [ $? = 0 ]
check_summary confine-hooks
