# integration/lib/hosttest.sh — common ground of the host-lane tests that
# drive build/hull-test (its backend runs the container's processes as plain
# host children, chrooted into a busybox-static rootfs); sourced after
# integration/lib/check.sh, from the source tree's root.
#
#   hosttest_prereqs   root, busybox and build/hull-test (built here), or a
#                      FAIL line and exit 1; sets HULL_BIN
#   hull ARGS...       $HULL_BIN --root $ROOT under a 30 s timeout
#   status_of ID       the status field of `hull state ID` ("" if none)
#   wait_status ID S   until ID's status is S, up to 10 s
#   state_dir_empty    nothing but the root lock in $ROOT
#   hosttest_cleanup   deletes every container left in $ROOT, removes $T
# The caller sets T (work dir) and ROOT (state root) and installs
# `trap hosttest_cleanup EXIT` once both are set.
hosttest_prereqs () {
  [ "$(id -u)" = 0 ] || { echo "FAIL: needs root (the test backend chroots)"; exit 1; }
  command -v busybox >/dev/null || { echo "FAIL: needs busybox-static"; exit 1; }
  make -s build/hull-test >/dev/null || { echo "FAIL: build build/hull-test"; exit 1; }
  HULL_BIN=$PWD/build/hull-test
}

hull () { timeout 30 "$HULL_BIN" --root "$ROOT" "$@"; }
status_of () { hull state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
wait_status () {
  for _ in $(seq 100); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
state_dir_empty () { [ -z "$(ls -A "$ROOT" 2>/dev/null | grep -v '^\.lock$')" ]; }

# Whatever a failing test left running goes through hull itself.
hosttest_cleanup () {
  local id
  for id in $("$HULL_BIN" --root "$ROOT" list -q 2>/dev/null); do
    "$HULL_BIN" --root "$ROOT" delete -f "$id"
  done
  rm -rf "$T"
}
