#!/usr/bin/env bash
# shellcheck disable=SC1010,SC2016,SC2317  # "do" is usandbox's subcommand; single-quoted scripts expand inside
# tests/e2e/test_isolation.sh USANDBOX PLATFORM: what the sandboxed program sees is the Sentry's world
# (its own pid 1, kernel release, /proc, /dev, /tmp), writes land in the in-memory overlay and never on
# the host, and paths cannot leave a --rootfs.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

SH=("$BUSYBOX" sh -c)
RELEASE=5.15.0-usandbox

# Host fixtures.
printf 'original\n' >"$FIXTURE/keep.txt"
printf 'victim\n' >"$FIXTURE/victim.txt"
PROBE=/etc/usandbox-probe.$$
SECRET=/tmp/usandbox-secret.$$
e2e_remove_at_exit "$PROBE"
e2e_remove_at_exit "$SECRET"
printf 'host secret\n' >"$SECRET"

# A root file system for --rootfs: busybox, an etc/passwd saying "inside", and links that try to
# climb out of it. Every one of them must resolve inside the rootfs.
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/data/deep/er" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/tmp"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
printf 'inside\n' >"$ROOTFS/etc/passwd"
ln -s ../../../../../../etc/passwd "$ROOTFS/data/up"
ln -s /etc/passwd "$ROOTFS/data/abs"
ln -s /etc "$ROOTFS/data/etcdir"
ln -s ../../../../../../../../.. "$ROOTFS/data/deep/er/top"
ln -s .. "$ROOTFS/escape"
ln -s "$ROOTFS/etc/passwd" "$ROOTFS/data/hostpath"

# ---- processes -----------------------------------------------------------------------------------------

sandbox_do -- "${SH[@]}" 'echo $$'
expect_sandbox "the first process is pid 1" 0 "1"

sandbox_do -- "${SH[@]}" 'echo $PPID'
expect_sandbox "pid 1 has parent pid 0" 0 "0"

CMDLINE_SCRIPT='cat /proc/1/cmdline | tr "\0" " "'
sandbox_do -- "${SH[@]}" "$CMDLINE_SCRIPT"
expect_sandbox "/proc/1/cmdline is the sandbox's first process" 0 "$BUSYBOX sh -c $CMDLINE_SCRIPT "

sandbox_do -- "${SH[@]}" 'kill -9 $$; echo survived'
expect_sandbox "pid 1 ignores SIGKILL sent from inside (Linux init semantics)" 0 "survived"

sandbox_do -- "$BUSYBOX" cat /proc/self/status
expect_that "/proc/self/status works" "exit 0, Name: busybox and Pid: 1" \
  eval '[ "$SB_RC" = 0 ] && grep -Eq "^Name:[[:space:]]+busybox$" "$SB_OUT" && grep -Eq "^Pid:[[:space:]]+1$" "$SB_OUT"'

sandbox_do -- "${SH[@]}" 'ls /proc | grep -c "^[0-9][0-9]*$"'
expect_that "/proc lists only the sandbox's processes" "at most 3 numeric entries in /proc (sh, ls, grep)" \
  eval '[ "$SB_RC" = 0 ] && [ "$(cat "$SB_OUT")" -ge 1 ] 2>/dev/null && [ "$(cat "$SB_OUT")" -le 3 ]'

# ---- kernel --------------------------------------------------------------------------------------------

sandbox_do -- "$BUSYBOX" uname -r
expect_sandbox "uname -r is the Sentry's release" 0 "$RELEASE"
HOST_RELEASE=$(uname -r)
if [ "$HOST_RELEASE" != "$RELEASE" ]; then
  e2e_ok "host release ($HOST_RELEASE) differs from the sandbox's"
else
  e2e_not_ok "host release differs from the sandbox's" "the host itself reports $RELEASE"
fi

# ---- writes stay in the overlay ------------------------------------------------------------------------

if [ -e "$PROBE" ]; then
  e2e_not_ok "a file written in /etc stays inside" "$PROBE already exists on the host before the test"
else
  sandbox_do -- "${SH[@]}" "echo x >$PROBE && cat $PROBE"
  expect_sandbox "writing a new file in /etc succeeds inside" 0 "x"
  host_check "a file written in /etc does not reach the host" $? "$PROBE does not exist on the host" \
    test ! -e "$PROBE"
fi

sandbox_do -- "${SH[@]}" "echo changed >'$FIXTURE/keep.txt' && cat '$FIXTURE/keep.txt'"
expect_sandbox "overwriting a host file succeeds inside" 0 "changed"
host_check "overwriting a host file leaves the host file unchanged" $? "$FIXTURE/keep.txt still says original" \
  eval '[ "$(cat "$FIXTURE/keep.txt" 2>/dev/null)" = original ]'

sandbox_do -- "${SH[@]}" "rm '$FIXTURE/victim.txt' && if [ -e '$FIXTURE/victim.txt' ]; then echo still-there; else echo gone; fi"
expect_sandbox "rm of a host file succeeds inside" 0 "gone"
host_check "rm of a host file leaves it on the host" $? "$FIXTURE/victim.txt still exists with its content" \
  eval '[ "$(cat "$FIXTURE/victim.txt" 2>/dev/null)" = victim ]'

sandbox_do -- "${SH[@]}" "mkdir '$FIXTURE/newdir' && touch '$FIXTURE/newdir/f' && ls '$FIXTURE/newdir'"
expect_sandbox "mkdir under a host dir succeeds inside" 0 "f"
host_check "mkdir under a host dir does not reach the host" $? "$FIXTURE/newdir does not exist on the host" \
  test ! -e "$FIXTURE/newdir"

sandbox_do -- "${SH[@]}" "echo one >/tmp/f && cat /tmp/f"
if expect_sandbox "writing in /tmp succeeds" 0 "one"; then
  sandbox_do -- "${SH[@]}" "cat /tmp/f 2>/dev/null || echo absent"
  expect_sandbox "writes vanish when the sandbox exits" 0 "absent"
else
  e2e_not_ok "writes vanish when the sandbox exits" "not checked: the write inside the sandbox failed (see above)"
fi

# ---- /tmp is the sandbox's own ---------------------------------------------------------------------------

sandbox_do -- "${SH[@]}" "if [ -e $SECRET ]; then echo visible; cat $SECRET; else echo hidden; fi; ls -A /tmp | wc -l"
expect_sandbox "host /tmp is not visible inside (fresh empty tmpfs)" 0 "hidden
0"

# ---- /dev --------------------------------------------------------------------------------------------------

sandbox_do -- "$BUSYBOX" ls /dev
expect_that "ls /dev shows null, zero and urandom" "lines null, zero and urandom in the listing" \
  eval 'grep -qx null "$SB_OUT" && grep -qx zero "$SB_OUT" && grep -qx urandom "$SB_OUT"'

run_differential "write /dev/null, read /dev/zero and /dev/urandom" "${SH[@]}" \
  'echo hi >/dev/null && echo wrote; head -c 8 /dev/zero | od -An -tx1; head -c 1000 /dev/urandom | wc -c; [ -c /dev/null ] && [ -c /dev/zero ] && [ -c /dev/urandom ] && echo chardevs'

# ---- --rootfs and path escapes -------------------------------------------------------------------------------

for link in /data/up /data/abs /data/etcdir/passwd /escape/etc/passwd /data/deep/er/top/etc/passwd \
  /../../../../etc/passwd /etc/../../etc/passwd; do
  sandbox_do --rootfs="$ROOTFS" -- /bin/busybox cat "$link"
  expect_sandbox "--rootfs: $link resolves inside the rootfs" 0 "inside"
done

sandbox_do --rootfs="$ROOTFS" -- /bin/busybox sh -c 'cd /data/deep/er && cat ../../../../../../etc/passwd && cd / && cd .. && pwd'
expect_sandbox "--rootfs: .. from a subdirectory and from / stays inside" 0 "inside
/"

sandbox_do --rootfs="$ROOTFS" -- /bin/busybox sh -c "cat '$ROOTFS/etc/passwd' 2>/dev/null || echo no-host-path; cat /data/hostpath 2>/dev/null || echo no-host-path"
expect_sandbox "--rootfs: the rootfs's host path means nothing inside" 0 "no-host-path
no-host-path"

sandbox_do --rootfs="$ROOTFS" -- /bin/busybox sh -c 'if [ -e /usr ] || [ -e /root ] || [ -e /var ]; then echo host-root-leaked; else echo ok; fi'
expect_sandbox "--rootfs: host directories (/usr, /root, /var) are not visible" 0 "ok"

# /proc/self/fd names the sandbox's host stdio as Linux names such files: a pipe, a terminal.
printf x | "$USANDBOX" do --platform="$PLATFORM" -- readlink /proc/self/fd/0 >"$WORK/fd-name" 2>"$WORK/fd-name.err"
expect_that "/proc/self/fd: a host pipe on stdin reads as pipe:[inode]" "pipe:[N]" grep -qx 'pipe:\[[0-9]*\]' "$WORK/fd-name"
if command -v script >/dev/null; then
  script -qec "$USANDBOX do --platform=$PLATFORM -- readlink /proc/self/fd/0" /dev/null >"$WORK/tty-name" 2>&1
  expect_that "/proc/self/fd: a terminal on stdin reads as /dev/pts/N" "/dev/pts/N" grep -q '^/dev/pts/[0-9]*' "$WORK/tty-name"
fi
# /proc/self/mountinfo describes the Sentry's mount tree; findmnt and df read it.
sandbox_do -- "${SH[@]}" 'findmnt -n -o TARGET,FSTYPE /proc; /bin/df --output=target /tmp | tail -1; grep -c " - " /proc/self/mountinfo'
expect_sandbox "mountinfo: findmnt and df see the sandbox's mounts" 0 "/proc  proc
/tmp
6"
e2e_finish
