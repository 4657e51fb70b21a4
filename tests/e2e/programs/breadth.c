/* tests/e2e/programs/breadth.c: success and error paths of scheduling, memory-lock, sync/fallocate, splice,
 * socket-batch, execveat and pidfd syscalls, printed deterministically so a native and a sandboxed run compare.
 * Usage: breadth SCRATCH_DIRECTORY (created if missing). Run as root: privileged and dropped paths are tried. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#define NOBODY 65534
#define PIDFD_NONBLOCK O_NONBLOCK
#define PAGE 4096

/* Runs body in a child that has dropped root (uid/gid nobody, so no capabilities); waits for it. */
static void unprivileged(void (*body)(void))
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (syscall(SYS_setresgid, NOBODY, NOBODY, NOBODY) < 0 || syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY) < 0) {
            printf("drop privileges failed\n");
            _exit(1);
        }
        body();
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
}

/* ---- priorities and scheduling ---- */

static pid_t parent_pid;

static void priority_unprivileged(void)
{
    show("unprivileged setpriority raise nice", syscall(SYS_setpriority, PRIO_PROCESS, 0, 10));
    show("unprivileged getpriority", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("unprivileged setpriority lower nice", syscall(SYS_setpriority, PRIO_PROCESS, 0, 5));
    show("unprivileged setpriority other user", syscall(SYS_setpriority, PRIO_PROCESS, parent_pid, 10));
    struct sched_param parameter = {.sched_priority = 10};
    show("unprivileged SCHED_FIFO", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &parameter));
    parameter.sched_priority = 0;
    show("unprivileged SCHED_BATCH", syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &parameter));
    show("unprivileged SCHED_OTHER on other user", syscall(SYS_sched_setscheduler, parent_pid, SCHED_OTHER, &parameter));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    show("unprivileged setaffinity other user", syscall(SYS_sched_setaffinity, parent_pid, sizeof(set), &set));
    show("unprivileged ioprio RT", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 4));
    show("unprivileged ioprio BE", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4));
    show("unprivileged ioprio other user", syscall(SYS_ioprio_set, 1, parent_pid, (2 << 13) | 4));
}

static void test_priorities(void)
{
    struct rlimit zero = {0, 0};
    setrlimit(RLIMIT_NICE, &zero);
    setrlimit(RLIMIT_RTPRIO, &zero);
    show("getpriority self", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("setpriority 5", syscall(SYS_setpriority, PRIO_PROCESS, 0, 5));
    show("getpriority after 5", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("setpriority clamps 100", syscall(SYS_setpriority, PRIO_PROCESS, 0, 100));
    show("getpriority after clamp", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("setpriority privileged lower", syscall(SYS_setpriority, PRIO_PROCESS, 0, -3));
    show("getpriority pgrp", syscall(SYS_getpriority, PRIO_PGRP, 0));
    show("getpriority user", syscall(SYS_getpriority, PRIO_USER, 0) > 0 ? 1 : -1);
    show("getpriority bad which", syscall(SYS_getpriority, 3, 0));
    show("getpriority no such pid", syscall(SYS_getpriority, PRIO_PROCESS, 999999));
    show("setpriority no such pid", syscall(SYS_setpriority, PRIO_PROCESS, 999999, 0));
    show("setpriority no such pgrp", syscall(SYS_setpriority, PRIO_PGRP, 999999, 0));
    show("setpriority 0", syscall(SYS_setpriority, PRIO_PROCESS, 0, 0));

    for (int policy = 0; policy <= 6; policy++)  /* 7 is SCHED_EXT since Linux 6.12 */ {
        char name[64];
        snprintf(name, sizeof(name), "priority max %d", policy);
        show(name, syscall(SYS_sched_get_priority_max, policy));
        snprintf(name, sizeof(name), "priority min %d", policy);
        show(name, syscall(SYS_sched_get_priority_min, policy));
    }
    struct sched_param parameter = {0};
    show("getscheduler", syscall(SYS_sched_getscheduler, 0));
    show("getscheduler -1", syscall(SYS_sched_getscheduler, -1));
    show("getscheduler no such pid", syscall(SYS_sched_getscheduler, 999999));
    show("getparam", syscall(SYS_sched_getparam, 0, &parameter));
    printf("param %d\n", parameter.sched_priority);
    show("getparam NULL", syscall(SYS_sched_getparam, 0, NULL));
    show("getparam bad pointer", syscall(SYS_sched_getparam, 0, (void *)16));
    show("setscheduler BATCH", syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &parameter));
    show("getscheduler BATCH", syscall(SYS_sched_getscheduler, 0));
    show("setscheduler IDLE", syscall(SYS_sched_setscheduler, 0, SCHED_IDLE, &parameter));
    show("getscheduler IDLE", syscall(SYS_sched_getscheduler, 0));
    parameter.sched_priority = 1;
    show("setscheduler OTHER prio 1", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &parameter));
    parameter.sched_priority = 0;
    show("setscheduler FIFO prio 0", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &parameter));
    parameter.sched_priority = 100;
    show("setscheduler FIFO prio 100", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &parameter));
    parameter.sched_priority = -1;
    show("setscheduler RR prio -1", syscall(SYS_sched_setscheduler, 0, SCHED_RR, &parameter));
    parameter.sched_priority = 0;
    show("setscheduler policy 42", syscall(SYS_sched_setscheduler, 0, 42, &parameter));
    show("setscheduler policy -1", syscall(SYS_sched_setscheduler, 0, -1, &parameter));
    show("setscheduler DEADLINE", syscall(SYS_sched_setscheduler, 0, 6, &parameter));
    show("setscheduler NULL", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
    show("setscheduler bad pointer", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)16));
    show("setscheduler no such pid", syscall(SYS_sched_setscheduler, 999999, SCHED_OTHER, &parameter));
    show("setscheduler OTHER|RESET_ON_FORK", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER | SCHED_RESET_ON_FORK, &parameter));
    show("getscheduler RESET_ON_FORK", syscall(SYS_sched_getscheduler, 0));
    show("setscheduler OTHER", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &parameter));
    show("setparam 0", syscall(SYS_sched_setparam, 0, &parameter));
    parameter.sched_priority = 5;
    show("setparam 5 on OTHER", syscall(SYS_sched_setparam, 0, &parameter));
    show("setparam NULL", syscall(SYS_sched_setparam, 0, NULL));
    struct timespec interval;
    show("rr_get_interval", syscall(SYS_sched_rr_get_interval, 0, &interval) >= 0 ? 0 : -1);
    show("rr_get_interval -1", syscall(SYS_sched_rr_get_interval, -1, &interval));
    show("rr_get_interval no such pid", syscall(SYS_sched_rr_get_interval, 999999, &interval));
    show("rr_get_interval bad pointer", syscall(SYS_sched_rr_get_interval, 0, (void *)16));

    /* A real-time policy as root, in a child so the test itself stays SCHED_OTHER. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        parameter.sched_priority = 10;
        show("child setscheduler RR 10", syscall(SYS_sched_setscheduler, 0, SCHED_RR, &parameter));
        show("child getscheduler RR", syscall(SYS_sched_getscheduler, 0));
        show("child rr_get_interval RR", syscall(SYS_sched_rr_get_interval, 0, &interval));
        printf("child RR interval %ld.%09ld\n", (long)interval.tv_sec, interval.tv_nsec);
        memset(&parameter, 0, sizeof(parameter));
        show("child getparam RR", syscall(SYS_sched_getparam, 0, &parameter));
        printf("child RR param %d\n", parameter.sched_priority);
        parameter.sched_priority = 20;
        show("child setparam 20", syscall(SYS_sched_setparam, 0, &parameter));
        parameter.sched_priority = 0;
        show("child setparam 0 on RR", syscall(SYS_sched_setparam, 0, &parameter));
        show("child back to OTHER", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &parameter));
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, NULL, 0);

    /* sched_getattr / sched_setattr (struct sched_attr, 56 bytes in Linux 5.3+). */
    uint32_t attr[14];
    memset(attr, 0, sizeof(attr));
    show("getattr", syscall(SYS_sched_getattr, 0, attr, sizeof(attr), 0));
    printf("attr size %u policy %u nice %d\n", attr[0], attr[1], (int)attr[4]);
    show("getattr small size", syscall(SYS_sched_getattr, 0, attr, 40, 0));
    show("getattr flags", syscall(SYS_sched_getattr, 0, attr, sizeof(attr), 1));
    memset(attr, 0, sizeof(attr));
    attr[0] = 48;
    attr[1] = SCHED_BATCH;
    attr[4] = 3;  /* nice */
    show("setattr BATCH nice 3", syscall(SYS_sched_setattr, 0, attr, 0));
    show("getpriority after setattr", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("getscheduler after setattr", syscall(SYS_sched_getscheduler, 0));
    attr[0] = 8;
    show("setattr size 8", syscall(SYS_sched_setattr, 0, attr, 0));
    printf("setattr size written back %u\n", attr[0]);
    attr[0] = 48;
    attr[1] = SCHED_OTHER;
    attr[4] = 0;
    show("setattr flags arg", syscall(SYS_sched_setattr, 0, attr, 1));
    show("setattr OTHER", syscall(SYS_sched_setattr, 0, attr, 0));

    /* Affinity. */
    cpu_set_t set, saved;
    /* Its value is the kernel's cpumask_size(), which depends on the host's configuration. */
    long size = show_ok("getaffinity", syscall(SYS_sched_getaffinity, 0, sizeof(saved), &saved));
    int cpus = CPU_COUNT(&saved);
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    show("setaffinity cpu 0", syscall(SYS_sched_setaffinity, 0, sizeof(set), &set));
    CPU_ZERO(&set);
    syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
    printf("affinity now %d cpus, cpu0 %d\n", CPU_COUNT(&set), CPU_ISSET(0, &set));
    CPU_ZERO(&set);
    CPU_SET(1000, &set);
    show("setaffinity no allowed cpu", syscall(SYS_sched_setaffinity, 0, sizeof(set), &set));
    show("setaffinity length 0", syscall(SYS_sched_setaffinity, 0, 0, &set));
    show("setaffinity bad pointer", syscall(SYS_sched_setaffinity, 0, sizeof(set), (void *)16));
    show("setaffinity no such pid", syscall(SYS_sched_setaffinity, 999999, sizeof(saved), &saved));
    show("getaffinity length 1", syscall(SYS_sched_getaffinity, 0, 1, &set));
    show("getaffinity length 12", syscall(SYS_sched_getaffinity, 0, 12, &set));
    show("setaffinity restore", syscall(SYS_sched_setaffinity, 0, sizeof(saved), &saved));
    CPU_ZERO(&set);
    syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
    printf("affinity restored %d\n", CPU_COUNT(&set) == cpus && size > 0);

    /* I/O priorities. */
    show("ioprio_set BE 3", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3));
    show("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
    show("ioprio_set RT 1", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 1));
    show("ioprio_get RT", syscall(SYS_ioprio_get, 1, 0));
    show("ioprio_set IDLE", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
    show("ioprio_get IDLE", syscall(SYS_ioprio_get, 1, 0));
    show("ioprio_set NONE", syscall(SYS_ioprio_set, 1, 0, 0));
    show("ioprio_get NONE", syscall(SYS_ioprio_get, 1, 0));
    show("ioprio_set NONE with data", syscall(SYS_ioprio_set, 1, 0, 1));
    show("ioprio_set class 4", syscall(SYS_ioprio_set, 1, 0, 4 << 13));
    show("ioprio_set bad which", syscall(SYS_ioprio_set, 4, 0, 0));
    show("ioprio_get bad which", syscall(SYS_ioprio_get, 0, 0));
    show("ioprio_set no such pid", syscall(SYS_ioprio_set, 1, 999999, 0));
    show("ioprio_get no such pid", syscall(SYS_ioprio_get, 1, 999999));
    /* A process group of its own: what the group's other members (a shell, timeout) use is not ours. */
    fflush(stdout);
    pid_t grouped = fork();
    if (grouped == 0) {
        setpgid(0, 0);
        show("ioprio_get own pgrp", syscall(SYS_ioprio_get, 2, 0));
        show("ioprio_set own pgrp BE 2", syscall(SYS_ioprio_set, 2, 0, (2 << 13) | 2));
        show("ioprio_get own pgrp after", syscall(SYS_ioprio_get, 2, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(grouped, NULL, 0);

    parent_pid = getpid();
    unprivileged(priority_unprivileged);
    show("getpriority after children", syscall(SYS_getpriority, PRIO_PROCESS, 0));
}

/* ---- personality, membarrier, restart_syscall ---- */

static void test_misc(void)
{
    show("personality query", syscall(SYS_personality, 0xffffffff));
    show("personality ADDR_NO_RANDOMIZE", syscall(SYS_personality, 0x0040000));
    show("personality query again", syscall(SYS_personality, 0xffffffff));
    show("personality back to Linux", syscall(SYS_personality, 0));
    show("personality query last", syscall(SYS_personality, 0xffffffff));
    show_ok("membarrier query", syscall(SYS_membarrier, 0, 0, 0));
    show("membarrier query flags", syscall(SYS_membarrier, 0, 1, 0));
    show("membarrier command 3", syscall(SYS_membarrier, 3, 0, 0));
    show("restart_syscall", syscall(SYS_restart_syscall));
    /* A sleep that ran its course leaves nothing for restart_syscall to resume. */
    struct timespec short_sleep = {0, 1000000};
    show("nanosleep 1 ms", syscall(SYS_nanosleep, &short_sleep, NULL));
    show("restart_syscall after a finished sleep", syscall(SYS_restart_syscall));
}

/* ---- memory locks ---- */

static void lock_unprivileged(void)
{
    struct rlimit limit;
    getrlimit(RLIMIT_MEMLOCK, &limit);
    printf("memlock limit %lu\n", (unsigned long)limit.rlim_cur);
    char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("unprivileged mlock 1 page", syscall(SYS_mlock, area, PAGE));
    show("unprivileged mlock same page again", syscall(SYS_mlock, area, PAGE));
    show("unprivileged mlock 4 pages", syscall(SYS_mlock, area, 4 * PAGE));
    show("unprivileged mlock2 2 pages", syscall(SYS_mlock2, area, 2 * PAGE, 0));
    show("unprivileged mlockall current", syscall(SYS_mlockall, MCL_CURRENT));
    show("unprivileged mlockall future", syscall(SYS_mlockall, MCL_FUTURE));
    void *locked = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("unprivileged mmap under MCL_FUTURE over limit: %s\n", locked == MAP_FAILED ? error_name(errno) : "mapped");
    show("unprivileged munlockall", syscall(SYS_munlockall));
    locked = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    printf("unprivileged mmap MAP_LOCKED over limit: %s\n", locked == MAP_FAILED ? error_name(errno) : "mapped");
    limit.rlim_cur = 0;
    setrlimit(RLIMIT_MEMLOCK, &limit);
    show("unprivileged mlock with zero limit", syscall(SYS_mlock, area, PAGE));
    show("unprivileged mlockall with zero limit", syscall(SYS_mlockall, MCL_CURRENT));
    locked = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    printf("unprivileged mmap MAP_LOCKED zero limit: %s\n", locked == MAP_FAILED ? error_name(errno) : "mapped");
    show("unprivileged munlock", syscall(SYS_munlock, area, 4 * PAGE));
}

static void test_memory_locks(void)
{
    char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area + 2 * PAGE, PAGE);  /* a hole at the third page */
    area[0] = 1;
    show("mlock first page", syscall(SYS_mlock, area, PAGE));
    show("mlock unaligned within", syscall(SYS_mlock, area + 100, 10));
    show("mlock zero length", syscall(SYS_mlock, area, 0));
    show("mlock over the hole", syscall(SYS_mlock, area, 4 * PAGE));
    show("mlock unmapped", syscall(SYS_mlock, area + 2 * PAGE, PAGE));
    show("mlock wrapping", syscall(SYS_mlock, area, -PAGE));
    show("madvise DONTNEED locked", syscall(SYS_madvise, area, PAGE, MADV_DONTNEED));
    show("munlock first page", syscall(SYS_munlock, area, PAGE));
    show("madvise DONTNEED unlocked", syscall(SYS_madvise, area, PAGE, MADV_DONTNEED));
    show("munlock over the hole", syscall(SYS_munlock, area, 4 * PAGE));
    show("mlock2 ONFAULT", syscall(SYS_mlock2, area, 2 * PAGE, MLOCK_ONFAULT));
    show("mlock2 bad flags", syscall(SYS_mlock2, area, PAGE, 2));
    show("mlock2 bad flags unmapped", syscall(SYS_mlock2, area + 2 * PAGE, PAGE, 2));
    show("munlock all", syscall(SYS_munlock, area, 2 * PAGE));
    show("mlockall 0", syscall(SYS_mlockall, 0));
    show("mlockall ONFAULT alone", syscall(SYS_mlockall, MCL_ONFAULT));
    show("mlockall bad flag", syscall(SYS_mlockall, 8 | MCL_CURRENT));
    show("mlockall future", syscall(SYS_mlockall, MCL_FUTURE));
    char *later = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("madvise DONTNEED on future-locked", syscall(SYS_madvise, later, PAGE, MADV_DONTNEED));
    show("munlockall", syscall(SYS_munlockall));
    show("madvise DONTNEED after munlockall", syscall(SYS_madvise, later, PAGE, MADV_DONTNEED));
    char *mapped_locked = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    show("madvise DONTNEED on MAP_LOCKED", syscall(SYS_madvise, mapped_locked, PAGE, MADV_DONTNEED));
    show("munlock MAP_LOCKED", syscall(SYS_munlock, mapped_locked, PAGE));
    munmap(later, PAGE);
    munmap(mapped_locked, PAGE);

    struct rlimit limit = {2 * PAGE, 2 * PAGE};
    setrlimit(RLIMIT_MEMLOCK, &limit);
    unprivileged(lock_unprivileged);
    munmap(area, 4 * PAGE);
}

/* ---- sync, fallocate, readahead ---- */

static void test_storage(const char *scratch)
{
    int memory = (int)syscall(SYS_memfd_create, "breadth", 0);
    int pipe_ends[2];
    pipe(pipe_ends);
    char path[4096];
    snprintf(path, sizeof(path), "%s/plain", scratch);
    int plain = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(plain, "plain data", 10);
    int read_only = open(path, O_RDONLY);
    int directory = open(scratch, O_RDONLY | O_DIRECTORY);
    int path_only = open(path, O_PATH);
    int null_device = open("/dev/null", O_WRONLY);
    int socket_pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, socket_pair);

    sync();
    printf("sync: done\n");
    show("syncfs", syscall(SYS_syncfs, plain));
    show("syncfs pipe", syscall(SYS_syncfs, pipe_ends[0]));
    show("syncfs bad fd", syscall(SYS_syncfs, -1));
    show("syncfs O_PATH", syscall(SYS_syncfs, path_only));
    show("sync_file_range none", syscall(SYS_sync_file_range, plain, 0, 0, 0));
    show("sync_file_range write", syscall(SYS_sync_file_range, plain, 0, 4096, SYNC_FILE_RANGE_WRITE));
    show("sync_file_range all flags", syscall(SYS_sync_file_range, plain, 0, 0, 7));
    show("sync_file_range bad flags", syscall(SYS_sync_file_range, plain, 0, 0, 8));
    show("sync_file_range negative offset", syscall(SYS_sync_file_range, plain, -1, 0, 0));
    show("sync_file_range negative length", syscall(SYS_sync_file_range, plain, 0, -1, 0));
    show("sync_file_range wraps", syscall(SYS_sync_file_range, plain, INT64_MAX, 2, 0));
    show("sync_file_range pipe", syscall(SYS_sync_file_range, pipe_ends[0], 0, 0, 0));
    show("sync_file_range directory", syscall(SYS_sync_file_range, directory, 0, 0, 0));
    show("sync_file_range bad fd", syscall(SYS_sync_file_range, -1, 0, 0, 8));
    show("sync_file_range read-only", syscall(SYS_sync_file_range, read_only, 0, 0, 2));

    struct stat status;
    show("fallocate 0..10000", syscall(SYS_fallocate, memory, 0, 0, 10000));
    fstat(memory, &status);
    printf("size %ld\n", (long)status.st_size);
    show("fallocate inside", syscall(SYS_fallocate, memory, 0, 100, 100));
    fstat(memory, &status);
    printf("size %ld\n", (long)status.st_size);
    show("fallocate KEEP_SIZE beyond", syscall(SYS_fallocate, memory, FALLOC_FL_KEEP_SIZE, 9000, 5000));
    fstat(memory, &status);
    printf("size %ld\n", (long)status.st_size);
    pwrite(memory, "abcdefghij", 10, 0);
    show("fallocate PUNCH_HOLE", syscall(SYS_fallocate, memory, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3));
    char buffer[16] = {0};
    pread(memory, buffer, 10, 0);
    for (int i = 0; i < 10; i++)
        putchar(buffer[i] ? buffer[i] : '.');
    putchar('\n');
    fstat(memory, &status);
    printf("size %ld\n", (long)status.st_size);
    show("fallocate PUNCH_HOLE without KEEP_SIZE", syscall(SYS_fallocate, memory, FALLOC_FL_PUNCH_HOLE, 0, 1));
    show("fallocate ZERO_RANGE", syscall(SYS_fallocate, memory, FALLOC_FL_ZERO_RANGE, 0, 1));
    show("fallocate PUNCH|ZERO", syscall(SYS_fallocate, memory, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 1));
    show("fallocate COLLAPSE", syscall(SYS_fallocate, memory, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
    show("fallocate COLLAPSE|KEEP", syscall(SYS_fallocate, memory, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    show("fallocate INSERT", syscall(SYS_fallocate, memory, FALLOC_FL_INSERT_RANGE, 0, 4096));
    show("fallocate unknown mode", syscall(SYS_fallocate, memory, 0x100, 0, 1));
    show("fallocate zero length", syscall(SYS_fallocate, memory, 0, 0, 0));
    show("fallocate negative offset", syscall(SYS_fallocate, memory, 0, -1, 1));
    show("fallocate too big", syscall(SYS_fallocate, memory, 0, INT64_MAX, 2));
    show("fallocate read-only", syscall(SYS_fallocate, read_only, 0, 0, 1));
    show("fallocate pipe write end", syscall(SYS_fallocate, pipe_ends[1], 0, 0, 1));
    show("fallocate pipe read end", syscall(SYS_fallocate, pipe_ends[0], 0, 0, 1));
    show("fallocate directory", syscall(SYS_fallocate, directory, 0, 0, 1));
    show("fallocate /dev/null", syscall(SYS_fallocate, null_device, 0, 0, 1));
    show("fallocate socket", syscall(SYS_fallocate, socket_pair[0], 0, 0, 1));
    show("fallocate O_PATH", syscall(SYS_fallocate, path_only, 0, 0, 1));
    show("fallocate bad fd", syscall(SYS_fallocate, -1, 0, 0, 1));

    show("readahead", syscall(SYS_readahead, memory, 0, 4096));
    show("readahead plain", syscall(SYS_readahead, read_only, 0, 4096));
    show("readahead huge count", syscall(SYS_readahead, memory, 0, (size_t)-1));
    show("readahead pipe", syscall(SYS_readahead, pipe_ends[0], 0, 10));
    show("readahead write-only", syscall(SYS_readahead, null_device, 0, 10));
    show("readahead directory", syscall(SYS_readahead, directory, 0, 10));
    show("readahead bad fd", syscall(SYS_readahead, -1, 0, 10));
    close(memory);
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    close(plain);
    close(read_only);
    close(directory);
    close(path_only);
    close(null_device);
    close(socket_pair[0]);
    close(socket_pair[1]);
}

/* ---- splice, tee, vmsplice, copy_file_range ---- */

static void print_pipe(const char *name, int fd)
{
    char buffer[256];
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    ssize_t got = read(fd, buffer, sizeof(buffer) - 1);
    fcntl(fd, F_SETFL, flags);
    if (got < 0)
        printf("%s: read %s\n", name, error_name(errno));
    else
        printf("%s: \"%.*s\"\n", name, (int)got, buffer);
}

static void test_splice(const char *scratch)
{
    int first[2], second[2];
    pipe(first);
    pipe(second);
    int memory = (int)syscall(SYS_memfd_create, "splice", 0);
    int other = (int)syscall(SYS_memfd_create, "other", 0);
    write(first[1], "hello world, spliced", 20);
    loff_t offset = 100;
    show("splice pipe to file", syscall(SYS_splice, first[0], NULL, memory, NULL, 5, 0));
    printf("file position %ld\n", (long)lseek(memory, 0, SEEK_CUR));
    show("splice pipe to file at offset", syscall(SYS_splice, first[0], NULL, memory, &offset, 6, 0));
    printf("offset now %ld, position %ld\n", (long)offset, (long)lseek(memory, 0, SEEK_CUR));
    offset = 0;
    show("splice file to pipe at offset", syscall(SYS_splice, memory, &offset, second[1], NULL, 4, SPLICE_F_MOVE));
    printf("offset now %ld\n", (long)offset);
    print_pipe("second pipe", second[0]);
    lseek(memory, 0, SEEK_SET);
    show("splice file to pipe at position", syscall(SYS_splice, memory, NULL, second[1], NULL, 1000, 0));
    printf("file position %ld\n", (long)lseek(memory, 0, SEEK_CUR));
    print_pipe("second pipe", second[0]);
    show("splice file at EOF", syscall(SYS_splice, memory, NULL, second[1], NULL, 10, 0));
    show("splice pipe to pipe", syscall(SYS_splice, first[0], NULL, second[1], NULL, 4, SPLICE_F_MORE));
    print_pipe("second pipe", second[0]);
    print_pipe("first pipe rest", first[0]);
    show("splice zero length bad fds", syscall(SYS_splice, -1, NULL, -1, NULL, 0, 0));
    show("splice bad flags", syscall(SYS_splice, first[0], NULL, second[1], NULL, 1, 0x10));
    show("splice bad fd in", syscall(SYS_splice, -1, NULL, second[1], NULL, 1, 0));
    show("splice bad fd out", syscall(SYS_splice, first[0], NULL, -1, NULL, 1, 0));
    show("splice offset on pipe", syscall(SYS_splice, first[0], &offset, memory, NULL, 1, 0));
    show("splice offset on pipe out", syscall(SYS_splice, memory, NULL, second[1], &offset, 1, 0));
    show("splice same pipe", syscall(SYS_splice, first[0], NULL, first[1], NULL, 1, 0));
    show("splice no pipe", syscall(SYS_splice, memory, NULL, other, NULL, 1, 0));
    show("splice from write end", syscall(SYS_splice, first[1], NULL, memory, NULL, 1, 0));
    show("splice to read end", syscall(SYS_splice, memory, NULL, first[0], NULL, 1, 0));
    show("splice bad offset pointer", syscall(SYS_splice, memory, (void *)16, second[1], NULL, 1, 0));
    offset = -1;
    show("splice negative offset", syscall(SYS_splice, memory, &offset, second[1], NULL, 1, 0));
    show("splice empty pipe nonblock", syscall(SYS_splice, first[0], NULL, memory, NULL, 10, SPLICE_F_NONBLOCK));
    char path[4096];
    snprintf(path, sizeof(path), "%s/appended", scratch);
    int appended = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    write(first[1], "x", 1);
    show("splice to O_APPEND", syscall(SYS_splice, first[0], NULL, appended, NULL, 1, 0));
    close(appended);
    close(first[1]);
    show("splice pipe at EOF", syscall(SYS_splice, first[0], NULL, memory, NULL, 10, 0));
    signal(SIGPIPE, SIG_IGN);
    close(second[0]);
    show("splice to pipe without readers", syscall(SYS_splice, memory, &(loff_t){0}, second[1], NULL, 1, 0));
    close(first[0]);
    close(second[1]);

    /* tee */
    pipe(first);
    pipe(second);
    write(first[1], "tee data", 8);
    show("tee", syscall(SYS_tee, first[0], second[1], 100, 0));
    print_pipe("tee copy", second[0]);
    print_pipe("tee source still", first[0]);
    show("tee empty nonblock", syscall(SYS_tee, first[0], second[1], 100, SPLICE_F_NONBLOCK));
    show("tee bad flags", syscall(SYS_tee, first[0], second[1], 100, 0x10));
    show("tee zero length", syscall(SYS_tee, -1, -1, 0, 0));
    show("tee same pipe", syscall(SYS_tee, first[0], first[1], 1, 0));
    show("tee not pipes", syscall(SYS_tee, memory, second[1], 1, 0));
    show("tee wrong ends", syscall(SYS_tee, first[1], second[0], 1, 0));
    show("tee bad fd", syscall(SYS_tee, -1, second[1], 1, 0));
    close(first[1]);
    show("tee at EOF", syscall(SYS_tee, first[0], second[1], 1, 0));
    close(first[0]);

    /* vmsplice */
    struct iovec pieces[2] = {{"vm", 2}, {"splice", 6}};
    show("vmsplice to pipe", syscall(SYS_vmsplice, second[1], pieces, 2, 0));
    char out_buffer[5] = {0};
    struct iovec out = {out_buffer, 4};
    show("vmsplice from pipe", syscall(SYS_vmsplice, second[0], &out, 1, 0));
    printf("vmsplice read \"%.4s\"\n", out_buffer);
    print_pipe("vmsplice rest", second[0]);
    show("vmsplice no segments", syscall(SYS_vmsplice, second[1], pieces, 0, 0));
    show("vmsplice too many segments", syscall(SYS_vmsplice, second[1], pieces, 1025, 0));
    show("vmsplice bad flags", syscall(SYS_vmsplice, second[1], pieces, 1, 0x10));
    show("vmsplice not a pipe", syscall(SYS_vmsplice, memory, pieces, 1, 0));
    show("vmsplice bad fd", syscall(SYS_vmsplice, -1, pieces, 1, 0));
    show("vmsplice bad iovec", syscall(SYS_vmsplice, second[1], (void *)16, 1, 0));
    show("vmsplice empty nonblock", syscall(SYS_vmsplice, second[0], &out, 1, SPLICE_F_NONBLOCK));
    close(second[0]);
    close(second[1]);

    /* sendfile: into a pipe from a file; into a file only from a regular file. */
    pipe(first);
    pwrite(memory, "sendfile", 8, 0);
    offset = 4;
    show("sendfile file to pipe", syscall(SYS_sendfile, first[1], memory, &offset, 4));
    printf("offset now %ld\n", (long)offset);
    print_pipe("sendfile pipe", first[0]);
    write(first[1], "data", 4);
    show("sendfile pipe to file", syscall(SYS_sendfile, other, first[0], NULL, 4));
    int sendfile_directory = open(scratch, O_RDONLY | O_DIRECTORY);
    show("sendfile directory to file", syscall(SYS_sendfile, other, sendfile_directory, NULL, 4));
    close(sendfile_directory);
    close(first[0]);
    close(first[1]);

    /* copy_file_range */
    ftruncate(memory, 0);
    pwrite(memory, "0123456789", 10, 0);
    loff_t in_offset = 2, out_offset = 0;
    show("copy_file_range with offsets", syscall(SYS_copy_file_range, memory, &in_offset, other, &out_offset, 5, 0));
    printf("offsets %ld %ld\n", (long)in_offset, (long)out_offset);
    lseek(memory, 7, SEEK_SET);
    show("copy_file_range at positions", syscall(SYS_copy_file_range, memory, NULL, other, NULL, 100, 0));
    printf("positions %ld %ld\n", (long)lseek(memory, 0, SEEK_CUR), (long)lseek(other, 0, SEEK_CUR));
    char copied[16] = {0};
    pread(other, copied, 15, 0);
    printf("copied \"%s\"\n", copied);
    show("copy_file_range at EOF", syscall(SYS_copy_file_range, memory, NULL, other, NULL, 100, 0));
    in_offset = 0;
    out_offset = 2;
    show("copy_file_range overlapping", syscall(SYS_copy_file_range, memory, &in_offset, memory, &out_offset, 5, 0));
    out_offset = 20;
    show("copy_file_range same file apart", syscall(SYS_copy_file_range, memory, &in_offset, memory, &out_offset, 5, 0));
    show("copy_file_range flags", syscall(SYS_copy_file_range, memory, &in_offset, other, NULL, 5, 1));
    pipe(first);
    show("copy_file_range from pipe", syscall(SYS_copy_file_range, first[0], NULL, other, NULL, 5, 0));
    int directory = open(scratch, O_RDONLY | O_DIRECTORY);
    show("copy_file_range from directory", syscall(SYS_copy_file_range, directory, NULL, other, NULL, 5, 0));
    snprintf(path, sizeof(path), "%s/appended", scratch);
    appended = open(path, O_WRONLY | O_APPEND);
    int plain = open(path, O_RDWR);
    show("copy_file_range to O_APPEND", syscall(SYS_copy_file_range, plain, NULL, appended, NULL, 5, 0));
    int read_only = open(path, O_RDONLY);
    show("copy_file_range to read-only", syscall(SYS_copy_file_range, memory, NULL, read_only, NULL, 5, 0));
    int proc_status = open("/proc/self/status", O_RDONLY);
    show("copy_file_range across file systems", syscall(SYS_copy_file_range, proc_status, NULL, other, NULL, 5, 0));
    show("copy_file_range bad fd", syscall(SYS_copy_file_range, -1, NULL, other, NULL, 5, 0));
    show("copy_file_range bad offset pointer", syscall(SYS_copy_file_range, memory, (void *)16, other, NULL, 5, 0));
    in_offset = -1;
    show("copy_file_range negative offset", syscall(SYS_copy_file_range, memory, &in_offset, other, NULL, 5, 0));
    close(first[0]);
    close(first[1]);
    close(directory);
    close(appended);
    close(plain);
    close(read_only);
    close(proc_status);
    close(memory);
    close(other);
}

/* ---- sendmmsg, recvmmsg, MSG_WAITALL ---- */

static void test_message_batches(void)
{
    int datagram[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, datagram);
    char payloads[3][16] = {"one", "two22", "three333"};
    struct iovec sent_iov[3];
    struct mmsghdr messages[4];
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < 3; i++) {
        sent_iov[i] = (struct iovec){payloads[i], strlen(payloads[i])};
        messages[i].msg_hdr.msg_iov = &sent_iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    show("sendmmsg 3", syscall(SYS_sendmmsg, datagram[0], messages, 3, 0));
    printf("lengths %u %u %u\n", messages[0].msg_len, messages[1].msg_len, messages[2].msg_len);
    show("sendmmsg 0", syscall(SYS_sendmmsg, datagram[0], messages, 0, 0));
    show("sendmmsg bad fd", syscall(SYS_sendmmsg, -1, messages, 1, 0));
    show("sendmmsg bad vector", syscall(SYS_sendmmsg, datagram[0], (void *)16, 1, 0));
    show("sendmmsg bad flags", syscall(SYS_sendmmsg, datagram[0], messages, 1, MSG_OOB));

    char received[4][16];
    struct iovec received_iov[4];
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < 4; i++) {
        memset(received[i], 0, sizeof(received[i]));
        received_iov[i] = (struct iovec){received[i], sizeof(received[i]) - 1};
        messages[i].msg_hdr.msg_iov = &received_iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    struct timespec timeout = {5, 0};
    show("recvmmsg 4 nonblocking", syscall(SYS_recvmmsg, datagram[1], messages, 4, MSG_DONTWAIT, &timeout));
    printf("received %s(%u) %s(%u) %s(%u)\n", received[0], messages[0].msg_len, received[1], messages[1].msg_len,
           received[2], messages[2].msg_len);
    printf("timeout left %d\n", timeout.tv_sec >= 4 && timeout.tv_sec <= 5);
    show("recvmmsg empty nonblocking", syscall(SYS_recvmmsg, datagram[1], messages, 4, MSG_DONTWAIT, NULL));
    timeout.tv_nsec = 2000000000;
    show("recvmmsg bad timeout", syscall(SYS_recvmmsg, datagram[1], messages, 4, 0, &timeout));
    show("recvmmsg bad timeout pointer", syscall(SYS_recvmmsg, datagram[1], messages, 4, 0, (void *)16));
    show("recvmmsg zero count", syscall(SYS_recvmmsg, datagram[1], messages, 0, 0, NULL));
    show("recvmmsg bad fd", syscall(SYS_recvmmsg, -1, messages, 1, 0, NULL));
    int pipe_ends[2];
    pipe(pipe_ends);
    show("recvmmsg not a socket", syscall(SYS_recvmmsg, pipe_ends[0], messages, 1, 0, NULL));
    show("sendmmsg not a socket", syscall(SYS_sendmmsg, pipe_ends[1], messages, 1, 0));
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < 2; i++) {
        messages[i].msg_hdr.msg_iov = &sent_iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    syscall(SYS_sendmmsg, datagram[0], messages, 2, 0);
    for (int i = 0; i < 4; i++) {
        messages[i].msg_hdr.msg_iov = &received_iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    show("recvmmsg WAITFORONE", syscall(SYS_recvmmsg, datagram[1], messages, 4, MSG_WAITFORONE, NULL));

    /* A blocking recvmmsg: the second message comes later from a child. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct timespec pause = {0, 50 * 1000 * 1000};
        send(datagram[0], "first", 5, 0);
        nanosleep(&pause, NULL);
        send(datagram[0], "second", 6, 0);
        _exit(0);
    }
    show("recvmmsg blocking 2", syscall(SYS_recvmmsg, datagram[1], messages, 2, 0, NULL));
    printf("blocking got %.*s %.*s\n", (int)messages[0].msg_len, received[0], (int)messages[1].msg_len, received[1]);
    waitpid(child, NULL, 0);
    close(datagram[0]);
    close(datagram[1]);

    /* MSG_WAITALL on a stream: the data comes in three pieces. */
    int stream[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, stream);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct timespec pause = {0, 30 * 1000 * 1000};
        write(stream[0], "abc", 3);
        nanosleep(&pause, NULL);
        write(stream[0], "defg", 4);
        nanosleep(&pause, NULL);
        write(stream[0], "hij", 3);
        nanosleep(&pause, NULL);
        write(stream[0], "tail", 4);
        close(stream[0]);
        _exit(0);
    }
    close(stream[0]);
    char whole[32] = {0};
    show("recv WAITALL 10", recv(stream[1], whole, 10, MSG_WAITALL));
    printf("whole \"%s\"\n", whole);
    memset(whole, 0, sizeof(whole));
    show("recv WAITALL past end", recv(stream[1], whole, 20, MSG_WAITALL));
    printf("rest \"%s\"\n", whole);
    waitpid(child, NULL, 0);
    close(stream[1]);
}

/* ---- execveat ---- */

static int run_execveat(int dirfd, const char *path, int flags)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {"true", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, dirfd, path, argv, envp, flags);
        _exit(100 + (errno & 0x3f));
    }
    int status;
    waitpid(child, &status, 0);
    int code = WEXITSTATUS(status);
    return code >= 100 ? -(code - 100) : code;
}

static void show_exec(const char *name, int result)
{
    if (result < 0)
        printf("%s: %s\n", name, error_name(-result));
    else
        printf("%s: exit %d\n", name, result);
}

static void test_execveat(const char *scratch)
{
    int binaries = open("/bin", O_RDONLY | O_DIRECTORY);
    int true_path = open("/bin/true", O_PATH);
    int true_file = open("/bin/true", O_RDONLY);
    char link_path[4096];
    snprintf(link_path, sizeof(link_path), "%s/true-link", scratch);
    unlink(link_path);
    symlink("/bin/true", link_path);
    int scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY);
    show_exec("execveat relative to dirfd", run_execveat(binaries, "true", 0));
    show_exec("execveat absolute ignores dirfd", run_execveat(-1, "/bin/true", 0));
    show_exec("execveat AT_FDCWD", run_execveat(AT_FDCWD, "/bin/true", 0));
    show_exec("execveat O_PATH fd AT_EMPTY_PATH", run_execveat(true_path, "", AT_EMPTY_PATH));
    show_exec("execveat fd AT_EMPTY_PATH", run_execveat(true_file, "", AT_EMPTY_PATH));
    show_exec("execveat empty path without flag", run_execveat(true_file, "", 0));
    show_exec("execveat symlink followed", run_execveat(scratch_fd, "true-link", 0));
    show_exec("execveat symlink NOFOLLOW", run_execveat(scratch_fd, "true-link", AT_SYMLINK_NOFOLLOW));
    show_exec("execveat bad flags", run_execveat(binaries, "true", 0x1));
    show_exec("execveat bad dirfd", run_execveat(-1, "true", 0));
    show_exec("execveat dirfd not a directory", run_execveat(true_file, "true", 0));
    show_exec("execveat directory", run_execveat(binaries, "", AT_EMPTY_PATH));
    show_exec("execveat missing", run_execveat(binaries, "no-such-program", 0));
    int script = (int)syscall(SYS_memfd_create, "script", MFD_CLOEXEC);
    write(script, "#!/bin/sh\nexit 7\n", 17);
    show_exec("execveat close-on-exec script", run_execveat(script, "", AT_EMPTY_PATH));
    int garbage = (int)syscall(SYS_memfd_create, "garbage", MFD_CLOEXEC);
    write(garbage, "not a program at all", 20);
    show_exec("execveat not executable format", run_execveat(garbage, "", AT_EMPTY_PATH));
    fchmod(garbage, 0600);
    show_exec("execveat without execute permission", run_execveat(garbage, "", AT_EMPTY_PATH));
    close(script);
    close(garbage);
    close(binaries);
    close(true_path);
    close(true_file);
    close(scratch_fd);
}

/* ---- pidfds ---- */

/* A thread that reports its id on pipe_ends[1] and waits for a byte on pipe_ends[0]. */
static void *idle_thread(void *argument)
{
    int *pipe_ends = argument;
    long tid = syscall(SYS_gettid);
    write(pipe_ends[1], &tid, sizeof(tid));
    char byte;
    read(pipe_ends[0], &byte, 1);
    return NULL;
}

static int signal_reply_fd = -1;
/* Answers at once (write is async-signal-safe), so no window between a flag test and a blocking read. */
static void on_user_signal(int signal)
{
    (void)signal;
    write(signal_reply_fd, "s", 1);
}

static void test_pidfds(void)
{
    int gate[2], reply[2];
    pipe(gate);
    pipe(reply);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        signal_reply_fd = reply[1];
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = on_user_signal;  /* no SA_RESTART: the read below ends with EINTR */
        sigaction(SIGUSR1, &action, NULL);
        sigset_t unblocked;
        sigemptyset(&unblocked);
        sigaddset(&unblocked, SIGUSR1);
        sigprocmask(SIG_UNBLOCK, &unblocked, NULL);  /* whatever the caller had blocked */
        write(reply[1], "r", 1);  /* ready for the signal */
        char byte;
        while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
            continue;
        _exit(5);
    }
    char ready = 0;
    read(reply[0], &ready, 1);
    int pidfd = (int)show_ok("pidfd_open", syscall(SYS_pidfd_open, child, 0));
    show("pidfd close-on-exec", fcntl(pidfd, F_GETFD));
    show("pidfd flags", fcntl(pidfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
    struct pollfd poller = {pidfd, POLLIN, 0};
    show("poll pidfd while running", poll(&poller, 1, 0));
    int nonblocking = (int)show_ok("pidfd_open nonblocking", syscall(SYS_pidfd_open, child, PIDFD_NONBLOCK));
    show("pidfd nonblocking flags", fcntl(nonblocking, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    show("waitid P_PIDFD nonblocking pidfd", syscall(SYS_waitid, P_PIDFD, nonblocking, &info, WEXITED, NULL));
    show("waitid P_PIDFD WNOHANG", syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | WNOHANG, NULL));
    printf("WNOHANG si_pid zero %d\n", info.si_pid == 0);
    show("pidfd_send_signal SIGUSR1", syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0));
    char byte = 0;
    read(reply[0], &byte, 1);
    printf("child reported signal: %c\n", byte);
    show("pidfd_send_signal 0", syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0));
    show("pidfd_send_signal bad flags", syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 8));
    show("pidfd_send_signal bad signal", syscall(SYS_pidfd_send_signal, pidfd, 100, NULL, 0));
    show("pidfd_send_signal not a pidfd", syscall(SYS_pidfd_send_signal, gate[0], SIGUSR1, NULL, 0));
    show("pidfd_send_signal bad fd", syscall(SYS_pidfd_send_signal, -1, SIGUSR1, NULL, 0));
    memset(&info, 0, sizeof(info));
    info.si_signo = SIGUSR2;
    show("pidfd_send_signal mismatched info", syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, &info, 0));
    info.si_signo = SIGUSR1;
    info.si_code = SI_USER;
    show("pidfd_send_signal forged code", syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, &info, 0));
    show("pidfd_send_signal bad info pointer", syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, (void *)16, 0));
    int stolen = (int)show_ok("pidfd_getfd", syscall(SYS_pidfd_getfd, pidfd, gate[0], 0));
    struct stat status;
    fstat(stolen, &status);
    printf("stolen fd is a fifo %d, close-on-exec %d\n", S_ISFIFO(status.st_mode), fcntl(stolen, F_GETFD));
    close(stolen);
    show("pidfd_getfd bad flags", syscall(SYS_pidfd_getfd, pidfd, gate[0], 1));
    show("pidfd_getfd bad target fd", syscall(SYS_pidfd_getfd, pidfd, 999, 0));
    show("pidfd_getfd not a pidfd", syscall(SYS_pidfd_getfd, gate[0], 0, 0));

    write(gate[1], "x", 1);
    show("poll pidfd after exit", poll(&poller, 1, 5000));
    printf("revents %#x\n", poller.revents & POLLIN);
    memset(&info, 0, sizeof(info));
    show("waitid P_PIDFD", syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, NULL));
    printf("waitid pid matches %d code %d status %d\n", info.si_pid == child, info.si_code, info.si_status);
    show("waitid P_PIDFD after reaping", syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, NULL));
    show("pidfd_send_signal after reaping", syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0));
    show("waitid P_PIDFD negative", syscall(SYS_waitid, P_PIDFD, -1, &info, WEXITED, NULL));
    show("waitid P_PIDFD not a pidfd", syscall(SYS_waitid, P_PIDFD, gate[0], &info, WEXITED, NULL));
    close(pidfd);
    close(nonblocking);

    show("pidfd_open self", syscall(SYS_pidfd_open, getpid(), 0) >= 0 ? 0 : -1);
    show("pidfd_open 0", syscall(SYS_pidfd_open, 0, 0));
    show("pidfd_open -1", syscall(SYS_pidfd_open, -1, 0));
    show("pidfd_open no such pid", syscall(SYS_pidfd_open, 999999, 0));
    show("pidfd_open bad flags", syscall(SYS_pidfd_open, getpid(), 1));
    pthread_t thread;
    int to_thread[2], from_thread[2], thread_pipes[2];
    pipe(to_thread);
    pipe(from_thread);
    thread_pipes[0] = to_thread[0];
    thread_pipes[1] = from_thread[1];
    pthread_create(&thread, NULL, idle_thread, thread_pipes);
    long thread_tid = 0;
    read(from_thread[0], &thread_tid, sizeof(thread_tid));
    show("pidfd_open a thread", syscall(SYS_pidfd_open, thread_tid, 0));
    write(to_thread[1], "x", 1);
    pthread_join(thread, NULL);
    close(gate[0]);
    close(gate[1]);
    close(reply[0]);
    close(reply[1]);
}

/* ---- CPU-time clocks, getrusage, times ---- */

static clockid_t process_clock(pid_t pid, int which) { return (clockid_t)((~(unsigned)pid << 3) | (unsigned)which); }

static double seconds(const struct timespec *value) { return (double)value->tv_sec + value->tv_nsec / 1e9; }

/* A fixed amount of work (about 0.3 s of CPU natively), whatever the machine's load: CPU clocks count only
 * the time it runs. No system calls inside, so no time goes to the Sentry instead. */
static void busy(void)
{
    volatile unsigned long sink = 0;
    for (long i = 0; i < 1000000000L; i++)
        sink += (unsigned long)i;
}

static void test_cpu_clocks(void)
{
    struct timespec before, after, resolution;
    show("clock_gettime PROCESS_CPUTIME", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &before));
    busy();
    syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &after);
    printf("process CPU time advanced by at least 0.1 s: %d\n", seconds(&after) - seconds(&before) >= 0.1);
    show("clock_getres PROCESS_CPUTIME", syscall(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &resolution));
    printf("resolution %ld.%09ld\n", (long)resolution.tv_sec, resolution.tv_nsec);
    struct timespec prof, virt, sched_time;
    show("own pid PROF clock", syscall(SYS_clock_gettime, process_clock(getpid(), 0), &prof));
    show("own pid VIRT clock", syscall(SYS_clock_gettime, process_clock(getpid(), 1), &virt));
    show("own pid SCHED clock", syscall(SYS_clock_gettime, process_clock(getpid(), 2), &sched_time));
    printf("user within total %d, sched at least 0.1 s %d\n", seconds(&virt) <= seconds(&prof) + 0.02,
           seconds(&sched_time) >= 0.1);
    show("pid 0 SCHED clock", syscall(SYS_clock_gettime, process_clock(0, 2), &sched_time) >= 0 ? 0 : -1);
    show("clock type 3", syscall(SYS_clock_gettime, process_clock(getpid(), 3), &sched_time));
    show("no such pid clock", syscall(SYS_clock_gettime, process_clock(999999, 2), &sched_time));
    show("no such pid getres", syscall(SYS_clock_getres, process_clock(999999, 2), &resolution));
    show("clock_gettime bad pointer", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (void *)16));
    struct rusage usage;
    show("getrusage SELF", syscall(SYS_getrusage, RUSAGE_SELF, &usage));
    printf("user time at least 0.1 s %d\n", usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec >= 100000);

    int gate[2], done[2];
    pipe(gate);
    pipe(done);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char byte;
        busy();
        write(done[1], "d", 1);
        read(gate[0], &byte, 1);
        _exit(0);
    }
    char finished;
    read(done[0], &finished, 1);
    show("child's SCHED clock", syscall(SYS_clock_gettime, process_clock(child, 2), &sched_time));
    printf("child used at least 0.2 s %d\n", seconds(&sched_time) >= 0.2);
    write(gate[1], "x", 1);
    struct rusage child_usage;
    memset(&child_usage, 0, sizeof(child_usage));
    show_ok("wait4 with rusage", syscall(SYS_wait4, child, NULL, 0, &child_usage));
    printf("wait4 child user time at least 0.2 s %d\n",
           child_usage.ru_utime.tv_sec * 1000000 + child_usage.ru_utime.tv_usec >= 200000);
    show("getrusage CHILDREN", syscall(SYS_getrusage, RUSAGE_CHILDREN, &usage));
    printf("children's user time at least 0.2 s %d\n",
           usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec >= 200000);
    struct tms ticks;
    show_ok("times", syscall(SYS_times, &ticks));
    long per_second = sysconf(_SC_CLK_TCK);
    printf("times: user %d children %d\n", ticks.tms_utime >= per_second / 10, ticks.tms_cutime >= per_second / 5);
    show("reaped child's clock", syscall(SYS_clock_gettime, process_clock(child, 2), &sched_time));

    /* Thread clocks, in a fresh single-threaded process. */
    fflush(stdout);
    pid_t parent = getpid();
    child = fork();
    if (child == 0) {
        struct timespec start, end, own;
        show("thread clock", syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &start));
        busy();
        syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &end);
        printf("thread CPU time advanced by at least 0.1 s: %d\n", seconds(&end) - seconds(&start) >= 0.1);
        clockid_t own_thread = (clockid_t)((~(unsigned)syscall(SYS_gettid) << 3) | 4 | 2);
        show("own tid thread clock", syscall(SYS_clock_gettime, own_thread, &own));
        printf("own tid clock matches %d\n", seconds(&own) >= seconds(&end));
        clockid_t parent_thread = (clockid_t)((~(unsigned)parent << 3) | 4 | 2);
        show("another process's thread clock", syscall(SYS_clock_gettime, parent_thread, &own));
        struct rusage thread_usage;
        show("getrusage THREAD", syscall(SYS_getrusage, RUSAGE_THREAD, &thread_usage));
        printf("thread user time at least 0.1 s %d\n",
               thread_usage.ru_utime.tv_sec * 1000000 + thread_usage.ru_utime.tv_usec >= 100000);
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    close(gate[0]);
    close(gate[1]);
    close(done[0]);
    close(done[1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0755);
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_priorities();
    test_misc();
    test_memory_locks();
    test_storage(argv[1]);
    test_splice(argv[1]);
    test_message_batches();
    test_execveat(argv[1]);
    test_pidfds();
    test_cpu_clocks();
    return 0;
}
