#!/bin/bash
# lane: vm
# OCI runtime-spec lifecycle conformance (integration/conformance/run.sh)
# against the real build/hull: every container a microVM.  The host lane's
# test-conformance.sh runs the same script against runc (the control) and
# build/hull-test; known differences (integration/conformance/known-
# differences) print as SKIP.  L2 guests get a long handshake timeout and
# each runtime call 240 s (the nested lane boots slowly).
set -u
cd "$(dirname "$0")/.."
[ -x build/hull ] || { echo "FAIL: conformance[hull]: build/hull missing (make)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/hull-conformance-vm.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
printf '{ "bootTimeoutMs": 120000 }\n' > "$T/settings.json"
export HULL_SETTINGS=$T/settings.json
# Prefix each check with the runtime so the names stay unique; sed -u: a
# line as soon as it is made (integration/run takes a silent nested L1 for
# a hung one).
CONFORMANCE_TIMEOUT=${CONFORMANCE_TIMEOUT:-240} integration/conformance/run.sh "$PWD/build/hull" 2>&1 \
  | sed -u -E 's/^(PASS|FAIL|SKIP): conformance: /\1: conformance[hull]: /'
exit "${PIPESTATUS[0]}"
