/* syscalls/signalfd.c: signalfd and signalfd4: make a signalfd file over the calling thread's signals, or change
 * the mask of an existing one; reads, polls and epoll go through the generic handlers and vfs/signalfd.c. */
#include <errno.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include "sentry/internal.h"
#include "syscalls/internal.h"

#define KERNEL_SIGSET_SIZE 8

/* Linux's order: size of the mask, the mask itself, flags, then the fd to update. */
static long signalfd_common(struct task *task, int fd, uint64_t mask_address, uint64_t mask_size, int flags)
{
    if (mask_size != KERNEL_SIGSET_SIZE)
        return -EINVAL;
    uint64_t mask;
    if (task_copy_in(task, &mask, mask_address, sizeof(mask)) < 0)
        return -EFAULT;
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return -EINVAL;
    if (fd == -1) {
        struct vfs_file *file;
        int error = vfs_signalfd_create(mask, flags, &signal_signalfd_source, &file);
        if (error)
            return error;
        int installed = vfs_fd_install(task_fd_table(task), file, 0, (flags & SFD_CLOEXEC) != 0,
                                       task_rlimit_current(task, RLIMIT_NOFILE));
        vfs_file_put(file);
        return installed;
    }
    struct vfs_file *file;
    int error = syscall_get_file(task, fd, false, &file);
    if (error)
        return error;
    error = vfs_signalfd_set_mask(file, mask);
    vfs_file_put(file);
    return error ? error : fd;
}

static SYSCALL_HANDLER(signalfd)
{
    return signalfd_common(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2], 0);
}

static SYSCALL_HANDLER(signalfd4)
{
    return signalfd_common(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2],
                           syscall_argument_int(args, 3));
}

const struct syscall_binding syscall_bindings_signalfd[] = {
    {__NR_signalfd, sys_signalfd},
    {__NR_signalfd4, sys_signalfd4},
    {-1, NULL},
};
