#!/usr/bin/env bash
# shellcheck disable=SC1010,SC2016,SC2317  # "do" is usandbox's subcommand; single-quoted scripts expand inside
# tests/e2e/test_busybox.sh USANDBOX PLATFORM: everyday busybox commands give the same stdout and exit
# status inside the sandbox as natively (differential), plus a few asserted cases.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

SH=("$BUSYBOX" sh -c)

# Host fixture under /var/tmp (host /tmp is not visible inside), with fixed timestamps so that
# `ls -la` prints the same on both sides.
TREE=$FIXTURE/tree
mkdir -p "$TREE/sub/deeper"
printf 'hello, sandbox\n' >"$TREE/hello.txt"
seq 1 100 | sed 's/^/line /' >"$TREE/lines.txt"
printf 'deep\n' >"$TREE/sub/deep.txt"
printf 'deeper\n' >"$TREE/sub/deeper/deeper.txt"
: >"$TREE/sub/empty"
printf '#!/bin/busybox sh\necho run\n' >"$TREE/exec.sh"
printf 'read only\n' >"$TREE/ro.txt"
ln -s hello.txt "$TREE/link"
chmod 755 "$TREE/exec.sh"
chmod 444 "$TREE/ro.txt"
chmod 700 "$TREE/sub/deeper"
find "$TREE" "$FIXTURE" -exec touch -h -d '2024-01-02 03:04:05' {} +
printf 'hi\n' >"$WORK/stdin.txt"

run_differential "echo" "${SH[@]}" 'echo hello world'
run_differential "cat /etc/hostname" "$BUSYBOX" cat /etc/hostname
run_differential "cat a host fixture file" "$BUSYBOX" cat "$TREE/hello.txt"
run_differential "cat a file through a symlink" "$BUSYBOX" cat "$TREE/link"
run_differential "ls -la of a fixture dir" "$BUSYBOX" ls -la "$TREE"
run_differential "ls -laR of a fixture tree" "$BUSYBOX" ls -laR "$TREE/sub"
run_differential "stat-like test operators" "${SH[@]}" "cd '$TREE' && for f in hello.txt sub link exec.sh ro.txt nothing; do
  printf '%s:' \$f; [ -e \$f ] && printf e; [ -f \$f ] && printf f; [ -d \$f ] && printf d; [ -L \$f ] && printf L
  [ -x \$f ] && printf x; [ -s \$f ] && printf s; echo; done"
run_differential "mkdir/rm/cp/mv in /tmp" "${SH[@]}" 'set -e
  mkdir -p @SCRATCH@/a/b
  echo hello >@SCRATCH@/a/f
  cp @SCRATCH@/a/f @SCRATCH@/a/b/g
  mv @SCRATCH@/a/b/g @SCRATCH@/a/h
  cat @SCRATCH@/a/h
  rm @SCRATCH@/a/f
  ls @SCRATCH@/a
  rmdir @SCRATCH@/a/b
  rm -r @SCRATCH@/a
  ls -A @SCRATCH@
  echo done'
run_differential "write, append and reread in /tmp" "${SH[@]}" 'mkdir @SCRATCH@ && cd @SCRATCH@ &&
  seq 1 500 >n && echo more >>n && wc -l <n && tail -2 n && : >n && wc -c <n && pwd'
run_differential "copy a host file into /tmp" "${SH[@]}" "mkdir @SCRATCH@ && cp '$TREE/lines.txt' @SCRATCH@/x && md5sum <@SCRATCH@/x && cmp '$TREE/lines.txt' @SCRATCH@/x && echo same"
run_differential "pipe, false, \$?" "${SH[@]}" 'echo a | cat; false; echo $?'
run_differential "sort" "${SH[@]}" "printf 'b\na\n' | sort"
run_differential "wc -l -c of a fixture" "$BUSYBOX" wc -l -c "$TREE/lines.txt"
run_differential "id" "$BUSYBOX" id
run_differential "env with a given environment" "$BUSYBOX" env -i A=1 B=2 "$BUSYBOX" env
run_differential --rc 7 "exit status propagates" "${SH[@]}" 'exit 7'
# Killed by a signal: 128+signal. The first process is pid 1 inside, and like Linux's pid-namespace init
# it ignores signals without a handler sent from inside (`sh -c 'kill -9 $$'` survives there: see
# test_isolation.sh), so the self-kill runs in a child, and pid 1 itself dies of a fault (a forced
# SIGSEGV from stack overflow, which does kill an init).
run_differential "child killed by SIGKILL: \$? is 137" "${SH[@]}" 'sh -c "kill -9 \$\$"; echo $?'
run_differential "child killed by SIGTERM: \$? is 143" "${SH[@]}" 'sh -c "kill -TERM \$\$"; echo $?'
run_differential --rc 137 "exit status 137 of a killed child propagates" "${SH[@]}" 'sh -c "kill -9 \$\$"; exit $?'
run_differential --rc 139 "killed by SIGSEGV (stack overflow) gives 139" "${SH[@]}" 'f() { f; }; f'
run_differential --stdin "$WORK/stdin.txt" "stdin passes through" "$BUSYBOX" cat
run_differential "long pipeline" "${SH[@]}" 'seq 1 2000 | busybox sort -n | busybox tail -1'
run_differential "pipeline with more than a pipe buffer" "${SH[@]}" 'seq 1 20000 | sort -rn | sort -n | md5sum'
run_differential "find on a fixture dir" "${SH[@]}" "find '$TREE' | sort"
run_differential "find -type f -name" "${SH[@]}" "find '$TREE' -type f -name '*.txt' | sort"
run_differential "here-doc" "${SH[@]}" 'cat <<EOF
first line
sum $((6 * 7))
EOF
wc -l <<EOF
a
b
EOF'
run_differential "cd /tmp && pwd" "${SH[@]}" 'cd /tmp && pwd'
run_differential "dd from /dev/zero" "${SH[@]}" 'dd if=/dev/zero bs=1k count=4 | wc -c'
run_differential "head -c 16 /dev/urandom" "${SH[@]}" 'head -c 16 /dev/urandom | wc -c'
run_differential --stderr "cat of a missing file: message and status" "$BUSYBOX" cat "$TREE/missing"
run_differential "subshells, functions and loops" "${SH[@]}" 'f() { echo "f:$1"; }; for i in 1 2 3; do (f $i); done; i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i'
run_differential "command substitution and background job" "${SH[@]}" 'x=$(echo inner); echo "got $x"; sleep 0 & wait $!; echo "bg $?"'
run_differential "script from the fixture" "$TREE/exec.sh"

sandbox_do -- "$BUSYBOX" uname -a
expect_that "uname -a reports Linux and release 5.15.0-usandbox" "fields 1 and 3 are Linux and 5.15.0-usandbox" \
  awk 'NR == 1 && $1 == "Linux" && $3 == "5.15.0-usandbox" { found = 1 } END { exit !found }' "$SB_OUT"

e2e_finish
