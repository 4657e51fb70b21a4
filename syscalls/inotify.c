/* syscalls/inotify.c: inotify_init, inotify_init1, inotify_add_watch and inotify_rm_watch over vfs/inotify.c;
 * reads, FIONREAD and readiness go through the generic file handlers. Checks come in Linux's order. */
#include <errno.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/syscall.h>

#include "syscalls/internal.h"

static long make_inotify(struct task *task, int flags)
{
    struct vfs_file *file;
    int error = vfs_inotify_create(flags, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, (flags & IN_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

static SYSCALL_HANDLER(inotify_init)
{
    (void)args;
    return make_inotify(task, 0);
}

static SYSCALL_HANDLER(inotify_init1) { return make_inotify(task, syscall_argument_int(args, 0)); }

static SYSCALL_HANDLER(inotify_add_watch)
{
    uint32_t mask = (uint32_t)args->arg[2];
    int error = vfs_inotify_check_mask(mask);
    if (error)
        return error;
    struct vfs_file *file;
    error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    long result = -EINVAL;
    if (vfs_file_is_inotify(file)) {
        char path[PATH_MAX];
        result = task_copy_path_in(task, args->arg[1], path, false);
        if (result >= 0) {
            struct vfs_context ctx;
            task_vfs_context(task, &ctx);
            result = vfs_inotify_add_watch(&ctx, file, path, mask);
        }
    }
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(inotify_rm_watch)
{
    struct vfs_file *file;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &file);
    if (error)
        return error;
    error = vfs_inotify_rm_watch(file, (int32_t)args->arg[1]);
    vfs_file_put(file);
    return error;
}

const struct syscall_binding syscall_bindings_inotify[] = {
    {__NR_inotify_init, sys_inotify_init},
    {__NR_inotify_init1, sys_inotify_init1},
    {__NR_inotify_add_watch, sys_inotify_add_watch},
    {__NR_inotify_rm_watch, sys_inotify_rm_watch},
    {-1, NULL},
};
