/* syscalls/timerfd.c: timerfd_create, timerfd_settime and timerfd_gettime over the VFS's timer files; reads
 * go through the generic read handler, which waits on the file until an expiry. */
#include <errno.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

static SYSCALL_HANDLER(timerfd_create)
{
    int flags = syscall_argument_int(args, 1);
    struct vfs_file *file;
    int error = vfs_timerfd_create(syscall_argument_int(args, 0), flags, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, (flags & TFD_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

static SYSCALL_HANDLER(timerfd_settime)
{
    struct itimerspec new_value, old_value;
    if (task_copy_in(task, &new_value, args->arg[2], sizeof(new_value)) < 0)
        return -EFAULT;
    struct vfs_file *file;
    (void)syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    int error = vfs_timerfd_settime(file, syscall_argument_int(args, 1), &new_value, &old_value);
    if (file)
        vfs_file_put(file);
    if (error)
        return error;
    if (args->arg[3] && task_copy_out(task, args->arg[3], &old_value, sizeof(old_value)) < 0)
        return -EFAULT;
    return 0;
}

static SYSCALL_HANDLER(timerfd_gettime)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    struct itimerspec current_value;
    error = vfs_timerfd_gettime(file, &current_value);
    vfs_file_put(file);
    if (error)
        return error;
    if (task_copy_out(task, args->arg[1], &current_value, sizeof(current_value)) < 0)
        return -EFAULT;
    return 0;
}

const struct syscall_binding syscall_bindings_timerfd[] = {
    {__NR_timerfd_create, sys_timerfd_create},
    {__NR_timerfd_settime, sys_timerfd_settime},
    {__NR_timerfd_gettime, sys_timerfd_gettime},
    {-1, NULL},
};
