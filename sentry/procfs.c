/* sentry/procfs.c: the content of /proc that only the Sentry knows: processes, their memory maps, fds,
 * status lines, and the system files (cpuinfo, meminfo, uptime, kernel release) as the sandbox sees them. */
#include "sentry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static struct text_buffer host_cpuinfo;
static uint64_t sandbox_start_ns;

void procfs_capture_host_information_public(void) { procfs_capture_host_information(); }

void procfs_capture_host_information(void)
{
    sandbox_start_ns = monotonic_nanoseconds();
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buffer[4096];
    ssize_t got;
    while ((got = read(fd, buffer, sizeof(buffer))) > 0)
        text_buffer_append_bytes(&host_cpuinfo, buffer, (size_t)got);
    close(fd);
}

static struct thread_group *live_group(int32_t pid)
{
    struct thread_group *group = thread_group_by_tgid(pid);
    return group && !group->zombie ? group : NULL;
}

static size_t list_processes(int32_t *pids, size_t max) { return task_list_groups(pids, max); }

static size_t list_threads(int32_t pid, int32_t *tids, size_t max)
{
    struct thread_group *group = live_group(pid);
    size_t count = 0;
    if (!group)
        return 0;
    LIST_FOR_EACH(node, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        if (task->state != TASK_STATE_DEAD && count < max)
            tids[count++] = task->tid;
    }
    return count;
}

static void append_memory_range(struct mm *mm, uint64_t start, uint64_t end, bool nul_to_space,
                                struct text_buffer *out)
{
    (void)nul_to_space;
    char chunk[4096];
    for (uint64_t cursor = start; cursor < end;) {
        size_t length = MIN(sizeof(chunk), end - cursor);
        if (mm_copy_in(mm, chunk, cursor, length) < 0)
            return;
        text_buffer_append_bytes(out, chunk, length);
        cursor += length;
    }
}

static char state_letter(struct thread_group *group)
{
    struct task *leader = thread_group_leader(group);
    if (!leader)
        return 'Z';
    if (group->stopped)
        return 'T';
    return leader->state == TASK_STATE_BLOCKED ? 'S' : 'R';
}

static const char *state_name(char letter)
{
    switch (letter) {
    case 'S': return "sleeping";
    case 'T': return "stopped";
    case 'Z': return "zombie";
    default: return "running";
    }
}

static uint64_t mapped_bytes(struct mm *mm)
{
    uint64_t total = 0;
    for (size_t i = 0; mm && i < mm->vma_count; i++)
        total += mm->vmas[i].end - mm->vmas[i].start;
    return total;
}

static uint64_t signal_mask_of(struct thread_group *group, bool caught)
{
    uint64_t mask = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t handler = group->handlers->actions[i].handler;
        if (caught ? handler > (uint64_t)SIG_IGN : handler == (uint64_t)SIG_IGN)
            mask |= 1ULL << i;
    }
    return mask;
}

static int process_status(struct thread_group *group, struct text_buffer *out)
{
    struct task *leader = thread_group_leader(group);
    if (!leader)
        return -ENOENT;
    const struct credentials *c = &leader->credentials;
    uint64_t vm_kilobytes = mapped_bytes(group->mm) / 1024;
    text_buffer_append(out, "Name:\t%s\nUmask:\t%04o\nState:\t%c (%s)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
                            "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t64\nGroups:\t",
                       leader->name, leader->fs ? leader->fs->umask : 022, state_letter(group),
                       state_name(state_letter(group)), group->tgid, group->tgid,
                       group->parent ? group->parent->tgid : 0, c->uid, c->euid, c->suid, c->fsuid, c->gid, c->egid,
                       c->sgid, c->fsgid);
    for (size_t i = 0; i < c->group_count; i++)
        text_buffer_append(out, "%u ", c->groups[i]);
    text_buffer_append(out, "\nVmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nThreads:\t%d\n"
                            "SigQ:\t0/%lu\nSigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\nSigIgn:\t%016lx\n"
                            "SigCgt:\t%016lx\nCapInh:\t0000000000000000\nCapPrm:\t%s\nCapEff:\t%s\n"
                            "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t%d\nSeccomp:\t0\n"
                            "Cpus_allowed_list:\t0-%ld\n",
                       (unsigned long)vm_kilobytes, (unsigned long)vm_kilobytes, (unsigned long)vm_kilobytes,
                       group->live_threads, (unsigned long)group->limits[RLIMIT_SIGPENDING].rlim_cur,
                       (unsigned long)leader->signals.pending, (unsigned long)group->signals.pending,
                       (unsigned long)leader->signal_mask, (unsigned long)signal_mask_of(group, false),
                       (unsigned long)signal_mask_of(group, true),
                       c->euid == 0 ? "000001ffffffffff" : "0000000000000000",
                       c->euid == 0 ? "000001ffffffffff" : "0000000000000000", leader->no_new_privileges ? 1 : 0,
                       host_cpu_count() - 1);
    return 0;
}

static int process_stat(struct thread_group *group, struct text_buffer *out)
{
    struct task *leader = thread_group_leader(group);
    if (!leader)
        return -ENOENT;
    long ticks = sysconf(_SC_CLK_TCK);
    uint64_t start_ticks = (group->start_time_ns - sandbox_start_ns) * (uint64_t)ticks / 1000000000ULL;
    struct mm *mm = group->mm;
    /* Fields as proc(5) numbers them: pid (comm) state ppid pgrp session tty_nr tpgid flags ... */
    text_buffer_append(out, "%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 %d 0 %lu %lu %lu "
                            "18446744073709551615 0 0 %lu 0 0 0 0 %lu 0 0 0 17 0 0 0 0 0 0 0 0 %lu %lu %lu %lu 0\n",
                       group->tgid, leader->name, state_letter(group), group->parent ? group->parent->tgid : 0,
                       group->process_group, group->session, group->live_threads, (unsigned long)start_ticks,
                       (unsigned long)mapped_bytes(mm), (unsigned long)(mapped_bytes(mm) / PAGE_SIZE),
                       (unsigned long)(mm ? mm->stack_start : 0), (unsigned long)signal_mask_of(group, true),
                       (unsigned long)(mm ? mm->arg_start : 0), (unsigned long)(mm ? mm->arg_end : 0),
                       (unsigned long)(mm ? mm->env_start : 0), (unsigned long)(mm ? mm->env_end : 0));
    return 0;
}

static int system_file(const char *name, struct text_buffer *out)
{
    struct sysinfo information;
    sysinfo(&information);
    double uptime = (double)(monotonic_nanoseconds() - sandbox_start_ns) / 1e9;
    int32_t pids[4096];
    size_t processes = task_list_groups(pids, ARRAY_SIZE(pids));
    if (strcmp(name, "cpuinfo") == 0) {
        if (host_cpuinfo.length)
            text_buffer_append_bytes(out, host_cpuinfo.data, host_cpuinfo.length);
    } else if (strcmp(name, "meminfo") == 0) {
        unsigned long unit = information.mem_unit ? information.mem_unit : 1;
        text_buffer_append(out, "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
                                "Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\n"
                                "SwapTotal:      %8lu kB\nSwapFree:       %8lu kB\nShmem:          %8lu kB\n",
                           information.totalram * unit / 1024, information.freeram * unit / 1024,
                           information.freeram * unit / 1024, information.totalswap * unit / 1024,
                           information.freeswap * unit / 1024, information.sharedram * unit / 1024);
    } else if (strcmp(name, "uptime") == 0) {
        text_buffer_append(out, "%.2f %.2f\n", uptime, uptime * (double)host_cpu_count());
    } else if (strcmp(name, "loadavg") == 0) {
        text_buffer_append(out, "0.00 0.00 0.00 1/%zu %d\n", processes, processes ? pids[processes - 1] : 0);
    } else if (strcmp(name, "version") == 0) {
        text_buffer_append(out, "Linux version %s (usandbox) %s\n", SENTRY_KERNEL_RELEASE, SENTRY_KERNEL_VERSION);
    } else if (strcmp(name, "stat") == 0) {
        text_buffer_append(out, "cpu  0 0 0 0 0 0 0 0 0 0\n");
        for (long cpu = 0; cpu < host_cpu_count(); cpu++)
            text_buffer_append(out, "cpu%ld 0 0 0 0 0 0 0 0 0 0\n", cpu);
        text_buffer_append(out, "ctxt 0\nbtime %ld\nprocesses %zu\nprocs_running 1\nprocs_blocked 0\n",
                           (long)(time(NULL) - (time_t)uptime), processes);
    } else if (strcmp(name, "filesystems") == 0) {
        text_buffer_append(out, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\n");
    } else if (strcmp(name, "sys/kernel/hostname") == 0) {
        text_buffer_append(out, "%s\n", sentry_hostname);
    } else if (strcmp(name, "sys/kernel/osrelease") == 0) {
        text_buffer_append(out, "%s\n", SENTRY_KERNEL_RELEASE);
    } else if (strcmp(name, "sys/kernel/ostype") == 0) {
        text_buffer_append(out, "Linux\n");
    } else if (strcmp(name, "sys/kernel/version") == 0) {
        text_buffer_append(out, "%s\n", SENTRY_KERNEL_VERSION);
    } else if (strcmp(name, "sys/kernel/pid_max") == 0) {
        text_buffer_append(out, "4194304\n");
    } else if (strcmp(name, "sys/kernel/ngroups_max") == 0) {
        text_buffer_append(out, "65536\n");
    } else if (strcmp(name, "sys/kernel/cap_last_cap") == 0) {
        text_buffer_append(out, "40\n");
    } else if (strcmp(name, "sys/fs/nr_open") == 0) {
        text_buffer_append(out, "1048576\n");
    } else if (strcmp(name, "sys/vm/overcommit_memory") == 0) {
        text_buffer_append(out, "0\n");
    } else {
        return -ENOENT;
    }
    return 0;
}

/* /proc/PID/limits in Linux's layout: the resource, soft and hard limits, and the unit. */
static void process_limits(const struct thread_group *group, struct text_buffer *out)
{
    static const struct {
        const char *name, *unit;
    } limits[RLIM_NLIMITS] = {
        [RLIMIT_CPU] = {"Max cpu time", "seconds"},
        [RLIMIT_FSIZE] = {"Max file size", "bytes"},
        [RLIMIT_DATA] = {"Max data size", "bytes"},
        [RLIMIT_STACK] = {"Max stack size", "bytes"},
        [RLIMIT_CORE] = {"Max core file size", "bytes"},
        [RLIMIT_RSS] = {"Max resident set", "bytes"},
        [RLIMIT_NPROC] = {"Max processes", "processes"},
        [RLIMIT_NOFILE] = {"Max open files", "files"},
        [RLIMIT_MEMLOCK] = {"Max locked memory", "bytes"},
        [RLIMIT_AS] = {"Max address space", "bytes"},
        [RLIMIT_LOCKS] = {"Max file locks", "locks"},
        [RLIMIT_SIGPENDING] = {"Max pending signals", "signals"},
        [RLIMIT_MSGQUEUE] = {"Max msgqueue size", "bytes"},
        [RLIMIT_NICE] = {"Max nice priority", ""},    /* no unit */
        [RLIMIT_RTPRIO] = {"Max realtime priority", ""},
        [RLIMIT_RTTIME] = {"Max realtime timeout", "us"},
    };
    text_buffer_append(out, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
        char soft[24], hard[24];
        const struct rlimit *limit = &group->limits[resource];
        if (limit->rlim_cur == RLIM_INFINITY)
            snprintf(soft, sizeof(soft), "unlimited");
        else
            snprintf(soft, sizeof(soft), "%llu", (unsigned long long)limit->rlim_cur);
        if (limit->rlim_max == RLIM_INFINITY)
            snprintf(hard, sizeof(hard), "unlimited");
        else
            snprintf(hard, sizeof(hard), "%llu", (unsigned long long)limit->rlim_max);
        text_buffer_append(out, "%-25s %-20s %-20s ", limits[resource].name, soft, hard);
        if (limits[resource].unit[0])
            text_buffer_append(out, "%-10s", limits[resource].unit);
        text_buffer_append(out, "\n"); /* Linux pads the unit, and prints none for the priorities */
    }
}

static int read_file(int32_t pid, const char *name, struct text_buffer *out)
{
    if (pid == 0)
        return system_file(name, out);
    struct thread_group *group = live_group(pid);
    if (!group)
        return -ENOENT;
    struct mm *mm = group->mm;
    if (strcmp(name, "cmdline") == 0) {
        if (mm)
            append_memory_range(mm, mm->arg_start, mm->arg_end, false, out);
    } else if (strcmp(name, "environ") == 0) {
        if (mm)
            append_memory_range(mm, mm->env_start, mm->env_end, false, out);
    } else if (strcmp(name, "status") == 0) {
        return process_status(group, out);
    } else if (strcmp(name, "stat") == 0) {
        return process_stat(group, out);
    } else if (strcmp(name, "statm") == 0) {
        uint64_t pages = mapped_bytes(mm) / PAGE_SIZE;
        text_buffer_append(out, "%lu %lu 0 0 0 %lu 0\n", (unsigned long)pages, (unsigned long)pages,
                           (unsigned long)pages);
    } else if (strcmp(name, "maps") == 0) {
        struct task *leader = thread_group_leader(group);
        if (mm && leader && leader->fs) {
            struct vfs_context ctx;
            task_vfs_context(leader, &ctx);
            mm_describe_maps(mm, &ctx, out);
        }
    } else if (strcmp(name, "comm") == 0) {
        struct task *leader = thread_group_leader(group);
        text_buffer_append(out, "%s\n", leader ? leader->name : "");
    } else if (strcmp(name, "limits") == 0) {
        process_limits(group, out);
    } else if (strcmp(name, "cgroup") == 0) {
        /* the sandbox has its own cgroup namespace, whose root is where it stands (and no cgroupfs inside) */
        text_buffer_append(out, "0::/\n");
    } else {
        return -ENOENT;
    }
    return 0;
}

static int read_link(int32_t pid, const char *name, struct text_buffer *out)
{
    struct thread_group *group = live_group(pid);
    struct task *leader = group ? thread_group_leader(group) : NULL;
    if (!leader || !leader->fs)
        return -ENOENT;
    struct vfs_context ctx;
    task_vfs_context(leader, &ctx);
    if (strcmp(name, "exe") == 0) {
        if (!group->mm || !group->mm->executable)
            return -ENOENT;
        return vfs_file_describe_path(group->mm->executable, &ctx, out);
    }
    if (strcmp(name, "cwd") == 0) {
        char path[PATH_MAX];
        ssize_t length = vfs_getcwd(&ctx, path, sizeof(path));
        if (length < 0)
            return (int)length;
        text_buffer_append(out, "%s", path);
        return 0;
    }
    if (strcmp(name, "root") == 0) {
        text_buffer_append(out, "/");
        return 0;
    }
    return -ENOENT;
}

static struct vfs_fd_table *fd_table_of(int32_t pid)
{
    struct thread_group *group = live_group(pid);
    struct task *leader = group ? thread_group_leader(group) : NULL;
    return leader ? leader->fds : NULL;
}

static int list_fds(int32_t pid, int *fds, size_t max, size_t *count)
{
    struct vfs_fd_table *table = fd_table_of(pid);
    if (!table)
        return -ENOENT;
    *count = 0;
    for (int fd = vfs_fd_next_open(table, 0); fd >= 0 && *count < max; fd = vfs_fd_next_open(table, fd + 1))
        fds[(*count)++] = fd;
    return 0;
}

static int read_fd_link(int32_t pid, int fd, struct text_buffer *out)
{
    struct vfs_fd_table *table = fd_table_of(pid);
    if (!table)
        return -ENOENT;
    struct vfs_file *file = vfs_fd_get(table, fd);
    if (!file)
        return -ENOENT;
    struct thread_group *group = live_group(pid);
    struct vfs_context ctx;
    task_vfs_context(thread_group_leader(group), &ctx);
    int error = vfs_file_describe_path(file, &ctx, out);
    vfs_file_put(file);
    return error;
}

static struct vfs_file *get_fd_file(int32_t pid, int fd)
{
    struct vfs_fd_table *table = fd_table_of(pid);
    return table ? vfs_fd_get(table, fd) : NULL;
}

static int fd_close_on_exec(int32_t pid, int fd)
{
    struct vfs_fd_table *table = fd_table_of(pid);
    return table ? vfs_fd_get_close_on_exec(table, fd) : -ENOENT;
}

const struct vfs_procfs_provider sentry_procfs_provider = {
    .list_processes = list_processes,
    .list_threads = list_threads,
    .read_file = read_file,
    .read_link = read_link,
    .list_fds = list_fds,
    .read_fd_link = read_fd_link,
    .get_fd_file = get_fd_file,
    .fd_close_on_exec = fd_close_on_exec,
};
