#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted scripts expand inside the container
# tests/e2e/test_docker.sh USANDBOX PLATFORM: dockerd (Debian's docker.io, with containerd and its runc shim)
# drives usandbox, registered by `usandbox install` in a daemon.json of this test's own: run's output and exit
# status, run -d + exec + stop, a host directory mounted with -v, a terminal. The test starts its own dockerd
# on its own socket, data and exec roots under $WORK, and stops it at the end.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/engine_lib.sh
. "$(dirname "$0")/engine_lib.sh"
e2e_setup
engine_require dockerd containerd containerd-shim-runc-v2
# docker.io's own client speaks this dockerd's API version; another one earlier in PATH may not.
DOCKER_CLIENT=/usr/bin/docker
[ -x "$DOCKER_CLIENT" ] || DOCKER_CLIENT=$(command -v docker || echo docker)

STATE=$WORK/docker
mkdir -p "$STATE"
DOCKER=("$DOCKER_CLIENT" -H "unix://$STATE/docker.sock")
RUN_FLAGS=(--runtime=usandbox --network=host)
IMAGE=usandbox-e2e:latest

docker_cleanup() {
  if [ -s "$STATE/dockerd.pid" ]; then
    local ids
    ids=$(timeout 30 "${DOCKER[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086  # one argument per id
    [ -z "$ids" ] || timeout 60 "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
    local daemon
    daemon=$(cat "$STATE/dockerd.pid")
    kill -TERM "$daemon" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$daemon" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$daemon" 2>/dev/null
  fi
  engine_unmount_under "$STATE"
  e2e_cleanup
}
trap docker_cleanup EXIT

# These machines: no iptables, no bridge; hard limits below docker's defaults.
cat >"$STATE/daemon.json" <<'JSON'
{"iptables": false, "bridge": "none", "storage-driver": "overlay2",
 "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 1024, "Soft": 1024},
                     "nproc": {"Name": "nproc", "Hard": 1024, "Soft": 1024}}}
JSON
usandbox_raw install --config "$STATE/daemon.json" -- --network=none "--platform=$PLATFORM"
expect_sandbox "usandbox install: registered in daemon.json" 0 \
  "Runtime usandbox added to $STATE/daemon.json; restart dockerd (or send it SIGHUP) and use docker run --runtime=usandbox"

dockerd --config-file "$STATE/daemon.json" --data-root "$STATE/data" --exec-root "$STATE/exec" \
  --pidfile "$STATE/dockerd.pid" -H "unix://$STATE/docker.sock" >"$STATE/dockerd.log" 2>&1 &
for _ in $(seq 1 300); do
  "${DOCKER[@]}" version >/dev/null 2>&1 && break
  sleep 0.1
done
if ! expect_that "dockerd started" "docker version answers" eval '"${DOCKER[@]}" version >/dev/null 2>&1'; then
  tail -n 20 "$STATE/dockerd.log" | sed 's/^/#   /'
  e2e_finish
fi
expect_that "docker info lists the usandbox runtime" "usandbox among the runtimes" \
  eval '"${DOCKER[@]}" info --format "{{json .Runtimes}}" | grep -q "\"usandbox\""'

engine_image_tarball "$WORK/image.tar"
_e2e_sandbox_run /dev/null "${DOCKER[@]}" import "$WORK/image.tar" "$IMAGE"
if ! expect_that "docker import: the busybox image" "exit 0" test "$SB_RC" = 0; then
  e2e_finish
fi

# run --rm: the process's output, and its exit status propagated.
_e2e_sandbox_run /dev/null "${DOCKER[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" \
  sh -c 'echo hello from usandbox; uname -r; exit 6'
expect_sandbox "docker run: output and a non-zero exit status" 6 "hello from usandbox
5.15.0-usandbox"

# run -d, exec, stop.
_e2e_sandbox_run /dev/null "${DOCKER[@]}" run -d --name detached "${RUN_FLAGS[@]}" "$IMAGE" \
  sh -c 'trap "echo got TERM; exit 0" TERM; echo started; while :; do sleep 0.1; done'
expect_that "docker run -d: exit 0" "exit 0" test "$SB_RC" = 0
for _ in $(seq 1 50); do
  "${DOCKER[@]}" logs detached 2>/dev/null | grep -q started && break
  sleep 0.1
done
_e2e_sandbox_run /dev/null "${DOCKER[@]}" exec detached sh -c 'echo in exec; kill -0 1 && echo init is there; exit 4'
expect_sandbox "docker exec: output, the container's init beside it, exit status" 4 "in exec
init is there"
printf 'through stdin\n' >"$WORK/stdin.txt"
_e2e_sandbox_run "$WORK/stdin.txt" "${DOCKER[@]}" exec -i detached cat
expect_sandbox "docker exec -i: stdin" 0 "through stdin"
_e2e_sandbox_run /dev/null "${DOCKER[@]}" stop --time 10 detached
expect_sandbox "docker stop: exit 0" 0 "detached"
_e2e_sandbox_run /dev/null "${DOCKER[@]}" logs detached
expect_sandbox "docker stop: the process trapped SIGTERM" 0 "started
got TERM"
_e2e_sandbox_run /dev/null "${DOCKER[@]}" inspect detached --format '{{.State.Status}} {{.State.ExitCode}}'
expect_sandbox "docker inspect: exited with the trap's status" 0 "exited 0"
"${DOCKER[@]}" rm detached >/dev/null 2>&1

# -v HOSTDIR:/data: what the container writes, the host sees.
mkdir -p "$WORK/volume"
echo from the host >"$WORK/volume/in"
_e2e_sandbox_run /dev/null "${DOCKER[@]}" run --rm "${RUN_FLAGS[@]}" -v "$WORK/volume:/data" "$IMAGE" \
  sh -c 'cat /data/in; echo from the container >/data/out'
expect_sandbox "docker run -v: the container reads the host's file" 0 "from the host"
expect_that "docker run -v: the host sees the container's file" "$WORK/volume/out holds 'from the container'" \
  test "$(cat "$WORK/volume/out" 2>/dev/null)" = "from the container"

# -t: a terminal from containerd's shim (through --console-socket).
_e2e_sandbox_run /dev/null "${DOCKER[@]}" run --rm -t "${RUN_FLAGS[@]}" "$IMAGE" sh -c '[ -t 0 ] && [ -t 1 ] && echo a terminal'
expect_that "docker run -t: stdin and stdout are a terminal" "'a terminal'" \
  eval '[ "$SB_RC" = 0 ] && [ "$(tr -d "\r" <"$SB_OUT")" = "a terminal" ]'

e2e_finish
