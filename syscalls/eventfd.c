/* syscalls/eventfd.c: eventfd and eventfd2: make the VFS's counter file and install it; reads and writes on it
 * go through the generic read/write handlers, which wait on the file when it says -EAGAIN. */
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

static long make_eventfd(struct task *task, unsigned int initial_value, int flags)
{
    struct vfs_file *file;
    int error = vfs_eventfd_create(initial_value, flags, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, (flags & EFD_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

static SYSCALL_HANDLER(eventfd) { return make_eventfd(task, (unsigned int)args->arg[0], 0); }

static SYSCALL_HANDLER(eventfd2)
{
    return make_eventfd(task, (unsigned int)args->arg[0], syscall_argument_int(args, 1));
}

const struct syscall_binding syscall_bindings_eventfd[] = {
    {__NR_eventfd, sys_eventfd},
    {__NR_eventfd2, sys_eventfd2},
    {-1, NULL},
};
