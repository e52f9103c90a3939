# integration/lib/daemons.sh — private dockerd / containerd for integration
# tests, sourced by integration/client-docker.sh and test-containerd.sh.
#
# Everything lives under one work dir ($DMN_DIR, short: unix socket paths
# are limited to 107 bytes) and is torn down by daemons_teardown, which the
# caller installs as its EXIT trap (daemons_init does that): containers
# removed, daemons and their shims stopped, container processes left in our
# cgroup parent killed, mounts under the work dir unmounted, dirs removed.
# Nothing of the host's own dockerd/containerd is touched: every path,
# socket and cgroup is private, and only processes whose command line names
# the work dir (or that sit in our cgroup parent) are signalled.
#
# Functions:
#   client_prelude NAME TOOL...   the client tests' start: needs TOOLs,
#                                 RUNTIME_BIN resolved, daemons_init, T,
#                                 HULL_SETTINGS (120 s boot timeout) if unset
#   daemons_init                  work dir + EXIT trap
#   rootfs_busybox DIR            busybox-static rootfs (bin, etc/passwd, tmp)
#   dockerd_start RUNTIME_BIN     private dockerd, runtime "hull" = RUNTIME_BIN;
#                                 sets DOCKER (a command: docker -H ...)
#   docker_import_busybox TAG     docker import of a busybox rootfs tarball
#   containerd_start RUNTIME_BIN  private containerd; sets CTR (ctr --address ...)
#   daemons_teardown              the EXIT trap; exits 1 if mounts stay behind
# Timing: each *_start prints "<name> started in N.NN s" on stderr and sets
# DMN_LAST_START_SECS.
# Env: DAEMON_START_TIMEOUT (s, default 120: the nested lane is slow),
#      HULL_DOCKER_STORAGE (overlay2|vfs; default: overlay2 where the data
#      root's filesystem can hold it, else vfs).

DMN_DIR=
DMN_EXEC_DIR=
DMN_CGROUP_PARENT=
DMN_DOCKERD_PID=
DMN_DOCKER_CTD_PID=
DMN_CONTAINERD_PID=
DMN_LAST_START_SECS=
DOCKER=
CTR=

dmn_log () { echo "daemons: $*" >&2; }

daemons_init () {
  [ "$(id -u)" = 0 ] || { dmn_log "needs root"; return 1; }
  DMN_DIR=$(mktemp -d /tmp/hull-it.XXXXXX) || return 1
  chmod 755 "$DMN_DIR"
  # dockerd's exec root holds the runtime's --root: .../runtime-runc/moby/
  # <64 hex id>/, and a runtime binds unix sockets there (hull: sock,
  # virtiofs-0.sock) with 107 bytes for the whole path.  /run/hit.XXXXXX
  # is exactly as long as Docker's default exec root /var/run/docker, so
  # socket paths here are as long as in production, no longer.
  DMN_EXEC_DIR=$(mktemp -d /run/hit.XXXXXX) || return 1
  DMN_CGROUP_PARENT=hull-it-${DMN_DIR##*.}
  trap daemons_teardown EXIT
  trap 'exit 130' INT TERM
}

# client_prelude NAME TOOL...: every TOOL on PATH, build/hull built when
# HULL_RUNTIME_BIN is not given, RUNTIME_BIN resolved and announced,
# daemons_init done and T set to its work dir; a FAIL line and exit 1 else.
client_prelude () {
  local name=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $name test needs $tool"; exit 1; }
  done
  [ -z "${HULL_RUNTIME_BIN:-}" ] && [ ! -x build/hull ] && make -s build/hull >/dev/null
  resolve_runtime || exit 1
  echo "$name: runtime $RUNTIME_BIN"
  daemons_init || { echo "FAIL: $name: init"; exit 1; }
  T=$DMN_DIR
  # The daemons pass their environment down to the runtime: nested L2
  # guests get more than the default 30 s to answer the handshake.
  if [ -z "${HULL_SETTINGS:-}" ]; then
    printf '{ "bootTimeoutMs": 120000 }\n' > "$T/hull-settings.json"
    export HULL_SETTINGS=$T/hull-settings.json
  fi
}

# A busybox-static rootfs with the applets on PATH, users for -u tests and
# the empty dirs Docker/containerd expect to mount over.
rootfs_busybox () {
  local d=$1 bb a
  bb=$(command -v busybox) || { dmn_log "busybox-static missing"; return 1; }
  mkdir -p "$d"/{bin,etc,tmp,proc,sys,dev,data,root,home/tester} || return 1
  chmod 1777 "$d/tmp"
  cp "$bb" "$d/bin/busybox" || return 1
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$d/etc/passwd"
  printf 'root:x:0:\ntester:x:1000:\nnogroup:x:65534:\n' > "$d/etc/group"
  chown 1000:1000 "$d/home/tester"
  : > "$d/etc/hostname"; : > "$d/etc/hosts"; : > "$d/etc/resolv.conf"
}

dmn_now () { date +%s.%N; }
dmn_elapsed () { awk -v a="$1" -v b="$(dmn_now)" 'BEGIN { printf "%.2f", b - a }'; }

# dmn_wait_ready NAME PID CMD...: polls CMD until it succeeds, the daemon
# dies or DAEMON_START_TIMEOUT passes.
dmn_wait_ready () {
  local name=$1 pid=$2 t0 limit=${DAEMON_START_TIMEOUT:-120}
  shift 2
  t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      dmn_log "$name died while starting; its log:"; tail -n 30 "$DMN_DIR/$name.log" >&2
      return 1
    fi
    if [ $(( $(date +%s) - t0 )) -ge "$limit" ]; then
      dmn_log "$name not ready after $limit s; its log:"; tail -n 30 "$DMN_DIR/$name.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

dmn_storage_driver () {
  if [ -n "${HULL_DOCKER_STORAGE:-}" ]; then echo "$HULL_DOCKER_STORAGE"; return; fi
  # overlay2 cannot sit on an overlay (the nested lane's /) nor on virtiofs.
  case $(stat -f -c %T "$1") in
    ext2/ext3|xfs|tmpfs|btrfs) echo overlay2 ;;
    *) echo vfs ;;
  esac
}

dockerd_start () {
  local bin=$1 t0 d=$DMN_DIR/docker e=$DMN_EXEC_DIR
  case $bin in /*) ;; *) dmn_log "runtime path must be absolute: $bin"; return 1 ;; esac
  [ -x "$bin" ] || { dmn_log "runtime $bin is not executable"; return 1; }
  mkdir -p "$d/data" || return 1
  # cgroupfs driver: this host runs no systemd and has the v1 hybrid layout
  # (v1 controllers + a cgroup2 at /sys/fs/cgroup/unified), which the
  # cgroupfs driver handles.  A private cgroup parent lets teardown find
  # leftover container processes and remove the cgroups.
  cat > "$d/daemon.json" <<JSON
{
  "runtimes": { "hull": { "path": "$bin" } },
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "cgroup-parent": "/$DMN_CGROUP_PARENT",
  "storage-driver": "$(dmn_storage_driver "$d/data")",
  "log-driver": "json-file",
  "iptables": false,
  "ip-masq": false,
  "bridge": "none",
  "userland-proxy": false,
  "live-restore": false
}
JSON
  # dockerd's own managed containerd gets a fixed, short start timeout
  # that the nested lane (TCG) overruns; start it ourselves and wait.
  t0=$(dmn_now)
  mkdir -p "$d/ctd-root" "$e/ctd" || return 1
  dmn_containerd_config "$d/ctd-root" "$e/ctd" "$e/ctd/c.sock" > "$d/containerd.toml"
  containerd --config "$d/containerd.toml" >"$DMN_DIR/docker-containerd.log" 2>&1 &
  DMN_DOCKER_CTD_PID=$!
  dmn_wait_ready docker-containerd "$DMN_DOCKER_CTD_PID" timeout 30 ctr --address "$e/ctd/c.sock" version \
    || return 1
  dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$e" \
    --containerd "$e/ctd/c.sock" \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" >"$DMN_DIR/dockerd.log" 2>&1 &
  DMN_DOCKERD_PID=$!
  DOCKER="timeout -k 5 120 docker -H unix://$d/docker.sock"
  dmn_wait_ready dockerd "$DMN_DOCKERD_PID" $DOCKER info || return 1
  DMN_LAST_START_SECS=$(dmn_elapsed "$t0")
  dmn_log "dockerd started in $DMN_LAST_START_SECS s (storage $(dmn_storage_driver "$d/data"))"
}

# docker_import_busybox TAG: the image is a tarball of rootfs_busybox.
docker_import_busybox () {
  local r=$DMN_DIR/img-rootfs
  [ -d "$r" ] || rootfs_busybox "$r" || return 1
  tar -C "$r" --numeric-owner -cf "$DMN_DIR/busybox.tar" . || return 1
  $DOCKER import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' "$DMN_DIR/busybox.tar" "$1" >/dev/null
}

# dmn_containerd_config ROOT STATE SOCKET: a private containerd's config.
dmn_containerd_config () {
  cat <<TOML
version = 2
root = "$1"
state = "$2"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$3"
[ttrpc]
  address = "$3.ttrpc"
TOML
}

# containerd_start RUNTIME_BIN: config.toml with a runtime entry "hull"
# (io.containerd.runc.v2 + options.BinaryName) for the CRI plugin, the only
# containerd component that reads runtime entries; ctr picks the binary
# with --runc-binary instead.  The CRI plugin itself stays disabled (it
# needs CNI and a pause image), so the entry is checked with `config dump`.
containerd_start () {
  local bin=$1 t0 d=$DMN_DIR/containerd
  mkdir -p "$d/root" "$d/state" "$d/runc" || return 1
  { dmn_containerd_config "$d/root" "$d/state" "$d/c.sock"; cat <<TOML
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull.options]
  BinaryName = "$bin"
  Root = "$d/runc"
TOML
  } > "$d/config.toml"
  t0=$(dmn_now)
  containerd --config "$d/config.toml" >"$DMN_DIR/containerd.log" 2>&1 &
  DMN_CONTAINERD_PID=$!
  CTR="timeout -k 5 120 ctr --address $d/c.sock"
  dmn_wait_ready containerd "$DMN_CONTAINERD_PID" $CTR version || return 1
  DMN_LAST_START_SECS=$(dmn_elapsed "$t0")
  dmn_log "containerd started in $DMN_LAST_START_SECS s"
}

# Pids (not ours, not our parents) whose command line names the work dir:
# the daemons, dockerd's managed containerd, the shims.
dmn_pids_naming_dir () {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
    tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -qF -e "$DMN_DIR/" -e "${DMN_EXEC_DIR:-$DMN_DIR}/" && echo "$p"
  done
}

# Pids in our cgroup parent (container processes of a crashed daemon).
dmn_pids_in_cgroups () {
  [ -n "$DMN_CGROUP_PARENT" ] || return 0
  # v1 (and the hybrid layout): /sys/fs/cgroup/<controller>/P; v2 (the
  # nested lane's L1): /sys/fs/cgroup/P.
  find /sys/fs/cgroup/"$DMN_CGROUP_PARENT" /sys/fs/cgroup/*/"$DMN_CGROUP_PARENT" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

dmn_mounts () {   # mount points under our dirs
  awk -v d="$DMN_DIR/" -v e="$DMN_EXEC_DIR/" 'index($2, d) == 1 || (e != "/" && index($2, e) == 1) { print $2 }' /proc/self/mounts
}

dmn_stop_pid () {   # PID: TERM, up to 20 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  dmn_log "pid $pid ignored TERM, killing"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

daemons_teardown () {
  local rc=$? p m left
  [ -n "$DMN_DIR" ] && [ -d "$DMN_DIR" ] || return $rc
  trap - EXIT
  # Containers first, through the daemons, so their runtime cleans up.
  if [ -n "$DMN_DOCKERD_PID" ] && kill -0 "$DMN_DOCKERD_PID" 2>/dev/null; then
    p=$($DOCKER ps -aq 2>/dev/null)
    [ -n "$p" ] && $DOCKER rm -f $p >/dev/null 2>&1
  fi
  if [ -n "$DMN_CONTAINERD_PID" ] && kill -0 "$DMN_CONTAINERD_PID" 2>/dev/null; then
    for m in $($CTR namespaces ls -q 2>/dev/null); do
      for p in $($CTR -n "$m" tasks ls -q 2>/dev/null); do
        $CTR -n "$m" tasks kill -s KILL "$p" >/dev/null 2>&1
        $CTR -n "$m" tasks delete -f "$p" >/dev/null 2>&1
      done
      for p in $($CTR -n "$m" containers ls -q 2>/dev/null); do
        $CTR -n "$m" containers delete "$p" >/dev/null 2>&1
      done
    done
  fi
  [ -n "$DMN_DOCKERD_PID" ] && dmn_stop_pid "$DMN_DOCKERD_PID"
  [ -n "$DMN_DOCKER_CTD_PID" ] && dmn_stop_pid "$DMN_DOCKER_CTD_PID"
  [ -n "$DMN_CONTAINERD_PID" ] && dmn_stop_pid "$DMN_CONTAINERD_PID"
  # Whatever survived: shims, a managed containerd, container processes.
  for p in $(dmn_pids_in_cgroups) $(dmn_pids_naming_dir); do
    dmn_log "killing leftover pid $p: $(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | cut -c1-120)"
    kill -KILL "$p" 2>/dev/null
  done
  sleep 0.2
  # Mounts under the work dir, deepest first.
  for _ in 1 2 3; do
    left=$(dmn_mounts | sort -r)
    [ -z "$left" ] && break
    for m in $left; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
  left=$(dmn_mounts)
  for p in /sys/fs/cgroup/"$DMN_CGROUP_PARENT" /sys/fs/cgroup/*/"$DMN_CGROUP_PARENT"; do
    [ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  if [ -n "$left" ]; then
    echo "FAIL: daemon teardown (mounts left; keeping $DMN_DIR): $left"
    rc=1
  else
    rm -rf "$DMN_DIR" "$DMN_EXEC_DIR"
  fi
  DMN_DIR=
  exit $rc
}
