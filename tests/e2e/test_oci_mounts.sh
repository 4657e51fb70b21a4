#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted scripts expand inside the container
# tests/e2e/test_oci_mounts.sh USANDBOX PLATFORM: an OCI bundle's bind mounts, served by the Gofer: a
# writable directory whose writes the host sees, a read-only one, a single file (as engines mount /etc/hosts),
# a missing mount point made as runc makes it, a relative source, and sources that cannot be mounted.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

ROOT=$WORK/state
BUNDLE=$WORK/bundle
HOST=$WORK/host
OCI=("$USANDBOX" --root "$ROOT" --platform="$PLATFORM")

mkdir -p "$HOST/data" "$HOST/shared"
echo "from the host" >"$HOST/data/in.txt"
echo "10.1.2.3 bound-host" >"$HOST/hosts"
echo "read only" >"$HOST/shared/ro.txt"

# A busybox rootfs (read-only) with the given process and bind mounts (a JSON fragment of mounts).
make_bind_bundle() {  # SCRIPT EXTRA-MOUNTS
  local script=$1 mounts=$2
  rm -rf "$BUNDLE"
  mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/etc" "$BUNDLE/bundle-data"
  cp "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
  local tool
  for tool in sh echo cat ls mv ln rm grep; do
    ln -s busybox "$BUNDLE/rootfs/bin/$tool"
  done
  echo "127.0.0.1 rootfs-hosts" >"$BUNDLE/rootfs/etc/hosts"
  echo "relative" >"$BUNDLE/bundle-data/r.txt"
  python3 - "$BUNDLE/config.json" "$script" "$mounts" <<'PY'
import json, sys
path, script, mounts = sys.argv[1:]
config = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", script],
                "env": ["PATH=/bin"], "cwd": "/"},
    "root": {"path": "rootfs", "readonly": True},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}] + json.loads(mounts),
}
json.dump(config, open(path, "w"))
PY
}

# A writable directory: the container reads the host's file, and its writes reach the host.
make_bind_bundle 'cat /data/in.txt; echo "from the container" >/data/out.txt; ls /data' \
  "[{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOST/data\", \"options\": [\"rbind\", \"rw\"]}]"
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" bind1
expect_sandbox "bind: a host directory, read and written" 0 "from the host
in.txt
out.txt"
expect_that "bind: the host sees the container's write" "$HOST/data/out.txt holds it" \
  grep -qx "from the container" "$HOST/data/out.txt"

# Read-only: writes fail with EROFS, reads work, /proc/mounts says ro; type "none" with "bind" is a bind.
make_bind_bundle 'cat /shared/ro.txt; echo x >/shared/new 2>/dev/null || echo refused; grep " /shared " /proc/mounts | grep -c " ro,"' \
  "[{\"destination\": \"/shared\", \"type\": \"none\", \"source\": \"$HOST/shared\", \"options\": [\"bind\", \"ro\"]}]"
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" bind2
expect_sandbox "bind: read-only" 0 "read only
refused
1"
expect_that "bind: nothing written through a read-only bind" "no $HOST/shared/new" test ! -e "$HOST/shared/new"

# A file over a file, as engines mount /etc/hosts; and a file on a missing mount point.
make_bind_bundle 'cat /etc/hosts; cat /etc/extra/hosts.copy' \
  "[{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"$HOST/hosts\", \"options\": [\"bind\", \"ro\"]},
    {\"destination\": \"/etc/extra/hosts.copy\", \"type\": \"bind\", \"source\": \"$HOST/hosts\", \"options\": [\"bind\"]}]"
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" bind3
expect_sandbox "bind: single files, one on a missing mount point" 0 "10.1.2.3 bound-host
10.1.2.3 bound-host"

# A relative source comes from the bundle; a bind inside a tmpfs mount gets its mount point in memory;
# a link across mounts fails with EXDEV, and mv falls back to copying.
make_bind_bundle 'cat /r/r.txt; cat /tmp/inner/r.txt; ln /r/r.txt /tmp/l 2>&1 | grep -c "Invalid cross-device link"; mv /r/r.txt /tmp/moved && cat /tmp/moved && { test -e /r/r.txt && echo still there || echo gone; }' \
  "[{\"destination\": \"/r\", \"type\": \"bind\", \"source\": \"bundle-data\", \"options\": [\"rbind\"]},
    {\"destination\": \"/tmp/inner\", \"type\": \"bind\", \"source\": \"bundle-data\", \"options\": [\"rbind\"]}]"
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" bind4
expect_sandbox "bind: relative source, nested in a tmpfs, EXDEV across mounts" 0 "relative
relative
1
relative
gone"

# Sources that cannot be mounted: refused at create with the mount named, nothing left in --root.
make_bind_bundle 'true' "[{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"$HOST/missing\", \"options\": [\"bind\"]}]"
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" bad1
expect_sandbox "bind: a missing source is refused" 1 ""
expect_that "bind: the message names the mount" "stderr mentions mounts[2]" grep -qF "mounts[2]" "$SB_ERR"
expect_that "bind: nothing left in --root" "no $ROOT/bad1" test ! -e "$ROOT/bad1"
make_bind_bundle 'true' '[{"destination": "/null", "type": "bind", "source": "/dev/null", "options": ["bind"]}]'
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" bad2
expect_sandbox "bind: a device is refused" 1 ""
expect_that "bind: the message says why" "stderr says only directories and regular files" \
  grep -qF "only directories and regular files" "$SB_ERR"

e2e_finish
