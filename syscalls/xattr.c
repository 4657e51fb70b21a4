/* syscalls/xattr.c: extended attributes. None of the Sentry's file systems stores them yet, so after the
 * path or fd is checked as Linux checks it, every call answers as a file system without xattr support does. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

#define ARG(i) (args->arg[i])

static long check_path(struct task *task, uint64_t path_address, bool follow)
{
    char path[PATH_MAX];
    long length = task_copy_path_in(task, path_address, path, false);
    if (length < 0)
        return length;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    struct stat status;
    int error = vfs_stat_at(&ctx, NULL, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, &status);
    return error < 0 ? error : -EOPNOTSUPP;
}

static long check_fd(struct task *task, int fd)
{
    struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
    if (!file)
        return -EBADF;
    vfs_file_put(file);
    return -EOPNOTSUPP;
}

static SYSCALL_HANDLER(getxattr) { return check_path(task, ARG(0), true); }
static SYSCALL_HANDLER(lgetxattr) { return check_path(task, ARG(0), false); }
static SYSCALL_HANDLER(fgetxattr) { return check_fd(task, (int)ARG(0)); }
static SYSCALL_HANDLER(listxattr) { return check_path(task, ARG(0), true); }
static SYSCALL_HANDLER(llistxattr) { return check_path(task, ARG(0), false); }
static SYSCALL_HANDLER(flistxattr) { return check_fd(task, (int)ARG(0)); }
static SYSCALL_HANDLER(setxattr) { return check_path(task, ARG(0), true); }
static SYSCALL_HANDLER(lsetxattr) { return check_path(task, ARG(0), false); }
static SYSCALL_HANDLER(fsetxattr) { return check_fd(task, (int)ARG(0)); }
static SYSCALL_HANDLER(removexattr) { return check_path(task, ARG(0), true); }
static SYSCALL_HANDLER(lremovexattr) { return check_path(task, ARG(0), false); }
static SYSCALL_HANDLER(fremovexattr) { return check_fd(task, (int)ARG(0)); }

const struct syscall_binding syscall_bindings_xattr[] = {
    {__NR_getxattr, sys_getxattr}, {__NR_lgetxattr, sys_lgetxattr}, {__NR_fgetxattr, sys_fgetxattr},
    {__NR_listxattr, sys_listxattr}, {__NR_llistxattr, sys_llistxattr}, {__NR_flistxattr, sys_flistxattr},
    {__NR_setxattr, sys_setxattr}, {__NR_lsetxattr, sys_lsetxattr}, {__NR_fsetxattr, sys_fsetxattr},
    {__NR_removexattr, sys_removexattr}, {__NR_lremovexattr, sys_lremovexattr},
    {__NR_fremovexattr, sys_fremovexattr}, {-1, NULL},
};
