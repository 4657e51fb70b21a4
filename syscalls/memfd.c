/* syscalls/memfd.c: memfd_create: checks the flags and the name as Linux does (in its order) and installs the
 * VFS's anonymous tmpfs file. Seals (F_ADD_SEALS, F_GET_SEALS) are not implemented. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define MEMFD_NAME_MAX 249

static SYSCALL_HANDLER(memfd_create)
{
    unsigned int flags = (unsigned int)args->arg[1];
    int error = vfs_memfd_check_flags(flags);
    if (error)
        return error;
    /* Linux measures at most MEMFD_NAME_MAX + 1 bytes of the name: longer ones are -EINVAL, not -ENAMETOOLONG */
    char name[MEMFD_NAME_MAX + 2];
    long length = task_copy_string_in(task, args->arg[0], name, sizeof(name));
    if (length == -EFAULT)
        return -EFAULT;
    if (length < 0 || length > MEMFD_NAME_MAX)
        return -EINVAL;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    struct vfs_file *file;
    error = vfs_memfd_create(name, flags, ctx.credentials, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, (flags & MFD_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

const struct syscall_binding syscall_bindings_memfd[] = {
    {__NR_memfd_create, sys_memfd_create},
    {-1, NULL},
};
