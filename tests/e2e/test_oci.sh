#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted scripts expand inside the container
# tests/e2e/test_oci.sh USANDBOX PLATFORM: the OCI runtime commands on a busybox bundle: spec, run, the
# create/start/state/kill/delete lifecycle, list, ps, events, and malformed configs that leave nothing behind.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

ROOT=$WORK/state
BUNDLE=$WORK/bundle
OCI=("$USANDBOX" --root "$ROOT" --platform="$PLATFORM")

# A bundle whose rootfs holds only busybox; PROCESS_ARGS is a JSON array.
make_bundle() {  # DIR PROCESS_ARGS [READONLY]
  local dir=$1 args=$2 readonly=${3:-true}
  rm -rf "$dir"
  mkdir -p "$dir/rootfs/bin"
  cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
  local tool
  for tool in sh echo cat sleep ls id hostname touch; do
    ln -s busybox "$dir/rootfs/bin/$tool"
  done
  cat >"$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": $args,
              "env": ["PATH=/bin", "GREETING=hi"], "cwd": "/"},
  "root": {"path": "rootfs", "readonly": $readonly},
  "hostname": "oci-test",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]},
             {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]
}
JSON
}

status_of() {  # ID: the "status" field of `state`
  "${OCI[@]}" state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'
}

# spec writes valid JSON that usandbox itself accepts.
mkdir -p "$WORK/specdir"
usandbox_raw spec --bundle "$WORK/specdir"
expect_sandbox "spec: exit 0" 0 ""
expect_that "spec: config.json is valid JSON with args [sh]" "python3 parses it" \
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["process"]["args"]==["sh"]; assert c["root"]["path"]=="rootfs"' \
  "$WORK/specdir/config.json"
usandbox_raw spec --bundle "$WORK/specdir"
expect_sandbox "spec: refuses to overwrite config.json" 1 ""

# run: output, environment, hostname, exit status; the state directory is gone afterwards.
make_bundle "$BUNDLE" '["sh", "-c", "echo $GREETING; hostname; exit 7"]'
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" run1
expect_sandbox "run: prints the output and exits with the process's status" 7 "hi
oci-test"
expect_that "run: no state left" "no $ROOT/run1" test ! -e "$ROOT/run1"

# root.readonly false: writes reach the rootfs, as with runc.
make_bundle "$BUNDLE" '["sh", "-c", "echo data >/written && cat /written"]' false
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" rw1
expect_sandbox "run: writable root" 0 "data"
expect_that "run: the write reached the rootfs" "$BUNDLE/rootfs/written exists" test -f "$BUNDLE/rootfs/written"
make_bundle "$BUNDLE" '["sh", "-c", "echo data >/written"]' true
_e2e_sandbox_run /dev/null "${OCI[@]}" run --bundle "$BUNDLE" ro1
expect_sandbox "run: read-only root refuses writes" nonzero ""

# create, state, start, state, delete.
# The process runs until exec creates /tmp/go in its sandbox, whatever the machine's load.
make_bundle "$BUNDLE" '["sh", "-c", "echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 4"]'
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" --pid-file "$WORK/pid" life1
expect_sandbox "create: exit 0" 0 ""
expect_that "create: state says created" "status created" test "$(status_of life1)" = created
expect_that "create: --pid-file holds the sandbox's pid" "a live pid in $WORK/pid" \
  eval 'kill -0 "$(cat "$WORK/pid")"'
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" life1
expect_sandbox "create: a duplicate id is refused" 1 ""
_e2e_sandbox_run /dev/null "${OCI[@]}" list
expect_that "list: shows the container" "a line with life1 and created" grep -q 'life1 .*created' "$SB_OUT"
_e2e_sandbox_run /dev/null "${OCI[@]}" start life1
expect_sandbox "start: exit 0" 0 ""
expect_that "start: state says running" "status running" test "$(status_of life1)" = running
_e2e_sandbox_run /dev/null "${OCI[@]}" delete life1
expect_sandbox "delete: refuses a running container without --force" 1 ""
"${OCI[@]}" exec life1 touch /tmp/go
for _ in $(seq 1 50); do
  [ "$(status_of life1)" = stopped ] && break
  sleep 0.1
done
expect_that "after exit: state says stopped" "status stopped" test "$(status_of life1)" = stopped
expect_that "after exit: the exit status is recorded" "4 in exit_status" grep -qx 4 "$ROOT/life1/exit_status"
_e2e_sandbox_run /dev/null "${OCI[@]}" delete life1
expect_sandbox "delete: a stopped container" 0 ""
expect_that "delete: the state directory is gone" "no $ROOT/life1" test ! -e "$ROOT/life1"

# kill: SIGTERM is relayed to the container's pid 1; kill -9 ends the sandbox.
make_bundle "$BUNDLE" '["sh", "-c", "trap \"echo got TERM; exit 9\" TERM; echo ready; while :; do sleep 0.1; done"]'
"${OCI[@]}" create --bundle "$BUNDLE" kill1 >"$WORK/kill1.out" 2>&1
"${OCI[@]}" start kill1
for _ in $(seq 1 50); do grep -q ready "$WORK/kill1.out" && break; sleep 0.1; done
_e2e_sandbox_run /dev/null "${OCI[@]}" kill kill1 TERM
expect_sandbox "kill TERM: exit 0" 0 ""
for _ in $(seq 1 50); do [ "$(status_of kill1)" = stopped ] && break; sleep 0.1; done
expect_that "kill TERM: the process trapped it and exited" "stopped, exit 9, 'got TERM'" \
  eval '[ "$(status_of kill1)" = stopped ] && grep -qx 9 "$ROOT/kill1/exit_status" && grep -q "got TERM" "$WORK/kill1.out"'
"${OCI[@]}" delete kill1
# Any signal reaches a running container's init as from the parent pid namespace: only if it has a handler.
make_bundle "$BUNDLE" '["sh", "-c", "trap \"echo got ALRM\" ALRM; echo ready; while :; do sleep 0.1; done"]'
"${OCI[@]}" create --bundle "$BUNDLE" alarm1 >"$WORK/alarm1.out" 2>&1
"${OCI[@]}" start alarm1
for _ in $(seq 1 50); do grep -q ready "$WORK/alarm1.out" && break; sleep 0.1; done
_e2e_sandbox_run /dev/null "${OCI[@]}" kill alarm1 ALRM
expect_sandbox "kill ALRM: exit 0" 0 ""
for _ in $(seq 1 50); do grep -q "got ALRM" "$WORK/alarm1.out" && break; sleep 0.1; done
expect_that "kill ALRM: init's handler ran, the container still runs" "'got ALRM', status running" \
  eval 'grep -q "got ALRM" "$WORK/alarm1.out" && [ "$(status_of alarm1)" = running ]'
# --all: every process of the sandbox, an exec'd one too.
("${OCI[@]}" exec alarm1 sh -c 'touch /tmp/sleeping; exec sleep 100' >/dev/null 2>&1; echo $? >"$WORK/alarm1.exec") &
for _ in $(seq 1 50); do "${OCI[@]}" exec alarm1 ls /tmp/sleeping >/dev/null 2>&1 && break; sleep 0.1; done
_e2e_sandbox_run /dev/null "${OCI[@]}" kill --all alarm1 USR1
wait
expect_that "kill --all USR1: the exec'd process died of it" "exit 138" test "$(cat "$WORK/alarm1.exec")" = 138
"${OCI[@]}" delete --force alarm1
make_bundle "$BUNDLE" '["sleep", "100"]'
"${OCI[@]}" create --bundle "$BUNDLE" kill2 >/dev/null 2>&1
"${OCI[@]}" start kill2
_e2e_sandbox_run /dev/null "${OCI[@]}" kill kill2 KILL
expect_sandbox "kill KILL: exit 0" 0 ""
for _ in $(seq 1 50); do [ "$(status_of kill2)" = stopped ] && break; sleep 0.1; done
expect_that "kill KILL: stopped" "status stopped" test "$(status_of kill2)" = stopped
"${OCI[@]}" delete kill2
"${OCI[@]}" create --bundle "$BUNDLE" force1 >/dev/null 2>&1
"${OCI[@]}" start force1
_e2e_sandbox_run /dev/null "${OCI[@]}" delete --force force1
expect_sandbox "delete --force: a running container" 0 ""
expect_that "delete --force: gone" "no $ROOT/force1" test ! -e "$ROOT/force1"
"${OCI[@]}" create --bundle "$BUNDLE" created1 >/dev/null 2>&1
_e2e_sandbox_run /dev/null "${OCI[@]}" delete created1
expect_sandbox "delete: a created, never started container" 0 ""
expect_that "delete: its sandbox is gone" "no $ROOT/created1" test ! -e "$ROOT/created1"

# The process engines watch: create's --pid-file names a process that a subreaper (conmon, containerd's
# shim) reaps once `create` has exited, with the container's exit status; SIGKILL on it ends the sandbox.
SUBREAPER=$(cd "$(dirname "$0")" && pwd)/programs/subreaper.py
make_bundle "$BUNDLE" '["sh", "-c", "sleep 0.2; exit 42"]'
_e2e_sandbox_run /dev/null env PID_FILE="$WORK/reaped.pid" THEN="${OCI[*]} start reaped1" \
  python3 "$SUBREAPER" "${OCI[@]}" create --bundle "$BUNDLE" --pid-file "$WORK/reaped.pid" reaped1
expect_sandbox "create --pid-file: a subreaper reaps that pid with the container's exit status" 0 "exit 42"
expect_that "create --pid-file: the exit status is recorded for state" "42 in exit_status" \
  grep -qx 42 "$ROOT/reaped1/exit_status"
"${OCI[@]}" delete reaped1
make_bundle "$BUNDLE" '["sleep", "100"]'
"${OCI[@]}" create --bundle "$BUNDLE" --pid-file "$WORK/killed.pid" killed1 >/dev/null 2>&1
"${OCI[@]}" start killed1
state_pid=$("${OCI[@]}" state killed1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
expect_that "state: pid is the --pid-file's" "$state_pid = $(cat "$WORK/killed.pid")" \
  test "$state_pid" = "$(cat "$WORK/killed.pid")"
sentry_pid=$(sed -n 's/.*"usandboxSentryPid":\([0-9]*\).*/\1/p' "$ROOT/killed1/state.json")
kill -KILL "$state_pid"
for _ in $(seq 1 50); do kill -0 "$sentry_pid" 2>/dev/null || break; sleep 0.1; done
expect_that "SIGKILL on that pid takes the sandbox with it" "Sentry $sentry_pid gone, state stopped" \
  eval '! kill -0 "$sentry_pid" 2>/dev/null && [ "$(status_of killed1)" = stopped ]'
"${OCI[@]}" delete killed1

# exec: a second process inside the running sandbox, with runc's flags or a --process JSON.
make_bundle "$BUNDLE" '["sh", "-c", "echo ready; while :; do sleep 0.1; done"]'
"${OCI[@]}" create --bundle "$BUNDLE" exec1 >"$WORK/exec1.out" 2>&1
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 true
expect_sandbox "exec: refused before start" 1 ""
"${OCI[@]}" start exec1
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 sh -c 'echo $GREETING; echo parent $PPID; hostname; exit 5'
expect_sandbox "exec: output, environment, no parent in the sandbox, exit status" 5 "hi
parent 0
oci-test"
_e2e_sandbox_run /dev/null "${OCI[@]}" exec --env GREETING=changed --env NEW=1 --cwd /tmp --user 1000:100 exec1 \
  sh -c 'echo $GREETING $NEW; pwd; id -u; id -g'
expect_sandbox "exec: --env, --cwd, --user" 0 "changed 1
/tmp
1000
100"
printf 'line one\n' >"$WORK/exec.stdin"
_e2e_sandbox_run "$WORK/exec.stdin" "${OCI[@]}" exec exec1 cat
expect_sandbox "exec: the caller's stdin is the process's" 0 "line one"
cat >"$WORK/process.json" <<'JSON'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from $FROM; pwd"],
 "env": ["PATH=/bin", "FROM=process.json"], "cwd": "/proc"}
JSON
_e2e_sandbox_run /dev/null "${OCI[@]}" exec --process "$WORK/process.json" exec1
expect_sandbox "exec --process: the JSON's args, env and cwd" 0 "from process.json
/proc"
echo '{"args": [], "cwd": "/"}' >"$WORK/bad-process.json"
_e2e_sandbox_run /dev/null "${OCI[@]}" exec --process "$WORK/bad-process.json" exec1
expect_sandbox "exec --process: a malformed process is refused" 1 ""
expect_that "exec --process: the message names the field" "stderr mentions process.args" \
  grep -qF process.args "$SB_ERR"
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 no-such-program
expect_sandbox "exec: a missing program exits 127" 127 ""
expect_that "exec: ... with runc's words, which engines recognise" "executable file not found" \
  grep -qF 'executable file not found in $PATH' "$SB_ERR"
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 sh -c 'kill -TERM $$'
expect_sandbox "exec: a process killed by a signal exits 128+signal" 143 ""
_e2e_sandbox_run /dev/null env PID_FILE="$WORK/exec.pid" \
  python3 "$SUBREAPER" "${OCI[@]}" exec --detach --pid-file "$WORK/exec.pid" exec1 sh -c 'sleep 0.2; exit 9'
expect_sandbox "exec --detach --pid-file: a subreaper reaps that pid with the process's status" 0 "exit 9"
# In a subshell of its own, whose "Killed" notice goes to /dev/null.
("${OCI[@]}" exec exec1 sh -c 'echo $$ >/tmp/victim; exec sleep 100' &
 echo $! >"$WORK/client.pid"
 wait) >/dev/null 2>&1 &
for _ in $(seq 1 50); do "${OCI[@]}" exec exec1 cat /tmp/victim >/dev/null 2>&1 && break; sleep 0.1; done
kill -KILL "$(cat "$WORK/client.pid")"
wait
victim_gone() { "${OCI[@]}" exec exec1 sh -c 'kill -0 $(cat /tmp/victim) 2>/dev/null && echo alive || echo gone'; }
for _ in $(seq 1 50); do [ "$(victim_gone)" = gone ] && break; sleep 0.1; done
expect_that "exec: killing the exec client kills its process" "gone" test "$(victim_gone)" = gone
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 sh -c 'kill -0 1 && echo init lives'
expect_sandbox "exec: the container's init is untouched" 0 "init lives"
"${OCI[@]}" kill exec1 KILL
for _ in $(seq 1 50); do [ "$(status_of exec1)" = stopped ] && break; sleep 0.1; done
_e2e_sandbox_run /dev/null "${OCI[@]}" exec exec1 true
expect_sandbox "exec: refused in a stopped container" 1 ""
"${OCI[@]}" delete exec1

# install: docker's daemon.json gains the runtime, every other key stays; containerd's handler section.
echo '{"iptables": false, "runtimes": {"runc-old": {"path": "/usr/bin/runc"}}}' >"$WORK/daemon.json"
usandbox_raw install --config "$WORK/daemon.json" -- --network=none --platform=ptrace
expect_sandbox "install: exit 0" 0 "Runtime usandbox added to $WORK/daemon.json; restart dockerd (or send it SIGHUP) and use docker run --runtime=usandbox"
expect_that "install: daemon.json has the runtime, its flags and the other keys" "python3 checks the JSON" \
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); r=c["runtimes"]
assert c["iptables"] is False and r["runc-old"] == {"path": "/usr/bin/runc"}, c
assert r["usandbox"] == {"path": sys.argv[2], "runtimeArgs": ["--network=none", "--platform=ptrace"]}, r' \
  "$WORK/daemon.json" "$USANDBOX"
usandbox_raw install --config "$WORK/daemon.json" --runtime-name sandboxed
expect_that "install: a second name is added beside the first" "runtimes.sandboxed and runtimes.usandbox" \
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runtimes"]; assert set(r)=={"runc-old","usandbox","sandboxed"}, r' \
  "$WORK/daemon.json"
echo '{"runtimes": [' >"$WORK/broken.json"
usandbox_raw install --config "$WORK/broken.json"
expect_sandbox "install: a malformed daemon.json is refused" 1 ""
expect_that "install: ... and left as it was" "unchanged" test "$(cat "$WORK/broken.json")" = '{"runtimes": ['
usandbox_raw install --containerd
expect_sandbox "install --containerd: the runtime handler section" 0 \
  "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.usandbox]
  runtime_type = \"io.containerd.runc.v2\"
[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.usandbox.options]
  BinaryName = \"$USANDBOX\""
usandbox_raw install --containerd-config "$WORK/config.toml"
usandbox_raw install --containerd-config "$WORK/config.toml"
expect_sandbox "install --containerd-config: a second time is refused" 1 ""
expect_that "install --containerd-config: the section is there once" "one header" \
  test "$(grep -c 'runtimes.usandbox]' "$WORK/config.toml")" = 1

# Malformed configs: exit 1, a message naming the field, nothing in --root.
bad_config() {  # NAME FIELD SED-EXPRESSION
  local name=$1 field=$2 expression=$3
  make_bundle "$BUNDLE" '["true"]'
  sed -i "$expression" "$BUNDLE/config.json"
  _e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" bad1
  expect_sandbox "malformed $name: exit 1" 1 ""
  expect_that "malformed $name: the message names $field" "stderr mentions $field" grep -qF -- "$field" "$SB_ERR"
  expect_that "malformed $name: nothing left in --root" "no $ROOT/bad1" test ! -e "$ROOT/bad1"
}
bad_config "args" "process.args" 's/"args": \[[^]]*\]/"args": []/'
bad_config "cwd" "process.cwd" 's|"cwd": "/"|"cwd": "relative"|'
bad_config "mount type" "mounts[2].type" 's/"type": "tmpfs", "source": "tmpfs"}/"type": "nfs", "source": "x"}/'
bad_config "JSON syntax" "config.json" 's/"ociVersion"/ociVersion/'
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" 'bad/id'
expect_sandbox "an invalid id is refused" 1 ""

# Hooks run on the host, as runc runs them: prestart and createRuntime at create with the state on stdin,
# poststart after start, poststop at delete; a failing prestart fails create and leaves nothing behind.
with_config() {  # PYTHON-STATEMENTS on the dict `c` of $BUNDLE/config.json
  python3 - "$BUNDLE/config.json" "$1" <<'PY'
import json, sys
path, code = sys.argv[1:]
c = json.load(open(path))
exec(code)
json.dump(c, open(path, "w"))
PY
}
HOOKS=$WORK/hooks.log
make_bundle "$BUNDLE" '["sh", "-c", "echo running; sleep 1"]'
with_config "
log = '$HOOKS'
def hook(text):
    return {'path': '/bin/sh', 'args': ['sh', '-c', text]}
c['hooks'] = {'prestart': [hook('cat > ' + log + '.prestart; echo prestart >> ' + log)],
              'createRuntime': [hook('echo createRuntime >> ' + log)],
              'poststart': [hook('echo poststart >> ' + log)],
              'poststop': [hook('echo poststop >> ' + log)]}"
rm -f "$HOOKS" "$HOOKS.prestart"
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" hooks1
expect_sandbox "hooks: create runs prestart and createRuntime" 0 ""
expect_that "hooks: prestart got the state on stdin" "id hooks1, status created" \
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["id"]=="hooks1" and s["status"]=="created" and s["pid"]>0' \
  "$HOOKS.prestart"
_e2e_sandbox_run /dev/null "${OCI[@]}" start hooks1
expect_sandbox "hooks: start" 0 ""
for _ in $(seq 100); do [ "$(status_of hooks1)" = stopped ] && break; sleep 0.1; done
_e2e_sandbox_run /dev/null "${OCI[@]}" delete hooks1
expect_sandbox "hooks: delete" 0 ""
expect_that "hooks: all four ran, in order" "prestart createRuntime poststart poststop" \
  test "$(tr '\n' ' ' <"$HOOKS")" = "prestart createRuntime poststart poststop "
make_bundle "$BUNDLE" '["sh", "-c", "exit 0"]'
with_config "c['hooks'] = {'prestart': [{'path': '/bin/false'}]}"
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" hooks2
expect_sandbox "hooks: a failing prestart fails create" 1 ""
expect_that "hooks: the message names it" "stderr names hooks.prestart[0]" grep -qF "hooks.prestart[0] (/bin/false)" "$SB_ERR"
expect_that "hooks: nothing left in --root" "no $ROOT/hooks2" test ! -e "$ROOT/hooks2"
with_config "c['hooks'] = {'createContainer': [{'path': '/bin/true'}]}"
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" hooks3
expect_sandbox "hooks: createContainer is refused (it would run in the Sentry's namespaces)" 1 ""
expect_that "hooks: that message names it" "stderr names hooks.createContainer" grep -qF "hooks.createContainer" "$SB_ERR"

# linux.resources on the cgroup at linux.cgroupsPath: the whole sandbox is in it, with the limits; delete
# removes it.
CGROUP_PATH=/usandbox-e2e-$$-$PLATFORM/limited
make_bundle "$BUNDLE" '["sleep", "30"]'
with_config "c['linux'] = {'cgroupsPath': '$CGROUP_PATH',
                          'resources': {'memory': {'limit': 134217728}, 'pids': {'limit': 64}, 'cpu': {'shares': 256}}}"
_e2e_sandbox_run /dev/null "${OCI[@]}" create --bundle "$BUNDLE" limited1
expect_sandbox "cgroup: create with limits" 0 ""
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  LIMITS=$(cat "/sys/fs/cgroup$CGROUP_PATH/memory.max" "/sys/fs/cgroup$CGROUP_PATH/pids.max" 2>&1 | tr '\n' ' ')
  PROCS=/sys/fs/cgroup$CGROUP_PATH/cgroup.procs
else
  LIMITS=$(cat "/sys/fs/cgroup/memory$CGROUP_PATH/memory.limit_in_bytes" "/sys/fs/cgroup/pids$CGROUP_PATH/pids.max" 2>&1 | tr '\n' ' ')
  PROCS=/sys/fs/cgroup/pids$CGROUP_PATH/cgroup.procs
fi
expect_that "cgroup: memory and pids limits are set" "134217728 64" test "$LIMITS" = "134217728 64 "
SENTRY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["usandboxSentryPid"])' "$ROOT/limited1/state.json" 2>/dev/null)
expect_that "cgroup: the Sentry is in it" "its pid in $PROCS" grep -qx "${SENTRY:-none}" "$PROCS"
_e2e_sandbox_run /dev/null "${OCI[@]}" delete --force limited1
expect_sandbox "cgroup: delete --force" 0 ""
expect_that "cgroup: removed with the container" "no /sys/fs/cgroup/pids$CGROUP_PATH" \
  test ! -e "/sys/fs/cgroup/pids$CGROUP_PATH" -a ! -e "/sys/fs/cgroup$CGROUP_PATH"

e2e_finish
