# integration/lib/check.sh — result lines for integration tests (sourced).
# PASS:/FAIL:/SKIP: lines as integration/run expects; check_summary exits
# non-zero when anything failed.
CHECK_FAILS=0
CHECK_PREFIX=${CHECK_PREFIX:-}
pass () { echo "PASS: $CHECK_PREFIX$*"; }
fail () { echo "FAIL: $CHECK_PREFIX$*"; CHECK_FAILS=$((CHECK_FAILS + 1)); }
skip () { echo "SKIP: $CHECK_PREFIX$1 ($2)"; }
# check NAME CMD...: PASS when CMD succeeds.
check () { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# check_eq NAME EXPECTED ACTUAL: a FAIL shows both.
check_eq () {
  if [ "$2" = "$3" ]; then pass "$1"
  else fail "$1"; printf '  expected: %q\n  actual:   %q\n' "$2" "$3"; fi
}
# check_grep NAME PATTERN TEXT: extended regex; a FAIL shows the text.
check_grep () {
  if grep -qE -- "$2" <<<"$3"; then pass "$1"
  else fail "$1"; printf '  no match for /%s/ in:\n%s\n' "$2" "$(head -c 2000 <<<"$3" | sed 's/^/    /')"; fi
}
check_summary () {   # NAME
  if [ "$CHECK_FAILS" = 0 ]; then echo "$1: all passed"; else echo "$1: $CHECK_FAILS failed"; fi
  [ "$CHECK_FAILS" = 0 ]
}

# resolve_runtime: HULL_RUNTIME_BIN (default build/hull) as an absolute
# path in RUNTIME_BIN; fails with a message when it is not executable.
resolve_runtime () {
  local b=${HULL_RUNTIME_BIN:-build/hull}
  case $b in /*) ;; */*) b=$PWD/$b ;; *) b=$(command -v "$b") || b= ;; esac
  [ -n "$b" ] && [ -x "$b" ] || { echo "FAIL: runtime binary ${HULL_RUNTIME_BIN:-build/hull} not executable"; return 1; }
  RUNTIME_BIN=$b
}
