#!/usr/bin/env bash
# shellcheck disable=SC1010,SC2016  # "do" is usandbox's subcommand; single-quoted scripts expand inside
# tests/e2e/test_dynamic.sh USANDBOX PLATFORM: dynamically linked Debian programs (the ELF interpreter path,
# mmap of libraries through the Gofer, futex-based locking in glibc) give the same output as natively.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_setup

TREE=$FIXTURE/tree
mkdir -p "$TREE/sub"
printf 'b\na\nc\n' >"$TREE/letters.txt"
printf 'deep\n' >"$TREE/sub/deep.txt"
ln -s letters.txt "$TREE/link"
find "$TREE" "$FIXTURE" -exec touch -h -d '2024-01-02 03:04:05' {} +

run_differential "coreutils true" /bin/true
run_differential "coreutils false exit status" --rc 1 /bin/false
run_differential "coreutils ls -la (ACL probes, user lookup)" /bin/ls -la "$TREE"
run_differential "coreutils ls of a missing file" --rc 2 --stderr /bin/ls "$TREE/missing"
run_differential "coreutils sort" /usr/bin/sort "$TREE/letters.txt"
run_differential "coreutils sha256sum" /usr/bin/sha256sum "$TREE/letters.txt" "$TREE/sub/deep.txt"
run_differential "coreutils wc" /usr/bin/wc "$TREE/letters.txt"
run_differential "coreutils cat through a symlink" /bin/cat "$TREE/link"
run_differential "findutils find" /usr/bin/find "$TREE" -name '*.txt'
run_differential "dash pipeline and status" /bin/sh -c 'printf "3\n1\n2\n" | sort -n | tail -1; false; echo $?'
run_differential "dash subshell and redirection" /bin/sh -c 'cd @SCRATCH@ 2>/dev/null || mkdir -p @SCRATCH@
  (echo one; echo two) > @SCRATCH@/out; cat @SCRATCH@/out; wc -l < @SCRATCH@/out'
run_differential "grep and sed" /bin/sh -c "grep -n a '$TREE/letters.txt'; sed 's/b/B/' '$TREE/letters.txt'"
run_differential "cp, mv, rm -r in /tmp" /bin/sh -c 'set -e; mkdir -p @SCRATCH@/d; cp /etc/hostname @SCRATCH@/d/h
  mv @SCRATCH@/d/h @SCRATCH@/d/g; cat @SCRATCH@/d/g >/dev/null; rm -r @SCRATCH@/d; ls @SCRATCH@ | wc -l'
printf 'first line\nsecond line\n' >"$WORK/two-lines.txt"
run_differential "busybox read builtin from piped stdin" --stdin "$WORK/two-lines.txt" "$BUSYBOX" sh -c 'read a; read b; echo "[$b] [$a]"'
run_differential "dash read builtin from piped stdin" --stdin "$WORK/two-lines.txt" /bin/sh -c 'while read l; do echo "<$l>"; done'
run_differential "python3 select and pipes" /usr/bin/python3 -c 'import os, select
r, w = os.pipe()
print(select.select([r], [], [], 0.05))
os.write(w, b"x")
print(select.select([r], [w], [], 1)[0] == [r])
p = select.poll(); p.register(r, select.POLLIN); print(len(p.poll(100)))'
run_differential "python3 subprocess" /usr/bin/python3 -c 'import subprocess
print(subprocess.run(["/bin/echo", "child"], capture_output=True).stdout.decode().strip())
print(subprocess.call(["/bin/sh", "-c", "exit 3"]))'
run_differential "coreutils timeout kills with SIGALRM-driven timer" /bin/sh -c 'timeout 1 sleep 5; echo $?'
run_differential "python3 interval timer and alarm" /usr/bin/python3 -c 'import signal, time
signal.signal(signal.SIGALRM, lambda *a: print("alarm"))
signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
time.sleep(0.35)
signal.setitimer(signal.ITIMER_REAL, 0)
print(signal.alarm(0))'
run_differential "make -j2 builds and links a multi-file C program" /bin/sh -c 'mkdir -p @SCRATCH@/p && cd @SCRATCH@/p
  printf "int add(int, int);\nint main(void) { return add(2, 3) == 5 ? 0 : 1; }\n" > main.c
  printf "int add(int a, int b) { return a + b; }\n" > add.c
  printf "app: main.o add.o\n\tcc -o \$@ main.o add.o\n" > Makefile
  make -s -j2 && ./app && echo built-and-ran'
run_differential "python3 epoll, eventfd, memfd, flock and lockf across fork, sqlite3" /usr/bin/python3 -c 'import fcntl, os, select, sqlite3
os.makedirs("@SCRATCH@", exist_ok=True)
r, w = os.pipe()
ep = select.epoll(); ep.register(r, select.EPOLLIN)
print(ep.poll(0.05)); os.write(w, b"x"); print([(fd == r, event) for fd, event in ep.poll(1)])
efd = os.eventfd(3); os.eventfd_write(efd, 4); print(os.eventfd_read(efd))
m = os.memfd_create("demo"); os.write(m, b"memory"); os.lseek(m, 0, 0)
print(os.read(m, 10), os.readlink("/proc/self/fd/%d" % m))
f = open("@SCRATCH@/lockfile", "w"); fcntl.flock(f, fcntl.LOCK_EX); fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
pid = os.fork()
if pid == 0:
    try:
        fcntl.lockf(open("@SCRATCH@/lockfile", "w"), fcntl.LOCK_EX | fcntl.LOCK_NB); print("child got the lock")
    except OSError as error:
        print("child blocked", error.errno)
    os._exit(0)
os.waitpid(pid, 0)
db = sqlite3.connect("@SCRATCH@/test.db"); db.execute("create table t(x)"); db.execute("insert into t values (42)")
db.commit(); print(db.execute("select * from t").fetchall())'
run_differential "python3 sigwait and sigtimedwait" /usr/bin/python3 -c 'import os, signal, threading, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
os.kill(os.getpid(), signal.SIGUSR1)
print(signal.sigwait([signal.SIGUSR1, signal.SIGUSR2]))
print(signal.sigtimedwait([signal.SIGUSR2], 0.1))
threading.Thread(target=lambda: (time.sleep(0.1), os.kill(os.getpid(), signal.SIGUSR2))).start()
print(signal.sigwaitinfo([signal.SIGUSR2]).si_signo)'
run_differential "bash: functions, subshells, here-docs, arrays, fd redirection, traps, background jobs" /bin/bash -c 'set -e
mkdir -p @SCRATCH@
f() { local x=$1; echo "f:$x"; }
f one | tr a-z A-Z
( cd @SCRATCH@ && echo "sub:$(basename "$(pwd)")" )
cat <<HERE | wc -l
a
b
HERE
arr=(x y z); echo "${#arr[@]} ${arr[1]}"
exec 3>@SCRATCH@/out; echo to-fd3 >&3; exec 3>&-; cat @SCRATCH@/out
read -r a b <<< "p q"; echo "$b$a"
trap "echo trapped" EXIT
{ echo g1; echo g2 >&2; } 2>&1 | sort
sleep 0.1 & wait $!; echo bg=$?
[[ "abc" == a* ]] && echo glob
printf "%05.1f\n" 3.14159'
# The rest of the issue's list of everyday tools, each against the same fixture tree natively and inside.
run_differential "cp -a keeps modes, times and links; tar czf and cJf (gzip, xz) round trips; date, sleep, awk" \
  /bin/sh -c 'set -e; rm -rf @SCRATCH@/t; mkdir -p @SCRATCH@/t; cd @SCRATCH@/t
  cp -a '"$TREE"' copy; ls -la --time-style=+%F_%T copy | sed 1d | grep -vF " .." | awk "{print \$1, \$6, \$7, \$8, \$9, \$10}"
  tar czf tree.tgz -C '"$TREE"' . && tar tzf tree.tgz | sort
  tar cJf tree.txz -C '"$TREE"' . && mkdir x && tar xJf tree.txz -C x && cat x/sub/deep.txt
  date -u -d @86400 "+%F %T %Z"; sleep 0.1
  printf "a 1\nb 2\na 3\n" | awk "{sum[\$1] += \$2} END {print sum[\"a\"], sum[\"b\"]}"'
run_differential "python3 os.walk, tempfile and json" /usr/bin/python3 -c '
import json, os, tempfile
for root, dirs, files in sorted(os.walk("'"$TREE"'")):
    print(os.path.relpath(root, "'"$TREE"'"), sorted(dirs), sorted(files))
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "data.json")
    with open(path, "w") as out:
        json.dump({"numbers": [1, 2, 3], "nested": {"ok": True}}, out)
    print(json.load(open(path)), os.path.basename(directory).startswith("tmp"))
with tempfile.NamedTemporaryFile("w+") as handle:
    handle.write("named"); handle.flush(); handle.seek(0); print(handle.read())'
run_differential "git init, add, commit and log in a scratch directory (a fixed date: the same commit id)" \
  /bin/sh -c 'set -e; rm -rf @SCRATCH@/repo; mkdir -p @SCRATCH@/repo; cd @SCRATCH@/repo
  export HOME=@SCRATCH@ GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z
  git init -q -b main . && git config user.email e2e@example.org && git config user.name e2e
  echo hello > file && mkdir dir && echo deeper > dir/nested && git add . && git commit -q -m first
  echo more >> file && git commit -q -am second && git log --format="%H %s" && git status --short | wc -l'
run_differential "/proc/self/fdinfo: position, flags (O_CLOEXEC, O_NONBLOCK), inode, one entry per fd" /usr/bin/python3 -c '
import os
fd = os.open("/etc/hostname", os.O_RDONLY)
os.lseek(fd, 3, 0)
info = dict(line.split(":\t", 1) for line in open(f"/proc/self/fdinfo/{fd}").read().splitlines()[:4])
print(info["pos"], info["flags"].strip(), "mnt_id" in info, int(info["ino"]) == os.fstat(fd).st_ino)
directory = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
print(open(f"/proc/self/fdinfo/{directory}").read().splitlines()[1])
read_end, write_end = os.pipe2(os.O_NONBLOCK)
print(open(f"/proc/self/fdinfo/{write_end}").read().splitlines()[:2])
os.set_inheritable(read_end, True)
print(open(f"/proc/self/fdinfo/{read_end}").read().splitlines()[1])
print(sorted(os.listdir("/proc/self/fdinfo")) == sorted(os.listdir("/proc/self/fd")))'
run_differential "/proc/self/limits in Linux's layout (the sandbox starts with its caller's limits)" /bin/cat /proc/self/limits
e2e_finish
