#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted scripts expand inside the container
# tests/e2e/test_podman.sh USANDBOX PLATFORM: podman (Debian's, rootful, with conmon) drives usandbox as its
# OCI runtime: run's output and exit status, run -d + exec + stop, a host directory mounted with -v, a terminal.
# Podman keeps its storage under $WORK, so the machine's own podman state is never touched.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/engine_lib.sh
. "$(dirname "$0")/engine_lib.sh"
e2e_setup
engine_require podman conmon

STORE=$WORK/podman
# The engine flags these machines need (their hard limits are below podman's defaults, and there is no
# systemd to manage cgroups); --runtime-flag passes usandbox's own global flags.
PODMAN=(podman --root "$STORE/root" --runroot "$STORE/run" --tmpdir "$STORE/tmp" --storage-driver overlay
  --cgroup-manager=cgroupfs --events-backend=file --runtime "$USANDBOX" --runtime-flag "platform=$PLATFORM"
  --runtime-flag network=none)
RUN_FLAGS=(--network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMAGE=localhost/usandbox-e2e:latest

podman_cleanup() {
  if [ -d "$STORE" ]; then
    timeout 60 "${PODMAN[@]}" rm --all --force --time 0 >/dev/null 2>&1
    timeout 60 "${PODMAN[@]}" image rm --all --force >/dev/null 2>&1
    engine_unmount_under "$STORE"
  fi
  e2e_cleanup
}
trap podman_cleanup EXIT

engine_image_tarball "$WORK/image.tar"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" import "$WORK/image.tar" "$IMAGE"
if ! expect_that "podman import: the busybox image" "exit 0" test "$SB_RC" = 0; then
  e2e_finish
fi

# run --rm: the process's output, and its exit status propagated.
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" \
  sh -c 'echo hello from usandbox; id -u; cat /proc/1/cmdline | tr "\0" " "; echo; exit 3'
expect_sandbox "podman run: output and a non-zero exit status" 3 "hello from usandbox
0
sh -c echo hello from usandbox; id -u; cat /proc/1/cmdline | tr \"\\0\" \" \"; echo; exit 3 "
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" sh -c 'uname -r; cat /etc/hostname >/dev/null && echo engine files mounted'
expect_sandbox "podman run: the Sentry's kernel, the files podman mounts" 0 "5.15.0-usandbox
engine files mounted"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" no-such-program
expect_sandbox "podman run: a missing program exits 127" 127 ""

# run -d, exec, stop: exec runs beside the container's process; stop's SIGTERM reaches it.
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run -d --name detached "${RUN_FLAGS[@]}" "$IMAGE" \
  sh -c 'trap "echo got TERM; exit 0" TERM; echo started; while :; do sleep 0.1; done'
expect_that "podman run -d: exit 0" "exit 0" test "$SB_RC" = 0
for _ in $(seq 1 50); do
  "${PODMAN[@]}" logs detached 2>/dev/null | grep -q started && break
  sleep 0.1
done
_e2e_sandbox_run /dev/null "${PODMAN[@]}" exec detached sh -c 'echo in exec; kill -0 1 && echo init is there; exit 4'
expect_sandbox "podman exec: output, the container's init beside it, exit status" 4 "in exec
init is there"
printf 'through stdin\n' >"$WORK/stdin.txt"
_e2e_sandbox_run "$WORK/stdin.txt" "${PODMAN[@]}" exec -i detached cat
expect_sandbox "podman exec -i: stdin" 0 "through stdin"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" exec detached no-such-program
expect_sandbox "podman exec: a missing program exits 127" 127 ""
_e2e_sandbox_run /dev/null "${PODMAN[@]}" stop --time 10 detached
expect_sandbox "podman stop: exit 0" 0 "detached"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" logs detached
expect_sandbox "podman stop: the process trapped SIGTERM" 0 "started
got TERM"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" inspect detached --format '{{.State.Status}} {{.State.ExitCode}}'
expect_sandbox "podman inspect: exited with the trap's status" 0 "exited 0"
"${PODMAN[@]}" rm detached >/dev/null 2>&1

# -v HOSTDIR:/data: what the container writes, the host sees.
mkdir -p "$WORK/volume"
echo from the host >"$WORK/volume/in"
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run --rm "${RUN_FLAGS[@]}" -v "$WORK/volume:/data" "$IMAGE" \
  sh -c 'cat /data/in; echo from the container >/data/out'
expect_sandbox "podman run -v: the container reads the host's file" 0 "from the host"
expect_that "podman run -v: the host sees the container's file" "$WORK/volume/out holds 'from the container'" \
  test "$(cat "$WORK/volume/out" 2>/dev/null)" = "from the container"

# -t: a terminal from conmon (through --console-socket).
_e2e_sandbox_run /dev/null "${PODMAN[@]}" run --rm -t "${RUN_FLAGS[@]}" "$IMAGE" sh -c '[ -t 0 ] && [ -t 1 ] && echo a terminal'
expect_that "podman run -t: stdin and stdout are a terminal" "'a terminal'" \
  eval '[ "$SB_RC" = 0 ] && [ "$(tr -d "\r" <"$SB_OUT")" = "a terminal" ]'

e2e_finish
