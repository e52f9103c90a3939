#!/bin/bash
# lane: host
# OCI runtime-spec lifecycle conformance (integration/conformance/run.sh)
# against runc, the control, and build/hull-test (hull's CLI and supervisor
# with the test-only host backend).  The real hull runs the same script in
# the vm lane: integration/test-conformance-vm.sh.  Known
# differences (integration/conformance/known-differences) print as SKIP.
set -u
cd "$(dirname "$0")/.."
make -s build/hull-test >/dev/null || { echo "FAIL: conformance: build build/hull-test"; exit 1; }
status=0
for rt in /usr/sbin/runc build/hull-test; do
  if [ ! -x "$rt" ]; then echo "FAIL: conformance: $rt missing"; status=1; continue; fi
  name=$(basename "$rt")
  # Prefix each check with the runtime so the names stay unique.
  integration/conformance/run.sh "$rt" 2>&1 | sed -u -E "s/^(PASS|FAIL|SKIP): conformance: /\1: conformance[$name]: /"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
done
exit $status
