#!/bin/bash
# lane: host
# Bad input at the CLI (lane: host).  Every case here must be refused
# BEFORE a microVM boots, so it runs on this host with the production
# build/hull (plus build/hull-test for the few cases that need an existing
# container, which only the test backend can make without a VM).
#
# Each case checks: non-zero exit (not a crash, not a hang), an error that
# names the field / path / id at fault (grep -E pattern), no sign that a VM
# was booted, and that nothing is left behind: no state dir under the
# test's --root, no process started by the case (anything whose command
# line holds this test's temp dir: supervisor, virtiofsd), no mount under
# the temp dir, no new `*_hull` tap in this netns.
#
# Cases that are only reachable past the "this /dev/kvm cannot boot Linux"
# gate (root.path, netns, kernel/initramfs contents) run with
# HULL_ALLOW_EMULATED=1 and a settings file whose bootTimeoutMs is 1000,
# so a missing check costs one short emulated boot, which the case reports.
#
# Prints PASS:/FAIL:/SKIP: lines; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
HULL=$REPO/build/hull
HULL_TEST=$REPO/build/hull-test
GUEST=$REPO/build/guest
make -s build/hull >/dev/null || { echo "FAIL: build build/hull"; exit 1; }
T=$(mktemp -d /tmp/hull-badinput.XXXXXX)
ROOT=$T/root
TROOT=$T/troot # the hull-test containers' --root
FAILS=0
CASE_TIMEOUT=30

# Processes this test started and lost: their command line holds $T.
pids_of_test () {
  # The pattern comes through a file descriptor so that grep's own command
  # line does not hold $T.
  grep -lF -f /dev/fd/3 /proc/[0-9]*/cmdline 3<<<"$T" 2>/dev/null | sed 's|^/proc/\([0-9]*\)/cmdline$|\1|'
}
host_taps () { ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \([^:@]*_hull\)[:@].*/\1/p' | sort; }
cleanup () {
  local p m
  if [ -x "$HULL_TEST" ]; then
    for id in $("$HULL_TEST" --root "$TROOT" list -q 2>/dev/null); do
      timeout 30 "$HULL_TEST" --root "$TROOT" delete -f "$id" >/dev/null 2>&1
    done
  fi
  for p in $(pids_of_test); do kill -KILL "$p" 2>/dev/null; done
  for m in $(grep -F "$T" /proc/self/mountinfo | awk '{print $5}' | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Exit status of a process killed by a signal (255 is hull's own error status).
died () { [ "$1" -gt 128 ] && [ "$1" -le 192 ]; }
pass () { echo "PASS: $*"; }
fail () { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
skip () { echo "SKIP: $*"; }

# What a case left behind, one line each; empty when clean.
leftovers () { # taps_before
  local p
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .lock -printf 'state dir %p\n' 2>/dev/null
  for p in $(pids_of_test); do
    echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
  done
  grep -F "$T" /proc/self/mountinfo | awk '{print "mount " $5}'
  comm -13 <(echo "$1") <(host_taps) | sed 's/^/tap /'
}
# The supervisor may still be exiting when the CLI returns: up to 3 s.
settle () { # taps_before
  local left
  for _ in $(seq 30); do
    left=$(leftovers "$1")
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "$left"
}
# Remove what a failed case left, so the next case starts clean.
scrub () {
  local p
  for p in $(pids_of_test); do kill -KILL "$p" 2>/dev/null; done
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + 2>/dev/null
}

# bad NAME PATTERN CMD...: CMD must fail cleanly with an error matching
# PATTERN (grep -E) and leave nothing behind.
bad () {
  local name=$1 pat=$2 taps rc why='' left
  shift 2
  taps=$(host_taps)
  timeout -k 5 "$CASE_TIMEOUT" "$@" >"$T/out" 2>&1 </dev/null
  rc=$?
  if [ $rc = 0 ]; then
    why="exit status 0"
  elif [ $rc = 124 ] || [ $rc = 137 ]; then
    why="no answer within ${CASE_TIMEOUT}s (hang)"
  elif [ $rc -gt 128 ] && [ $rc -le 192 ]; then
    why="killed by signal $((rc - 128))"
  elif grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$T/out"; then
    why="sanitizer report"
  elif grep -qE 'handshake|guest console log' "$T/out"; then
    why="a microVM was booted"
  elif ! grep -qE -- "$pat" "$T/out"; then
    why="error does not match /$pat/"
  fi
  left=$(settle "$taps")
  [ -n "$left" ] && why="${why:+$why; }left behind: $(echo "$left" | paste -sd ';' -)"
  if [ -z "$why" ]; then
    pass "$name"
  else
    fail "$name ($why) [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' ')]"
    scrub
  fi
}

H=("$HULL" --root "$ROOT")

mkdir -p "$ROOT"
# A config.json that is valid in every way, and the bundles derived from it.
cat >"$T/base.json" <<'JSON'
{ "ociVersion": "1.2.0",
  "process": { "terminal": false, "user": { "uid": 0, "gid": 0 },
               "args": [ "sh" ], "env": [ "PATH=/bin" ], "cwd": "/" },
  "root": { "path": "rootfs" },
  "hostname": "hull",
  "linux": { "namespaces": [ { "type": "pid" }, { "type": "mount" },
                             { "type": "network" } ] } }
JSON
# bundle: a fresh bundle dir with a rootfs; config.json from stdin.
bundle () {
  local d
  d=$(mktemp -d "$T/bundle.XXXXXX")
  mkdir -p "$d/rootfs"
  cat >"$d/config.json"
  echo "$d"
}
# edit EXPR: base.json with one python edit applied to `c`.
edit () { python3 -c "import json,sys; c=json.load(open('$T/base.json')); $1; json.dump(c,sys.stdout)"; }

# Settings: every case reads this file, so a case that gets further than it
# should boots for at most a second.  Guest assets from `make guest`.
HAVE_GUEST=false
[ -r "$GUEST/vmlinuz" ] && [ -r "$GUEST/initramfs.img" ] && HAVE_GUEST=true
settings () { # KERNEL INITRAMFS [EXTRA_JSON_MEMBERS]
  printf '{ "kernel": "%s", "initramfs": "%s", "bootTimeoutMs": 1000%s }\n' "$1" "$2" "${3:-}"
}
settings "$GUEST/vmlinuz" "$GUEST/initramfs.img" >"$T/settings.json"
export HULL_SETTINGS=$T/settings.json
unset HULL_ALLOW_EMULATED
# past_gate NAME PATTERN CMD...: a case only reachable once KVM is accepted.
past_gate () {
  if ! $HAVE_GUEST; then
    skip "$1 (no build/guest/vmlinuz + initramfs.img: run \`make guest\`)"
    return
  fi
  local name=$1 pat=$2
  shift 2
  bad "$name" "$pat" env HULL_ALLOW_EMULATED=1 "$@"
}

# ---- malformed and hostile config.json ---------------------------------------
B=$(printf '' | bundle); bad "config: empty file" "config\.json.*empty" "${H[@]}" create --bundle "$B" c1
B=$(printf ' \n\t\n' | bundle); bad "config: whitespace only" "config\.json.*(empty|invalid JSON)" "${H[@]}" create --bundle "$B" c1
B=$(printf '[1,2]' | bundle); bad "config: top level is an array" "config\.json.*expected object" "${H[@]}" create --bundle "$B" c1
B=$(printf '"config"' | bundle); bad "config: top level is a string" "config\.json.*expected object" "${H[@]}" create --bundle "$B" c1
B=$(head -c 150 "$T/base.json" | bundle); bad "config: truncated" "config\.json.*(premature EOF|parse error|invalid JSON)" "${H[@]}" create --bundle "$B" c1
B=$(python3 -c "print('{\"a\":' * 100000 + '1' + '}' * 100000)" | bundle)
bad "config: 100000 nested objects" "config\.json.*nesting" "${H[@]}" create --bundle "$B" c1
B=$(python3 -c "print('[' * 1000000)" | bundle)
bad "config: 1000000 unclosed arrays" "config\.json.*nesting" "${H[@]}" create --bundle "$B" c1
B=$(python3 -c "print('{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},\"x\":[' + ','.join(['0'] * 3000000) + ']}')" | bundle)
bad "config: array of 3000000 entries" "config\.json.*entries" "${H[@]}" create --bundle "$B" c1
B=$(python3 -c "print('{\"a\":[' + ','.join(['{}'] * 60000) + '],\"b\":[' + ','.join(['[]'] * 60000) + ']' + ''.join(',\"k%d\":[%s]' % (i, ','.join(['1'] * 60000)) for i in range(20)) + '}')" | bundle)
bad "config: 1.3 million values" "config\.json.*(values|entries)" "${H[@]}" create --bundle "$B" c1
B=$(python3 -c "import sys; sys.stdout.write('{\"a\":\"' + 'x' * (17 << 20) + '\"}')" | bundle)
bad "config: 17 MiB file" "config\.json.*larger than" "${H[@]}" create --bundle "$B" c1
B=$(printf '{"ociVersion":"1.2.0","root":{"path":"root\xff\xfefs"}}' | bundle)
bad "config: not UTF-8" "config\.json.*UTF-?8" "${H[@]}" create --bundle "$B" c1
B=$(printf '{"ociVersion":"1.2.0",\0"root":{"path":"rootfs"}}' | bundle)
bad "config: NUL byte" "config\.json.*NUL" "${H[@]}" create --bundle "$B" c1
B=$(printf '{"ociVersion":"1.2.0","root":{"path":"rootfs"}} /* c */' | bundle)
bad "config: trailing comment" "config\.json.*(comment|invalid JSON)" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['cwd']=5" | bundle); bad "config: process.cwd is a number" "process\.cwd.*expected string" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['args']='sh'" | bundle); bad "config: process.args is a string" "process\.args" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['args']=[]" | bundle); bad "config: process.args empty" "process\.args" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['root']='rootfs'" | bundle); bad "config: root is a string" "root.*expected object" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['root']['path']=None" | bundle); bad "config: root.path is null" "root\.path" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['linux']['namespaces']={'type':'pid'}" | bundle); bad "config: linux.namespaces is an object" "linux\.namespaces.*expected array" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['linux']['namespaces'].append({'type':'pid'})" | bundle); bad "config: namespace type twice" "linux\.namespaces\[3\]" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['user']['uid']=4294967296" | bundle); bad "config: uid above 2^32-1" "process\.user\.uid" "${H[@]}" create --bundle "$B" c1
B=$(sed 's/"uid": 0/"uid": 1e999/' "$T/base.json" | bundle); bad "config: uid 1e999" "process\.user\.uid" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':10,'hard':1}]" | bundle); bad "config: rlimit soft > hard" "process\.rlimits\[0\]" "${H[@]}" create --bundle "$B" c1
B=$(sed 's/"hostname": "hull"/"hostname": "a", "hostname": "b"/' "$T/base.json" | bundle); bad "config: duplicate key" "hostname.*duplicate|duplicate.*hostname" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['ociVersion']='2.0.0'" | bundle); bad "config: ociVersion 2.0.0" "ociVersion" "${H[@]}" create --bundle "$B" c1
B=$(edit "del c['process']" | bundle); bad "config: no process" "process" "${H[@]}" create --bundle "$B" c1
B=$(edit "c['process']['terminal']=True" | bundle); bad "config: terminal without --console-socket" "console-socket" "${H[@]}" create --bundle "$B" c1

B=$(bundle </dev/null); rm "$B/config.json"; bad "config.json missing" "config\.json" "${H[@]}" create --bundle "$B" c1
B=$(bundle </dev/null); rm "$B/config.json"; mkdir "$B/config.json"; bad "config.json is a directory" "config\.json" "${H[@]}" create --bundle "$B" c1
B=$(bundle </dev/null); rm "$B/config.json"; ln -s /dev/zero "$B/config.json"; bad "config.json is /dev/zero" "config\.json" "${H[@]}" create --bundle "$B" c1
B=$(bundle </dev/null); rm "$B/config.json"; mkfifo "$B/config.json"
CASE_TIMEOUT=10 bad "config.json is a FIFO nobody writes" "config\.json" "${H[@]}" create --bundle "$B" c1
bad "bundle dir missing" "bundle.*$T/no-such-bundle" "${H[@]}" create --bundle "$T/no-such-bundle" c1

# ---- the rootfs and namespaces the config points to --------------------------
B=$(bundle <"$T/base.json"); rmdir "$B/rootfs"
past_gate "root.path missing" "root\.path.*$B/rootfs" "${H[@]}" create --bundle "$B" c1
B=$(bundle <"$T/base.json"); rmdir "$B/rootfs"; touch "$B/rootfs"
past_gate "root.path is a file" "root\.path.*$B/rootfs" "${H[@]}" create --bundle "$B" c1
NS=/var/run/netns/hull-bad-input-no-such-netns-$$
B=$(edit "c['linux']['namespaces'][2]['path']='$NS'" | bundle)
past_gate "netns path does not exist" "$NS" "${H[@]}" create --bundle "$B" c1
touch "$T/not-a-netns"
B=$(edit "c['linux']['namespaces'][2]['path']='$T/not-a-netns'" | bundle)
past_gate "netns path is not a namespace" "$T/not-a-netns" "${H[@]}" create --bundle "$B" c1

# ---- settings: kernel / initramfs ----------------------------------------------
B=$(bundle <"$T/base.json")
settings "$T/no-such-vmlinuz" "$GUEST/initramfs.img" >"$T/s-kernel-missing.json"
bad "settings: kernel missing" "kernel.*$T/no-such-vmlinuz" env HULL_SETTINGS="$T/s-kernel-missing.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
settings "$GUEST/vmlinuz" "$T/no-such-initramfs" >"$T/s-initrd-missing.json"
if $HAVE_GUEST; then
  bad "settings: initramfs missing" "initramfs.*$T/no-such-initramfs" env HULL_SETTINGS="$T/s-initrd-missing.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
else
  skip "settings: initramfs missing (no build/guest/vmlinuz: the kernel error comes first)"
fi
mkdir "$T/kernel-dir"
settings "$T/kernel-dir" "$GUEST/initramfs.img" >"$T/s-kernel-dir.json"
past_gate "settings: kernel is a directory" "kernel.*$T/kernel-dir" env HULL_SETTINGS="$T/s-kernel-dir.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
printf 'not a kernel\n' >"$T/kernel-garbage"
settings "$T/kernel-garbage" "$GUEST/initramfs.img" >"$T/s-kernel-garbage.json"
past_gate "settings: kernel is not a kernel" "kernel.*$T/kernel-garbage" env HULL_SETTINGS="$T/s-kernel-garbage.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
settings "$GUEST/vmlinuz" "$T/kernel-dir" >"$T/s-initrd-dir.json"
past_gate "settings: initramfs is a directory" "(initrd|initramfs).*$T/kernel-dir" env HULL_SETTINGS="$T/s-initrd-dir.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
if [ "$(id -u)" = 0 ]; then
  skip "settings: kernel mode 000 (running as root, which reads any file; covered by the missing/directory cases)"
else
  cp "$T/kernel-garbage" "$T/kernel-000"; chmod 000 "$T/kernel-000"
  settings "$T/kernel-000" "$GUEST/initramfs.img" >"$T/s-kernel-000.json"
  bad "settings: kernel unreadable" "kernel.*$T/kernel-000" env HULL_SETTINGS="$T/s-kernel-000.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
fi
bad "settings: file missing" "settings.*$T/no-such-settings.json" env HULL_SETTINGS="$T/no-such-settings.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
settings "$GUEST/vmlinuz" "$GUEST/initramfs.img" ', "kernelPath": "/x"' >"$T/s-unknown.json"
bad "settings: unknown key" "kernelPath" env HULL_SETTINGS="$T/s-unknown.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
printf '{ "kernel": ' >"$T/s-trunc.json"
bad "settings: truncated" "settings.*$T/s-trunc.json" env HULL_SETTINGS="$T/s-trunc.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
printf '{ "kernel": "vmlinuz" }' >"$T/s-relative.json"
bad "settings: relative kernel path" "kernel" env HULL_SETTINGS="$T/s-relative.json" "$HULL" --root "$ROOT" create --bundle "$B" c1
settings "$GUEST/vmlinuz" "$GUEST/initramfs.img" ', "defaultVcpus": 0' >"$T/s-range.json"
bad "settings: defaultVcpus 0" "defaultVcpus" env HULL_SETTINGS="$T/s-range.json" "$HULL" --root "$ROOT" create --bundle "$B" c1

# ---- container ids ------------------------------------------------------------------
B=$(bundle <"$T/base.json")
bad "id: contains /" "container id.*a/b" "${H[@]}" create --bundle "$B" a/b
bad "id: .." "container id.*\.\." "${H[@]}" create --bundle "$B" ..
bad "id: ." "container id" "${H[@]}" create --bundle "$B" .
bad "id: empty" "container id.*empty" "${H[@]}" create --bundle "$B" ""
bad "id: 256 characters" "container id.*(256|255)" "${H[@]}" create --bundle "$B" "$(printf 'a%.0s' $(seq 256))"
bad "id: newline" "container id" "${H[@]}" create --bundle "$B" "$(printf 'a\nb')"
bad "id: ../x for state" "container id" "${H[@]}" state ../x
bad "id: .. for delete" "container id" "${H[@]}" delete ..
bad "id: a/b for kill" "container id|does not exist" "${H[@]}" kill a/b KILL
bad "id: ../x for exec" "container id" "${H[@]}" exec ../x true

# ---- kill and exec on a container that does not exist -------------------------------
bad "kill: valid signal, no container" "container .nosuch. does not exist" "${H[@]}" kill nosuch KILL
bad "kill: unknown signal name, no container (runc: the container first)" "does not exist" "${H[@]}" kill nosuch SIGFOO
bad "kill: signal number 999, no container" "does not exist|signal number .999." "${H[@]}" kill nosuch 999
bad "kill: empty signal, no container" "does not exist|signal" "${H[@]}" kill nosuch ""
printf '{ "cwd": "/", "args": [] }' >"$T/noargs.json"
printf '{ "cwd": "/" ' >"$T/trunc-process.json"
bad "exec: process.json without args, no container" "does not exist|args" "${H[@]}" exec --process "$T/noargs.json" nosuch
bad "exec: truncated process.json, no container" "does not exist|trunc-process\.json" "${H[@]}" exec --process "$T/trunc-process.json" nosuch

# ---- cases that need an existing container: the test backend ----------------------
# build/hull-test runs the container as host processes (no VM), so duplicate
# create, kill and exec are exercised against a live supervisor here.
if [ "$(id -u)" != 0 ]; then
  skip "existing container cases (need root: the test backend chroots)"
elif ! command -v busybox >/dev/null; then
  skip "existing container cases (need busybox-static)"
elif ! make -s build/hull-test >/dev/null; then
  fail "build build/hull-test"
else
  ht () { timeout -k 5 30 "$HULL_TEST" --root "$TROOT" "$@"; }
  live_supervisors () {
    local p n=0
    for p in $(pids_of_test); do grep -qF supervise "/proc/$p/cmdline" 2>/dev/null && n=$((n + 1)); done
    echo $n
  }
  status_of () { ht state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
  mkdir -p "$T/tb/rootfs/bin"
  cp "$(command -v busybox)" "$T/tb/rootfs/bin/busybox"
  for a in sh sleep true; do ln -s busybox "$T/tb/rootfs/bin/$a"; done
  edit "c['process']['args']=['sleep','300']; c['linux']['namespaces']=[]" >"$T/tb/config.json"
  # The pid file is written after the container exists: its failure must
  # take the container (state dir, supervisor) down again.
  ht create --bundle "$T/tb" --pid-file "$T/no-such-dir/pid" pf >"$T/out" 2>&1; rc=$?
  sleep 0.5
  if [ $rc != 0 ] && ! died $rc && grep -qF "$T/no-such-dir/" "$T/out" \
     && [ ! -e "$TROOT/pf" ] && [ "$(live_supervisors)" = 0 ]; then
    pass "create: --pid-file in a missing directory leaves nothing (test backend)"
  else
    fail "create: --pid-file in a missing directory (exit $rc, state dir: $(find "$TROOT" -mindepth 1 -maxdepth 1 ! -name .lock | paste -sd ' ' -), supervisors: $(live_supervisors)) [$(head -c 300 "$T/out" | tr '\n' ' ')]"
  fi
  if ! ht create --bundle "$T/tb" dup >"$T/out" 2>&1; then
    fail "test backend: create dup [$(head -c 300 "$T/out" | tr '\n' ' ')]"
  else
    before=$(live_supervisors)
    ht create --bundle "$T/tb" dup >"$T/out" 2>&1; rc=$?
    why=
    [ $rc = 0 ] && why="exit status 0"
    [ -z "$why" ] && died $rc && why="killed by signal $((rc - 128))"
    [ -z "$why" ] && ! grep -q "container .dup. already exists" "$T/out" && why="error does not say already exists"
    [ -z "$why" ] && [ "$(status_of dup)" != created ] && why="first container is now $(status_of dup)"
    sleep 0.5
    [ -z "$why" ] && [ "$(live_supervisors)" != "$before" ] && why="supervisors: $before before, $(live_supervisors) after"
    if [ -z "$why" ]; then pass "duplicate create (test backend)"; else fail "duplicate create (test backend) ($why) [$(head -c 300 "$T/out" | tr '\n' ' ')]"; fi

    ht kill dup SIGFOO >"$T/out" 2>&1; rc=$?
    if [ $rc != 0 ] && ! died $rc && grep -q "SIGFOO" "$T/out" && [ "$(status_of dup)" = created ]; then
      pass "kill: unknown signal, existing container"
    else
      fail "kill: unknown signal, existing container [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' '); status $(status_of dup)]"
    fi
    ht kill dup 65 >"$T/out" 2>&1; rc=$?
    if [ $rc != 0 ] && ! died $rc && grep -q "65" "$T/out" && [ "$(status_of dup)" = created ]; then
      pass "kill: signal 65, existing container"
    else
      fail "kill: signal 65, existing container [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' ')]"
    fi

    ht start dup >"$T/out" 2>&1
    if [ "$(status_of dup)" != running ]; then
      fail "test backend: start dup [$(head -c 300 "$T/out" | tr '\n' ' ')]"
    else
      ht exec --process "$T/noargs.json" dup >"$T/out" 2>&1 </dev/null; rc=$?
      if [ $rc != 0 ] && ! died $rc && grep -qE "args" "$T/out" && [ "$(status_of dup)" = running ]; then
        pass "exec: process.json without args"
      else
        fail "exec: process.json without args [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' ')]"
      fi
      ht exec --process "$T/trunc-process.json" dup >"$T/out" 2>&1 </dev/null; rc=$?
      if [ $rc != 0 ] && ! died $rc && grep -qE "trunc-process\.json" "$T/out" && [ "$(status_of dup)" = running ]; then
        pass "exec: truncated process.json"
      else
        fail "exec: truncated process.json [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' ')]"
      fi
      ht exec --process "$T/no-such-process.json" dup >"$T/out" 2>&1 </dev/null; rc=$?
      if [ $rc != 0 ] && ! died $rc && grep -qE "no-such-process\.json" "$T/out"; then
        pass "exec: process.json missing"
      else
        fail "exec: process.json missing [exit $rc: $(head -c 300 "$T/out" | tr '\n' ' ')]"
      fi
    fi
    ht delete -f dup >/dev/null 2>&1
    if [ -z "$(find "$TROOT" -mindepth 1 -maxdepth 1 ! -name .lock 2>/dev/null)" ]; then
      pass "test backend: delete -f leaves no state dir"
    else
      fail "test backend: delete -f leaves $(find "$TROOT" -mindepth 1 -maxdepth 1 ! -name .lock | paste -sd ' ' -)"
    fi
  fi
fi

[ $FAILS = 0 ]
