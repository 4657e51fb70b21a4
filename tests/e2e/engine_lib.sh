#!/usr/bin/env bash
# tests/e2e/engine_lib.sh: what the container-engine tests (test_podman.sh, test_docker.sh) share: their
# prerequisites, and the image they run: a busybox rootfs made here, since no registry is reachable.

# engine_require COMMAND...: each must be installed (.ci/install-deps installs them), and we must be root
# (the engines run rootful here); otherwise one failed case says what is missing and the script ends.
engine_require() {
  local missing=() command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    e2e_not_ok "$E2E_SCRIPT: ${missing[*]} installed" "not found: ${missing[*]} (.ci/install-deps installs them)"
    e2e_finish
  fi
  if [ "$(id -u)" -ne 0 ]; then
    e2e_not_ok "$E2E_SCRIPT: running as root" "the engines run rootful in these tests; run them as root"
    e2e_finish
  fi
}

# engine_image_tarball FILE: a root file system of busybox (every applet as a symlink), /etc/passwd and
# /etc/group, and the directories engines mount on, as a tar archive for `podman import` / `docker import`.
engine_image_tarball() {
  local tarball=$1 rootfs=$WORK/image-rootfs applet
  rm -rf "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/root"
  cp "$BUSYBOX" "$rootfs/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -cf "$tarball" .
}

# engine_unmount_under DIR: what an engine left mounted below DIR (overlays, its netns file), deepest first.
engine_unmount_under() {
  local mount_point
  awk -v prefix="$1/" 'index($2, prefix) == 1 {print $2}' /proc/mounts | sort -r | while read -r mount_point; do
    umount -l "$mount_point" 2>/dev/null
  done
}
