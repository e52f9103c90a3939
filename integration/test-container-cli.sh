#!/bin/bash
# lane: vm
# The runc-style CLI paths containerd drives, against a real microVM
# (build/hull, production backend): create and start as separate steps,
# the pid file, `state` JSON through created -> running -> stopped, `list`,
# `events --stats` with the guest's numbers, hooks run at their points with
# the state JSON on stdin (prestart, createRuntime, poststart, poststop),
# SIGTERM delivered to the container's init -> exit 143, and delete leaving
# nothing behind.  And the confinement of the supervisor (runtime/confine.h):
# once create returns it has no capabilities, no_new_privs and seccomp mode
# 2 on every thread, and the container still goes through its whole life
# under the filter (startContainer hook run by `hull start`, exec plain and
# on a resized terminal, 8 MiB of output, ps, stats, pause/resume, kill,
# delete) with no seccomp kill in the kernel log.  One VM boot.  Prints
# PASS:/FAIL: lines.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="container-cli: "
vmtest_init cli

field () { awk -v k="$2:" '$1 == k { print $2 }' "$1/status"; }
kills () { dmesg 2>/dev/null | grep -E 'type=1326|seccomp' | grep -E 'sig=31|code=0x80000000' ; }
kills_before=$(kills | wc -l)
json_field () { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$@" 2>/dev/null; }

# ---- rootfs and bundle ------------------------------------------------------
R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: container-cli (busybox rootfs)"; exit 1; }
# A host-side hook: records its name and the state JSON it got on stdin.
cat > "$T/hook" <<'SH'
#!/bin/sh
cat > "$HOOK_DIR/$1.json"
echo "$1" >> "$HOOK_DIR/order"
SH
chmod +x "$T/hook"
mkdir -p "$T/hooks" "$T/bundle"
"$HULL_BIN" spec --bundle "$T/bundle" || { echo "FAIL: container-cli (hull spec)"; exit 1; }
python3 - "$T/bundle/config.json" "$R" "$T" <<'PY' || { echo "FAIL: container-cli (bundle)"; exit 1; }
import json, sys
path, rootfs, t = sys.argv[1:4]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
p = c["process"]
# init: say it started, then wait for TERM (trap exits 143 like a default TERM).
p["args"] = ["sh", "-c", "trap 'exit 143' TERM; echo started; while :; do sleep 1; done"]
p["terminal"] = False
p["env"] = ["PATH=/bin"]
c["annotations"] = {"org.example.test": "cli"}
hook = lambda name: {"path": t + "/hook", "args": ["hook", name], "env": ["HOOK_DIR=" + t + "/hooks"]}
c["hooks"] = {k: [hook(k)] for k in ("prestart", "createRuntime", "startContainer", "poststart", "poststop")}
json.dump(c, open(path, "w"), indent=1)
PY

# ---- create / state created -------------------------------------------------
hull --log "$T/log" --debug create --bundle "$T/bundle" --pid-file "$T/pid" cli > "$T/out" 2> "$T/err" < /dev/null; rc=$?
check "create exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  /' "$T/err" | tail -20; echo "FAIL: container-cli (create failed)"; exit 1; }
check "pid file: decimal, no newline" bash -c "grep -qE '^[0-9]+$' '$T/pid' && [ \"\$(tail -c1 '$T/pid' | od -An -c | tr -d ' ')\" != '\\n' ]"
hull state cli > "$T/s1.json"
check "state created" [ "$(json_field "$T/s1.json" status)" = created ]
check "state: id, bundle, ociVersion, created" bash -c \
  "[ '$(json_field "$T/s1.json" id)' = cli ] && [ '$(json_field "$T/s1.json" bundle)' = '$T/bundle' ] \
   && [ -n '$(json_field "$T/s1.json" ociVersion)' ] && [ -n '$(json_field "$T/s1.json" created)' ]"
check "state: pid matches the pid file" [ "$(json_field "$T/s1.json" pid)" = "$(cat "$T/pid")" ]
check "state: annotations" grep -q '"org.example.test": *"cli"' "$T/s1.json"
check "hooks: prestart and createRuntime ran at create, in order" \
  bash -c "[ \"\$(tr '\n' ' ' < '$T/hooks/order')\" = 'prestart createRuntime ' ]"
check "hooks: createRuntime got the state JSON on stdin" \
  bash -c "grep -q '\"id\": *\"cli\"' '$T/hooks/createRuntime.json'"
check "list shows it created" bash -c "'$HULL_BIN' --root '$STATE' list | grep -qE '^cli +[0-9]+ +created'"

# ---- the supervisor is confined once create returns ------------------------------
sup=$(cat "$T/pid")
main=/proc/$sup/task/$sup
for k in CapEff CapPrm CapBnd CapInh CapAmb; do
  check_eq "confined: supervisor main thread $k" 0000000000000000 "$(field "$main" $k)"
done
check_eq "confined: NoNewPrivs" 1 "$(field "$main" NoNewPrivs)"
bad=
for t in /proc/$sup/task/*; do
  st="$(field "$t" CapEff)/$(field "$t" NoNewPrivs)/$(field "$t" Seccomp)"
  [ "$st" = 0000000000000000/1/2 ] || bad="$bad ${t##*/}:$st"
done
check_eq "confined: every thread CapEff 0, NoNewPrivs 1, Seccomp 2" "" "$bad"
check "confined: stdio is /dev/null" bash -c \
  "for f in 0 1 2; do [ \"\$(readlink /proc/$sup/fd/\$f)\" = /dev/null ] || exit 1; done"

# ---- start / running / events --------------------------------------------------
hull start cli; rc=$?
check "start exits 0" [ "$rc" = 0 ]
check "state running" [ "$(json_field <(hull state cli) status)" = running ]
check "hooks: startContainer (status created) then poststart at start" bash -c \
  "[ \"\$(tail -n2 '$T/hooks/order' | tr '\n' ' ')\" = 'startContainer poststart ' ] \
   && grep -q '\"status\": *\"created\"' '$T/hooks/startContainer.json'"
check_eq "exec" hi "$(hull exec cli echo hi 2>&1)"
check_eq "exec: 8 MiB through stdout" 8388608 "$(hull exec cli head -c 8388608 /dev/zero | wc -c)"
out=$(timeout -k 5 "$RUN_TIMEOUT" script -qec "stty rows 33 cols 77; exec '$HULL_BIN' --root '$STATE' exec -t cli sh -c 'stty size'" /dev/null | tr -d '\r\0'); rc=$?
check "exec -t: exit 0" [ "$rc" = 0 ]
check_grep "exec -t: the terminal size reached the guest" '(^|[^0-9])33 77$' "$out"
hull pause cli && hull resume cli; rc=$?
check "pause + resume" [ "$rc" = 0 ]
check_eq "state running after resume" running "$(json_field <(hull state cli) status)"
hull exec --detach --pid-file "$T/epid" cli sleep 600; rc=$?
check "exec --detach exits 0" [ "$rc" = 0 ]
# Guest pids mean nothing on the host (Docker's top runs ps(1) on them):
# ps lists the host processes standing for the container's.
check "ps --format json: host pids, the supervisor (init) and the exec relay" python3 -c '
import json, sys
got = sorted(json.loads(sys.argv[1]))
want = sorted([int(sys.argv[2]), int(open(sys.argv[3]).read())])
assert got == want, (got, want)
' "$(hull ps --format json cli)" "$sup" "$T/epid"
check "ps: the supervisor's command line shows the container's args" \
  bash -c "tr '\0' ' ' < /proc/$sup/cmdline | grep -q -- '-- sh -c trap'"
check "hooks: poststart ran after start" bash -c "tail -n1 '$T/hooks/order' | grep -qx poststart"
hull events --stats cli > "$T/ev.json" 2> "$T/ev.err"; rc=$?
check "events --stats exits 0" [ "$rc" = 0 ]
check "events --stats: one stats event for cli" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
e = json.loads(lines[0])
assert e["type"] == "stats" and e["id"] == "cli", e
' "$T/ev.json"
check "events --stats: non-zero guest memory usage" python3 -c '
import json, sys
e = json.loads(open(sys.argv[1]).readline())
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "memory" and isinstance(v, dict):
                u = v.get("usage", {})
                if isinstance(u, dict) and u.get("usage", 0) > 0: return True
            if walk(v): return True
    return False
assert walk(e["data"]), e
' "$T/ev.json"
[ -s "$T/ev.json" ] && sed 's/^/  events: /' "$T/ev.json" | cut -c1-300

# ---- kill TERM / stopped / delete ---------------------------------------------
hull kill cli TERM; rc=$?
check "kill TERM exits 0" [ "$rc" = 0 ]
for _ in $(seq 120); do [ "$(json_field <(hull state cli) status)" = stopped ] && break; sleep 0.5; done
check "state stopped after TERM" [ "$(json_field <(hull state cli) status)" = stopped ]
for _ in $(seq 100); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
check_grep "supervisor log: exited with the container's status (no SIGSYS on the way)" \
  'stopped with status 143' "$(cat "$T/log")"
out=$(hull kill cli KILL 2>&1); rc=$?
check "kill of a stopped container: 'container not running'" \
  bash -c "[ $rc != 0 ] && echo '$out' | grep -q 'container not running'"
hull delete cli; rc=$?
check "delete exits 0" [ "$rc" = 0 ]
check "hooks: poststop ran at delete" bash -c "tail -n1 '$T/hooks/order' | grep -qx poststop"
for _ in $(seq 50); do kill -0 "$sup" 2>/dev/null || break; sleep 0.1; done
check "supervisor gone after delete" bash -c "! kill -0 $sup 2>/dev/null"
out=$(hull state cli 2>&1); rc=$?
check "state after delete: 'does not exist'" bash -c "[ $rc != 0 ] && echo '$out' | grep -q 'does not exist'"
check "state dir empty" state_clean
check "no virtiofsd or supervisor left" procs_gone
check_eq "no seccomp kill in the kernel log" "$kills_before" "$(kills | wc -l)"
kills | tail -n +"$((kills_before + 1))" | sed 's/^/  /'
[ "$CHECK_FAILS" = 0 ]
