#!/bin/bash
# integration/conformance/run.sh RUNTIME_BIN
#
# Lifecycle conformance of a runc-compatible runtime, written from the OCI
# runtime-spec (runtime.md: create/start/state/kill/delete, the state JSON,
# hooks and their failure rules, errors) and from the runc CLI conventions
# that containerd relies on (--root, --pid-file, state JSON printed by
# `state`).  The bundle is a busybox-static rootfs made here; the runtime's
# state goes to a private --root.  Prints one PASS:/FAIL: line per check
# (named "conformance: ..."); exits 1 when anything failed.
# Deliberate differences of a runtime from the spec are listed in
# integration/conformance/known-differences (see README.md there).
# Needs root and busybox.  Env: CONFORMANCE_TIMEOUT (s per runtime call,
# default 60).
set -u
[ $# = 1 ] || { echo "usage: $0 RUNTIME_BIN" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/check.sh"
CHECK_PREFIX="conformance: "
case $1 in /*) RT=$1 ;; */*) RT=$PWD/$1 ;; *) RT=$(command -v "$1") || RT=$PWD/$1 ;; esac
[ -x "$RT" ] || { echo "FAIL: conformance: runtime $1 is not executable"; exit 1; }
# Known differences (known-differences, one "RUNTIME<TAB>CHECK<TAB>WHY" a
# line; RUNTIME is the first word of `--version`): such a check that fails
# prints SKIP with the reason; one that passes is a FAIL, so the list
# cannot go stale.  CONFORMANCE_STRICT=1 ignores the list.
RT_NAME=$("$RT" --version 2>/dev/null | head -n1 | awk '{ print $1 }')
known_difference () {   # CHECK: prints WHY when listed for this runtime
  [ "${CONFORMANCE_STRICT:-0}" = 1 ] && return 1
  awk -F '\t' -v rt="$RT_NAME" -v c="$1" '$1 == rt && $2 == c { print $3; found = 1 } END { exit !found }' \
    "$HERE/known-differences"
}
pass () {
  local why
  if why=$(known_difference "$*"); then
    echo "FAIL: $CHECK_PREFIX$* (passes, but is listed in known-differences: update it)"
    CHECK_FAILS=$((CHECK_FAILS + 1))
  else echo "PASS: $CHECK_PREFIX$*"; fi
}
fail () {
  local why
  if why=$(known_difference "$*"); then echo "SKIP: $CHECK_PREFIX$* (known difference of $RT_NAME: $why)"
  else echo "FAIL: $CHECK_PREFIX$*"; CHECK_FAILS=$((CHECK_FAILS + 1)); fi
}
[ "$(id -u)" = 0 ] || { echo "FAIL: conformance: needs root"; exit 1; }
command -v busybox >/dev/null || { echo "FAIL: conformance: needs busybox-static"; exit 1; }
TO=${CONFORMANCE_TIMEOUT:-60}
T=$(mktemp -d /tmp/hull-conf.XXXXXX) || exit 1
chmod 755 "$T"
ROOT=$T/state
rt () { timeout -k 5 "$TO" "$RT" --root "$ROOT" "$@"; }
cleanup () {
  local id
  for id in $(rt list -q 2>/dev/null); do rt delete -f "$id" >/dev/null 2>&1; done
  rm -rf "$T"
}
trap cleanup EXIT
echo "conformance: runtime $RT ($("$RT" --version 2>/dev/null | head -n1))"

# ---- bundle -------------------------------------------------------------------
RFS=$T/rootfs
mkdir -p "$RFS"/{bin,proc,dev,tmp,etc} "$RFS$T"
cp "$(command -v busybox)" "$RFS/bin/busybox"
for a in sh echo sleep cat true false test touch trap; do ln -sf busybox "$RFS/bin/$a"; done
# The hook script exists at the same path on the host and in the rootfs, so
# a hook runs whichever namespace the runtime runs it in; it appends
# "NAME STATUS ID" from the state JSON on its stdin to LOG (a path seen in
# the namespace it runs in), then exits with EXIT.
cat > "$T/hook.sh" <<'SH'
#!/bin/sh
name=$1 log=$2 rc=${3:-0}
state=$(cat)
status=$(echo "$state" | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
id=$(echo "$state" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
echo "$name $status $id" >> "$log"
exit "$rc"
SH
chmod 755 "$T/hook.sh"
cp "$T/hook.sh" "$RFS$T/hook.sh"
# The shebang must also work inside the rootfs.
[ -x "$RFS/bin/sh" ] || exit 1

# mkbundle NAME ARGS_JSON [HOOKS_JSON] [EXTRA_TOP_LEVEL_JSON]: a bundle dir
# whose root.path is the shared rootfs, absolute (runc refuses a symlink).
mkbundle () {
  local d=$T/b-$1
  mkdir -p "$d"
  cat > "$d/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": $2,
    "env": [ "PATH=/bin" ],
    "cwd": "/"
  },
  "root": { "path": "$RFS", "readonly": false },
  "hostname": "conformance",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] }
  ],
  "annotations": { "org.hull.conformance": "yes" },
  "hooks": ${3:-{\}},
  ${4:+$4,}
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ]
  }
}
JSON
  echo "$d"
}

state_json () { rt state "$1" 2>/dev/null; }
field () {   # ID FIELD: a string or number member of the state JSON
  state_json "$1" | tr -d '\n' | sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\).*/\1/p"
}
status_of () { field "$1" status; }
wait_status () {   # ID STATUS: up to 30 s
  for _ in $(seq 150); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.2; done; return 1; }
gone () { ! rt state "$1" >/dev/null 2>&1; }
pid_alive () { [ -n "$1" ] && [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat"; }

# ---- operations on a container that does not exist ----------------------------
for op in state start delete; do
  rt $op nosuch >/dev/null 2>&1; check "$op of a nonexistent container fails" [ $? != 0 ]
done
rt kill nosuch TERM >/dev/null 2>&1; check "kill of a nonexistent container fails" [ $? != 0 ]

# ---- create: environment made, program not run ------------------------------------
MARK=$T/ran
B=$(mkbundle life "[\"sh\",\"-c\",\"touch $MARK; trap 'echo term > $T/term; exit 0' TERM; while :; do sleep 0.1; done\"]")
rt create --bundle "$B" --pid-file "$T/life.pid" life; check "create exits 0" [ $? = 0 ]
check_eq "state after create: status created" created "$(status_of life)"
sleep 0.5
check "create does not run the user program" [ ! -e "$RFS$MARK" ] && [ ! -e "$MARK" ]
J=$(state_json life)
check_grep "state: ociVersion" '"ociVersion": *"[0-9]+\.[0-9]+\.[0-9]+' "$J"
check_grep "state: id" '"id": *"life"' "$J"
check_grep "state: bundle is the absolute bundle path" "\"bundle\": *\"$B\"" "$J"
check_grep "state: annotations from config.json" '"org.hull.conformance": *"yes"' "$J"
PID=$(field life pid)
check "state: pid of a created container is a live process" pid_alive "$PID"
check_eq "pid file holds the state pid" "$PID" "$(cat "$T/life.pid" 2>/dev/null)"
rt create --bundle "$B" life >/dev/null 2>&1; check "create with an id in use fails" [ $? != 0 ]
check_eq "... and leaves the existing container alone" created "$(status_of life)"
rt delete life >/dev/null 2>&1; rc=$?
# runtime.md: deleting a container that is not stopped MUST fail.
check "delete of a created (not stopped) container fails" [ $rc != 0 ]
if [ $rc = 0 ]; then
  B=$(mkbundle life "[\"sh\",\"-c\",\"touch $MARK; trap 'echo term > $T/term; exit 0' TERM; while :; do sleep 0.1; done\"]")
  rt create --bundle "$B" --pid-file "$T/life.pid" life
fi

# ---- start ---------------------------------------------------------------------
rt start life; check "start exits 0" [ $? = 0 ]
check "state after start: running" wait_status life running
for _ in $(seq 50); do [ -e "$RFS$MARK" ] && break; sleep 0.1; done
check "start runs the user program" [ -e "$RFS$MARK" ]
check "state: pid of a running container is a live process" pid_alive "$(field life pid)"
rt start life >/dev/null 2>&1; check "start of a running container fails" [ $? != 0 ]
rt delete life >/dev/null 2>&1; check "delete of a running container fails" [ $? != 0 ]
check_eq "... and has no effect" running "$(status_of life)"

# ---- kill ----------------------------------------------------------------------
rt kill life TERM; check "kill TERM exits 0" [ $? = 0 ]
check "kill: the process got SIGTERM and exited -> stopped" wait_status life stopped
check "kill: signal delivered to the program" [ -e "$RFS$T/term" ]
rt kill life TERM >/dev/null 2>&1; check "kill of a stopped container fails" [ $? != 0 ]
check_eq "... and it stays stopped" stopped "$(status_of life)"
rt start life >/dev/null 2>&1; check "start of a stopped container fails" [ $? != 0 ]

# ---- delete ---------------------------------------------------------------------
rt delete life; check "delete of a stopped container exits 0" [ $? = 0 ]
check "state after delete fails" gone life
rt delete life >/dev/null 2>&1; check "second delete fails" [ $? != 0 ]
rt create --bundle "$B" life; check "the id can be reused after delete" [ $? = 0 ]
rt delete -f life >/dev/null 2>&1

# ---- the program exits on its own ------------------------------------------------
B=$(mkbundle quick '["sh","-c","exit 0"]')
rt create --bundle "$B" quick && rt start quick
check "a program that exits -> stopped" wait_status quick stopped
rt delete quick; check "delete after exit" [ $? = 0 ]
# kill of a created container is allowed (it is neither stopped nor paused).
B=$(mkbundle kc '["sleep","100"]')
rt create --bundle "$B" kc
rt kill kc KILL; check "kill of a created container exits 0" [ $? = 0 ]
check "... and it stops" wait_status kc stopped
rt delete -f kc >/dev/null 2>&1

# ---- bad bundles: error, nothing created ---------------------------------------------
mkdir -p "$T/empty"
rt create --bundle "$T/empty" nocfg >/dev/null 2>&1; check "create without config.json fails" [ $? != 0 ]
check "... and creates nothing" gone nocfg
B=$(mkbundle badjson '["true"]'); echo '{ "ociVersion": ' > "$B/config.json"
rt create --bundle "$B" badjson >/dev/null 2>&1; check "create with malformed config.json fails" [ $? != 0 ]
check "... and creates nothing" gone badjson
B=$(mkbundle noroot '["true"]'); sed -i "s|\"path\": \"$RFS\"|\"path\": \"$T/no-such-rootfs\"|" "$B/config.json"
rt create --bundle "$B" noroot 2>"$T/err" >/dev/null; check "create with a missing root.path fails" [ $? != 0 ]
check "... and creates nothing" gone noroot
check_grep "... and the error names the path" 'no-such-rootfs' "$(cat "$T/err")"
B=$(mkbundle noargs '[]')
{ rt create --bundle "$B" noargs && rt start noargs; } >/dev/null 2>&1
check "a process without args fails at create or start" [ $? != 0 ]
rt delete -f noargs >/dev/null 2>&1
B=$(mkbundle nocmd '["/bin/no-such-program"]')
{ rt create --bundle "$B" nocmd && rt start nocmd; } >/dev/null 2>&1
check "a program that does not exist fails at create or start" [ $? != 0 ]
rt delete -f nocmd >/dev/null 2>&1

# ---- hooks: order, state on stdin ------------------------------------------------------
L=$T/hooks.log            # host path
CL=$T/hooks-ctr.log       # in the rootfs: $RFS$CL on the host
hk () { echo "{\"path\":\"$T/hook.sh\",\"args\":[\"hook.sh\",\"$1\",\"$2\"${3:+,\"$3\"}]}"; }
HOOKS="{\"prestart\":[$(hk prestart "$L")],\"createRuntime\":[$(hk createRuntime "$L")],\"createContainer\":[$(hk createContainer "$L")],\"startContainer\":[$(hk startContainer "$CL")],\"poststart\":[$(hk poststart "$L")],\"poststop\":[$(hk poststop "$L")]}"
B=$(mkbundle hooks '["sh","-c","sleep 0.3"]' "$HOOKS")
rm -f "$L" "$RFS$CL" "$CL"
rt create --bundle "$B" hooks; check "create with all hooks" [ $? = 0 ]
check_eq "create ran prestart, createRuntime, createContainer in order" \
  "prestart createRuntime createContainer" "$(awk '{ print $1 }' "$L" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "create-time hooks got the state with status creating and the id" \
  "creating hooks creating hooks creating hooks" "$(awk '{ print $2, $3 }' "$L" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
rt start hooks; check "start with hooks" [ $? = 0 ]
check "startContainer ran" eval '[ -s "$RFS$CL" ] || [ -s "$CL" ]'
check "startContainer ran in the container's namespace (path resolved in the container)" [ -s "$RFS$CL" ]
check_eq "startContainer got status created" "startContainer created hooks" "$(cat "$RFS$CL" "$CL" 2>/dev/null | head -n1)"
check_eq "poststart ran after start, status running" "poststart running hooks" "$(sed -n 4p "$L" 2>/dev/null)"
wait_status hooks stopped
check "poststop has not run before delete" [ "$(grep -c poststop "$L")" = 0 ]
rt delete hooks; check "delete with hooks" [ $? = 0 ]
check_eq "poststop ran at delete, status stopped" "poststop stopped hooks" "$(sed -n 5p "$L" 2>/dev/null)"

# ---- hook failures -----------------------------------------------------------------
for h in prestart createRuntime createContainer; do
  rm -f "$L"
  B=$(mkbundle "fail$h" '["sh","-c","sleep 100"]' "{\"$h\":[$(hk "$h" "$L" 3)],\"poststop\":[$(hk poststop "$L")]}")
  rt create --bundle "$B" "fail$h" >/dev/null 2>&1; rc=$?
  check "failing $h hook: create fails" [ $rc != 0 ]
  check "failing $h hook: the container is destroyed" gone "fail$h"
  check "failing $h hook: poststop hooks run (lifecycle continues at delete)" grep -q '^poststop' "$L"
  rt delete -f "fail$h" >/dev/null 2>&1
done
rm -f "$L"
B=$(mkbundle failpoststart '["sh","-c","sleep 100"]' "{\"poststart\":[$(hk poststart "$L" 3)]}")
rt create --bundle "$B" failpoststart >/dev/null 2>&1
rt start failpoststart >/dev/null 2>&1; rc=$?
check "failing poststart hook: start still succeeds (warning only)" [ $rc = 0 ]
check_eq "failing poststart hook: container keeps running" running "$(status_of failpoststart)"
rt delete -f failpoststart >/dev/null 2>&1
B=$(mkbundle failpoststop '["true"]' "{\"poststop\":[$(hk poststop "$L" 3)]}")
rt create --bundle "$B" failpoststop && rt start failpoststop && wait_status failpoststop stopped
rt delete failpoststop >/dev/null 2>&1; rc=$?
check "failing poststop hook: delete still succeeds (warning only)" [ $rc = 0 ]
check "failing poststop hook: container is gone" gone failpoststop

check_eq "nothing left in the runtime's state" "" "$(rt list -q 2>/dev/null)"
check_summary conformance
