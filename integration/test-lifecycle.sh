#!/bin/bash
# lane: host
# Lifecycle tests (lane: host).  Runs the real CLI and supervisor of
# build/hull-test (the test-only build whose backend runs the container's
# processes as plain host children, chrooted into a busybox-static rootfs
# made here) against a temporary --root.  Prints PASS:/FAIL: lines and
# exits non-zero when anything failed.  Needs root (chroot) and busybox.
set -u
cd "$(dirname "$0")/.."
. integration/lib/check.sh
. integration/lib/hosttest.sh
hosttest_prereqs
T=$(mktemp -d /tmp/hull-lifecycle.XXXXXX)
ROOT=$T/root
trap hosttest_cleanup EXIT
# Gone, or a zombie its reaper has not collected yet.
proc_gone () { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat"; }

cc -Wall -Wextra -Werror -o "$T/recvtty" integration/recvtty.c || { echo "FAIL: build recvtty"; exit 1; }

# ---- bundle: busybox-static rootfs, config.json per test --------------------
mkdir -p "$T/b/rootfs/bin" "$T/b/rootfs/tmp"
cp "$(command -v busybox)" "$T/b/rootfs/bin/busybox"
for a in sh echo sleep cat true false tty test kill ls; do ln -s busybox "$T/b/rootfs/bin/$a"; done
# mkbundle NAME ARGS_JSON [TERMINAL] [HOOKS_JSON]
mkbundle () {
  local d=$T/$1
  mkdir -p "$d"
  [ -e "$d/rootfs" ] || ln -s "$T/b/rootfs" "$d/rootfs"
  cat > "$d/config.json" <<JSON
{ "ociVersion": "1.2.0",
  "process": { "terminal": ${3:-false}, "user": { "uid": 0, "gid": 0 },
               "args": $2, "env": [ "PATH=/bin", "TERM=xterm" ], "cwd": "/" },
  "root": { "path": "rootfs" },
  "annotations": { "org.example.key": "value" },
  "hooks": ${4:-{\}} }
JSON
  echo "$d"
}

# ---- create -> created -> start -> running -> exit -> stopped -> delete ----
B=$(mkbundle life '["sh","-c","sleep 1; exit 3"]')
hull create --bundle "$B" --pid-file "$T/life.pid" life; check "create exits 0" [ $? = 0 ]
check "state after create is created" [ "$(status_of life)" = created ]
PID=$(cat "$T/life.pid")
check "pid file is a decimal pid without newline" [ "$(od -An -c "$T/life.pid" | tr -d ' ')" = "$(printf %s "$PID" | od -An -c | tr -d ' ')" ]
check "pid file names the supervisor" grep -q supervise "/proc/$PID/cmdline"
check "state pid equals pid file" grep -q "\"pid\": $PID," <(hull state life)
check "state has bundle, created, annotations" bash -c "hull () { timeout 30 '$HULL_BIN' --root '$ROOT' \"\$@\"; }; out=\$(hull state life); grep -q '\"bundle\": \"$B\"' <<<\"\$out\" && grep -q '\"created\": \"20' <<<\"\$out\" && grep -q org.example.key <<<\"\$out\" && grep -q '\"ociVersion\": \"1.2.0\"' <<<\"\$out\""
hull start life; check "start exits 0" [ $? = 0 ]
check "state after start is running" [ "$(status_of life)" = running ]
check "container exits -> stopped" wait_status life stopped
check "supervisor exited" proc_gone "$PID"
hull delete life; check "delete of stopped exits 0" [ $? = 0 ]
check "state dir empty after delete" state_dir_empty

# ---- run: exit statuses ---------------------------------------------------
for code in 0 1 42; do
  B=$(mkbundle "run$code" "[\"sh\",\"-c\",\"exit $code\"]")
  hull run --bundle "$B" "run$code"; rc=$?
  check "run exit status $code" [ "$rc" = "$code" ]
done
B=$(mkbundle runout '["echo","hello from the container"]')
check "run passes stdout through" [ "$(hull run -b "$B" runout)" = "hello from the container" ]
check "state dir empty after run" state_dir_empty

# ---- kill KILL -> 137 from the supervisor ----------------------------------
B=$(mkbundle k '["sleep","60"]')
hull run --bundle "$B" k & RUNPID=$!
wait_status k running
hull kill k KILL; check "kill KILL exits 0" [ $? = 0 ]
wait $RUNPID; check "supervisor exit status 137 after KILL" [ $? = 137 ]
# Default signal TERM -> 143; signal by name with SIG prefix and by number.
for sig in "" SIGTERM 15; do
  hull run --bundle "$B" k & RUNPID=$!
  wait_status k running
  hull kill k $sig
  wait $RUNPID; check "kill ${sig:-(default)} -> 143" [ $? = 143 ]
done
hull run --bundle "$B" k & RUNPID=$!
wait_status k running
hull kill k NOSUCHSIG 2>"$T/err"; rc=$?
check "bad signal name is an error" [ $rc != 0 ]
check "bad signal name error names it" grep -q "unknown signal \`NOSUCHSIG\`" "$T/err"
# A signal sent to the supervisor itself reaches the container.
SUP=$(hull state k | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
kill -USR1 "$SUP"; wait $RUNPID; check "signal to supervisor forwarded (USR1 -> 138)" [ $? = 138 ]

# ---- errors: missing container, stopped container -------------------------
hull state nosuch 2>"$T/err"; rc=$?
check "state of missing container fails" [ $rc != 0 ]
check "missing container: does not exist" grep -q "does not exist" "$T/err"
for cmd in start kill delete pause ps; do
  hull $cmd nosuch 2>"$T/err" >/dev/null
  check "$cmd of missing container: does not exist" grep -q "does not exist" "$T/err"
done
B=$(mkbundle st '["true"]')
hull create -b "$B" st && hull start st && wait_status st stopped
hull kill st KILL 2>"$T/err"; rc=$?
check "kill of stopped container fails" [ $rc != 0 ]
check "kill of stopped: container not running" grep -q "container not running" "$T/err"
hull exec st true 2>"$T/err"; check "exec in stopped container fails" [ $? != 0 ]
hull start st 2>"$T/err"; check "start of stopped container fails" [ $? != 0 ]
hull delete st
hull create -b "$B" ../evil 2>"$T/err"; rc=$?
check "invalid container id rejected" [ $rc != 0 ] && check "invalid id error" grep -q "invalid container id" "$T/err"
hull create -b "$T/nonexistent" nb 2>"$T/err"; rc=$?
check "missing bundle rejected" [ $rc != 0 ]
mkdir -p "$T/nr" && sed 's|"path": "rootfs"|"path": "no-such-rootfs"|' "$T/st/config.json" > "$T/nr/config.json"
hull create -b "$T/nr" nr 2>"$T/err"; rc=$?
check "missing rootfs rejected" [ $rc != 0 ]
check "missing rootfs error names it" grep -q "no-such-rootfs" "$T/err"
check "nothing left after failed creates" state_dir_empty

# ---- delete semantics ------------------------------------------------------
B=$(mkbundle d '["sleep","60"]')
hull create -b "$B" --pid-file "$T/d.pid" d
hull delete d; check "delete of created-not-started works" [ $? = 0 ]
check "its supervisor is gone" proc_gone "$(cat "$T/d.pid")"
hull create -b "$B" d && hull start d
hull delete d 2>"$T/err"; check "delete of running fails without --force" [ $? != 0 ]
check "delete of running: still running" [ "$(status_of d)" = running ]
hull delete --force d; check "delete --force of running works" [ $? = 0 ]
check "state dir empty after delete --force" state_dir_empty
# A crashed create (dir without state) is cleaned by delete --force.
mkdir -p "$ROOT/crashed" && : > "$ROOT/crashed/lock"
hull delete --force crashed; check "delete --force cleans a crashed create" [ $? = 0 ]
check "state dir empty" state_dir_empty
hull create -b "$B" dup && hull create -b "$B" dup 2>"$T/err"; rc=$?
check "create of an existing id fails" [ $rc != 0 ] && check "existing id: already exists" grep -q "already exists" "$T/err"
hull delete -f dup

# ---- option spellings: --opt=value, runc's single-dash long forms ----
B=$(mkbundle opts '["sleep","60"]')
hull create -bundle="$B" --pid-file="$T/opts.pid" opts; check "create -bundle=DIR --pid-file=F" [ $? = 0 ]
check "pid file from --pid-file=F" [ -s "$T/opts.pid" ]
hull start opts && hull pause opts
hull delete opts 2>/dev/null; check "delete of paused fails without --force" [ $? != 0 ]
hull delete -force opts; check "delete -force of paused works" [ $? = 0 ]
check "list --format=json of nothing" [ "$(hull list --format=json)" = "[]" ]
(cd "$T" && timeout 30 "$HULL_BIN" --root relroot run -b "$B" rel >/dev/null &
 sleep 1; cd / && timeout 30 "$HULL_BIN" --root "$T/relroot" kill rel KILL)
check "relative --root is made absolute" bash -c "sleep 1; [ -z \"\$(ls -A '$T/relroot' | grep -v '^\.lock\$')\" ]"
hull exec --bogus opts 2>"$T/err"; check "unknown option is an error" grep -q "unknown option \`--bogus\`" "$T/err"

# ---- exec --------------------------------------------------------------------
B=$(mkbundle e '["sleep","60"]')
hull create -b "$B" e && hull start e
hull exec e sh -c 'exit 5'; check "exec exit status 5" [ $? = 5 ]
check "exec stdout" [ "$(hull exec e echo from-exec)" = from-exec ]
check "exec --env and --cwd" [ "$(hull exec --env FOO=bar --cwd /tmp e sh -c 'echo $FOO $(pwd)')" = "bar /tmp" ]
cat > "$T/proc.json" <<JSON
{ "args": ["sh", "-c", "exit 9"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0} }
JSON
hull exec --process "$T/proc.json" e; check "exec --process exit status 9" [ $? = 9 ]
hull exec -d --pid-file "$T/relay.pid" e sleep 60; check "exec --detach exits 0" [ $? = 0 ]
RELAY=$(cat "$T/relay.pid")
check "exec relay alive" kill -0 "$RELAY"
N_BEFORE=$(hull ps --format json e | tr ',' '\n' | grep -c '[0-9]')
check "ps json lists init and exec'd process" [ "$N_BEFORE" = 2 ]
kill -9 "$RELAY"
for _ in $(seq 50); do [ "$(hull ps --format json e | tr ',' '\n' | grep -c '[0-9]')" = 1 ] && break; sleep 0.1; done
check "SIGKILL of relay kills the exec'd process" [ "$(hull ps --format json e | tr ',' '\n' | grep -c '[0-9]')" = 1 ]
hull exec e sleep 60 & EXPID=$!
sleep 0.5; kill -TERM $EXPID; wait $EXPID
check "signal to exec relay forwarded (TERM -> 143)" [ $? = 143 ]
hull pause e && check "pause -> paused" [ "$(status_of e)" = paused ]
hull exec e true 2>/dev/null; check "exec in paused container fails" [ $? != 0 ]
hull resume e && check "resume -> running" [ "$(status_of e)" = running ]
check "events --stats prints a stats event" grep -q '"type":"stats","id":"e","data":{' <(hull events --stats e)
check "events --interval streams stats events" [ "$(timeout 3 "$HULL_BIN" --root "$ROOT" events --interval=1s e | grep -c '"type":"stats"')" -ge 2 ]
hull update --resources - e <<<'{"memory":{"limit":"x"}}' 2>"$T/err"
check "update validates resources (names the field)" grep -q "memory.limit" "$T/err"
hull delete -f e
check "state dir empty after exec tests" state_dir_empty

# ---- console socket with a tty --------------------------------------------
B=$(mkbundle tty '["sh","-c","test -t 0 && test -t 1 && echo IS-A-TTY; exit 4"]' true)
"$T/recvtty" "$T/console.sock" "$T/console.out" & RECV=$!
for _ in $(seq 50); do [ -S "$T/console.sock" ] && break; sleep 0.1; done
hull create -b "$B" --console-socket "$T/console.sock" tty; check "create with --console-socket" [ $? = 0 ]
hull start tty && wait_status tty stopped
wait $RECV; check "console receiver got exactly one fd" [ $? = 0 ]
check "process ran on the received pty" grep -q IS-A-TTY "$T/console.out"
hull delete tty
hull create -b "$B" tty2 2>"$T/err"; rc=$?
check "terminal without --console-socket is refused" [ $rc != 0 ]
check "nothing left after refused tty create" state_dir_empty

# Interactive: run/exec in the foreground on our own terminal (script(1)
# gives us one), no --console-socket.
B=$(mkbundle itty '["sh","-c","test -t 0 && echo RUN-ON-TTY; read x; echo got:$x; exit 7"]' true)
out=$(printf 'typed\n' | timeout 30 script -qec "exec '$HULL_BIN' --root '$ROOT' run -b '$B' itty" /dev/null); rc=$?
check "interactive run: exit status 7" [ $rc = 7 ]
check "interactive run: process on a tty, gets our input" bash -c "grep -q RUN-ON-TTY <<<'$out' && grep -q got:typed <<<'$out'"
B=$(mkbundle ie '["sleep","60"]')
hull run -d -b "$B" ie
out=$(timeout 30 script -qec "exec '$HULL_BIN' --root '$ROOT' exec -t ie sh -c 'test -t 0 && echo EXEC-ON-TTY; exit 3'" /dev/null); rc=$?
check "interactive exec -t: exit status 3" [ $rc = 3 ]
check "interactive exec -t: on a tty" grep -q EXEC-ON-TTY <<<"$out"
hull delete -f ie
check "nothing left after interactive runs" state_dir_empty

# ---- hooks -------------------------------------------------------------------
cat > "$T/hook.sh" <<'SH'
#!/bin/sh
state=$(cat)
echo "$1 $(echo "$state" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')" >> "$2"
SH
chmod +x "$T/hook.sh"
H=$T/hook.sh; L=$T/hooks.log
hk () { echo "{\"path\":\"$H\",\"args\":[\"hook.sh\",\"$1\",\"$L\"]}"; }
HOOKS="{\"prestart\":[$(hk prestart)],\"createRuntime\":[$(hk createRuntime)],\"createContainer\":[$(hk createContainer)],\"startContainer\":[$(hk startContainer)],\"poststart\":[$(hk poststart)],\"poststop\":[$(hk poststop)]}"
B=$(mkbundle hooks '["true"]' false "$HOOKS")
hull run -b "$B" hooks; check "run with all hooks" [ $? = 0 ]
check "hooks ran in order with the state on stdin" [ "$(tr '\n' ' ' < "$L")" = "prestart creating createRuntime creating createContainer creating startContainer created poststart running poststop stopped " ]
# A hook may ask hull for the state while create holds the container lock.
cat > "$T/statehook.sh" <<SH
#!/bin/sh
timeout 5 "$HULL_BIN" --root "$ROOT" state hookstate > "$T/statehook.out"
SH
chmod +x "$T/statehook.sh"
B=$(mkbundle hookstate '["true"]' false "{\"createRuntime\":[{\"path\":\"$T/statehook.sh\",\"timeout\":10}]}")
hull create -b "$B" hookstate; check "create with a hook calling hull state" [ $? = 0 ]
check "the hook saw status creating" grep -q '"status": "creating"' "$T/statehook.out"
hull delete -f hookstate
printf '#!/bin/sh\nexit 3\n' > "$T/bad.sh"; chmod +x "$T/bad.sh"
B=$(mkbundle badhook '["true"]' false "{\"createRuntime\":[{\"path\":\"$T/bad.sh\"}],\"poststop\":[$(hk poststop-after-failure)]}")
hull create -b "$B" badhook 2>"$T/err"; rc=$?
check "failing createRuntime hook fails create" [ $rc != 0 ]
check "hook failure names the hook" grep -q "createRuntime hook 0 \`$T/bad.sh\` exited with status 3" "$T/err"
check "nothing left after hook failure" state_dir_empty
check "poststop hooks ran after the failed create" grep -q "^poststop-after-failure stopped$" "$L"
printf '#!/bin/sh\nsleep 30\n' > "$T/slow.sh"; chmod +x "$T/slow.sh"
B=$(mkbundle slowhook '["true"]' false "{\"prestart\":[{\"path\":\"$T/slow.sh\",\"timeout\":1}]}")
START=$(date +%s); hull create -b "$B" slowhook 2>"$T/err"; rc=$?
check "hook timeout fails create" [ $rc != 0 ] && check "hook timeout honoured" [ $(( $(date +%s) - START )) -lt 10 ]
check "timeout error says so" grep -q "timed out after 1 s" "$T/err"

# ---- concurrency -------------------------------------------------------------
B=$(mkbundle par '["sleep","60"]')
for i in $(seq 8); do hull create -b "$B" "par$i" & done; wait
check "8 parallel creates" [ "$(hull list -q | grep -c '^par')" = 8 ]
for i in $(seq 8); do hull create -b "$B" same 2>/dev/null & done; wait
check "parallel creates of one id: exactly one exists" [ "$(hull list -q | grep -c '^same$')" = 1 ]
check "list --format json" grep -q '"id":"par1"' <(hull list --format json)
for i in $(seq 8); do hull start "par$i" & done; wait
for i in $(seq 8); do (hull kill "par$i" KILL; hull state "par$i" >/dev/null) & done; wait
for i in $(seq 8); do hull delete --force "par$i" & done; hull delete -f same; wait
check "state dir empty after parallel deletes" state_dir_empty

# ---- --log json: the last error line -----------------------------------------
timeout 30 "$HULL_BIN" --root "$ROOT" --log "$T/log.json" --log-format json kill nosuch 2>/dev/null
LAST=$(tail -n 1 "$T/log.json")
check "json log: level error" grep -q '"level":"error"' <<<"$LAST"
check "json log: msg" grep -q '"msg":"container `nosuch` does not exist"' <<<"$LAST"
check "json log: time" grep -qE '"time":"20[0-9-]+T[0-9:.]+Z"' <<<"$LAST"
timeout 30 "$HULL_BIN" --root "$ROOT" --log-format yaml state x 2>"$T/err"
check "bad --log-format rejected" grep -q "unknown format" "$T/err"

# ---- version / features / spec -------------------------------------------------
check "version: 3 runc-style lines" bash -c "'$HULL_BIN' --version | sed -n '1p' | grep -q '^hull version ' && [ \$('$HULL_BIN' --version | wc -l) = 3 ] && '$HULL_BIN' version | grep -q '^spec: 1.2.0$'"
check "features is JSON with ociVersionMax" grep -q '"ociVersionMax": "1.2.0"' <(hull features)
mkdir -p "$T/spec" && hull spec --bundle "$T/spec"; check "spec writes config.json" [ -s "$T/spec/config.json" ]
hull spec --bundle "$T/spec" 2>/dev/null; check "spec refuses to overwrite" [ $? != 0 ]

check "nothing left in the state dir at the end" state_dir_empty
check_summary lifecycle
