/* syscalls/process.c: process and identity syscalls: clone/fork/vfork/execve/exit/wait, pids and process
 * groups, credentials, rlimits, prctl and arch_prctl; thin handlers over sentry/process.c and sentry/task.c. */
#include "syscalls/syscalls.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])

static SYSCALL_HANDLER(clone)
{
    /* x86-64 order: flags, stack, parent_tid, child_tid, tls. */
    return process_clone(task, ARG(0), ARG(1), ARG(2), ARG(3), ARG(4));
}

static SYSCALL_HANDLER(clone3)
{
    struct clone_args clone_arguments;
    uint64_t size = ARG(1);
    if (size < CLONE_ARGS_SIZE_VER0)
        return -EINVAL;
    if (size > PAGE_SIZE)
        return -E2BIG;
    memset(&clone_arguments, 0, sizeof(clone_arguments));
    if (task_copy_in(task, &clone_arguments, ARG(0), MIN(size, sizeof(clone_arguments))) < 0)
        return -EFAULT;
    /* Fields newer than ours must be zero (the kernel's extensible-struct rule). */
    for (uint64_t offset = sizeof(clone_arguments); offset < size; offset++) {
        uint8_t byte;
        if (task_copy_in(task, &byte, ARG(0) + offset, 1) < 0)
            return -EFAULT;
        if (byte)
            return -E2BIG;
    }
    if (clone_arguments.exit_signal > 64 || (clone_arguments.flags & CSIGNAL))
        return -EINVAL;
    if (clone_arguments.set_tid || clone_arguments.set_tid_size || clone_arguments.cgroup ||
        (clone_arguments.flags & (CLONE_PIDFD | CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND)))
        return -EINVAL;
    if ((clone_arguments.stack == 0) != (clone_arguments.stack_size == 0))
        return -EINVAL;
    uint64_t stack = clone_arguments.stack ? clone_arguments.stack + clone_arguments.stack_size : 0;
    return process_clone(task, clone_arguments.flags | clone_arguments.exit_signal, stack,
                         clone_arguments.parent_tid, clone_arguments.child_tid, clone_arguments.tls);
}

static SYSCALL_HANDLER(fork)
{
    (void)args;
    return process_clone(task, SIGCHLD, 0, 0, 0, 0);
}

static SYSCALL_HANDLER(vfork)
{
    (void)args;
    return process_clone(task, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

static SYSCALL_HANDLER(execve)
{
    char path[PATH_MAX];
    long length = task_copy_path_in(task, ARG(0), path, false);
    if (length < 0)
        return length;
    char **argv = NULL, **envp = NULL;
    size_t argc = 0, envc = 0, bytes = 0;
    int error = task_copy_string_array_in(task, ARG(1), &argv, &argc, &bytes);
    if (error == 0)
        error = task_copy_string_array_in(task, ARG(2), &envp, &envc, &bytes);
    if (error < 0) {
        string_array_free(argv);
        return error;
    }
    long result = process_execve(task, path, argv, envp);
    string_array_free(argv);
    string_array_free(envp);
    return result;
}

/* execveat(dirfd, path, argv, envp, flags): execve from a directory fd, or of the fd itself (AT_EMPTY_PATH). */
static SYSCALL_HANDLER(execveat)
{
    int dirfd = syscall_argument_int(args, 0);
    int flags = syscall_argument_int(args, 4);
    char path[PATH_MAX];
    long length = task_copy_path_in(task, ARG(1), path, (flags & AT_EMPTY_PATH) != 0);
    if (length < 0)
        return length;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct vfs_file *dir = NULL;
    /* What AT_EXECFN and the new comm show: the path, or /dev/fd/N[/path] for one relative to an fd. */
    char name[PATH_MAX + 32];
    bool path_inaccessible = false;
    if (dirfd == AT_FDCWD || path[0] == '/') {
        snprintf(name, sizeof(name), "%s", path);
    } else {
        if (dirfd < 0 || !(dir = vfs_fd_get(task_fd_table(task), dirfd)))
            return -EBADF;
        if (path[0])
            snprintf(name, sizeof(name), "/dev/fd/%d/%s", dirfd, path);
        else
            snprintf(name, sizeof(name), "/dev/fd/%d", dirfd);
        path_inaccessible = vfs_fd_get_close_on_exec(task_fd_table(task), dirfd) == 1;
    }
    char **argv = NULL, **envp = NULL;
    size_t argc = 0, envc = 0, bytes = 0;
    int error = task_copy_string_array_in(task, ARG(2), &argv, &argc, &bytes);
    if (error == 0)
        error = task_copy_string_array_in(task, ARG(3), &envp, &envc, &bytes);
    long result = error;
    if (error == 0)
        result = process_execve_at(task, dir, path, name, flags, path_inaccessible, argv, envp);
    string_array_free(argv);
    string_array_free(envp);
    if (dir)
        vfs_file_put(dir);
    return result;
}

static SYSCALL_HANDLER(exit)
{
    task_exit(task, (int)ARG(0));
    return -SENTRY_EJUSTRETURN;
}

static SYSCALL_HANDLER(exit_group)
{
    thread_group_exit(task->group, ((int)ARG(0) & 0xff) << 8);
    return -SENTRY_EJUSTRETURN;
}

static SYSCALL_HANDLER(wait4)
{
    int options = (int)ARG(2);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return -EINVAL;
    return process_wait(task, (int32_t)ARG(0), ARG(1), options, ARG(3), NULL, false);
}

static SYSCALL_HANDLER(waitid)
{
    int type = (int)ARG(0), options = (int)ARG(3);
    int32_t id = (int32_t)ARG(1);
    if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return -EINVAL;
    int32_t pid;
    bool pidfd_nonblocking = false;
    switch (type) {
    case P_ALL: pid = -1; break;
    case P_PID: if (id <= 0) return -EINVAL; pid = id; break;
    case P_PGID: if (id < 0) return -EINVAL; pid = id == 0 ? 0 : -id; break;
    case P_PIDFD:
        if (id < 0)
            return -EINVAL;
        pid = syscall_pidfd_process(task, id, &pidfd_nonblocking);
        if (pid == -ESRCH)
            return -ECHILD;  /* reaped: no child of ours any more */
        if (pid < 0)
            return pid;
        break;
    default: return -EINVAL;
    }
    /* A non-blocking pidfd makes the wait non-blocking; nothing to report is then EAGAIN, not 0. */
    bool pidfd_wait_would_block = pidfd_nonblocking && !(options & WNOHANG);
    if (pidfd_wait_would_block)
        options |= WNOHANG;
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    long result = process_wait(task, pid, 0, options, ARG(4), &info, true);
    if (result < 0)
        return result;
    if (pidfd_wait_would_block && result == 0)
        return -EAGAIN;
    if (ARG(2) && task_copy_out(task, ARG(2), &info, sizeof(info)) < 0)
        return -EFAULT;
    return 0;
}

static SYSCALL_HANDLER(getpid) { (void)args; return task->group->tgid; }
static SYSCALL_HANDLER(gettid) { (void)args; return task->tid; }

static SYSCALL_HANDLER(getppid)
{
    (void)args;
    /* The first process's parent is outside the namespace: Linux reports 0. */
    return task->group->parent ? task->group->parent->tgid : 0;
}

static SYSCALL_HANDLER(set_tid_address)
{
    task->clear_child_tid = ARG(0);
    return task->tid;
}

static SYSCALL_HANDLER(set_robust_list)
{
    if (ARG(1) != 24)  /* sizeof(struct robust_list_head) */
        return -EINVAL;
    task->robust_list = ARG(0);
    task->robust_list_length = ARG(1);
    return 0;
}

static SYSCALL_HANDLER(get_robust_list)
{
    struct task *target = ARG(0) ? task_by_tid((int32_t)ARG(0)) : task;
    if (!target)
        return -ESRCH;
    uint64_t length = 24;
    if (task_copy_out(task, ARG(1), &target->robust_list, sizeof(uint64_t)) < 0 ||
        task_copy_out(task, ARG(2), &length, sizeof(length)) < 0)
        return -EFAULT;
    return 0;
}

static SYSCALL_HANDLER(arch_prctl)
{
    struct user_regs_struct *registers = &task_registers(task)->general;
    switch (ARG(0)) {
    case ARCH_SET_FS:
        if (ARG(1) >= APPLICATION_ADDRESS_LIMIT)
            return -EPERM;
        registers->fs_base = ARG(1);
        task_registers_changed(task);
        return 0;
    case ARCH_SET_GS:
        if (ARG(1) >= APPLICATION_ADDRESS_LIMIT)
            return -EPERM;
        registers->gs_base = ARG(1);
        task_registers_changed(task);
        return 0;
    case ARCH_GET_FS:
        return task_copy_out(task, ARG(1), &registers->fs_base, sizeof(uint64_t));
    case ARCH_GET_GS:
        return task_copy_out(task, ARG(1), &registers->gs_base, sizeof(uint64_t));
    default:
        return -EINVAL;
    }
}

static SYSCALL_HANDLER(prctl)
{
    switch ((int)ARG(0)) {
    case PR_SET_NAME: {
        char name[16] = {0};
        /* Linux copies up to 15 bytes and does not fail on a longer string. */
        for (size_t i = 0; i < sizeof(name) - 1; i++) {
            if (task_copy_in(task, &name[i], ARG(1) + i, 1) < 0)
                return -EFAULT;
            if (!name[i])
                break;
        }
        memcpy(task->name, name, sizeof(name));
        return 0;
    }
    case PR_GET_NAME:
        return task_copy_out(task, ARG(1), task->name, sizeof(task->name));
    case PR_SET_PDEATHSIG:
        if (ARG(1) > 64)
            return -EINVAL;
        task->parent_death_signal = (int)ARG(1);
        return 0;
    case PR_GET_PDEATHSIG: {
        int signal = task->parent_death_signal;
        return task_copy_out(task, ARG(1), &signal, sizeof(signal));
    }
    case PR_GET_DUMPABLE:
        return 1;
    case PR_SET_DUMPABLE:
        return ARG(1) <= 1 ? 0 : -EINVAL;
    case PR_SET_NO_NEW_PRIVS:
        if (ARG(1) != 1 || ARG(2) || ARG(3) || ARG(4))
            return -EINVAL;
        task->no_new_privileges = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        return task->no_new_privileges;
    case PR_CAPBSET_READ:
        return ARG(1) <= 40 ? 1 : -EINVAL;
    default:
        return -EINVAL;
    }
}

/* ---- process groups and sessions ---- */

static SYSCALL_HANDLER(getpgid)
{
    int32_t pid = (int32_t)ARG(0);
    struct thread_group *group = pid == 0 ? task->group : thread_group_by_tgid(pid);
    if (!group || group->zombie)
        return -ESRCH;
    return group->process_group;
}

static SYSCALL_HANDLER(getpgrp) { (void)args; return task->group->process_group; }

static SYSCALL_HANDLER(getsid)
{
    int32_t pid = (int32_t)ARG(0);
    struct thread_group *group = pid == 0 ? task->group : thread_group_by_tgid(pid);
    if (!group || group->zombie)
        return -ESRCH;
    return group->session;
}

static SYSCALL_HANDLER(setpgid)
{
    int32_t pid = (int32_t)ARG(0), pgid = (int32_t)ARG(1);
    if (pgid < 0)
        return -EINVAL;
    struct thread_group *group = pid == 0 ? task->group : thread_group_by_tgid(pid);
    if (!group || group->zombie)
        return -ESRCH;
    if (group != task->group && group->parent != task->group)
        return -ESRCH;
    if (group->tgid == group->session)
        return -EPERM;  /* a session leader cannot move */
    if (group->session != task->group->session)
        return -EPERM;
    if (pgid == 0)
        pgid = group->tgid;
    if (pgid != group->tgid) {
        /* The target group must exist in the same session. */
        bool found = false;
        int32_t pids[1024];
        size_t count = task_list_groups(pids, ARRAY_SIZE(pids));
        for (size_t i = 0; i < count && !found; i++) {
            struct thread_group *other = thread_group_by_tgid(pids[i]);
            found = other && other->process_group == pgid && other->session == task->group->session;
        }
        if (!found)
            return -EPERM;
    }
    group->process_group = pgid;
    return 0;
}

static SYSCALL_HANDLER(setsid)
{
    (void)args;
    struct thread_group *group = task->group;
    int32_t pids[1024];
    size_t count = task_list_groups(pids, ARRAY_SIZE(pids));
    for (size_t i = 0; i < count; i++) {
        struct thread_group *other = thread_group_by_tgid(pids[i]);
        if (other && other->process_group == group->tgid)
            return -EPERM;
    }
    group->session = group->process_group = group->tgid;
    return group->tgid;
}

/* ---- credentials ---- */

static SYSCALL_HANDLER(getuid) { (void)args; return task->credentials.uid; }
static SYSCALL_HANDLER(geteuid) { (void)args; return task->credentials.euid; }
static SYSCALL_HANDLER(getgid) { (void)args; return task->credentials.gid; }
static SYSCALL_HANDLER(getegid) { (void)args; return task->credentials.egid; }

static SYSCALL_HANDLER(getresuid)
{
    const struct credentials *c = &task->credentials;
    if (task_copy_out(task, ARG(0), &c->uid, 4) < 0 || task_copy_out(task, ARG(1), &c->euid, 4) < 0 ||
        task_copy_out(task, ARG(2), &c->suid, 4) < 0)
        return -EFAULT;
    return 0;
}

static SYSCALL_HANDLER(getresgid)
{
    const struct credentials *c = &task->credentials;
    if (task_copy_out(task, ARG(0), &c->gid, 4) < 0 || task_copy_out(task, ARG(1), &c->egid, 4) < 0 ||
        task_copy_out(task, ARG(2), &c->sgid, 4) < 0)
        return -EFAULT;
    return 0;
}

/* setresuid(2): unprivileged callers may only pick among their current real, effective and saved ids. */
static long set_ids(uint32_t *real, uint32_t *effective, uint32_t *saved, uint32_t *filesystem, bool privileged,
                    uint32_t new_real, uint32_t new_effective, uint32_t new_saved)
{
    const uint32_t keep = (uint32_t)-1;
    uint32_t wanted[3] = {new_real, new_effective, new_saved};
    if (!privileged)
        for (int i = 0; i < 3; i++)
            if (wanted[i] != keep && wanted[i] != *real && wanted[i] != *effective && wanted[i] != *saved)
                return -EPERM;
    if (new_real != keep)
        *real = new_real;
    if (new_effective != keep)
        *effective = new_effective;
    if (new_saved != keep)
        *saved = new_saved;
    *filesystem = *effective;
    return 0;
}

static SYSCALL_HANDLER(setresuid)
{
    struct credentials *c = &task->credentials;
    return set_ids(&c->uid, &c->euid, &c->suid, &c->fsuid, c->euid == 0, (uint32_t)ARG(0), (uint32_t)ARG(1),
                   (uint32_t)ARG(2));
}

static SYSCALL_HANDLER(setresgid)
{
    struct credentials *c = &task->credentials;
    return set_ids(&c->gid, &c->egid, &c->sgid, &c->fsgid, c->euid == 0, (uint32_t)ARG(0), (uint32_t)ARG(1),
                   (uint32_t)ARG(2));
}

static SYSCALL_HANDLER(setuid)
{
    struct credentials *c = &task->credentials;
    uint32_t uid = (uint32_t)ARG(0);
    if (uid == (uint32_t)-1)
        return -EINVAL;
    if (c->euid == 0)
        return set_ids(&c->uid, &c->euid, &c->suid, &c->fsuid, true, uid, uid, uid);
    return set_ids(&c->uid, &c->euid, &c->suid, &c->fsuid, false, (uint32_t)-1, uid, (uint32_t)-1);
}

static SYSCALL_HANDLER(setgid)
{
    struct credentials *c = &task->credentials;
    uint32_t gid = (uint32_t)ARG(0);
    if (gid == (uint32_t)-1)
        return -EINVAL;
    if (c->euid == 0)
        return set_ids(&c->gid, &c->egid, &c->sgid, &c->fsgid, true, gid, gid, gid);
    return set_ids(&c->gid, &c->egid, &c->sgid, &c->fsgid, false, (uint32_t)-1, gid, (uint32_t)-1);
}

static SYSCALL_HANDLER(setreuid)
{
    struct credentials *c = &task->credentials;
    uint32_t real = (uint32_t)ARG(0), effective = (uint32_t)ARG(1);
    uint32_t saved = (real != (uint32_t)-1 || (effective != (uint32_t)-1 && effective != c->uid)) ?
                         (effective != (uint32_t)-1 ? effective : c->euid) : (uint32_t)-1;
    return set_ids(&c->uid, &c->euid, &c->suid, &c->fsuid, c->euid == 0, real, effective, saved);
}

static SYSCALL_HANDLER(setregid)
{
    struct credentials *c = &task->credentials;
    uint32_t real = (uint32_t)ARG(0), effective = (uint32_t)ARG(1);
    uint32_t saved = (real != (uint32_t)-1 || (effective != (uint32_t)-1 && effective != c->gid)) ?
                         (effective != (uint32_t)-1 ? effective : c->egid) : (uint32_t)-1;
    return set_ids(&c->gid, &c->egid, &c->sgid, &c->fsgid, c->euid == 0, real, effective, saved);
}

/* setfsuid(2)/setfsgid(2): always the previous value; the change needs privilege or one of the caller's
 * own ids, and -1 (or any refusal) changes nothing, silently. */
static long set_filesystem_id(uint32_t *filesystem, bool privileged, uint32_t real, uint32_t effective,
                              uint32_t saved, uint32_t wanted)
{
    uint32_t previous = *filesystem;
    if (wanted != (uint32_t)-1 &&
        (privileged || wanted == real || wanted == effective || wanted == saved || wanted == *filesystem))
        *filesystem = wanted;
    return previous;
}

static SYSCALL_HANDLER(setfsuid)
{
    struct credentials *c = &task->credentials;
    return set_filesystem_id(&c->fsuid, c->euid == 0, c->uid, c->euid, c->suid, (uint32_t)ARG(0));
}

static SYSCALL_HANDLER(setfsgid)
{
    struct credentials *c = &task->credentials;
    return set_filesystem_id(&c->fsgid, c->euid == 0, c->gid, c->egid, c->sgid, (uint32_t)ARG(0));
}

static SYSCALL_HANDLER(getgroups)
{
    int size = (int)ARG(0);
    const struct credentials *c = &task->credentials;
    if (size < 0)
        return -EINVAL;
    if (size == 0)
        return (long)c->group_count;
    if ((size_t)size < c->group_count)
        return -EINVAL;
    if (task_copy_out(task, ARG(1), c->groups, c->group_count * sizeof(uint32_t)) < 0)
        return -EFAULT;
    return (long)c->group_count;
}

static SYSCALL_HANDLER(setgroups)
{
    struct credentials *c = &task->credentials;
    int size = (int)ARG(0);
    if (size < 0 || size > 65536)
        return -EINVAL;
    if (c->euid != 0)
        return -EPERM;
    if ((size_t)size > ARRAY_SIZE(c->groups))
        return -ENOMEM;  /* more supplementary groups than the Sentry keeps */
    uint32_t groups[ARRAY_SIZE(c->groups)];
    if (task_copy_in(task, groups, ARG(1), (size_t)size * sizeof(uint32_t)) < 0)
        return -EFAULT;
    memcpy(c->groups, groups, (size_t)size * sizeof(uint32_t));
    c->group_count = (size_t)size;
    return 0;
}

static SYSCALL_HANDLER(capget)
{
    struct { uint32_t version; int pid; } header;
    if (task_copy_in(task, &header, ARG(0), sizeof(header)) < 0)
        return -EFAULT;
    const uint32_t version3 = 0x20080522, version2 = 0x20071026, version1 = 0x19980330;
    if (header.version != version3 && header.version != version2 && header.version != version1) {
        header.version = version3;
        task_copy_out(task, ARG(0), &header, sizeof(header));
        return ARG(1) ? -EINVAL : 0;
    }
    if (!ARG(1))
        return 0;
    /* Root in the sandbox holds the full set, non-root none, as after execve without file capabilities. */
    uint32_t all = task->credentials.euid == 0 ? 0xffffffffu : 0;
    uint32_t data[6] = {all, all, all, task->credentials.euid == 0 ? 0x1ffu : 0, task->credentials.euid == 0 ? 0x1ffu : 0, 0};
    size_t words = header.version == version1 ? 3 : 6;
    return task_copy_out(task, ARG(1), data, words * sizeof(uint32_t));
}

/* ---- rlimits ---- */

static long resource_limits(struct task *task, int32_t pid, int resource, uint64_t new_address, uint64_t old_address)
{
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    struct thread_group *group = pid == 0 ? task->group : thread_group_by_tgid(pid);
    if (!group || group->zombie)
        return -ESRCH;
    struct rlimit replacement;
    if (new_address) {
        if (task_copy_in(task, &replacement, new_address, sizeof(replacement)) < 0)
            return -EFAULT;
        if (replacement.rlim_cur > replacement.rlim_max)
            return -EINVAL;
        if (replacement.rlim_max > group->limits[resource].rlim_max && task->credentials.euid != 0)
            return -EPERM;
        if (resource == RLIMIT_NOFILE && replacement.rlim_max > 1048576)
            return -EPERM;  /* fs.nr_open */
    }
    if (old_address && task_copy_out(task, old_address, &group->limits[resource], sizeof(struct rlimit)) < 0)
        return -EFAULT;
    if (new_address)
        group->limits[resource] = replacement;
    return 0;
}

static SYSCALL_HANDLER(prlimit64) { return resource_limits(task, (int32_t)ARG(0), (int)ARG(1), ARG(2), ARG(3)); }
static SYSCALL_HANDLER(getrlimit) { return resource_limits(task, 0, (int)ARG(0), 0, ARG(1)); }
static SYSCALL_HANDLER(setrlimit) { return resource_limits(task, 0, (int)ARG(0), ARG(1), 0); }

static SYSCALL_HANDLER(sched_yield) { (void)task; (void)args; return 0; }

const struct syscall_binding syscall_bindings_process[] = {
    {__NR_clone, sys_clone}, {__NR_clone3, sys_clone3}, {__NR_fork, sys_fork}, {__NR_vfork, sys_vfork},
    {__NR_execve, sys_execve}, {__NR_execveat, sys_execveat}, {__NR_exit, sys_exit}, {__NR_exit_group, sys_exit_group}, {__NR_wait4, sys_wait4},
    {__NR_waitid, sys_waitid}, {__NR_getpid, sys_getpid}, {__NR_gettid, sys_gettid}, {__NR_getppid, sys_getppid},
    {__NR_set_tid_address, sys_set_tid_address}, {__NR_set_robust_list, sys_set_robust_list},
    {__NR_get_robust_list, sys_get_robust_list}, {__NR_arch_prctl, sys_arch_prctl}, {__NR_prctl, sys_prctl},
    {__NR_getpgid, sys_getpgid}, {__NR_getpgrp, sys_getpgrp}, {__NR_getsid, sys_getsid},
    {__NR_setpgid, sys_setpgid}, {__NR_setsid, sys_setsid}, {__NR_getuid, sys_getuid}, {__NR_geteuid, sys_geteuid},
    {__NR_getgid, sys_getgid}, {__NR_getegid, sys_getegid}, {__NR_getresuid, sys_getresuid},
    {__NR_getresgid, sys_getresgid}, {__NR_setresuid, sys_setresuid}, {__NR_setfsuid, sys_setfsuid}, {__NR_setfsgid, sys_setfsgid}, {__NR_setresgid, sys_setresgid},
    {__NR_setuid, sys_setuid}, {__NR_setgid, sys_setgid}, {__NR_setreuid, sys_setreuid},
    {__NR_setregid, sys_setregid}, {__NR_getgroups, sys_getgroups}, {__NR_setgroups, sys_setgroups},
    {__NR_capget, sys_capget}, {__NR_prlimit64, sys_prlimit64}, {__NR_getrlimit, sys_getrlimit},
    {__NR_setrlimit, sys_setrlimit}, {__NR_sched_yield, sys_sched_yield}, {-1, NULL},
};
