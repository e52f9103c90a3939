#!/bin/bash
# lane: host
# containerd's real runc shim and go-runc driving hull's CLI and supervisor,
# with build/hull-test (containers as host processes) as the runtime, so the
# client protocol is checked on every host.  The same script against the
# production build/hull (containers in microVMs) runs in the vm lane through
# `make integration-clients`.
cd "$(dirname "$0")/.." || exit 2
make -s build/hull-test >/dev/null || { echo "FAIL: containerd-host (cannot build build/hull-test)"; exit 1; }
HULL_RUNTIME_BIN=$PWD/build/hull-test exec integration/client-containerd.sh
