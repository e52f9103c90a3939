# integration/lib/vmtest.sh — common ground of the vm-lane tests that drive
# build/hull (the production backend) directly; sourced after
# integration/lib/check.sh, from the source tree's root.
#
#   vmtest_init NAME   prerequisites (root, build/hull, the guest, busybox,
#                      python3) or a FAIL line and exit 1; then the work dir
#                      $T, the state root $STATE, a settings file with a long
#                      boot timeout, and an EXIT trap that deletes every
#                      container left and removes $T
#   hull ARGS...       build/hull --root $STATE, under a timeout, logging
#                      to $T/hull.log (shown at exit when a check failed)
#   vmtest_rootfs DIR  busybox-static rootfs, applets as relative symlinks
#   state_clean        nothing but the root lock in $STATE
#   procs_gone         no process naming $T (supervisor, virtiofsd) remains
# Env: HULL (default build/hull), GUEST (default build/guest), RUN_TIMEOUT
# (s per hull call, default 240: the nested lane's L2 boots slowly).
HULL_BIN=${HULL:-$PWD/build/hull}
GUEST=${GUEST:-$PWD/build/guest}
RUN_TIMEOUT=${RUN_TIMEOUT:-240}
T=
STATE=

vmtest_init () {
  local name=$1 missing="" f
  [ "$(id -u)" = 0 ] || missing="$missing root"
  [ -x "$HULL_BIN" ] || missing="$missing $HULL_BIN"
  for f in vmlinuz initramfs.img; do [ -e "$GUEST/$f" ] || missing="$missing $GUEST/$f"; done
  [ -x /bin/busybox ] || missing="$missing /bin/busybox"
  command -v python3 >/dev/null || missing="$missing python3"
  if [ -n "$missing" ]; then
    echo "FAIL: $name (missing:$missing; run make && make guest as root)"
    exit 1
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/hull-test-$name.XXXXXX") || exit 1
  STATE=$T/state
  # More time for the agent's handshake and requests than the 30 s default.
  printf '{ "bootTimeoutMs": %d }\n' "$((RUN_TIMEOUT * 1000 / 2))" > "$T/settings.json"
  export HULL_SETTINGS=$T/settings.json
  trap vmtest_cleanup EXIT
}

# Every call logs (debug) to $T/hull.log: its tail is shown when a check
# failed, so a failure in CI comes with the supervisor's side of it.
hull () { timeout -k 5 "$RUN_TIMEOUT" "$HULL_BIN" --root "$STATE" --log "$T/hull.log" --debug "$@"; }

vmtest_cleanup () {
  local id
  if [ "${CHECK_FAILS:-0}" != 0 ] && [ -s "$T/hull.log" ]; then
    echo "  ---- hull log (tail) ----"
    tail -n 40 "$T/hull.log" | cut -c1-400 | sed 's/^/  /'
    # Wherever it was in the log: integration/run looks for it (the nested
    # lane's known fault).
    grep -m3 'triple fault on vCPU' "$T/hull.log" | cut -c1-400 | sed 's/^/  guest died: /'
  fi
  for id in $("$HULL_BIN" --root "$STATE" list -q 2>/dev/null); do
    "$HULL_BIN" --root "$STATE" delete -f "$id" 2>/dev/null
  done
  rm -rf "$T"
}

vmtest_rootfs () {
  local r=$1 a
  mkdir -p "$r/bin" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" || return 1
  cp /bin/busybox "$r/bin/busybox" || return 1
  # Relative links: `busybox --install -s` would point them at this host path.
  for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  [ -L "$r/bin/sh" ]
}

state_clean () { [ -z "$(ls -A "$STATE" 2>/dev/null | grep -v '^\.lock$')" ]; }

procs_gone () {
  local p
  for _ in $(seq 50); do
    p=$(pgrep -f -- "$T/" | grep -vx "$$" | tr '\n' ' ')
    [ -z "$p" ] && return 0
    sleep 0.1
  done
  echo "  left running: $(for i in $p; do tr '\0' ' ' < "/proc/$i/cmdline"; echo; done)" >&2
  return 1
}
