/* syscalls/locks.c: flock(2), fcntl's record-lock commands (called from file.c's fcntl) and the release of a
 * process's record locks when it closes an fd; blocked lockers sleep on the inode's lock queue. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define LINUX_LOCK_MAND 32 /* removed in Linux 5.15: such requests succeed and do nothing */

/* The caller blocks until some lock on the file's inode goes, then the syscall runs again. */
static long wait_for_unlock(struct task *task, struct vfs_file *file)
{
    struct wait_queue *queue = vfs_lock_wait_queue(file);
    if (!queue) {
        task->woken = true; /* the conflicting lock went meanwhile: run again at once */
        task->blocking = true;
        return -SENTRY_ERESTARTSYS;
    }
    return task_wait_queue(task, queue, POLLIN);
}

static SYSCALL_HANDLER(flock)
{
    int operation = syscall_argument_int(args, 1);
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    long result;
    if (operation & LINUX_LOCK_MAND)
        result = 0;
    else
        result = vfs_flock(file, operation);
    if (result == -EWOULDBLOCK && !(operation & LOCK_NB))
        result = wait_for_unlock(task, file);
    vfs_file_put(file);
    return result;
}

long syscall_fcntl_lock(struct task *task, struct vfs_file *file, unsigned int command, uint64_t argument)
{
    struct flock lock;
    if (task_copy_in(task, &lock, argument, sizeof(lock)) < 0)
        return -EFAULT;
    long result = vfs_posix_lock(file, task_pid(task), (int)command, &lock);
    if (result == 0 && (command == F_GETLK || command == F_OFD_GETLK) &&
        task_copy_out(task, argument, &lock, sizeof(lock)) < 0)
        result = -EFAULT;
    if (result == -EAGAIN && (command == F_SETLKW || command == F_OFD_SETLKW))
        result = wait_for_unlock(task, file);
    return result;
}

void syscall_locks_fd_closing(struct task *task, int fd)
{
    if (fd < 0)
        return;
    struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
    if (!file)
        return;
    vfs_posix_locks_release(file, task_pid(task));
    vfs_file_put(file);
}

const struct syscall_binding syscall_bindings_locks[] = {
    {__NR_flock, sys_flock},
    {-1, NULL},
};
