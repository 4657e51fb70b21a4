#!/usr/bin/python3
"""The usandbox benchmark harness: runs every workload on every runtime, interleaved.

Started by bench/run, which installs the runtimes, builds usandbox and the
workload binary (bench/work/bin/bw) and prepares the inputs. This file only
measures and reports; see bench/README.md for the method.

Every (workload, runtime) pair is a cell. Repeats are interleaved: repeat r
runs each workload once on every runtime, in an order rotated by r, before
repeat r+1 starts, so that slow drifts of the machine (page cache, thermal,
other load) spread over all runtimes alike. A cell whose first run fails is
not run again and says why; a runtime that cannot run at all says why in
every cell.
"""

import argparse
import csv
import ctypes
import datetime
import json
import os
import platform
import resource
import selectors
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(BENCH, "work")
RESULTS = os.path.join(BENCH, "results")
BW = os.path.join(WORK, "bin", "bw")
ROOTFS = os.path.join(WORK, "oci", "rootfs")
PROJECT = os.path.join(BENCH, "project")
BIGFILE = os.path.join(WORK, "file-256m")
TREE = os.path.join(WORK, "tree")
TREE_DIRS, TREE_FILES = 100, 100  # 10,000 files; bench/run makes the tree

# One environment for every runtime and every workload: the host's (a CI
# runner's, a developer's shell) must not leak into what is measured.
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# host process trees


def proc_children():
    """Map ppid -> [pid] for every process of the host."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("latin-1")
        except OSError:
            continue
        # the command name is in parentheses and may hold anything: split after it
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1:
            kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def descendants(root):
    """root and all its descendants (by parent pid)."""
    kids = proc_children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def read_kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def tree_memory(root):
    """Over root's process tree, in KiB: (sum of VmRSS, sum of Pss, number of
    processes, allocated size of the memory files (memfd) they hold, each file
    counted once). RSS and PSS count only pages that a process maps; a
    user-space kernel keeps application memory in a memfd, so its allocated
    size is recorded too (in the CSV's info column)."""
    rss = pss = n = 0
    memfds = {}
    for pid in descendants(root):
        r = read_kib(f"/proc/{pid}/status", "VmRSS:")
        if r is None:  # a kernel thread, or gone
            continue
        p = read_kib(f"/proc/{pid}/smaps_rollup", "Pss:")
        rss += r
        pss += p if p is not None else r
        n += 1
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            fds = []
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/memfd:"):
                    st = os.stat(f"/proc/{pid}/fd/{fd}")
                    memfds[(st.st_dev, st.st_ino)] = st.st_blocks // 2
            except OSError:
                pass
    return rss, pss, n, sum(memfds.values())


def kill_tree(root):
    pids = descendants(root)
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# --------------------------------------------------------------------------
# running one command


class RunResult:
    def __init__(self):
        self.code = None  # exit status (negative: killed by that signal)
        self.timed_out = False
        self.wall = None  # seconds, host side, from spawn to exit
        self.stdout = ""
        self.stderr = ""
        self.bw = {}  # key=value pairs of the last "BW ..." line of stdout
        self.samples = []  # (rss KiB, pss KiB, nprocs) taken while idle
        self.error = None  # could not even start


def run_cmd(argv, timeout, preexec=None, sample_after_ready=None, sample_every=0.05):
    """Run argv with the clean environment; capture its output; kill its whole
    process tree at the timeout. With sample_after_ready=SECONDS, sample the
    memory of the tree for that long once the workload prints "BW ready"."""
    res = RunResult()
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=CLEAN_ENV, cwd="/",
                             start_new_session=True, preexec_fn=preexec)
    except OSError as e:
        res.error = f"cannot start {argv[0]}: {e.strerror}"
        return res
    sel = selectors.DefaultSelector()
    bufs = {p.stdout: bytearray(), p.stderr: bytearray()}
    for f in bufs:
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    deadline = t0 + timeout
    ready_at = None
    exited_at = None
    open_pipes = 2
    while open_pipes:
        now = time.perf_counter()
        if now > deadline:
            res.timed_out = True
            kill_tree(p.pid)
            break
        if exited_at is None and p.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > 2:
            break  # it exited, but something it left behind holds the pipes
        wait = deadline - now
        if exited_at is not None:
            wait = min(wait, 0.1)
        if ready_at is not None:
            wait = min(wait, sample_every)
        for key, _ in sel.select(timeout=max(wait, 0)):
            chunk = os.read(key.fd, 65536)
            if chunk:
                bufs[key.fileobj] += chunk
            else:
                sel.unregister(key.fileobj)
                open_pipes -= 1
        if sample_after_ready is not None:
            if ready_at is None and b"BW ready" in bufs[p.stdout]:
                ready_at = time.perf_counter()
            if ready_at is not None:
                if time.perf_counter() - ready_at < sample_after_ready:
                    res.samples.append(tree_memory(p.pid))
                else:
                    sample_after_ready = None
                    ready_at = None
    try:
        # the pipes closed (or we killed it): the exit is near
        p.wait(timeout=max(deadline - time.perf_counter(), 0) + 5)
    except subprocess.TimeoutExpired:
        res.timed_out = True
        kill_tree(p.pid)
        p.wait()
    res.wall = time.perf_counter() - t0
    sel.close()
    for f in bufs:
        f.close()
    res.code = p.returncode
    res.stdout = bufs[p.stdout].decode("utf-8", "replace")
    res.stderr = bufs[p.stderr].decode("utf-8", "replace")
    for line in res.stdout.splitlines():
        if line.startswith("BW ") and "=" in line:
            res.bw = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return res


def describe_failure(res, timeout):
    """A short reason for a table cell, and a longer note."""
    tail = [l.strip() for l in (res.stderr + "\n" + res.stdout).splitlines() if l.strip()]
    detail = tail[-1][:200] if tail else ""
    if res.error:
        return "fails: " + res.error, res.error
    if res.timed_out:
        return f"fails: timeout {timeout:g} s", detail
    if res.code is not None and res.code < 0:
        try:
            name = signal.Signals(-res.code).name
        except ValueError:
            name = str(-res.code)
        return f"fails: {name}", detail
    if res.code:
        return f"fails: exit {res.code}", detail
    return "fails: no result", detail


# --------------------------------------------------------------------------
# runtimes

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, MS_REC, MS_PRIVATE, MNT_DETACH = 0x00020000, 0x4000, 0x40000, 2


def crun_hybrid_cgroup_fix():
    """preexec_fn for crun on a hybrid cgroup v1/v2 host whose unified
    hierarchy has a controller (this machine: hugetlb). crun 1.8 refuses to
    run there ("cgroups in hybrid mode not supported"); runc copes. In crun's
    own, private mount namespace we detach the unified hierarchy, so that crun
    sees plain cgroup v1. This costs microseconds and no extra exec."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    _libc.umount2(b"/sys/fs/cgroup/unified", MNT_DETACH)


def unified_has_controllers():
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            return bool(f.read().split())
    except OSError:
        return False


class Runtime:
    key = label = ""
    column = True

    def __init__(self):
        self.ok = True
        self.reason = ""  # why it cannot run anything, when not ok
        self.version = ""
        self.flags = ""

    def prepare(self, wl_key, cmd):
        """Called once per workload before the runs (e.g. writes an OCI bundle)."""

    def argv(self, wl_key, cmd, run_id):
        raise NotImplementedError

    preexec = None

    def cleanup(self, run_id):
        pass

    probed = False

    def probe(self, timeout=15):
        self.probed = True
        self.prepare("probe", ["/bin/true"])
        rid = self.new_id()
        res = run_cmd(self.argv("probe", ["/bin/true"], rid), timeout, self.preexec)
        self.cleanup(rid)
        if res.code != 0:
            cell, detail = describe_failure(res, timeout)
            return False, f"{cell[len('fails: '):]}" + (f" ({detail})" if detail else "")
        return True, ""

    _n = 0

    def new_id(self):
        Runtime._n += 1
        return f"usbench-{os.getpid()}-{Runtime._n}"


class Native(Runtime):
    key, label = "native", "native"

    def argv(self, wl_key, cmd, run_id):
        return list(cmd)


class Usandbox(Runtime):
    def __init__(self, binary, platform_name):
        super().__init__()
        self.binary = binary
        self.platform = platform_name
        self.key = f"usandbox-{platform_name}"
        self.label = f"usandbox ({platform_name})"
        self.flags = f"do --platform={platform_name} --"

    def argv(self, wl_key, cmd, run_id):
        return [self.binary, "do", f"--platform={self.platform}", "--"] + list(cmd)


class Runsc(Runtime):
    key, label = "runsc-ptrace", "runsc (ptrace)"
    # the first of these global flag sets that runs /bin/true is used
    FLAG_SETS = [
        ["--platform=ptrace", "--network=none"],
        ["--platform=ptrace", "--network=none", "--ignore-cgroups"],
        ["--platform=ptrace", "--network=none", "--ignore-cgroups", "--rootless=false"],
    ]

    def __init__(self):
        super().__init__()
        self.global_flags = self.FLAG_SETS[0]

    def argv(self, wl_key, cmd, run_id):
        return ["runsc"] + self.global_flags + ["do"] + list(cmd)

    def probe(self, timeout=15):
        reasons = []
        for flags in self.FLAG_SETS:
            self.global_flags = flags
            ok, why = Runtime.probe(self, timeout)
            if ok:
                self.flags = " ".join(flags) + " do"
                return True, ""
            reasons.append(why)
        self.global_flags = self.FLAG_SETS[0]
        return False, reasons[-1]


class Oci(Runtime):
    """runc or crun on an OCI bundle per workload: a busybox-static rootfs
    (bench/work/oci/rootfs, made by bench/run) with the host's /usr, /bin,
    /sbin, /lib, /lib64 and /etc bound read-only over it, so that gcc, make
    and python3 are there; a tmpfs on /tmp; bench/ bound read-only at its
    host path, so that every runtime runs the very same command line."""

    def __init__(self, tool):
        super().__init__()
        self.tool = tool
        self.key = self.label = tool
        self.bundles = os.path.join(WORK, "oci", "bundles-" + tool)
        self.flags = "run --bundle BUNDLE ID"
        if tool == "crun" and unified_has_controllers():
            self.preexec = crun_hybrid_cgroup_fix
            self.flags += " (in a private mount namespace without /sys/fs/cgroup/unified)"

    def bundle(self, wl_key):
        return os.path.join(self.bundles, wl_key)

    def prepare(self, wl_key, cmd):
        spec = {
            "ociVersion": "1.0.2-dev",
            "process": {
                "terminal": False,
                "user": {"uid": 0, "gid": 0},
                "args": list(cmd),
                "env": [f"{k}={v}" for k, v in CLEAN_ENV.items()],
                "cwd": "/",
                "capabilities": {k: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                                 for k in ("bounding", "effective", "permitted", "ambient")},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": True,
            },
            "root": {"path": ROOTFS, "readonly": True},
            "hostname": "usbench",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                 "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
                {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                 "options": ["nosuid", "noexec", "nodev"]},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                 "options": ["nosuid", "noexec", "nodev", "ro"]},
                {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "nodev", "mode=1777"]},
            ] + [
                {"destination": d, "type": "bind", "source": d,
                 "options": ["rbind", "ro", "nosuid", "nodev"]}
                for d in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc") if os.path.exists(d)
            ] + [
                {"destination": BENCH, "type": "bind", "source": BENCH,
                 "options": ["rbind", "ro", "nosuid", "nodev"]},
            ],
            "linux": {
                "resources": {"devices": [{"allow": False, "access": "rwm"}]},
                "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
                "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                                "/sys/firmware", "/proc/scsi"],
                "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
                                  "/proc/sys", "/proc/sysrq-trigger"],
            },
        }
        d = self.bundle(wl_key)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(spec, f, indent=1)

    def argv(self, wl_key, cmd, run_id):
        return [self.tool, "run", "--bundle", self.bundle(wl_key), run_id]

    def cleanup(self, run_id):
        subprocess.run([self.tool, "delete", "-f", run_id], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=CLEAN_ENV, preexec_fn=self.preexec)


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=CLEAN_ENV)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


# --------------------------------------------------------------------------
# workloads

PY_LOOP = """import time
t = time.perf_counter()
s = 0
for i in range({n}):
    s += i * i % 7
print("BW seconds=%.6f sum=%d" % (time.perf_counter() - t, s))
"""

BUILD_SH = """o=$(mktemp -d /tmp/bw-build.XXXXXX) || exit 1
{bw} time make -s -j2 -C "$o" -f {src}/Makefile SRCDIR={src}
s=$?
if [ $s = 0 ]; then "$o"/wordstat --selftest >/dev/null || s=99; fi
rm -rf "$o"
exit $s
"""


class Row:
    """One line of the table: a metric of a workload, lower is better."""

    def __init__(self, key, label, unit, scale, source, short, digits=None):
        self.key, self.label, self.unit, self.short = key, label, unit, short
        self.scale = scale  # value in unit = raw * scale
        self.source = source  # "wall", or a key of the BW line, or "rss"/"pss"
        self.digits = digits


class Workload:
    def __init__(self, key, cmd, rows, repeats, timeout, idle=None, host_timer=False):
        self.key, self.cmd, self.rows = key, cmd, rows
        # host_timer: time the runtime's CLI from the host with `bw time`
        # (fork, exec, wait in C), not from this Python process
        self.host_timer = host_timer
        self.repeats, self.timeout, self.idle = repeats, timeout, idle


def make_workloads(quick):
    q = quick
    tree_dirs = 20 if q else TREE_DIRS
    nfiles = tree_dirs * TREE_FILES
    spawn_n = 50 if q else 1000
    py_n = 2_000_000 if q else 5_000_000
    idle = 1.0 if q else 3.0
    sys_secs = 0.2 if q else 0.5
    return [
        Workload("startup", ["/bin/true"],
                 [Row("startup", "start-up: `true` in a fresh sandbox", "ms", 1e3, "seconds",
                      "start-up")],
                 5 if q else 20, 20 if q else 60, host_timer=True),
        Workload("memory", [BW, "idle", f"{idle:g}"],
                 [Row("mem_rss", "idle sandbox: peak RSS, sum over its host processes", "MiB",
                      1 / 1024, "rss", "idle RSS"),
                  Row("mem_pss", "idle sandbox: peak PSS, sum over its host processes", "MiB",
                      1 / 1024, "pss", "idle PSS")],
                 1 if q else 5, 20 if q else 60, idle=idle),
        Workload("syscall", [BW, "syscall", f"{sys_secs:g}"],
                 [Row("syscall", "getppid() round trip", "µs", 1e-3, "ns_per_call", "getppid")],
                 3 if q else 10, 20 if q else 60),
        Workload("read", [BW, "read", BIGFILE, "1024"],
                 [Row("read", "read a 256 MiB file sequentially (1 MiB reads, warm cache)", "ms",
                      1e3, "seconds", "read 256 MiB")],
                 3 if q else 10, 20 if q else 120),
        Workload("stat", [BW, "stat", TREE, str(tree_dirs), str(TREE_FILES)],
                 [Row("stat", f"stat+open+close {nfiles:,} small files in a tree (per file)",
                      "µs", 1.0, "us_per_file", "stat files")],
                 1 if q else 5, 20 if q else 180),
        Workload("spawn", [BW, "spawn", str(spawn_n), "/bin/true"],
                 [Row("spawn", f"fork+exec+wait /bin/true, {spawn_n:,} times (per op)", "ms",
                      1.0, "ms_per_op", "fork+exec")],
                 1 if q else 3, 20 if q else 300),
        Workload("build", ["/bin/sh", "-c", BUILD_SH.format(bw=BW, src=PROJECT)],
                 [Row("build", "CI build: make -j2 of bench/project (9 C files, gcc -O2)", "s",
                      1.0, "seconds", "make -j2")],
                 1 if q else 5, 30 if q else 300),
        Workload("py_start", [BW, "time", "/usr/bin/python3", "-c", "pass"],
                 [Row("py_start", "python3 start-up: `python3 -c pass`", "ms", 1e3, "seconds", "python start")],
                 5 if q else 10, 20 if q else 60),
        Workload("py_loop", ["/usr/bin/python3", "-c", PY_LOOP.format(n=py_n)],
                 [Row("py_loop", f"python3 CPU-bound loop, {py_n:,} iterations", "s", 1.0,
                      "seconds", "python loop")],
                 3 if q else 5, 20 if q else 120),
    ]


# --------------------------------------------------------------------------
# statistics and output


def quantile(xs, q):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def fmt(v, digits=None):
    if v is None:
        return "?"
    a = abs(v)
    if digits is None:
        digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{v:,.{digits}f}"


def fmt_ratio(r):
    if r is None:
        return ""
    return f"{r:.0f}x" if r >= 100 else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


class Cell:
    def __init__(self):
        self.values = []  # in the row's unit
        self.walls = []
        self.fail = None  # text for the table, when no run succeeded
        self.notes = []
        self.failures = 0
        self.extra = []  # per-run extra info (e.g. process counts)

    def median(self):
        return statistics.median(self.values) if self.values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke mode: < 2 minutes")
    ap.add_argument("--usandbox", required=True, help="path of the usandbox binary")
    ap.add_argument("--usandbox-build-note", default="")
    ap.add_argument("--runtimes", default="", help="comma-separated subset of runtime keys")
    ap.add_argument("--workloads", default="", help="comma-separated subset of workload keys")
    ap.add_argument("--repeats", type=int, default=0, help="override every workload's repeats")
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds after which no further repeats start (default 95 quick, 1080 full)")
    ap.add_argument("--out", default=RESULTS)
    args = ap.parse_args()
    budget = args.budget or (95 if args.quick else 1080)
    load_before = os.getloadavg()
    cpu_before = cpu_accounting()
    t_start = time.perf_counter()
    started = datetime.datetime.now(datetime.timezone.utc)

    # ---- runtimes
    keep = set(args.runtimes.split(",")) if args.runtimes else None

    def wanted(rt):
        return keep is None or rt.key in keep or rt.key.split("-")[0] in keep

    runtimes = [Native()]
    notes = []
    usb = os.path.abspath(args.usandbox)
    for plat in ("ptrace", "seccomp-trap"):
        rt = Usandbox(usb, plat)
        if not wanted(rt):
            continue
        if not os.access(usb, os.X_OK):
            rt.ok, rt.reason = False, f"no usandbox binary ({args.usandbox_build_note or usb})"
        if plat == "seccomp-trap":
            if not rt.ok:
                continue
            ok, why = rt.probe()
            if not ok:
                notes.append(f"usandbox --platform=seccomp-trap: not measured, "
                             f"`usandbox do --platform=seccomp-trap -- /bin/true` {why}.")
                continue
        runtimes.append(rt)
    runtimes.append(Runsc())
    runtimes.append(Oci("runc"))
    runtimes.append(Oci("crun"))
    runtimes = [r for r in runtimes if wanted(r)]
    tools = {"runsc-ptrace": "runsc", "runc": "runc", "crun": "crun"}
    for rt in runtimes:
        tool = tools.get(rt.key)
        if tool and not shutil.which(tool, path=CLEAN_ENV["PATH"]):
            rt.ok, rt.reason = False, f"{tool} is not installed"
        if rt.ok and rt.key != "native" and not rt.probed:
            ok, why = rt.probe()
            if not ok:
                rt.ok, rt.reason = False, f"cannot run /bin/true: {why}"
        if rt.key.startswith("usandbox"):
            rt.version = args.usandbox_build_note
        elif tool and rt.ok:
            rt.version = tool_version([tool, "--version"])
        log(f"runtime {rt.label}: " + ("ok" if rt.ok else "unavailable: " + rt.reason))

    # ---- workloads
    workloads = make_workloads(args.quick)
    if args.workloads:
        keep = set(args.workloads.split(","))
        workloads = [w for w in workloads if w.key in keep]
    if args.repeats:
        for w in workloads:
            w.repeats = args.repeats
    for w in workloads:
        for rt in runtimes:
            if rt.ok:
                rt.prepare(w.key, w.cmd)
    cells = {(r.key, rt.key): Cell() for w in workloads for r in w.rows for rt in runtimes}
    dead = set()  # (workload, runtime) pairs not to run again
    for rt in runtimes:
        if not rt.ok:
            for w in workloads:
                dead.add((w.key, rt.key))
                for r in w.rows:
                    cells[(r.key, rt.key)].fail = "fails: " + rt.reason \
                        if not rt.reason.endswith("not installed") else "n/a: " + rt.reason

    # warm the page cache for the read workload, as every runtime then reads it from memory
    if any(w.key == "read" for w in workloads):
        run_cmd([BW, "read", BIGFILE, "1024"], 60)

    # ---- the interleaved runs
    max_rep = max(w.repeats for w in workloads)
    skipped_for_budget = 0
    nruns = 0
    for rep in range(max_rep):
        for w in workloads:
            if rep >= w.repeats:
                continue
            if rep > 0 and time.perf_counter() - t_start > budget:
                skipped_for_budget += 1
                continue
            order = runtimes[rep % len(runtimes):] + runtimes[:rep % len(runtimes)]
            for rt in order:
                if (w.key, rt.key) in dead:
                    continue
                rid = rt.new_id()
                argv = rt.argv(w.key, w.cmd, rid)
                if w.host_timer:
                    argv = [BW, "time"] + argv
                res = run_cmd(argv, w.timeout, rt.preexec, sample_after_ready=w.idle)
                if res.code != 0 or res.timed_out:
                    rt.cleanup(rid)  # runc/crun: delete a container left behind
                nruns += 1
                ok = res.code == 0 and not res.timed_out and not res.error
                vals = {}
                if ok:
                    for r in w.rows:
                        try:
                            if r.source == "wall":
                                vals[r.key] = res.wall * r.scale
                            elif r.source in ("rss", "pss"):
                                if not res.samples:
                                    raise KeyError("no memory sample")
                                i = 0 if r.source == "rss" else 1
                                vals[r.key] = max(s[i] for s in res.samples) * r.scale
                            else:
                                vals[r.key] = float(res.bw[r.source]) * r.scale
                        except (KeyError, ValueError):
                            ok = False
                if ok:
                    for r in w.rows:
                        c = cells[(r.key, rt.key)]
                        c.values.append(vals[r.key])
                        c.walls.append(res.wall)
                        if res.samples:
                            peak = max(res.samples)
                            c.extra.append(f"procs={peak[2]} memfd_kib={peak[3]}")
                    shown = ", ".join(f"{fmt(vals[r.key])} {r.unit}" for r in w.rows)
                    log(f"[{time.perf_counter() - t_start:6.1f}s] rep {rep + 1} {w.key:8} "
                        f"{rt.label:24} {shown}")
                else:
                    cell, detail = describe_failure(res, w.timeout)
                    log(f"[{time.perf_counter() - t_start:6.1f}s] rep {rep + 1} {w.key:8} "
                        f"{rt.label:24} {cell}: {detail}")
                    for r in w.rows:
                        c = cells[(r.key, rt.key)]
                        c.failures += 1
                        if not c.values:
                            c.fail = cell
                        c.notes.append(f"{cell}" + (f": `{detail}`" if detail else ""))
                    if rep == 0 or not cells[(w.rows[0].key, rt.key)].values:
                        dead.add((w.key, rt.key))

    elapsed = time.perf_counter() - t_start
    loads = (load_before, os.getloadavg(), other_cpu_share(cpu_before, cpu_accounting(), elapsed))
    write_outputs(args, runtimes, workloads, cells, notes, started, elapsed, nruns,
                  skipped_for_budget, loads)


def cpu_accounting():
    """(busy CPU seconds of the whole host, CPU seconds of this harness and of
    every process it has waited for)."""
    busy = 0.0
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal (guest time is in user)
        busy = (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        own += ru.ru_utime + ru.ru_stime
    return busy, own


def other_cpu_share(before, after, elapsed):
    """The share of the machine's CPU time that went to processes other than
    this run's (a build or a test suite in the background), 0..1."""
    other = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, other) / (elapsed * (os.cpu_count() or 1)) if elapsed > 0 else 0.0


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = read_kib("/proc/meminfo", "MemTotal:") or 0
    return f"{cpu}, {os.cpu_count()} CPUs, {mem / 1048576:.0f} GiB, Linux {platform.release()}"


def write_outputs(args, runtimes, workloads, cells, notes, started, elapsed, nruns, skipped,
                  loads):
    os.makedirs(args.out, exist_ok=True)
    rows = [r for w in workloads for r in w.rows]
    native = "native"

    def ratio(row, rt):
        m, n = cells[(row.key, rt.key)].median(), cells[(row.key, native)].median() \
            if (row.key, native) in cells else None
        if m is None or not n:
            return None
        return m / n

    # ---- Markdown
    md = []
    mode = "quick (smoke)" if args.quick else "full"
    md.append(f"# usandbox benchmarks ({mode} run)")
    md.append("")
    md.append(f"- when: {started.strftime('%Y-%m-%d %H:%M UTC')}, {elapsed:.0f} s, {nruns} runs")
    md.append(f"- machine: {machine_info()}")
    other = loads[2]
    md.append(f"- other load: processes outside this run used about {other:.0%} of the machine's "
              f"CPU time while it ran"
              + (" — expect noise: the medians of all runtimes, and ratios near 1.0x, suffer"
                 if other > 0.10 else "")
              + f"; load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in loads[0])}, "
              f"after: {', '.join(f'{x:.2f}' for x in loads[1])}")
    for rt in runtimes:
        bits = [b for b in (rt.version, rt.flags and f"`{rt.flags}`") if b]
        md.append(f"- {rt.label}: " + ("; ".join(bits) if bits else "the host itself")
                  + ("" if rt.ok else f" — cannot run: {rt.reason}"))
    md.append("")
    md.append("Each cell: median, its ratio to native, and ± the largest deviation of a run "
              "from the median (n = runs). Lower is better everywhere. Repeats are interleaved "
              "round-robin across runtimes. See bench/README.md for what each row measures.")
    md.append("")
    head = ["workload"] + [rt.label for rt in runtimes]
    md.append("| " + " | ".join(head) + " |")
    md.append("| " + " | ".join(["---"] + ["---:"] * len(runtimes)) + " |")
    for row in rows:
        line = [f"{row.label} [{row.unit}]"]
        for rt in runtimes:
            c = cells[(row.key, rt.key)]
            m = c.median()
            if m is None:
                line.append(c.fail or "not run")
                continue
            dev = max(abs(v - m) for v in c.values) / m * 100 if m else 0
            txt = f"{fmt(m, row.digits)} {row.unit}"
            if rt.key != native:
                rr = ratio(row, rt)
                if rr is not None:
                    txt += f" ({fmt_ratio(rr)})"
            txt += f" ±{dev:.0f}% n={len(c.values)}"
            if c.failures:
                txt += f", {c.failures} failed"
            line.append(txt)
        md.append("| " + " | ".join(line) + " |")
    md.append("")
    failnotes = []
    for row in rows:
        for rt in runtimes:
            c = cells[(row.key, rt.key)]
            if c.notes and rt.ok:
                failnotes.append(f"- {rt.label}, {row.key}: {c.notes[0]}")
    if failnotes or notes or skipped:
        md.append("Notes:")
        md.append("")
        md.extend(failnotes)
        md.extend(f"- {n}" for n in notes)
        if skipped:
            md.append(f"- the time budget ran out: {skipped} later repeats were not run "
                      "(see n in each cell).")
        md.append("")
    text = "\n".join(md)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)

    # ---- CSV
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "label", "runtime", "unit", "status", "n", "failed", "median",
                    "min", "q1", "q3", "max", "ratio_to_native", "host_wall_median_s",
                    "values", "info", "note"])
        for row in rows:
            for rt in runtimes:
                c = cells[(row.key, rt.key)]
                if c.values:
                    v = c.values
                    w.writerow([row.key, row.label, rt.key, row.unit, "ok", len(v), c.failures,
                                f"{statistics.median(v):.6g}", f"{min(v):.6g}",
                                f"{quantile(v, .25):.6g}", f"{quantile(v, .75):.6g}",
                                f"{max(v):.6g}",
                                "" if ratio(row, rt) is None else f"{ratio(row, rt):.4g}",
                                f"{statistics.median(c.walls):.6g}",
                                ";".join(f"{x:.6g}" for x in v),
                                ";".join(c.extra), "; ".join(c.notes[:1])])
                else:
                    w.writerow([row.key, row.label, rt.key, row.unit, c.fail or "not run", 0,
                                c.failures, "", "", "", "", "", "", "", "", "",
                                "; ".join(c.notes[:1])])

    # ---- chart
    plot(args.out, rows, runtimes, cells, ratio, mode)
    print(text)


def plot(out, rows, runtimes, cells, ratio, mode):
    """A clustered bar chart of the ratios to native (log scale), with gnuplot;
    each bar carries its ratio, and a cell that could not run says so."""
    others = [rt for rt in runtimes if rt.key != "native"]
    n = len(others)
    if n == 0:
        return
    dat = os.path.join(out, "chart.dat")
    lab = os.path.join(out, "chart-labels.dat")
    with open(dat, "w") as f, open(lab, "w") as g:
        f.write("# row " + " ".join(f'"{rt.label}"' for rt in others) + "\n")
        for k, row in enumerate(rows):
            vals = []
            for i, rt in enumerate(others):
                r = ratio(row, rt)
                # a cell that has no ratio gets an empty bar (0.5 is the floor of
                # the axis): gnuplot refuses a histogram column with no point
                vals.append("0.5" if r is None else f"{r:.4g}")
                # where gnuplot puts bar i of cluster k (clustered, gap 1)
                x = k + (i - (n - 1) / 2.0) / (n + 1)
                if r is not None:
                    g.write(f'{x:.4f} {r:.4g} "{fmt_ratio(r)}" {i + 1}\n')
                else:
                    why = (cells[(row.key, rt.key)].fail or "not run").split(":")[0]
                    g.write(f'{x:.4f} 0.55 "{why}" {i + 1}\n')
            f.write(f'"{row.short}" ' + " ".join(vals) + "\n")
    gnuplot = shutil.which("gnuplot")
    png = os.path.join(out, "results.png")
    if not gnuplot:
        log("gnuplot is not installed: no results.png")
        return
    ratios = [ratio(row, rt) for row in rows for rt in others]
    ymax = max([r for r in ratios if r is not None] + [5]) * 3  # room for the labels
    gp = os.path.join(out, "chart.gp")
    with open(gp, "w") as f:
        f.write(f"""set terminal pngcairo size 1400,760 noenhanced font "DejaVu Sans,11"
set output "{png}"
set title "usandbox benchmarks, {mode} run: each runtime's median relative to native (log scale, lower is better)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.5:{ymax:.3g}]
set ylabel "ratio to native (x)"
set grid ytics mytics
set key outside bottom center horizontal
set bmargin 5
set xtics nomirror
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
N = {n}
plot for [i=1:N] "{dat}" using (column(i+1)):xtic(1) lc i notitle, \\
     "{lab}" using 1:2:3:4 with labels rotate by 90 left offset 0,0.3 font ",9" tc variable notitle, \\
""" + ", \\\n".join(f'     keyentry with boxes lc {i + 1} fs solid 0.85 border -1 title "{rt.label}"'
                    for i, rt in enumerate(others)) + """

""")
    res = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if res.returncode != 0:
        # pngcairo may be missing: fall back on the gd png terminal
        with open(gp) as f:
            script = f.read().replace('pngcairo size 1400,760 noenhanced font "DejaVu Sans,11"',
                                      "png size 1400,760 noenhanced")
        with open(gp, "w") as f:
            f.write(script)
        res = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if res.returncode != 0:
        log("gnuplot failed: " + res.stderr.strip())


if __name__ == "__main__":
    main()
