/* syscalls/system.c: calls about the whole system or a file's storage: personality, membarrier,
 * restart_syscall, sync, syncfs, sync_file_range, fallocate and readahead. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define PERSONALITY_QUERY 0xffffffffU
#define SYNC_FILE_RANGE_FLAGS (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)
#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

/* personality(2): the Linux personality, optionally with ADDR_NO_RANDOMIZE (which holds: the Sentry lays
 * out address spaces deterministically). Other personalities and flags change behaviour the Sentry does not
 * emulate (32-bit address limits, READ_IMPLIES_EXEC, STICKY_TIMEOUTS, UNAME26...), so they are refused with
 * EINVAL rather than recorded and ignored. */
static SYSCALL_HANDLER(personality)
{
    uint32_t requested = (uint32_t)ARG(0);
    uint32_t previous = task->scheduling.personality;
    if (requested == PERSONALITY_QUERY)
        return previous;
    if (requested & ~(uint32_t)ADDR_NO_RANDOMIZE)
        return -EINVAL;
    task->scheduling.personality = requested;
    return previous;
}

/* membarrier(2): the Sentry cannot make the host threads of a process that are running application code
 * execute a barrier on demand (Linux sends IPIs), so QUERY offers no command and each command gets what
 * Linux answers for a command it does not offer (as under nohz_full for MEMBARRIER_CMD_GLOBAL): EINVAL. */
static SYSCALL_HANDLER(membarrier)
{
    (void)task;
    int command = syscall_argument_int(args, 0);
    unsigned int flags = (unsigned int)ARG(1);
    if (command == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
        if (flags && flags != MEMBARRIER_CMD_FLAG_CPU)
            return -EINVAL;
    } else if (flags) {
        return -EINVAL;
    }
    if (command == MEMBARRIER_CMD_QUERY)
        return 0;
    return -EINVAL;
}

/* restart_syscall(2): what an interrupted relative sleep left to do (the Sentry re-runs every other
 * interrupted call itself); with nothing armed, Linux's do_no_restart_syscall answer. */
static SYSCALL_HANDLER(restart_syscall)
{
    (void)args;
    uint64_t *state = task_syscall_restart_state(task);
    if (!task_syscall_is_restarted(task)) {
        if (!task->sleep_restart_armed)
            return -EINTR;
        task->sleep_restart_armed = false;
        state[0] = task->sleep_restart_deadline;
        state[1] = task->sleep_restart_remaining_address;
    }
    return syscall_sleep_to_deadline(task, state[0], state[1], false);
}

/* Flush one file's written data to its backing store; file systems kept in memory have none. */
static int flush_file(struct vfs_file *file)
{
    int error = vfs_fsync(file);
    return error == -EINVAL ? 0 : error;  /* pipes, sockets, devices: nothing to write back */
}

/* Every file open in the sandbox (each fd table once per fd), flushed; the first error is kept. */
static int flush_open_files(struct task *task, struct vfs_file *only_like)
{
    int first_error = 0;
    struct stat only_attributes;
    if (only_like && vfs_fstat(only_like, &only_attributes) < 0)
        only_like = NULL;
    LIST_FOR_EACH(node, task_all_list()) {
        struct task *other = CONTAINER_OF(node, struct task, all_node);
        if (other->state == TASK_STATE_DEAD || !other->fds)
            continue;
        for (int fd = vfs_fd_next_open(other->fds, 0); fd >= 0; fd = vfs_fd_next_open(other->fds, fd + 1)) {
            struct vfs_file *file = vfs_fd_get(other->fds, fd);
            if (!file)
                continue;
            struct stat attributes;
            bool selected = !(vfs_file_status_flags(file) & LINUX_O_PATH) && (vfs_file_status_flags(file) & O_ACCMODE) &&
                            vfs_fstat(file, &attributes) == 0 && S_ISREG(attributes.st_mode) &&
                            (!only_like || attributes.st_dev == only_attributes.st_dev);
            if (selected) {
                int error = flush_file(file);
                if (error < 0 && first_error == 0)
                    first_error = error;
            }
            vfs_file_put(file);
        }
    }
    (void)task;
    return first_error;
}

/* sync(2): the sandbox's written data lives in memory (tmpfs, the overlay's upper layer) or went to host
 * files through fds the Sentry holds; the latter are flushed while open. Always succeeds, as Linux's. */
static SYSCALL_HANDLER(sync)
{
    (void)args;
    flush_open_files(task, NULL);
    return 0;
}

/* syncfs(2): the same for the file system of fd, reporting write-back errors. */
static SYSCALL_HANDLER(syncfs)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error < 0)
        return error;
    error = flush_file(file);
    if (error == 0)
        error = flush_open_files(task, file);
    vfs_file_put(file);
    return error;
}

static SYSCALL_HANDLER(sync_file_range)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error < 0)
        return error;
    int64_t offset = (int64_t)ARG(1), length = (int64_t)ARG(2);
    unsigned int flags = (unsigned int)ARG(3);
    struct stat attributes;
    if (flags & ~(unsigned int)SYNC_FILE_RANGE_FLAGS) {
        error = -EINVAL;
    } else if (offset < 0 || length < 0 || offset > INT64_MAX - length) {
        error = -EINVAL;  /* negative offset or end, or an end that wraps */
    } else if ((error = vfs_fstat(file, &attributes)) == 0) {
        uint32_t type = attributes.st_mode & S_IFMT;
        if (type != S_IFREG && type != S_IFBLK && type != S_IFDIR && type != S_IFLNK)
            error = -ESPIPE;
        else if (flags)
            error = flush_file(file);  /* the whole file: at least the range Linux would write */
    }
    vfs_file_put(file);
    return error;
}

static SYSCALL_HANDLER(fallocate)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error < 0)
        return error;
    error = vfs_fallocate(file, syscall_argument_int(args, 1), (off_t)ARG(2), (off_t)ARG(3));
    vfs_file_put(file);
    return error;
}

/* readahead(2): a hint to fill the page cache. The Sentry reads file data on demand (in-memory files have it
 * already; host files through the host's page cache), so after Linux's checks there is nothing to start. */
static SYSCALL_HANDLER(readahead)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error < 0)
        return error;
    struct stat attributes;
    int access = vfs_file_status_flags(file) & O_ACCMODE;
    if (access != O_RDONLY && access != O_RDWR)
        error = -EBADF;
    else if (vfs_fstat(file, &attributes) < 0 || !S_ISREG(attributes.st_mode))
        error = -EINVAL;
    else if ((int64_t)ARG(2) < 0)
        error = -EINVAL;  /* generic_fadvise: a length that is negative as loff_t */
    vfs_file_put(file);
    return error;
}

const struct syscall_binding syscall_bindings_system[] = {
    {__NR_personality, sys_personality}, {__NR_membarrier, sys_membarrier},
    {__NR_restart_syscall, sys_restart_syscall}, {__NR_sync, sys_sync}, {__NR_syncfs, sys_syncfs},
    {__NR_sync_file_range, sys_sync_file_range}, {__NR_fallocate, sys_fallocate},
    {__NR_readahead, sys_readahead}, {-1, NULL},
};
