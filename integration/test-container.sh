#!/bin/bash
# lane: vm
# OCI bundles run end to end in hull's microVM: build/hull (the production
# backend, runtime/sandbox_vm*.c) boots the guest of `make guest`
# (hull-agent as PID 1), shares a busybox-static rootfs made here through
# virtiofsd and runs the container's process inside.  Three VM boots (each
# is ~20-35 s under the nested lane's TCG), several checks per boot:
#   A  `hull run` in the foreground: stdout/stderr, stdin piped through
#      cat, env/cwd/hostname, pid 1 in its namespace, the VM's own small
#      RAM, a file written into the host rootfs, exit status 42
#   B  `hull run` in the background: exec exit statuses 0/1/7, exec stdin,
#      exec --env/--cwd, ps, exec -t on a tty, pause/resume, 100 MiB of
#      random bytes through exec's stdout intact, then `hull kill --all B
#      KILL` -> run and a running exec exit 137
#   C  process.terminal with --console-socket: on a tty of the requested
#      size, resized from the host side while it runs, exit status 0
#   D  the process spec's features at once: user uid/gid/additionalGids,
#      reduced capabilities, RLIMIT_NOFILE, a seccomp rule denying mkdir,
#      a read-only root with a tmpfs and a file bind on mount points it
#      lacks (hull makes them, as runc does), maskedPaths, hostname,
#      bind-mounted host directories (a read-write one the host sees the
#      container's file in, a read-only one that refuses writes, a host
#      file bind, copied in), exit status 1
# After each: nothing left in the state dir, no supervisor or virtiofsd.
# Prints PASS:/FAIL: lines, exits non-zero when anything failed.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
. integration/lib/check.sh
. integration/lib/vmtest.sh
CHECK_PREFIX="container: "
vmtest_init container

status_pid () { hull state "$1" 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
status_of () { hull state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
wait_status () { # ID STATUS PID: up to RUN_TIMEOUT s, while PID lives
  local end=$(( $(date +%s) + RUN_TIMEOUT ))
  while [ "$(date +%s)" -lt "$end" ] && kill -0 "$3" 2>/dev/null; do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  return 1
}

# ---- the rootfs: busybox-static, applets as symlinks ----------------------
R=$T/rootfs
vmtest_rootfs "$R" || { echo "FAIL: container (busybox rootfs)"; exit 1; }
mkdir -p "$R/out" "$R/etc" "$R/scratch" "$R/rw"
# D's user may write here, so only root.readonly can refuse it.
chmod 0777 "$R/rw"
echo SECRET > "$R/etc/secret"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"

# mkbundle NAME TERMINAL CWD ARGS... : `hull spec`'s config adjusted.
mkbundle () {
  local d=$T/$1 terminal=$2 cwd=$3
  shift 3
  mkdir -p "$d"
  "$HULL_BIN" spec --bundle "$d" || return 1
  python3 - "$d/config.json" "$R" "$terminal" "$cwd" "$@" <<'PY' || return 1
import json, sys
path, rootfs, terminal, cwd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": False}
p = c["process"]
p["args"] = args
p["terminal"] = terminal == "true"
if p["terminal"]:
    p["consoleSize"] = {"height": 30, "width": 100}
p["cwd"] = cwd
p["env"] = ["PATH=/bin", "TERM=xterm", "HULL_TEST=container-env"]
p["noNewPrivileges"] = True
c["hostname"] = "hull-test"
json.dump(c, open(path, "w"), indent=1)
PY
  echo "$d"
}

# ---- A: foreground run ------------------------------------------------------
SCRIPT_A='echo "out: hello"; echo "err: oops" >&2
echo "stdin: $(cat | tr "\n" " ")"
echo "env: $HULL_TEST"; echo "home: $HOME"; echo "cwd: $(pwd)"; echo "host: $(hostname)"; echo "pid: $$"
echo "mem: $(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo)"
echo "kernel: $(uname -r)"
echo "written-$$-ok" > /out/from-container
exit 42'
B=$(mkbundle a false /tmp sh -c "$SCRIPT_A") || { echo "FAIL: container (bundle a)"; exit 1; }
start=$(date +%s)
printf 'one\ntwo\n' | hull run --bundle "$B" a > "$T/a.out" 2> "$T/a.err"; rc=$?
echo "  run a: exit $rc after $(( $(date +%s) - start )) s"
check "run: exit status 42" [ "$rc" = 42 ]
check "run: stdout" grep -qx "out: hello" "$T/a.out"
check "run: stderr apart from stdout" bash -c "grep -qx 'err: oops' '$T/a.err' && ! grep -q oops '$T/a.out'"
check "run: stdin piped through cat" grep -qx "stdin: one two " "$T/a.out"
check "run: process.env" grep -qx "env: container-env" "$T/a.out"
check "run: HOME from the rootfs's /etc/passwd (process.env has none)" grep -qx "home: /root" "$T/a.out"
check "run: process.cwd" grep -qx "cwd: /tmp" "$T/a.out"
check "run: hostname" grep -qx "host: hull-test" "$T/a.out"
check "run: pid 1 in its own pid namespace" grep -qx "pid: 1" "$T/a.out"
mem=$(sed -n 's/^mem: //p' "$T/a.out")
check "run: the guest's own RAM (MemTotal ${mem:-?} kB, below 1 GiB)" \
  bash -c "[ -n '$mem' ] && [ '$mem' -lt 1048576 ]"
check "run: file written by the container is in the host rootfs" \
  grep -qx "written-1-ok" "$R/out/from-container"
check "run: state dir empty after run" state_clean
check "run: no supervisor or virtiofsd left" procs_gone
if [ "$rc" != 42 ]; then
  echo "  ---- a.out/a.err ----"; cat "$T/a.out" "$T/a.err" | tail -20 | sed 's/^/  /'
fi

# ---- B: background run, exec, kill ------------------------------------------
B=$(mkbundle b false / sleep 1000) || { echo "FAIL: container (bundle b)"; exit 1; }
hull run --bundle "$B" b > "$T/b.out" 2>&1 & RUN_B=$!
if wait_status b running "$RUN_B"; then
  pass "background run: running"
  hull exec b true; check "exec: exit status 0" [ $? = 0 ]
  hull exec b sh -c 'exit 1'; check "exec: exit status 1" [ $? = 1 ]
  hull exec b sh -c 'exit 7'; check "exec: exit status 7" [ $? = 7 ]
  out=$(printf 'piped-in\n' | hull exec b cat)
  check "exec: stdin piped through cat" [ "$out" = piped-in ]
  out=$(hull exec --env FOO=bar --cwd /tmp b sh -c 'echo $FOO $(pwd) $HULL_TEST')
  check "exec: --env and --cwd over process" [ "$out" = "bar /tmp container-env" ]
  out=$(hull exec b sh -c 'echo to-stderr >&2' 2>&1 >/dev/null)
  check "exec: stderr" [ "$out" = to-stderr ]
  # ps names host processes (the supervisor stands for init), not guest pids.
  sup_b=$(status_pid b)
  check "ps lists the supervisor standing for init" \
    bash -c "'$HULL_BIN' --root '$STATE' ps --format json b | grep -qE '[[,]$sup_b[],]'"
  # A terminal exec on our own tty (script(1) gives us one).
  out=$(timeout -k 5 "$RUN_TIMEOUT" script -qec "exec '$HULL_BIN' --root '$STATE' exec -t b sh -c 'test -t 0 && echo EXEC-ON-TTY; exit 3'" /dev/null); rc=$?
  check "exec -t: exit status 3" [ "$rc" = 3 ]
  check "exec -t: on a tty" grep -q EXEC-ON-TTY <<<"$out"
  hull pause b; check "pause: paused" [ "$(status_of b)" = paused ]
  hull exec b true 2>/dev/null; check "pause: exec refused while paused" [ $? != 0 ]
  hull resume b; check "resume: running" [ "$(status_of b)" = running ]
  check "resume: exec works again" [ "$(hull exec b echo again)" = again ]
  # 100 MiB of random bytes written inside, read back through exec's stdout.
  start=$(date +%s)
  inner=$(hull exec b sh -c 'dd if=/dev/urandom of=/tmp/big bs=1M count=100 2>/dev/null && md5sum /tmp/big' | cut -d' ' -f1)
  mid=$(date +%s)
  hull exec b cat /tmp/big > "$T/big.recv"; rc=$?
  echo "  100 MiB: written in $((mid - start)) s, through exec's stdout in $(( $(date +%s) - mid )) s"
  check "large output: exec exit status 0" [ "$rc" = 0 ]
  check "large output: 104857600 bytes arrived" [ "$(stat -c %s "$T/big.recv")" = 104857600 ]
  check "large output: checksum matches the container's" \
    [ "$(md5sum < "$T/big.recv" | cut -d' ' -f1)" = "${inner:-none}" ]
  rm -f "$T/big.recv" "$R/tmp/big"
  hull exec b sleep 1000 & EXEC_B=$!
  sleep 2
  hull kill --all b KILL; check "kill --all KILL accepted" [ $? = 0 ]
  wait "$EXEC_B"; rc=$?
  check "kill --all: the running exec exits 137 (got $rc)" [ "$rc" = 137 ]
else
  fail "background run: never running ($(cat "$T/b.out" | tail -5))"
  hull kill b KILL 2>/dev/null
fi
wait "$RUN_B"; rc=$?
check "kill --all KILL: run exits 137" [ "$rc" = 137 ]
check "kill: state dir empty" state_clean
check "kill: no supervisor or virtiofsd left" procs_gone

# ---- C: terminal through --console-socket -----------------------------------
cc -Wall -Wextra -Werror -o "$T/recvtty" integration/recvtty.c || { echo "FAIL: container (build recvtty)"; exit 1; }
# recvtty resizes the terminal to 40x120 once the first line arrived.
SCRIPT_C='echo "size: $(stty size)"; test -t 0 && test -t 1 && echo IS-A-TTY
for _ in $(seq 240); do [ "$(stty size)" = "30 100" ] || break; sleep 0.5; done
echo "resized: $(stty size)"; exit 0'
B=$(mkbundle c true / sh -c "$SCRIPT_C") || { echo "FAIL: container (bundle c)"; exit 1; }
"$T/recvtty" "$T/console.sock" "$T/console.out" "" 40 120 & RECV=$!
for _ in $(seq 50); do [ -S "$T/console.sock" ] && break; sleep 0.1; done
hull run --bundle "$B" --console-socket "$T/console.sock" c > "$T/c.out" 2>&1; rc=$?
wait "$RECV"
tr -d '\r' < "$T/console.out" > "$T/console.txt"
check "terminal: exit status 0" [ "$rc" = 0 ]
check "terminal: the process is on a tty" grep -q IS-A-TTY "$T/console.txt"
check "terminal: consoleSize 30x100 applied" grep -q "^size: 30 100" "$T/console.txt"
check "terminal: resize to 40x120 seen inside" grep -q "^resized: 40 120" "$T/console.txt"
check "terminal: state dir empty" state_clean
check "terminal: no supervisor or virtiofsd left" procs_gone
[ "$rc" = 0 ] || { echo "  ---- c.out ----"; tail -5 "$T/c.out" | sed 's/^/  /'; }
grep -q "^resized: 40 120" "$T/console.txt" || { echo "  ---- console ----"; tail -5 "$T/console.txt" | sed 's/^/  /'; }

# ---- D: user, capabilities, rlimits, seccomp, read-only root, masks ---------
SCRIPT_D='echo "uid: $(id -u) gid: $(id -g) groups: $(id -G)"
sed -n "s/^\(Cap[A-Za-z]*\):[[:space:]]*/\1: /p" /proc/self/status
echo "nofile: $(ulimit -Sn) $(ulimit -Hn)"
echo "scratch: $(echo ok > /new/scratch/f && cat /new/scratch/f)"
echo "seccomp: $(mkdir /new/scratch/d 2>&1)"
echo "readonly: $(touch /rw/f 2>&1)"
echo "masked: [$(cat /etc/secret 2>&1)]"
echo "host: $(hostname)"
echo "volrw: $(echo from-guest > /vrw/g && echo ok)"
echo "volro: $(cat /vro/r) $(touch /vro/x 2>&1)"
echo "filebind: $(cat /etc/fbind)"
exit 1'
B=$(mkbundle d false / sh -c "$SCRIPT_D") || { echo "FAIL: container (bundle d)"; exit 1; }
# Volumes: host directories (0777: only the read-only share may refuse
# uid 1000) and their mount points in the (read-only) rootfs.
mkdir -p "$T/vrw" "$T/vro" "$R/vrw" "$R/vro" && chmod 0777 "$T/vrw" "$T/vro" \
  && echo host-data > "$T/vro/r" && echo hostfile > "$T/hostfile" \
  || { echo "FAIL: container (volume dirs)"; exit 1; }
python3 - "$B/config.json" "$T" <<'PY' || { echo "FAIL: container (bundle d config)"; exit 1; }
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [2000, 3000]}
caps = ["CAP_CHOWN", "CAP_KILL"]
# A non-root user keeps capabilities across execve only as ambient ones
# (which must also be permitted and inheritable).
p["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted",
                                       "inheritable", "ambient")}
p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]
c["root"]["readonly"] = True
# Mount points the read-only rootfs lacks (/new/scratch, /etc/fbind):
# hull makes them on the host first, as runc does (Docker's --read-only
# --tmpfs /x).
c["mounts"].append({"destination": "/new/scratch", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777"]})
t = sys.argv[2]
c["mounts"] += [
    {"destination": "/vrw", "type": "bind", "source": t + "/vrw", "options": ["rbind", "rw"]},
    {"destination": "/vro", "type": "bind", "source": t + "/vro", "options": ["rbind", "ro"]},
    {"destination": "/etc/fbind", "type": "bind", "source": t + "/hostfile",
     "options": ["rbind", "ro"]}]
l = c["linux"]
l["maskedPaths"] = l.get("maskedPaths", []) + ["/etc/secret"]
l["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                              "errnoRet": 1}]}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
fails_before=$CHECK_FAILS
hull run --bundle "$B" d > "$T/d.out" 2> "$T/d.err" < /dev/null; rc=$?
check "features: run exit status 1" [ "$rc" = 1 ]
check "features: user uid/gid/additionalGids" grep -qx "uid: 1000 gid: 1000 groups: 1000 2000 3000" "$T/d.out"
# CAP_CHOWN (0) and CAP_KILL (5): 0x21.
check "features: capabilities bounding" grep -qx "CapBnd: 0000000000000021" "$T/d.out"
check "features: capabilities effective" grep -qx "CapEff: 0000000000000021" "$T/d.out"
check "features: capabilities ambient" grep -qx "CapAmb: 0000000000000021" "$T/d.out"
check "features: RLIMIT_NOFILE soft/hard" grep -qx "nofile: 256 512" "$T/d.out"
check "features: tmpfs mount writable" grep -qx "scratch: ok" "$T/d.out"
check "features: seccomp denies mkdir with EPERM" grep -q "^seccomp: .*Operation not permitted" "$T/d.out"
check "features: root.readonly" grep -q "^readonly: .*Read-only file system" "$T/d.out"
check "features: maskedPaths file reads empty" grep -qx "masked: \[\]" "$T/d.out"
check "features: hostname" grep -qx "host: hull-test" "$T/d.out"
check "volumes: read-write volume written inside" grep -qx "volrw: ok" "$T/d.out"
check "volumes: the host sees the container's file" grep -qx from-guest "$T/vrw/g"
check "volumes: read-only volume readable" grep -q "^volro: host-data " "$T/d.out"
check "volumes: read-only volume refuses writes" \
  bash -c "grep -q '^volro: host-data .*Read-only file system' '$T/d.out' && [ ! -e '$T/vro/x' ]"
check "volumes: host file bind copied in" grep -qx "filebind: hostfile" "$T/d.out"
check "features: state dir empty" state_clean
check "features: no supervisor or virtiofsd left" procs_gone
[ "$CHECK_FAILS" = "$fails_before" ] || \
  { echo "  ---- d.out/d.err ----"; cat "$T/d.out" "$T/d.err" | tail -20 | sed 's/^/  /'; }

[ "$CHECK_FAILS" = 0 ]
