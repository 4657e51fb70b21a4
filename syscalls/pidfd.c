/* syscalls/pidfd.c: file descriptors that name processes: pidfd_open, pidfd_send_signal, pidfd_getfd,
 * and the pidfd side of waitid(P_PIDFD); the files themselves are vfs/pidfd.c's. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define PIDFD_NONBLOCK_FLAG O_NONBLOCK
#define SI_TKILL_CODE (-6)

static SYSCALL_HANDLER(pidfd_open)
{
    int32_t pid = syscall_argument_int(args, 0);
    unsigned int flags = (unsigned int)ARG(1);
    if (flags & ~(unsigned int)PIDFD_NONBLOCK_FLAG)
        return -EINVAL;  /* PIDFD_THREAD came with Linux 6.9; the kernel we report is 5.15 */
    if (pid <= 0)
        return -EINVAL;
    struct thread_group *group = thread_group_by_tgid(pid);
    if (!group)
        return task_by_tid(pid) ? -ENOENT : -ESRCH;  /* a thread's id names no process (Linux 6.9+: ENOENT) */
    if (!group->pidfd)
        group->pidfd = vfs_pidfd_new(group->tgid);
    if (group->zombie)
        vfs_pidfd_process_exited(group->pidfd);
    struct vfs_file *file;
    int error = vfs_pidfd_open(group->pidfd, (int)flags, &file);
    if (error < 0)
        return error;
    /* pidfds are always close-on-exec. */
    int fd = vfs_fd_install(task_fd_table(task), file, 0, true, task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

/* The live or zombie process a pidfd names: -EBADF for a bad fd or another kind of file, -ESRCH once reaped. */
static long pidfd_target(struct task *task, int fd, struct thread_group **group_out, bool *nonblocking)
{
    struct vfs_file *file;
    long error = syscall_get_file(task, fd, false, &file);
    if (error < 0)
        return error;
    struct vfs_pidfd *pidfd = vfs_file_pidfd(file);
    if (nonblocking)
        *nonblocking = (vfs_file_status_flags(file) & O_NONBLOCK) != 0;
    int32_t pid = pidfd ? vfs_pidfd_pid(pidfd) : 0;
    vfs_file_put(file);
    if (!pidfd)
        return -EBADF;
    *group_out = pid ? thread_group_by_tgid(pid) : NULL;
    return *group_out ? 0 : -ESRCH;
}

int32_t syscall_pidfd_process(struct task *task, int fd, bool *nonblocking)
{
    struct thread_group *group;
    long error = pidfd_target(task, fd, &group, nonblocking);
    return error < 0 ? (int32_t)error : group->tgid;
}

/* check_kill_permission(): the sender's real or effective uid is the target's real or saved uid, or the
 * sender holds CAP_KILL (uid 0 in the sandbox's model). */
static bool may_signal(const struct task *sender, const struct task *target)
{
    const struct credentials *own = &sender->credentials, *theirs = &target->credentials;
    return own->euid == 0 || own->euid == theirs->suid || own->euid == theirs->uid || own->uid == theirs->suid ||
           own->uid == theirs->uid;
}

static SYSCALL_HANDLER(pidfd_send_signal)
{
    int signal = syscall_argument_int(args, 1);
    if (ARG(3))
        return -EINVAL;
    struct thread_group *group = NULL;
    long error = pidfd_target(task, syscall_argument_int(args, 0), &group, NULL);
    if (error == -EBADF)
        return error;
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (ARG(2)) {
        if (task_copy_in(task, &info, ARG(2), sizeof(info)) < 0)
            return -EFAULT;
        if (info.si_signo != signal)
            return -EINVAL;
        /* Only a process signalling itself may forge kernel or tkill codes. */
        if (group != task->group && (info.si_code >= 0 || info.si_code == SI_TKILL_CODE))
            return -EPERM;
    } else {
        info.si_signo = signal;
        info.si_code = SI_USER;
        info.si_pid = task->group->tgid;
        info.si_uid = task->credentials.uid;
    }
    if (error < 0)
        return error;  /* reaped */
    if (signal < 0 || signal > 64)
        return -EINVAL;
    struct task *leader = thread_group_leader(group);
    if (leader && !may_signal(task, leader))
        return -EPERM;
    if (signal == 0 || group->zombie)
        return 0;  /* a zombie takes the signal and ignores it */
    return signal_send_to_group(group, &info);
}

/* ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS): the same process, CAP_SYS_PTRACE (uid 0 here), or every
 * real, effective and saved id of the target equal to the caller's real ones. */
static bool may_access(const struct task *caller, const struct task *target)
{
    if (caller->group == target->group || caller->credentials.euid == 0)
        return true;
    const struct credentials *own = &caller->credentials, *theirs = &target->credentials;
    return own->uid == theirs->uid && own->uid == theirs->euid && own->uid == theirs->suid &&
           own->gid == theirs->gid && own->gid == theirs->egid && own->gid == theirs->sgid;
}

static SYSCALL_HANDLER(pidfd_getfd)
{
    int target_fd = syscall_argument_int(args, 1);
    if (ARG(2))
        return -EINVAL;
    struct thread_group *group = NULL;
    long error = pidfd_target(task, syscall_argument_int(args, 0), &group, NULL);
    if (error < 0)
        return error;
    struct task *leader = thread_group_leader(group);
    if (!leader)
        return -ESRCH;
    if (!may_access(task, leader))
        return -EPERM;
    /* A zombie has no files any more. */
    struct vfs_file *file = target_fd >= 0 && !group->zombie && leader->fds ? vfs_fd_get(leader->fds, target_fd) : NULL;
    if (!file)
        return -EBADF;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, true, task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

const struct syscall_binding syscall_bindings_pidfd[] = {
    {__NR_pidfd_open, sys_pidfd_open}, {__NR_pidfd_send_signal, sys_pidfd_send_signal},
    {__NR_pidfd_getfd, sys_pidfd_getfd}, {-1, NULL},
};
